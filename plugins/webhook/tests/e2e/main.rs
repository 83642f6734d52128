//! End-to-end tests of the webhook connector: a real `riskgate-core` (through the `riskgate-tests`
//! harness), a real `riskgate-connector-host` loading the webhook `.so` with a pinned SHA-256, and
//! signed HTTP pushes from the test.

// test code
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    path::Path,
    time::{SystemTime, UNIX_EPOCH},
};

use riskgate_proto::v1 as api;
use riskgate_tests::{
    admin::compliance_connector,
    events::reports_of,
    register_connector_with,
    rpc::{full_history, get_checkpoint, get_device, store_info},
    CoreProcess,
};
use riskgate_webhook::signature;
use serde_json::{json, Value};
use support::{read_address, start_webhook_host};

const SECRET: &str = "webhook-e2e-shared-secret";

/// The README's example configuration, listening on port 0.
fn config(dir: &Path) -> std::path::PathBuf {
    let config = json!({
        "listen": "127.0.0.1:0",
        "address_file": dir.join("address"),
        "secret": SECRET,
        "linger_ms": 5,
        "mapping": {
            "events": "events",
            "device_id": "device.id",
            "platform": "device.os",
            "os_version": "device.os_version",
            "model": "device.model",
            "owner": "device.owner",
            "groups": "device.groups",
            "level": "risk",
            "threats": "threats",
            "threat": {
                "id": "id", "category": "type", "classification": "name",
                "severity": "severity", "status": "state",
                "detected_at": "detected", "resolved_at": "resolved"
            },
            "observed_at": "time",
            "event_id": "event_id"
        },
        "values": {
            "platform": {"ANDROID": "android", "IPHONE": "ios"},
            "level": {"NONE": "secured", "ELEVATED": "medium", "CRITICAL": "high"},
            "category": {"APP": "application", "WIFI": "network"},
            "severity": {"ELEVATED": "medium", "CRITICAL": "high"},
            "status": {"ACTIVE": "open", "FIXED": "resolved"}
        }
    });
    let path = dir.join("webhook.json");
    std::fs::write(&path, config.to_string()).expect("writing the config");
    path
}

fn unix_now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(secs).unwrap()
}

fn event(event_id: &str, device: &str, risk: &str, threats: Value) -> Value {
    json!({
        "event_id": event_id,
        "time": unix_now() * 1000,
        "device": {"id": device, "os": "ANDROID", "os_version": "14", "model": "Pixel 8",
                   "owner": format!("{device}@corp.example"), "groups": ["sales"]},
        "risk": risk,
        "threats": threats
    })
}

/// POSTs `body` to the push endpoint with the given signature and timestamp headers.
async fn post(
    address: &str,
    body: &[u8],
    signature: Option<String>,
    timestamp: Option<i64>,
) -> anyhow::Result<(u16, Value)> {
    let mut request = reqwest::Client::new()
        .post(format!("http://{address}/v1/push"))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("X-Riskgate-Signature", signature);
    }
    if let Some(timestamp) = timestamp {
        request = request.header("X-Riskgate-Timestamp", timestamp.to_string());
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

/// POSTs `body` signed with the shared secret at the current time.
async fn post_signed(address: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
    let raw = body.to_string().into_bytes();
    let now = unix_now();
    post(
        address,
        &raw,
        Some(signature::sign(SECRET.as_bytes(), now, &raw)),
        Some(now),
    )
    .await
}

async fn metric(address: &str, sample: &str) -> anyhow::Result<u64> {
    let text = reqwest::get(format!("http://{address}/metrics"))
        .await?
        .text()
        .await?;
    let value = text
        .lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {sample} in:\n{text}"));
    Ok(value.parse()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_push_is_answered_202_only_once_the_core_holds_its_devices() -> anyhow::Result<()>
{
    let data = tempfile::tempdir()?;
    let core = CoreProcess::start(data.path(), &[]).await;
    register_connector_with(&core, compliance_connector("webhook")).await?;
    let dir = tempfile::tempdir()?;
    let host = start_webhook_host(&core, "webhook", &config(dir.path()))?;
    let address = read_address(&dir.path().join("address"), &host).await?;

    let body = json!({"events": [
        event("evt-1", "dev-1", "CRITICAL", json!([
            {"id": "t-1", "type": "APP", "name": "TROJAN", "severity": "CRITICAL", "state": "ACTIVE",
             "detected": "2025-06-20T10:00:00Z"},
            {"id": "t-2", "type": "WIFI", "name": "MITM", "severity": "ELEVATED", "state": "FIXED",
             "detected": "2025-06-20T10:00:00Z", "resolved": "2025-06-20T11:00:00Z"}
        ])),
        event("evt-2", "dev-2", "NONE", json!([]))
    ]});
    let (status, answer) = post_signed(&address, &body).await?;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer, json!({"accepted": 2}));

    // No waiting: 202 means the core acknowledged the batch holding the push.
    let mut devices = core.device_client().await?;
    let infected = get_device(&mut devices, "dev-1")
        .await?
        .expect("dev-1 is known");
    assert_eq!(infected.platform, api::Platform::Android as i32);
    assert_eq!(infected.os_version, "14");
    assert_eq!(infected.model, "Pixel 8");
    assert_eq!(infected.owner_user_id, "dev-1@corp.example");
    assert_eq!(infected.groups, ["sales"]);
    assert_eq!(infected.level, api::ThreatLevel::High as i32);
    let report = &infected.reports[0];
    assert_eq!(report.connector_id, "webhook");
    assert_eq!(report.vendor_event_id, "evt-1");
    assert_eq!(report.health_state, api::HealthState::HighSeverity as i32);
    assert_eq!(report.threats.len(), 2);
    assert_eq!(
        report.threats[0].category,
        api::ThreatCategory::Application as i32
    );
    assert_eq!(report.threats[0].classification, "TROJAN");
    assert_eq!(report.threats[1].status, api::ThreatStatus::Resolved as i32);
    assert_eq!(report.threats[1].severity, api::ThreatLevel::Medium as i32);
    let secured = get_device(&mut devices, "dev-2")
        .await?
        .expect("dev-2 is known");
    assert_eq!(secured.level, api::ThreatLevel::Secured as i32);

    let mut ingest = core.ingest_client().await?;
    let checkpoint = get_checkpoint(&mut ingest, "webhook")
        .await?
        .expect("a checkpoint");
    assert_eq!(
        checkpoint.checkpoint, b"1",
        "the checkpoint is the batch sequence"
    );
    assert_eq!(
        metric(&address, "riskgate_webhook_reports_accepted_total").await?,
        2
    );
    Ok(())
}

/// Every refusal is counted under its reason.
async fn check_rejection_counts(address: &str) -> anyhow::Result<()> {
    let rejected = "riskgate_webhook_pushes_rejected_total";
    assert_eq!(
        metric(address, &format!("{rejected}{{reason=\"unsigned\"}}")).await?,
        2
    );
    assert_eq!(
        metric(address, &format!("{rejected}{{reason=\"bad_signature\"}}")).await?,
        2
    );
    assert_eq!(
        metric(
            address,
            &format!("{rejected}{{reason=\"malformed_signature\"}}")
        )
        .await?,
        1
    );
    assert_eq!(
        metric(address, &format!("{rejected}{{reason=\"stale\"}}")).await?,
        1
    );
    assert_eq!(
        metric(address, &format!("{rejected}{{reason=\"malformed\"}}")).await?,
        3
    );
    Ok(())
}

/// Correctly signed pushes that are malformed get 400, naming what is wrong.
async fn refuse_malformed(address: &str, now: i64) -> anyhow::Result<()> {
    let secret = SECRET.as_bytes();
    // Malformed but correctly signed: not JSON, an unmapped severity, a missing device id.
    let mut refused_malformed = Vec::new();
    for body in [
        b"{not json".to_vec(),
        json!({"events": [event("evt-x", "dev-x", "NONE", json!([
            {"id": "t", "type": "APP", "severity": "APOCALYPTIC", "state": "ACTIVE"}]))]})
        .to_string()
        .into_bytes(),
        json!({"events": [{"event_id": "evt-y", "time": now * 1000, "device": {"os": "ANDROID"}, "risk": "NONE"}]})
            .to_string()
            .into_bytes(),
    ] {
        let (status, answer) =
            post(address, &body, Some(signature::sign(secret, now, &body)), Some(now)).await?;
        assert_eq!(status, 400, "{answer}");
        refused_malformed.push(answer["detail"].as_str().unwrap_or_default().to_owned());
    }
    assert!(
        refused_malformed[1].contains("threats[0]/severity: unmapped value \"APOCALYPTIC\""),
        "{refused_malformed:?}"
    );
    assert!(
        refused_malformed[2].contains("/device/id: missing"),
        "{refused_malformed:?}"
    );
    Ok(())
}

/// Unsigned, badly signed and stale pushes get 401.
async fn refuse_unsigned_badly_signed_and_stale(
    address: &str,
    raw: &[u8],
    now: i64,
) -> anyhow::Result<()> {
    let secret = SECRET.as_bytes();
    // Unsigned: no signature, or no timestamp.
    assert_eq!(post(address, raw, None, Some(now)).await?.0, 401);
    assert_eq!(
        post(address, raw, Some(signature::sign(secret, now, raw)), None)
            .await?
            .0,
        401
    );
    // Badly signed: another secret, a tampered body, garbage.
    let wrong = signature::sign(b"not-the-shared-secret", now, raw);
    assert_eq!(post(address, raw, Some(wrong), Some(now)).await?.0, 401);
    let mut tampered = raw.to_vec();
    tampered.extend_from_slice(b" ");
    assert_eq!(
        post(
            address,
            &tampered,
            Some(signature::sign(secret, now, raw)),
            Some(now)
        )
        .await?
        .0,
        401
    );
    assert_eq!(
        post(address, raw, Some("sha256=zz".into()), Some(now))
            .await?
            .0,
        401
    );
    // Stale: correctly signed ten minutes ago (tolerance 5 minutes).
    let old = now - 600;
    let (status, answer) = post(
        address,
        raw,
        Some(signature::sign(secret, old, raw)),
        Some(old),
    )
    .await?;
    assert_eq!(status, 401);
    assert_eq!(answer["error"], "stale");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_badly_signed_stale_and_malformed_pushes_are_refused_counted_and_never_reported(
) -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let core = CoreProcess::start(data.path(), &[]).await;
    register_connector_with(&core, compliance_connector("webhook")).await?;
    let dir = tempfile::tempdir()?;
    let mut host = start_webhook_host(&core, "webhook", &config(dir.path()))?;
    let address = read_address(&dir.path().join("address"), &host).await?;
    let good = json!({"events": [event("evt-ok", "dev-ok", "NONE", json!([]))]});
    let raw = good.to_string().into_bytes();
    let now = unix_now();

    refuse_unsigned_badly_signed_and_stale(&address, &raw, now).await?;
    refuse_malformed(&address, now).await?;

    check_rejection_counts(&address).await?;
    let log = host.output.text();
    assert!(
        log.contains("refused a push (401 Unauthorized, stale)"),
        "{log}"
    );

    // Nothing reached the core, the host is still up, and a good push still works.
    let mut devices = core.device_client().await?;
    assert_eq!(store_info(&mut devices).await?.device_count, 0);
    assert!(host.is_running(), "host output:\n{}", host.output.text());
    assert_eq!(post_signed(&address, &good).await?.0, 202);
    assert_eq!(store_info(&mut devices).await?.device_count, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_retried_after_a_host_crash_is_applied_once_and_the_sequence_resumes(
) -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let core = CoreProcess::start(data.path(), &[]).await;
    register_connector_with(&core, compliance_connector("webhook")).await?;
    let dir = tempfile::tempdir()?;
    let config = config(dir.path());
    let mut host = start_webhook_host(&core, "webhook", &config)?;
    let address = read_address(&dir.path().join("address"), &host).await?;
    let body = json!({"events": [event("evt-retry", "dev-r", "ELEVATED", json!([]))]});
    assert_eq!(post_signed(&address, &body).await?.0, 202);

    // The sender did not see the 202 (say), the host crashes, and the sender retries on the new one.
    host.kill().await?;
    std::fs::remove_file(dir.path().join("address"))?;
    let host = start_webhook_host(&core, "webhook", &config)?;
    let address = read_address(&dir.path().join("address"), &host).await?;
    assert_eq!(post_signed(&address, &body).await?.0, 202);
    let other = json!({"events": [event("evt-next", "dev-r", "NONE", json!([]))]});
    assert_eq!(post_signed(&address, &other).await?.0, 202);

    let mut devices = core.device_client().await?;
    let (history, _) = full_history(&mut devices, "dev-r", 100).await?;
    let ids: Vec<&str> = reports_of(&history)
        .into_iter()
        .map(|(_, reported)| reported.vendor_event_id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["evt-retry", "evt-next"],
        "the retry was dropped as a duplicate"
    );
    let mut ingest = core.ingest_client().await?;
    let checkpoint = get_checkpoint(&mut ingest, "webhook")
        .await?
        .expect("a checkpoint");
    assert_eq!(
        checkpoint.checkpoint, b"3",
        "the restarted plugin continued the sequence"
    );
    Ok(())
}
