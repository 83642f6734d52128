//! Server reflection (`grpc.reflection.v1.ServerReflection` and `grpc.reflection.v1alpha.ServerReflection`),
//! through a generic client that knows no `.proto` file ([`client`]): what a tool like grpcurl needs to
//! call every service the core serves.

mod client;

use std::collections::BTreeSet;

use client::{file_names, pool_of, Ask, Reply, Session, VERSIONS};
use riskgate_tests::{admin::MANUAL_CLOCK, CoreProcess};
use tonic::Code;

/// What the core serves without `--manual-clock`.
const SERVED: [&str; 11] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "riskgate.v1.AuthService",
    "riskgate.v1.ConnectorService",
    "riskgate.v1.DecisionService",
    "riskgate.v1.DeviceService",
    "riskgate.v1.EventLogService",
    "riskgate.v1.IngestService",
    "riskgate.v1.PolicyService",
    "riskgate.v1.RiskStream",
];

const CLOCK_SERVICE: &str = "riskgate.v1.ClockService";

fn symbol(name: &str) -> Ask {
    Ask::FileContainingSymbol(name.to_owned())
}

fn is_not_found(reply: &Reply) -> bool {
    matches!(
        reply,
        Reply::Error {
            code: Code::NotFound,
            ..
        }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_service_resolves_from_its_reflected_files_alone() -> anyhow::Result<()> {
    let core = CoreProcess::start_temp(&[]).await?;
    for version in VERSIONS {
        let mut session = Session::open(&core, version).await?;
        let services = session.services().await?;
        assert_eq!(services, SERVED, "{version:?}");
        let mut files_seen = BTreeSet::new();
        for service in &services {
            let files = session.files(symbol(service)).await?;
            let names = file_names(&files);
            let distinct: BTreeSet<&str> = names.iter().copied().collect();
            assert_eq!(
                distinct.len(),
                names.len(),
                "{service}: each file once: {names:?}"
            );
            // Only the files of this one answer: it fails if any transitive import is missing.
            let pool = pool_of(&files)?;
            let descriptor = pool
                .get_service_by_name(service)
                .ok_or_else(|| anyhow::anyhow!("{service} not in its own files {names:?}"))?;
            assert_eq!(
                descriptor.parent_file().name(),
                names[0],
                "{version:?}: the file declaring {service} comes first"
            );
            assert!(descriptor.methods().len() > 0, "{service} has no methods");
            for method in descriptor.methods() {
                for message in [method.input(), method.output()] {
                    assert!(
                        pool.get_message_by_name(message.full_name()).is_some(),
                        "{}: {} does not resolve",
                        method.full_name(),
                        message.full_name()
                    );
                }
            }
            files_seen.extend(names.iter().map(|name| (*name).to_owned()));
        }
        for import in [
            "google/protobuf/timestamp.proto",
            "google/protobuf/duration.proto",
        ] {
            assert!(
                files_seen.contains(import),
                "{version:?}: {import} never sent: {files_seen:?}"
            );
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_service_is_listed_only_with_manual_clock() -> anyhow::Result<()> {
    for (args, listed) in [(&[][..], false), (&[MANUAL_CLOCK][..], true)] {
        let core = CoreProcess::start_temp(args).await?;
        for version in VERSIONS {
            let mut session = Session::open(&core, version).await?;
            let services = session.services().await?;
            assert_eq!(
                services.iter().any(|name| name == CLOCK_SERVICE),
                listed,
                "{version:?} with {args:?}: {services:?}"
            );
            if listed {
                // Listed means usable: its file resolves like any other.
                let files = session.files(symbol(CLOCK_SERVICE)).await?;
                assert!(pool_of(&files)?
                    .get_service_by_name(CLOCK_SERVICE)
                    .is_some());
            }
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_symbol_is_not_found_and_the_stream_keeps_serving() -> anyhow::Result<()> {
    let core = CoreProcess::start_temp(&[]).await?;
    for version in VERSIONS {
        let mut session = Session::open(&core, version).await?;
        let reply = session.ask(symbol("riskgate.v1.NoSuchService")).await?;
        assert!(is_not_found(&reply), "{version:?}: {reply:?}");
        let files = session.files(symbol("riskgate.v1.DeviceService")).await?;
        assert_eq!(
            file_names(&files)[0],
            "riskgate/v1/devices.proto",
            "{version:?}"
        );
        assert_eq!(session.services().await?, SERVED, "{version:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_question_is_invalid_and_the_stream_keeps_serving() -> anyhow::Result<()>
{
    let core = CoreProcess::start_temp(&[]).await?;
    for version in VERSIONS {
        let mut session = Session::open(&core, version).await?;
        let reply = session.ask(Ask::Nothing).await?;
        assert!(
            matches!(
                reply,
                Reply::Error {
                    code: Code::InvalidArgument,
                    ..
                }
            ),
            "{version:?}: {reply:?}"
        );
        assert_eq!(session.services().await?, SERVED, "{version:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extension_lookups_answer_the_numbers_or_not_found() -> anyhow::Result<()> {
    let core = CoreProcess::start_temp(&[]).await?;
    for version in VERSIONS {
        let mut session = Session::open(&core, version).await?;
        // The riskgate protos declare no extensions: a known message has none, as in gRPC's C++ and Go servers.
        let reply = session
            .ask(Ask::AllExtensionNumbersOfType(
                "riskgate.v1.Device".to_owned(),
            ))
            .await?;
        assert_eq!(
            reply,
            Reply::ExtensionNumbers {
                base_type_name: "riskgate.v1.Device".to_owned(),
                numbers: Vec::new()
            },
            "{version:?}"
        );
        for ask in [
            Ask::AllExtensionNumbersOfType("riskgate.v1.NoSuchMessage".to_owned()),
            Ask::FileContainingExtension {
                containing_type: "riskgate.v1.Device".to_owned(),
                number: 1000,
            },
            Ask::FileByFilename("riskgate/v1/no_such.proto".to_owned()),
        ] {
            let reply = session.ask(ask.clone()).await?;
            assert!(is_not_found(&reply), "{version:?} {ask:?}: {reply:?}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_comes_first_then_each_transitive_import_once() -> anyhow::Result<()> {
    let core = CoreProcess::start_temp(&[]).await?;
    for version in VERSIONS {
        let mut session = Session::open(&core, version).await?;
        let files = session
            .files(Ask::FileByFilename("riskgate/v1/stream.proto".to_owned()))
            .await?;
        // Depth first, imports in declaration order: what gRPC's C++ reflection server sends.
        assert_eq!(
            file_names(&files),
            [
                "riskgate/v1/stream.proto",
                "riskgate/v1/devices.proto",
                "google/protobuf/duration.proto",
                "google/protobuf/timestamp.proto",
                "riskgate/v1/policy.proto",
                "riskgate/v1/types.proto",
            ],
            "{version:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_service_file_lists_its_methods() -> anyhow::Result<()> {
    let core = CoreProcess::start_temp(&[]).await?;
    let mut session = Session::open(&core, client::Version::V1).await?;
    let files = session.files(symbol("riskgate.v1.DeviceService")).await?;
    let methods: Vec<&str> = files[0]
        .service
        .iter()
        .filter(|s| s.name() == "DeviceService")
        .flat_map(|s| s.method.iter().map(|m| m.name()))
        .collect();
    assert_eq!(
        methods,
        [
            "GetDevice",
            "ListDevices",
            "DeviceHistory",
            "GetStoreInfo",
            "ClearKnownRisk",
            "GetFleetSummary"
        ]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_symbol_finds_the_file_declaring_it() -> anyhow::Result<()> {
    let core = CoreProcess::start_temp(&[]).await?;
    for version in VERSIONS {
        let mut session = Session::open(&core, version).await?;
        for (name, file) in [
            ("riskgate.v1.DeviceService", "riskgate/v1/devices.proto"),
            (
                "riskgate.v1.DeviceService.GetDevice",
                "riskgate/v1/devices.proto",
            ),
            ("riskgate.v1.ReportBatch", "riskgate/v1/ingest.proto"),
            (
                "riskgate.v1.ConfigChange.object",
                "riskgate/v1/devices.proto",
            ),
            ("riskgate.v1.ConfigObject", "riskgate/v1/devices.proto"),
            (
                "grpc.health.v1.HealthCheckResponse.ServingStatus",
                "health.proto",
            ),
            ("google.protobuf.Duration", "google/protobuf/duration.proto"),
        ] {
            let files = session.files(symbol(name)).await?;
            assert_eq!(file_names(&files)[0], file, "{version:?} {name}");
        }
    }
    Ok(())
}
