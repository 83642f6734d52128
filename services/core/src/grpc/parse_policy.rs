//! Parsing of the policy API's requests into domain types, naming the field path of every error.

use std::time::Duration;

use riskgate_proto::v1 as pb;

use super::parse::{connector_id, platform, threat_level};
use crate::error::{CoreError, CoreResult};
use riskgate_policy::{
    domain::policy::{
        AccessRule, ActionKind, AppAction, AppProtectionPolicy, Assignment, CompliancePolicy,
        ConnectorSettings, MissingDataMode, NoPolicyStatus, PartnerKind, PartnerPriority,
        PerPlatform, Resource, ScheduledAction, TenantSettings, UnknownDeviceAccess,
        UnresponsiveMode, DEFAULT_UNRESPONSIVE_AFTER, DEFAULT_VALIDITY_PERIOD,
    },
    domain::{ConnectorId, Platform, ThreatLevel, Timestamp},
};

const DAY: u64 = 24 * 3600;
const MAX_NAME_BYTES: usize = 256;
const MAX_LIST: usize = 256;

/// An object id: the same rules as connector ids (1 to 128 bytes of `[A-Za-z0-9._-]`).
pub(crate) fn object_id(field: &str, raw: &str) -> CoreResult<String> {
    ConnectorId::parse(raw)
        .map(|id| id.to_string())
        .map_err(|reason| CoreError::invalid(field, reason))
}

fn name(field: &str, raw: &str) -> CoreResult<String> {
    if raw.len() > MAX_NAME_BYTES || raw.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            field,
            format!("must be at most {MAX_NAME_BYTES} bytes without control characters"),
        ));
    }
    Ok(raw.to_owned())
}

fn names(field: &str, raw: &[String]) -> CoreResult<Vec<String>> {
    if raw.len() > MAX_LIST {
        return Err(CoreError::invalid(
            field,
            format!("more than {MAX_LIST} entries"),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(index, item)| {
            let field = format!("{field}[{index}]");
            if item.is_empty() {
                return Err(CoreError::invalid(field, "must not be empty"));
            }
            name(&field, item)
        })
        .collect()
}

fn platforms(field: &str, raw: &[i32]) -> CoreResult<Vec<Platform>> {
    raw.iter()
        .enumerate()
        .map(|(index, value)| platform(&format!("{field}[{index}]"), *value))
        .collect()
}

/// A level that may be left UNSPECIFIED, meaning "not configured".
fn optional_level(field: &str, raw: i32) -> CoreResult<Option<ThreatLevel>> {
    if raw == pb::ThreatLevel::Unspecified as i32 {
        return Ok(None);
    }
    threat_level(field, raw).map(Some)
}

/// A duration within `min..=max`; unset gives `default`.
fn duration(
    field: &str,
    raw: Option<prost_types::Duration>,
    default: Duration,
    min: Duration,
    max: Duration,
) -> CoreResult<Duration> {
    let Some(raw) = raw else { return Ok(default) };
    if raw.seconds < 0 || raw.nanos < 0 {
        return Err(CoreError::invalid(field, "must not be negative"));
    }
    // google/protobuf/duration.proto: "nanos ... Must be from -999,999,999 to +999,999,999
    // inclusive"; a carry into seconds is not normalised away but refused, as for timestamps.
    if raw.nanos >= NANOS_PER_SECOND {
        return Err(CoreError::invalid(
            format!("{field}.nanos"),
            format!("must be below {NANOS_PER_SECOND}; carry whole seconds in seconds"),
        ));
    }
    let value = Duration::new(raw.seconds.unsigned_abs(), raw.nanos.unsigned_abs());
    if value < min || value > max {
        return Err(CoreError::invalid(
            field,
            format!("must be between {} and {}", readable(min), readable(max)),
        ));
    }
    Ok(value)
}

const NANOS_PER_SECOND: i32 = 1_000_000_000;

/// A duration as an admin writes it: "365 days", "1 hour", "0 seconds"; one that is not a whole
/// number of seconds falls back to humantime's "1s 500ms".
fn readable(value: Duration) -> String {
    const UNITS: [(u64, &str); 4] = [(DAY, "day"), (3600, "hour"), (60, "minute"), (1, "second")];
    if value.subsec_nanos() != 0 {
        return humantime::format_duration(value).to_string();
    }
    let seconds = value.as_secs();
    let (size, unit) = UNITS
        .into_iter()
        .find(|&(size, _)| seconds >= size && seconds.is_multiple_of(size))
        .unwrap_or((1, "second"));
    let count = seconds / size;
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural}")
}

fn toggles(raw: Option<pb::PlatformToggles>) -> PerPlatform<bool> {
    let raw = raw.unwrap_or_default();
    PerPlatform {
        android: raw.android,
        ios: raw.ios,
        windows: raw.windows,
        macos: raw.macos,
    }
}

fn os_version(field: &str, raw: &str) -> CoreResult<String> {
    if raw.is_empty() {
        return Ok(String::new());
    }
    if raw
        .split('.')
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        && raw.len() <= 32
    {
        Ok(raw.to_owned())
    } else {
        Err(CoreError::invalid(
            field,
            format!("{raw:?} is not a dotted version such as \"16.4.1\""),
        ))
    }
}

/// A connector from a create or update request.
pub(crate) fn connector(
    msg: Option<pb::Connector>,
) -> CoreResult<(ConnectorId, ConnectorSettings)> {
    let msg = msg.ok_or_else(|| CoreError::invalid("connector", "required"))?;
    let id = connector_id("connector.connector_id", &msg.connector_id)?;
    if msg.vendor.is_empty() {
        return Err(CoreError::invalid("connector.vendor", "required"));
    }
    let minimum = msg.minimum_os_versions.unwrap_or_default();
    let settings = ConnectorSettings {
        vendor: name("connector.vendor", &msg.vendor)?,
        display_name: name("connector.display_name", &msg.display_name)?,
        kind: match pb::PartnerKind::try_from(msg.kind) {
            Ok(pb::PartnerKind::Unspecified | pb::PartnerKind::ThirdParty) => {
                PartnerKind::ThirdParty
            }
            Ok(pb::PartnerKind::MicrosoftDefender) => PartnerKind::MicrosoftDefender,
            Err(_) => {
                return Err(CoreError::invalid(
                    "connector.kind",
                    format!("unknown value {}", msg.kind),
                ))
            }
        },
        compliance_enabled: toggles(msg.compliance_enabled),
        app_protection_enabled: toggles(msg.app_protection_enabled),
        block_on_missing_partner_data: toggles(msg.block_on_missing_partner_data),
        block_unsupported_os_versions: msg.block_unsupported_os_versions,
        minimum_os_versions: PerPlatform {
            android: os_version("connector.minimum_os_versions.android", &minimum.android)?,
            ios: os_version("connector.minimum_os_versions.ios", &minimum.ios)?,
            windows: os_version("connector.minimum_os_versions.windows", &minimum.windows)?,
            macos: os_version("connector.minimum_os_versions.macos", &minimum.macos)?,
        },
        unresponsive_after: duration(
            "connector.unresponsive_after",
            msg.unresponsive_after,
            DEFAULT_UNRESPONSIVE_AFTER,
            Duration::from_secs(1),
            Duration::from_secs(365 * DAY),
        )?,
        provisioned: msg.provisioned.unwrap_or(true),
        missing_data: match pb::MissingDataMode::try_from(msg.missing_data) {
            Ok(pb::MissingDataMode::Unspecified | pb::MissingDataMode::LastKnown) => {
                MissingDataMode::LastKnown
            }
            Ok(pb::MissingDataMode::Intune) => MissingDataMode::Intune,
            Ok(pb::MissingDataMode::Noncompliant) => MissingDataMode::Noncompliant,
            Err(_) => {
                return Err(CoreError::invalid(
                    "connector.missing_data",
                    format!("unknown value {}", msg.missing_data),
                ))
            }
        },
    };
    Ok((id, settings))
}

/// `name` inside the message at `prefix`; the empty prefix is the request message itself.
fn field_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A compliance policy at `field` of its request (`""` when the request is the policy).
pub(crate) fn compliance_policy(
    field: &str,
    msg: Option<pb::CompliancePolicy>,
) -> CoreResult<CompliancePolicy> {
    let msg = msg.ok_or_else(|| CoreError::invalid(field, "required"))?;
    let f = |name: &str| field_path(field, name);
    let assignment = msg.assignment.unwrap_or_default();
    let grace_period = duration(
        &f("grace_period"),
        msg.grace_period,
        Duration::ZERO,
        Duration::ZERO,
        Duration::from_secs(365 * DAY),
    )?;
    let actions = msg
        .actions
        .iter()
        .enumerate()
        .map(|(index, action)| {
            let path = f(&format!("actions[{index}]"));
            let kind = match pb::ActionKind::try_from(action.kind) {
                Ok(pb::ActionKind::Notify) => ActionKind::Notify,
                Ok(pb::ActionKind::RemoteLock) => ActionKind::RemoteLock,
                Ok(pb::ActionKind::Retire) => ActionKind::Retire,
                Ok(pb::ActionKind::Unspecified) => {
                    return Err(CoreError::invalid(format!("{path}.kind"), "required"))
                }
                Err(_) => {
                    return Err(CoreError::invalid(
                        format!("{path}.kind"),
                        format!("unknown value {}", action.kind),
                    ))
                }
            };
            let after = duration(
                &format!("{path}.after"),
                action.after,
                Duration::ZERO,
                Duration::ZERO,
                Duration::from_secs(365 * DAY),
            )?;
            Ok(ScheduledAction { kind, after })
        })
        .collect::<CoreResult<Vec<_>>>()?;
    Ok(CompliancePolicy {
        policy_id: object_id(&f("policy_id"), &msg.policy_id)?,
        display_name: name(&f("display_name"), &msg.display_name)?,
        platforms: platforms(&f("platforms"), &msg.platforms)?,
        assignment: Assignment {
            all_devices: assignment.all_devices,
            groups: names(&f("assignment.groups"), &assignment.groups)?,
            excluded_groups: names(
                &f("assignment.excluded_groups"),
                &assignment.excluded_groups,
            )?,
        },
        max_threat_level: optional_level(&f("max_threat_level"), msg.max_threat_level)?,
        grace_period,
        actions,
        version: 0,
        updated_at: Timestamp(0),
    })
}

/// A conditional-access resource.
pub(crate) fn resource(msg: pb::Resource) -> CoreResult<Resource> {
    if msg.rules.len() > MAX_LIST {
        return Err(CoreError::invalid(
            "rules",
            format!("more than {MAX_LIST} entries"),
        ));
    }
    let rules = msg
        .rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let path = format!("rules[{index}]");
            Ok(AccessRule {
                platforms: platforms(&format!("{path}.platforms"), &rule.platforms)?,
                require_compliant_device: rule.require_compliant_device,
                max_threat_level: optional_level(
                    &format!("{path}.max_threat_level"),
                    rule.max_threat_level,
                )?,
            })
        })
        .collect::<CoreResult<Vec<_>>>()?;
    Ok(Resource {
        name: object_id("name", &msg.name)?,
        rules,
        version: 0,
        unknown_device: match pb::UnknownDeviceAccess::try_from(msg.unknown_device) {
            Ok(pb::UnknownDeviceAccess::Unspecified | pb::UnknownDeviceAccess::Deny) => {
                UnknownDeviceAccess::Deny
            }
            Ok(pb::UnknownDeviceAccess::Allow) => UnknownDeviceAccess::Allow,
            Err(_) => {
                return Err(CoreError::invalid(
                    "unknown_device",
                    format!("unknown value {}", msg.unknown_device),
                ))
            }
        },
    })
}

/// An app-protection policy.
pub(crate) fn app_policy(msg: pb::AppProtectionPolicy) -> CoreResult<AppProtectionPolicy> {
    if msg.app_ids.is_empty() {
        return Err(CoreError::invalid(
            "app_ids",
            "at least one app id is required",
        ));
    }
    let action = match pb::AppAction::try_from(msg.action) {
        Ok(pb::AppAction::Block) => AppAction::Block,
        Ok(pb::AppAction::Wipe) => AppAction::Wipe,
        // Microsoft Graph, managedAppRemediationAction: "Warn isn't a supported value for this property."
        Ok(pb::AppAction::Warn) => {
            return Err(CoreError::invalid(
                "action",
                "WARN is not supported for threat-level conditions; use BLOCK or WIPE",
            ))
        }
        Ok(pb::AppAction::Unspecified) => return Err(CoreError::invalid("action", "required")),
        Err(_) => {
            return Err(CoreError::invalid(
                "action",
                format!("unknown value {}", msg.action),
            ))
        }
    };
    Ok(AppProtectionPolicy {
        policy_id: object_id("policy_id", &msg.policy_id)?,
        display_name: name("display_name", &msg.display_name)?,
        app_ids: names("app_ids", &msg.app_ids)?,
        platforms: platforms("platforms", &msg.platforms)?,
        max_threat_level: optional_level("max_threat_level", msg.max_threat_level)?,
        action,
        partner_priority: match pb::PartnerPriority::try_from(msg.partner_priority) {
            Ok(pb::PartnerPriority::Unspecified | pb::PartnerPriority::DefenderOverThirdParty) => {
                PartnerPriority::DefenderOverThirdParty
            }
            Ok(pb::PartnerPriority::ThirdPartyOverDefender) => {
                PartnerPriority::ThirdPartyOverDefender
            }
            Err(_) => {
                return Err(CoreError::invalid(
                    "partner_priority",
                    format!("unknown value {}", msg.partner_priority),
                ))
            }
        },
        version: 0,
    })
}

/// Tenant settings.
pub(crate) fn tenant(msg: pb::TenantSettings) -> CoreResult<TenantSettings> {
    Ok(TenantSettings {
        no_policy_status: match pb::NoPolicyStatus::try_from(msg.no_policy_status) {
            Ok(pb::NoPolicyStatus::Unspecified | pb::NoPolicyStatus::Compliant) => {
                NoPolicyStatus::Compliant
            }
            Ok(pb::NoPolicyStatus::Noncompliant) => NoPolicyStatus::Noncompliant,
            Err(_) => {
                return Err(CoreError::invalid(
                    "no_policy_status",
                    format!("unknown value {}", msg.no_policy_status),
                ))
            }
        },
        // Microsoft Learn, "Compliance policy settings": default 30 days, range 1 to 120 days.
        compliance_validity_period: duration(
            "compliance_validity_period",
            msg.compliance_validity_period,
            DEFAULT_VALIDITY_PERIOD,
            Duration::from_secs(DAY),
            Duration::from_secs(120 * DAY),
        )?,
        unresponsive_mode: match pb::UnresponsivePartnerMode::try_from(
            msg.unresponsive_partner_mode,
        ) {
            Ok(
                pb::UnresponsivePartnerMode::Unspecified | pb::UnresponsivePartnerMode::FailOpen,
            ) => UnresponsiveMode::FailOpen,
            Ok(pb::UnresponsivePartnerMode::FailClosed) => UnresponsiveMode::FailClosed,
            Err(_) => {
                return Err(CoreError::invalid(
                    "unresponsive_partner_mode",
                    format!("unknown value {}", msg.unresponsive_partner_mode),
                ))
            }
        },
        enrollment_grace: duration(
            "enrollment_grace",
            msg.enrollment_grace,
            Duration::ZERO,
            Duration::ZERO,
            Duration::from_secs(30 * DAY),
        )?,
    })
}

/// An optional non-negative duration of at most ten years; `None` when unset.
pub(crate) fn optional_duration(
    field: &str,
    raw: Option<prost_types::Duration>,
) -> CoreResult<Option<Duration>> {
    raw.map(|raw| {
        duration(
            field,
            Some(raw),
            Duration::ZERO,
            Duration::ZERO,
            Duration::from_secs(3650 * DAY),
        )
    })
    .transpose()
}

/// A positive duration for AdvanceClock.
pub(crate) fn advance_by(raw: Option<prost_types::Duration>) -> CoreResult<Duration> {
    let value = duration(
        "by",
        raw,
        Duration::ZERO,
        Duration::from_nanos(1),
        Duration::from_secs(3650 * DAY),
    )?;
    if value.is_zero() {
        return Err(CoreError::invalid("by", "required"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskgate_policy::error::DomainError;

    fn raw(seconds: i64, nanos: i32) -> Option<prost_types::Duration> {
        Some(prost_types::Duration { seconds, nanos })
    }

    fn any(field: &str, value: Option<prost_types::Duration>) -> CoreResult<Duration> {
        duration(
            field,
            value,
            Duration::ZERO,
            Duration::ZERO,
            Duration::from_secs(365 * DAY),
        )
    }

    #[test]
    fn nanos_of_a_second_or_more_are_refused_naming_the_nanos_field() {
        let err = any("grace_period", raw(0, 2_000_000_000)).unwrap_err();
        assert!(
            matches!(&err, CoreError::Domain(DomainError::InvalidArgument { field, .. }) if field == "grace_period.nanos"),
            "{err}"
        );
        assert!(any("grace_period", raw(0, 999_999_999)).is_ok());
    }

    #[test]
    fn limits_read_as_an_admin_writes_them() {
        let err = any("grace_period", raw(366 * DAY as i64, 0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "grace_period: must be between 0 seconds and 365 days"
        );
        assert_eq!(readable(Duration::from_secs(DAY)), "1 day");
        assert_eq!(readable(Duration::from_secs(7200)), "2 hours");
        assert_eq!(readable(Duration::from_secs(90)), "90 seconds");
        assert_eq!(readable(Duration::from_millis(1500)), "1s 500ms");
    }
}
