//! Subject identifiers: the simple formats of RFC 9493 that riskgate uses (`opaque`, `email`, `iss_sub`)
//! and SSF 1.0 §3.3's `complex` subject, whose members (`device`, `user`, `tenant`, …) each describe the
//! same principal. A device has no simple format of its own, so riskgate's events name a complex subject
//! with the device as an `opaque` member.

use serde::{Deserialize, Serialize};

/// A subject identifier (`sub_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum Subject {
    /// An identifier only the transmitter and receiver understand.
    Opaque {
        /// The identifier.
        id: String,
    },
    /// An email address.
    Email {
        /// The address.
        email: String,
    },
    /// An issuer and a subject of that issuer.
    IssSub {
        /// The issuer.
        iss: String,
        /// The subject.
        sub: String,
    },
    /// Several members describing one principal (SSF §3.3).
    Complex(ComplexSubject),
}

/// The members of a complex subject; each is itself a simple subject.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplexSubject {
    /// The device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Box<Subject>>,
    /// The user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Box<Subject>>,
    /// The tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<Box<Subject>>,
}

impl Subject {
    /// The subject of a riskgate device: `device` (opaque id), `user` (email, when the owner is an
    /// email address), `tenant` (opaque, when configured).
    pub fn device(device_id: &str, owner: Option<&str>, tenant: Option<&str>) -> Subject {
        let opaque = |id: &str| Box::new(Subject::Opaque { id: id.to_owned() });
        Subject::Complex(ComplexSubject {
            device: Some(opaque(device_id)),
            user: owner.filter(|owner| looks_like_email(owner)).map(|email| {
                Box::new(Subject::Email {
                    email: email.to_owned(),
                })
            }),
            tenant: tenant.map(opaque),
        })
    }

    /// Whether an event about `self` concerns a receiver that asked about `wanted`. Simple subjects
    /// match when equal; complex ones when every member both define is equal, members either side leaves
    /// out matching anything (SSF 1.0 "Subject Matching"); a simple subject matches a complex one holding
    /// it as a member.
    pub fn matches(&self, wanted: &Subject) -> bool {
        match (self, wanted) {
            (Subject::Complex(have), Subject::Complex(want)) => have.matches(want),
            (Subject::Complex(have), simple) => have.members().any(|member| member == simple),
            (simple, Subject::Complex(want)) => want.members().any(|member| member == simple),
            (have, want) => have == want,
        }
    }
}

impl ComplexSubject {
    fn members(&self) -> impl Iterator<Item = &Subject> {
        [&self.device, &self.user, &self.tenant]
            .into_iter()
            .filter_map(|member| member.as_deref())
    }

    fn matches(&self, want: &ComplexSubject) -> bool {
        let agree = |have: &Option<Box<Subject>>, want: &Option<Box<Subject>>| match (have, want) {
            (Some(have), Some(want)) => have == want,
            _ => true,
        };
        agree(&self.device, &want.device)
            && agree(&self.user, &want.user)
            && agree(&self.tenant, &want.tenant)
    }
}

/// An owner id is used as an email subject only when it looks like one (`local@domain`, no spaces):
/// Entra user principal names usually are, other owner ids are not.
fn looks_like_email(owner: &str) -> bool {
    owner
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !owner.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests;
