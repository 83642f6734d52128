//! Scraping the Prometheus endpoint with a plain HTTP/1.0 request over a `TcpStream`.

use std::{net::SocketAddr, time::Duration};

use anyhow::{anyhow, Context as _};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A parsed HTTP response: status code and body text.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code of the status line.
    pub status: u16,
    /// The response headers, as received (one `Name: value` per entry).
    pub headers: Vec<String>,
    /// The body, decoded as UTF-8 (lossily).
    pub body: String,
}

/// Sends `GET path HTTP/1.0` to `addr` and reads the whole response (the server closes the
/// connection after an HTTP/1.0 response). Fails after 10 s.
pub async fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<HttpResponse> {
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: */*\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        parse_response(&raw)
    })
    .await
    .map_err(|_| anyhow!("GET http://{addr}{path} did not complete within 10 s"))?
}

fn parse_response(raw: &[u8]) -> anyhow::Result<HttpResponse> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow!("no end of headers in response: {text:?}"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow!("bad status line {status_line:?}"))?;
    Ok(HttpResponse {
        status,
        headers: lines.map(str::to_owned).collect(),
        body: body.to_owned(),
    })
}

/// The sum of every sample of metric `name` in a Prometheus text exposition (all label sets), or
/// `None` if there is no such sample. Lines must be `name value` or `name{labels} value`.
pub fn metric_sum(exposition: &str, name: &str) -> Option<f64> {
    let mut found = false;
    let mut sum = 0.0;
    for line in exposition.lines() {
        if line.starts_with('#') {
            continue;
        }
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !(rest.starts_with('{') || rest.starts_with(' ')) {
            continue;
        }
        let after_labels = match rest.strip_prefix('{') {
            Some(labelled) => labelled.rsplit_once('}').map_or("", |(_, v)| v),
            None => rest,
        };
        if let Some(value) = after_labels
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
        {
            found = true;
            sum += value;
        }
    }
    found.then_some(sum)
}

#[cfg(test)]
mod tests {
    use super::{metric_sum, parse_response};

    #[test]
    fn sums_samples_of_one_metric() {
        let text = "# HELP riskgate_ingest_reports Reports.\n\
                    # TYPE riskgate_ingest_reports counter\n\
                    riskgate_ingest_reports_total{outcome=\"applied\"} 3\n\
                    riskgate_ingest_reports_total{outcome=\"stale\"} 1\n\
                    riskgate_ingest_reports_total_other 100\n\
                    riskgate_ingest_batches_total 2\n";
        assert_eq!(metric_sum(text, "riskgate_ingest_reports_total"), Some(4.0));
        assert_eq!(metric_sum(text, "riskgate_ingest_batches_total"), Some(2.0));
        assert_eq!(metric_sum(text, "nope_total"), None);
        assert_eq!(metric_sum("x_total 5\n", "x_total"), Some(5.0));
    }

    #[test]
    fn parses_status_and_body() {
        let response = parse_response(b"HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nhello")
            .expect("parses");
        assert_eq!(response.status, 200);
        assert_eq!(
            response.headers,
            vec!["content-type: text/plain".to_owned()]
        );
        assert_eq!(response.body, "hello");
    }
}
