//! One test per row of the README's mapping table, on captured items of Zimperium's public API (published integrations' test data).

use serde_json::json;

use super::*;

/// The redacted SEKOIA capture of a threat (SEKOIA-IO automation-library tests), trimmed to the fields read.
fn captured_threat() -> Value {
    json!({"id":"1111","accountId":"2222","teamId":"3333","teamName":"Default",
      "zappInstanceId":"4444","deviceId":"5555",
      "device":{"id":"5555","mdmDeviceId":"","mamDeviceId":"","model":"Redacted",
                "os":{"id":1,"name":"ANDROID","version":"16"},"zdeviceId":"6666"},
      "os":"android","timestamp":1_773_830_431_000_u64,
      "threatTypeId":172,"threatTypeName":"ACTIVE EXPLOIT OS ANDROID",
      "severity":2,"severityName":"ELEVATED","vector":2,"vectorName":"Device","categoryId":64,
      "classification":2,"classificationName":"RISKY","state":1,"mitigationEvents":[],
      "lastModified":1_773_830_431_000_u64,
      "activationName":"john.doe@company.com","deviceOwner":"john.doe@company.com"})
}

/// The XSOAR device capture (Cortex XSOAR ZimperiumV2 test data).
fn captured_device() -> Value {
    json!({"id":"62","groupId":"3","riskPosture":3,"riskPostureName":"CRITICAL","accountId":"2",
       "teamId":"3","teamName":"Default","created":1_702_393_155_483_u64,"lastSeen":1_702_393_458_060_u64,
       "os":{"id":1,"name":"android","type":"Android","version":"7.1.1","patchDate":"2017-09-01"},
       "deviceOwner":{"email":"user2@email.com"},
       "fullType":"OnePlus5","model":"ONEPLUS A5000","isJailbroken":false,"lockScreenUnprotected":true,
       "deleted":false,"activationName":"user2@email.com","agentType":2,"processed":true,
       "appStatus":"ACTIVE","zdeviceId":"5"})
}

fn parse(item: &Value) -> ThreatRecord {
    threat(item, DeviceIdSource::Mdm).unwrap()
}

#[test]
fn captured_threat_maps_field_by_field() {
    let t = parse(&captured_threat());
    assert_eq!(t.id, "1111");
    // An empty mdmDeviceId falls back to Zimperium's device id.
    assert_eq!(t.device_id, "5555");
    assert_eq!(t.device.platform, Some(pb::Platform::Android));
    assert_eq!(t.device.os_version, "16");
    assert_eq!(t.device.model, "Redacted");
    assert_eq!(t.device.owner, "john.doe@company.com");
    assert_eq!(t.device.team, "Default");
    assert_eq!(t.category, pb::ThreatCategory::Os);
    assert_eq!(t.classification, "ACTIVE EXPLOIT OS ANDROID");
    assert_eq!(t.severity, pb::ThreatLevel::Medium);
    assert_eq!(t.status, pb::ThreatStatus::Open);
    assert_eq!(t.detected_ms, 1_773_830_431_000);
    assert_eq!(t.resolved_ms, None);
    assert_eq!(t.modified_ms, 1_773_830_431_000);
    assert_eq!(
        t.description,
        "ACTIVE EXPLOIT OS ANDROID (RISKY, vector Device)"
    );
}

#[test]
fn device_id_row_prefers_the_mdm_id_unless_configured_otherwise() {
    let mut item = captured_threat();
    item["device"]["mdmDeviceId"] = json!("intune-abc");
    assert_eq!(parse(&item).device_id, "intune-abc");
    assert_eq!(
        threat(&item, DeviceIdSource::Zimperium).unwrap().device_id,
        "5555"
    );
    item["deviceId"] = Value::Null;
    assert_eq!(
        threat(&item, DeviceIdSource::Zimperium).unwrap().device_id,
        "5555",
        "device.id"
    );
}

#[test]
fn severity_row_maps_normal_low_elevated_critical_to_secured_low_medium_high() {
    for (name, level) in [
        ("NORMAL", pb::ThreatLevel::Secured),
        ("LOW", pb::ThreatLevel::Low),
        ("ELEVATED", pb::ThreatLevel::Medium),
        ("CRITICAL", pb::ThreatLevel::High),
        ("critical", pb::ThreatLevel::High),
    ] {
        let mut item = captured_threat();
        item["severityName"] = json!(name);
        assert_eq!(parse(&item).severity, level, "{name}");
    }
    // Without a name, only the numbers seen in captures are trusted: 2 and 3.
    let mut item = captured_threat();
    item.as_object_mut().unwrap().remove("severityName");
    item["severity"] = json!(3);
    assert_eq!(parse(&item).severity, pb::ThreatLevel::High);
    item["severity"] = json!(1);
    assert_eq!(
        threat(&item, DeviceIdSource::Mdm).unwrap_err().field,
        "severityName"
    );
}

#[test]
fn category_row_maps_the_vector() {
    for (name, number, category) in [
        ("Network", 1, pb::ThreatCategory::Network),
        ("Device", 2, pb::ThreatCategory::Os),
        ("Malware", 3, pb::ThreatCategory::Application),
        ("App", 3, pb::ThreatCategory::Application),
        ("Phishing", 9, pb::ThreatCategory::WebContent),
    ] {
        let mut item = captured_threat();
        item["vectorName"] = json!(name);
        item["vector"] = json!(number);
        assert_eq!(parse(&item).category, category, "{name}");
    }
    // An unknown name falls back to the number; neither known is malformed.
    let mut item = captured_threat();
    item["vectorName"] = json!("Bluetooth");
    item["vector"] = json!(1);
    assert_eq!(parse(&item).category, pb::ThreatCategory::Network);
    item["vector"] = json!(42);
    assert_eq!(
        threat(&item, DeviceIdSource::Mdm).unwrap_err().field,
        "vectorName"
    );
}

#[test]
fn status_row_resolves_state_4_or_a_mitigation_time_with_the_resolved_time() {
    let mut item = captured_threat();
    item["state"] = json!(4);
    item["mitigatedAt"] = json!(1_773_830_476_518_u64);
    item["lastModified"] = json!(1_773_830_476_600_u64);
    let t = parse(&item);
    assert_eq!(t.status, pb::ThreatStatus::Resolved);
    assert_eq!(t.resolved_ms, Some(1_773_830_476_518));
    assert_eq!(t.modified_ms, 1_773_830_476_600);
    // State 4 without mitigatedAt: resolved at lastModified.
    item.as_object_mut().unwrap().remove("mitigatedAt");
    assert_eq!(parse(&item).resolved_ms, Some(1_773_830_476_600));
    // mitigatedAt alone is enough.
    let mut item = captured_threat();
    item["mitigatedAt"] = json!(1_773_830_500_000_u64);
    assert_eq!(parse(&item).status, pb::ThreatStatus::Resolved);
    // Any other state stays open, so an unfamiliar state never hides a threat.
    let mut item = captured_threat();
    item["state"] = json!(2);
    assert_eq!(parse(&item).status, pb::ThreatStatus::Open);
}

#[test]
fn platform_row_reads_device_os_name_then_os() {
    let mut item = captured_threat();
    item["device"]["os"]["name"] = json!("IOS");
    assert_eq!(parse(&item).device.platform, Some(pb::Platform::Ios));
    item["device"]["os"] = Value::Null;
    item["os"] = json!("ios");
    assert_eq!(parse(&item).device.platform, Some(pb::Platform::Ios));
    item["os"] = json!("symbian");
    let err = threat(&item, DeviceIdSource::Mdm).unwrap_err();
    assert_eq!(err.field, "device.os.name");
    assert!(err.reason.contains("symbian"));
}

/// A change to an item.
type Change = Box<dyn Fn(&mut Value)>;

#[test]
fn malformed_threats_name_the_field() {
    let cases: Vec<(&str, Change)> = vec![
        ("id", Box::new(|i| i["id"] = Value::Null)),
        (
            "deviceId",
            Box::new(|i| {
                i["deviceId"] = Value::Null;
                i["device"]["id"] = json!("");
            }),
        ),
        ("timestamp", Box::new(|i| i["timestamp"] = Value::Null)),
        (
            "/timestamp",
            Box::new(|i| i["timestamp"] = json!("yesterday")),
        ),
        ("/lastModified", Box::new(|i| i["lastModified"] = json!(-1))),
        (
            "severityName",
            Box::new(|i| i["severityName"] = json!("APOCALYPTIC")),
        ),
        ("state", Box::new(|i| i["state"] = json!("active"))),
        ("content[]", Box::new(|i| *i = json!([1, 2]))),
    ];
    for (field, change) in cases {
        let mut item = captured_threat();
        change(&mut item);
        assert_eq!(threat(&item, DeviceIdSource::Mdm).unwrap_err().field, field);
    }
}

#[test]
fn captured_device_maps_field_by_field() {
    let d = device(&captured_device(), DeviceIdSource::Mdm).unwrap();
    assert_eq!(d.device_id, "62");
    assert_eq!(d.attributes.platform, Some(pb::Platform::Android));
    assert_eq!(d.attributes.os_version, "7.1.1");
    assert_eq!(d.attributes.model, "ONEPLUS A5000");
    assert_eq!(d.attributes.owner, "user2@email.com");
    assert_eq!(d.attributes.team, "Default");
    assert_eq!(d.last_seen_ms, Some(1_702_393_458_060));
    assert_eq!(
        d.override_state, None,
        "an active, processed device: the threats decide"
    );
    let mut item = captured_device();
    item["mdmDeviceId"] = json!("intune-62");
    assert_eq!(
        device(&item, DeviceIdSource::Mdm).unwrap().device_id,
        "intune-62"
    );
    item["os"] = json!({"name": "ios", "type": "iOS", "version": "18.3"});
    assert_eq!(
        device(&item, DeviceIdSource::Zimperium)
            .unwrap()
            .attributes
            .platform,
        Some(pb::Platform::Ios)
    );
    item["id"] = Value::Null;
    assert_eq!(
        device(&item, DeviceIdSource::Zimperium).unwrap_err().field,
        "id"
    );
}

#[test]
fn health_rows_cover_device_flags_and_the_worst_open_threat() {
    assert_eq!(
        device_health(true, Some("ACTIVE"), true, true),
        Some(pb::HealthState::Deactivated)
    );
    assert_eq!(
        device_health(false, Some("INACTIVE"), true, true),
        Some(pb::HealthState::Unresponsive)
    );
    assert_eq!(
        device_health(false, Some("ACTIVE"), true, true),
        Some(pb::HealthState::Compromised)
    );
    assert_eq!(
        device_health(false, None, false, false),
        Some(pb::HealthState::Activated)
    );
    assert_eq!(device_health(false, Some("ACTIVE"), false, true), None);
    let mut item = captured_device();
    item["appStatus"] = json!("INACTIVE");
    assert_eq!(
        device(&item, DeviceIdSource::Mdm).unwrap().override_state,
        Some(pb::HealthState::Unresponsive)
    );

    let with = |severity: &str, state: u64| {
        let mut item = captured_threat();
        item["severityName"] = json!(severity);
        item["state"] = json!(state);
        parse(&item)
    };
    assert_eq!(threat_health(&[]), pb::HealthState::Secured);
    assert_eq!(
        threat_health(&[with("NORMAL", 1)]),
        pb::HealthState::Secured
    );
    assert_eq!(
        threat_health(&[with("LOW", 1)]),
        pb::HealthState::LowSeverity
    );
    assert_eq!(
        threat_health(&[with("LOW", 1), with("ELEVATED", 1)]),
        pb::HealthState::MediumSeverity
    );
    assert_eq!(
        threat_health(&[with("CRITICAL", 4), with("ELEVATED", 1)]),
        pb::HealthState::MediumSeverity,
        "a mitigated threat does not count"
    );
    assert_eq!(
        threat_health(&[with("CRITICAL", 1)]),
        pb::HealthState::HighSeverity
    );
}
