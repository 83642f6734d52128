//! Each kind of failure is one line on stderr with its documented exit code.

use crate::support::{Fixture, Riskctl};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_exits_3_naming_the_url() {
    // A port that was just free and is closed again: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let run = Riskctl::at_url(&url).run(&["devices", "list"]).await;
    run.fails_with(3, &format!("riskctl: cannot reach riskgate at {url}: "));
    assert!(run.stderr.to_lowercase().contains("refused"), "{run:#?}");
    assert!(run.stdout.is_empty(), "{run:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_and_invalid_arguments_have_their_own_exit_codes() {
    let fixture = Fixture::start().await;
    let riskctl = fixture.riskctl();
    riskctl
        .run(&["devices", "show", "no-such-device"])
        .await
        .fails_with(5, "riskctl: not found: ");
    riskctl
        .run(&["devices", "history", "no-such-device"])
        .await
        .fails_with(5, "not found");
    // The server's message names the field.
    riskctl
        .run(&["connectors", "create", "bad id!", "--vendor", "x"])
        .await
        .fails_with(6, "riskctl: invalid argument: connector.connector_id");
    riskctl
        .run(&["connectors", "create", "novendor"])
        .await
        .fails_with(6, "vendor");
    // clap refuses bad words before anything is sent.
    let usage = riskctl
        .run(&["devices", "list", "--level", "critical"])
        .await;
    assert_eq!(usage.code, 2, "{usage:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_policy_file_exits_7_with_its_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Files are checked before connecting, so no server is needed to find their errors.
    let riskctl = Riskctl::at_url("http://127.0.0.1:1");

    let toml = dir.path().join("bad.toml");
    std::fs::write(
        &toml,
        "[[compliance]]\nid = \"mtd\"\nmax_threat_level = \"critical\"\n",
    )
    .expect("write");
    let run = riskctl
        .run(&["policies", "apply", "-f", toml.to_str().expect("utf-8")])
        .await;
    run.fails_with(
        7,
        &format!("riskctl: invalid file {}:3:20: ", toml.display()),
    );
    assert!(run.stderr.contains("critical"), "{run:#?}");

    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "[[resource]]\nname = \"exchange\"\nrequire = true\n").expect("write");
    riskctl
        .run(&["policies", "apply", "-f", typo.to_str().expect("utf-8")])
        .await
        .fails_with(
            7,
            &format!("{}:3:1: unknown field `require`", typo.display()),
        );

    let yaml = dir.path().join("bad.yaml");
    std::fs::write(
        &yaml,
        "compliance:\n  - id: mtd\n    grace_period: 3 fortnights\n",
    )
    .expect("write");
    let run = riskctl
        .run(&["policies", "apply", "-f", yaml.to_str().expect("utf-8")])
        .await;
    run.fails_with(
        7,
        &format!("riskctl: invalid file {}:3:19: ", yaml.display()),
    );
    assert!(run.stderr.contains("bad duration"), "{run:#?}");

    let json = dir.path().join("policy.json");
    std::fs::write(&json, "{}").expect("write");
    riskctl
        .run(&["policies", "apply", "-f", json.to_str().expect("utf-8")])
        .await
        .fails_with(7, "must end in .toml, .yaml or .yml");

    riskctl
        .run(&["policies", "apply", "-f", "/nonexistent/policy.toml"])
        .await
        .fails_with(7, "invalid file /nonexistent/policy.toml: ");
}
