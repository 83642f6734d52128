//! Signing in with a riskgate token: the core's `AuthService.WhoAmI` says whose token it is and its
//! roles; `reader` may view, `admin` may act, anything else is refused. A one-time link signs in with a
//! token held for it. Signing out needs the session's CSRF token, like every state-changing form.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use maud::{html, Markup};
use riskgate_proto::v1::{auth_service_client::AuthServiceClient, WhoAmIRequest};
use tonic::Code;

use super::SignedIn;
use crate::{
    app::App,
    error::{ConsoleError, ConsoleResult},
    session::{random_token, same_secret, Role, SessionError, COOKIE, SIGNIN_COOKIE},
    view::layout::{page, Frame},
};

/// The sign-in form's fields.
#[derive(Debug, serde::Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

/// A form carrying only the CSRF token.
#[derive(Debug, serde::Deserialize)]
pub(super) struct CsrfForm {
    csrf: Option<String>,
}

pub(super) async fn form() -> Response {
    signin_page(StatusCode::OK, None)
}

pub(super) async fn sign_in(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let expected = super::cookie(&headers, SIGNIN_COOKIE).unwrap_or_default();
    if !same_secret(&expected, &form.csrf) {
        return signin_page(
            StatusCode::FORBIDDEN,
            Some("The sign-in form expired or did not come from this console; sign in again."),
        );
    }
    start(&app, form.token.trim()).await
}

pub(super) async fn once(State(app): State<Arc<App>>, Path(code): Path<String>) -> Response {
    match app.sessions.redeem(&code) {
        Some(token) => start(&app, &token).await,
        None => signin_page(
            StatusCode::UNAUTHORIZED,
            Some("This sign-in link was already used or has expired. Sign in with your token."),
        ),
    }
}

pub(super) async fn sign_out(
    State(app): State<Arc<App>>,
    signed_in: SignedIn,
    Form(form): Form<CsrfForm>,
) -> ConsoleResult<Response> {
    signed_in.check_csrf(form.csrf.as_deref())?;
    app.sessions.end(&signed_in.id);
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, cookie(&app, "", 0));
    Ok((headers, Redirect::to("/signin")).into_response())
}

/// Asks the core who `token` is and starts a session for a reader or an admin.
async fn start(app: &App, token: &str) -> Response {
    match who(app, token).await {
        Ok((name, role)) => match app.sessions.start(token.to_owned(), name.clone(), role) {
            Ok(id) => {
                tracing::info!(token = %name, role = role.name(), "signed in");
                let max_age = app.sessions.ttl().as_secs();
                let mut headers = HeaderMap::new();
                headers.insert(header::SET_COOKIE, cookie(app, &id, max_age));
                (headers, Redirect::to("/")).into_response()
            }
            Err(SessionError::Full) => {
                ConsoleError::Unavailable(SessionError::Full.to_string()).into_response()
            }
        },
        Err((status, message)) => signin_page(status, Some(&message)),
    }
}

/// The token's name and console role, or the status and message of a refusal.
async fn who(app: &App, token: &str) -> Result<(String, Role), (StatusCode, String)> {
    if token.is_empty() {
        return Err((
            StatusCode::BAD_REQUEST,
            "token: enter your riskgate token".into(),
        ));
    }
    let core = app
        .core_with(token)
        .map_err(|err| (StatusCode::BAD_REQUEST, err.to_string()))?;
    let me = match AuthServiceClient::new(core)
        .who_am_i(WhoAmIRequest {})
        .await
    {
        Ok(me) => me.into_inner(),
        Err(status) if status.code() == Code::Unauthenticated => {
            tracing::warn!("sign-in refused: the core does not accept the token");
            return Err((
                StatusCode::UNAUTHORIZED,
                "The core does not accept this token: it is unknown or has expired.".into(),
            ));
        }
        Err(status) => {
            let err = ConsoleError::Core(status);
            return Err((err.status(), err.to_string()));
        }
    };
    match Role::of(&me.roles) {
        Some(role) => Ok((me.name, role)),
        None => Err((
            StatusCode::FORBIDDEN,
            format!(
                "The token {:?} has the roles [{}]; the console needs reader or admin.",
                me.name,
                me.roles.join(", ")
            ),
        )),
    }
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure over HTTPS; `max_age` 0 removes it.
fn cookie(app: &App, value: &str, max_age: u64) -> HeaderValue {
    let secure = if app.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("riskgate_session=; Max-Age=0"))
}

/// The sign-in form, with a fresh double-submit token in its cookie and its hidden field.
fn signin_page(status: StatusCode, error: Option<&str>) -> Response {
    let csrf = random_token();
    let frame = Frame {
        title: "Sign in",
        section: None,
        session: None,
        live_after: None,
        device: None,
        flash: None,
    };
    let body: Markup = page(
        &frame,
        html! {
            main {
                h1 { "Sign in" }
                @if let Some(error) = error {
                    p class="error" id="error" role="alert" { (error) }
                }
                form method="post" action="/signin" id="signin" {
                    input type="hidden" name="csrf" value=(csrf);
                    label { "riskgate token " input type="password" name="token" autocomplete="off" required; }
                    " "
                    button type="submit" { "Sign in" }
                }
                p { small { "A token with the reader role may view; one with the admin role may also act." } }
            }
        },
    );
    let cookie =
        format!("{SIGNIN_COOKIE}={csrf}; Path=/signin; HttpOnly; SameSite=Strict; Max-Age=3600");
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::SET_COOKIE, cookie),
        ],
        body.into_string(),
    )
        .into_response()
}
