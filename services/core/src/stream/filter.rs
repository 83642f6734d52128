//! Subscription filters: which devices and events a subscriber wants. Empty fields match everything.
use riskgate_policy::{
    domain::{DeviceId, Event, EventKind, Platform, ThreatLevel},
    evaluate::DeviceSummary,
};

/// The kinds of event a subscriber can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventClass {
    /// A partner report was applied (risk-level change).
    DeviceReported,
    /// A compliance change.
    ComplianceChange,
    /// An access decision flip.
    AccessDecisionChange,
    /// An app-protection decision change.
    AppProtectionChange,
    /// A noncompliance action fell due.
    ComplianceActionDue,
    /// A connector state change.
    ConnectorStateChange,
    /// A configuration change.
    ConfigChange,
    /// An admin cleared a known risk.
    KnownRiskCleared,
}

impl EventClass {
    /// The class of an event.
    pub(crate) fn of(kind: &EventKind) -> Self {
        match kind {
            EventKind::DeviceReported(_) => Self::DeviceReported,
            EventKind::ComplianceChanged { .. } => Self::ComplianceChange,
            EventKind::AccessChanged { .. } => Self::AccessDecisionChange,
            EventKind::AppProtectionChanged { .. } => Self::AppProtectionChange,
            EventKind::ComplianceActionDue { .. } => Self::ComplianceActionDue,
            EventKind::ConnectorStateChanged { .. } => Self::ConnectorStateChange,
            EventKind::ConfigChanged { .. } => Self::ConfigChange,
            EventKind::KnownRiskCleared { .. } => Self::KnownRiskCleared,
        }
    }
}

/// A validated subscription filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    /// Only these devices.
    pub(crate) device_ids: Vec<DeviceId>,
    /// Only devices owned by these users.
    pub(crate) user_ids: Vec<String>,
    /// Only devices in any of these groups.
    pub(crate) groups: Vec<String>,
    /// Only these platforms.
    pub(crate) platforms: Vec<Platform>,
    /// Only these kinds of event.
    pub(crate) kinds: Vec<EventClass>,
    /// Only devices at or above this level.
    pub(crate) min_level: Option<ThreatLevel>,
    /// Only access decision changes for these resources.
    pub(crate) resources: Vec<String>,
}

impl Filter {
    fn has_device_fields(&self) -> bool {
        !self.device_ids.is_empty()
            || !self.user_ids.is_empty()
            || !self.groups.is_empty()
            || !self.platforms.is_empty()
            || self.min_level.is_some()
    }

    /// Whether a device matches the device fields; `level` is its current level.
    pub(crate) fn matches_device(
        &self,
        device_id: &DeviceId,
        device: Option<&DeviceSummary>,
        level: Option<ThreatLevel>,
    ) -> bool {
        if !self.device_ids.is_empty() && !self.device_ids.contains(device_id) {
            return false;
        }
        let needs_attributes =
            !self.user_ids.is_empty() || !self.groups.is_empty() || !self.platforms.is_empty();
        if needs_attributes {
            let Some(device) = device else { return false };
            if !self.user_ids.is_empty() && !self.user_ids.contains(&device.owner_user_id) {
                return false;
            }
            if !self.groups.is_empty()
                && !device
                    .groups
                    .iter()
                    .any(|group| self.groups.contains(group))
            {
                return false;
            }
            if !self.platforms.is_empty() && !self.platforms.contains(&device.platform) {
                return false;
            }
        }
        match self.min_level {
            Some(min) => level.is_some_and(|level| level >= min),
            None => true,
        }
    }

    /// Whether an event matches. `device` and `level` describe the event's device now (the caller looks them up).
    pub(crate) fn matches_event(
        &self,
        event: &Event,
        device: Option<&DeviceSummary>,
        level: Option<ThreatLevel>,
    ) -> bool {
        if !self.kinds.is_empty() && !self.kinds.contains(&EventClass::of(&event.kind)) {
            return false;
        }
        if let EventKind::AccessChanged { resource, .. } = &event.kind {
            if !self.resources.is_empty() && !self.resources.contains(resource) {
                return false;
            }
        }
        let Some(device_id) = &event.device_id else {
            return !self.has_device_fields();
        };
        // A report that moves the device across the minimum level matches on either side of the move.
        let level = match &event.kind {
            EventKind::DeviceReported(reported) => {
                reported.previous_level.max(reported.current_level)
            }
            _ => level,
        };
        self.matches_device(device_id, device, level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskgate_policy::domain::{
        policy::ComplianceStatus, ConfigObject, ConnectorId, DeviceReported, HealthState, Timestamp,
    };

    fn summary(platform: Platform, owner: &str, groups: &[&str]) -> DeviceSummary {
        DeviceSummary {
            first_seen: Timestamp(0),
            platform,
            os_version: String::new(),
            owner_user_id: owner.into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            last_seen: Timestamp(0),
            reports: vec![],
        }
    }

    fn device_event(kind: EventKind) -> Event {
        Event {
            position: 1,
            time: Timestamp(0),
            device_id: Some(DeviceId::parse("d").unwrap()),
            kind,
        }
    }

    fn reported(previous: Option<ThreatLevel>, current: Option<ThreatLevel>) -> EventKind {
        EventKind::DeviceReported(DeviceReported {
            connector_id: ConnectorId::parse("c").unwrap(),
            health_state: HealthState::Secured,
            previous_level: previous,
            current_level: current,
            vendor_event_id: "e".into(),
            observed_at: Timestamp(0),
            threats: vec![],
        })
    }

    #[test]
    fn each_filter_field_alone() {
        let device = summary(Platform::Ios, "alice", &["sales"]);
        let compliance = device_event(EventKind::ComplianceChanged {
            previous: ComplianceStatus::Compliant,
            current: ComplianceStatus::Noncompliant,
            reasons: vec![],
        });
        let access = |resource: &str| {
            device_event(EventKind::AccessChanged {
                resource: resource.into(),
                allowed: false,
                reasons: vec![],
            })
        };
        let config = Event {
            device_id: None,
            ..device_event(EventKind::ConfigChanged {
                object: ConfigObject::Resource,
                id: "x".into(),
                version: 1,
            })
        };
        let level = Some(ThreatLevel::Medium);
        let check =
            |filter: Filter, event: &Event| filter.matches_event(event, Some(&device), level);

        assert!(
            check(Filter::default(), &compliance),
            "empty matches everything"
        );
        assert!(check(Filter::default(), &config));
        let id = |raw| DeviceId::parse(raw).unwrap();
        assert!(check(
            Filter {
                device_ids: vec![id("d")],
                ..Filter::default()
            },
            &compliance
        ));
        assert!(!check(
            Filter {
                device_ids: vec![id("other")],
                ..Filter::default()
            },
            &compliance
        ));
        assert!(check(
            Filter {
                user_ids: vec!["alice".into()],
                ..Filter::default()
            },
            &compliance
        ));
        assert!(!check(
            Filter {
                user_ids: vec!["bob".into()],
                ..Filter::default()
            },
            &compliance
        ));
        assert!(check(
            Filter {
                groups: vec!["sales".into()],
                ..Filter::default()
            },
            &compliance
        ));
        assert!(!check(
            Filter {
                groups: vec!["eng".into()],
                ..Filter::default()
            },
            &compliance
        ));
        assert!(check(
            Filter {
                platforms: vec![Platform::Ios],
                ..Filter::default()
            },
            &compliance
        ));
        assert!(!check(
            Filter {
                platforms: vec![Platform::Android],
                ..Filter::default()
            },
            &compliance
        ));
        assert!(check(
            Filter {
                kinds: vec![EventClass::ComplianceChange],
                ..Filter::default()
            },
            &compliance
        ));
        assert!(!check(
            Filter {
                kinds: vec![EventClass::DeviceReported],
                ..Filter::default()
            },
            &compliance
        ));
        assert!(check(
            Filter {
                min_level: Some(ThreatLevel::Medium),
                ..Filter::default()
            },
            &compliance
        ));
        assert!(!check(
            Filter {
                min_level: Some(ThreatLevel::High),
                ..Filter::default()
            },
            &compliance
        ));
        assert!(check(
            Filter {
                resources: vec!["exchange".into()],
                ..Filter::default()
            },
            &access("exchange")
        ));
        assert!(!check(
            Filter {
                resources: vec!["exchange".into()],
                ..Filter::default()
            },
            &access("wifi")
        ));
        assert!(
            check(
                Filter {
                    resources: vec!["exchange".into()],
                    ..Filter::default()
                },
                &compliance
            ),
            "other kinds pass"
        );
        assert!(
            !check(
                Filter {
                    groups: vec!["sales".into()],
                    ..Filter::default()
                },
                &config
            ),
            "device fields exclude device-less events"
        );
    }

    #[test]
    fn a_report_matches_min_level_on_either_side_of_the_move() {
        let filter = Filter {
            min_level: Some(ThreatLevel::High),
            ..Filter::default()
        };
        let down = device_event(reported(
            Some(ThreatLevel::High),
            Some(ThreatLevel::Secured),
        ));
        let up = device_event(reported(Some(ThreatLevel::Low), Some(ThreatLevel::High)));
        let low = device_event(reported(Some(ThreatLevel::Low), Some(ThreatLevel::Secured)));
        assert!(filter.matches_event(&down, None, Some(ThreatLevel::Secured)));
        assert!(filter.matches_event(&up, None, Some(ThreatLevel::High)));
        assert!(!filter.matches_event(&low, None, Some(ThreatLevel::Secured)));
    }
}
