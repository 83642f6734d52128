//! Admin actions: re-check a device with every partner that reports it, and turn a connector's platform
//! toggles on or off. Each form must carry the session's CSRF token, and the user must be an admin (the
//! core checks the role again, with the user's own token). The outcome is left as a flash message for
//! the page the action redirects to.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use riskgate_proto::v1::{
    connector_service_client::ConnectorServiceClient, device_service_client::DeviceServiceClient,
    GetConnectorRequest, GetDeviceRequest, PlatformToggles, RecheckRequest, UpdateConnectorRequest,
};

use super::SignedIn;
use crate::{
    app::App,
    error::{ConsoleError, ConsoleResult},
    session::Role,
    view::words,
};

/// A form's fields, as sent.
type Fields = Vec<(String, String)>;

fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Refuses a form without the session's CSRF token, then a user who is not an admin.
fn admit(signed_in: &SignedIn, fields: &Fields) -> ConsoleResult<()> {
    signed_in.check_csrf(field(fields, "csrf"))?;
    if signed_in.session.role != Role::Admin {
        return Err(ConsoleError::Forbidden(
            "only admins may act; your token has the reader role".into(),
        ));
    }
    Ok(())
}

pub(super) async fn recheck(
    State(app): State<Arc<App>>,
    signed_in: SignedIn,
    Path(device_id): Path<String>,
    Form(fields): Form<Fields>,
) -> ConsoleResult<Response> {
    admit(&signed_in, &fields)?;
    let core = app.core_as(&signed_in.session)?;
    let device = DeviceServiceClient::new(core.clone())
        .get_device(GetDeviceRequest {
            device_id: device_id.clone(),
        })
        .await?
        .into_inner();
    let mut outcomes = Vec::new();
    for report in &device.reports {
        let answer = ConnectorServiceClient::new(core.clone())
            .recheck(RecheckRequest {
                connector_id: report.connector_id.clone(),
                device_ids: vec![device_id.clone()],
                timeout: None,
            })
            .await;
        outcomes.push(match answer {
            Ok(answer) if answer.get_ref().accepted => {
                format!("{}: re-check requested", report.connector_id)
            }
            Ok(answer) => format!(
                "{}: refused: {}",
                report.connector_id,
                answer.get_ref().message
            ),
            Err(status) => format!("{}: {}", report.connector_id, ConsoleError::Core(status)),
        });
    }
    let message = if outcomes.is_empty() {
        "No partner reports this device, so none can re-check it.".to_owned()
    } else {
        outcomes.join("; ")
    };
    app.sessions.flash(&signed_in.id, message);
    Ok(Redirect::to(&words::device_path(&device_id)).into_response())
}

pub(super) async fn toggles(
    State(app): State<Arc<App>>,
    signed_in: SignedIn,
    Path(connector_id): Path<String>,
    Form(fields): Form<Fields>,
) -> ConsoleResult<Response> {
    admit(&signed_in, &fields)?;
    let version = field(&fields, "version")
        .unwrap_or("")
        .parse::<u64>()
        .map_err(|_| ConsoleError::BadRequest("version: required, a number".into()))?;
    let mut client = ConnectorServiceClient::new(app.core_as(&signed_in.session)?);
    let mut connector = client
        .get_connector(GetConnectorRequest {
            connector_id: connector_id.clone(),
        })
        .await?
        .into_inner();
    connector.compliance_enabled = Some(toggles_of(&fields, "compliance"));
    connector.app_protection_enabled = Some(toggles_of(&fields, "app_protection"));
    let updated = client
        .update_connector(UpdateConnectorRequest {
            connector: Some(connector),
            expected_version: version,
        })
        .await;
    let message = match updated {
        Ok(_) => format!("Saved the toggles of {connector_id}."),
        Err(status) if status.code() == tonic::Code::Aborted => format!(
            "{connector_id} changed since the page was loaded; nothing was saved. Check the toggles and save again."
        ),
        Err(status) => return Err(status.into()),
    };
    app.sessions.flash(&signed_in.id, message);
    Ok(Redirect::to("/connectors").into_response())
}

/// The toggles of `group` as the form's checkboxes set them (an unchecked box is not sent).
fn toggles_of(fields: &Fields, group: &str) -> PlatformToggles {
    let on = |platform: &str| field(fields, &format!("{group}.{platform}")) == Some("on");
    PlatformToggles {
        android: on("android"),
        ios: on("ios"),
        windows: on("windows"),
        macos: on("macos"),
    }
}
