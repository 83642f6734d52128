//! Each fault the simulator can inject, survived: token expiry and 401, 429 with Retry-After, 5xx,
//! a stream dropped mid-batch, reconnect and end events, and malformed, unknown-field and duplicate
//! events (skipped with a counter and a log line, never an invalid report).

use std::collections::HashSet;

use riskgate_proto::v1 as api;
use serde_json::json;

use crate::support::{plugin_config, start_sim, wait_health, wait_until, Core, Host, Sim, WAIT};

/// A simulator with devices `d0`..`d{n}`, a core, and a host that has synced them.
async fn setup(devices: usize, extra: serde_json::Value) -> anyhow::Result<(Sim, Core, Host)> {
    let sim = start_sim(&[]).await?;
    for n in 0..devices {
        sim.add_device(&format!("d{n}"), if n % 2 == 0 { "ANDROID" } else { "IOS" })
            .await?;
    }
    let core = Core::start().await?;
    core.create_compliance_connector("lookout").await?;
    let host = Host::start(&core, "lookout", &plugin_config(&sim, extra))?;
    for n in 0..devices {
        wait_health(&core, &format!("d{n}"), api::HealthState::Secured).await?;
    }
    Ok((sim, core, host))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_and_401s_are_refreshed_and_short_lived_tokens_are_renewed_before_expiry(
) -> anyhow::Result<()> {
    let (sim, core, _host) = setup(2, json!({})).await?;
    let tokens = sim.counter("tokens_issued.lookout").await;
    sim.admin("expire-tokens", json!({"vendor": "lookout"}))
        .await?;
    sim.admin(
        "infect",
        json!({"device": "d0", "vendor": "lookout", "severity": "HIGH"}),
    )
    .await?;
    wait_health(&core, "d0", api::HealthState::HighSeverity).await?;
    assert!(
        sim.counter("tokens_issued.lookout").await > tokens,
        "a new token was fetched"
    );

    // An injected 401 on the stream, with a valid token: the plugin re-authenticates and goes on.
    sim.admin(
        "faults",
        json!({"vendor": "lookout", "path": "/mra/stream", "status": 401, "count": 1}),
    )
    .await?;
    sim.admin("inject", json!({"kind": "end", "vendor": "lookout"}))
        .await?;
    wait_until(WAIT, "the injected 401 was served", || async {
        sim.counter("faults_served.401").await == 1
    })
    .await?;
    sim.admin("remediate", json!({"device": "d0", "vendor": "lookout"}))
        .await?;
    wait_health(&core, "d0", api::HealthState::Secured).await?;

    // Tokens that live 2 s are refreshed ahead of expiry (margin = half the lifetime), so reconnects
    // after each end never present an expired token.
    sim.admin("settings", json!({"lookout_token_ttl_secs": 2}))
        .await?;
    let issued = sim.counter("tokens_issued.lookout").await;
    sim.admin("expire-tokens", json!({"vendor": "lookout"}))
        .await?;
    // The one 401 the admin expiry causes comes before the first short-lived token is fetched.
    wait_until(WAIT, "a short-lived token was issued", || async {
        sim.counter("tokens_issued.lookout").await > issued
    })
    .await?;
    let unauthorized = sim.counter("unauthorized").await;
    wait_until(WAIT, "three short-lived tokens were issued", || async {
        sim.counter("tokens_issued.lookout").await >= issued + 3
    })
    .await?;
    sim.admin(
        "infect",
        json!({"device": "d1", "vendor": "lookout", "severity": "MEDIUM"}),
    )
    .await?;
    wait_health(&core, "d1", api::HealthState::MediumSeverity).await?;
    assert_eq!(
        sim.counter("unauthorized").await,
        unauthorized,
        "no request was made with an expired token"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_wait_for_retry_after_and_server_errors_back_off() -> anyhow::Result<()> {
    let (sim, core, host) = setup(1, json!({})).await?;
    sim.admin("faults", json!({"vendor": "lookout", "path": "/mra/stream", "status": 429, "retry_after": 1, "count": 2})).await?;
    sim.admin(
        "faults",
        json!({"vendor": "lookout", "path": "/mra/stream", "status": 503, "count": 2}),
    )
    .await?;
    sim.admin(
        "faults",
        json!({"vendor": "lookout", "path": "/mra/stream", "status": 500, "count": 1}),
    )
    .await?;
    let started = std::time::Instant::now();
    sim.admin("inject", json!({"kind": "end", "vendor": "lookout"}))
        .await?;
    sim.admin(
        "infect",
        json!({"device": "d0", "vendor": "lookout", "severity": "HIGH"}),
    )
    .await?;
    // Under load the device can reach HIGH through a periodic resync before the stream has served every
    // fault, so wait for both; then each fault must have been served exactly as often as configured.
    wait_until(WAIT, "every stream fault served", || async {
        sim.counter("faults_served.429").await >= 2
            && sim.counter("faults_served.503").await >= 2
            && sim.counter("faults_served.500").await >= 1
    })
    .await?;
    wait_health(&core, "d0", api::HealthState::HighSeverity).await?;
    assert_eq!(sim.counter("faults_served.429").await, 2);
    assert_eq!(sim.counter("faults_served.503").await, 2);
    assert_eq!(sim.counter("faults_served.500").await, 1);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "two Retry-After: 1 waits were honoured"
    );
    let log = host.proc.output.text();
    assert!(
        log.contains("rate limited; waiting 1s (Retry-After)"),
        "{log}"
    );
    assert!(
        log.contains("HTTP 503 Service Unavailable; retrying in"),
        "{log}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_dropped_mid_batch_and_reconnect_or_end_events_resume_from_the_last_id(
) -> anyhow::Result<()> {
    let (sim, core, _host) = setup(3, json!({})).await?;
    // The next connection is cut in the middle of its second batch.
    sim.admin("faults", json!({"kind": "drop_stream", "after_batches": 1}))
        .await?;
    sim.admin(
        "inject",
        json!({"kind": "reconnect", "vendor": "lookout", "retry_ms": 100}),
    )
    .await?;
    wait_until(WAIT, "the plugin reconnected", || async {
        sim.counter("stream_connections").await >= 2
    })
    .await?;
    sim.admin(
        "infect",
        json!({"device": "d0", "vendor": "lookout", "severity": "HIGH"}),
    )
    .await?;
    sim.admin(
        "infect",
        json!({"device": "d1", "vendor": "lookout", "severity": "MEDIUM"}),
    )
    .await?;
    sim.admin(
        "infect",
        json!({"device": "d2", "vendor": "lookout", "severity": "LOW"}),
    )
    .await?;
    wait_until(WAIT, "the stream was dropped mid-batch", || async {
        sim.counter("stream_drops").await == 1
    })
    .await?;
    wait_health(&core, "d0", api::HealthState::HighSeverity).await?;
    wait_health(&core, "d1", api::HealthState::MediumSeverity).await?;
    wait_health(&core, "d2", api::HealthState::LowSeverity).await?;
    sim.admin("inject", json!({"kind": "end", "vendor": "lookout"}))
        .await?;
    sim.admin("remediate", json!({"device": "d1", "vendor": "lookout"}))
        .await?;
    wait_health(&core, "d1", api::HealthState::Secured).await?;
    for id in ["d0", "d1", "d2"] {
        let ids: Vec<String> = core
            .reports(id)
            .await?
            .into_iter()
            .map(|r| r.vendor_event_id)
            .collect();
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            ids.len(),
            "{id}: {ids:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_unknown_field_and_duplicate_events_are_skipped_counted_and_logged(
) -> anyhow::Result<()> {
    let (sim, core, host) = setup(2, json!({})).await?;
    sim.admin(
        "infect",
        json!({"device": "d0", "vendor": "lookout", "severity": "MEDIUM"}),
    )
    .await?;
    wait_health(&core, "d0", api::HealthState::MediumSeverity).await?;
    let before = core.reports("d0").await?.len();
    sim.admin("inject", json!({"kind": "duplicate", "vendor": "lookout"}))
        .await?;
    sim.admin("inject", json!({"kind": "malformed", "vendor": "lookout"}))
        .await?;
    sim.admin(
        "inject",
        json!({"kind": "malformed_json", "vendor": "lookout"}),
    )
    .await?;
    sim.admin(
        "inject",
        json!({"kind": "unknown_fields", "vendor": "lookout", "device": "d1"}),
    )
    .await?;
    // The unknown-field DEVICE event changes nothing about d1, so the core refreshes its report (the
    // event id moves) without writing an event.
    wait_until(
        WAIT,
        "the unknown-field event reached d1's report",
        || async {
            core.device("d1").await.is_some_and(|device| {
                device
                    .reports
                    .first()
                    .is_some_and(|report| !report.vendor_event_id.starts_with("sync-"))
            })
        },
    )
    .await?;
    sim.admin(
        "infect",
        json!({"device": "d1", "vendor": "lookout", "severity": "HIGH"}),
    )
    .await?;
    wait_health(&core, "d1", api::HealthState::HighSeverity).await?;
    let log = host.proc.output.text();
    assert!(log.contains("duplicate event"), "{log}");
    assert!(
        log.contains("malformed vendor data skipped (1 so far)"),
        "{log}"
    );
    assert!(
        log.contains("malformed vendor data skipped (2 so far)"),
        "{log}"
    );
    assert!(log.contains("data is not JSON"), "{log}");
    assert_eq!(
        core.reports("d0").await?.len(),
        before,
        "the duplicate batch produced no report"
    );
    // The host never failed, and d1's infection came through after the unknown-field event.
    assert!(core.reports("d1").await?.len() >= 2, "sync, infection");
    assert!(!log.contains("exit"), "the host kept running: {log}");
    Ok(())
}
