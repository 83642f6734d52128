//! `riskctl ssf emit-test` and `riskctl ssf rotate-key`: the SSF transmitter's (riskgate-ssf) admin calls
//! over its HTTP API (`POST /ssf/admin/emit-test`, `POST /ssf/admin/rotate-key`), with the same token
//! options as every command.

use std::time::Duration;

use serde_json::{json, Value};

use crate::{
    cli::{GlobalArgs, SsfCommand},
    connect::{bearer_header, ca_pem},
    error::{error_chain, CliError, CliResult},
    output,
};

/// Runs one `ssf` command.
pub(crate) async fn run(global: &GlobalArgs, command: SsfCommand, json: bool) -> CliResult<()> {
    match command {
        SsfCommand::EmitTest {
            url,
            email,
            device,
            stream,
        } => emit_test(global, &url, email, device, stream, json).await,
        SsfCommand::RotateKey { url } => {
            let answer = post(global, &url, "/ssf/admin/rotate-key", &json!({})).await?;
            if json {
                return output::json(&answer);
            }
            let kid = answer["kid"].as_str().unwrap_or_default();
            output::write(&format!("new signing key {kid}\n"))
        }
    }
}

async fn emit_test(
    global: &GlobalArgs,
    url: &str,
    email: Option<String>,
    device: Option<String>,
    stream: Option<String>,
    json: bool,
) -> CliResult<()> {
    let subject = match (email, device) {
        (Some(email), _) => json!({ "format": "email", "email": email }),
        (None, Some(device)) => json!({
            "format": "complex",
            "device": { "format": "opaque", "id": device },
        }),
        (None, None) => return Err(CliError::Other("give --email or --device".to_owned())),
    };
    let mut body = json!({ "subject": subject });
    if let Some(stream) = stream {
        body["stream_id"] = json!(stream);
    }
    let answer = post(global, url, "/ssf/admin/emit-test", &body).await?;
    if json {
        return output::json(&answer);
    }
    let streams: Vec<&str> = answer["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    output::write(&match streams.as_slice() {
        [] => "no stream carries that subject: nothing sent\n".to_owned(),
        streams => format!("test event sent to stream(s): {}\n", streams.join(", ")),
    })
}

/// POSTs `body` to the transmitter at `base` + `path`, mapping its HTTP status onto riskctl's errors.
async fn post(global: &GlobalArgs, base: &str, path: &str, body: &Value) -> CliResult<Value> {
    let mut client = reqwest::Client::builder().timeout(Duration::from_secs(30));
    if let Some(ca) = ca_pem(global)? {
        let ca = reqwest::Certificate::from_pem(&ca)
            .map_err(|err| CliError::Other(format!("--ca-cert: {}", error_chain(&err))))?;
        client = client
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca);
    }
    let client = client
        .build()
        .map_err(|err| CliError::Other(error_chain(&err)))?;
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let mut request = client.post(&url).json(body);
    if let Some(authorization) = bearer_header(global)? {
        request = request.header(reqwest::header::AUTHORIZATION, authorization);
    }
    let response = request.send().await.map_err(|err| CliError::Unreachable {
        url: base.to_owned(),
        detail: error_chain(&err),
    })?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    let description = answer["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match status.as_u16() {
        200..=299 => Ok(answer),
        400 => Err(CliError::InvalidArgument(description)),
        401 => Err(CliError::Auth {
            code: "UNAUTHENTICATED",
            message: description,
        }),
        403 => Err(CliError::Auth {
            code: "PERMISSION_DENIED",
            message: description,
        }),
        404 => Err(CliError::NotFound(description)),
        other => Err(CliError::Other(format!(
            "{url} answered {other}: {description}"
        ))),
    }
}
