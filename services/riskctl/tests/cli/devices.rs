//! `riskctl devices list|show|history` as tables and as JSON.

use crate::support::{Fixture, CONNECTOR, RISKY, SAFE, THREAT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_list_prints_a_table_and_json() {
    let fixture = Fixture::start().await;
    let riskctl = fixture.riskctl();

    let table = riskctl.run(&["devices", "list"]).await;
    let lines: Vec<&str> = table.ok().lines().collect();
    assert!(lines[0].starts_with("DEVICE"), "{table:#?}");
    assert!(lines[0].contains("LEVEL"), "{table:#?}");
    assert_eq!(lines.len(), 3, "header and two devices: {table:#?}");
    let risky_row = lines
        .iter()
        .find(|l| l.starts_with(RISKY))
        .expect("risky row");
    assert!(
        risky_row.contains("ios") && risky_row.contains("high"),
        "{risky_row}"
    );
    assert!(risky_row.contains("alice@example.com"), "{risky_row}");
    let safe_row = lines
        .iter()
        .find(|l| l.starts_with(SAFE))
        .expect("safe row");
    assert!(
        safe_row.contains("android") && safe_row.contains("secured"),
        "{safe_row}"
    );

    let json = riskctl.run(&["--json", "devices", "list"]).await.json();
    let devices = json.as_array().expect("an array");
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0]["device_id"], RISKY);
    assert_eq!(devices[0]["level"], "high");
    assert_eq!(devices[0]["reports"][0]["connector_id"], CONNECTOR);
    assert_eq!(devices[1]["device_id"], SAFE);

    // The filters reach the server.
    let high_only = riskctl
        .run(&["devices", "list", "--level", "high", "--json"])
        .await
        .json();
    assert_eq!(high_only.as_array().map(Vec::len), Some(1), "{high_only}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_show_prints_reports_threats_and_compliance() {
    let fixture = Fixture::start().await;
    let riskctl = fixture.riskctl();

    let text = riskctl.run(&["devices", "show", RISKY]).await;
    let out = text.ok();
    assert!(
        out.lines()
            .any(|l| l.starts_with("device:") && l.ends_with(&format!(" {RISKY}"))),
        "{out}"
    );
    assert!(out.contains("high_severity"), "{out}");
    assert!(out.contains(THREAT), "{out}");
    assert!(out.contains("17.4"), "{out}");
    assert!(out.contains("Compliance:"), "{out}");

    let json = riskctl
        .run(&["devices", "show", RISKY, "--json"])
        .await
        .json();
    assert_eq!(json["device"]["device_id"], RISKY);
    assert_eq!(json["device"]["platform"], "ios");
    assert_eq!(
        json["device"]["reports"][0]["threats"][0]["vendor_threat_id"],
        THREAT
    );
    assert_eq!(
        json["device"]["reports"][0]["threats"][0]["severity"],
        "high"
    );
    assert_eq!(json["compliance"]["device_id"], RISKY);
    assert!(json["compliance"]["status"].is_string(), "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_history_prints_one_line_per_event_and_json() {
    let mut fixture = Fixture::start().await;
    fixture
        .report(RISKY, riskgate_tests::api::HealthState::Secured)
        .await;
    let riskctl = fixture.riskctl();

    let text = riskctl.run(&["devices", "history", RISKY]).await;
    let reports: Vec<&str> = text
        .ok()
        .lines()
        .filter(|l| l.contains("device_reported"))
        .collect();
    assert_eq!(reports.len(), 2, "{text:#?}");
    assert!(reports[0].starts_with('#'), "{text:#?}");
    assert!(reports[1].contains("high -> secured"), "{text:#?}");

    let json = riskctl
        .run(&["devices", "history", RISKY, "--json"])
        .await
        .json();
    let events = json.as_array().expect("an array");
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "device_reported").count(),
        2,
        "{json}"
    );
    let positions: Vec<u64> = events
        .iter()
        .filter_map(|e| e["position"].as_u64())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(events[0]["device_reported"]["current_level"], "high");

    let limited = riskctl
        .run(&["devices", "history", RISKY, "--json", "--limit", "1"])
        .await
        .json();
    assert_eq!(limited.as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_risk_shows_filters_and_is_cleared_by_clear_risk() {
    use riskgate_tests::api::HealthState;
    let mut fixture = Fixture::start().await;
    // The MTD app of the risky device is removed: its HIGH is kept as a known risk.
    fixture.report(RISKY, HealthState::Deactivated).await;
    let riskctl = fixture.riskctl();

    let shown = riskctl.run(&["devices", "show", RISKY]).await;
    assert!(shown.ok().contains("KNOWN RISK"), "{shown:#?}");
    assert!(shown.ok().contains("high at "), "{shown:#?}");
    let json = riskctl
        .run(&["--json", "devices", "show", RISKY])
        .await
        .json();
    assert_eq!(json["device"]["level"], "high", "{json}");

    let silent = riskctl
        .run(&["--json", "devices", "list", "--not-reported-for", "1h"])
        .await
        .json();
    assert_eq!(
        silent.as_array().map(Vec::len),
        Some(0),
        "both reported just now: {silent}"
    );

    let cleared = riskctl.run(&["devices", "clear-risk", RISKY]).await;
    assert!(
        cleared
            .ok()
            .contains(&format!("cleared; {RISKY} is now at level -")),
        "{cleared:#?}"
    );
    riskctl
        .run(&["devices", "clear-risk", RISKY])
        .await
        .fails_with(1, "no known risk");
    let history = riskctl.run(&["devices", "history", RISKY]).await;
    assert!(history.ok().contains("known_risk_cleared"), "{history:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recheck_names_the_connector_without_a_host_and_refuses_an_unknown_device() {
    let fixture = Fixture::start().await;
    let riskctl = fixture.riskctl();
    // The fixture's connector reports through the test, not through a host: nobody holds its control
    // stream, and the answer says so.
    riskctl
        .run(&["devices", "recheck", RISKY])
        .await
        .fails_with(
            1,
            &format!("no host of connector {CONNECTOR} holds a control stream open"),
        );
    riskctl
        .run(&["devices", "recheck", "never-seen"])
        .await
        .fails_with(5, "never-seen");
}
