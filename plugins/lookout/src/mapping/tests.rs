//! One test per row of the README's mapping table.

use serde_json::json;

use super::*;

fn config() -> Config {
    Config::parse(br#"{"base_url":"http://127.0.0.1:1","application_key":"k","compromised_classifications":["ROOT_ENABLER"]}"#).unwrap()
}

fn device(activation: &str, protection: &str, security: Option<&str>) -> DeviceState {
    DeviceState {
        guid: "g-1".into(),
        external_id: Some("dev-1".into()),
        platform: "ANDROID".into(),
        activation_status: activation.into(),
        protection_status: protection.into(),
        security_status: security.map(str::to_owned),
        ..DeviceState::default()
    }
}

fn threat(severity: &str, status: &str) -> ThreatState {
    ThreatState {
        threat_type: "APPLICATION".into(),
        classification: "RISKWARE".into(),
        severity: severity.into(),
        status: status.into(),
        detected_ms: 1_700_000_000_000,
        resolved_ms: (status != "OPEN").then_some(1_700_000_100_000),
        description: String::new(),
        updated_ms: 1_700_000_000_000,
    }
}

#[test]
fn security_status_maps_to_health_state() {
    let c = config();
    for (raw, want) in [
        ("SECURE", HealthState::Secured),
        ("THREATS_LOW", HealthState::LowSeverity),
        ("THREATS_MEDIUM", HealthState::MediumSeverity),
        ("THREATS_HIGH", HealthState::HighSeverity),
        ("THREATS_CRITICAL", HealthState::HighSeverity),
        ("THREAT_LOW", HealthState::LowSeverity),
        ("THREAT_MEDIUM", HealthState::MediumSeverity),
        ("THREAT_HIGH", HealthState::HighSeverity),
    ] {
        assert_eq!(
            health(&device("ACTIVATED", "PROTECTED", Some(raw)), &c),
            (want, None),
            "{raw}"
        );
    }
}

#[test]
fn activation_and_protection_status_map_to_health_state() {
    let c = config();
    for (activation, protection, want) in [
        ("PENDING", "PROTECTED", HealthState::Unknown),
        ("DEACTIVATED", "PROTECTED", HealthState::Deactivated),
        ("DELETED", "PROTECTED", HealthState::Deactivated),
        ("ACTIVATED", "DISCONNECTED", HealthState::Unresponsive),
        ("ACTIVATED", "UNINSTALLED", HealthState::Misconfigured),
    ] {
        // The security status is ignored (and absent at Lookout) unless activated and protected.
        assert_eq!(
            health(&device(activation, protection, Some("THREATS_HIGH")), &c).0,
            want,
            "{activation}/{protection}"
        );
    }
    let (state, note) = health(&device("SUSPENDED", "PROTECTED", None), &c);
    assert_eq!(state, HealthState::Unknown);
    assert!(note.unwrap().contains("SUSPENDED"));
}

#[test]
fn missing_or_unknown_security_status_rolls_up_open_threats() {
    let c = config();
    let mut d = device("ACTIVATED", "PROTECTED", None);
    assert_eq!(
        health(&d, &c).0,
        HealthState::Secured,
        "no threats: secured"
    );
    d.threats.insert("a".into(), threat("ADVISORY", "OPEN"));
    assert_eq!(
        health(&d, &c).0,
        HealthState::LowSeverity,
        "ADVISORY counts as low"
    );
    d.threats.insert("b".into(), threat("MEDIUM", "OPEN"));
    assert_eq!(health(&d, &c).0, HealthState::MediumSeverity);
    d.threats.insert("c".into(), threat("HIGH", "RESOLVED"));
    d.threats.insert("d".into(), threat("HIGH", "IGNORED"));
    assert_eq!(
        health(&d, &c).0,
        HealthState::MediumSeverity,
        "resolved and ignored threats do not count"
    );
    d.security_status = Some("THREATS_SOMETHING".into());
    let (state, note) = health(&d, &c);
    assert_eq!(state, HealthState::MediumSeverity);
    assert!(note.is_some());
}

#[test]
fn open_compromising_classification_makes_the_device_compromised() {
    let c = config();
    let mut d = device("ACTIVATED", "PROTECTED", Some("THREATS_HIGH"));
    let mut root = threat("HIGH", "OPEN");
    root.classification = "ROOT_ENABLER".into();
    d.threats.insert("r".into(), root.clone());
    assert_eq!(health(&d, &c).0, HealthState::Compromised);
    root.status = "RESOLVED".into();
    d.threats.insert("r".into(), root);
    assert_eq!(health(&d, &c).0, HealthState::HighSeverity);
}

#[test]
fn threat_fields_map_to_category_level_and_status() {
    for (raw, want) in [
        ("APPLICATION", ThreatCategory::Application),
        ("NETWORK", ThreatCategory::Network),
        ("OS", ThreatCategory::Os),
        ("WEB_CONTENT", ThreatCategory::WebContent),
        ("CONFIGURATION", ThreatCategory::Configuration),
        ("FILE", ThreatCategory::File),
    ] {
        assert_eq!(category(raw), Some(want));
    }
    assert_eq!(category("QUANTUM"), None);
    for (raw, want) in [
        ("NONE", ThreatLevel::Secured),
        ("ADVISORY", ThreatLevel::Low),
        ("LOW", ThreatLevel::Low),
        ("MEDIUM", ThreatLevel::Medium),
        ("MODERATE", ThreatLevel::Medium),
        ("HIGH", ThreatLevel::High),
        ("CRITICAL", ThreatLevel::High),
    ] {
        assert_eq!(level(raw), Some(want));
    }
    assert_eq!(level("EXTREME"), None);
    for (raw, want) in [
        ("OPEN", ThreatStatus::Open),
        ("DETECTED", ThreatStatus::Open),
        ("RESOLVED", ThreatStatus::Resolved),
        ("IGNORED", ThreatStatus::Ignored),
    ] {
        assert_eq!(status(raw), Some(want));
    }
    assert_eq!(status("MAYBE"), None);
}

#[test]
fn report_carries_identity_threats_and_times_and_skips_unknown_threats() {
    let c = config();
    let mut d = device("ACTIVATED", "PROTECTED", Some("THREATS_MEDIUM"));
    d.email = "u@corp.example".into();
    d.model = "sm-a346b".into();
    d.os_version = "14".into();
    d.threats.insert("open".into(), threat("MEDIUM", "OPEN"));
    d.threats.insert("done".into(), threat("HIGH", "RESOLVED"));
    let mut weird = threat("HIGH", "OPEN");
    weird.threat_type = "QUANTUM".into();
    d.threats.insert("weird".into(), weird);
    let mapped = report(&d, &c, 1_700_000_200_000, "evt-1").unwrap();
    let r = &mapped.report;
    assert_eq!(r.device_id, "dev-1");
    assert_eq!(r.platform, Platform::Android as i32);
    assert_eq!(
        (
            r.owner_user_id.as_str(),
            r.model.as_str(),
            r.os_version.as_str()
        ),
        ("u@corp.example", "sm-a346b", "14")
    );
    assert_eq!(r.health_state, HealthState::MediumSeverity as i32);
    assert_eq!(r.vendor_event_id, "evt-1");
    assert_eq!(r.observed_at, Some(timestamp(1_700_000_200_000)));
    assert_eq!(r.threats.len(), 2, "the unknown-type threat is skipped");
    assert_eq!(mapped.notes.len(), 1);
    let open = r
        .threats
        .iter()
        .find(|t| t.vendor_threat_id == "open")
        .unwrap();
    assert_eq!(
        (open.status, open.severity, open.category),
        (
            ThreatStatus::Open as i32,
            ThreatLevel::Medium as i32,
            ThreatCategory::Application as i32
        )
    );
    assert_eq!(open.classification, "RISKWARE");
    assert_eq!(open.resolved_at, None);
    let done = r
        .threats
        .iter()
        .find(|t| t.vendor_threat_id == "done")
        .unwrap();
    assert_eq!(done.status, ThreatStatus::Resolved as i32);
    assert_eq!(done.detected_at, Some(timestamp(1_700_000_000_000)));
    assert_eq!(done.resolved_at, Some(timestamp(1_700_000_100_000)));
}

#[test]
fn device_identity_and_platform_follow_the_configuration() {
    let c = config();
    let mut d = device("ACTIVATED", "PROTECTED", Some("SECURE"));
    d.platform = "IOS".into();
    d.model = "iPad13,4".into();
    assert_eq!(platform(&d, &c), Some(Platform::Ipados));
    d.model = "iphone17,2".into();
    assert_eq!(platform(&d, &c), Some(Platform::Ios));
    d.platform = "BLACKBERRY".into();
    assert!(
        report(&d, &c, 1_700_000_000_000, "e").is_err(),
        "unmapped platform: skipped"
    );
    d.platform = "IOS".into();
    d.external_id = None;
    assert!(
        report(&d, &c, 1_700_000_000_000, "e").is_err(),
        "no MDM id: skipped"
    );
    let by_guid =
        Config::parse(br#"{"base_url":"http://x","application_key":"k","device_id":"guid"}"#)
            .unwrap();
    assert_eq!(
        report(&d, &by_guid, 1_700_000_000_000, "e")
            .unwrap()
            .report
            .device_id,
        "g-1"
    );
}

#[test]
fn rest_items_and_stream_events_update_the_fleet() {
    let mut fleet = Fleet::default();
    let guid = fleet
        .apply_rest_device(&json!({"guid":"g-1","oid":"1","platform":"IOS","email":"u@x","activation_status":"ACTIVATED",
            "protection_status":"PROTECTED","security_status":"SECURE","checkin_time":"2025-02-24T09:59:04.734+00:00",
            "hardware":{"model":"iphone17,2"},"software":{"os_version":"18.3.1"},"details":{"external_id":"dev-1"}}))
        .unwrap();
    assert_eq!(guid, "g-1");
    fleet
        .apply_rest_threat(&json!({"guid":"t-1","oid":"2","device_guid":"g-1","classification":"RISKWARE","risk":"LOW",
            "status":"OPEN","threat_type":"APPLICATION","created_time":"2025-02-24T10:00:00.000+00:00"}))
        .unwrap();
    let threat_event = json!({"id":"e-1","created_time":"2025-02-24T10:05:00.000+00:00","type":"THREAT","change_type":"UPDATED",
        "threat":{"guid":"t-1","status":"RESOLVED","severity":"LOW","type":"APPLICATION","classifications":["RISKWARE"]},
        "actor":{"guid":"adm","type":"ADMIN"},"target":{"guid":"g-1","type":"THREAT"}});
    assert_eq!(
        fleet.apply_event(&threat_event),
        Ok(EventOutcome::Device("g-1".into())),
        "an admin-actor event finds the device by the threat"
    );
    let t = &fleet.devices["g-1"].threats["t-1"];
    assert_eq!(t.status, "RESOLVED");
    assert_eq!(t.resolved_ms, parse_time_ms("2025-02-24T10:05:00.000Z"));
    // An older event does not roll the threat back.
    let mut older = threat_event.clone();
    older["created_time"] = json!("2025-02-24T10:01:00.000+00:00");
    older["threat"]["status"] = json!("OPEN");
    fleet.apply_event(&older).unwrap();
    assert_eq!(fleet.devices["g-1"].threats["t-1"].status, "RESOLVED");
    // A device event without security_status (pending) clears it; unknown fields are ignored.
    let device_event = json!({"id":"e-2","created_time":"2025-02-24T10:06:00.000+00:00","type":"DEVICE","change_type":"UPDATED",
        "future":1,"device":{"guid":"g-1","platform":"IOS","new":{"x":1},"status":{"activation_status":"PENDING","protection_status":"PROTECTED"}}});
    fleet.apply_event(&device_event).unwrap();
    assert_eq!(fleet.devices["g-1"].security_status, None);
    assert_eq!(fleet.devices["g-1"].activation_status, "PENDING");
    // Unknown devices are reported for fetching; audits are ignored; malformed events are refused.
    let new = json!({"id":"e-3","created_time":"2025-02-24T10:06:00Z","type":"THREAT","threat":{"guid":"t-9","status":"OPEN","severity":"HIGH","type":"NETWORK"},"actor":{"guid":"g-9","type":"DEVICE"}});
    assert_eq!(
        fleet.apply_event(&new),
        Ok(EventOutcome::UnknownDevice("g-9".into()))
    );
    assert_eq!(
        fleet
            .apply_event(&json!({"id":"e-4","created_time":"2025-02-24T10:06:00Z","type":"AUDIT"})),
        Ok(EventOutcome::Ignored)
    );
    for bad in [
        json!({"id":"e-5","created_time":"not a time","type":"THREAT"}),
        json!({"id":"e-6","created_time":"2025-02-24T10:06:00Z","type":"THREAT","threat":{"guid":42}}),
        json!({"id":"e-7","created_time":"2025-02-24T10:06:00Z","type":"DEVICE"}),
        json!("just a string"),
    ] {
        assert!(fleet.apply_event(&bad).is_err(), "{bad}");
    }
}
