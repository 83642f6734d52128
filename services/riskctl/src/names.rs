//! The words riskctl uses for the API's enums, on the command line, in policy files and in output:
//! lower snake case without the proto prefix (`THREAT_LEVEL_LOW` is `low`).
//!
//! Input enums ([`Level`], [`Platform`], ...) are closed sets that clap and serde check, so a typo is
//! refused with the accepted values (and, in a file, its line). Output goes through [`enum_text`], which
//! also copes with values newer than this client.

use riskgate_proto::v1 as pb;

/// Declares an input enum that maps one-to-one onto variants of a proto enum of the same names.
macro_rules! input_enum {
    ($(#[$doc:meta])* $name:ident => $proto:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
        pub(crate) enum $name {
            $( $(#[$vdoc])* #[value(name = $text)] #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// The proto enum value.
            pub(crate) fn to_proto(self) -> i32 {
                match self { $( $name::$variant => pb::$proto::$variant as i32 ),+ }
            }
        }
    };
}

input_enum! {
    /// A device threat level, best to worst.
    Level => ThreatLevel {
        /// No threats.
        Secured = "secured",
        /// Minimal risk.
        Low = "low",
        /// Moderate risk.
        Medium = "medium",
        /// Severe risk.
        High = "high",
    }
}

input_enum! {
    /// A device platform.
    Platform => Platform {
        /// Android.
        Android = "android",
        /// iOS.
        Ios = "ios",
        /// iPadOS.
        Ipados = "ipados",
        /// Windows.
        Windows = "windows",
        /// macOS.
        Macos = "macos",
    }
}

input_enum! {
    /// Third-party partner or Microsoft Defender.
    PartnerKind => PartnerKind {
        /// A third-party MTD partner (Lookout, Zimperium, ...).
        ThirdParty = "third_party",
        /// Microsoft Defender for Endpoint.
        MicrosoftDefender = "microsoft_defender",
    }
}

input_enum! {
    /// What app protection does above the allowed level.
    AppAction => AppAction {
        /// Block the app.
        Block = "block",
        /// Wipe the app's corporate data.
        Wipe = "wipe",
    }
}

input_enum! {
    /// Which partner app protection prefers when Defender and a third party are both on.
    PartnerPriority => PartnerPriority {
        /// Defender first (the default).
        DefenderOverThirdParty = "defender_over_third_party",
        /// The third-party partner first.
        ThirdPartyOverDefender = "third_party_over_defender",
    }
}

input_enum! {
    /// A scheduled noncompliance action.
    ActionKind => ActionKind {
        /// Notify the user.
        Notify = "notify",
        /// Lock the device remotely.
        RemoteLock = "remote_lock",
        /// Add the device to the retire list.
        Retire = "retire",
    }
}

input_enum! {
    /// A kind of event a subscription can select.
    EventKind => EventKind {
        /// A partner report was applied.
        DeviceReported = "device_reported",
        /// The device's compliance changed.
        DeviceComplianceChange = "device_compliance_change",
        /// A resource's access decision flipped.
        AccessDecisionChange = "access_decision_change",
        /// An app-protection decision changed.
        AppProtectionChange = "app_protection_change",
        /// A scheduled noncompliance action fell due.
        ComplianceActionDue = "compliance_action_due",
        /// A connector's state changed.
        ConnectorStateChange = "connector_state_change",
        /// An admin changed the configuration.
        ConfigChange = "config_change",
        /// An admin cleared a device's known risk.
        KnownRiskCleared = "known_risk_cleared",
    }
}

input_enum! {
    /// A device's compliance status.
    Compliance => ComplianceStatus {
        /// Not evaluated yet.
        Unknown = "unknown",
        /// Not applicable.
        NotApplicable = "not_applicable",
        /// Compliant.
        Compliant = "compliant",
        /// Noncompliant, within the grace period.
        InGracePeriod = "in_grace_period",
        /// Noncompliant.
        Noncompliant = "noncompliant",
        /// The policy could not be evaluated.
        Error = "error",
    }
}

input_enum! {
    /// What a connector's missing data counts for.
    MissingDataMode => MissingDataMode {
        /// The risk it last reported keeps counting (the default).
        LastKnown = "last_known",
        /// Intune's behaviour: missing data clears it.
        Intune = "intune",
        /// Losing sight of a device after a known risk is noncompliant.
        Noncompliant = "noncompliant",
    }
}

input_enum! {
    /// What a resource answers for a device no partner has reported.
    UnknownDeviceAccess => UnknownDeviceAccess {
        /// Deny (the default).
        Deny = "deny",
        /// Allow.
        Allow = "allow",
    }
}

/// The platforms a connector toggle can name (iPadOS devices use the `ios` toggle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub(crate) enum TogglePlatform {
    /// Android.
    Android,
    /// iOS and iPadOS.
    Ios,
    /// Windows.
    Windows,
    /// macOS.
    Macos,
}

impl TogglePlatform {
    /// Every toggle platform.
    pub(crate) const ALL: [TogglePlatform; 4] = [
        TogglePlatform::Android,
        TogglePlatform::Ios,
        TogglePlatform::Windows,
        TogglePlatform::Macos,
    ];

    /// Sets this platform's flag in `toggles`.
    pub(crate) fn set(self, toggles: &mut pb::PlatformToggles, on: bool) {
        match self {
            TogglePlatform::Android => toggles.android = on,
            TogglePlatform::Ios => toggles.ios = on,
            TogglePlatform::Windows => toggles.windows = on,
            TogglePlatform::Macos => toggles.macos = on,
        }
    }
}

/// Toggles with exactly `platforms` on.
pub(crate) fn toggles(platforms: &[TogglePlatform]) -> pb::PlatformToggles {
    let mut toggles = pb::PlatformToggles::default();
    for platform in platforms {
        platform.set(&mut toggles, true);
    }
    toggles
}

/// The platforms whose toggle is on, as words.
pub(crate) fn toggle_words(toggles: Option<&pb::PlatformToggles>) -> Vec<&'static str> {
    let Some(t) = toggles else { return Vec::new() };
    [
        (t.android, "android"),
        (t.ios, "ios"),
        (t.windows, "windows"),
        (t.macos, "macos"),
    ]
    .into_iter()
    .filter_map(|(on, word)| on.then_some(word))
    .collect()
}

/// An output enum value as a word: `None` for 0 (UNSPECIFIED, which the API uses for "none"),
/// the proto name without `prefix` in lower case, or `unknown(N)` for a value newer than this client.
pub(crate) fn enum_text(proto_name: Option<&str>, prefix: &str, raw: i32) -> Option<String> {
    if raw == 0 {
        return None;
    }
    Some(match proto_name {
        Some(name) => name
            .strip_prefix(prefix)
            .unwrap_or(name)
            .to_ascii_lowercase(),
        None => format!("unknown({raw})"),
    })
}

/// Declares `fn $fn_name(raw: i32) -> Option<String>` for an output enum.
macro_rules! output_enum {
    ($fn_name:ident, $proto:ident, $prefix:literal) => {
        /// The word for a value of this enum (see [`enum_text`]).
        pub(crate) fn $fn_name(raw: i32) -> Option<String> {
            enum_text(
                pb::$proto::try_from(raw).ok().map(|v| v.as_str_name()),
                $prefix,
                raw,
            )
        }
    };
}

output_enum!(level, ThreatLevel, "THREAT_LEVEL_");
output_enum!(platform, Platform, "PLATFORM_");
output_enum!(health, HealthState, "HEALTH_STATE_");
output_enum!(threat_category, ThreatCategory, "THREAT_CATEGORY_");
output_enum!(threat_status, ThreatStatus, "THREAT_STATUS_");
output_enum!(connector_state, ConnectorState, "CONNECTOR_STATE_");
output_enum!(partner_kind, PartnerKind, "PARTNER_KIND_");
output_enum!(compliance, ComplianceStatus, "COMPLIANCE_STATUS_");
output_enum!(decision, Decision, "DECISION_");
output_enum!(app_decision, AppDecision, "APP_DECISION_");
output_enum!(app_action, AppAction, "APP_ACTION_");
output_enum!(partner_priority, PartnerPriority, "PARTNER_PRIORITY_");
output_enum!(action_kind, ActionKind, "ACTION_KIND_");
output_enum!(config_object, ConfigObject, "CONFIG_OBJECT_");
output_enum!(missing_data, MissingDataMode, "MISSING_DATA_MODE_");
output_enum!(feed_state, FeedState, "FEED_STATE_");
output_enum!(
    unknown_device,
    UnknownDeviceAccess,
    "UNKNOWN_DEVICE_ACCESS_"
);

/// `word` or `-` when the value is unset, for tables.
pub(crate) fn or_dash(word: Option<String>) -> String {
    word.unwrap_or_else(|| "-".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_words_strip_the_prefix_and_treat_zero_as_none() {
        assert_eq!(level(pb::ThreatLevel::Low as i32).as_deref(), Some("low"));
        assert_eq!(level(0), None);
        assert_eq!(level(99).as_deref(), Some("unknown(99)"));
        assert_eq!(
            connector_state(pb::ConnectorState::NotSetUp as i32).as_deref(),
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
        let on = toggles(&[TogglePlatform::Ios, TogglePlatform::Macos]);
        assert_eq!(toggle_words(Some(&on)), vec!["ios", "macos"]);
    }
}
