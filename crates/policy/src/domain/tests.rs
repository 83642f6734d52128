//! Unit tests of the domain rules: level mapping, aggregation and id validation.

use super::*;

#[test]
fn every_health_state_maps_to_its_documented_level() {
    let table = [
        (HealthState::Unknown, None),
        (HealthState::Activated, None),
        (HealthState::Deactivated, None),
        (HealthState::Secured, Some(ThreatLevel::Secured)),
        (HealthState::LowSeverity, Some(ThreatLevel::Low)),
        (HealthState::MediumSeverity, Some(ThreatLevel::Medium)),
        (HealthState::HighSeverity, Some(ThreatLevel::High)),
        (HealthState::Unresponsive, None),
        (HealthState::Compromised, Some(ThreatLevel::High)),
        (HealthState::Misconfigured, None),
    ];
    for (state, level) in table {
        assert_eq!(state.level(), level, "{state:?}");
    }
}

#[test]
fn threat_levels_are_ordered_secured_low_medium_high() {
    assert!(ThreatLevel::Secured < ThreatLevel::Low);
    assert!(ThreatLevel::Low < ThreatLevel::Medium);
    assert!(ThreatLevel::Medium < ThreatLevel::High);
}

#[test]
fn device_level_is_the_worst_report_level_ignoring_missing_data() {
    let report = |health_state| PartnerReport {
        health_state,
        threats: vec![],
        observed_at: Timestamp(1),
        received_at: Timestamp(1),
        vendor_event_id: "e".into(),
        position: 1,
        known_risk: None,
    };
    let mut device = DeviceRecord {
        device_id: DeviceId::parse("d").unwrap(),
        info: DeviceInfo {
            platform: Platform::Ios,
            os_version: String::new(),
            model: String::new(),
            owner_user_id: String::new(),
            groups: vec![],
        },
        first_seen: Timestamp(1),
        last_seen: Timestamp(1),
        reports: BTreeMap::new(),
        position: 1,
    };
    assert_eq!(device.level(), None);
    let connector = |id| ConnectorId::parse(id).unwrap();
    device
        .reports
        .insert(connector("a"), report(HealthState::Activated));
    assert_eq!(device.level(), None);
    device
        .reports
        .insert(connector("b"), report(HealthState::LowSeverity));
    assert_eq!(device.level(), Some(ThreatLevel::Low));
    device
        .reports
        .insert(connector("c"), report(HealthState::MediumSeverity));
    assert_eq!(device.level(), Some(ThreatLevel::Medium));
}

#[test]
fn ids_reject_empty_overlong_and_odd_characters() {
    assert!(DeviceId::parse("").is_err());
    assert!(DeviceId::parse(&"x".repeat(257)).is_err());
    assert!(DeviceId::parse("a\u{0}b").is_err());
    assert!(DeviceId::parse("device-1 (Pixel)").is_ok());
    assert!(ConnectorId::parse("lookout.prod_1-a").is_ok());
    assert!(ConnectorId::parse("look out").is_err());
    assert!(ConnectorId::parse(&"c".repeat(129)).is_err());
}

#[test]
fn timestamps_round_trip_through_protobuf_parts() {
    for (seconds, nanos) in [(0, 0), (1_700_000_000, 123), (-5, 999_999_999)] {
        let ts = Timestamp::from_parts(seconds, nanos).unwrap();
        assert_eq!(ts.to_parts(), (seconds, nanos));
    }
    assert_eq!(Timestamp::from_parts(i64::MAX, 0), None);
    assert_eq!(Timestamp::from_parts(0, -1), None);
}

#[test]
fn a_report_without_a_level_keeps_the_risk_known_before_it_until_a_level_arrives() {
    let report = |health_state, known_risk| PartnerReport {
        health_state,
        threats: vec![],
        observed_at: Timestamp(5),
        received_at: Timestamp(5),
        vendor_event_id: "e".into(),
        position: 1,
        known_risk,
    };
    let high = report(HealthState::HighSeverity, None);
    let kept = high
        .risk_kept_for(HealthState::Deactivated)
        .expect("HIGH is kept");
    assert_eq!(kept.level(), ThreatLevel::High);
    assert_eq!(kept.observed_at, Timestamp(5));
    let deactivated = report(HealthState::Deactivated, Some(kept.clone()));
    assert_eq!(deactivated.known_level(), Some(ThreatLevel::High));
    assert_eq!(
        deactivated.risk_kept_for(HealthState::Unknown),
        Some(kept),
        "a second report without a level keeps the first risk"
    );
    assert_eq!(deactivated.risk_kept_for(HealthState::Secured), None);
    assert_eq!(deactivated.risk_kept_for(HealthState::LowSeverity), None);
    let secured = report(HealthState::Secured, None);
    assert_eq!(secured.risk_kept_for(HealthState::Misconfigured), None);
    let compromised = report(HealthState::Compromised, None);
    assert_eq!(
        compromised
            .risk_kept_for(HealthState::Unresponsive)
            .map(|risk| risk.health_state),
        Some(HealthState::Compromised)
    );
}

#[test]
fn a_connector_whose_vendor_feed_is_quiet_past_the_threshold_is_unresponsive_while_its_host_lives()
{
    use super::policy::{
        Connector, ConnectorSettings, ConnectorState, FeedHealth, FeedState, MissingDataMode,
        PartnerKind, PerPlatform,
    };
    const HOUR: i64 = 3_600_000_000_000;
    let now = Timestamp(1_000 * HOUR);
    let mut connector = Connector {
        connector_id: super::ConnectorId::parse("lookout").unwrap(),
        settings: ConnectorSettings {
            vendor: "lookout".into(),
            display_name: String::new(),
            kind: PartnerKind::ThirdParty,
            compliance_enabled: PerPlatform {
                android: true,
                ..PerPlatform::default()
            },
            app_protection_enabled: PerPlatform::default(),
            block_on_missing_partner_data: PerPlatform::default(),
            block_unsupported_os_versions: false,
            minimum_os_versions: PerPlatform::default(),
            unresponsive_after: std::time::Duration::from_secs(24 * 3600),
            provisioned: true,
            missing_data: MissingDataMode::LastKnown,
        },
        last_heartbeat: Some(now),
        error_message: String::new(),
        version: 1,
        feed: FeedHealth::default(),
    };
    assert_eq!(
        connector.state(now),
        ConnectorState::Enabled,
        "no feed word: the host decides"
    );
    for (state, since, last_sync, want) in [
        (
            FeedState::Connected,
            None,
            Some(now.0 - 2 * HOUR),
            ConnectorState::Enabled,
        ),
        (
            FeedState::Connected,
            None,
            Some(now.0 - 25 * HOUR),
            ConnectorState::Unresponsive,
        ),
        (
            FeedState::Disconnected,
            Some(now.0 - 2 * HOUR),
            Some(now.0 - 2 * HOUR),
            ConnectorState::Enabled,
        ),
        (
            FeedState::Disconnected,
            Some(now.0 - 25 * HOUR),
            None,
            ConnectorState::Unresponsive,
        ),
        (
            FeedState::Degraded,
            Some(now.0 - 25 * HOUR),
            Some(now.0 - HOUR),
            ConnectorState::Unresponsive,
        ),
    ] {
        connector.feed = FeedHealth {
            state,
            reason: String::new(),
            since: since.map(Timestamp),
            last_vendor_sync: last_sync.map(Timestamp),
        };
        assert_eq!(connector.state(now), want, "{:?}", connector.feed);
    }
}
