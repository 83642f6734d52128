//! Heartbeats against the configuration: news from a host, not a change an admin made.

use std::{sync::Arc, time::Duration};

use super::*;
use crate::domain::policy::{
    ConnectorState, MissingDataMode, PartnerKind, PerPlatform, PolicyConfig,
};

const SECOND: i64 = 1_000_000_000;

fn settings() -> ConnectorSettings {
    ConnectorSettings {
        vendor: "lookout".into(),
        display_name: String::new(),
        kind: PartnerKind::ThirdParty,
        compliance_enabled: PerPlatform::default(),
        app_protection_enabled: PerPlatform::default(),
        block_on_missing_partner_data: PerPlatform::default(),
        block_unsupported_os_versions: false,
        minimum_os_versions: PerPlatform::default(),
        unresponsive_after: Duration::from_secs(60),
        provisioned: true,
        missing_data: MissingDataMode::LastKnown,
    }
}

fn id() -> ConnectorId {
    ConnectorId::parse("lookout").unwrap()
}

fn created() -> Arc<PolicyConfig> {
    let mut config = Arc::new(PolicyConfig::default());
    apply(
        &mut config,
        AdminCommand::CreateConnector(id(), settings()),
        Timestamp(0),
    )
    .unwrap();
    config
}

fn heartbeat(config: &mut Arc<PolicyConfig>, error: &str, at_seconds: i64) -> Connector {
    let command = AdminCommand::Heartbeat {
        connector_id: id(),
        error_message: error.into(),
        feed: None,
    };
    match apply(config, command, Timestamp(at_seconds * SECOND))
        .unwrap()
        .0
    {
        AdminOutcome::Connector(connector) => connector,
        other => panic!("{other:?}"),
    }
}

#[test]
fn heartbeats_leave_the_version_that_updates_check() {
    let mut config = created();
    heartbeat(&mut config, "", 1);
    let connector = heartbeat(&mut config, "", 2);
    assert_eq!(connector.version, 1);
    // A version-checked update written against the version read before the heartbeats applies.
    let update = AdminCommand::UpdateConnector {
        connector_id: id(),
        settings: settings(),
        expected_version: 1,
    };
    apply(&mut config, update, Timestamp(3 * SECOND)).unwrap();
}

#[test]
fn a_failure_report_is_not_a_sign_of_life() {
    let mut config = created();
    heartbeat(&mut config, "", 10);
    let failed = heartbeat(&mut config, "quarantined: crashed 5 times", 50);
    assert_eq!(failed.last_heartbeat, Some(Timestamp(10 * SECOND)));
    assert_eq!(failed.state(Timestamp(50 * SECOND)), ConnectorState::Error);
    // Past unresponsive_after from the last healthy heartbeat, failure reports do not keep it alive.
    heartbeat(&mut config, "quarantined: crashed 5 times", 69);
    let connector = &config.connectors[&id()];
    assert_eq!(
        connector.state(Timestamp(71 * SECOND)),
        ConnectorState::Unresponsive
    );
}

#[test]
fn a_host_that_fails_before_its_first_heartbeat_is_in_error_and_still_not_set_up_for_reports() {
    let mut config = created();
    let failed = heartbeat(&mut config, "invalid configuration", 5);
    assert_eq!(failed.last_heartbeat, None);
    assert_eq!(failed.state(Timestamp(5 * SECOND)), ConnectorState::Error);
    assert!(!failed.accepts_reports(Timestamp(5 * SECOND)));
}
