//! riskgate's connector supervisor: starts one `riskgate-connector-host` per configured connector,
//! restarts a host that crashed with exponential backoff and jitter, and quarantines a crash loop
//! (too many crashes within a window), reporting it to the core as the connector's error
//! (`Heartbeat{error_message: "quarantined: <cause>"}`), so the connector shows state ERROR with the
//! reason. A host that fails permanently (bad hash, incompatible plugin, refused configuration) is
//! not restarted. Plugins only ever run inside the hosts, never in this process or the core's.

#![forbid(unsafe_code)]

pub mod backoff;
pub mod config;
pub mod supervise;
