//! The two vendors of the demo and how the core and the simulator name them. A leaf: the story,
//! the setup and the tokens all speak of vendors.

/// A vendor, its connector and its name in the simulator's admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vendor {
    Lookout,
    Zimperium,
}

impl Vendor {
    /// The connector id in the core, which is also the simulator's vendor name.
    pub(crate) fn connector_id(self) -> &'static str {
        match self {
            Self::Lookout => "lookout",
            Self::Zimperium => "zimperium",
        }
    }

    pub(crate) fn display_name(self) -> &'static str {
        match self {
            Self::Lookout => "Lookout",
            Self::Zimperium => "Zimperium",
        }
    }
}
