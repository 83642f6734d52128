//! Who calls the management API. Receivers send OAuth 2.0 bearer tokens (the metadata's
//! `authorization_schemes`); riskgate configures them as the core configures its tokens: a name, the
//! token's SHA-256 and roles. The roles are the scopes receivers know:
//!
//! - `ssf.read`: read its own streams, their status and the poll endpoint (polling reads the stream);
//! - `ssf.manage`: create, change and delete its own streams, subjects and verification (implies read);
//! - `admin`: every stream, and test events (`riskctl ssf emit-test`).
//!
//! A receiver owns the streams it creates (by token name) and sees no other; another receiver's stream id
//! is answered as if it did not exist (404), so ids do not leak either.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{config::TokenConfig, error::ApiError};

/// A role (scope) a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `ssf.read`.
    Read,
    /// `ssf.manage`.
    Manage,
    /// `admin`.
    Admin,
}

impl Role {
    /// Parses `ssf.read`, `ssf.manage` or `admin`.
    pub fn parse(raw: &str) -> Result<Role, String> {
        match raw {
            "ssf.read" => Ok(Role::Read),
            "ssf.manage" => Ok(Role::Manage),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "{other:?} is not a role (ssf.read, ssf.manage, admin)"
            )),
        }
    }
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name: the owner of the streams it creates.
    pub name: String,
    /// The `aud` of its streams' SETs.
    pub audience: String,
    roles: Vec<Role>,
}

impl Caller {
    /// Whether it may read streams.
    pub fn may_read(&self) -> bool {
        !self.roles.is_empty()
    }

    /// Whether it may change streams.
    pub fn may_manage(&self) -> bool {
        self.roles.contains(&Role::Manage) || self.is_admin()
    }

    /// Whether it sees every stream.
    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }

    /// Whether a stream owned by `owner` is this caller's to see.
    pub fn owns(&self, owner: &str) -> bool {
        self.is_admin() || self.name == owner
    }
}

/// A configured token, known by its hash.
#[derive(Debug, Clone)]
struct Entry {
    caller: Caller,
    expires_at: Option<OffsetDateTime>,
}

/// The configured tokens.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    by_hash: HashMap<[u8; 32], Entry>,
}

impl Tokens {
    /// The tokens of `[[tokens]]`; errors name the entry and the field.
    pub fn from_config(entries: &[TokenConfig]) -> Result<Tokens, String> {
        let mut by_hash = HashMap::new();
        for (index, entry) in entries.iter().enumerate() {
            let field = |name: &str| format!("tokens[{index}].{name}");
            let hash =
                parse_hash(&entry.sha256).map_err(|err| format!("{}: {err}", field("sha256")))?;
            let roles = entry
                .roles
                .iter()
                .map(|raw| Role::parse(raw))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| format!("{}: {err}", field("roles")))?;
            if roles.is_empty() {
                return Err(format!("{}: give at least one role", field("roles")));
            }
            let expires_at = entry
                .expires_at
                .as_deref()
                .map(|raw| {
                    OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
                        .map_err(|err| {
                            format!("{}: {raw:?} is not RFC 3339: {err}", field("expires_at"))
                        })
                })
                .transpose()?;
            let caller = Caller {
                name: entry.name.clone(),
                audience: entry.audience.clone().unwrap_or_else(|| entry.name.clone()),
                roles,
            };
            by_hash.insert(hash, Entry { caller, expires_at });
        }
        Ok(Tokens { by_hash })
    }

    /// The caller behind an `Authorization` header value: 401 without a valid, unexpired token.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, ApiError> {
        let token = authorization
            .ok_or(ApiError::Unauthenticated("missing bearer token"))?
            .strip_prefix("Bearer ")
            .ok_or(ApiError::Unauthenticated(
                "the authorization header must be \"Bearer <token>\"",
            ))?;
        let hash: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
        let entry = self
            .by_hash
            .get(&hash)
            .ok_or(ApiError::Unauthenticated("unknown token"))?;
        if entry
            .expires_at
            .is_some_and(|expires_at| OffsetDateTime::now_utc() >= expires_at)
        {
            return Err(ApiError::Unauthenticated("expired token"));
        }
        Ok(entry.caller.clone())
    }
}

fn parse_hash(hex_text: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(hex_text).map_err(|err| format!("not hex: {err}"))?;
    bytes
        .try_into()
        .map_err(|_| "a SHA-256 is 32 bytes (64 hex digits)".to_owned())
}

#[cfg(test)]
mod tests;
