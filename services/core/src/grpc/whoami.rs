//! `AuthService.WhoAmI`: the caller's token name and roles, so that a console can tell at sign-in what the
//! user may see and do without trying calls until one is refused.

use riskgate_proto::v1::{self as pb, auth_service_server::AuthService};
use tonic::{Request, Response, Status};

use super::{limits::caller, render_scalar};

/// The identity API.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthApi;

/// What WhoAmI says when authentication is off (allowed only on loopback): every caller may do everything.
const ANONYMOUS: &str = "anonymous (authentication disabled)";

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn who_am_i(
        &self,
        request: Request<pb::WhoAmIRequest>,
    ) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let response = match caller(&request) {
            Some(principal) => pb::WhoAmIResponse {
                name: principal.name,
                roles: principal.roles.iter().map(ToString::to_string).collect(),
                expires_at: principal.expires_at.map(render_scalar::timestamp),
            },
            None => pb::WhoAmIResponse {
                name: ANONYMOUS.to_owned(),
                roles: vec!["admin".to_owned()],
                expires_at: None,
            },
        };
        Ok(Response::new(response))
    }
}
