//! Serving an axum app over HTTPS (rustls with ring) or plain HTTP until SIGTERM or Ctrl-C.

use std::{net::SocketAddr, time::Duration};

use axum_server::tls_rustls::RustlsConfig;

use crate::config::TlsConfig;

/// How long requests in flight (long polls, server-sent event streams) may run on after a stop signal.
const DRAIN: Duration = Duration::from_secs(10);

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The TLS files could not be loaded.
    #[error("tls: {cert} and {key}: {source}")]
    Tls {
        /// The certificate file.
        cert: String,
        /// The key file.
        key: String,
        /// Why.
        source: std::io::Error,
    },
    /// The listener failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `app` on `listener`, over TLS when configured, until SIGTERM or Ctrl-C; then lets requests in
/// flight finish for up to 10 seconds. Prints `READY http=ADDR` once it accepts connections.
pub async fn serve(
    listener: std::net::TcpListener,
    tls: Option<&TlsConfig>,
    app: axum::Router,
) -> Result<(), ServeError> {
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        riskgate_service_kit::signals::shutdown_signal().await;
        stopping.graceful_shutdown(Some(DRAIN));
    });
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        Some(tls) => {
            // The process-wide provider may already be installed; either way it is ring.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = RustlsConfig::from_pem_file(&tls.cert_file, &tls.key_file)
                .await
                .map_err(|source| ServeError::Tls {
                    cert: tls.cert_file.display().to_string(),
                    key: tls.key_file.display().to_string(),
                    source,
                })?;
            announce(address);
            axum_server::from_tcp_rustls(listener, config)
                .handle(handle)
                .serve(service)
                .await?;
        }
        None => {
            announce(address);
            axum_server::from_tcp(listener)
                .handle(handle)
                .serve(service)
                .await?;
        }
    }
    Ok(())
}

/// The one READY line other programs wait for.
#[allow(clippy::print_stdout)]
fn announce(address: SocketAddr) {
    println!("READY http={address}");
}
