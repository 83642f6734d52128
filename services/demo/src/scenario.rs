//! The seed's story, step by step: four devices start secured with access; a malicious app (HIGH)
//! and a man-in-the-middle network (MEDIUM) take access to Exchange and SharePoint away, a
//! low-severity OS flaw does not (LOW is at or under what the policy allows), and remediation gives
//! access back. Each step acts through the simulator's admin API (`services/vendor-sim/README.md`)
//! and then waits, with a deadline, until the board shows the flips and states it expects, and each
//! device gets the matching HTTP status through Envoy (200 where allowed, 403 where denied).
//! Pacing between steps is presentation only; it never stands in for waiting.

use std::time::Duration;

use anyhow::Context as _;
use riskgate_proto::v1 as api;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::{
    board::{compliance_name, decision_name, enforced_status, level_name, Board, Flip},
    console::ConsoleCheck,
    devices::DEVICES,
    out::Out,
    resources::RESOURCES,
    vendor::Vendor,
};

/// How the demo ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every expected flip and state was seen.
    Passed,
    /// A step's expectations were not met in time (the board's log says which).
    Failed,
}

/// The simulator's admin API.
#[derive(Debug)]
pub(crate) struct SimAdmin {
    pub(crate) url: String,
    http: reqwest::Client,
}

impl SimAdmin {
    pub(crate) fn new(url: &str) -> anyhow::Result<Self> {
        // The simulator is on loopback: a proxy from the environment must not be used for it.
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            url: url.to_owned(),
            http,
        })
    }

    /// POSTs `body` to `/_admin/<call>`, failing on an error status.
    async fn post(&self, call: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}/_admin/{call}", self.url))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("simulator /_admin/{call}"))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or_default();
        anyhow::ensure!(
            status.is_success(),
            "simulator /_admin/{call} {body}: {status} {answer}"
        );
        Ok(answer)
    }
}

/// Adds the demo devices to both vendor clouds, healthy (activated, protected, no threats).
pub(crate) async fn enroll_devices(sim: &SimAdmin) -> anyhow::Result<()> {
    let devices: Vec<Value> = DEVICES
        .iter()
        .map(|device| {
            let owner = device.id.split('-').next().unwrap_or(device.id);
            json!({
                "id": device.id,
                "platform": device.platform,
                "email": format!("{owner}@corp.example"),
                "manufacturer": device.manufacturer,
                "model": device.model,
                "os_version": device.os_version,
            })
        })
        .collect();
    sim.post("devices", json!({ "devices": devices })).await?;
    Ok(())
}

/// What a step does at the vendor.
#[derive(Debug)]
enum Action {
    /// The device's MTD app reports a threat to its vendor.
    Infect {
        device: &'static str,
        vendor: Vendor,
        threat: &'static str,
        severity: &'static str,
        category: &'static str,
        classification: &'static str,
    },
    /// The vendor resolves every open threat of the device.
    Remediate {
        device: &'static str,
        vendor: Vendor,
    },
}

/// What the core must decide about a device once the step has taken effect.
#[derive(Debug)]
struct Expected {
    device: &'static str,
    level: api::ThreatLevel,
    compliance: api::ComplianceStatus,
    /// The decision for every resource.
    access: api::Decision,
    /// Whether the step flips the device's access to `access` on every resource.
    flips: bool,
}

#[derive(Debug)]
struct Step {
    title: &'static str,
    action: Option<Action>,
    expected: Vec<Expected>,
    /// Whether a flip the step does not expect is a failure. Not while devices enrol: a new
    /// device's access may flip to ALLOW more than once on its way in (a report from the vendor
    /// that does not count for its platform can come first), so there only the end state counts.
    only_expected_flips: bool,
}

/// The story.
fn steps() -> Vec<Step> {
    let mut steps = vec![all_secured()];
    steps.extend(threats());
    steps.extend(remediations());
    steps
}

/// Where the story starts: every device secured, with access.
fn all_secured() -> Step {
    use api::{ComplianceStatus::*, Decision::*, ThreatLevel::*};
    Step {
        title: "the MTD apps report every device secured: all are compliant and reach Exchange and SharePoint",
        action: None,
        expected: DEVICES
            .iter()
            .map(|device| Expected::new(device.id, Secured, Compliant, Allow, false))
            .collect(),
        only_expected_flips: false,
    }
}

/// Three threats arrive: HIGH and MEDIUM take access away, LOW does not.
fn threats() -> [Step; 3] {
    use api::{ComplianceStatus::*, Decision::*, ThreatLevel::*};
    [
        Step::change(
            "alice-iphone installs a trojanised flashlight app; Lookout rates the device HIGH",
            Action::Infect {
                device: "alice-iphone",
                vendor: Vendor::Lookout,
                threat: "com.example.flashlight",
                severity: "HIGH",
                category: "APPLICATION",
                classification: "TROJAN",
            },
            Expected::new("alice-iphone", High, Noncompliant, Deny, true),
        ),
        Step::change(
            "carol-pixel joins a cafe Wi-Fi with a man-in-the-middle attacker; Zimperium rates it MEDIUM",
            Action::Infect {
                device: "carol-pixel",
                vendor: Vendor::Zimperium,
                threat: "MITM on cafe-wifi",
                severity: "MEDIUM",
                category: "NETWORK",
                classification: "MITM",
            },
            Expected::new("carol-pixel", Medium, Noncompliant, Deny, true),
        ),
        Step::change(
            "bob-iphone runs an outdated iOS, a LOW OS flaw: at or under the allowed level, so bob keeps access",
            Action::Infect {
                device: "bob-iphone",
                vendor: Vendor::Lookout,
                threat: "outdated iOS",
                severity: "LOW",
                category: "OS",
                classification: "OUTDATED_OS",
            },
            Expected::new("bob-iphone", Low, Compliant, Allow, false),
        ),
    ]
}

/// The vendors resolve the threats: access comes back where it was taken away.
fn remediations() -> [Step; 3] {
    use api::{ComplianceStatus::*, Decision::*, ThreatLevel::*};
    [
        Step::change(
            "alice-iphone removes the app; Lookout resolves the threat and access is granted again",
            Action::Remediate {
                device: "alice-iphone",
                vendor: Vendor::Lookout,
            },
            Expected::new("alice-iphone", Secured, Compliant, Allow, true),
        ),
        Step::change(
            "carol-pixel leaves the network; Zimperium marks the threat mitigated and access is granted again",
            Action::Remediate {
                device: "carol-pixel",
                vendor: Vendor::Zimperium,
            },
            Expected::new("carol-pixel", Secured, Compliant, Allow, true),
        ),
        Step::change(
            "bob-iphone updates iOS; Lookout resolves the OS flaw",
            Action::Remediate {
                device: "bob-iphone",
                vendor: Vendor::Lookout,
            },
            Expected::new("bob-iphone", Secured, Compliant, Allow, false),
        ),
    ]
}

impl Expected {
    fn new(
        device: &'static str,
        level: api::ThreatLevel,
        compliance: api::ComplianceStatus,
        access: api::Decision,
        flips: bool,
    ) -> Self {
        Expected {
            device,
            level,
            compliance,
            access,
            flips,
        }
    }
}

impl Step {
    /// A step that acts on one device and expects exactly the flips it names.
    fn change(title: &'static str, action: Action, expected: Expected) -> Self {
        Step {
            title,
            action: Some(action),
            expected: vec![expected],
            only_expected_flips: true,
        }
    }
}

/// Plays every step; `pacing` pauses between steps (interactive mode). Returns after the last
/// step, or at the first step whose expectations are not met within `step_timeout`.
pub(crate) async fn play(
    sim: &SimAdmin,
    board: &watch::Sender<Board>,
    pacing: Option<Duration>,
    step_timeout: Duration,
    console: Option<&ConsoleCheck>,
    out: &Out,
) -> anyhow::Result<Outcome> {
    let steps = steps();
    let total = steps.len();
    let expected_flips: usize = steps
        .iter()
        .flat_map(|step| &step.expected)
        .filter(|expected| expected.flips)
        .count()
        * RESOURCES.len();
    out.line(&format!(
        "PLAYING the scenario: {total} steps, {expected_flips} expected access flips"
    ));
    let mut watcher = board.subscribe();
    for (index, step) in steps.iter().enumerate() {
        let number = index + 1;
        let flips_before = board.borrow().flips.len();
        board.send_modify(|board| {
            board.step = Some((number, total, step.title.to_owned()));
            board
                .log
                .push(format!("STEP {number}/{total}: {}", step.title));
        });
        if let Some(action) = &step.action {
            apply(sim, action).await?;
        }
        // `wait_for` returns a read guard of the board; it is dropped at once (`map(drop)`), or
        // the board could not be changed while this step reports.
        let met = tokio::time::timeout(step_timeout, async {
            watcher
                .wait_for(|board| step.is_met(board, flips_before))
                .await
                .map(drop)
        })
        .await;
        let report = match met {
            Ok(Ok(())) => step.report_met(&board.borrow(), flips_before),
            Ok(Err(_)) => anyhow::bail!("the board's channel closed"),
            Err(_) => {
                let missing = step.report_missing(&board.borrow(), flips_before, step_timeout);
                board.send_modify(|board| {
                    board.log.extend(missing);
                    board.log.push(format!(
                        "RESULT FAILED at step {number}/{total}: an expected decision did not happen within {step_timeout:?}"
                    ));
                });
                return Ok(Outcome::Failed);
            }
        };
        let failed = report.iter().any(|line| line.starts_with("UNEXPECTED"));
        board.send_modify(|board| board.log.extend(report));
        if failed {
            board.send_modify(|board| {
                board.log.push(format!(
                    "RESULT FAILED at step {number}/{total}: a decision flipped that should not have"
                ));
            });
            return Ok(Outcome::Failed);
        }
        if let Some(console) = console {
            if !console_shows_step(console, board, (number, total), step_timeout).await? {
                return Ok(Outcome::Failed);
            }
        }
        if let Some(pause) = pacing {
            tokio::time::sleep(pause).await;
        }
    }
    board.send_modify(|board| {
        board.step = None;
        board.log.push(format!(
            "RESULT ok: all {expected_flips} expected access flips happened, and no other"
        ));
    });
    Ok(Outcome::Passed)
}

/// Waits until the web console shows every device as the board has it after step `number` of `total`;
/// logs the outcome. False if it did not within `within`.
async fn console_shows_step(
    console: &ConsoleCheck,
    board: &watch::Sender<Board>,
    (number, total): (usize, usize),
    within: Duration,
) -> anyhow::Result<bool> {
    let rows = board.borrow().rows.clone();
    let missing = console.wait_until_shown(&rows, within).await?;
    board.send_modify(|board| {
        if missing.is_empty() {
            board
                .log
                .push("CONSOLE shows every device's level and compliance".to_owned());
        } else {
            board.log.push(format!(
                "RESULT FAILED at step {number}/{total}: the web console did not show {} within {within:?}",
                missing.join(", ")
            ));
        }
    });
    Ok(missing.is_empty())
}

/// Does the step's action at the simulator.
async fn apply(sim: &SimAdmin, action: &Action) -> anyhow::Result<()> {
    match action {
        Action::Infect {
            device,
            vendor,
            threat,
            severity,
            category,
            classification,
        } => sim.post(
            "infect",
            json!({
                "device": device,
                "vendor": vendor.connector_id(),
                "threat": threat,
                "severity": severity,
                "category": category,
                "classification": classification,
            }),
        ),
        Action::Remediate { device, vendor } => sim.post(
            "remediate",
            json!({ "device": device, "vendor": vendor.connector_id() }),
        ),
    }
    .await
    .map(drop)
}

impl Step {
    /// The flips the step must cause: (device, resource, new decision).
    fn expected_flips(
        &self,
    ) -> impl Iterator<Item = (&'static str, &'static str, api::Decision)> + '_ {
        self.expected
            .iter()
            .filter(|expected| expected.flips)
            .flat_map(|expected| {
                RESOURCES
                    .iter()
                    .map(move |resource| (expected.device, *resource, expected.access))
            })
    }

    fn flip_seen(
        board: &Board,
        flips_before: usize,
        (device, resource, to): (&str, &str, api::Decision),
    ) -> bool {
        board.flips[flips_before..]
            .iter()
            .any(|flip| flip.device == device && flip.resource == resource && flip.to == to)
    }

    /// Whether every expected flip happened since `flips_before` and every expected state holds,
    /// with every event behind the states delivered (so no flip of this step is still on its way).
    fn is_met(&self, board: &Board, flips_before: usize) -> bool {
        board.caught_up()
            && self
                .expected_flips()
                .all(|flip| Self::flip_seen(board, flips_before, flip))
            && self.expected.iter().all(|expected| {
                board.row(expected.device).is_some_and(|row| {
                    row.level == expected.level
                        && row.compliance == expected.compliance
                        && RESOURCES.iter().all(|resource| {
                            row.decision(resource) == expected.access
                                && row.http_status(resource) == enforced_status(expected.access)
                        })
                })
            })
    }

    /// The lines saying the step is met, and any flip that happened though the step does not
    /// expect it (if it allows only expected flips).
    fn report_met(&self, board: &Board, flips_before: usize) -> Vec<String> {
        let expected: Vec<_> = self.expected_flips().collect();
        let mut lines: Vec<String> = self
            .expected
            .iter()
            .filter_map(|expected| board.row(expected.device))
            .map(|row| {
                format!(
                    "  ok: {} is {}, {}: {}",
                    row.device,
                    level_name(row.level),
                    compliance_name(row.compliance),
                    RESOURCES
                        .iter()
                        .map(|resource| format!(
                            "{resource} {} (Envoy answers {})",
                            decision_name(row.decision(resource)),
                            row.http_status(resource).unwrap_or_default()
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect();
        let unexpected = board.flips[flips_before..].iter().filter(|flip| {
            self.only_expected_flips
                && !expected.iter().any(|(device, resource, to)| {
                    flip.device == *device && flip.resource == *resource && flip.to == *to
                })
        });
        lines.extend(unexpected.map(|flip: &Flip| format!("UNEXPECTED {}", flip.line())));
        lines
    }

    /// The lines naming each expected flip and state that did not happen within `waited`.
    fn report_missing(&self, board: &Board, flips_before: usize, waited: Duration) -> Vec<String> {
        let mut lines = Vec::new();
        for flip in self.expected_flips() {
            if !Self::flip_seen(board, flips_before, flip) {
                let (device, resource, to) = flip;
                lines.push(format!(
                    "MISSING flip {device} {resource} -> {} within {waited:?}",
                    decision_name(to)
                ));
            }
        }
        for expected in &self.expected {
            let Some(row) = board.row(expected.device) else {
                continue;
            };
            let seen = (
                row.level,
                row.compliance,
                RESOURCES.map(|resource| row.decision(resource)),
            );
            let wanted = (
                expected.level,
                expected.compliance,
                RESOURCES.map(|_| expected.access),
            );
            for resource in RESOURCES {
                let status = row.http_status(resource);
                if status != enforced_status(expected.access) {
                    lines.push(format!(
                        "MISSING status {} {resource}: expected HTTP {} through Envoy, the last answer was {}",
                        expected.device,
                        enforced_status(expected.access).unwrap_or_default(),
                        status.map_or_else(|| "none yet".to_owned(), |status| status.to_string()),
                    ));
                }
            }
            if seen != wanted {
                lines.push(format!(
                    "MISSING state {}: expected {} {} {}, the core says {} {} {:?}",
                    expected.device,
                    level_name(expected.level),
                    compliance_name(expected.compliance),
                    decision_name(expected.access),
                    level_name(row.level),
                    compliance_name(row.compliance),
                    seen.2.map(decision_name),
                ));
            }
        }
        lines
    }
}
