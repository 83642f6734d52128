//! The board: what the demo knows of the core's decisions, fed by the risk stream (`live`), waited
//! on by the scenario and drawn by the view. It lives in a `tokio::sync::watch` channel, so every
//! change wakes whoever waits or draws.

use riskgate_proto::v1 as api;

use crate::{devices::DemoDevice, resources::RESOURCES};

/// The whole picture.
#[derive(Debug, Clone)]
pub(crate) struct Board {
    /// One row per demo device, in the scenario's order.
    pub(crate) rows: Vec<Row>,
    /// Every access decision flip the core published, in order.
    pub(crate) flips: Vec<Flip>,
    /// The narrative: steps, flips and results, one line each, in order (line mode prints each once).
    pub(crate) log: Vec<String>,
    /// The latest event of the risk stream, rendered.
    pub(crate) latest_event: String,
    /// The step being played: (number, total, title).
    pub(crate) step: Option<(usize, usize, String)>,
    /// The processes, one line.
    pub(crate) processes: String,
    /// The risk stream has delivered every matching event up to this log position.
    pub(crate) stream_position: u64,
}

/// A device as the core decides about it.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) device: &'static str,
    pub(crate) vendor: &'static str,
    /// The level that counts (from the connector enabled for its platform); unspecified before data.
    pub(crate) level: api::ThreatLevel,
    pub(crate) compliance: api::ComplianceStatus,
    /// One decision per entry of [`RESOURCES`].
    pub(crate) access: [api::Decision; RESOURCES.len()],
    /// The HTTP status the device last got through Envoy, per entry of [`RESOURCES`] (0: no answer).
    pub(crate) http: [Option<u16>; RESOURCES.len()],
    /// The log position the decisions were made at.
    pub(crate) position: u64,
}

/// One access decision flip, from an `AccessDecisionChange` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flip {
    pub(crate) device: String,
    pub(crate) resource: String,
    pub(crate) from: api::Decision,
    pub(crate) to: api::Decision,
}

impl Flip {
    /// `FLIP alice-iphone exchange ALLOW -> DENY`: the line the headless test looks for.
    pub(crate) fn line(&self) -> String {
        format!(
            "FLIP {} {} {} -> {}",
            self.device,
            self.resource,
            decision_name(self.from),
            decision_name(self.to)
        )
    }
}

impl Board {
    /// A board with a row per device and nothing known yet.
    pub(crate) fn new<'a>(devices: impl Iterator<Item = &'a DemoDevice>) -> Self {
        Self {
            rows: devices
                .map(|device| Row {
                    device: device.id,
                    vendor: device.vendor.display_name(),
                    level: api::ThreatLevel::Unspecified,
                    compliance: api::ComplianceStatus::Unspecified,
                    access: [api::Decision::Unspecified; RESOURCES.len()],
                    http: [None; RESOURCES.len()],
                    position: 0,
                })
                .collect(),
            flips: Vec::new(),
            log: Vec::new(),
            latest_event: String::new(),
            step: None,
            processes: String::new(),
            stream_position: 0,
        }
    }

    /// Whether the stream has delivered every event behind the decisions in the table. The
    /// decisions come from `CheckAccess`, which may answer from a commit whose later events (its
    /// flips) the stream has not delivered yet; until it has, a flip list is incomplete.
    pub(crate) fn caught_up(&self) -> bool {
        self.rows
            .iter()
            .all(|row| self.stream_position >= row.position)
    }

    /// The row of `device`, if it is a demo device.
    pub(crate) fn row(&self, device: &str) -> Option<&Row> {
        self.rows.iter().find(|row| row.device == device)
    }

    pub(crate) fn row_mut(&mut self, device: &str) -> Option<&mut Row> {
        self.rows.iter_mut().find(|row| row.device == device)
    }

    pub(crate) fn set_processes(&mut self, line: String) {
        self.processes = line;
    }
}

impl Row {
    /// The decision for `resource`.
    pub(crate) fn decision(&self, resource: &str) -> api::Decision {
        RESOURCES
            .iter()
            .position(|r| *r == resource)
            .map_or(api::Decision::Unspecified, |i| self.access[i])
    }

    /// The HTTP status the device last got for `resource` through Envoy.
    pub(crate) fn http_status(&self, resource: &str) -> Option<u16> {
        RESOURCES
            .iter()
            .position(|r| *r == resource)
            .and_then(|i| self.http[i])
    }
}

/// The status a client gets through Envoy for `decision`: 200 from the app, or riskgate's 403.
pub(crate) fn enforced_status(decision: api::Decision) -> Option<u16> {
    match decision {
        api::Decision::Allow => Some(200),
        api::Decision::Deny => Some(403),
        api::Decision::Unspecified => None,
    }
}

/// `HIGH`, `SECURED`; `-` before any data.
pub(crate) fn level_name(level: api::ThreatLevel) -> &'static str {
    short(level.as_str_name(), "THREAT_LEVEL_")
}

/// `COMPLIANT`, `NONCOMPLIANT`, ...; `-` before any data.
pub(crate) fn compliance_name(status: api::ComplianceStatus) -> &'static str {
    short(status.as_str_name(), "COMPLIANCE_STATUS_")
}

/// `ALLOW`, `DENY`; `-` before any data.
pub(crate) fn decision_name(decision: api::Decision) -> &'static str {
    short(decision.as_str_name(), "DECISION_")
}

/// `HIGH_SEVERITY`, ...
pub(crate) fn health_name(state: api::HealthState) -> &'static str {
    short(state.as_str_name(), "HEALTH_STATE_")
}

fn short(name: &'static str, prefix: &str) -> &'static str {
    match name.strip_prefix(prefix) {
        Some("UNSPECIFIED") | None => "-",
        Some(rest) => rest,
    }
}
