//! The words riskctl uses for the API's enums, on the command line, in policy files and in output:
//! the proto name without its prefix, in lower case (`THREAT_LEVEL_LOW` is `low`). The names are
//! prost's (`as_str_name`), so there is no table of words to keep in step with the proto.
//!
//! Input enums ([`Level`], [`Platform`], ...) are closed sets that clap and serde check, so a typo is
//! refused with the accepted values (and, in a file, its line). Output goes through [`word_of`], which
//! also copes with values newer than this client.

use std::{fmt, marker::PhantomData};

use clap::builder::PossibleValue;
use riskgate_proto::v1 as pb;
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, VariantAccess, Visitor};

/// A proto enum as prost generates it: 0 is `<PREFIX>UNSPECIFIED`, every other value is
/// `<PREFIX><NAME>`.
pub(crate) trait ProtoEnum: Copy + TryFrom<i32> + Into<i32> {
    /// The proto name, such as `THREAT_LEVEL_LOW`.
    fn proto_name(self) -> &'static str;
}

/// Implements [`ProtoEnum`] with prost's `as_str_name`.
macro_rules! proto_enums {
    ($($proto:ident),+ $(,)?) => {
        $(impl ProtoEnum for pb::$proto {
            fn proto_name(self) -> &'static str {
                self.as_str_name()
            }
        })+
    };
}

proto_enums!(
    ActionKind,
    AppAction,
    AppDecision,
    ComplianceStatus,
    ConfigObject,
    ConnectorState,
    Decision,
    EventKind,
    FeedState,
    HealthState,
    MissingDataMode,
    PartnerKind,
    PartnerPriority,
    Platform,
    ThreatCategory,
    ThreatLevel,
    ThreatStatus,
    UnknownDeviceAccess,
);

/// The word for a value: its proto name without the enum's prefix (what precedes `UNSPECIFIED` in
/// the name of 0), in lower case.
pub(crate) fn word<E: ProtoEnum>(value: E) -> String {
    let unspecified = E::try_from(0).map_or("", E::proto_name);
    let prefix = unspecified.strip_suffix("UNSPECIFIED").unwrap_or_default();
    let name = value.proto_name();
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_ascii_lowercase()
}

/// An output enum value as a word: `None` for 0 (UNSPECIFIED, which the API uses for "none"), the
/// [`word`], or `unknown(N)` for a value newer than this client.
pub(crate) fn word_of<E: ProtoEnum>(raw: i32) -> Option<String> {
    if raw == 0 {
        return None;
    }
    Some(E::try_from(raw).map_or_else(|_| format!("unknown({raw})"), word))
}

/// `word` or `-` when the value is unset, for tables.
pub(crate) fn or_dash(word: Option<String>) -> String {
    word.unwrap_or_else(|| "-".to_owned())
}

/// An enum riskctl reads from the command line and from files: a closed subset of a proto enum,
/// spelled with the proto's [`word`]s.
pub(crate) trait InputEnum: Copy + 'static {
    /// The proto enum.
    type Proto: ProtoEnum;
    /// The type's name, for serde's messages.
    const NAME: &'static str;
    /// Every accepted value, in the order help lists them.
    const ALL: &'static [Self];

    /// The proto value.
    fn proto(self) -> Self::Proto;

    /// The position of this value in [`InputEnum::ALL`].
    fn index(self) -> usize;

    /// The words of [`InputEnum::ALL`], in order.
    fn words() -> &'static [&'static str];

    /// The value as the API's number.
    fn to_proto(self) -> i32 {
        self.proto().into()
    }

    /// The value `text` spells, if it is accepted.
    fn from_word(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .zip(Self::words())
            .find_map(|(value, word)| (*word == text).then_some(*value))
    }

    /// The word of this value.
    fn word(self) -> &'static str {
        Self::words().get(self.index()).copied().unwrap_or_default()
    }
}

/// The words of `E::ALL`, computed once per type and kept for the life of the process (clap and serde
/// take `'static` names).
fn leak_words<E: InputEnum>() -> &'static [&'static str] {
    let words: Vec<&'static str> = E::ALL
        .iter()
        .map(|value| &*word(value.proto()).leak())
        .collect();
    words.leak()
}

/// clap's view of an input value: its word, and the doc comment of its variant as help.
fn possible_value<E: InputEnum>(value: E, help: &'static str) -> PossibleValue {
    let help = help.trim();
    PossibleValue::new(value.word()).help(help.strip_suffix('.').unwrap_or(help))
}

/// Reads an input enum the way serde's derive reads a unit variant, so a file's errors read the
/// same: "unknown variant `critical`, expected one of `secured`, `low`, `medium`, `high`".
fn deserialize_input<'de, D: Deserializer<'de>, E: InputEnum>(d: D) -> Result<E, D::Error> {
    d.deserialize_enum(E::NAME, E::words(), EnumVisitor(PhantomData))
}

#[derive(Debug)]
struct EnumVisitor<E>(PhantomData<E>);

impl<'de, E: InputEnum> Visitor<'de> for EnumVisitor<E> {
    type Value = E;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enum {}", E::NAME)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<E, A::Error> {
        let (value, variant) = data.variant_seed(VariantSeed(PhantomData))?;
        variant.unit_variant()?;
        Ok(value)
    }
}

/// The variant name of an enum value, checked against the accepted words.
#[derive(Debug)]
struct VariantSeed<E>(PhantomData<E>);

impl<'de, E: InputEnum> DeserializeSeed<'de> for VariantSeed<E> {
    type Value = E;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<E, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<E: InputEnum> Visitor<'_> for VariantSeed<E> {
    type Value = E;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("variant identifier")
    }

    fn visit_str<Err: de::Error>(self, text: &str) -> Result<E, Err> {
        E::from_word(text).ok_or_else(|| Err::unknown_variant(text, E::words()))
    }

    fn visit_bytes<Err: de::Error>(self, bytes: &[u8]) -> Result<E, Err> {
        self.visit_str(&String::from_utf8_lossy(bytes))
    }
}

/// Declares an input enum whose variants are those of the proto enum with the same names; each
/// variant's doc comment is its help on the command line.
macro_rules! input_enum {
    ($(#[$doc:meta])* $name:ident => $proto:ident {
        $(#[doc = $help:literal] $variant:ident),+ $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum $name {
            $(#[doc = $help] $variant),+
        }

        impl InputEnum for $name {
            type Proto = pb::$proto;
            const NAME: &'static str = stringify!($name);
            const ALL: &'static [Self] = &[$($name::$variant),+];

            fn proto(self) -> pb::$proto {
                match self {
                    $($name::$variant => pb::$proto::$variant),+
                }
            }

            fn index(self) -> usize {
                self as usize
            }

            fn words() -> &'static [&'static str] {
                static WORDS: std::sync::OnceLock<&'static [&'static str]> =
                    std::sync::OnceLock::new();
                WORDS.get_or_init(leak_words::<$name>)
            }
        }

        impl clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                Self::ALL
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(match self {
                    $($name::$variant => possible_value(*self, $help)),+
                })
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                deserialize_input(d)
            }
        }
    };
}

input_enum! {
    /// A device threat level, best to worst.
    Level => ThreatLevel {
        /// No threats.
        Secured,
        /// Minimal risk.
        Low,
        /// Moderate risk.
        Medium,
        /// Severe risk.
        High,
    }
}

input_enum! {
    /// A device platform.
    Platform => Platform {
        /// Android.
        Android,
        /// iOS.
        Ios,
        /// iPadOS.
        Ipados,
        /// Windows.
        Windows,
        /// macOS.
        Macos,
    }
}

input_enum! {
    /// Third-party partner or Microsoft Defender.
    PartnerKind => PartnerKind {
        /// A third-party MTD partner (Lookout, Zimperium, ...).
        ThirdParty,
        /// Microsoft Defender for Endpoint.
        MicrosoftDefender,
    }
}

input_enum! {
    /// What app protection does above the allowed level (`warn` is not offered).
    AppAction => AppAction {
        /// Block the app.
        Block,
        /// Wipe the app's corporate data.
        Wipe,
    }
}

input_enum! {
    /// Which partner app protection prefers when Defender and a third party are both on.
    PartnerPriority => PartnerPriority {
        /// Defender first (the default).
        DefenderOverThirdParty,
        /// The third-party partner first.
        ThirdPartyOverDefender,
    }
}

input_enum! {
    /// A scheduled noncompliance action.
    ActionKind => ActionKind {
        /// Notify the user.
        Notify,
        /// Lock the device remotely.
        RemoteLock,
        /// Add the device to the retire list.
        Retire,
    }
}

input_enum! {
    /// A kind of event a subscription can select.
    EventKind => EventKind {
        /// A partner report was applied.
        DeviceReported,
        /// The device's compliance changed.
        DeviceComplianceChange,
        /// A resource's access decision flipped.
        AccessDecisionChange,
        /// An app-protection decision changed.
        AppProtectionChange,
        /// A scheduled noncompliance action fell due.
        ComplianceActionDue,
        /// A connector's state changed.
        ConnectorStateChange,
        /// An admin changed the configuration.
        ConfigChange,
        /// An admin cleared a device's known risk.
        KnownRiskCleared,
    }
}

input_enum! {
    /// A device's compliance status.
    Compliance => ComplianceStatus {
        /// Not evaluated yet.
        Unknown,
        /// Not applicable.
        NotApplicable,
        /// Compliant.
        Compliant,
        /// Noncompliant, within the grace period.
        InGracePeriod,
        /// Noncompliant.
        Noncompliant,
        /// The policy could not be evaluated.
        Error,
    }
}

input_enum! {
    /// What a connector's missing data counts for.
    MissingDataMode => MissingDataMode {
        /// The risk it last reported keeps counting (the default).
        LastKnown,
        /// Intune's behaviour: missing data clears it.
        Intune,
        /// Losing sight of a device after a known risk is noncompliant.
        Noncompliant,
    }
}

input_enum! {
    /// What a resource answers for a device no partner has reported.
    UnknownDeviceAccess => UnknownDeviceAccess {
        /// Deny (the default).
        Deny,
        /// Allow.
        Allow,
    }
}

input_enum! {
    /// The platforms a connector toggle can name (iPadOS devices use the `ios` toggle).
    TogglePlatform => Platform {
        /// Android.
        Android,
        /// iOS and iPadOS.
        Ios,
        /// Windows.
        Windows,
        /// macOS.
        Macos,
    }
}

impl TogglePlatform {
    /// This platform's flag in a connector's toggles.
    pub(crate) fn toggle(self, toggles: &mut pb::PlatformToggles) -> &mut bool {
        match self {
            TogglePlatform::Android => &mut toggles.android,
            TogglePlatform::Ios => &mut toggles.ios,
            TogglePlatform::Windows => &mut toggles.windows,
            TogglePlatform::Macos => &mut toggles.macos,
        }
    }

    /// This platform's version in a connector's minimum OS versions.
    pub(crate) fn minimum_os(self, versions: &mut pb::MinimumOsVersions) -> &mut String {
        match self {
            TogglePlatform::Android => &mut versions.android,
            TogglePlatform::Ios => &mut versions.ios,
            TogglePlatform::Windows => &mut versions.windows,
            TogglePlatform::Macos => &mut versions.macos,
        }
    }
}

/// The word of an event's kind (the [`pb::EventKind`] its oneof member is), or `None` if this client
/// does not know the member.
pub(crate) fn event_kind_word(event: &pb::Event) -> Option<String> {
    use pb::event::Kind;
    let kind = match event.kind.as_ref()? {
        Kind::DeviceReported(_) => pb::EventKind::DeviceReported,
        Kind::DeviceComplianceChange(_) => pb::EventKind::DeviceComplianceChange,
        Kind::AccessDecisionChange(_) => pb::EventKind::AccessDecisionChange,
        Kind::AppProtectionChange(_) => pb::EventKind::AppProtectionChange,
        Kind::ComplianceActionDue(_) => pb::EventKind::ComplianceActionDue,
        Kind::ConnectorStateChange(_) => pb::EventKind::ConnectorStateChange,
        Kind::ConfigChange(_) => pb::EventKind::ConfigChange,
        Kind::KnownRiskCleared(_) => pb::EventKind::KnownRiskCleared,
    };
    Some(word(kind))
}

/// Toggles with exactly `platforms` on.
pub(crate) fn toggles(platforms: &[TogglePlatform]) -> pb::PlatformToggles {
    let mut toggles = pb::PlatformToggles::default();
    for platform in platforms {
        *platform.toggle(&mut toggles) = true;
    }
    toggles
}

/// The platforms whose toggle is on, as words.
pub(crate) fn toggle_words(toggles: Option<&pb::PlatformToggles>) -> Vec<&'static str> {
    let Some(mut toggles) = toggles.copied() else {
        return Vec::new();
    };
    TogglePlatform::ALL
        .iter()
        .filter(|platform| *platform.toggle(&mut toggles))
        .map(|platform| platform.word())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_words_strip_the_prefix_and_treat_zero_as_none() {
        let level = word_of::<pb::ThreatLevel>;
        assert_eq!(level(pb::ThreatLevel::Low as i32).as_deref(), Some("low"));
        assert_eq!(level(0), None);
        assert_eq!(level(99).as_deref(), Some("unknown(99)"));
        assert_eq!(
            word_of::<pb::ConnectorState>(pb::ConnectorState::NotSetUp as i32).as_deref(),
            Some("not_set_up")
        );
    }

    #[test]
    fn input_words_map_to_the_proto_values() {
        assert_eq!(Level::High.to_proto(), pb::ThreatLevel::High as i32);
        assert_eq!(
            PartnerPriority::ThirdPartyOverDefender.to_proto(),
            pb::PartnerPriority::ThirdPartyOverDefender as i32
        );
        assert_eq!(
            PartnerPriority::ThirdPartyOverDefender.word(),
            "third_party_over_defender"
        );
        assert_eq!(
            Compliance::from_word("in_grace_period"),
            Some(Compliance::InGracePeriod)
        );
        assert_eq!(AppAction::from_word("warn"), None, "not offered");
        assert_eq!(Level::from_word("LOW"), None, "words are lower case");
        let on = toggles(&[TogglePlatform::Ios, TogglePlatform::Macos]);
        assert_eq!(toggle_words(Some(&on)), vec!["ios", "macos"]);
    }
}
