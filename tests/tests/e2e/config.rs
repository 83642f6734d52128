//! Configuration: invalid flags, environment variables and TOML files make the server exit with
//! code 64 and name the offending key on stderr; the limit flags change what ingest accepts.

use std::path::Path;

use riskgate_tests::{
    api::{HealthState, Platform},
    batch, expect_status, ingest, register_connector, report, run_core_to_exit, ts, unix_now,
    CoreProcess, ExitOutput,
};
use tempfile::tempdir;
use tonic::Code;

use crate::support::{check_applied, valid_report};

/// The exit code for a configuration error (EX_USAGE).
const EXIT_CONFIG: i32 = 64;

/// Checks that the run failed with exit code 64 before getting ready, and that stderr names `key`
/// (case-insensitively, so `RISKGATE_LISTEN` also names `listen`).
fn check_config_error(output: &ExitOutput, key: &str) {
    assert_eq!(
        output.status.code(),
        Some(EXIT_CONFIG),
        "expected exit code {EXIT_CONFIG}, got {}\n--- stderr ---\n{}",
        output.status,
        output.stderr
    );
    assert!(
        output.stderr.to_lowercase().contains(&key.to_lowercase()),
        "stderr does not name {key:?}:\n{}",
        output.stderr
    );
    assert!(
        !output.stdout.contains("READY"),
        "printed READY despite the error: {}",
        output.stdout
    );
}

fn write_config(dir: &Path, text: &str) -> anyhow::Result<String> {
    let path = dir.join("riskgate.toml");
    std::fs::write(&path, text)?;
    Ok(path.to_str().expect("utf-8 temp path").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_listen_flag_exits_64_naming_listen() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let data = dir.path().to_str().expect("utf-8 temp path");
    let output = run_core_to_exit(
        &[
            "--data-dir",
            data,
            "--listen",
            "not-an-addr",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
        &[],
    )
    .await?;
    check_config_error(&output, "listen");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_listen_env_var_exits_64_naming_listen() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let data = dir.path().to_str().expect("utf-8 temp path");
    let output = run_core_to_exit(
        &["--metrics-listen", "127.0.0.1:0"],
        &[
            ("RISKGATE_DATA_DIR", data),
            ("RISKGATE_LISTEN", "not-an-addr"),
        ],
    )
    .await?;
    check_config_error(&output, "listen");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toml_with_wrong_type_exits_64_naming_the_key() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let data = dir.path().join("data");
    let config = write_config(dir.path(), "listen = 5\n")?;
    let output = run_core_to_exit(
        &[
            "--data-dir",
            data.to_str().expect("utf-8"),
            "--metrics-listen",
            "127.0.0.1:0",
            "--config",
            &config,
        ],
        &[],
    )
    .await?;
    check_config_error(&output, "listen");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toml_with_unknown_key_exits_64_naming_the_key() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let data = dir.path().join("data");
    let config = write_config(dir.path(), "lissen = \"x\"\n")?;
    let output = run_core_to_exit(
        &[
            "--data-dir",
            data.to_str().expect("utf-8"),
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--config",
            &config,
        ],
        &[],
    )
    .await?;
    check_config_error(&output, "lissen");

    // The same file named by RISKGATE_CONFIG.
    let output = run_core_to_exit(
        &[
            "--data-dir",
            data.to_str().expect("utf-8"),
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
        &[("RISKGATE_CONFIG", &config)],
    )
    .await?;
    check_config_error(&output, "lissen");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_cache_mib_out_of_range_exits_64_naming_the_key() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let data = dir.path().join("data");
    for (args, env) in [
        (vec!["--store-cache-mib", "0"], vec![]),
        (vec![], vec![("RISKGATE_STORE_CACHE_MIB", "lots")]),
    ] {
        let mut all = vec![
            "--data-dir",
            data.to_str().expect("utf-8"),
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ];
        all.extend(args);
        let output = run_core_to_exit(&all, &env).await?;
        check_config_error(&output, "store_cache_mib");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_batch_reports_flag_limits_the_batch_size() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &["--max-batch-reports", "3"]).await;
    let mut ingest_client = core.ingest_client().await?;
    register_connector(&core, "vendor-a").await?;
    let three = (0..3).map(|i| valid_report(&format!("dev-{i}"))).collect();
    let acks = ingest(&mut ingest_client, vec![batch("vendor-a", 1, b"", three)]).await?;
    check_applied(&acks[0], 1, 3)?;
    let four = (3..7).map(|i| valid_report(&format!("dev-{i}"))).collect();
    expect_status(
        ingest(&mut ingest_client, vec![batch("vendor-a", 2, b"", four)]).await,
        Code::InvalidArgument,
        "reports",
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_clock_skew_flag_sets_how_far_ahead_observed_at_may_be() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &["--max-clock-skew", "1h"]).await;
    let mut ingest_client = core.ingest_client().await?;
    register_connector(&core, "vendor-a").await?;
    let half_hour_ahead = report(
        "dev-1",
        Platform::Android,
        HealthState::Secured,
        ts(unix_now() + 1800),
    );
    let acks = ingest(
        &mut ingest_client,
        vec![batch("vendor-a", 1, b"", vec![half_hour_ahead])],
    )
    .await?;
    check_applied(&acks[0], 1, 1)?;
    let two_hours_ahead = report(
        "dev-2",
        Platform::Android,
        HealthState::Secured,
        ts(unix_now() + 7200),
    );
    expect_status(
        ingest(
            &mut ingest_client,
            vec![batch("vendor-a", 2, b"", vec![two_hours_ahead])],
        )
        .await,
        Code::InvalidArgument,
        "reports[0].observed_at",
    )?;
    Ok(())
}
