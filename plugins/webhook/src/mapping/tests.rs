//! Unit tests of the field mapping: selectors, value maps, time formats, health derivation and the
//! field named in each error.

use serde_json::json;

use super::*;

fn mapping(fields: Value, values: Value) -> Mapping {
    Mapping::parse(&fields, Some(&values)).unwrap()
}

/// A typical vendor mapping, the one the README shows.
fn vendor() -> Mapping {
    mapping(
        json!({
            "events": "events",
            "device_id": "device.id",
            "platform": "device.os",
            "os_version": "device.os_version",
            "model": "/device/model",
            "owner": "device.owner",
            "groups": "device.groups",
            "level": "risk",
            "threats": "threats",
            "threat": {
                "id": "id",
                "category": "type",
                "classification": "name",
                "severity": "severity",
                "status": "state",
                "detected_at": "detected",
                "resolved_at": "resolved",
                "description": "summary"
            },
            "observed_at": "time",
            "event_id": "event_id"
        }),
        json!({
            "platform": {"ANDROID": "android", "IPHONE": "ios"},
            "level": {"NONE": "secured", "CRITICAL": "high", "ELEVATED": "medium"},
            "category": {"APP": "application", "WIFI": "network"},
            "severity": {"CRITICAL": "high", "INFO": "low"},
            "status": {"ACTIVE": "open", "FIXED": "resolved", "DISMISSED": "ignored"}
        }),
    )
}

fn ctx() -> EventContext {
    EventContext {
        received_at: UNIX_EPOCH + Duration::from_secs(1_750_000_000),
        fallback_event_id: "fallback-0".to_owned(),
    }
}

fn event() -> Value {
    json!({
        "event_id": "e-1",
        "time": "2025-06-20T19:23:18.500+02:00",
        "device": {"id": "d-1", "os": "ANDROID", "os_version": "14", "model": "Pixel 8",
                   "owner": "u@corp.com", "groups": ["sales", "emea"]},
        "risk": "CRITICAL",
        "threats": [
            {"id": "t-1", "type": "APP", "name": "TROJAN", "severity": "CRITICAL", "state": "ACTIVE",
             "detected": 1_750_440_000_000_u64, "summary": "a trojan"},
            {"id": 42, "type": "WIFI", "severity": "medium", "state": "FIXED",
             "detected": "1750440000", "resolved": "2025-06-20T18:00:00Z"}
        ]
    })
}

#[test]
fn every_field_of_a_vendor_event_is_mapped() {
    let report = vendor().report(&event(), &ctx()).unwrap();
    assert_eq!(report.device_id, "d-1");
    assert_eq!(report.platform, pb::Platform::Android as i32);
    assert_eq!(report.os_version, "14");
    assert_eq!(report.model, "Pixel 8");
    assert_eq!(report.owner_user_id, "u@corp.com");
    assert_eq!(report.groups, ["sales", "emea"]);
    assert_eq!(report.health_state, pb::HealthState::HighSeverity as i32);
    assert_eq!(report.vendor_event_id, "e-1");
    // 19:23:18.5 at +02:00 is 17:23:18.5 UTC.
    assert_eq!(
        report.observed_at,
        Some(prost_types::Timestamp {
            seconds: 1_750_440_198,
            nanos: 500_000_000
        })
    );
    let [first, second] = &report.threats[..] else {
        panic!("two threats expected: {:?}", report.threats)
    };
    assert_eq!(first.vendor_threat_id, "t-1");
    assert_eq!(first.category, pb::ThreatCategory::Application as i32);
    assert_eq!(first.classification, "TROJAN");
    assert_eq!(first.severity, pb::ThreatLevel::High as i32);
    assert_eq!(first.status, pb::ThreatStatus::Open as i32);
    assert_eq!(first.detected_at.unwrap().seconds, 1_750_440_000);
    assert_eq!(first.resolved_at, None);
    assert_eq!(first.description, "a trojan");
    // Numbers become text ids; riskgate's own names work without a map entry.
    assert_eq!(second.vendor_threat_id, "42");
    assert_eq!(second.category, pb::ThreatCategory::Network as i32);
    assert_eq!(second.severity, pb::ThreatLevel::Medium as i32);
    assert_eq!(second.status, pb::ThreatStatus::Resolved as i32);
    assert_eq!(second.detected_at.unwrap().seconds, 1_750_440_000);
    assert_eq!(second.resolved_at.unwrap().seconds, 1_750_442_400);
}

#[test]
fn the_events_selector_picks_the_array_and_a_bare_object_is_one_event() {
    let body = json!({"events": [event(), event()]});
    assert_eq!(vendor().events(&body).unwrap().len(), 2);
    let missing = vendor().events(&json!({"items": []})).unwrap_err();
    assert_eq!(missing.field, "/events");
    let bare = mapping(
        json!({"device_id": "id", "platform": "=ios", "level": "risk"}),
        json!({}),
    );
    assert_eq!(bare.events(&json!({"id": "x"})).unwrap().len(), 1);
    assert_eq!(
        bare.events(&json!([{"id": "x"}, {"id": "y"}]))
            .unwrap()
            .len(),
        2
    );
    assert!(bare.events(&json!("text")).is_err());
}

#[test]
fn health_comes_from_the_state_then_the_level_then_the_worst_open_threat() {
    let fields = json!({
        "device_id": "id", "platform": "=android",
        "health_state": "state", "level": "level",
        "threats": "threats",
        "threat": {"id": "id", "category": "=application", "severity": "sev", "status": "status"}
    });
    let m = mapping(fields, json!({"health_state": {"AT_RISK": "compromised"}}));
    let health = |event: Value| m.report(&event, &ctx()).map(|r| r.health_state);
    assert_eq!(
        health(json!({"id": "d", "state": "AT_RISK", "level": "low"})),
        Ok(pb::HealthState::Compromised as i32)
    );
    assert_eq!(
        health(json!({"id": "d", "state": "misconfigured"})),
        Ok(pb::HealthState::Misconfigured as i32)
    );
    assert_eq!(
        health(json!({"id": "d", "level": "THREAT_LEVEL_MEDIUM"})),
        Ok(pb::HealthState::MediumSeverity as i32)
    );
    // No state or level: the worst open threat; resolved and ignored ones do not count.
    assert_eq!(
        health(json!({"id": "d", "threats": [
            {"id": "a", "sev": "high", "status": "resolved"},
            {"id": "b", "sev": "low"},
            {"id": "c", "sev": "medium", "status": "open"},
            {"id": "e", "sev": "high", "status": "ignored"}
        ]})),
        Ok(pb::HealthState::MediumSeverity as i32)
    );
    assert_eq!(
        health(json!({"id": "d"})),
        Ok(pb::HealthState::Secured as i32)
    );
    // Each of the ten Intune states is reachable by its name.
    for (name, state) in [
        ("unknown", pb::HealthState::Unknown),
        ("activated", pb::HealthState::Activated),
        ("deactivated", pb::HealthState::Deactivated),
        ("secured", pb::HealthState::Secured),
        ("lowSeverity", pb::HealthState::LowSeverity),
        ("medium_severity", pb::HealthState::MediumSeverity),
        ("HIGH_SEVERITY", pb::HealthState::HighSeverity),
        ("unresponsive", pb::HealthState::Unresponsive),
        ("HEALTH_STATE_COMPROMISED", pb::HealthState::Compromised),
        ("misconfigured", pb::HealthState::Misconfigured),
    ] {
        assert_eq!(
            health(json!({"id": "d", "state": name})),
            Ok(state as i32),
            "{name}"
        );
    }
}

#[test]
fn value_maps_match_exactly_then_case_insensitively_then_riskgate_names() {
    let m = vendor();
    let mut e = event();
    e["device"]["os"] = json!("iphone");
    e["risk"] = json!("elevated");
    let report = m.report(&e, &ctx()).unwrap();
    assert_eq!(report.platform, pb::Platform::Ios as i32);
    assert_eq!(report.health_state, pb::HealthState::MediumSeverity as i32);
    e["device"]["os"] = json!("macOS");
    assert_eq!(
        m.report(&e, &ctx()).unwrap().platform,
        pb::Platform::Macos as i32
    );
}

/// A change to an event.
type Change = Box<dyn Fn(&mut Value)>;

#[test]
fn each_malformed_event_names_the_field() {
    let m = vendor();
    let cases: Vec<(Change, &str, &str)> = vec![
        (
            Box::new(|e| e["device"]["id"] = Value::Null),
            "/device/id",
            "missing",
        ),
        (
            Box::new(|e| e["device"]["id"] = json!("")),
            "/device/id",
            "must be a non-empty",
        ),
        (
            Box::new(|e| e["device"]["os"] = json!("BLACKBERRY")),
            "/device/os",
            "unmapped value \"BLACKBERRY\"",
        ),
        (
            Box::new(|e| e["risk"] = json!("PURPLE")),
            "/risk",
            "unmapped value",
        ),
        (
            Box::new(|e| e["time"] = json!("yesterday")),
            "/time",
            "not an RFC 3339 time",
        ),
        (Box::new(|e| e["time"] = Value::Null), "/time", "missing"),
        (
            Box::new(|e| e["threats"] = json!({"id": 1})),
            "/threats",
            "must be an array",
        ),
        (
            Box::new(|e| e["threats"][0]["severity"] = json!("SEVERE")),
            "threats[0]/severity",
            "unmapped value",
        ),
        (
            Box::new(|e| e["threats"][1]["id"] = Value::Null),
            "threats[1]/id",
            "missing",
        ),
        (
            Box::new(|e| e["threats"][0]["state"] = json!("MAYBE")),
            "threats[0]/state",
            "unmapped value",
        ),
        (
            Box::new(|e| e["threats"][0]["detected"] = json!(true)),
            "threats[0]/detected",
            "is not a time",
        ),
        (
            Box::new(|e| e["device"]["groups"] = json!([""])),
            "/device/groups",
            "non-empty strings",
        ),
        (
            Box::new(|e| e["device"]["model"] = json!({"a": 1})),
            "/device/model",
            "must be a string",
        ),
        (
            Box::new(|e| *e = json!(["not", "an", "object"])),
            "event",
            "must be a JSON object",
        ),
    ];
    for (change, field, reason) in cases {
        let mut e = event();
        change(&mut e);
        let err = m.report(&e, &ctx()).unwrap_err();
        assert_eq!(err.field, field, "{err}");
        assert!(err.reason.contains(reason), "{field}: {err}");
    }
}

#[test]
fn defaults_fill_in_what_the_event_lacks() {
    let m = mapping(
        json!({"device_id": "id", "platform": "=windows", "threats": "t",
               "threat": {"id": "id", "category": "=os", "severity": "sev", "detected_at": "at"}}),
        json!({}),
    );
    let report = m
        .report(
            &json!({"id": "d", "t": [{"id": "x", "sev": "low"}]}),
            &ctx(),
        )
        .unwrap();
    // Receipt time for the observation and the detection, the fallback id, status open.
    assert_eq!(report.observed_at.unwrap().seconds, 1_750_000_000);
    assert_eq!(report.vendor_event_id, "fallback-0");
    assert_eq!(report.platform, pb::Platform::Windows as i32);
    assert_eq!(
        report.threats[0].detected_at.unwrap().seconds,
        1_750_000_000
    );
    assert_eq!(report.threats[0].status, pb::ThreatStatus::Open as i32);
    assert_eq!(report.threats[0].category, pb::ThreatCategory::Os as i32);
    assert_eq!(report.health_state, pb::HealthState::LowSeverity as i32);
}

#[test]
fn times_parse_from_rfc3339_with_offsets_and_unix_seconds_or_milliseconds() {
    let secs = |value: Value| {
        parse_time(&value).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64())
    };
    assert_eq!(secs(json!("2025-02-24T09:59:04Z")), Ok(1_740_391_144.0));
    assert_eq!(
        secs(json!("2025-02-24T09:59:04.734+00:00")),
        Ok(1_740_391_144.734)
    );
    assert_eq!(
        secs(json!("2025-02-24T10:59:04-01:00")),
        Ok(1_740_398_344.0)
    );
    assert_eq!(secs(json!("2025-02-24 09:59:04")), Ok(1_740_391_144.0));
    assert_eq!(secs(json!(1_740_391_144)), Ok(1_740_391_144.0));
    assert_eq!(secs(json!(1_740_391_144_500_u64)), Ok(1_740_391_144.5));
    assert_eq!(secs(json!("1740391144")), Ok(1_740_391_144.0));
    assert!(secs(json!("1969-12-31T23:59:59Z")).is_err());
    assert!(secs(json!(-5)).is_err());
    assert!(secs(json!("24/02/2025")).is_err());
}

#[test]
fn selectors_parse_pointers_dotted_paths_and_literals() {
    assert_eq!(
        Selector::parse("k", "a.b~c/d.0").unwrap(),
        Selector::Pointer("/a/b~0c~1d/0".to_owned())
    );
    assert_eq!(
        Selector::parse("k", "/x/y").unwrap(),
        Selector::Pointer("/x/y".to_owned())
    );
    assert_eq!(
        Selector::parse("k", "=android").unwrap(),
        Selector::Literal(json!("android"))
    );
    assert_eq!(
        Selector::parse("k", "a..b").unwrap_err().0,
        "k: empty segment in dotted path \"a..b\""
    );
    let doc = json!({"a": {"b~c/d": [{"x": null}, 7]}});
    assert_eq!(
        Selector::parse("k", "a.b~c/d.1").unwrap().get(&doc),
        Some(&json!(7))
    );
    assert_eq!(Selector::parse("k", "a.b~c/d.0.x").unwrap().get(&doc), None);
}

#[test]
fn the_mapping_configuration_is_checked() {
    let err = |fields: Value| Mapping::parse(&fields, None).unwrap_err().0;
    assert_eq!(
        err(json!({"device_id": "id", "platform": "p"})),
        "mapping: one of health_state, level or threats is required to know the device's health"
    );
    assert_eq!(
        err(json!({"device_id": "id", "platform": "p", "threats": "t"})),
        "mapping.threats and mapping.threat: give both or neither"
    );
    assert_eq!(
        err(json!({"device_id": "id", "platform": "p", "level": 3})),
        "mapping.level: must be a string (JSON pointer, dotted path or =literal)"
    );
    assert_eq!(
        err(json!({"device_id": "id", "platform": "p", "threats": "t",
                   "threat": {"id": "id", "severity": "s"}})),
        "mapping.threat.category: required"
    );
    assert_eq!(
        err(json!({"device_id": "id", "platform": "p", "level": "l", "colour": "c"})),
        "mapping.colour: unknown key"
    );
}
