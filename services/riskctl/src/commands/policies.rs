//! `riskctl policies apply|list|show|delete`: compliance policies, conditional-access resources and
//! app-protection policies, as one family of objects addressed by id.

use riskgate_proto::v1::{
    self as pb, AppProtectionPolicy, CompliancePolicy, DeleteByIdRequest, GetByIdRequest,
    ListRequest, Resource, UpdateCompliancePolicyRequest,
};
use serde_json::{json, Value};
use tonic::Code;

use crate::{
    cli::{Command, PoliciesCommand, PolicyKind},
    connect::Connection,
    error::{CliError, CliResult},
    files,
    json::{self as json_out, duration_text},
    names::{or_dash, word_of},
    output::{self, fields, Table},
    policy_file::PolicyFile,
};

/// What `policies apply` read, loaded before connecting so a bad file is reported first.
#[derive(Debug, Default)]
pub(super) struct Prepared(Option<PolicyFile>);

/// Reads the policy file of `policies apply`, if that is the command.
pub(super) fn prepare(command: &Command) -> CliResult<Prepared> {
    match command {
        Command::Policies(PoliciesCommand::Apply { file }) => {
            Ok(Prepared(Some(files::load::<PolicyFile>(file)?)))
        }
        _ => Ok(Prepared(None)),
    }
}

pub(super) async fn run(
    conn: &Connection,
    command: PoliciesCommand,
    prepared: Prepared,
    json: bool,
) -> CliResult<()> {
    match command {
        PoliciesCommand::Apply { .. } => {
            let file = prepared.0.unwrap_or_default();
            apply(conn, &file, json).await
        }
        PoliciesCommand::List { kind } => list(conn, kind, json).await,
        PoliciesCommand::Show { id, kind } => match find(conn, &id, kind).await? {
            Found::Compliance(p) => print_compliance(&p, json),
            Found::Resource(r) => print_resource(&r, json),
            Found::AppProtection(p) => print_app(&p, json),
        },
        PoliciesCommand::Delete { id, kind } => {
            let found = find(conn, &id, kind).await?;
            let request = DeleteByIdRequest { id: id.clone() };
            let mut client = conn.policies();
            let result = match found {
                Found::Compliance(_) => client.delete_compliance_policy(request).await,
                Found::Resource(_) => client.delete_resource(request).await,
                Found::AppProtection(_) => client.delete_app_protection_policy(request).await,
            };
            result.map_err(|s| conn.status(&s))?;
            let kind = found.kind_word();
            if json {
                output::json(&json!({ "deleted": { "kind": kind, "id": id } }))
            } else {
                output::write(&format!("deleted {kind} {id}\n"))
            }
        }
    }
}

/// Prefixes a failure with the object it was about.
fn about(conn: &Connection, what: &str, status: &tonic::Status) -> CliError {
    match conn.status(status) {
        CliError::InvalidArgument(message) => {
            CliError::InvalidArgument(format!("{what}: {message}"))
        }
        CliError::NotFound(message) => CliError::NotFound(format!("{what}: {message}")),
        CliError::Other(message) => CliError::Other(format!("{what}: {message}")),
        other => other,
    }
}

async fn apply(conn: &Connection, file: &PolicyFile, json: bool) -> CliResult<()> {
    let mut client = conn.policies();
    let mut applied: Vec<(&'static str, String, &'static str, u64)> = Vec::new();
    for policy in &file.compliance {
        let what = format!("compliance {}", policy.id());
        let message = policy.to_proto();
        let (action, stored) = match client.create_compliance_policy(message.clone()).await {
            Ok(created) => ("created", created.into_inner()),
            Err(status) if status.code() == Code::AlreadyExists => {
                let request = UpdateCompliancePolicyRequest {
                    policy: Some(message),
                    expected_version: 0,
                };
                let updated = client
                    .update_compliance_policy(request)
                    .await
                    .map_err(|s| about(conn, &what, &s))?;
                ("updated", updated.into_inner())
            }
            Err(status) => return Err(about(conn, &what, &status)),
        };
        applied.push(("compliance", stored.policy_id, action, stored.version));
    }
    for resource in &file.resource {
        let message = resource.to_proto();
        let what = format!("resource {}", message.name);
        let stored = client
            .put_resource(message)
            .await
            .map_err(|s| about(conn, &what, &s))?
            .into_inner();
        applied.push(("resource", stored.name, "applied", stored.version));
    }
    for policy in &file.app_protection {
        let message = policy.to_proto();
        let what = format!("app_protection {}", message.policy_id);
        let stored = client
            .put_app_protection_policy(message)
            .await
            .map_err(|s| about(conn, &what, &s))?
            .into_inner();
        applied.push((
            "app_protection",
            stored.policy_id,
            "applied",
            stored.version,
        ));
    }
    if json {
        let list: Vec<Value> = applied
            .iter()
            .map(|(kind, id, action, version)| {
                json!({ "kind": kind, "id": id, "action": action, "version": version })
            })
            .collect();
        return output::json(&json!({ "applied": list }));
    }
    let mut table = Table::new(&["KIND", "ID", "RESULT", "VERSION"]);
    for (kind, id, action, version) in applied {
        table.row(vec![
            kind.to_owned(),
            id,
            action.to_owned(),
            version.to_string(),
        ]);
    }
    output::write(&table.render("the file holds no policies"))
}

async fn list(conn: &Connection, kind: Option<PolicyKind>, json: bool) -> CliResult<()> {
    let listed = Listed::fetch(conn, kind).await?;
    if json {
        return output::json(&json!({
            "compliance": listed.compliance.iter().map(json_out::compliance_policy).collect::<Vec<_>>(),
            "resource": listed.resources.iter().map(json_out::resource).collect::<Vec<_>>(),
            "app_protection": listed.apps.iter().map(json_out::app_policy).collect::<Vec<_>>(),
        }));
    }
    let wants = |k: PolicyKind| kind.is_none_or(|only| only == k);
    let mut tables = Vec::new();
    if wants(PolicyKind::Compliance) {
        tables.push(compliance_table(&listed.compliance));
    }
    if wants(PolicyKind::Resource) {
        tables.push(resources_table(&listed.resources));
    }
    if wants(PolicyKind::AppProtection) {
        tables.push(apps_table(&listed.apps));
    }
    output::write(&tables.join("\n"))
}

/// The objects of the kinds `policies list` asked for (the others stay empty).
#[derive(Debug, Default)]
struct Listed {
    compliance: Vec<CompliancePolicy>,
    resources: Vec<Resource>,
    apps: Vec<AppProtectionPolicy>,
}

impl Listed {
    async fn fetch(conn: &Connection, kind: Option<PolicyKind>) -> CliResult<Listed> {
        let wants = |k: PolicyKind| kind.is_none_or(|only| only == k);
        let mut client = conn.policies();
        let mut listed = Listed::default();
        if wants(PolicyKind::Compliance) {
            let answer = client.list_compliance_policies(ListRequest {}).await;
            listed.compliance = answer.map_err(|s| conn.status(&s))?.into_inner().policies;
        }
        if wants(PolicyKind::Resource) {
            let answer = client.list_resources(ListRequest {}).await;
            listed.resources = answer.map_err(|s| conn.status(&s))?.into_inner().resources;
        }
        if wants(PolicyKind::AppProtection) {
            let answer = client.list_app_protection_policies(ListRequest {}).await;
            listed.apps = answer.map_err(|s| conn.status(&s))?.into_inner().policies;
        }
        Ok(listed)
    }
}

fn compliance_table(policies: &[CompliancePolicy]) -> String {
    let mut table = Table::new(&[
        "COMPLIANCE",
        "MAX LEVEL",
        "PLATFORMS",
        "TARGETS",
        "GRACE",
        "VERSION",
    ]);
    for p in policies {
        table.row(vec![
            p.policy_id.clone(),
            or_dash(word_of::<pb::ThreatLevel>(p.max_threat_level)),
            platform_list(&p.platforms),
            targets(p),
            duration_text(p.grace_period.as_ref()).unwrap_or_else(|| "0s".to_owned()),
            p.version.to_string(),
        ]);
    }
    table.render("no compliance policies")
}

fn resources_table(resources: &[Resource]) -> String {
    let mut table = Table::new(&["RESOURCE", "RULES", "VERSION"]);
    for r in resources {
        table.row(vec![r.name.clone(), rules_text(r), r.version.to_string()]);
    }
    table.render("no resources")
}

fn apps_table(policies: &[AppProtectionPolicy]) -> String {
    let mut table = Table::new(&["APP PROTECTION", "MAX LEVEL", "ACTION", "APPS", "VERSION"]);
    for p in policies {
        table.row(vec![
            p.policy_id.clone(),
            or_dash(word_of::<pb::ThreatLevel>(p.max_threat_level)),
            or_dash(word_of::<pb::AppAction>(p.action)),
            p.app_ids.join(","),
            p.version.to_string(),
        ]);
    }
    table.render("no app-protection policies")
}

fn platform_list(platforms: &[i32]) -> String {
    if platforms.is_empty() {
        return "all".to_owned();
    }
    platforms
        .iter()
        .map(|p| or_dash(word_of::<pb::Platform>(*p)))
        .collect::<Vec<_>>()
        .join(",")
}

fn targets(p: &CompliancePolicy) -> String {
    let a = p.assignment.clone().unwrap_or_default();
    let mut text = if a.all_devices {
        "all devices".to_owned()
    } else if a.groups.is_empty() {
        "nothing".to_owned()
    } else {
        format!("groups {}", a.groups.join(","))
    };
    if !a.excluded_groups.is_empty() {
        text.push_str(&format!(" except {}", a.excluded_groups.join(",")));
    }
    text
}

fn rules_text(r: &Resource) -> String {
    if r.rules.is_empty() {
        return "allow all".to_owned();
    }
    r.rules
        .iter()
        .map(|rule| {
            let mut needs = Vec::new();
            if rule.require_compliant_device {
                needs.push("compliant device".to_owned());
            }
            if let Some(level) = word_of::<pb::ThreatLevel>(rule.max_threat_level) {
                needs.push(format!("level <= {level}"));
            }
            if needs.is_empty() {
                needs.push("nothing".to_owned());
            }
            format!(
                "{}: {}",
                platform_list(&rule.platforms),
                needs.join(" and ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// An object found by id.
#[derive(Debug)]
enum Found {
    Compliance(CompliancePolicy),
    Resource(Resource),
    AppProtection(AppProtectionPolicy),
}

impl Found {
    fn kind_word(&self) -> &'static str {
        match self {
            Found::Compliance(_) => "compliance",
            Found::Resource(_) => "resource",
            Found::AppProtection(_) => "app_protection",
        }
    }
}

/// Looks `id` up among the kinds allowed by `kind`; NOT_FOUND answers are skipped, anything else fails.
async fn find(conn: &Connection, id: &str, kind: Option<PolicyKind>) -> CliResult<Found> {
    let wants = |k: PolicyKind| kind.is_none_or(|only| only == k);
    let request = || GetByIdRequest { id: id.to_owned() };
    let mut client = conn.policies();
    let mut found = Vec::new();
    let skip_not_found = |result: Result<Found, tonic::Status>| match result {
        Ok(object) => Ok(Some(object)),
        Err(status) if status.code() == Code::NotFound => Ok(None),
        Err(status) => Err(conn.status(&status)),
    };
    if wants(PolicyKind::Compliance) {
        let result = client.get_compliance_policy(request()).await;
        found.extend(skip_not_found(
            result.map(|r| Found::Compliance(r.into_inner())),
        )?);
    }
    if wants(PolicyKind::Resource) {
        let result = client.get_resource(request()).await;
        found.extend(skip_not_found(
            result.map(|r| Found::Resource(r.into_inner())),
        )?);
    }
    if wants(PolicyKind::AppProtection) {
        let result = client.get_app_protection_policy(request()).await;
        found.extend(skip_not_found(
            result.map(|r| Found::AppProtection(r.into_inner())),
        )?);
    }
    match found.len() {
        0 => Err(CliError::NotFound(match kind {
            Some(_) => format!("no {} named {id:?}", kind_word(kind)),
            None => format!("no compliance policy, resource or app-protection policy named {id:?}"),
        })),
        1 => Ok(found.remove(0)),
        _ => {
            let kinds: Vec<&str> = found.iter().map(Found::kind_word).collect();
            Err(CliError::Other(format!(
                "{id:?} names a {}: pass --kind",
                kinds.join(" and a ")
            )))
        }
    }
}

fn kind_word(kind: Option<PolicyKind>) -> &'static str {
    match kind {
        Some(PolicyKind::Compliance) => "compliance policy",
        Some(PolicyKind::Resource) => "resource",
        Some(PolicyKind::AppProtection) => "app-protection policy",
        None => "object",
    }
}

fn print_compliance(p: &CompliancePolicy, json: bool) -> CliResult<()> {
    if json {
        return output::json(&json!({ "compliance": json_out::compliance_policy(p) }));
    }
    let actions: Vec<String> = p
        .actions
        .iter()
        .map(|a| {
            format!(
                "{} after {}",
                or_dash(word_of::<pb::ActionKind>(a.kind)),
                duration_text(a.after.as_ref()).unwrap_or_else(|| "0s".to_owned())
            )
        })
        .collect();
    output::write(&fields(&[
        ("compliance policy", p.policy_id.clone()),
        (
            "display name",
            or_dash(Some(p.display_name.clone()).filter(|n| !n.is_empty())),
        ),
        ("platforms", platform_list(&p.platforms)),
        ("targets", targets(p)),
        (
            "max threat level",
            or_dash(word_of::<pb::ThreatLevel>(p.max_threat_level)),
        ),
        (
            "grace period",
            duration_text(p.grace_period.as_ref()).unwrap_or_else(|| "0s".to_owned()),
        ),
        (
            "actions",
            if actions.is_empty() {
                "-".to_owned()
            } else {
                actions.join(", ")
            },
        ),
        ("version", p.version.to_string()),
    ]))
}

fn print_resource(r: &Resource, json: bool) -> CliResult<()> {
    if json {
        return output::json(&json!({ "resource": json_out::resource(r) }));
    }
    output::write(&fields(&[
        ("resource", r.name.clone()),
        ("rules", rules_text(r)),
        ("version", r.version.to_string()),
    ]))
}

fn print_app(p: &AppProtectionPolicy, json: bool) -> CliResult<()> {
    if json {
        return output::json(&json!({ "app_protection": json_out::app_policy(p) }));
    }
    output::write(&fields(&[
        ("app-protection policy", p.policy_id.clone()),
        (
            "display name",
            or_dash(Some(p.display_name.clone()).filter(|n| !n.is_empty())),
        ),
        ("apps", p.app_ids.join(", ")),
        ("platforms", platform_list(&p.platforms)),
        (
            "max threat level",
            or_dash(word_of::<pb::ThreatLevel>(p.max_threat_level)),
        ),
        ("action", or_dash(word_of::<pb::AppAction>(p.action))),
        (
            "partner priority",
            word_of::<pb::PartnerPriority>(p.partner_priority)
                .unwrap_or_else(|| "defender_over_third_party (default)".to_owned()),
        ),
        ("version", p.version.to_string()),
    ]))
}
