//! Wiring: opens the store, binds the listeners, serves gRPC and metrics, and shuts down in order
//! (stop accepting, end streams, drain, flush the store).

use crate::{
    auth::AuthCheck,
    config::Config,
    grpc::{
        AdminApi, AuthApi, AuthServiceServer, AuthorizationServer, ClockApi, ClockServiceServer,
        ConnectorServiceServer, DecisionApi, DecisionServiceServer, DeviceApi, DeviceServiceServer,
        EventLogApi, EventLogServiceServer, GatewayApi, IngestApi, IngestServiceServer,
        IngestSetup, Limits, MessageSizeStatus, PolicyServiceServer, RiskStreamServer, StreamApi,
        StreamLimiter,
    },
    metrics::{self, ConnectorGauges, Metrics, RpcRecorder, Scrape},
    middleware::MiddlewareLayer,
};
use std::{future::Future, net::SocketAddr, path::PathBuf, sync::Arc};

use riskgate_store::{KvStore, Retention, RiskStore, StoreError, WriterConfig};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::{server::TcpIncoming, Certificate, Identity, Server, ServerTlsConfig};
use tower::layer::util::Stack;

use riskgate_policy::domain::{Clock, ManualClock, SystemClock, Timestamp};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data directory could not be created.
    #[error("cannot create data dir {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The store could not be opened or flushed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The store's first evaluation failed.
    #[error("startup: {0}")]
    Core(#[from] crate::error::CoreError),
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Server reflection could not be built from the descriptors.
    #[error("reflection: {0}")]
    Reflection(#[from] crate::grpc::ReflectionError),
    /// The gRPC transport failed.
    #[error("grpc transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// The addresses the server actually bound (useful with port 0).
#[derive(Debug, Clone, Copy)]
pub struct BoundAddrs {
    /// gRPC.
    pub grpc: SocketAddr,
    /// Prometheus metrics.
    pub metrics: SocketAddr,
    /// Envoy's external authorization, when configured.
    pub gateway: Option<SocketAddr>,
}

/// Runs the core until `shutdown` resolves, calling `ready` once both listeners are bound.
pub async fn serve(
    config: Config,
    ready: impl FnOnce(BoundAddrs),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let metrics = Arc::new(Metrics::new());
    let (clock, manual_clock) = choose_clock(&config);
    let store = open_store(&config, clock.clone(), metrics.clone()).await?;

    let (listeners, addrs) = bind_listeners(&config).await?;

    let cancel = CancellationToken::new();
    let metrics_server = tokio::spawn(metrics::serve(
        listeners.metrics,
        metrics.clone(),
        cancel.clone().cancelled_owned(),
    ));
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    announce_serving(&health_reporter).await;
    let reflection =
        crate::grpc::ReflectionApi::new(crate::grpc::served_services(config.manual_clock))?;
    let apis = Apis::new(&config, &store, &clock, &metrics, &cancel);
    let clock_service =
        manual_clock.map(|manual| ClockServiceServer::new(ClockApi::new(store.clone(), manual)));
    let background = Background::spawn(&config, &store, &cancel);
    let gateway = serve_gateway(
        &config,
        listeners.gateway,
        &store,
        (&clock, &metrics, &cancel),
    )?;

    let signal_cancel = cancel.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutdown requested: no new connections, ending streams");
        health_reporter
            .set_not_serving::<IngestServiceServer<IngestApi>>()
            .await;
        signal_cancel.cancel();
    };
    let incoming = TcpIncoming::from(listeners.grpc).with_nodelay(Some(true));
    let mut builder = layered_server(&config, &clock, &metrics)?;
    warn_about_exposure(&config, addrs.grpc);
    let size = config.max_message_bytes;
    let grpc = builder
        .add_service(health_service)
        .add_service(reflection.v1())
        .add_service(reflection.v1alpha())
        .add_service(IngestServiceServer::new(apis.ingest).max_decoding_message_size(size))
        .add_service(DeviceServiceServer::new(apis.devices).max_decoding_message_size(size))
        .add_service(
            ConnectorServiceServer::new(apis.admin.clone()).max_decoding_message_size(size),
        )
        .add_service(PolicyServiceServer::new(apis.admin).max_decoding_message_size(size))
        .add_service(DecisionServiceServer::new(apis.decisions).max_decoding_message_size(size))
        .add_service(RiskStreamServer::new(apis.streams).max_decoding_message_size(size))
        .add_service(EventLogServiceServer::new(apis.event_log).max_decoding_message_size(size))
        .add_service(AuthServiceServer::new(AuthApi).max_decoding_message_size(size))
        .add_optional_service(clock_service)
        .serve_with_incoming_shutdown(incoming, signal);

    ready(addrs);
    tracing::info!(grpc = %addrs.grpc, metrics = %addrs.metrics, gateway = ?addrs.gateway, "serving");
    let both = async { tokio::try_join!(grpc, gateway).map(|_| ()) };
    drain(both, &cancel, config.shutdown_grace).await?;
    let _ = metrics_server.await;
    background.join().await;
    // Everything acknowledged is already durable; this commits what was queued and flushes once more.
    store.shutdown().await?;
    tracing::info!("store flushed; stopped");
    Ok(())
}

/// The listeners, bound before anything serves.
struct Listeners {
    grpc: TcpListener,
    metrics: TcpListener,
    gateway: Option<TcpListener>,
}

/// Binds the gRPC, metrics and (when configured) gateway listeners, and says where they are bound.
async fn bind_listeners(config: &Config) -> Result<(Listeners, BoundAddrs), ServeError> {
    let bind = |addr: SocketAddr| async move {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let bound = local_addr(&listener, addr)?;
        Ok::<_, ServeError>((listener, bound))
    };
    let (grpc, grpc_addr) = bind(config.listen).await?;
    let (metrics, metrics_addr) = bind(config.metrics_listen).await?;
    let (gateway, gateway_addr) = match &config.gateway {
        Some(gateway) => {
            let (listener, bound) = bind(gateway.listen).await?;
            (Some(listener), Some(bound))
        }
        None => (None, None),
    };
    let addrs = BoundAddrs {
        grpc: grpc_addr,
        metrics: metrics_addr,
        gateway: gateway_addr,
    };
    Ok((
        Listeners {
            grpc,
            metrics,
            gateway,
        },
        addrs,
    ))
}

/// The system clock, or with `--manual-clock` one that moves only through `ClockService`.
fn choose_clock(config: &Config) -> (Arc<dyn Clock>, Option<Arc<ManualClock>>) {
    if !config.manual_clock {
        return (Arc::new(SystemClock), None);
    }
    tracing::warn!("running with a MANUAL CLOCK: time moves only through ClockService.AdvanceClock; never do this in production");
    let manual = Arc::new(ManualClock::new(SystemClock.now()));
    (manual.clone(), Some(manual))
}

/// Opens the sled store under the data directory and wires its measurements into the metrics.
async fn open_store(
    config: &Config,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
) -> Result<RiskStore, ServeError> {
    let backend = Arc::new(KvStore::sled(
        &config.data_dir.join("store"),
        config.durability,
        config.store_cache_bytes,
    )?);
    let store = RiskStore::open(
        backend,
        clock.clone(),
        metrics.clone(),
        WriterConfig::default(),
    )
    .await
    .map_err(crate::error::CoreError::from)?;
    let info = store.info();
    metrics.set_head(info.head_position);
    metrics.set_scrape_source(scrape_source(store.clone(), clock));
    tracing::info!(
        data_dir = %config.data_dir.display(),
        epoch = %info.epoch,
        head = info.head_position,
        devices = info.device_count,
        durability = ?config.durability,
        "store opened"
    );
    Ok(store)
}

/// Marks every served API as serving in the gRPC health service.
async fn announce_serving(health: &tonic_health::server::HealthReporter) {
    health.set_serving::<IngestServiceServer<IngestApi>>().await;
    health.set_serving::<DeviceServiceServer<DeviceApi>>().await;
    for name in [
        "riskgate.v1.ConnectorService",
        "riskgate.v1.PolicyService",
        "riskgate.v1.DecisionService",
        "riskgate.v1.RiskStream",
    ] {
        health
            .set_service_status(name, tonic_health::ServingStatus::Serving)
            .await;
    }
}

/// The gRPC services' handlers.
struct Apis {
    ingest: IngestApi,
    devices: DeviceApi,
    admin: AdminApi,
    decisions: DecisionApi,
    streams: StreamApi,
    event_log: EventLogApi,
}

impl Apis {
    fn new(
        config: &Config,
        store: &RiskStore,
        clock: &Arc<dyn Clock>,
        metrics: &Arc<Metrics>,
        cancel: &CancellationToken,
    ) -> Self {
        let limits = Limits {
            max_batch_reports: config.max_batch_reports,
            max_clock_skew: config.max_clock_skew,
        };
        let per_client = StreamLimiter::new(config.max_streams_per_client);
        Self {
            ingest: IngestApi::new(IngestSetup {
                store: store.clone(),
                limits,
                clock: clock.clone(),
                metrics: metrics.clone(),
                shutdown: cancel.clone(),
                streams: per_client.clone(),
            }),
            devices: DeviceApi::new(store.clone(), clock.clone()),
            event_log: EventLogApi::new(store.clone()),
            admin: AdminApi::new(store.clone(), clock.clone()),
            decisions: DecisionApi::new(store.clone(), metrics.clone()),
            streams: StreamApi::new(
                store.clone(),
                config.max_subscriptions,
                metrics.clone(),
                cancel.clone(),
                per_client,
            ),
        }
    }
}

/// The scheduler and the compactor, which run until the server is cancelled.
struct Background {
    scheduler: tokio::task::JoinHandle<()>,
    compactor: tokio::task::JoinHandle<()>,
}

impl Background {
    fn spawn(config: &Config, store: &RiskStore, cancel: &CancellationToken) -> Self {
        let retention = Retention {
            max_age: config.retention_max_age,
            max_events: config.retention_max_events,
            chunk: COMPACTION_CHUNK,
        };
        Self {
            scheduler: tokio::spawn(run_scheduler(
                store.clone(),
                config.evaluation_interval,
                cancel.clone(),
            )),
            compactor: tokio::spawn(run_compaction(
                store.clone(),
                retention,
                config.compaction_interval,
                cancel.clone(),
            )),
        }
    }

    async fn join(self) {
        let _ = self.scheduler.await;
        let _ = self.compactor.await;
    }
}

/// Serves Envoy's external authorization on its own listener, with the main listener's TLS, tokens and
/// limits, until the server is cancelled; does nothing without a gateway listener.
fn serve_gateway(
    config: &Config,
    listener: Option<TcpListener>,
    store: &RiskStore,
    (clock, metrics, cancel): (&Arc<dyn Clock>, &Arc<Metrics>, &CancellationToken),
) -> Result<impl Future<Output = Result<(), tonic::transport::Error>>, ServeError> {
    let served = match (listener, &config.gateway) {
        (Some(listener), Some(gateway)) => {
            let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
            let api = GatewayApi::new(store.clone(), gateway.mapping.clone(), metrics.clone());
            let router = layered_server(config, clock, metrics)?.add_service(
                AuthorizationServer::new(api).max_decoding_message_size(config.max_message_bytes),
            );
            Some(router.serve_with_incoming_shutdown(incoming, cancel.clone().cancelled_owned()))
        }
        _ => None,
    };
    Ok(async move {
        match served {
            Some(served) => served.await,
            None => Ok(()),
        }
    })
}

/// The transport, with TLS (and optional client certificates) when configured.
/// The middleware every listener runs, outermost first: RPC metrics, authentication, the message-size status.
type Layers = Stack<
    MiddlewareLayer<MessageSizeStatus>,
    Stack<
        MiddlewareLayer<AuthCheck>,
        Stack<MiddlewareLayer<RpcRecorder>, tower::layer::util::Identity>,
    >,
>;

/// A tonic server with the configured TLS, request timeout, tracing and [`Layers`]: the main and the
/// gateway listener are built here alike, so they authenticate and count the same way.
fn layered_server(
    config: &Config,
    clock: &Arc<dyn Clock>,
    metrics: &Arc<Metrics>,
) -> Result<Server<Layers>, ServeError> {
    Ok(server_builder(config)?
        .timeout(config.request_timeout)
        .trace_fn(|request| tracing::info_span!("rpc", method = %request.uri().path()))
        .layer(MiddlewareLayer(RpcRecorder::new(metrics.clone())))
        .layer(MiddlewareLayer(AuthCheck::new(
            config.tokens.clone().map(Arc::new),
            clock.clone(),
        )))
        .layer(MiddlewareLayer(MessageSizeStatus)))
}

fn server_builder(config: &Config) -> Result<Server, ServeError> {
    let mut builder = Server::builder();
    if let Some(tls) = &config.tls {
        let mut tls_config =
            ServerTlsConfig::new().identity(Identity::from_pem(&tls.cert_pem, &tls.key_pem));
        if let Some(ca) = &tls.client_ca_pem {
            tls_config = tls_config
                .client_ca_root(Certificate::from_pem(ca))
                .client_auth_optional(!tls.require_client_cert);
        }
        builder = builder.tls_config(tls_config)?;
    }
    Ok(builder)
}

/// Says in the log how exposed the server is: no authentication, cleartext tokens, or TLS without tokens.
fn warn_about_exposure(config: &Config, listen: SocketAddr) {
    match (&config.tokens, &config.tls) {
        (None, None) => tracing::warn!(
            listen = %listen,
            "serving plain TCP WITHOUT AUTHENTICATION; allowed only on loopback. Configure [[tokens]] and [tls] for anything else"
        ),
        (Some(_), None) if !listen.ip().is_loopback() => tracing::warn!(
            listen = %listen,
            "bearer tokens travel in cleartext: configure [tls]"
        ),
        (None, Some(_)) => {
            tracing::warn!("TLS without [[tokens]]: anyone who can connect may do everything")
        }
        _ => tracing::info!(
            tls = config.tls.is_some(),
            "authentication required on every RPC except health"
        ),
    }
}

/// Serves until the transport ends; once shutdown is requested, waits at most `grace` for in-flight
/// requests, then cancels everything still running.
async fn drain(
    grpc: impl Future<Output = Result<(), tonic::transport::Error>>,
    cancel: &CancellationToken,
    grace: std::time::Duration,
) -> Result<(), ServeError> {
    let drain_deadline = async {
        cancel.cancelled().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = grpc => result?,
        () = drain_deadline => tracing::warn!(?grace, "in-flight requests did not finish within the grace period"),
    }
    cancel.cancel();
    Ok(())
}

fn local_addr(listener: &TcpListener, addr: SocketAddr) -> Result<SocketAddr, ServeError> {
    listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })
}

/// What each `/metrics` scrape reads: every connector's state, feed state and ages from the view (the
/// age of its last report from its checkpoint), and the store's size.
fn scrape_source(store: RiskStore, clock: Arc<dyn Clock>) -> metrics::ScrapeSource {
    Box::new(move || {
        let now = clock.now();
        let age = |at: Timestamp| (now.0.saturating_sub(at.0)) as f64 / 1e9;
        let config = store.view().config.clone();
        let connectors = config
            .connectors
            .values()
            .map(|connector| ConnectorGauges {
                connector_id: connector.connector_id.to_string(),
                state: connector.state(now).api_name(),
                feed_state: connector.feed.state.api_name(),
                heartbeat_age: connector.last_heartbeat.map(age),
                report_age: store
                    .checkpoint(&connector.connector_id)
                    .ok()
                    .flatten()
                    .map(|checkpoint| age(checkpoint.updated_at)),
                vendor_sync_age: connector.feed.last_vendor_sync.map(age),
            })
            .collect();
        Scrape {
            connectors,
            devices: store.info().device_count,
            store_bytes: store.size_on_disk(),
        }
    })
}

/// Re-evaluates what time changes (grace periods, heartbeat thresholds, validity periods) every `interval`,
/// without any request.
async fn run_scheduler(store: RiskStore, interval: std::time::Duration, cancel: CancellationToken) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticks.tick() => {
                if let Err(err) = store.tick(false).await {
                    tracing::error!(error = %err, "scheduled re-evaluation failed");
                }
            }
        }
    }
}

/// Events removed per compaction commit: small enough that ingest never waits long behind one.
const COMPACTION_CHUNK: usize = 5_000;

/// Drops events past retention every `interval`, a chunk per commit, in the background
/// (as etcd answers a compacted revision).
async fn run_compaction(
    store: RiskStore,
    retention: Retention,
    interval: std::time::Duration,
    cancel: CancellationToken,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticks.tick() => loop {
                match store.compact(retention).await {
                    Ok(done) if done.more && !cancel.is_cancelled() => continue,
                    Ok(done) => {
                        if done.removed > 0 {
                            tracing::info!(removed = done.removed, first_retained = done.first_retained, "compacted the event log");
                        }
                        break;
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "compaction failed");
                        break;
                    }
                }
            },
        }
    }
}
