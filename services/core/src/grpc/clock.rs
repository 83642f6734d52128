//! `ClockService`: moves the manual clock in tests. Served only with `--manual-clock`.

use std::sync::Arc;

use riskgate_proto::v1::{self as pb, clock_service_server::ClockService};
use tonic::{Request, Response, Status};

use super::{parse_policy, render_scalar};
use riskgate_policy::domain::ManualClock;
use riskgate_store::RiskStore;

/// The test clock API.
#[derive(Debug, Clone)]
pub(crate) struct ClockApi {
    store: RiskStore,
    clock: Arc<ManualClock>,
}

impl ClockApi {
    /// Moves `clock` and re-evaluates `store`.
    pub(crate) fn new(store: RiskStore, clock: Arc<ManualClock>) -> Self {
        Self { store, clock }
    }
}

#[tonic::async_trait]
impl ClockService for ClockApi {
    async fn advance_clock(
        &self,
        request: Request<pb::AdvanceClockRequest>,
    ) -> Result<Response<pb::AdvanceClockResponse>, Status> {
        let by = parse_policy::advance_by(request.into_inner().by)?;
        let now = self.clock.advance(by);
        // The tick runs after the advance, so everything due by `now` is evaluated before we answer.
        let position = self
            .store
            .tick(false)
            .await
            .map_err(crate::error::CoreError::from)?;
        Ok(Response::new(pb::AdvanceClockResponse {
            now: Some(render_scalar::timestamp(now)),
            position,
        }))
    }
}
