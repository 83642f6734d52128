//! The console's shared state: sessions, the live hub, the link to the core, and its settings.

use std::{sync::Arc, time::Duration};

use riskgate_proto::bearer::{Authed, BearerToken};
use riskgate_web_kit::core::CoreLink;
use tonic::service::interceptor::InterceptedService;

use crate::{
    error::{ConsoleError, ConsoleResult},
    live::Hub,
    session::{Session, Sessions},
};

/// Everything a handler needs.
#[derive(Debug)]
pub struct App {
    /// Signed-in sessions and one-time links.
    pub sessions: Sessions,
    /// The live updates.
    pub hub: Arc<Hub>,
    /// The channel to the core (the console's own token rides only on the hub's subscription).
    pub link: CoreLink,
    /// Whether pages follow live updates.
    pub live: bool,
    /// How far back the overview's chart reaches.
    pub chart_window: Duration,
    /// Whether cookies are `Secure` (served over HTTPS).
    pub secure_cookies: bool,
}

impl App {
    /// The core's channel carrying `token`: pages are read as the user, so the core enforces their role.
    pub fn core_with(&self, token: &str) -> ConsoleResult<Authed> {
        let token = BearerToken::new(token)
            .map_err(|_| ConsoleError::BadRequest("token: not printable ASCII".into()))?;
        Ok(InterceptedService::new(self.link.channel.clone(), token))
    }

    /// The core as the signed-in user.
    pub fn core_as(&self, session: &Session) -> ConsoleResult<Authed> {
        self.core_with(&session.token)
    }

    /// The position a page rendered now follows from, if live updates are on.
    pub fn live_after(&self) -> Option<u64> {
        self.live.then(|| self.hub.head())
    }
}
