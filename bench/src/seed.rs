//! Puts a running core into the state the `check` and `scale` benchmarks query: a compliance connector, a
//! compliance policy allowing up to a LOW threat level, a resource that requires a compliant device, and
//! many devices, one in ten of which reports a MEDIUM threat (noncompliant, so CheckAccess denies it).

use std::{collections::VecDeque, ops::Range};

use anyhow::{ensure, Context as _};
use riskgate_proto::v1::{
    BatchAck, BatchOutcome, Decision, DeviceReport, HealthState, Platform, ThreatLevel,
};
use riskgate_tests::{
    admin::{check_access, compliance_connector, compliance_policy, compliant_only_resource},
    batch, now, register_connector_with, report,
    rpc::IngestSession,
    CoreProcess,
};

/// The connector every benchmark device is reported by.
pub(crate) const CONNECTOR: &str = "bench-mtd";

/// The resource CheckAccess asks about.
pub(crate) const RESOURCE: &str = "bench-app";

/// Batches sent before waiting for the oldest acknowledgement while seeding.
const SEED_WINDOW: usize = 4;

/// The id of the `index`-th benchmark device.
pub(crate) fn device_id(index: u64) -> String {
    format!("device-{index:07}")
}

/// Whether CheckAccess must allow the `index`-th device.
pub(crate) fn expected_allow(index: u64) -> bool {
    !index.is_multiple_of(10)
}

/// The report of the `index`-th device: secured, or a medium threat for one device in ten.
pub(crate) fn device_report(index: u64) -> DeviceReport {
    let health = if expected_allow(index) {
        HealthState::Secured
    } else {
        HealthState::MediumSeverity
    };
    report(&device_id(index), Platform::Android, health, now())
}

/// Registers the connector, the compliance policy (max LOW) and the resource.
pub(crate) async fn configure(core: &CoreProcess) -> anyhow::Result<()> {
    register_connector_with(core, compliance_connector(CONNECTOR)).await?;
    let mut policies = core.policy_client().await?;
    policies
        .create_compliance_policy(compliance_policy("bench-policy", ThreatLevel::Low))
        .await
        .context("CreateCompliancePolicy")?;
    policies
        .put_resource(compliant_only_resource(RESOURCE))
        .await
        .context("PutResource")?;
    Ok(())
}

/// Ingests the devices `indices` in batches of `batch_size` on one Ingest stream (a few batches in flight) and
/// checks that every report was applied. Batch numbers start at 1: call it once per store.
pub(crate) async fn ingest_devices(
    core: &CoreProcess,
    indices: Range<u64>,
    batch_size: u64,
) -> anyhow::Result<()> {
    let mut session = IngestSession::open(&mut core.ingest_client().await?, Vec::new()).await?;
    let mut outstanding = VecDeque::new();
    let mut seq = 0;
    let mut start = indices.start;
    while start < indices.end {
        let end = (start + batch_size).min(indices.end);
        seq += 1;
        let reports: Vec<_> = (start..end).map(device_report).collect();
        outstanding.push_back((seq, reports.len()));
        session
            .send(batch(CONNECTOR, seq, b"seed", reports))
            .await?;
        if outstanding.len() >= SEED_WINDOW {
            expect_applied(&mut session, &mut outstanding).await?;
        }
        start = end;
    }
    while !outstanding.is_empty() {
        expect_applied(&mut session, &mut outstanding).await?;
    }
    Ok(())
}

/// Waits for the oldest outstanding batch's acknowledgement and checks that it applied every report.
pub(crate) async fn expect_applied(
    session: &mut IngestSession,
    outstanding: &mut VecDeque<(u64, usize)>,
) -> anyhow::Result<BatchAck> {
    let (seq, reports) = outstanding.pop_front().context("no batch outstanding")?;
    expect_ack_applied(session, seq, reports).await
}

/// Waits for the next acknowledgement and checks that it is batch `seq`'s, applying all its `reports`.
pub(crate) async fn expect_ack_applied(
    session: &mut IngestSession,
    seq: u64,
    reports: usize,
) -> anyhow::Result<BatchAck> {
    let ack = session
        .next_ack()
        .await?
        .context("the core ended the Ingest stream")?;
    ensure!(
        ack.batch_seq == seq
            && ack.outcome == BatchOutcome::Applied as i32
            && ack.applied as usize == reports,
        "batch {seq} of {reports} reports was acknowledged as {ack:?}"
    );
    Ok(ack)
}

/// Asks CheckAccess about the `index`-th device and checks the answer; `Ok(false)` if it is wrong (for
/// example a restarted core that has not loaded the device yet).
pub(crate) async fn answers_correctly(
    client: &mut riskgate_tests::admin::DecisionClient,
    index: u64,
) -> anyhow::Result<bool> {
    let decision = check_access(client, &device_id(index), RESOURCE).await?;
    let expected = if expected_allow(index) {
        Decision::Allow
    } else {
        Decision::Deny
    };
    Ok(decision.decision == expected as i32)
}
