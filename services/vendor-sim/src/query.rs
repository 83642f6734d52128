//! What the two simulated vendor APIs share in reading a request: its query parameters, the page
//! size parameter, and a handler's reply whose error side is a ready-made error response.

use std::collections::HashMap;

use axum::{extract::Query, response::Response};

/// The query string of a vendor API request, by parameter name.
pub(crate) type Params = Query<HashMap<String, String>>;

/// What a vendor API handler answers: its error side is a ready-made error response (401, 400, ...),
/// so checks can end the handler with `?`.
pub(crate) type Reply = Result<Response, Response>;

/// The page size in parameter `name`: 20 when absent, else a number from 1 to `max`. The error is
/// the message for the vendor's own error body.
pub(crate) fn page_size(
    params: &HashMap<String, String>,
    name: &str,
    max: usize,
) -> Result<usize, String> {
    match params.get(name) {
        None => Ok(20),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("{name} must be 1 to {max}")),
        },
    }
}
