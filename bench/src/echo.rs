//! The floor of the `check` benchmark: a bare tonic unary RPC (bench/proto/echo.proto) served by a separate
//! process — this binary re-executed with the hidden `echo-server` subcommand — so that, like riskgate-core,
//! the server has its own process and runtime and the client code and channel are the same.

use std::{net::SocketAddr, process::Stdio, time::Duration};

use anyhow::{anyhow, Context as _};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    net::TcpListener,
    process::{Child, Command},
};
use tonic::{
    transport::{server::TcpIncoming, Server},
    Request, Response, Status,
};

/// The generated echo API.
#[allow(
    missing_docs,
    unreachable_pub,
    missing_debug_implementations,
    clippy::all
)]
pub(crate) mod api {
    tonic::include_proto!("riskgate.bench.v1");
}

use api::{
    echo_server::{Echo, EchoServer},
    EchoMessage,
};

/// The echo service: returns the request.
#[derive(Debug, Default)]
struct EchoService;

#[tonic::async_trait]
impl Echo for EchoService {
    async fn echo(&self, request: Request<EchoMessage>) -> Result<Response<EchoMessage>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

/// Serves the echo RPC on `127.0.0.1:0` until killed, after printing `READY grpc=ADDR` on stdout. The
/// server is set up like riskgate-core's: a default tonic `Server` on a TCP listener with `TCP_NODELAY`.
#[allow(clippy::print_stdout)] // The READY line is how the harness learns the address.
pub(crate) async fn serve() -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("READY grpc={}", listener.local_addr()?);
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    Server::builder()
        .add_service(EchoServer::new(EchoService))
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}

/// An echo server process, killed when dropped.
#[derive(Debug)]
pub(crate) struct EchoProcess {
    _child: Child,
    addr: SocketAddr,
}

impl EchoProcess {
    /// Starts `riskgate-bench echo-server` and waits for its READY line.
    pub(crate) async fn start() -> anyhow::Result<Self> {
        // The harness's own workspace build (tests/src/binary.rs) may have replaced this very executable
        // (`--workspace` builds it with the workspace's features), so the path of the running one can be
        // gone: start the one that build made.
        let exe = riskgate_tests::binary::artifacts().bin("riskgate-bench");
        let mut child = Command::new(exe)
            .arg("echo-server")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawning {} echo-server", exe.display()))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("the echo server printed no READY line within 30 s")??
            .ok_or_else(|| anyhow!("the echo server closed stdout before its READY line"))?;
        let addr = line
            .strip_prefix("READY grpc=")
            .ok_or_else(|| anyhow!("unexpected first line from the echo server: {line:?}"))?
            .parse()
            .with_context(|| format!("bad address in {line:?}"))?;
        Ok(Self {
            _child: child,
            addr,
        })
    }

    /// The address it serves on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}
