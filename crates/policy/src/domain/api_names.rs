//! The names clients know the domain's enum values by: the API's enum value names without their
//! type prefix (`HEALTH_STATE_MISCONFIGURED` reads `MISCONFIGURED`), as the protobuf style guide
//! (<https://protobuf.dev/programming-guides/style/#enums>) prefixes them only to keep C++ scopes
//! apart. Every text a client reads (errors, reasons) names values this way, never by Rust's `Debug`.

use super::{
    policy::{ComplianceStatus, ConnectorState, FeedState},
    HealthState, Platform, ThreatLevel,
};

/// Implements `api_name` for a fieldless enum from a table of variant and name.
macro_rules! api_names {
    ($($ty:ty { $($variant:ident => $name:literal),+ $(,)? })+) => {
        $(
            impl $ty {
                /// The API's name of this value (see the module docs).
                pub fn api_name(self) -> &'static str {
                    match self {
                        $(Self::$variant => $name),+
                    }
                }
            }
        )+
    };
}

api_names! {
    ThreatLevel {
        Secured => "SECURED",
        Low => "LOW",
        Medium => "MEDIUM",
        High => "HIGH",
    }
    HealthState {
        Unknown => "UNKNOWN",
        Activated => "ACTIVATED",
        Deactivated => "DEACTIVATED",
        Secured => "SECURED",
        LowSeverity => "LOW_SEVERITY",
        MediumSeverity => "MEDIUM_SEVERITY",
        HighSeverity => "HIGH_SEVERITY",
        Unresponsive => "UNRESPONSIVE",
        Compromised => "COMPROMISED",
        Misconfigured => "MISCONFIGURED",
    }
    ComplianceStatus {
        Unknown => "UNKNOWN",
        NotApplicable => "NOT_APPLICABLE",
        Compliant => "COMPLIANT",
        InGracePeriod => "IN_GRACE_PERIOD",
        Noncompliant => "NONCOMPLIANT",
        Error => "ERROR",
    }
    ConnectorState {
        Unavailable => "UNAVAILABLE",
        Available => "AVAILABLE",
        Enabled => "ENABLED",
        Unresponsive => "UNRESPONSIVE",
        NotSetUp => "NOT_SET_UP",
        Error => "ERROR",
    }
    FeedState {
        Unknown => "UNSPECIFIED",
        Connected => "CONNECTED",
        Degraded => "DEGRADED",
        Disconnected => "DISCONNECTED",
    }
    Platform {
        Android => "ANDROID",
        Ios => "IOS",
        Ipados => "IPADOS",
        Windows => "WINDOWS",
        Macos => "MACOS",
    }
}
