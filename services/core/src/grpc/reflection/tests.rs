//! The index and the version-neutral answers, on the descriptors the core embeds.

use prost::Message as _;
use prost_types::FileDescriptorProto;
use tonic::Code;

use super::{
    index::DescriptorIndex,
    query::{answer, Answer, LookupError, Query},
    served_services, ReflectionError, DESCRIPTOR_SETS,
};

fn index(manual_clock: bool) -> DescriptorIndex {
    DescriptorIndex::build(&DESCRIPTOR_SETS, served_services(manual_clock))
        .expect("the embedded descriptors index")
}

/// The names of the files of a `Files` answer, in order.
fn file_names(result: Result<Answer, LookupError>) -> Vec<String> {
    match result {
        Ok(Answer::Files(files)) => files
            .iter()
            .map(|bytes| {
                FileDescriptorProto::decode(bytes.as_slice())
                    .expect("a FileDescriptorProto")
                    .name()
                    .to_owned()
            })
            .collect(),
        other => panic!("expected files, got {other:?}"),
    }
}

fn symbol(name: &str) -> Result<Query, LookupError> {
    Ok(Query::FileContainingSymbol(name.to_owned()))
}

#[test]
fn list_services_names_the_clock_service_only_with_a_manual_clock() {
    for manual_clock in [false, true] {
        let Ok(Answer::Services(names)) = answer(&index(manual_clock), Ok(Query::ListServices))
        else {
            panic!("expected services");
        };
        assert_eq!(
            names.iter().any(|name| name == "riskgate.v1.ClockService"),
            manual_clock,
            "{names:?}"
        );
        for served in [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            "riskgate.v1.RiskStream",
        ] {
            assert!(names.iter().any(|name| name == served), "{names:?}");
        }
    }
}

#[test]
fn a_file_comes_first_then_every_transitive_import_once() {
    let index = index(false);
    let files = file_names(answer(
        &index,
        Ok(Query::FileByFilename("riskgate/v1/stream.proto".to_owned())),
    ));
    assert_eq!(
        files,
        [
            "riskgate/v1/stream.proto",
            "riskgate/v1/devices.proto",
            "google/protobuf/duration.proto",
            "google/protobuf/timestamp.proto",
            "riskgate/v1/policy.proto",
            "riskgate/v1/types.proto",
        ]
    );
}

#[test]
fn every_kind_of_symbol_finds_its_file() {
    let index = index(false);
    for (name, file) in [
        ("riskgate.v1.DeviceService", "riskgate/v1/devices.proto"),
        (
            "riskgate.v1.DeviceService.GetDevice",
            "riskgate/v1/devices.proto",
        ),
        ("riskgate.v1.ConfigChange", "riskgate/v1/devices.proto"),
        (
            "riskgate.v1.ConfigChange.object",
            "riskgate/v1/devices.proto",
        ),
        ("riskgate.v1.Event.kind", "riskgate/v1/devices.proto"),
        ("riskgate.v1.ConfigObject", "riskgate/v1/devices.proto"),
        (
            "riskgate.v1.CONFIG_OBJECT_CONNECTOR",
            "riskgate/v1/devices.proto",
        ),
        (
            "grpc.health.v1.HealthCheckResponse.ServingStatus",
            "health.proto",
        ),
        (
            ".google.protobuf.Timestamp",
            "google/protobuf/timestamp.proto",
        ),
        // Served only with a manual clock, but its file is served anyway.
        ("riskgate.v1.ClockService", "riskgate/v1/policy.proto"),
    ] {
        let files = file_names(answer(&index, symbol(name)));
        assert_eq!(files.first().map(String::as_str), Some(file), "{name}");
    }
}

#[test]
fn unknown_names_are_not_found_and_a_missing_request_is_invalid() {
    let index = index(false);
    for query in [
        symbol("riskgate.v1.NoSuchThing"),
        Ok(Query::FileByFilename("no/such.proto".to_owned())),
        Ok(Query::FileContainingExtension {
            containing_type: "riskgate.v1.Device".to_owned(),
            number: 1000,
        }),
        Ok(Query::AllExtensionNumbersOfType(
            "riskgate.v1.NoSuchMessage".to_owned(),
        )),
    ] {
        let err = answer(&index, query.clone()).expect_err("not found");
        assert_eq!(err.code(), Code::NotFound, "{query:?}: {err}");
    }
    let err = answer(&index, Err(LookupError::NoRequest)).expect_err("invalid");
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[test]
fn a_message_without_extensions_has_an_empty_list() {
    let answered = answer(
        &index(false),
        Ok(Query::AllExtensionNumbersOfType(
            "riskgate.v1.Device".to_owned(),
        )),
    );
    assert_eq!(
        answered,
        Ok(Answer::ExtensionNumbers {
            base_type_name: "riskgate.v1.Device".to_owned(),
            numbers: Vec::new(),
        })
    );
}

#[test]
fn a_served_service_missing_from_the_descriptors_is_refused() {
    let err = DescriptorIndex::build(&DESCRIPTOR_SETS, ["riskgate.v1.NoSuchService"])
        .expect_err("refused");
    assert!(
        matches!(&err, ReflectionError::UnknownService(name) if name == "riskgate.v1.NoSuchService"),
        "{err}"
    );
}
