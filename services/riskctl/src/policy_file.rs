//! The file formats of `policies apply -f` and `connectors create|update -f`, and their conversion to
//! the API's messages.
//!
//! A policy file holds any mix of `[[compliance]]`, `[[resource]]` and `[[app_protection]]` entries
//! (`docs/examples/policy.toml`). Levels are `secured|low|medium|high`, platforms
//! `android|ios|ipados|windows|macos`, durations `30s`, `12h`, `3d`. Unknown keys are refused, so a
//! typo is an error at its line rather than a silently ignored setting. The semantics are Intune's
//! (Microsoft Learn, "Create a Mobile Threat Defense device compliance policy with Intune"); the server checks the values and names the field if one is
//! out of range.

use std::time::Duration;

use riskgate_proto::v1 as pb;
use serde::{Deserialize, Deserializer};

use crate::names::{
    toggles, ActionKind, AppAction, InputEnum as _, Level, MissingDataMode, PartnerKind,
    PartnerPriority, Platform, TogglePlatform, UnknownDeviceAccess,
};

/// A policy file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyFile {
    /// Compliance policies.
    #[serde(default)]
    pub(crate) compliance: Vec<CompliancePolicy>,
    /// Conditional-access resources.
    #[serde(default)]
    pub(crate) resource: Vec<Resource>,
    /// App-protection policies.
    #[serde(default)]
    pub(crate) app_protection: Vec<AppProtectionPolicy>,
}

/// A compliance policy with the device-threat-level rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompliancePolicy {
    /// The policy id.
    id: String,
    /// Name shown to admins.
    #[serde(default)]
    display_name: String,
    /// Platforms it targets; empty targets every platform.
    #[serde(default)]
    platforms: Vec<Platform>,
    /// Target every device. Defaults to true when `groups` is empty, false otherwise.
    all_devices: Option<bool>,
    /// Target devices in any of these groups.
    #[serde(default)]
    groups: Vec<String>,
    /// Never target devices in these groups.
    #[serde(default)]
    excluded_groups: Vec<String>,
    /// "Require the device to be at or under the device threat level".
    max_threat_level: Option<Level>,
    /// How long a device stays in its grace period before it is noncompliant.
    #[serde(default, deserialize_with = "optional_duration")]
    grace_period: Option<Duration>,
    /// Further actions after the device became noncompliant.
    #[serde(default)]
    actions: Vec<ScheduledAction>,
}

/// A scheduled noncompliance action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduledAction {
    /// notify, remote_lock or retire.
    kind: ActionKind,
    /// Delay after the device became noncompliant.
    #[serde(default, deserialize_with = "optional_duration")]
    after: Option<Duration>,
}

/// A conditional-access resource.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Resource {
    /// The resource name, such as exchange.
    name: String,
    /// Its rules; every rule whose platforms include the device's must pass.
    #[serde(default)]
    rules: Vec<AccessRule>,
    /// What a device no partner has reported gets: deny (default) or allow.
    unknown_device: Option<UnknownDeviceAccess>,
}

/// One rule of a resource.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessRule {
    /// Platforms the rule applies to; empty applies it to every platform.
    #[serde(default)]
    platforms: Vec<Platform>,
    /// Require a compliant device.
    #[serde(default)]
    require_compliant_device: bool,
    /// Require the device's level at or under this.
    max_threat_level: Option<Level>,
}

/// An app-protection policy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppProtectionPolicy {
    /// The policy id.
    id: String,
    /// Name shown to admins.
    #[serde(default)]
    display_name: String,
    /// The protected apps (bundle or package ids).
    apps: Vec<String>,
    /// Platforms it targets; empty targets every platform.
    #[serde(default)]
    platforms: Vec<Platform>,
    /// "Max allowed device threat level".
    max_threat_level: Option<Level>,
    /// block or wipe.
    action: AppAction,
    /// Which partner first when Defender and a third party are both on.
    partner_priority: Option<PartnerPriority>,
}

/// A connector file (`connectors create|update -f`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConnectorFile {
    /// The connector id.
    pub(crate) id: String,
    /// The vendor, such as lookout.
    vendor: String,
    /// Name shown to admins.
    #[serde(default)]
    display_name: String,
    /// third_party (default) or microsoft_defender.
    kind: Option<PartnerKind>,
    /// Platforms whose data counts for compliance.
    #[serde(default)]
    compliance: Vec<TogglePlatform>,
    /// Platforms whose data counts for app protection.
    #[serde(default)]
    app_protection: Vec<TogglePlatform>,
    /// Platforms whose devices are noncompliant until this partner reported.
    #[serde(default)]
    block_on_missing_data: Vec<TogglePlatform>,
    /// Mark devices below the partner's minimum OS noncompliant.
    #[serde(default)]
    block_unsupported_os: bool,
    /// Minimum OS version per platform.
    #[serde(default)]
    minimum_os: MinimumOs,
    /// How long without a heartbeat before the connector is unresponsive (default 7 days).
    #[serde(default, deserialize_with = "optional_duration")]
    unresponsive_after: Option<Duration>,
    /// false deprovisions the connector.
    provisioned: Option<bool>,
    /// What its missing data counts for: last_known (default), intune or noncompliant.
    missing_data: Option<MissingDataMode>,
}

/// Minimum OS versions per platform.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MinimumOs {
    #[serde(default)]
    android: String,
    #[serde(default)]
    ios: String,
    #[serde(default)]
    windows: String,
    #[serde(default)]
    macos: String,
}

/// Reads a duration such as `3d` or `12h` (see `humantime::parse_duration`). The parsing happens
/// inside the visitor so that YAML reports the position of the value itself, not of its mapping.
fn optional_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    struct DurationVisitor;

    impl serde::de::Visitor<'_> for DurationVisitor {
        type Value = Duration;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a duration such as 30s, 12h or 3d")
        }

        fn visit_str<E: serde::de::Error>(self, raw: &str) -> Result<Duration, E> {
            humantime::parse_duration(raw).map_err(|err| {
                E::custom(format!(
                    "bad duration {raw:?}: {err} (examples: 30s, 12h, 3d)"
                ))
            })
        }
    }

    d.deserialize_str(DurationVisitor).map(Some)
}

/// A protobuf duration.
pub(crate) fn proto_duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    }
}

fn proto_platforms(list: &[Platform]) -> Vec<i32> {
    list.iter().map(|p| p.to_proto()).collect()
}

fn proto_level(level: Option<Level>) -> i32 {
    level.map_or(0, Level::to_proto)
}

impl CompliancePolicy {
    /// The policy id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// The API message.
    pub(crate) fn to_proto(&self) -> pb::CompliancePolicy {
        pb::CompliancePolicy {
            policy_id: self.id.clone(),
            display_name: self.display_name.clone(),
            platforms: proto_platforms(&self.platforms),
            assignment: Some(pb::Assignment {
                all_devices: self.all_devices.unwrap_or(self.groups.is_empty()),
                groups: self.groups.clone(),
                excluded_groups: self.excluded_groups.clone(),
            }),
            max_threat_level: proto_level(self.max_threat_level),
            grace_period: self.grace_period.map(proto_duration),
            actions: self
                .actions
                .iter()
                .map(|a| pb::ScheduledAction {
                    kind: a.kind.to_proto(),
                    after: a.after.map(proto_duration),
                })
                .collect(),
            version: 0,
            updated_at: None,
        }
    }
}

impl Resource {
    /// The API message.
    pub(crate) fn to_proto(&self) -> pb::Resource {
        pb::Resource {
            name: self.name.clone(),
            rules: self
                .rules
                .iter()
                .map(|r| pb::AccessRule {
                    platforms: proto_platforms(&r.platforms),
                    require_compliant_device: r.require_compliant_device,
                    max_threat_level: proto_level(r.max_threat_level),
                })
                .collect(),
            version: 0,
            unknown_device: self.unknown_device.map_or(0, UnknownDeviceAccess::to_proto),
        }
    }
}

impl AppProtectionPolicy {
    /// The API message.
    pub(crate) fn to_proto(&self) -> pb::AppProtectionPolicy {
        pb::AppProtectionPolicy {
            policy_id: self.id.clone(),
            display_name: self.display_name.clone(),
            app_ids: self.apps.clone(),
            platforms: proto_platforms(&self.platforms),
            max_threat_level: proto_level(self.max_threat_level),
            action: self.action.to_proto(),
            partner_priority: self.partner_priority.map_or(0, PartnerPriority::to_proto),
            version: 0,
        }
    }
}

impl ConnectorFile {
    /// The API message (output-only fields left empty).
    pub(crate) fn to_proto(&self) -> pb::Connector {
        pb::Connector {
            connector_id: self.id.clone(),
            vendor: self.vendor.clone(),
            display_name: self.display_name.clone(),
            kind: self.kind.map_or(0, PartnerKind::to_proto),
            compliance_enabled: Some(toggles(&self.compliance)),
            app_protection_enabled: Some(toggles(&self.app_protection)),
            block_on_missing_partner_data: Some(toggles(&self.block_on_missing_data)),
            block_unsupported_os_versions: self.block_unsupported_os,
            minimum_os_versions: Some(pb::MinimumOsVersions {
                android: self.minimum_os.android.clone(),
                ios: self.minimum_os.ios.clone(),
                windows: self.minimum_os.windows.clone(),
                macos: self.minimum_os.macos.clone(),
            }),
            unresponsive_after: self.unresponsive_after.map(proto_duration),
            provisioned: self.provisioned,
            missing_data: self.missing_data.map_or(0, MissingDataMode::to_proto),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compliance_policy_converts_with_its_defaults() {
        let file: PolicyFile = toml::from_str(
            r#"
            [[compliance]]
            id = "mtd"
            max_threat_level = "low"
            grace_period = "3d"
            [[compliance.actions]]
            kind = "notify"
            after = "1h"
            "#,
        )
        .unwrap();
        let policy = file.compliance[0].to_proto();
        assert_eq!(policy.max_threat_level, pb::ThreatLevel::Low as i32);
        assert_eq!(policy.grace_period.unwrap().seconds, 3 * 86_400);
        assert!(
            policy.assignment.unwrap().all_devices,
            "no groups: every device"
        );
        assert_eq!(policy.actions[0].kind, pb::ActionKind::Notify as i32);
        assert_eq!(policy.actions[0].after.as_ref().unwrap().seconds, 3600);
    }

    #[test]
    fn groups_turn_the_all_devices_default_off() {
        let file: PolicyFile =
            toml::from_str("[[compliance]]\nid = \"g\"\ngroups = [\"sales\"]\n").unwrap();
        assert!(
            !file.compliance[0]
                .to_proto()
                .assignment
                .unwrap()
                .all_devices
        );
    }

    #[test]
    fn the_same_file_reads_as_yaml() {
        let file: PolicyFile = serde_yaml_ng::from_str(
            "resource:\n  - name: exchange\n    rules:\n      - require_compliant_device: true\n\
             app_protection:\n  - id: outlook\n    apps: [com.microsoft.outlook]\n    \
             max_threat_level: medium\n    action: block\n",
        )
        .unwrap();
        assert!(file.resource[0].to_proto().rules[0].require_compliant_device);
        assert_eq!(
            file.app_protection[0].to_proto().action,
            pb::AppAction::Block as i32
        );
    }

    #[test]
    fn unknown_levels_and_bad_durations_are_refused() {
        let bad_level = toml::from_str::<PolicyFile>(
            "[[compliance]]\nid = \"x\"\nmax_threat_level = \"critical\"\n",
        );
        assert!(bad_level.unwrap_err().to_string().contains("critical"));
        let bad_duration = toml::from_str::<PolicyFile>(
            "[[compliance]]\nid = \"x\"\ngrace_period = \"3 fortnights\"\n",
        );
        assert!(bad_duration
            .unwrap_err()
            .to_string()
            .contains("bad duration"));
    }
}
