//! The zConsole API client: login with the API key, refresh before the JWT's `exp`, log in again
//! when a refresh is refused, wait out `429 Retry-After`, and back off with jitter on server errors
//! and transport failures. Every wait ends early on shutdown.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use reqwest::StatusCode;
use riskgate_sdk::{
    tokio,
    toolkit::{self, Jitter, RetryPolicy, Secret},
    Shutdown,
};
use serde_json::{json, Value};

use crate::{config::ZimperiumConfig, log};

/// The login path.
pub const LOGIN_PATH: &str = "/api/auth/v1/api_keys/login";
/// The refresh path.
pub const REFRESH_PATH: &str = "/api/auth/v1/api_keys/access";
/// The threats path.
pub const THREATS_PATH: &str = "/api/threats/public/v1/threats";
/// The devices path.
pub const DEVICES_PATH: &str = "/api/devices/public/v2/devices/start-scroll";
/// One device by id: `GET {DEVICES_BY_ID_PATH}/{id}`.
pub const DEVICES_BY_ID_PATH: &str = "/api/devices/public/v2/devices";

/// Token lifetime assumed when the JWT has no readable `exp` (SEKOIA's assumption).
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Consecutive refused logins before the credentials are declared wrong.
const MAX_REFUSED_LOGINS: u32 = 5;
/// First retry pause.
const BASE_BACKOFF: Duration = Duration::from_millis(200);

/// Why a request failed for good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The API key was refused again and again.
    #[error("credentials refused: {0}")]
    Credentials(String),
    /// The connector is shutting down.
    #[error("stopped")]
    Stopped,
    /// A status that retrying does not fix (400, 404, ...), or a body that is not JSON.
    #[error("{0}")]
    Unexpected(String),
}

/// Counters of what the client went through, logged by the connector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Successful logins.
    pub logins: u64,
    /// Successful refreshes.
    pub refreshes: u64,
    /// 401 answers to data requests.
    pub unauthorized: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// 5xx answers and transport failures.
    pub server_errors: u64,
}

#[derive(Debug, Clone)]
struct Tokens {
    access: String,
    refresh: String,
    /// When to refresh: a little before the token expires.
    refresh_at: SystemTime,
}

/// An authenticated zConsole client.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    client_id: String,
    secret: Secret,
    max_backoff: Duration,
    retry: RetryPolicy,
    tokens: Option<Tokens>,
    refused_logins: u32,
    /// What happened so far.
    pub stats: ClientStats,
}

enum Outcome {
    Done(Value),
    Retry { pause: Duration, why: String },
    Reauthenticate,
}

impl Client {
    /// A client for `config` (no request is made yet).
    pub fn new(config: &ZimperiumConfig) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .user_agent(concat!("riskgate-zimperium/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Unexpected(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base_url: config.base_url.clone(),
            client_id: config.client_id.clone(),
            secret: config.secret.clone(),
            max_backoff: config.max_backoff,
            retry: retry_policy(config.max_backoff),
            tokens: None,
            refused_logins: 0,
            stats: ClientStats::default(),
        })
    }

    /// GETs `path` with `query`, authenticating as needed and retrying what retrying can fix.
    pub async fn get_json(
        &mut self,
        path: &str,
        query: &[(&str, String)],
        shutdown: &Shutdown,
    ) -> Result<Value, ClientError> {
        let mut attempt = 0u32;
        loop {
            let access = self.access_token(shutdown).await?;
            let sent = self
                .http
                .get(format!("{}{path}", self.base_url))
                .query(query)
                .bearer_auth(&access)
                .header("Accept", "application/json")
                .send()
                .await;
            match self.classify(sent, attempt).await {
                Outcome::Done(value) => return Ok(value),
                Outcome::Reauthenticate => {
                    self.stats.unauthorized += 1;
                    log(
                        "WARN",
                        format_args!("GET {path}: 401, refreshing the token"),
                    );
                    // Refresh first; `access_token` logs in again if the refresh is refused.
                    if let Some(tokens) = &mut self.tokens {
                        tokens.refresh_at = UNIX_EPOCH;
                    }
                    if attempt > 0 {
                        // A fresh token was refused too: pause before trying again.
                        pause(self.retry.delay(attempt), shutdown).await?;
                    }
                }
                Outcome::Retry { pause: wait, why } => {
                    log(
                        "WARN",
                        format_args!("GET {path}: {why}; retrying in {}ms", wait.as_millis()),
                    );
                    pause(wait, shutdown).await?;
                }
            }
            attempt = attempt.saturating_add(1);
        }
    }

    async fn classify(
        &mut self,
        sent: Result<reqwest::Response, reqwest::Error>,
        attempt: u32,
    ) -> Outcome {
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                self.stats.server_errors += 1;
                return Outcome::Retry {
                    pause: self.retry.delay(attempt),
                    why: format!("transport error: {e}"),
                };
            }
        };
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            return Outcome::Reauthenticate;
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.stats.rate_limited += 1;
            let wait = retry_after(response.headers())
                .unwrap_or_else(|| self.retry.delay(attempt))
                .min(self.max_backoff);
            return Outcome::Retry {
                pause: wait,
                why: "rate limited (429)".to_owned(),
            };
        }
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            self.stats.server_errors += 1;
            return Outcome::Retry {
                pause: self.retry.delay(attempt),
                why: format!("server error ({status})"),
            };
        }
        let body = response.bytes().await;
        if !status.is_success() {
            let detail = body
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            // Not retryable as such; the connector retries the whole poll later.
            return Outcome::Retry {
                pause: self.retry.delay(attempt.max(4)),
                why: format!("unexpected status {status} {detail}"),
            };
        }
        match body.map(|b| serde_json::from_slice::<Value>(&b)) {
            Ok(Ok(value)) => Outcome::Done(value),
            Ok(Err(e)) => Outcome::Retry {
                pause: self.retry.delay(attempt),
                why: format!("the body is not JSON ({e})"),
            },
            Err(e) => {
                self.stats.server_errors += 1;
                Outcome::Retry {
                    pause: self.retry.delay(attempt),
                    why: format!("reading the body failed: {e}"),
                }
            }
        }
    }

    /// A valid access token: the held one, a refreshed one, or a new login.
    async fn access_token(&mut self, shutdown: &Shutdown) -> Result<String, ClientError> {
        if let Some(tokens) = &self.tokens {
            if SystemTime::now() < tokens.refresh_at {
                return Ok(tokens.access.clone());
            }
            let refresh = tokens.refresh.clone();
            match self
                .authenticate(REFRESH_PATH, json!({"refreshToken": refresh}), shutdown)
                .await?
            {
                Some(tokens) => {
                    self.stats.refreshes += 1;
                    let access = tokens.access.clone();
                    self.tokens = Some(tokens);
                    return Ok(access);
                }
                None => {
                    log(
                        "INFO",
                        format_args!("the refresh token was refused; logging in again"),
                    );
                    self.tokens = None;
                }
            }
        }
        let mut attempt = 0u32;
        loop {
            let body = json!({"clientId": self.client_id, "secret": self.secret.expose()});
            match self.authenticate(LOGIN_PATH, body, shutdown).await? {
                Some(tokens) => {
                    self.stats.logins += 1;
                    self.refused_logins = 0;
                    let access = tokens.access.clone();
                    self.tokens = Some(tokens);
                    return Ok(access);
                }
                None => {
                    self.refused_logins += 1;
                    if self.refused_logins >= MAX_REFUSED_LOGINS {
                        return Err(ClientError::Credentials(format!(
                            "the login of client id {:?} was refused {} times in a row",
                            self.client_id, self.refused_logins
                        )));
                    }
                    let wait = self.retry.delay(attempt.max(2));
                    log(
                        "WARN",
                        format_args!("login refused; retrying in {}ms", wait.as_millis()),
                    );
                    pause(wait, shutdown).await?;
                    attempt += 1;
                }
            }
        }
    }

    /// POSTs to the login or refresh endpoint until it answers: `Some` tokens, or `None` when the
    /// credentials or refresh token were refused (401 or 403).
    async fn authenticate(
        &mut self,
        path: &str,
        body: Value,
        shutdown: &Shutdown,
    ) -> Result<Option<Tokens>, ClientError> {
        let mut attempt = 0u32;
        loop {
            let sent = self
                .http
                .post(format!("{}{path}", self.base_url))
                .json(&body)
                .send()
                .await;
            if let Ok(response) = &sent {
                if matches!(
                    response.status(),
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                ) {
                    return Ok(None);
                }
            }
            match self.classify(sent, attempt).await {
                Outcome::Done(value) => match tokens_of(&value) {
                    Some(tokens) => return Ok(Some(tokens)),
                    None => {
                        let wait = self.retry.delay(attempt);
                        log(
                            "WARN",
                            format_args!(
                                "POST {path}: no accessToken in the answer; retrying in {}ms",
                                wait.as_millis()
                            ),
                        );
                        pause(wait, shutdown).await?;
                    }
                },
                Outcome::Reauthenticate => return Ok(None),
                Outcome::Retry { pause: wait, why } => {
                    log(
                        "WARN",
                        format_args!("POST {path}: {why}; retrying in {}ms", wait.as_millis()),
                    );
                    pause(wait, shutdown).await?;
                }
            }
            attempt = attempt.saturating_add(1);
        }
    }
}

fn tokens_of(value: &Value) -> Option<Tokens> {
    let access = value.get("accessToken")?.as_str()?.to_owned();
    let refresh = value
        .get("refreshToken")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let now = SystemTime::now();
    let expires_at = jwt_expiry(&access).unwrap_or(now + DEFAULT_TOKEN_TTL);
    let ttl = expires_at.duration_since(now).unwrap_or_default();
    // Refresh a fifth of the lifetime early, at most a minute early.
    let margin = (ttl / 5).min(Duration::from_secs(60));
    Some(Tokens {
        access,
        refresh,
        refresh_at: expires_at.checked_sub(margin).unwrap_or(now),
    })
}

/// The `exp` claim of a JWT, if it has one.
pub fn jwt_expiry(token: &str) -> Option<SystemTime> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_u64()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(exp))
}

/// The pause a `Retry-After` header asks for (seconds or an HTTP date).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    toolkit::retry_after(headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?)
}

/// Exponential backoff from [`BASE_BACKOFF`] up to `max`, with equal jitter: a random pause between
/// half and all of `min(max, BASE_BACKOFF * 2^attempt)`.
pub fn retry_policy(max: Duration) -> RetryPolicy {
    RetryPolicy::new(BASE_BACKOFF, max).with_jitter(Jitter::Equal)
}

async fn pause(wait: Duration, shutdown: &Shutdown) -> Result<(), ClientError> {
    tokio::select! {
        () = tokio::time::sleep(wait) => Ok(()),
        () = shutdown.wait() => Err(ClientError::Stopped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jwt_expiry_is_read_from_the_exp_claim() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"x","exp":1750000000}"#);
        let token = format!("eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln");
        assert_eq!(
            jwt_expiry(&token),
            Some(UNIX_EPOCH + Duration::from_secs(1_750_000_000))
        );
        assert_eq!(jwt_expiry("TOKEN1"), None);
        assert_eq!(jwt_expiry("a.bm90IGpzb24.c"), None);
    }

    #[test]
    fn tokens_refresh_a_fifth_of_their_lifetime_early_capped_at_a_minute() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let token = |ttl: u64| {
            let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(format!(r#"{{"exp":{}}}"#, now + ttl));
            json!({"accessToken": format!("h.{payload}.s"), "refreshToken": "r"})
        };
        let short = tokens_of(&token(10)).unwrap();
        let early = (UNIX_EPOCH + Duration::from_secs(now + 10))
            .duration_since(short.refresh_at)
            .unwrap();
        assert!(
            early >= Duration::from_secs(1) && early <= Duration::from_secs(3),
            "{early:?}"
        );
        let long = tokens_of(&token(3600)).unwrap();
        let early = (UNIX_EPOCH + Duration::from_secs(now + 3600))
            .duration_since(long.refresh_at)
            .unwrap();
        assert_eq!(early, Duration::from_secs(60));
        // No exp: an hour is assumed.
        let opaque =
            tokens_of(&json!({"accessToken": "TOKEN1", "refreshToken": "TOKEN2"})).unwrap();
        assert!(opaque.refresh_at > SystemTime::now() + Duration::from_secs(3000));
        assert!(tokens_of(&json!({"refreshToken": "r"})).is_none());
    }
}
