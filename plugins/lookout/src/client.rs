//! The Lookout HTTP client: OAuth2 client-credentials tokens refreshed before they expire, REST GETs
//! and the event stream, with `Retry-After` on 429 and exponential backoff with full jitter on errors.

use std::time::{Duration, Instant};

use reqwest::{header, StatusCode};
use riskgate_sdk::{
    tokio,
    toolkit::{self, Backoff, Jitter, RetryPolicy},
    Feed, Shutdown,
};
use serde_json::Value;

use crate::{config::Config, log, stats::Stats, LookoutError};

/// Sleeps unless shutdown fires first.
pub async fn pause(shutdown: &Shutdown, delay: Duration) -> Result<(), LookoutError> {
    tokio::select! {
        () = shutdown.wait() => Err(LookoutError::Shutdown),
        () = tokio::time::sleep(delay) => Ok(()),
    }
}

/// The `Retry-After` of a response (seconds or an HTTP date), if any.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let raw = response.headers().get(header::RETRY_AFTER)?.to_str().ok()?;
    toolkit::retry_after(raw)
}

/// The client.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    stream_http: reqwest::Client,
    config: Config,
    token: Option<(String, Instant)>,
    backoff: Backoff,
    /// Counters shared with the connector.
    pub stats: Stats,
    /// Where the feed's health is reported (ABI minor 2).
    feed: Feed,
}

/// What a failed attempt means.
enum Attempt {
    /// Retry now (the token was refused and dropped).
    Reauth,
    /// Retry after this delay.
    Wait(Duration),
    /// Retry with backoff.
    Backoff(String),
}

impl Client {
    /// A client for `config`.
    pub fn new(config: Config, stats: Stats, feed: Feed) -> Result<Client, LookoutError> {
        let build = |timeout: Option<Duration>| {
            let mut builder = reqwest::Client::builder()
                .connect_timeout(config.connect_timeout)
                .user_agent(concat!("riskgate-lookout/", env!("CARGO_PKG_VERSION")));
            if let Some(timeout) = timeout {
                builder = builder.timeout(timeout);
            }
            builder
                .build()
                .map_err(|e| LookoutError::Fatal(format!("HTTP client: {e}")))
        };
        Ok(Client {
            http: build(Some(config.request_timeout))?,
            // The stream is long-lived: no overall timeout, an idle timeout instead (in the reader).
            stream_http: build(None)?,
            // Equal jitter: a retry never comes much sooner than the exponential delay.
            backoff: Backoff::new(
                RetryPolicy::new(config.backoff_initial, config.backoff_max)
                    .with_jitter(Jitter::Equal),
            ),
            config,
            token: None,
            stats,
            feed,
        })
    }

    /// A valid access token, fetched or refreshed when missing or about to expire.
    async fn token(&mut self, shutdown: &Shutdown) -> Result<String, LookoutError> {
        if let Some((token, refresh_at)) = &self.token {
            if Instant::now() < *refresh_at {
                return Ok(token.clone());
            }
        }
        loop {
            match self.fetch_token().await {
                Ok(token) => {
                    self.backoff.reset();
                    return Ok(token);
                }
                Err(TokenError::Refused(why)) => {
                    return Err(LookoutError::Config(format!(
                        "application_key: refused by Lookout: {why}"
                    )))
                }
                Err(TokenError::Wait(delay)) => pause(shutdown, delay).await?,
                Err(TokenError::Other(why)) => {
                    self.feed
                        .disconnected(format!("token request failed: {why}"));
                    let delay = self.backoff.delay();
                    log::warn(&format!(
                        "token request failed ({why}); retrying in {delay:?}"
                    ));
                    self.stats.bump_errors();
                    pause(shutdown, delay).await?;
                }
            }
        }
    }

    async fn fetch_token(&mut self) -> Result<String, TokenError> {
        let url = format!("{}/oauth2/token", self.config.base_url);
        let response = self
            .http
            .post(&url)
            .bearer_auth(self.config.application_key.expose())
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .map_err(|e| TokenError::Other(e.to_string()))?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.stats.bump_rate_limited();
            return Err(TokenError::Wait(
                retry_after(&response).unwrap_or(self.config.backoff_initial),
            ));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| TokenError::Other(format!("{status}: {e}")))?;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST {
            let error = body["error"].as_str().unwrap_or_default();
            if error == "invalid_client" || error == "unauthorized_client" {
                return Err(TokenError::Refused(format!(
                    "{error}: {}",
                    body["error_description"].as_str().unwrap_or_default()
                )));
            }
        }
        if !status.is_success() {
            return Err(TokenError::Other(format!("{status}: {body}")));
        }
        let token = body["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| TokenError::Other("no access_token".to_owned()))?
            .to_owned();
        let lifetime = body["expires_in"]
            .as_u64()
            .map_or(Duration::from_secs(300), Duration::from_secs);
        let margin = self.config.token_refresh_margin.min(lifetime / 2);
        self.token = Some((token.clone(), Instant::now() + lifetime - margin));
        self.stats.bump_tokens();
        Ok(token)
    }

    fn classify(&mut self, response: &reqwest::Response) -> Attempt {
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            self.token = None;
            self.stats.bump_unauthorized();
            return Attempt::Reauth;
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.stats.bump_rate_limited();
            let delay = retry_after(response).unwrap_or_else(|| self.backoff.delay());
            return Attempt::Wait(delay);
        }
        Attempt::Backoff(format!("HTTP {status}"))
    }

    async fn retry(
        &mut self,
        shutdown: &Shutdown,
        attempt: Attempt,
        reauths: &mut u32,
        what: &str,
    ) -> Result<(), LookoutError> {
        match attempt {
            Attempt::Reauth if *reauths == 0 => {
                *reauths += 1;
                log::info(&format!("{what}: 401, fetching a new token"));
                Ok(())
            }
            Attempt::Wait(delay) => {
                log::info(&format!(
                    "{what}: rate limited; waiting {delay:?} (Retry-After)"
                ));
                pause(shutdown, delay).await
            }
            Attempt::Reauth | Attempt::Backoff(_) => {
                let why = match attempt {
                    Attempt::Backoff(why) => why,
                    _ => "401 again after a new token".to_owned(),
                };
                *reauths = 0;
                let delay = self.backoff.delay();
                self.stats.bump_errors();
                self.feed.disconnected(format!("{what}: {why}"));
                log::warn(&format!("{what}: {why}; retrying in {delay:?}"));
                pause(shutdown, delay).await
            }
        }
    }

    /// GET a REST path with query parameters, retrying until it succeeds or shutdown.
    pub async fn get_json(
        &mut self,
        shutdown: &Shutdown,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, LookoutError> {
        let url = format!("{}{path}", self.config.base_url);
        let mut reauths = 0;
        loop {
            let token = self.token(shutdown).await?;
            let sent = self
                .http
                .get(&url)
                .query(query)
                .bearer_auth(&token)
                .header(header::ACCEPT, "application/json")
                .send()
                .await;
            let attempt = match sent {
                Ok(response) if response.status().is_success() => {
                    match response.json::<Value>().await {
                        Ok(body) => {
                            self.backoff.reset();
                            self.feed.synced();
                            return Ok(body);
                        }
                        Err(e) => Attempt::Backoff(format!("unreadable body: {e}")),
                    }
                }
                Ok(response) if response.status() == StatusCode::NOT_FOUND => {
                    return Ok(Value::Null)
                }
                Ok(response) => self.classify(&response),
                Err(e) => Attempt::Backoff(e.to_string()),
            };
            self.retry(shutdown, attempt, &mut reauths, path).await?;
        }
    }

    /// Opens the event stream, retrying until it is open or shutdown.
    pub async fn open_stream(
        &mut self,
        shutdown: &Shutdown,
        query: &[(&str, String)],
        last_id: Option<&str>,
    ) -> Result<reqwest::Response, LookoutError> {
        let url = format!("{}/mra/stream/v2/events", self.config.base_url);
        let mut reauths = 0;
        loop {
            let token = self.token(shutdown).await?;
            let mut request = self
                .stream_http
                .get(&url)
                .query(query)
                .bearer_auth(&token)
                .header(header::ACCEPT, "text/event-stream")
                .header(header::CACHE_CONTROL, "no-cache");
            if let Some(id) = last_id {
                request = request.header("Last-Event-ID", id);
            }
            let sent = tokio::select! {
                () = shutdown.wait() => return Err(LookoutError::Shutdown),
                sent = tokio::time::timeout(self.config.request_timeout, request.send()) => sent,
            };
            let attempt = match sent {
                Ok(Ok(response)) if response.status().is_success() => {
                    self.backoff.reset();
                    self.feed.synced();
                    return Ok(response);
                }
                Ok(Ok(response)) => self.classify(&response),
                Ok(Err(e)) => Attempt::Backoff(e.to_string()),
                Err(_) => Attempt::Backoff("timed out".to_owned()),
            };
            self.retry(shutdown, attempt, &mut reauths, "event stream")
                .await?;
        }
    }

    /// Waits before reconnecting a stream that failed (backoff), or for `retry` when the server asked.
    pub async fn stream_pause(
        &mut self,
        shutdown: &Shutdown,
        server_retry: Option<Duration>,
    ) -> Result<(), LookoutError> {
        let delay = server_retry.unwrap_or_else(|| self.backoff.delay());
        pause(shutdown, delay).await
    }

    /// Resets the backoff after a stream delivered data.
    pub fn healthy(&mut self) {
        self.backoff.reset();
    }
}

enum TokenError {
    Refused(String),
    Wait(Duration),
    Other(String),
}
