//! Signed-in sessions, held in memory: an unguessable id in an HttpOnly cookie names the session, which
//! keeps the user's riskgate token (pages are read with it, so the core enforces the user's role), the
//! role the core reported at sign-in, and the session's CSRF token, which every state-changing form must
//! carry. A restart signs everyone out; that is the price of never writing tokens to disk.
//!
//! One-time sign-in links (for the demo, or an admin handing a colleague a link) hold a token for one use
//! within a few minutes.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use parking_lot::Mutex;
use subtle::ConstantTimeEq as _;

/// The session cookie's name.
pub const COOKIE: &str = "riskgate_session";

/// The sign-in form's cookie: the same random value as the form's hidden `csrf` field (a double-submit
/// token), so that another site cannot sign a browser in under its own token.
pub const SIGNIN_COOKIE: &str = "riskgate_signin";

/// How long a one-time sign-in link works.
pub const LINK_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// What a signed-in user may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// View.
    Reader,
    /// View and act.
    Admin,
}

impl Role {
    /// The console role of a token with these core roles: admin wins; a token without reader or admin may
    /// not use the console.
    pub fn of(core_roles: &[String]) -> Option<Role> {
        if core_roles.iter().any(|role| role == "admin") {
            Some(Role::Admin)
        } else if core_roles.iter().any(|role| role == "reader") {
            Some(Role::Reader)
        } else {
            None
        }
    }

    /// The role's name, as pages show it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Admin => "admin",
        }
    }
}

/// One signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user's riskgate token.
    pub token: String,
    /// The token's configured name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// The token every state-changing form carries.
    pub csrf: String,
    expires: Instant,
}

impl Session {
    /// Whether `presented` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        same_secret(&self.csrf, presented)
    }
}

/// Whether two secrets are equal, compared in constant time; an empty one never matches.
pub fn same_secret(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// Why a session could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// `max_sessions` are signed in.
    #[error("too many signed-in sessions; try again later")]
    Full,
}

/// Every live session and one-time link.
#[derive(Debug)]
pub struct Sessions {
    ttl: Duration,
    max: usize,
    by_id: Mutex<HashMap<String, Session>>,
    links: Mutex<HashMap<String, (String, Instant)>>,
    flashes: Mutex<HashMap<String, String>>,
}

impl Sessions {
    /// Sessions lasting `ttl`, at most `max` at once.
    pub fn new(ttl: Duration, max: usize) -> Self {
        Self {
            ttl,
            max,
            by_id: Mutex::default(),
            links: Mutex::default(),
            flashes: Mutex::default(),
        }
    }

    /// Starts a session; returns its id, for the cookie.
    pub fn start(&self, token: String, name: String, role: Role) -> Result<String, SessionError> {
        let now = Instant::now();
        let mut sessions = self.by_id.lock();
        if sessions.len() >= self.max {
            sessions.retain(|_, session| session.expires > now);
            if sessions.len() >= self.max {
                return Err(SessionError::Full);
            }
        }
        let id = random_token();
        sessions.insert(
            id.clone(),
            Session {
                token,
                name,
                role,
                csrf: random_token(),
                expires: now + self.ttl,
            },
        );
        Ok(id)
    }

    /// The live session `id` names, if any.
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut sessions = self.by_id.lock();
        match sessions.get(id) {
            Some(session) if session.expires > Instant::now() => Some(session.clone()),
            Some(_) => {
                sessions.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends session `id`.
    pub fn end(&self, id: &str) {
        self.by_id.lock().remove(id);
        self.flashes.lock().remove(id);
    }

    /// Leaves a message for session `id`'s next page (an action's outcome, after its redirect).
    pub fn flash(&self, id: &str, message: String) {
        self.flashes.lock().insert(id.to_owned(), message);
    }

    /// The message left for session `id`, once.
    pub fn take_flash(&self, id: &str) -> Option<String> {
        self.flashes.lock().remove(id)
    }

    /// How long a session lasts.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A one-time sign-in code for `token`, valid for [`LINK_LIFETIME`].
    pub fn link(&self, token: String) -> String {
        let code = random_token();
        let now = Instant::now();
        let mut links = self.links.lock();
        links.retain(|_, (_, expires)| *expires > now);
        links.insert(code.clone(), (token, now + LINK_LIFETIME));
        code
    }

    /// The token of a one-time code, which is spent by this call.
    pub fn redeem(&self, code: &str) -> Option<String> {
        let (token, expires) = self.links.lock().remove(code)?;
        (expires > Instant::now()).then_some(token)
    }
}

/// 256 random bits, base64url: session ids, CSRF tokens and one-time codes.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

#[cfg(test)]
mod tests;
