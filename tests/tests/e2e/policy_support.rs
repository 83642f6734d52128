//! Shared set-up of the policy-engine tests: one core started with `--manual-clock`, a client of every
//! service, one-report batches with increasing observation times, and reason look-ups.

use std::{collections::BTreeMap, time::Duration};

use anyhow::{ensure, Context as _};
use riskgate_tests::{
    admin::{
        self, advance_clock, check_access, device_compliance, ClockClient, ConnectorClient,
        DecisionClient, PolicyClient, MANUAL_CLOCK,
    },
    api::{
        AccessDecision, AdvanceClockResponse, BatchAck, CompliancePolicy, Decision,
        DeviceCompliance, DeviceReport, Event, GetConnectorRequest, HealthState,
        ListDevicesRequest, Platform, Reason, Resource, Threat, ThreatCategory, ThreatLevel,
        ThreatStatus,
    },
    batch,
    events::reports_of,
    ingest, report,
    rpc::{full_history, list_all_devices, store_info},
    threat, ts, unix_now, CoreProcess, DeviceClient, IngestClient,
};
use tempfile::TempDir;

use crate::support::check_applied;

/// A core with a manual clock and a client of each service.
pub(crate) struct Env {
    pub(crate) core: CoreProcess,
    pub(crate) ingest: IngestClient,
    pub(crate) devices: DeviceClient,
    pub(crate) connectors: ConnectorClient,
    pub(crate) policies: PolicyClient,
    pub(crate) decisions: DecisionClient,
    pub(crate) clock: ClockClient,
    /// The last batch_seq sent per connector.
    seqs: BTreeMap<String, u64>,
    /// The observed_at of the last report sent (every report is one second newer).
    observed: i64,
    dir: TempDir,
}

impl Env {
    /// Starts a core with `--manual-clock` on a new data dir.
    pub(crate) async fn start() -> anyhow::Result<Env> {
        let dir = tempfile::tempdir()?;
        let core = CoreProcess::start(dir.path(), &[MANUAL_CLOCK]).await;
        Self::connect(core, dir, BTreeMap::new(), unix_now() - 3600).await
    }

    async fn connect(
        core: CoreProcess,
        dir: TempDir,
        seqs: BTreeMap<String, u64>,
        observed: i64,
    ) -> anyhow::Result<Env> {
        Ok(Env {
            ingest: core.ingest_client().await?,
            devices: core.device_client().await?,
            connectors: core.connector_client().await?,
            policies: core.policy_client().await?,
            decisions: core.decision_client().await?,
            clock: core.clock_client().await?,
            core,
            seqs,
            observed,
            dir,
        })
    }

    /// Stops the core with SIGTERM (it must exit 0) and starts it again on the same data dir.
    pub(crate) async fn restart(self) -> anyhow::Result<Env> {
        let Env {
            mut core,
            seqs,
            observed,
            dir,
            ..
        } = self;
        let status = core.terminate().await?;
        ensure!(
            status.success(),
            "SIGTERM exits with status 0, got {status}"
        );
        drop(core);
        let core = CoreProcess::start(dir.path(), &[MANUAL_CLOCK]).await;
        Self::connect(core, dir, seqs, observed).await
    }

    /// Sends one batch from `connector` holding one report about `device`, newer than every report
    /// sent before, with `threats` (each open, at the report's level); checks that it is applied.
    pub(crate) async fn send(
        &mut self,
        connector: &str,
        device: &str,
        platform: Platform,
        state: HealthState,
        threat_ids: &[&str],
    ) -> anyhow::Result<BatchAck> {
        self.observed += 1;
        let mut sent = report(device, platform, state, ts(self.observed));
        let severity = match state {
            HealthState::LowSeverity => ThreatLevel::Low,
            HealthState::MediumSeverity => ThreatLevel::Medium,
            _ => ThreatLevel::High,
        };
        sent.threats = threat_ids
            .iter()
            .map(|id| threat(id, ThreatCategory::Application, severity))
            .collect();
        self.send_report(connector, sent).await
    }

    /// Sends `threats` as resolved, with the SECURED state: the device was remediated.
    pub(crate) async fn send_remediated(
        &mut self,
        connector: &str,
        device: &str,
        platform: Platform,
        threat_ids: &[&str],
    ) -> anyhow::Result<BatchAck> {
        self.observed += 1;
        let mut sent = report(device, platform, HealthState::Secured, ts(self.observed));
        sent.threats = threat_ids
            .iter()
            .map(|id| Threat {
                status: ThreatStatus::Resolved as i32,
                resolved_at: Some(ts(unix_now() - 60)),
                ..threat(id, ThreatCategory::Application, ThreatLevel::High)
            })
            .collect();
        self.send_report(connector, sent).await
    }

    /// A report about `device`, newer than every report sent before (send it with
    /// [`Env::send_report`]).
    pub(crate) fn next_report(
        &mut self,
        device: &str,
        platform: Platform,
        state: HealthState,
    ) -> DeviceReport {
        self.observed += 1;
        report(device, platform, state, ts(self.observed))
    }

    /// Sends one batch from `connector` holding `sent`; checks that it is applied.
    pub(crate) async fn send_report(
        &mut self,
        connector: &str,
        sent: DeviceReport,
    ) -> anyhow::Result<BatchAck> {
        let seq = self.seqs.entry(connector.to_owned()).or_insert(0);
        *seq += 1;
        let seq = *seq;
        let acks = ingest(
            &mut self.ingest,
            vec![batch(connector, seq, b"", vec![sent])],
        )
        .await
        .with_context(|| format!("ingest batch {seq} of {connector}"))?;
        check_applied(&acks[0], seq, 1)?;
        Ok(acks[0])
    }

    /// CheckAccess for `device` and `resource`.
    pub(crate) async fn access(
        &mut self,
        device: &str,
        resource: &str,
    ) -> anyhow::Result<AccessDecision> {
        check_access(&mut self.decisions, device, resource).await
    }

    /// GetDeviceCompliance.
    pub(crate) async fn compliance(&mut self, device: &str) -> anyhow::Result<DeviceCompliance> {
        device_compliance(&mut self.decisions, device).await
    }

    /// Advances the manual clock by `seconds`.
    pub(crate) async fn advance(&mut self, seconds: u64) -> anyhow::Result<AdvanceClockResponse> {
        advance_clock(&mut self.clock, Duration::from_secs(seconds)).await
    }

    /// The device's whole history.
    pub(crate) async fn history(&mut self, device: &str) -> anyhow::Result<Vec<Event>> {
        Ok(full_history(&mut self.devices, device, 1000).await?.0)
    }

    /// How many device_reported events the device's history holds.
    pub(crate) async fn reports_in_history(&mut self, device: &str) -> anyhow::Result<usize> {
        Ok(reports_of(&self.history(device).await?).len())
    }

    /// GetStoreInfo.head_position.
    pub(crate) async fn head(&mut self) -> anyhow::Result<u64> {
        Ok(store_info(&mut self.devices).await?.head_position)
    }

    /// Creates a compliance policy.
    pub(crate) async fn create_policy(
        &mut self,
        policy: CompliancePolicy,
    ) -> anyhow::Result<CompliancePolicy> {
        let id = policy.policy_id.clone();
        Ok(self
            .policies
            .create_compliance_policy(policy)
            .await
            .with_context(|| format!("CreateCompliancePolicy {id:?}"))?
            .into_inner())
    }

    /// Creates or replaces a resource.
    pub(crate) async fn put_resource(&mut self, resource: Resource) -> anyhow::Result<Resource> {
        let name = resource.name.clone();
        Ok(self
            .policies
            .put_resource(resource)
            .await
            .with_context(|| format!("PutResource {name:?}"))?
            .into_inner())
    }

    /// The connector's current state (GetConnector).
    pub(crate) async fn connector_state(&mut self, connector: &str) -> anyhow::Result<i32> {
        Ok(self
            .connectors
            .get_connector(GetConnectorRequest {
                connector_id: connector.to_owned(),
            })
            .await
            .with_context(|| format!("GetConnector {connector:?}"))?
            .into_inner()
            .state)
    }

    /// A healthy heartbeat.
    pub(crate) async fn heartbeat(&mut self, connector: &str) -> anyhow::Result<i32> {
        Ok(admin::heartbeat(&mut self.connectors, connector)
            .await?
            .state)
    }

    /// How many events in positions `(after, upto]` are about no device: the span minus the events
    /// of every known device's history in it. (The API reads device-less events, such as
    /// connector_state_change, only through the log's positions.)
    pub(crate) async fn device_less_events(
        &mut self,
        after: u64,
        upto: u64,
    ) -> anyhow::Result<u64> {
        let (devices, _) = list_all_devices(
            &mut self.devices,
            ListDevicesRequest {
                page_size: 1000,
                ..Default::default()
            },
        )
        .await?;
        let mut about_devices = 0u64;
        for device in devices {
            about_devices += u64::try_from(
                self.history(&device.device_id)
                    .await?
                    .iter()
                    .filter(|e| after < e.position && e.position <= upto)
                    .count(),
            )?;
        }
        ensure!(
            about_devices <= upto - after,
            "{about_devices} device events in ({after}, {upto}]"
        );
        Ok(upto - after - about_devices)
    }
}

/// Every reason of a device's compliance: the device-level ones and each policy's.
pub(crate) fn all_compliance_reasons(compliance: &DeviceCompliance) -> Vec<&Reason> {
    compliance
        .reasons
        .iter()
        .chain(compliance.policies.iter().flat_map(|p| p.reasons.iter()))
        .collect()
}

/// Whether some reason has `code`, names `connector` (if not empty) and lists every one of
/// `threat_ids`.
pub(crate) fn has_reason(
    reasons: &[&Reason],
    code: &str,
    connector: &str,
    threat_ids: &[&str],
) -> bool {
    reasons.iter().any(|r| {
        r.code == code
            && (connector.is_empty() || r.connector_id == connector)
            && threat_ids
                .iter()
                .all(|id| r.threat_ids.iter().any(|t| t == id))
    })
}

/// Whether some reason names `connector` and lists `threat_id`.
pub(crate) fn names_threat(reasons: &[Reason], connector: &str, threat_id: &str) -> bool {
    reasons
        .iter()
        .any(|r| r.connector_id == connector && r.threat_ids.iter().any(|t| t == threat_id))
}

/// A decision's name, for messages.
pub(crate) fn decision_name(decision: i32) -> String {
    Decision::try_from(decision)
        .map_or_else(|_| format!("unknown {decision}"), |d| format!("{d:?}"))
}
