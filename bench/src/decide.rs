//! `decide`: riskgate's in-process decision evaluation (riskgate-core's `policy::evaluate`) against the
//! cedar-policy crate evaluating the equivalent policy — permit when the device's threat level is at or
//! under the allowed level and the device is compliant — over the same devices. Policies, configuration and
//! entities stay resident, as a server keeps them (Cedar's published benchmarks: re-parsing per call is what
//! makes Cedar slow in practice). Both sides get the same inputs and must agree on every decision.
//!
//! Each sample times a batch of evaluations and divides, so the clock's own cost does not count; the
//! batches of the engines alternate, so both see the same machine noise.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    hint::black_box,
    str::FromStr,
    time::{Duration, Instant},
};

use anyhow::{ensure, Context as _};
use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityUid, PolicySet, Request,
    RestrictedExpression,
};
use riskgate_policy::{
    domain::{
        policy::{
            AccessRule, Assignment, CompliancePolicy, Connector, ConnectorSettings,
            MissingDataMode, PartnerKind, PerPlatform, PolicyConfig, Resource, TenantSettings,
            UnknownDeviceAccess, DEFAULT_UNRESPONSIVE_AFTER,
        },
        ConnectorId, HealthState, Platform, ThreatLevel, Timestamp,
    },
    evaluate::{
        decide_access, effective_level, evaluate_compliance, ConnectorStates, DeviceSummary,
        PartnerSummary,
    },
    view::ComplianceState,
};

use crate::{
    stats::{nanos, print_line, print_table, ratio, Samples},
    summary::Goal,
};

const RESOURCE: &str = "bench-app";

/// The Cedar policy equivalent to riskgate's compliance policy (max LOW) plus a resource rule that
/// requires a compliant device at or under LOW.
const CEDAR_POLICY: &str = r#"
permit(principal, action == Action::"access", resource)
when { principal.threat_level <= resource.max_threat_level && principal.compliant };
"#;

/// One way to decide whether a device may reach the resource.
type DecideFn = fn(&Fixture, &Device) -> bool;

/// One device as both engines see it.
struct Device {
    summary: DeviceSummary,
    /// As the view keeps it, which is what CheckAccess decides from.
    compliance: ComplianceState,
    cedar_request: Request,
}

/// Everything resident: riskgate's configuration and Cedar's policies and entities.
struct Fixture {
    config: PolicyConfig,
    states: ConnectorStates,
    resource: Resource,
    now: Timestamp,
    devices: Vec<Device>,
    authorizer: Authorizer,
    policies: PolicySet,
    entities: Entities,
}

impl Fixture {
    fn riskgate_decide(&self, device: &Device) -> bool {
        decide_access(
            &self.config,
            &self.states,
            Some((&device.summary, &device.compliance)),
            &self.resource,
            None,
        )
        .allow
    }

    fn riskgate_evaluate_and_decide(&self, device: &Device) -> bool {
        let compliance = evaluate_compliance(
            &self.config,
            &self.states,
            &device.summary,
            &BTreeMap::new(),
            self.now,
        );
        decide_access(
            &self.config,
            &self.states,
            Some((&device.summary, &compliance)),
            &self.resource,
            None,
        )
        .allow
    }

    fn cedar_decide(&self, device: &Device) -> bool {
        self.authorizer
            .is_authorized(&device.cedar_request, &self.policies, &self.entities)
            .decision()
            == Decision::Allow
    }
}

/// Runs the benchmark, prints the table and the ratio, and returns the goal it measures.
pub(crate) fn run(quick: bool) -> anyhow::Result<Vec<Goal>> {
    let (device_count, rounds, batch) = if quick {
        (100, 30, 10)
    } else {
        (1_000, 3_000, 100)
    };
    let fixture = fixture(device_count)?;
    for (index, device) in fixture.devices.iter().enumerate() {
        let riskgate = fixture.riskgate_decide(device);
        ensure!(
            riskgate == fixture.cedar_decide(device)
                && riskgate == fixture.riskgate_evaluate_and_decide(device),
            "riskgate and Cedar disagree on device {index}"
        );
    }

    let engines: [(&str, DecideFn); 3] = [
        (
            "riskgate decide_access (compliance precomputed, as CheckAccess)",
            Fixture::riskgate_decide,
        ),
        (
            "riskgate evaluate_compliance + decide_access",
            Fixture::riskgate_evaluate_and_decide,
        ),
        (
            "cedar-policy is_authorized (entities resident)",
            Fixture::cedar_decide,
        ),
    ];
    let mut samples = vec![Samples::default(); engines.len()];
    let mut next = 0usize;
    for _ in 0..rounds {
        for ((_, decide), samples) in engines.iter().zip(samples.iter_mut()) {
            let started = Instant::now();
            for _ in 0..batch {
                let device = &fixture.devices[next % fixture.devices.len()];
                black_box(decide(black_box(&fixture), black_box(device)));
                next += 1;
            }
            samples.push(started.elapsed() / batch);
        }
    }

    let rows: Vec<Vec<String>> = engines
        .iter()
        .zip(&samples)
        .map(|((name, _), samples)| {
            vec![
                (*name).to_owned(),
                nanos(samples.percentile(50.0)),
                nanos(samples.percentile(99.0)),
            ]
        })
        .collect();
    print_table(
        &format!(
            "Decision evaluation in process ({device_count} devices, {rounds} samples of {batch} per engine)"
        ),
        &["engine", "median", "p99"],
        &rows,
    );
    let median = |samples: &Samples| samples.percentile(50.0).as_secs_f64();
    let speedup = ratio(median(&samples[2]), median(&samples[0]));
    print_line(&format!(
        "ratio cedar/riskgate median: {speedup:.1}x (decide_access); {:.1}x (evaluate_compliance + decide_access)",
        ratio(median(&samples[2]), median(&samples[1]))
    ));
    Ok(vec![Goal::new(
        "decision vs Cedar, median",
        ">= 10x faster",
        format!(
            "{speedup:.1}x ({} vs {})",
            nanos(samples[0].percentile(50.0)),
            nanos(samples[2].percentile(50.0))
        ),
        speedup >= 10.0,
    )])
}

/// The devices cycle through secured, low, medium and high: the first two are allowed.
fn fixture(device_count: usize) -> anyhow::Result<Fixture> {
    const HOUR: i64 = 3_600_000_000_000;
    let now = Timestamp(1_000 * HOUR);
    let connector_id = ConnectorId::parse("bench-mtd").map_err(anyhow::Error::msg)?;
    let resource = bench_resource();
    let config = bench_config(&connector_id, &resource, now);
    let states = ConnectorStates::at(&config, now);
    let mut cedar = CedarEntities::new()?;
    let mut devices = Vec::with_capacity(device_count);
    for index in 0..device_count {
        let summary = device_summary(&connector_id, HEALTH_CYCLE[index % HEALTH_CYCLE.len()], now);
        let compliance = evaluate_compliance(&config, &states, &summary, &BTreeMap::new(), now);
        let level = effective_level(&config, &states, &summary)
            .with_context(|| format!("device {index} has no threat level"))?;
        let cedar_request = cedar.add_device(index, level, compliance.status.grants_access())?;
        devices.push(Device {
            compliance: ComplianceState::new(&config, &states, &summary, &compliance, now),
            summary,
            cedar_request,
        });
    }
    Ok(Fixture {
        config,
        states,
        resource,
        now,
        devices,
        authorizer: Authorizer::new(),
        policies: PolicySet::from_str(CEDAR_POLICY)?,
        entities: Entities::from_entities(cedar.entities, None)?,
    })
}

/// The health states the devices cycle through.
const HEALTH_CYCLE: [HealthState; 4] = [
    HealthState::Secured,
    HealthState::LowSeverity,
    HealthState::MediumSeverity,
    HealthState::HighSeverity,
];

/// One connector on every platform, one compliance policy (max LOW) for every device and the resource.
fn bench_config(connector_id: &ConnectorId, resource: &Resource, now: Timestamp) -> PolicyConfig {
    let policy = bench_policy();
    PolicyConfig {
        connectors: BTreeMap::from([(connector_id.clone(), bench_connector(connector_id, now))]),
        policies: BTreeMap::from([(policy.policy_id.clone(), policy)]),
        resources: BTreeMap::from([(resource.name.clone(), resource.clone())]),
        app_policies: BTreeMap::new(),
        tenant: TenantSettings::default(),
    }
}

/// A third-party connector whose data counts for compliance on every platform, alive at `now`.
fn bench_connector(connector_id: &ConnectorId, now: Timestamp) -> Connector {
    let all = PerPlatform {
        android: true,
        ios: true,
        windows: true,
        macos: true,
    };
    Connector {
        connector_id: connector_id.clone(),
        settings: ConnectorSettings {
            vendor: "bench".into(),
            display_name: "bench".into(),
            kind: PartnerKind::ThirdParty,
            compliance_enabled: all,
            app_protection_enabled: PerPlatform::default(),
            block_on_missing_partner_data: PerPlatform::default(),
            block_unsupported_os_versions: false,
            minimum_os_versions: PerPlatform::default(),
            unresponsive_after: DEFAULT_UNRESPONSIVE_AFTER,
            provisioned: true,
            missing_data: MissingDataMode::default(),
        },
        last_heartbeat: Some(now),
        error_message: String::new(),
        version: 1,
        feed: Default::default(),
    }
}

/// Every device at or under LOW, no grace period.
fn bench_policy() -> CompliancePolicy {
    CompliancePolicy {
        policy_id: "bench-policy".into(),
        display_name: String::new(),
        platforms: Vec::new(),
        assignment: Assignment {
            all_devices: true,
            groups: Vec::new(),
            excluded_groups: Vec::new(),
        },
        max_threat_level: Some(ThreatLevel::Low),
        grace_period: Duration::ZERO,
        actions: Vec::new(),
        version: 1,
        updated_at: Timestamp(0),
    }
}

/// The resource: a compliant device at or under LOW.
fn bench_resource() -> Resource {
    Resource {
        name: RESOURCE.into(),
        rules: vec![AccessRule {
            platforms: Vec::new(),
            require_compliant_device: true,
            max_threat_level: Some(ThreatLevel::Low),
        }],
        version: 1,
        unknown_device: UnknownDeviceAccess::Deny,
    }
}

/// An Android device with one report of `health` from the connector.
fn device_summary(
    connector_id: &ConnectorId,
    health: HealthState,
    now: Timestamp,
) -> DeviceSummary {
    DeviceSummary {
        platform: Platform::Android,
        os_version: "14".into(),
        owner_user_id: String::new(),
        groups: Vec::new(),
        first_seen: now,
        last_seen: now,
        reports: vec![(
            connector_id.clone(),
            PartnerSummary {
                health_state: health,
                open_threat_ids: Vec::new(),
                known_risk: None,
            },
        )],
    }
}

/// Cedar's entities: the resource and, added one by one, the devices.
struct CedarEntities {
    action: EntityUid,
    resource: EntityUid,
    entities: Vec<Entity>,
}

impl CedarEntities {
    /// The resource alone, allowing LOW.
    fn new() -> anyhow::Result<Self> {
        let resource = EntityUid::from_str(&format!(r#"App::"{RESOURCE}""#))?;
        let entity = Entity::new(
            resource.clone(),
            HashMap::from([(
                "max_threat_level".to_owned(),
                RestrictedExpression::new_long(cedar_level(ThreatLevel::Low)),
            )]),
            HashSet::new(),
        )?;
        Ok(CedarEntities {
            action: EntityUid::from_str(r#"Action::"access""#)?,
            resource,
            entities: vec![entity],
        })
    }

    /// Adds device `index` with its level and compliance; returns the request asking for its access.
    fn add_device(
        &mut self,
        index: usize,
        level: ThreatLevel,
        compliant: bool,
    ) -> anyhow::Result<Request> {
        let uid = EntityUid::from_str(&format!(r#"Device::"device-{index}""#))?;
        self.entities.push(Entity::new(
            uid.clone(),
            HashMap::from([
                (
                    "threat_level".to_owned(),
                    RestrictedExpression::new_long(cedar_level(level)),
                ),
                (
                    "compliant".to_owned(),
                    RestrictedExpression::new_bool(compliant),
                ),
            ]),
            HashSet::new(),
        )?);
        Ok(Request::new(
            uid,
            self.action.clone(),
            self.resource.clone(),
            Context::empty(),
            None,
        )?)
    }
}

/// Threat levels as Cedar longs, in riskgate's order.
fn cedar_level(level: ThreatLevel) -> i64 {
    match level {
        ThreatLevel::Secured => 0,
        ThreatLevel::Low => 1,
        ThreatLevel::Medium => 2,
        ThreatLevel::High => 3,
    }
}
