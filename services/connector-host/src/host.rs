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
use riskgate_proto::{bearer::BearerToken, v1 as api};
use riskgate_sdk::{pb, validate};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status, Streaming};

use crate::{
    config::RunArgs,
    driver::{self, Command, Event, FeedSlot},
    loader::{CallError, Entry, Failure, LoadError, Plugin},
};

type AuthedChannel = riskgate_proto::bearer::Authed;
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

/// The channel to the core: TLS and mutual TLS when configured, and this connector's token.
fn core_channel(args: &RunArgs) -> Result<AuthedChannel, String> {
    let read = |flag: &str, path: &std::path::Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {flag} {}: {e}", path.display()))
    };
    let token = match &args.token_file {
        Some(path) => {
            let text = String::from_utf8(read("--token-file", path)?)
                .map_err(|_| "--token-file is not UTF-8".to_owned())?;
            BearerToken::new(&text)
                .map_err(|_| "--token-file holds characters not allowed in a header".to_owned())?
        }
        None => BearerToken::none(),
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
        token,
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

/// How often the plugin thread's watchdog is read and a broken ingest stream is retried.
const WATCHDOG_TICK: Duration = Duration::from_millis(100);
/// The first wait before reopening a broken ingest stream; it doubles up to `MAX_RECONNECT_BACKOFF`.
const FIRST_RECONNECT_BACKOFF: Duration = Duration::from_millis(200);

/// The state of a running plugin's feed into the core: the plugin thread, the ingest stream (when
/// open), the batches awaiting acknowledgement, and the numbering.
struct Pump {
    driver: driver::Driver,
    /// The plugin's `start` succeeded.
    started: bool,
    /// The plugin ended its feed.
    ended: bool,
    stream: Option<IngestStream>,
    /// When to try again to open the stream, and how long to wait after the next failure.
    reconnect_at: Instant,
    backoff: Duration,
    /// The `batch_seq` of the next batch sent to the core.
    next_seq: u64,
    /// The plugin's last `batch_id`; ids must increase.
    last_batch_id: u64,
    in_flight: VecDeque<InFlight>,
    limits: validate::Limits,
}

impl Pump {
    fn new(driver: driver::Driver, next_seq: u64, max_batch_reports: usize) -> Pump {
        Pump {
            driver,
            started: false,
            ended: false,
            stream: None,
            reconnect_at: Instant::now(),
            backoff: FIRST_RECONNECT_BACKOFF,
            next_seq,
            last_batch_id: 0,
            in_flight: VecDeque::new(),
            limits: validate::Limits {
                max_batch_reports,
                ..validate::Limits::default()
            },
        }
    }

    /// Whether to pull the plugin's next batch: it runs, the stream is open, the feed has not ended
    /// and fewer than `max_in_flight` batches await acknowledgement.
    fn can_pull(&self, max_in_flight: usize) -> bool {
        self.started
            && self.stream.is_some()
            && !self.ended
            && self.in_flight.len() < max_in_flight.max(1)
    }

    /// Schedules the next attempt to open the stream and doubles the wait after it.
    fn retry_later(&mut self) {
        self.reconnect_at = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_RECONNECT_BACKOFF);
    }
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

    /// Loads the plugin, starts it from the core's checkpoint, and pumps its batches into the core
    /// until the feed ends, `shutdown` resolves or something fails.
    async fn serve(
        &mut self,
        config: Vec<u8>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<HostExit, Fatal> {
        let plugin = self.load_plugin()?;
        let mut pump = self.start_plugin(plugin, config).await?;
        tokio::pin!(shutdown);
        let mut watchdog_tick = tokio::time::interval(WATCHDOG_TICK);
        let mut heartbeat_tick = tokio::time::interval(self.args.heartbeat_interval);
        loop {
            if pump.ended && pump.in_flight.is_empty() {
                tracing::info!(
                    "{} ended its feed and every batch is acknowledged",
                    self.label
                );
                return self.stop(&mut pump).await;
            }
            let wants_event = !pump.started || pump.can_pull(self.args.max_in_flight);
            tokio::select! {
                () = &mut shutdown => {
                    tracing::info!("stopping on signal");
                    return self.stop(&mut pump).await;
                }
                _ = watchdog_tick.tick() => {
                    self.check_hang(&pump.driver.watchdog)?;
                    self.reconnect_when_due(&mut pump).await;
                }
                _ = heartbeat_tick.tick(), if pump.started => self.beat().await?,
                event = pump.driver.events.recv(), if wants_event => match event {
                    Some(Event::Started) => {
                        self.on_started(&mut pump).await?;
                        heartbeat_tick.reset();
                    }
                    Some(Event::Batch(batch)) => self.forward(batch, &mut pump).await?,
                    Some(Event::End) => pump.ended = true,
                    Some(Event::Failed(err)) => return Err(self.fatal(call_exit(&err), err)),
                    Some(Event::Stopped(_)) => {
                        return Err(self.fatal(HostExit::PluginFailed, "the plugin stopped unexpectedly"))
                    }
                    None => return Err(self.thread_gone()),
                },
                ack = next_ack(&mut pump.stream) => self.on_ack(ack, &mut pump)?,
            }
        }
    }

    /// Verifies and loads the plugin and checks its manifest; from here on, causes name the plugin.
    fn load_plugin(&mut self) -> Result<Plugin, Fatal> {
        let path = &self.args.plugin.plugin;
        let plugin = Plugin::load(path, &self.args.plugin.sha256)
            .map_err(|e| self.fatal(load_exit(&e), e))?;
        let manifest = plugin
            .manifest()
            .map_err(|e| self.fatal(call_exit(&e), e))?;
        self.label = label(Some(&manifest), path);
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
            connector_id = %self.args.connector_id,
            "loaded {}",
            self.label
        );
        Ok(plugin)
    }

    /// Starts the plugin thread from the core's last acknowledged checkpoint; batch numbers continue
    /// from the checkpoint's.
    async fn start_plugin(&mut self, plugin: Plugin, config: Vec<u8>) -> Result<Pump, Fatal> {
        let checkpoint = self.checkpoint().await?;
        let last_seq = checkpoint.as_ref().map_or(0, |c| c.batch_seq);
        let start = pb::PluginStart {
            connector_id: self.args.connector_id.clone(),
            config,
            has_checkpoint: checkpoint.is_some(),
            checkpoint: checkpoint.map(|c| c.checkpoint).unwrap_or_default(),
            last_batch_seq: last_seq,
        };
        let driver = driver::spawn(plugin, start, self.args.pull_timeout).map_err(|e| {
            self.fatal(
                HostExit::PluginFailed,
                format!("cannot start the plugin thread: {e}"),
            )
        })?;
        self.feed = Some(driver.feed.clone());
        Ok(Pump::new(driver, last_seq + 1, self.args.max_batch_reports))
    }

    /// The plugin started: re-checks may reach it now (over the control stream, ABI minor 2), and
    /// the core hears of it at once.
    async fn on_started(&mut self, pump: &mut Pump) -> Result<(), Fatal> {
        pump.started = true;
        tokio::spawn(serve_control(
            self.connectors.clone(),
            self.args.connector_id.clone(),
            pump.driver.commands.clone(),
        ));
        self.beat().await?;
        tracing::info!("{} started", self.label);
        Ok(())
    }

    /// A heartbeat; the core not knowing the connector ends the host, other failures are logged.
    async fn beat(&mut self) -> Result<(), Fatal> {
        match self.heartbeat("").await {
            Err(status) if status.code() == Code::NotFound => Err(self.not_registered()),
            Err(status) => {
                tracing::warn!("heartbeat failed: {}", status.message());
                Ok(())
            }
            Ok(_) => Ok(()),
        }
    }

    /// Checks a batch the plugin emitted, numbers it, sends it if the stream is open, and keeps it
    /// until the core acknowledges it.
    async fn forward(&self, batch: pb::PluginBatch, pump: &mut Pump) -> Result<(), Fatal> {
        if let Err(invalid) = validate::batch(&batch, &pump.limits, SystemTime::now()) {
            return Err(self.fatal(
                HostExit::PluginFailed,
                format!(
                    "emitted an invalid batch (batch_id {}): {invalid}",
                    batch.batch_id
                ),
            ));
        }
        if batch.batch_id <= pump.last_batch_id {
            return Err(self.fatal(
                HostExit::PluginFailed,
                format!(
                    "emitted batch_id {} after {}; ids must increase",
                    batch.batch_id, pump.last_batch_id
                ),
            ));
        }
        pump.last_batch_id = batch.batch_id;
        let report_batch = api::ReportBatch {
            connector_id: self.args.connector_id.clone(),
            batch_seq: pump.next_seq,
            checkpoint: batch.checkpoint,
            reports: batch.reports,
        };
        pump.next_seq += 1;
        if let Some(open) = &pump.stream {
            if open.tx.send(report_batch.clone()).await.is_err() {
                pump.stream = None;
            }
        }
        pump.in_flight.push_back(InFlight {
            seq: report_batch.batch_seq,
            batch_id: batch.batch_id,
            batch: report_batch,
        });
        Ok(())
    }

    /// What the ingest stream said: an acknowledgement, its end, or an error (fatal or retried).
    fn on_ack(
        &self,
        ack: Result<Option<api::BatchAck>, Status>,
        pump: &mut Pump,
    ) -> Result<(), Fatal> {
        match ack {
            Ok(Some(ack)) => self.acknowledge(ack.batch_seq, pump)?,
            Ok(None) => {
                tracing::warn!("the core closed the ingest stream; reconnecting");
                pump.stream = None;
            }
            Err(status) => {
                pump.stream = None;
                self.stream_error(&status)?;
                pump.retry_later();
            }
        }
        Ok(())
    }

    /// Opens the ingest stream again once the plugin runs, the stream is down and the backoff is over.
    async fn reconnect_when_due(&mut self, pump: &mut Pump) {
        if !pump.started || pump.stream.is_some() || Instant::now() < pump.reconnect_at {
            return;
        }
        match self.resume(pump).await {
            Ok(opened) => {
                pump.stream = Some(opened);
                pump.backoff = FIRST_RECONNECT_BACKOFF;
                tracing::info!("ingest stream open; next batch_seq {}", pump.next_seq);
            }
            Err(status) => {
                tracing::warn!(
                    "cannot open the ingest stream (retrying in {:?}): {}",
                    pump.backoff,
                    status.message()
                );
                pump.retry_later();
            }
        }
    }

    fn not_registered(&self) -> Fatal {
        self.fatal(
            HostExit::CoreRefused,
            format!(
                "connector {} is not registered in the core",
                self.args.connector_id
            ),
        )
    }

    fn thread_gone(&self) -> Fatal {
        self.fatal(
            HostExit::PluginFailed,
            "the plugin thread exited unexpectedly",
        )
    }

    /// Passes acknowledgements up to `seq` back to the plugin.
    fn acknowledge(&self, seq: u64, pump: &mut Pump) -> Result<(), Fatal> {
        let mut last = None;
        while pump.in_flight.front().is_some_and(|front| front.seq <= seq) {
            last = pump.in_flight.pop_front();
        }
        if let Some(acked) = last {
            tracing::debug!(
                batch_seq = acked.seq,
                batch_id = acked.batch_id,
                "acknowledged"
            );
            pump.driver
                .commands
                .send(Command::Ack(acked.batch_id))
                .map_err(|_| self.thread_gone())?;
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
    async fn resume(&mut self, pump: &mut Pump) -> Result<IngestStream, Status> {
        if !pump.in_flight.is_empty() {
            let request = api::GetCheckpointRequest {
                connector_id: self.args.connector_id.clone(),
            };
            match self.ingest.get_checkpoint(request).await {
                Ok(checkpoint) => {
                    let seq = checkpoint.into_inner().batch_seq;
                    self.acknowledge(seq, pump)
                        .map_err(|fatal| Status::internal(fatal.cause))?;
                }
                Err(status) if status.code() == Code::NotFound => {}
                Err(status) => return Err(status),
            }
        }
        let stream = self.open_stream().await?;
        for pending in &pump.in_flight {
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
    async fn stop(&mut self, pump: &mut Pump) -> Result<HostExit, Fatal> {
        let deadline = Instant::now() + self.args.stop_deadline;
        // Let the core acknowledge what it already has, for at most half the deadline.
        self.drain_acks(pump, Instant::now() + self.args.stop_deadline / 2)
            .await?;
        let plugin_deadline = deadline.saturating_duration_since(Instant::now());
        let stopped = stop_plugin(&mut pump.driver, plugin_deadline).await;
        drop(pump.stream.take());
        match stopped {
            Some(Ok(())) => {
                tracing::info!("{} stopped", self.label);
                Ok(HostExit::Done)
            }
            Some(Err(err)) => Err(self.fatal(call_exit(&err), err)),
            None => {
                tracing::warn!(
                    "{} did not stop within {:?}; exiting anyway",
                    self.label,
                    self.args.stop_deadline
                );
                Ok(HostExit::Done)
            }
        }
    }

    /// Passes on the acknowledgements the core sends until `until`, while batches are in flight.
    async fn drain_acks(&self, pump: &mut Pump, until: Instant) -> Result<(), Fatal> {
        while !pump.in_flight.is_empty() {
            let Some(open) = pump.stream.as_mut() else {
                break;
            };
            let remaining = until.saturating_duration_since(Instant::now());
            match tokio::time::timeout(remaining, open.acks.message()).await {
                Ok(Ok(Some(ack))) => self.acknowledge(ack.batch_seq, pump)?,
                _ => break,
            }
        }
        Ok(())
    }
}

/// Asks the plugin thread to stop within `deadline` and waits for its answer (a little longer); `None`
/// if it did not answer or has gone.
async fn stop_plugin(
    driver: &mut driver::Driver,
    deadline: Duration,
) -> Option<Result<(), CallError>> {
    let _ = driver.commands.send(Command::Stop(deadline));
    let wait = deadline + Duration::from_millis(500);
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
    stopped.ok().flatten()
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
