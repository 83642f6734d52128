//! `riskctl policies ...` and `riskctl check ...`: the sample policy applied from
//! docs/examples/policy.toml makes the access decision follow the device's risk.

use riskgate_tests::api::HealthState;

use crate::support::{repo_root, Fixture, CONNECTOR, RISKY, SAFE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_the_sample_policy_denies_a_risky_device_until_it_is_remediated() {
    let mut fixture = Fixture::start().await;
    let riskctl = fixture.riskctl();
    let sample = repo_root().join("docs/examples/policy.toml");
    let sample = sample.to_str().expect("utf-8 path");

    // Before the policy, exchange is not a resource.
    riskctl
        .run(&["check", "access", RISKY, "exchange"])
        .await
        .fails_with(5, "not found");

    let applied = riskctl.run(&["policies", "apply", "-f", sample]).await;
    let out = applied.ok();
    assert!(out.starts_with("KIND"), "{out}");
    assert!(
        out.contains("compliance") && out.contains("mtd-threat-level-low"),
        "{out}"
    );
    assert!(out.contains("created"), "{out}");
    assert!(
        out.contains("exchange") && out.contains("sharepoint"),
        "{out}"
    );

    let deny = riskctl.run(&["check", "access", RISKY, "exchange"]).await;
    let out = deny.ok();
    assert!(
        out.starts_with(&format!("DENY {RISKY} to exchange")),
        "{out}"
    );
    assert!(
        out.contains("noncompliant"),
        "the reasons are printed: {out}"
    );
    assert!(out.contains("  - "), "{out}");
    let allow = riskctl
        .run(&["check", "access", SAFE, "sharepoint", "--json"])
        .await
        .json();
    assert_eq!(allow["decision"], "allow", "{allow}");

    let json = riskctl
        .run(&["check", "access", RISKY, "exchange", "--json"])
        .await
        .json();
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["level"], "high");
    assert!(
        json["reasons"].as_array().is_some_and(|r| !r.is_empty()),
        "{json}"
    );

    // Remediated: the same question is now allowed.
    fixture.report(RISKY, HealthState::Secured).await;
    let json = riskctl
        .run(&["check", "access", RISKY, "exchange", "--json"])
        .await
        .json();
    assert_eq!(json["decision"], "allow", "{json}");
    let text = riskctl.run(&["check", "access", RISKY, "exchange"]).await;
    assert!(text.ok().starts_with("ALLOW"), "{text:#?}");

    // Applying again updates in place.
    let again = riskctl
        .run(&["policies", "apply", "-f", sample, "--json"])
        .await
        .json();
    let compliance = &again["applied"][0];
    assert_eq!(compliance["kind"], "compliance");
    assert_eq!(compliance["action"], "updated");
    assert_eq!(compliance["version"], 2);

    let compliance = riskctl
        .run(&["check", "compliance", RISKY, "--json"])
        .await
        .json();
    assert_eq!(compliance["status"], "compliant", "{compliance}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_are_listed_shown_and_deleted_and_app_protection_decides_launches() {
    let fixture = Fixture::start().await;
    let riskctl = fixture.riskctl();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("apps.yaml");
    std::fs::write(
        &file,
        "compliance:\n  - id: sales-only\n    groups: [sales]\n    max_threat_level: medium\n    \
         grace_period: 3d\n    actions:\n      - kind: notify\n        after: 1d\n\
         resource:\n  - name: crm\n    rules:\n      - platforms: [ios]\n        max_threat_level: low\n\
         app_protection:\n  - id: outlook-mam\n    apps: [com.microsoft.outlook]\n    \
         max_threat_level: medium\n    action: block\n",
    )
    .expect("write");
    riskctl
        .run(&["policies", "apply", "-f", file.to_str().expect("utf-8")])
        .await
        .ok();

    let table = riskctl.run(&["policies", "list"]).await;
    let out = table.ok();
    assert!(
        out.contains("sales-only") && out.contains("groups sales"),
        "{out}"
    );
    assert!(
        out.contains("crm") && out.contains("ios: level <= low"),
        "{out}"
    );
    assert!(
        out.contains("outlook-mam") && out.contains("block"),
        "{out}"
    );

    let json = riskctl.run(&["policies", "list", "--json"]).await.json();
    assert_eq!(json["compliance"][0]["id"], "sales-only");
    assert_eq!(json["compliance"][0]["grace_period"], "3days");
    assert_eq!(json["compliance"][0]["actions"][0]["kind"], "notify");
    assert_eq!(json["resource"][0]["name"], "crm");
    assert_eq!(
        json["app_protection"][0]["apps"][0],
        "com.microsoft.outlook"
    );

    let shown = riskctl
        .run(&["policies", "show", "crm", "--json"])
        .await
        .json();
    assert_eq!(shown["resource"]["rules"][0]["max_threat_level"], "low");
    let shown = riskctl.run(&["policies", "show", "sales-only"]).await;
    assert!(shown.ok().contains("max threat level:"), "{shown:#?}");

    // With the connector's data on for app protection, the risky device (high, over the app
    // policy's medium) may not start the app.
    let enabled = riskctl
        .run(&[
            "connectors",
            "enable",
            CONNECTOR,
            "--app-protection",
            "--json",
        ])
        .await
        .json();
    assert_eq!(
        enabled["app_protection_enabled"],
        serde_json::json!(["android", "ios", "windows", "macos"])
    );
    let app = riskctl
        .run(&["check", "app", RISKY, "com.microsoft.outlook", "--json"])
        .await
        .json();
    assert_eq!(app["decision"], "block", "{app}");
    assert_eq!(app["policy_id"], "outlook-mam");
    let app = riskctl
        .run(&["check", "app", SAFE, "com.microsoft.outlook"])
        .await;
    assert!(
        app.ok().starts_with("ALLOW com.microsoft.outlook on"),
        "{app:#?}"
    );

    riskctl.run(&["policies", "delete", "crm"]).await.ok();
    riskctl.run(&["policies", "show", "crm"]).await.fails_with(
        5,
        "no compliance policy, resource or app-protection policy named \"crm\"",
    );
}
