//! `console`: flip-to-screen, the time from the core's commit of a device's compliance flip to the moment
//! the web console's open device page, in a real headless Chromium, shows it, without a reload.
//!
//! The fleet is the tests' (vendor simulator, Lookout plugin in a connector host, core); the console
//! follows the core and the browser shows the flipping device's page. A MutationObserver in the page notes
//! when the verdict's text changes (wall clock, `performance.timeOrigin + performance.now()`); each sample
//! is that time minus the time the core wrote the device's compliance change (both wall clocks of this
//! machine). A flip infects the device, then remediates it: two samples.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{ensure, Context as _};
use riskgate_tests::{
    api::{event::Kind, ComplianceStatus},
    browser::{Browser, Width},
    console::{sign_in_to_overview, wait_for_text, ConsoleProcess},
    enforcement::{Fleet, HostTimings, Users, ADMIN_TOKEN},
    wait_until,
};

use crate::{
    stats::{micros, print_table, Samples},
    summary::Goal,
};

/// The device that flips.
const FLIPPING: &str = "fleet-00001";
/// How long one flip may take to reach the screen.
const FLIP_WITHIN: Duration = Duration::from_secs(60);
/// The goal: an open page shows a flip within a second (issue #19), at the 99th percentile.
const GOAL: Duration = Duration::from_secs(1);

/// Notes every change of the verdict's text with its wall-clock time, across the live script's swaps of
/// `<main>`.
const OBSERVE: &str = "window.riskgateVerdicts = [];
new MutationObserver(function () {
  var verdict = document.querySelector('#verdict');
  if (!verdict) { return; }
  var text = verdict.textContent;
  var seen = window.riskgateVerdicts;
  if (seen.length === 0 || seen[seen.length - 1][1] !== text) {
    seen.push([performance.timeOrigin + performance.now(), text]);
  }
}).observe(document.body, { childList: true, subtree: true, characterData: true });";

/// Runs the benchmark: 20 flips (2 in quick mode), 2 samples each.
pub(crate) async fn run(quick: bool) -> anyhow::Result<Vec<Goal>> {
    let flips = if quick { 2 } else { 20 };
    let samples = flip_to_screen(flips).await?;
    let p99 = samples.percentile(99.0);
    print_table(
        "Console: from the core's commit of a compliance flip to the open page showing it",
        &["samples", "p50", "p99", "max"],
        &[vec![
            samples.len().to_string(),
            micros(samples.percentile(50.0)),
            micros(p99),
            micros(samples.percentile(100.0)),
        ]],
    );
    Ok(vec![Goal::new(
        "Console flip-to-screen p99",
        "< 1 s",
        micros(p99),
        p99 < GOAL,
    )])
}

async fn flip_to_screen(flips: usize) -> anyhow::Result<Samples> {
    let fleet = Fleet::start(3, HostTimings::Default, Users::None).await?;
    wait_until(FLIP_WITHIN, "the fleet synced", || async {
        compliance_changes(&fleet)
            .await
            .is_ok_and(|changes| !changes.is_empty())
    })
    .await?;
    let console = ConsoleProcess::start(&fleet.core.url(), "", None).await?;
    let browser = Browser::start(Width::Desktop).await?;
    sign_in_to_overview(&browser, &console, ADMIN_TOKEN).await?;
    browser
        .open(&console.at(&format!("/devices/{FLIPPING}")))
        .await?;
    wait_for_text(
        &browser,
        "#live-status",
        "the page following live",
        |text| text == "live",
    )
    .await?;
    browser.run(OBSERVE, vec![]).await?;
    let mut samples = Samples::default();
    for _ in 0..flips {
        fleet.infect(FLIPPING).await?;
        samples.push(
            flip(
                &fleet,
                &browser,
                "noncompliant",
                ComplianceStatus::Noncompliant,
            )
            .await?,
        );
        fleet.remediate(FLIPPING).await?;
        samples.push(flip(&fleet, &browser, "compliant", ComplianceStatus::Compliant).await?);
    }
    browser.close().await?;
    Ok(samples)
}

/// Waits for the page to show `shown`, then measures from the core's newest change to `status`.
async fn flip(
    fleet: &Fleet,
    browser: &Browser,
    shown: &str,
    status: ComplianceStatus,
) -> anyhow::Result<Duration> {
    let wanted = format!("compliance {shown}");
    wait_for_text(
        browser,
        "#verdict",
        &format!("the page showing {shown}"),
        |text| text.ends_with(&wanted),
    )
    .await?;
    let seen = browser
        .run("return window.riskgateVerdicts;", vec![])
        .await?;
    let on_screen = seen
        .as_array()
        .and_then(|seen| {
            seen.iter().rev().find(|entry| {
                entry[1]
                    .as_str()
                    .is_some_and(|text| text.trim_end().ends_with(&wanted))
            })
        })
        .and_then(|entry| entry[0].as_f64())
        .with_context(|| format!("the observer noted no change to {shown}: {seen}"))?;
    let committed = compliance_changes(fleet)
        .await?
        .into_iter()
        .rev()
        .find(|(_, to)| *to == status)
        .map(|(at, _)| at)
        .context("the core logged the change")?;
    let on_screen = UNIX_EPOCH + Duration::from_secs_f64(on_screen / 1000.0);
    ensure!(
        on_screen >= committed - Duration::from_millis(5),
        "shown before it was committed"
    );
    Ok(on_screen
        .duration_since(committed)
        .unwrap_or(Duration::ZERO))
}

/// The flipping device's compliance changes: when the core wrote each, and to what.
async fn compliance_changes(fleet: &Fleet) -> anyhow::Result<Vec<(SystemTime, ComplianceStatus)>> {
    let mut changes = Vec::new();
    for event in fleet.history(FLIPPING).await? {
        if let Some(Kind::DeviceComplianceChange(change)) = &event.kind {
            let time = event.time.context("an event time")?;
            let at = UNIX_EPOCH
                + Duration::new(u64::try_from(time.seconds)?, u32::try_from(time.nanos)?);
            changes.push((at, ComplianceStatus::try_from(change.current_status)?));
        }
    }
    Ok(changes)
}
