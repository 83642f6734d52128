//! Writes the seed corpora into `fuzz/corpus/<target>/` (run once; the files are committed):
//!
//! ```sh
//! cargo run -p riskgate-fuzz-targets --example write_seeds
//! ```
//!
//! Seeds are small, real-looking inputs: the wire samples of the vendors' published formats
//! (Lookout events and REST items, Zimperium threats and devices) and the shapes the vendor simulator serves (including its malformed and
//! unknown-field faults), the webhook README's push, encoded `ReportBatch` protos valid and invalid,
//! and cursors valid and tampered. Signed seeds use the fixed keys of `riskgate_fuzz_targets::fixtures`.
//! Existing files of the same name are overwritten; others (minimized fuzzer finds) are kept.

use std::path::{Path, PathBuf};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use prost::Message as _;
use riskgate_fuzz_targets::fixtures;
use riskgate_proto::v1 as pb;
use riskgate_store::cursor::CursorCodec;

/// The known Lookout device (see `fixtures::LOOKOUT_KNOWN_DEVICE`).
const GUID: &str = "f1557f3b-0000-4000-8000-000000000001";

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(target);
    std::fs::create_dir_all(&dir).expect("create the corpus directory");
    dir
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    std::fs::write(corpus(target).join(name), bytes).expect("write a seed");
}

fn main() {
    lookout_event();
    lookout_device();
    zimperium_threat();
    ingest_validation();
    stream_cursor();
    webhook_payload();
}

fn lookout_event() {
    let t = "lookout_event";
    let device_event = format!(
        r#"{{"events":[{{"id":"706776f8-0000-4000-8000-000000000001","enterprise_guid":"ba452537-0000-4000-8000-000000000001","created_time":"2025-02-24T09:59:04.734+00:00","type":"DEVICE","change_type":"UPDATED","device":{{"guid":"{GUID}","platform":"ANDROID","profile_type":"WORK","info":{{"external_id":"33184684-0000-4000-8000-000000000001","mdm_connector_id":"432293","email":"user@corp.com"}},"status":{{"security_status":"THREATS_HIGH","activation_status":"ACTIVATED","protection_status":"PROTECTED"}},"hardware":{{"manufacturer":"samsung","model":"sm-a346b"}},"software":{{"os_version":"14","sdk_version":"34","security_patch_level":"2025-02-01"}},"client":{{"ota_version":"1739993983036","package_name":"com.lookout.enterprise","package_version":"9.1.1.1517"}},"parent_status":{{}}}},"target":{{"guid":"{GUID}","type":"DEVICE"}},"actor":{{"guid":"{GUID}","type":"DEVICE"}}}}]}}"#
    );
    write(t, "device-updated.json", device_event.as_bytes());
    let threat = |id: &str, change: &str, time: &str, body: &str| {
        format!(
            r#"{{"id":"{id}","enterprise_guid":"703d284e-0000-4000-8000-000000000001","created_time":"{time}","type":"THREAT","change_type":"{change}","threat":{body},"target":{{"guid":"{GUID}","type":"THREAT"}},"actor":{{"guid":"{GUID}","type":"DEVICE"}}}}"#
        )
    };
    let app = threat(
        "f3511385-0000-4000-8000-000000000001",
        "CREATED",
        "2025-02-20T09:55:18.817+00:00",
        r#"{"guid":"a8da3393-0000-4000-8000-000000000001","status":"OPEN","severity":"LOW","type":"APPLICATION","classifications":["RISKWARE"],"details":{"application_name":"Start","package_name":"com.doa.start","package_sha":"ae2a0185","path":"package://com.doa.start","file_name":"com.doa.start"}}"#,
    );
    write(
        t,
        "threat-created-application.json",
        format!(r#"{{"events":[{app}]}}"#).as_bytes(),
    );
    let web = threat(
        "f3511385-0000-4000-8000-000000000002",
        "CREATED",
        "2025-02-20T10:00:00.000+00:00",
        r#"{"guid":"a8da3393-0000-4000-8000-000000000002","status":"OPEN","severity":"HIGH","type":"WEB_CONTENT","classifications":["MALICIOUS_CONTENT"],"details":{"url":"malicousdomain.com","reason":"MALICIOUS","response":"BLOCKED","reputation":0.1}}"#,
    );
    let network_open = threat(
        "f3511385-0000-4000-8000-000000000003",
        "CREATED",
        "2025-02-20T10:01:00Z",
        r#"{"guid":"a8da3393-0000-4000-8000-000000000003","status":"OPEN","severity":"MEDIUM","type":"NETWORK","classifications":["PORT_SCAN"],"details":{}}"#,
    );
    let network_resolved = threat(
        "f3511385-0000-4000-8000-000000000004",
        "UPDATED",
        "2025-02-20T11:01:00.5-02:00",
        r#"{"guid":"a8da3393-0000-4000-8000-000000000003","status":"RESOLVED","severity":"MEDIUM","type":"NETWORK","classifications":["PORT_SCAN"],"assessments":[{"classification":"PORT_SCAN"}],"details":{}}"#,
    );
    let config = threat(
        "f3511385-0000-4000-8000-000000000005",
        "CREATED",
        "2025-02-21T08:00:00.000+00:00",
        r#"{"guid":"a8da3393-0000-4000-8000-000000000005","status":"OPEN","severity":"ADVISORY","type":"CONFIGURATION","classifications":["OUT_OF_DATE_ASPL"],"details":{"minimum_os_version":"2025-01-05","version_type":"ASPL"}}"#,
    );
    let file = threat(
        "f3511385-0000-4000-8000-000000000006",
        "CREATED",
        "2025-02-21T08:01:00.000+00:00",
        r#"{"guid":"a8da3393-0000-4000-8000-000000000006","status":"OPEN","severity":"HIGH","type":"FILE","classifications":["VULNERABILITY","ROOT_JAILBREAK"],"details":{"path":"file:///sdcard/Download/x.apk","file_name":"x.apk"}}"#,
    );
    write(
        t,
        "threats-every-type.json",
        format!(r#"{{"events":[{web},{network_open},{network_resolved},{config},{file}]}}"#)
            .as_bytes(),
    );
    let new_ios = r#"{"id":"0190ec04-0000-7000-8000-000000000001","enterprise_guid":"82648f9f-0000-4000-8000-000000000001","created_time":"2025-05-05T08:17:59.345+00:00","type":"DEVICE","change_type":"CREATED","device":{"guid":"b2c3d4e5-0000-4000-8000-000000000002","platform":"IOS","profile_type":"WORK","status":{"security_status":"SECURE","activation_status":"ACTIVATED","protection_status":"PROTECTED"},"hardware":{"manufacturer":"apple","model":"iPad13,4"},"software":{"os_version":"18.3.1"},"parent_status":{}},"target":{"guid":"b2c3d4e5-0000-4000-8000-000000000002","type":"DEVICE"},"actor":{"guid":"b2c3d4e5-0000-4000-8000-000000000002","type":"DEVICE"}}"#;
    let audit = r#"{"id":"01969f85-f6d8-73bd-bcbc-a38948f21386","enterprise_guid":"82648f9f-0000-4000-8000-000000000001","created_time":"2025-05-05T08:17:59.345+00:00","type":"AUDIT","change_type":"CREATED","actor":{"guid":"cdbf17c9-0000-4000-8000-000000000001","type":"ADMIN"},"audit":{"type":"ENTERPRISE","attribute_changes":[{"name":"ent_application_key"},{"name":"key_guid","to":"7323f657-0000-4000-8000-000000000001"},{"name":"key_name","to":"Integration test"}]},"target":{"guid":"82648f9f-0000-4000-8000-000000000001","type":"ENTERPRISE"}}"#;
    let smishing = r#"{"id":"f7fbe152-0000-4000-8000-000000000001","enterprise_guid":"703d284e-0000-4000-8000-000000000001","created_time":"2025-02-20T10:32:11.643+00:00","type":"SMISHING_ALERT","change_type":"CREATED","target":{"guid":"2b4b2c10-0000-4000-8000-000000000001","type":"SMISHING_ALERT"},"actor":{"guid":"2b4b2c10-0000-4000-8000-000000000001","type":"DEVICE"},"smishing_alert":{"guid":"ab2bd1d7-0000-4000-8000-000000000001","detections":[{"category":"EMBEDDED_PHISHING_URL","alert_type":"URL_DETECTION","original_url":"https://bit.ly/3Bl9YE7"}]}}"#;
    let unknown_no_platform = r#"{"id":"0190ec04-0000-7000-8000-000000000002","created_time":"2025-05-05T08:18:00.000+00:00","type":"DEVICE","change_type":"UPDATED","device":{"guid":"c0ffee00-0000-4000-8000-000000000003","status":{"security_status":"THREATS_LOW"}}}"#;
    let deleted = format!(
        r#"{{"id":"0190ec04-0000-7000-8000-000000000003","created_time":"2025-05-06T00:00:00.000+00:00","type":"DEVICE","change_type":"DELETED","device":{{"guid":"{GUID}"}},"actor":{{"type":"SYSTEM"}}}}"#
    );
    write(
        t,
        "mixed-batch.json",
        format!(r#"{{"events":[{new_ios},{audit},{smishing},{unknown_no_platform},{deleted}]}}"#)
            .as_bytes(),
    );
    // The simulator's `malformed` and `malformed_json` faults (services/vendor-sim/src/world.rs).
    write(
        t,
        "sim-malformed.json",
        br#"{"events":[{"id":"0190ec04-0000-7000-8000-00000000000f","enterprise_guid":"ba452537-0000-4000-8000-000000000001","created_time":"not a time","type":"THREAT","change_type":"CREATED","threat":{"guid":42,"status":["OPEN"],"severity":"EXTREME","type":null},"actor":{"guid":null,"type":"DEVICE"},"target":"nowhere"}]}"#,
    );
    write(t, "sim-malformed-json.txt", br#"{"events":[{"id":"broken"#);
    write(t, "heartbeat.json", b"{}");
}

fn lookout_device() {
    let t = "lookout_device";
    let device = |guid: &str, oid: u32, platform: &str, security: &str, model: &str| {
        format!(
            r#"{{"guid":"{guid}","oid":"{oid}","email":"user{oid}@corp.com","platform":"{platform}","profile_type":"WORK","activation_status":"ACTIVATED","protection_status":"PROTECTED","security_status":"{security}","checkin_time":"2025-06-20T19:23:18.000+00:00","hardware":{{"manufacturer":"apple","model":"{model}"}},"software":{{"os_version":"18.3.1","security_patch_level":"2025-06-01"}},"details":{{"external_id":"mdm-{oid}","mdm_connector_id":12345}}}}"#
        )
    };
    let page = format!(
        r#"{{"count":3,"devices":[{},{},{}]}}"#,
        device(
            "550e8400-0000-4000-8000-000000000001",
            1234,
            "IOS",
            "THREATS_HIGH",
            "iphone17,2"
        ),
        device(GUID, 1235, "ANDROID", "SECURE", "sm-a346b"),
        device(
            "550e8400-0000-4000-8000-000000000003",
            1236,
            "IOS",
            "THREAT_MEDIUM",
            "ipad13,4"
        ),
    );
    write(t, "devices-page.json", page.as_bytes());
    write(
        t,
        "device-single.json",
        device(
            "550e8400-0000-4000-8000-000000000004",
            7,
            "ANDROID",
            "THREATS_LOW",
            "pixel 8",
        )
        .as_bytes(),
    );
    write(
        t,
        "device-disconnected.json",
        br#"{"guid":"550e8400-0000-4000-8000-000000000005","oid":"8","platform":"ANDROID","activation_status":"ACTIVATED","protection_status":"DISCONNECTED","checkin_time":"2025-06-20T19:23:18Z"}"#,
    );
    let threats = format!(
        r#"{{"count":2,"threats":[{{"guid":"7d6f0000-0000-4000-8000-000000000001","oid":"51","device_guid":"{GUID}","device":{{"guid":"{GUID}","email":"user@corp.com"}},"classification":"RISKWARE","classifications":["RISKWARE"],"risk":"HIGH","status":"OPEN","threat_type":"APPLICATION","details":{{"application_name":"Start","package_name":"com.doa.start"}},"created_time":"2025-06-20T18:00:00.000+00:00","detected_at":"2025-06-20T18:00:00.000+00:00","updated_time":"2025-06-20T18:00:00.000+00:00"}},{{"guid":"7d6f0000-0000-4000-8000-000000000002","oid":"52","device":{{"guid":"{GUID}"}},"classification":"PORT_SCAN","risk":"MEDIUM","status":"RESOLVED","threat_type":"NETWORK","details":{{}},"detected_at":"2025-06-19T08:00:00.000+00:00","updated_time":"2025-06-19T09:00:00.000+00:00","resolved_time":"2025-06-19T09:00:00.000+00:00"}}]}}"#
    );
    write(t, "threats-page.json", threats.as_bytes());
    write(
        t,
        "threat-unknown-device.json",
        br#"{"threats":[{"guid":"7d6f0000-0000-4000-8000-000000000003","device_guid":"nobody","risk":"LOW","status":"OPEN","threat_type":"OS","created_time":"2025-06-20T18:00:00Z"}]}"#,
    );
    write(
        t,
        "device-wrong-types.json",
        br#"{"devices":[{"guid":17,"platform":"IOS"},{"guid":"x","platform":["IOS"]},{"guid":"y"}]}"#,
    );
}

fn zimperium_threat() {
    let t = "zimperium_threat";
    let threat = |id: &str, severity: u32, severity_name: &str, state: u32, extra: &str| {
        format!(
            r#"{{"id":"{id}","accountId":"2222aaaa-0000-4000-8000-000000000002","teamId":"3333aaaa-0000-4000-8000-000000000003","teamName":"Default","zappInstanceId":"4444aaaa-0000-4000-8000-000000000004","deviceId":"5555aaaa-0000-4000-8000-000000000005","device":{{"id":"5555aaaa-0000-4000-8000-000000000005","mdmDeviceId":"mdm-0001","mamDeviceId":"","model":"Pixel 8","os":{{"id":1,"name":"ANDROID","version":"16"}},"zdeviceId":"6666aaaa-0000-4000-8000-000000000006"}},"os":"android","zappId":"7777aaaa-0000-4000-8000-000000000007","groupId":"8888aaaa-0000-4000-8000-000000000008","timestamp":1773830431000,"timestampInfo":{{"timestamp":1773830431000,"toTheSecond":1773830431000}},"eventReceivedTimestamp":1773830433130,"eventProcessedTimestamp":1773830433143,"timeTravel":"NONE","threatTypeId":172,"threatTypeName":"ACTIVE EXPLOIT OS ANDROID","severity":{severity},"severityName":"{severity_name}","vector":2,"vectorName":"Device","categoryId":64,"classification":2,"classificationName":"RISKY","state":{state},"responses":[],"mitigationEvents":[],"simulated":false,"lastModified":1773830431000,"detectionFiles":[],"activationName":"john.doe@company.com","agentType":2,"deviceOwner":"john.doe@company.com","zeventId":"aaaa0000-0000-4000-8000-00000000000a"{extra}}}"#
        )
    };
    let page = format!(
        r#"{{"content":[{},{}],"pageable":{{"pageNumber":0,"pageSize":20,"offset":0,"unpaged":false,"paged":true}},"totalPages":1,"totalElements":2,"last":true,"numberOfElements":2,"first":true,"number":0,"size":20,"empty":false}}"#,
        threat("1111aaaa-0000-4000-8000-000000000001", 2, "ELEVATED", 1, ""),
        threat(
            "1111aaaa-0000-4000-8000-000000000002",
            3,
            "CRITICAL",
            4,
            r#","mitigatedAt":1773830476518,"mitigatedReason":"""#
        ),
    );
    write(t, "threats-page.json", page.as_bytes());
    write(
        t,
        "threat-mitigated-later.json",
        threat(
            "1111aaaa-0000-4000-8000-000000000003",
            3,
            "CRITICAL",
            4,
            r#","lastModified":1773830999000"#,
        )
        .as_bytes(),
    );
    // Numeric severity and vector only, iOS from the top-level `os`, and the simulator's unknown fields.
    write(
        t,
        "threat-numeric-only.json",
        br#"{"content":[{"id":77,"deviceId":"5555aaaa-0000-4000-8000-000000000009","os":"ios","severity":3,"vector":1,"timestamp":1773830431000,"state":1,"futureField":{"a":1},"anotherNewField":[true]}]}"#,
    );
    // The simulator's `malformed` fault (services/vendor-sim/src/world.rs).
    write(
        t,
        "sim-malformed.json",
        br#"{"content":[{"id":"bad0","timestamp":"yesterday","severityName":7,"state":"open","deviceId":null,"device":"gone"}],"last":true}"#,
    );
    // A devices page (Zimperium `GET /api/devices/public/v2/devices/start-scroll`): the device parser runs on every item too.
    write(
        t,
        "devices-scroll.json",
        br#"{"totalHits":1,"totalHitsRelation":"EQUAL_TO","maxScore":"NaN","scrollId":"qZw==","searchHits":[],"aggregations":null,"content":[{"id":"62","groupId":"3","riskPosture":3,"riskPostureName":"CRITICAL","accountId":"2","teamId":"3","teamName":"Default","created":1702393155483,"lastSeen":1702393458060,"os":{"id":1,"name":"android","type":"Android","version":"7.1.1","patchDate":"2017-09-01"},"deviceOwner":{"email":"user2@email.com"},"fullType":"OnePlus5","model":"ONEPLUS A5000","isJailbroken":true,"lockScreenUnprotected":true,"deleted":false,"activationName":"user2@email.com","agentType":2,"processed":true,"appStatus":"ACTIVE","zdeviceId":"5"}],"empty":true}"#,
    );
}

fn timestamp(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

fn ingest_validation() {
    let t = "ingest_validation";
    let threat = |id: &str, severity: pb::ThreatLevel, resolved: Option<i64>| pb::Threat {
        vendor_threat_id: id.to_owned(),
        category: pb::ThreatCategory::Application as i32,
        classification: "RISKWARE".to_owned(),
        severity: severity as i32,
        status: if resolved.is_some() {
            pb::ThreatStatus::Resolved as i32
        } else {
            pb::ThreatStatus::Open as i32
        },
        detected_at: timestamp(1_750_000_000),
        resolved_at: resolved.and_then(timestamp),
        description: "APPLICATION RISKWARE: com.doa.start".to_owned(),
    };
    let report = |device: &str, platform: pb::Platform, health: pb::HealthState| pb::DeviceReport {
        device_id: device.to_owned(),
        platform: platform as i32,
        os_version: "14".to_owned(),
        model: "sm-a346b".to_owned(),
        owner_user_id: "user@corp.com".to_owned(),
        groups: vec!["sales".to_owned()],
        health_state: health as i32,
        threats: vec![threat("a8da3393-1", pb::ThreatLevel::High, None)],
        observed_at: timestamp(1_750_000_100),
        vendor_event_id: format!("evt-{device}"),
    };
    let batch = |seq: u64, reports: Vec<pb::DeviceReport>| pb::ReportBatch {
        connector_id: "lookout-prod".to_owned(),
        batch_seq: seq,
        checkpoint: br#"{"v":1,"last_id":"0190ec04-a5f0-731e-bb68-a9b89d37669f"}"#.to_vec(),
        reports,
    };
    let good = batch(
        1,
        vec![report(
            "33184684-0001",
            pb::Platform::Android,
            pb::HealthState::HighSeverity,
        )],
    );
    write(t, "valid-one-report.pb", &good.encode_to_vec());
    write(
        t,
        "valid-checkpoint-only.pb",
        &batch(7, Vec::new()).encode_to_vec(),
    );
    let mut many = batch(
        2,
        vec![
            report(
                "33184684-0001",
                pb::Platform::Android,
                pb::HealthState::HighSeverity,
            ),
            report("ipad-0002", pb::Platform::Ipados, pb::HealthState::Secured),
            report(
                "mac-0003",
                pb::Platform::Macos,
                pb::HealthState::Compromised,
            ),
        ],
    );
    many.reports[1].threats = vec![
        threat("t-low", pb::ThreatLevel::Low, Some(1_750_000_050)),
        threat("t-medium", pb::ThreatLevel::Medium, None),
    ];
    many.reports[2].threats.clear();
    many.reports[2].groups.clear();
    write(t, "valid-three-reports.pb", &many.encode_to_vec());
    let invalid = |name: &str, change: fn(&mut pb::ReportBatch)| {
        let mut bad = good.clone();
        change(&mut bad);
        write(t, name, &bad.encode_to_vec());
    };
    invalid("invalid-batch-seq-zero.pb", |b| b.batch_seq = 0);
    invalid("invalid-connector-id.pb", |b| {
        b.connector_id = "lookout prod!".to_owned()
    });
    invalid("invalid-resolved-before-detected.pb", |b| {
        b.reports[0].threats[0].resolved_at = timestamp(1_600_000_000);
    });
    invalid("invalid-future-observed.pb", |b| {
        b.reports[0].observed_at = timestamp(4_000_000_000);
    });
    invalid("invalid-unknown-enum.pb", |b| {
        b.reports[0].health_state = 99
    });
    invalid("invalid-control-character.pb", |b| {
        b.reports[0].model = "sm-a346b\u{7}".to_owned();
    });
    invalid("invalid-bad-nanos.pb", |b| {
        b.reports[0].observed_at = Some(prost_types::Timestamp {
            seconds: 1_750_000_000,
            nanos: -1,
        });
    });
    let mut truncated = good.encode_to_vec();
    truncated.truncate(truncated.len() / 2);
    write(t, "truncated.pb", &truncated);
}

fn stream_cursor() {
    let t = "stream_cursor";
    let codec = CursorCodec::new(fixtures::CURSOR_EPOCH, fixtures::CURSOR_KEY);
    for position in [0u64, 1, 42, 1_000_000, u64::MAX] {
        write(
            t,
            &format!("valid-{position}.txt"),
            codec.encode(position).as_bytes(),
        );
    }
    let cursor = codec.encode(42);
    let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).expect("our own cursor");
    bytes[24] ^= 1;
    write(
        t,
        "tampered-position.txt",
        URL_SAFE_NO_PAD.encode(&bytes).as_bytes(),
    );
    bytes[24] ^= 1;
    bytes[0] = 2;
    write(
        t,
        "tampered-version.txt",
        URL_SAFE_NO_PAD.encode(&bytes).as_bytes(),
    );
    let other_store = CursorCodec::new(fixtures::CURSOR_EPOCH ^ 0xff, fixtures::CURSOR_KEY);
    write(t, "other-store.txt", other_store.encode(42).as_bytes());
    let other_key = CursorCodec::new(fixtures::CURSOR_EPOCH, [7; 32]);
    write(t, "forged-key.txt", other_key.encode(42).as_bytes());
    write(t, "truncated.txt", &cursor.as_bytes()[..cursor.len() - 4]);
    write(t, "padded.txt", format!("{cursor}=").as_bytes());
    write(t, "not-base64.txt", b"not a cursor!");
}

fn webhook_payload() {
    let t = "webhook_payload";
    let now = i64::try_from(fixtures::NOW_SECS).expect("fits");
    let signed = |at: i64, body: &str| {
        let signature = riskgate_webhook::signature::sign(
            fixtures::WEBHOOK_SECRET.as_bytes(),
            at,
            body.as_bytes(),
        );
        format!("{at}\n{signature}\n{body}")
    };
    let readme = r#"{"events": [{"event_id": "e-1", "time": "2025-06-20T19:23:18Z",
  "device": {"id": "d-1", "os": "ANDROID", "os_version": "14", "model": "Pixel 8", "owner": "u@corp", "groups": ["sales"]},
  "risk": "CRITICAL",
  "threats": [{"id": "t-1", "type": "APP", "name": "TROJAN", "severity": "CRITICAL", "state": "ACTIVE", "detected": 1750440000000}]}]}"#;
    write(t, "readme-push.txt", signed(now, readme).as_bytes());
    let derived = r#"{"events": [
  {"time": 1750440000, "device": {"id": 4711, "os": "IPHONE", "groups": "field"},
   "threats": [{"id": "t-2", "type": "WIFI", "severity": "ELEVATED", "state": "FIXED", "detected": "2025-06-20T17:00:00+02:00", "resolved": "2025-06-20T16:00:00.250Z", "description": "rogue access point"},
               {"id": 3, "type": "network", "severity": "low", "detected": "1750430000"}]},
  {"event_id": 9, "time": "2025-06-20 19:23:18", "device": {"id": "d-3", "os": "windows"}, "risk": "NONE"}]}"#;
    write(
        t,
        "health-from-threats.txt",
        signed(now - 200, derived).as_bytes(),
    );
    // No header lines: the whole input is the body (on one line, so it is not split into headers).
    write(t, "unsigned.txt", readme.replace('\n', "").as_bytes());
    write(t, "stale.txt", signed(now - 3600, readme).as_bytes());
    let bad_signature = signed(now, readme).replacen("sha256=", "sha256=0", 1);
    write(t, "bad-signature.txt", bad_signature.as_bytes());
    let unmapped = readme.replace(r#""severity": "CRITICAL""#, r#""severity": "APOCALYPTIC""#);
    write(
        t,
        "unmapped-severity.txt",
        signed(now, &unmapped).as_bytes(),
    );
    write(t, "not-json.txt", signed(now, "events=1").as_bytes());
    let event = r#"{"device": {"id": "d", "os": "android"}, "risk": "low"}"#;
    let too_many = format!(r#"{{"events": [{}]}}"#, vec![event; 101].join(","));
    write(t, "too-many-events.txt", signed(now, &too_many).as_bytes());
}
