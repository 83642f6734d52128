//! The `run` mode: verify and load the plugin, heartbeat, resume from the core's checkpoint, and
//! stream the plugin's batches into `IngestService.Ingest`, passing each acknowledgement back.
//!
//! Batch numbers continue from the checkpoint's `batch_seq`. At most `max_in_flight` batches await
//! acknowledgement; they are kept so a broken stream can be resumed: after reconnecting, batches the
//! core acknowledged meanwhile (per `GetCheckpoint`) are acknowledged to the plugin and the rest are
//! sent again with the same numbers (a replay the core answers as `DUPLICATE` changes nothing).
//!
//! Every plugin failure ends the process: the cause, naming the plugin, is logged, sent to the core
//! as a heartbeat error (so the connector shows state ERROR with the reason), written to the status
//! file, and reflected in the exit code. Acknowledged batches are never at risk: the core has them.

use std::{
    collections::VecDeque,
    future::Future,
    path::Path,
    time::{Duration, Instant, SystemTime},
};

use riskgate_host_protocol::HostExit;
use riskgate_proto::v1 as api;
use riskgate_sdk::{pb, validate};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{transport::Channel, Code, Status, Streaming};

use crate::{
    config::RunArgs,
    driver::{self, Command, Event, FeedSlot},
    loader::{CallError, Entry, Failure, LoadError, Plugin},
};

type AuthedChannel = tonic::service::interceptor::InterceptedService<Channel, BearerToken>;
type IngestClient = api::ingest_service_client::IngestServiceClient<AuthedChannel>;
type ConnectorClient = api::connector_service_client::ConnectorServiceClient<AuthedChannel>;

/// How long the plugin thread may take to answer a control command.
const CONTROL_ANSWER: Duration = Duration::from_secs(5);

/// Holds the connector's control stream open, opening it again after it ends, and passes each command to
/// the plugin thread, answering the core with the plugin's verdict. A core without control streams
/// (UNIMPLEMENTED) ends this quietly.
async fn serve_control(
    mut client: ConnectorClient,
    connector_id: String,
    commands: std::sync::mpsc::Sender<Command>,
) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let request = api::ControlRequest {
            connector_id: connector_id.clone(),
        };
        match client.control(request).await {
            Ok(response) => {
                backoff = Duration::from_millis(200);
                let mut stream = response.into_inner();
                loop {
                    match stream.message().await {
                        Ok(Some(command)) => {
                            let result = run_control(&commands, &connector_id, command).await;
                            if let Err(status) = client.complete_control(result).await {
                                tracing::warn!(
                                    "cannot answer a control command: {}",
                                    status.message()
                                );
                            }
                        }
                        Ok(None) => break,
                        Err(status) => {
                            tracing::info!("control stream ended: {}", status.message());
                            break;
                        }
                    }
                }
            }
            Err(status) if status.code() == Code::Unimplemented => {
                tracing::info!("the core has no control streams; re-checks are off");
                return;
            }
            Err(status) => tracing::warn!(
                "cannot open the control stream (retrying in {backoff:?}): {}",
                status.message()
            ),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_RECONNECT_BACKOFF);
    }
}

/// Runs one control command on the plugin thread and says how it went.
async fn run_control(
    commands: &std::sync::mpsc::Sender<Command>,
    connector_id: &str,
    command: api::ControlCommand,
) -> api::ControlResult {
    let (accepted, message) = match command.command {
        Some(api::control_command::Command::Recheck(recheck)) => {
            let (reply, answer) = tokio::sync::oneshot::channel();
            let request = pb::PluginRecheck {
                device_ids: recheck.device_ids,
            };
            if commands.send(Command::Recheck(request, reply)).is_err() {
                (false, "the plugin thread has ended".to_owned())
            } else {
                match tokio::time::timeout(CONTROL_ANSWER, answer).await {
                    Ok(Ok(Ok(()))) => (true, "the plugin queued the re-check".to_owned()),
                    Ok(Ok(Err(err))) => (false, err.to_string()),
                    Ok(Err(_)) => (false, "the plugin thread has ended".to_owned()),
                    Err(_) => (
                        false,
                        format!("the plugin did not take the re-check within {CONTROL_ANSWER:?}"),
                    ),
                }
            }
        }
        None => (
            false,
            "unknown command; this host is older than the core".to_owned(),
        ),
    };
    api::ControlResult {
        connector_id: connector_id.to_owned(),
        command_id: command.command_id,
        accepted,
        message,
    }
}

/// Adds this connector's bearer token (if it has one) to every call.
#[derive(Clone)]
struct BearerToken(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for BearerToken {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(token) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", token.clone());
        }
        Ok(request)
    }
}

/// The channel to the core: TLS and mutual TLS when configured, and this connector's token.
fn core_channel(args: &RunArgs) -> Result<AuthedChannel, String> {
    let read = |flag: &str, path: &std::path::Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {flag} {}: {e}", path.display()))
    };
    let token = match &args.token_file {
        Some(path) => {
            let text = String::from_utf8(read("--token-file", path)?)
                .map_err(|_| "--token-file is not UTF-8".to_owned())?;
            let value = format!("Bearer {}", text.trim())
                .parse()
                .map_err(|_| "--token-file holds characters not allowed in a header".to_owned())?;
            Some(value)
        }
        None => None,
    };
    let mut endpoint = tonic::transport::Endpoint::from_shared(args.core.clone())
        .map_err(|e| format!("invalid --core {:?}: {e}", args.core))?
        .connect_timeout(RPC_TIMEOUT);
    if args.core_ca.is_some() || args.client_cert.is_some() {
        let mut tls = tonic::transport::ClientTlsConfig::new();
        if let Some(ca) = &args.core_ca {
            tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(read(
                "--core-ca",
                ca,
            )?));
        }
        if let (Some(cert), Some(key)) = (&args.client_cert, &args.client_key) {
            tls = tls.identity(tonic::transport::Identity::from_pem(
                read("--client-cert", cert)?,
                read("--client-key", key)?,
            ));
        }
        if let Some(name) = &args.core_tls_name {
            tls = tls.domain_name(name.clone());
        }
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|e| format!("TLS settings: {e}"))?;
    }
    Ok(tonic::service::interceptor::InterceptedService::new(
        endpoint.connect_lazy(),
        BearerToken(token),
    ))
}

/// How long one heartbeat or checkpoint RPC may take.
const RPC_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait between reconnection attempts.
const MAX_RECONNECT_BACKOFF: Duration = Duration::from_secs(5);

/// A failure that ends the host: the exit code and the cause (which names the plugin).
#[derive(Debug, Clone)]
pub struct Fatal {
    /// The exit code.
    pub exit: HostExit,
    /// The cause, as reported to the core.
    pub cause: String,
}

/// The exit for a load error.
pub fn load_exit(err: &LoadError) -> HostExit {
    match err {
        LoadError::Read { .. } | LoadError::BadPin(_) | LoadError::HashMismatch { .. } => {
            HostExit::Integrity
        }
        LoadError::Stage(_) => HostExit::PluginFailed,
        LoadError::Open { .. } | LoadError::MissingSymbol { .. } | LoadError::Abi { .. } => {
            HostExit::Incompatible
        }
    }
}

/// The exit for a failed plugin call.
pub fn call_exit(err: &CallError) -> HostExit {
    match (err.entry, &err.failure) {
        (_, Failure::Config) => HostExit::PluginConfig,
        (Entry::Manifest, _) => HostExit::Incompatible,
        (_, Failure::Transient) => HostExit::Transient,
        _ => HostExit::PluginFailed,
    }
}

/// The plugin's label for logs and causes: `name version (file)`.
fn label(manifest: Option<&pb::PluginManifest>, path: &Path) -> String {
    let file = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    match manifest {
        Some(m) => format!("plugin {} {} ({file})", m.name, m.version),
        None => format!("plugin {file}"),
    }
}

/// Reads the connector's config file (empty if none is given).
pub fn read_config(path: Option<&Path>) -> Result<Vec<u8>, String> {
    match path {
        None => Ok(Vec::new()),
        Some(path) => std::fs::read(path)
            .map_err(|e| format!("cannot read connector config {}: {e}", path.display())),
    }
}

struct InFlight {
    seq: u64,
    batch_id: u64,
    batch: api::ReportBatch,
}

struct IngestStream {
    tx: mpsc::Sender<api::ReportBatch>,
    acks: Streaming<api::BatchAck>,
}

/// Runs the host until `shutdown` resolves or the plugin fails. Returns how to exit.
pub async fn run(args: RunArgs, shutdown: impl Future<Output = ()>) -> HostExit {
    let config = match read_config(args.plugin.config.as_deref()) {
        Ok(config) => config,
        Err(message) => {
            tracing::error!("{message}");
            return HostExit::Usage;
        }
    };
    let channel = match core_channel(&args) {
        Ok(channel) => channel,
        Err(message) => {
            tracing::error!("{message}");
            return HostExit::Usage;
        }
    };
    let mut host = Host {
        connectors: ConnectorClient::new(channel.clone()),
        ingest: IngestClient::new(channel),
        label: label(None, &args.plugin.plugin),
        args,
        feed: None,
    };
    match host.serve(config, shutdown).await {
        Ok(exit) => exit,
        Err(fatal) => {
            host.report(&fatal).await;
            fatal.exit
        }
    }
}

struct Host {
    args: RunArgs,
    connectors: ConnectorClient,
    ingest: IngestClient,
    label: String,
    /// The plugin's vendor-feed health, once its thread runs (ABI minor 2).
    feed: Option<FeedSlot>,
}

impl Host {
    fn fatal(&self, exit: HostExit, cause: impl std::fmt::Display) -> Fatal {
        Fatal {
            exit,
            cause: format!("{}: {cause}", self.label),
        }
    }

    /// Logs the failure, writes the status file, and tells the core (best effort).
    async fn report(&mut self, fatal: &Fatal) {
        tracing::error!(exit_code = fatal.exit.code(), "{}", fatal.cause);
        if let Some(path) = &self.args.status_file {
            if let Err(e) = std::fs::write(path, &fatal.cause) {
                tracing::warn!("cannot write status file {}: {e}", path.display());
            }
        }
        if let Err(status) = self.heartbeat(&fatal.cause).await {
            tracing::warn!(
                "could not report the failure to the core: {}",
                status.message()
            );
        }
    }

    async fn heartbeat(&mut self, error_message: &str) -> Result<api::Connector, Status> {
        let feed = self.feed.as_ref().and_then(FeedSlot::get);
        let request = api::HeartbeatRequest {
            connector_id: self.args.connector_id.clone(),
            error_message: error_message.to_owned(),
            feed,
        };
        match tokio::time::timeout(RPC_TIMEOUT, self.connectors.heartbeat(request)).await {
            Ok(result) => result.map(tonic::Response::into_inner),
            Err(_) => Err(Status::deadline_exceeded("heartbeat timed out")),
        }
    }

    /// The core's last acknowledged checkpoint, retried while the core is unreachable.
    async fn checkpoint(&mut self) -> Result<Option<api::Checkpoint>, Fatal> {
        let mut backoff = Duration::from_millis(200);
        loop {
            let request = api::GetCheckpointRequest {
                connector_id: self.args.connector_id.clone(),
            };
            let result = tokio::time::timeout(RPC_TIMEOUT, self.ingest.get_checkpoint(request))
                .await
                .unwrap_or_else(|_| Err(Status::deadline_exceeded("get_checkpoint timed out")));
            match result {
                Ok(response) => return Ok(Some(response.into_inner())),
                Err(status) if status.code() == Code::NotFound => return Ok(None),
                Err(status) if status.code() == Code::InvalidArgument => {
                    return Err(self.fatal(
                        HostExit::CoreRefused,
                        format!("the core refused the connector id: {}", status.message()),
                    ));
                }
                // A missing, wrong or expired token, or one for another connector: retrying cannot help.
                Err(status)
                    if matches!(
                        status.code(),
                        Code::Unauthenticated | Code::PermissionDenied
                    ) =>
                {
                    return Err(self.fatal(
                        HostExit::CoreRefused,
                        format!("the core refused this host's token: {}", status.message()),
                    ));
                }
                Err(status) => {
                    tracing::warn!(
                        "cannot get the checkpoint from the core (retrying in {backoff:?}): {}",
                        status.message()
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_RECONNECT_BACKOFF);
                }
            }
        }
    }

    async fn open_stream(&mut self) -> Result<IngestStream, Status> {
        let (tx, rx) = mpsc::channel(self.args.max_in_flight.max(1) + 1);
        let response =
            tokio::time::timeout(RPC_TIMEOUT, self.ingest.ingest(ReceiverStream::new(rx)))
                .await
                .unwrap_or_else(|_| {
                    Err(Status::deadline_exceeded(
                        "opening the ingest stream timed out",
                    ))
                })?;
        Ok(IngestStream {
            tx,
            acks: response.into_inner(),
        })
    }

    async fn serve(
        &mut self,
        config: Vec<u8>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<HostExit, Fatal> {
        let args = self.args.clone();
        let plugin = Plugin::load(&args.plugin.plugin, &args.plugin.sha256)
            .map_err(|e| self.fatal(load_exit(&e), e))?;
        let manifest = plugin
            .manifest()
            .map_err(|e| self.fatal(call_exit(&e), e))?;
        self.label = label(Some(&manifest), &args.plugin.plugin);
        if manifest.abi_major != riskgate_sdk::abi::ABI_MAJOR || manifest.name.is_empty() {
            return Err(self.fatal(
                HostExit::Incompatible,
                format!(
                    "invalid manifest (name {:?}, ABI {})",
                    manifest.name, manifest.abi_major
                ),
            ));
        }
        crate::plugin_log::set_plugin_name(&manifest.name);
        tracing::info!(
            plugin = %manifest.name,
            version = %manifest.version,
            vendor = %manifest.vendor,
            sdk = %manifest.sdk_version,
            abi = %format!("{}.{}", manifest.abi_major, manifest.abi_minor),
            connector_id = %args.connector_id,
            "loaded {}",
            self.label
        );

        let checkpoint = self.checkpoint().await?;
        let last_seq = checkpoint.as_ref().map_or(0, |c| c.batch_seq);
        let start = pb::PluginStart {
            connector_id: args.connector_id.clone(),
            config,
            checkpoint: checkpoint
                .as_ref()
                .map(|c| c.checkpoint.clone())
                .unwrap_or_default(),
            has_checkpoint: checkpoint.is_some(),
            last_batch_seq: last_seq,
        };
        let mut driver = driver::spawn(plugin, start, args.pull_timeout).map_err(|e| {
            self.fatal(
                HostExit::PluginFailed,
                format!("cannot start the plugin thread: {e}"),
            )
        })?;
        self.feed = Some(driver.feed.clone());

        tokio::pin!(shutdown);
        let mut watchdog_tick = tokio::time::interval(Duration::from_millis(100));
        let mut heartbeat_tick = tokio::time::interval(args.heartbeat_interval);
        let mut started = false;
        let mut ended = false;
        let mut stream: Option<IngestStream> = None;
        let mut reconnect_at = Instant::now();
        let mut backoff = Duration::from_millis(200);
        let mut next_seq = last_seq + 1;
        let mut last_batch_id = 0u64;
        let mut in_flight: VecDeque<InFlight> = VecDeque::new();
        let limits = validate::Limits {
            max_batch_reports: args.max_batch_reports,
            ..validate::Limits::default()
        };

        loop {
            if ended && in_flight.is_empty() {
                tracing::info!(
                    "{} ended its feed and every batch is acknowledged",
                    self.label
                );
                return self.stop(&mut driver, &mut stream, &mut in_flight).await;
            }
            let can_pull = started
                && stream.is_some()
                && !ended
                && in_flight.len() < args.max_in_flight.max(1);
            tokio::select! {
                () = &mut shutdown => {
                    tracing::info!("stopping on signal");
                    return self.stop(&mut driver, &mut stream, &mut in_flight).await;
                }
                _ = watchdog_tick.tick() => {
                    self.check_hang(&driver.watchdog)?;
                    if started && stream.is_none() && Instant::now() >= reconnect_at {
                        match self.resume(&mut in_flight, &mut driver).await {
                            Ok(opened) => {
                                stream = Some(opened);
                                backoff = Duration::from_millis(200);
                                tracing::info!("ingest stream open; next batch_seq {next_seq}");
                            }
                            Err(status) => {
                                tracing::warn!("cannot open the ingest stream (retrying in {backoff:?}): {}", status.message());
                                reconnect_at = Instant::now() + backoff;
                                backoff = (backoff * 2).min(MAX_RECONNECT_BACKOFF);
                            }
                        }
                    }
                }
                _ = heartbeat_tick.tick(), if started => {
                    if let Err(status) = self.heartbeat("").await {
                        if status.code() == Code::NotFound {
                            return Err(self.fatal(HostExit::CoreRefused, format!("connector {} is not registered in the core", args.connector_id)));
                        }
                        tracing::warn!("heartbeat failed: {}", status.message());
                    }
                }
                event = driver.events.recv(), if can_pull || !started => {
                    match event {
                        None => return Err(self.fatal(HostExit::PluginFailed, "the plugin thread exited unexpectedly")),
                        Some(Event::Started) => {
                            started = true;
                            // Re-checks reach the plugin over the control stream (ABI minor 2).
                            tokio::spawn(serve_control(
                                self.connectors.clone(),
                                args.connector_id.clone(),
                                driver.commands.clone(),
                            ));
                            if let Err(status) = self.heartbeat("").await {
                                if status.code() == Code::NotFound {
                                    return Err(self.fatal(HostExit::CoreRefused, format!("connector {} is not registered in the core", args.connector_id)));
                                }
                                tracing::warn!("heartbeat failed: {}", status.message());
                            }
                            heartbeat_tick.reset();
                            tracing::info!("{} started", self.label);
                        }
                        Some(Event::Batch(batch)) => {
                            if let Err(invalid) = validate::batch(&batch, &limits, SystemTime::now()) {
                                return Err(self.fatal(HostExit::PluginFailed, format!("emitted an invalid batch (batch_id {}): {invalid}", batch.batch_id)));
                            }
                            if batch.batch_id <= last_batch_id {
                                return Err(self.fatal(HostExit::PluginFailed, format!("emitted batch_id {} after {last_batch_id}; ids must increase", batch.batch_id)));
                            }
                            last_batch_id = batch.batch_id;
                            let report_batch = api::ReportBatch {
                                connector_id: args.connector_id.clone(),
                                batch_seq: next_seq,
                                checkpoint: batch.checkpoint.clone(),
                                reports: batch.reports,
                            };
                            next_seq += 1;
                            if let Some(open) = &stream {
                                if open.tx.send(report_batch.clone()).await.is_err() {
                                    stream = None;
                                }
                            }
                            in_flight.push_back(InFlight { seq: report_batch.batch_seq, batch_id: batch.batch_id, batch: report_batch });
                        }
                        Some(Event::End) => ended = true,
                        Some(Event::Failed(err)) => return Err(self.fatal(call_exit(&err), err)),
                        Some(Event::Stopped(_)) => return Err(self.fatal(HostExit::PluginFailed, "the plugin stopped unexpectedly")),
                    }
                }
                ack = next_ack(&mut stream) => {
                    match ack {
                        Ok(Some(ack)) => self.acknowledge(ack.batch_seq, &mut in_flight, &driver)?,
                        Ok(None) => {
                            tracing::warn!("the core closed the ingest stream; reconnecting");
                            stream = None;
                        }
                        Err(status) => {
                            stream = None;
                            self.stream_error(&status)?;
                            reconnect_at = Instant::now() + backoff;
                            backoff = (backoff * 2).min(MAX_RECONNECT_BACKOFF);
                        }
                    }
                }
            }
        }
    }

    /// Passes acknowledgements up to `seq` back to the plugin.
    fn acknowledge(
        &self,
        seq: u64,
        in_flight: &mut VecDeque<InFlight>,
        driver: &driver::Driver,
    ) -> Result<(), Fatal> {
        let mut last = None;
        while in_flight.front().is_some_and(|front| front.seq <= seq) {
            last = in_flight.pop_front();
        }
        if let Some(acked) = last {
            tracing::debug!(
                batch_seq = acked.seq,
                batch_id = acked.batch_id,
                "acknowledged"
            );
            driver
                .commands
                .send(Command::Ack(acked.batch_id))
                .map_err(|_| {
                    self.fatal(
                        HostExit::PluginFailed,
                        "the plugin thread exited unexpectedly",
                    )
                })?;
        }
        Ok(())
    }

    /// Decides whether a stream error is the plugin's fault (fatal) or worth reconnecting for.
    fn stream_error(&self, status: &Status) -> Result<(), Fatal> {
        match status.code() {
            Code::InvalidArgument => Err(self.fatal(
                HostExit::PluginFailed,
                format!("emitted a batch the core refused: {}", status.message()),
            )),
            Code::FailedPrecondition => {
                tracing::warn!(
                    "the core refuses ingest for this connector (retrying): {}",
                    status.message()
                );
                Ok(())
            }
            Code::Unauthenticated | Code::PermissionDenied => Err(self.fatal(
                HostExit::CoreRefused,
                format!("the core refused this host's token: {}", status.message()),
            )),
            _ => {
                tracing::warn!("ingest stream failed (reconnecting): {}", status.message());
                Ok(())
            }
        }
    }

    /// Reopens the stream after a break: acknowledges what the core already has and resends the rest.
    async fn resume(
        &mut self,
        in_flight: &mut VecDeque<InFlight>,
        driver: &mut driver::Driver,
    ) -> Result<IngestStream, Status> {
        if !in_flight.is_empty() {
            let request = api::GetCheckpointRequest {
                connector_id: self.args.connector_id.clone(),
            };
            match self.ingest.get_checkpoint(request).await {
                Ok(checkpoint) => {
                    let seq = checkpoint.into_inner().batch_seq;
                    self.acknowledge(seq, in_flight, driver)
                        .map_err(|fatal| Status::internal(fatal.cause))?;
                }
                Err(status) if status.code() == Code::NotFound => {}
                Err(status) => return Err(status),
            }
        }
        let stream = self.open_stream().await?;
        for pending in in_flight.iter() {
            stream
                .tx
                .send(pending.batch.clone())
                .await
                .map_err(|_| Status::unavailable("ingest stream closed while resending"))?;
        }
        Ok(stream)
    }

    fn check_hang(&self, watchdog: &driver::Watchdog) -> Result<(), Fatal> {
        if let Some((entry, running)) = watchdog.current() {
            let budget = match entry {
                Entry::NextBatch => self.args.pull_timeout + self.args.hang_after,
                Entry::Stop => self.args.stop_deadline + self.args.hang_after,
                _ => self.args.hang_after,
            };
            if running > budget {
                return Err(self.fatal(
                    HostExit::PluginFailed,
                    format!(
                        "hung in {}: no return after {}",
                        entry.name(),
                        humantime::format_duration(trim(running))
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Graceful stop: waits (within the deadline) for in-flight acknowledgements, stops the plugin.
    async fn stop(
        &mut self,
        driver: &mut driver::Driver,
        stream: &mut Option<IngestStream>,
        in_flight: &mut VecDeque<InFlight>,
    ) -> Result<HostExit, Fatal> {
        let deadline = Instant::now() + self.args.stop_deadline;
        // Let the core acknowledge what it already has, for at most half the deadline.
        let ack_deadline = Instant::now() + self.args.stop_deadline / 2;
        while !in_flight.is_empty() {
            let Some(open) = stream.as_mut() else { break };
            let remaining = ack_deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(remaining, open.acks.message()).await {
                Ok(Ok(Some(ack))) => self.acknowledge(ack.batch_seq, in_flight, driver)?,
                _ => break,
            }
        }
        let plugin_deadline = deadline.saturating_duration_since(Instant::now());
        let _ = driver.commands.send(Command::Stop(plugin_deadline));
        let wait = plugin_deadline + Duration::from_millis(500);
        let stopped = tokio::time::timeout(wait, async {
            loop {
                match driver.events.recv().await {
                    // Batches pulled after the stop request are dropped: they were never acknowledged,
                    // so the restarted plugin produces them again from the checkpoint.
                    Some(Event::Batch(_) | Event::End | Event::Started) => continue,
                    Some(Event::Stopped(result)) => return Some(result),
                    Some(Event::Failed(err)) => return Some(Err(err)),
                    None => return None,
                }
            }
        })
        .await;
        drop(stream.take());
        match stopped {
            Ok(Some(Ok(()))) => {
                tracing::info!("{} stopped", self.label);
                Ok(HostExit::Done)
            }
            Ok(Some(Err(err))) => Err(self.fatal(call_exit(&err), err)),
            Ok(None) | Err(_) => {
                tracing::warn!(
                    "{} did not stop within {:?}; exiting anyway",
                    self.label,
                    self.args.stop_deadline
                );
                Ok(HostExit::Done)
            }
        }
    }
}

fn trim(duration: Duration) -> Duration {
    Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

async fn next_ack(stream: &mut Option<IngestStream>) -> Result<Option<api::BatchAck>, Status> {
    match stream {
        Some(open) => open.acks.message().await,
        None => std::future::pending().await,
    }
}
