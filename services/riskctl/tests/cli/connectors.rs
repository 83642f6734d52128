//! `riskctl connectors ...`: create from flags and from a file, show, list, update, enable, disable,
//! delete, as tables and JSON.

use riskgate_tests::admin::heartbeat;

use crate::support::{Fixture, Riskctl, CONNECTOR};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectors_are_created_updated_enabled_disabled_and_deleted() {
    let fixture = Fixture::start().await;
    let riskctl = fixture.riskctl();
    create_and_list(&riskctl).await;
    update_changes_only_the_given_fields(&riskctl).await;
    enable_after_a_heartbeat(&fixture, &riskctl).await;
    disable_and_delete(&riskctl).await;
}

/// Creates `zimperium` from flags and finds it beside the fixture's connector in both lists.
async fn create_and_list(riskctl: &Riskctl) {
    let created = riskctl
        .run(&[
            "connectors",
            "create",
            "zimperium",
            "--vendor",
            "zimperium",
            "--display-name",
            "Zimperium MTD",
            "--unresponsive-after",
            "2d",
        ])
        .await;
    let out = created.ok();
    assert!(out.contains("id:") && out.contains("zimperium"), "{out}");
    assert!(out.contains("not_set_up"), "no heartbeat yet: {out}");
    assert!(out.contains("2days"), "{out}");

    let table = riskctl.run(&["connectors", "list"]).await;
    let lines: Vec<&str> = table.ok().lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("STATE"),
        "{table:#?}"
    );
    let fixture_row = lines
        .iter()
        .find(|l| l.starts_with(CONNECTOR))
        .expect("row");
    assert!(fixture_row.contains("enabled"), "{fixture_row}");
    assert!(
        fixture_row.contains("android,ios,windows,macos"),
        "{fixture_row}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("zimperium")),
        "{table:#?}"
    );

    let list = riskctl.run(&["connectors", "list", "--json"]).await.json();
    let ids: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["connector_id"].as_str())
        .collect();
    assert_eq!(ids, vec![CONNECTOR, "zimperium"]);
}

async fn update_changes_only_the_given_fields(riskctl: &Riskctl) {
    let updated = riskctl
        .run(&[
            "connectors",
            "update",
            "zimperium",
            "--display-name",
            "Z",
            "--json",
        ])
        .await
        .json();
    assert_eq!(updated["display_name"], "Z");
    assert_eq!(updated["vendor"], "zimperium");
    assert_eq!(updated["unresponsive_after"], "2days");
    assert_eq!(updated["version"], 2);
}

/// A heartbeat sets it up; enable turns its compliance toggles on.
async fn enable_after_a_heartbeat(fixture: &Fixture, riskctl: &Riskctl) {
    let mut client = fixture.core.connector_client().await.expect("client");
    heartbeat(&mut client, "zimperium")
        .await
        .expect("heartbeat");
    let show = riskctl
        .run(&["connectors", "show", "zimperium", "--json"])
        .await
        .json();
    assert_eq!(show["state"], "available");

    let enabled = riskctl
        .run(&[
            "connectors",
            "enable",
            "zimperium",
            "--platforms",
            "android",
            "--json",
        ])
        .await
        .json();
    assert_eq!(enabled["state"], "enabled", "{enabled}");
    assert_eq!(
        enabled["compliance_enabled"],
        serde_json::json!(["android"])
    );
    assert_eq!(enabled["app_protection_enabled"], serde_json::json!([]));
}

async fn disable_and_delete(riskctl: &Riskctl) {
    let disabled = riskctl
        .run(&["connectors", "disable", "zimperium", "--json"])
        .await
        .json();
    assert_eq!(disabled["state"], "available", "{disabled}");
    assert_eq!(disabled["compliance_enabled"], serde_json::json!([]));

    let deleted = riskctl.run(&["connectors", "delete", "zimperium"]).await;
    assert!(deleted.ok().contains("deleted connector zimperium"));
    riskctl
        .run(&["connectors", "show", "zimperium"])
        .await
        .fails_with(5, "not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_is_created_and_replaced_from_yaml_and_toml_files() {
    let fixture = Fixture::start().await;
    let riskctl = fixture.riskctl();
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = dir.path().join("defender.yaml");
    std::fs::write(
        &yaml,
        "id: defender\nvendor: microsoft\nkind: microsoft_defender\ncompliance: [android, ios]\n\
         block_unsupported_os: true\nminimum_os:\n  ios: \"16.4\"\nunresponsive_after: 3d\n",
    )
    .expect("write");
    let created = riskctl
        .run(&[
            "connectors",
            "create",
            "-f",
            yaml.to_str().expect("utf-8"),
            "--json",
        ])
        .await
        .json();
    assert_eq!(created["connector_id"], "defender");
    assert_eq!(created["kind"], "microsoft_defender");
    assert_eq!(
        created["compliance_enabled"],
        serde_json::json!(["android", "ios"])
    );
    assert_eq!(created["minimum_os_versions"]["ios"], "16.4");
    assert_eq!(created["unresponsive_after"], "3days");

    let toml = dir.path().join("defender.toml");
    std::fs::write(
        &toml,
        "id = \"defender\"\nvendor = \"microsoft\"\ndisplay_name = \"MDE\"\n",
    )
    .expect("write");
    let replaced = riskctl
        .run(&[
            "connectors",
            "update",
            "-f",
            toml.to_str().expect("utf-8"),
            "--json",
        ])
        .await
        .json();
    assert_eq!(replaced["display_name"], "MDE");
    assert_eq!(
        replaced["compliance_enabled"],
        serde_json::json!([]),
        "the file replaces every setting"
    );
    assert_eq!(replaced["kind"], "third_party");
}
