//! The Ingest RPC's batch parse, public so that it can be held to its contract from outside the crate: the
//! batch contract test (`tests/batch_contract.rs`: the plugin SDK's `validate::batch` accepts exactly what
//! this accepts) and the ingest fuzz target (`fuzz/targets`). The server runs the same parse on every batch.

use riskgate_policy::domain::{ReportBatch, Timestamp};
use riskgate_proto::v1 as pb;

use crate::error::CoreError;

/// The limits a batch is checked against: the plugin SDK's, so connectors check against the same ones.
pub use riskgate_sdk::validate::Limits;

/// Parses a connector's batch as the Ingest RPC does: checked whole against `limits` at `now` before
/// anything of it is applied. A refusal is an invalid-argument [`DomainError`] naming the field path, such as
/// `reports[2].threats[0].severity`.
///
/// [`DomainError`]: riskgate_policy::error::DomainError
pub fn parse_report_batch(
    batch: pb::ReportBatch,
    limits: &Limits,
    now: Timestamp,
) -> Result<ReportBatch, CoreError> {
    super::parse::report_batch(batch, limits, now)
}
