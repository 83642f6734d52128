//! `riskctl connectors list|show|create|update|enable|disable|delete`.

use riskgate_proto::v1::{
    self as pb, Connector, CreateConnectorRequest, DeleteConnectorRequest, GetConnectorRequest,
    ListConnectorsRequest, MinimumOsVersions, PlatformToggles, UpdateConnectorRequest,
};
use serde_json::json;

use crate::{
    cli::{
        ConnectorCreateArgs, ConnectorFields, ConnectorUpdateArgs, ConnectorsCommand, ToggleArgs,
    },
    connect::Connection,
    error::{CliError, CliResult},
    files,
    json::{self as json_out, ago, duration_text, timestamp_text},
    names::{self, or_dash, toggle_words, word_of, InputEnum as _, TogglePlatform},
    output::{self, fields, Table},
    policy_file::{proto_duration, ConnectorFile},
};

pub(super) async fn run(
    conn: &Connection,
    command: ConnectorsCommand,
    json: bool,
) -> CliResult<()> {
    match command {
        ConnectorsCommand::List => list(conn, json).await,
        ConnectorsCommand::Show { id } => {
            let connector = get(conn, &id).await?;
            print(&connector, json)
        }
        ConnectorsCommand::Create(args) => create(conn, args, json).await,
        ConnectorsCommand::Update(args) => update(conn, args, json).await,
        ConnectorsCommand::Enable(args) => toggle(conn, args, true, json).await,
        ConnectorsCommand::Disable(args) => toggle(conn, args, false, json).await,
        ConnectorsCommand::Delete { id } => {
            conn.connectors()
                .delete_connector(DeleteConnectorRequest {
                    connector_id: id.clone(),
                })
                .await
                .map_err(|s| conn.status(&s))?;
            if json {
                output::json(&json!({ "deleted": id }))
            } else {
                output::write(&format!("deleted connector {id}\n"))
            }
        }
    }
}

async fn get(conn: &Connection, id: &str) -> CliResult<Connector> {
    Ok(conn
        .connectors()
        .get_connector(GetConnectorRequest {
            connector_id: id.to_owned(),
        })
        .await
        .map_err(|s| conn.status(&s))?
        .into_inner())
}

async fn list(conn: &Connection, json: bool) -> CliResult<()> {
    let connectors = conn
        .connectors()
        .list_connectors(ListConnectorsRequest {})
        .await
        .map_err(|s| conn.status(&s))?
        .into_inner()
        .connectors;
    if json {
        return output::json(&json!(connectors
            .iter()
            .map(json_out::connector)
            .collect::<Vec<_>>()));
    }
    let mut table = Table::new(&[
        "ID",
        "VENDOR",
        "STATE",
        "COMPLIANCE",
        "APP PROTECTION",
        "LAST HEARTBEAT",
        "VERSION",
    ]);
    for c in &connectors {
        table.row(vec![
            c.connector_id.clone(),
            c.vendor.clone(),
            or_dash(word_of::<pb::ConnectorState>(c.state)),
            platforms_or_dash(c.compliance_enabled.as_ref()),
            platforms_or_dash(c.app_protection_enabled.as_ref()),
            or_dash(ago(c.last_heartbeat.as_ref())),
            c.version.to_string(),
        ]);
    }
    output::write(&table.render("no connectors"))
}

fn platforms_or_dash(toggles: Option<&PlatformToggles>) -> String {
    let on = toggle_words(toggles);
    if on.is_empty() {
        "-".to_owned()
    } else {
        on.join(",")
    }
}

/// Prints one connector as fields or JSON.
fn print(c: &Connector, json: bool) -> CliResult<()> {
    if json {
        return output::json(&json_out::connector(c));
    }
    let mut pairs = settings(c);
    if !c.error_message.is_empty() {
        pairs.push(("error", c.error_message.clone()));
    }
    if let Some(feed) = &c.feed {
        pairs.extend(feed_fields(c, feed));
    }
    output::write(&fields(&pairs))
}

/// The connector's settings and state, labelled.
fn settings(c: &Connector) -> Vec<(&'static str, String)> {
    vec![
        ("id", c.connector_id.clone()),
        ("vendor", c.vendor.clone()),
        (
            "display name",
            or_dash(Some(c.display_name.clone()).filter(|n| !n.is_empty())),
        ),
        (
            "kind",
            word_of::<pb::PartnerKind>(c.kind).unwrap_or_else(|| "third_party".to_owned()),
        ),
        ("state", or_dash(word_of::<pb::ConnectorState>(c.state))),
        ("provisioned", c.provisioned.unwrap_or(true).to_string()),
        (
            "compliance",
            platforms_or_dash(c.compliance_enabled.as_ref()),
        ),
        (
            "app protection",
            platforms_or_dash(c.app_protection_enabled.as_ref()),
        ),
        (
            "block on missing data",
            platforms_or_dash(c.block_on_missing_partner_data.as_ref()),
        ),
        (
            "block unsupported os",
            c.block_unsupported_os_versions.to_string(),
        ),
        ("minimum os", minimum_os_text(c.minimum_os_versions.clone())),
        (
            "unresponsive after",
            duration_text(c.unresponsive_after.as_ref())
                .unwrap_or_else(|| "7days (default)".to_owned()),
        ),
        (
            "last heartbeat",
            or_dash(timestamp_text(c.last_heartbeat.as_ref())),
        ),
        (
            "missing data",
            word_of::<pb::MissingDataMode>(c.missing_data)
                .unwrap_or_else(|| "last_known".to_owned()),
        ),
        ("version", c.version.to_string()),
    ]
}

/// `ios=16.4 macos=14` for the platforms with a minimum version, or `-`.
fn minimum_os_text(versions: Option<MinimumOsVersions>) -> String {
    let mut versions = versions.unwrap_or_default();
    let set: Vec<String> = TogglePlatform::ALL
        .iter()
        .filter_map(|platform| {
            let version = platform.minimum_os(&mut versions);
            (!version.is_empty()).then(|| format!("{}={version}", platform.word()))
        })
        .collect();
    if set.is_empty() {
        "-".to_owned()
    } else {
        set.join(" ")
    }
}

/// The state of the connector's vendor feed, labelled.
fn feed_fields(c: &Connector, feed: &pb::FeedHealth) -> [(&'static str, String); 3] {
    let state = word_of::<pb::FeedState>(feed.state).unwrap_or_else(|| "not reported".to_owned());
    let since = timestamp_text(feed.since.as_ref())
        .map(|since| format!(" since {since}"))
        .unwrap_or_default();
    let reason = if feed.reason.is_empty() {
        String::new()
    } else {
        format!(": {}", feed.reason)
    };
    [
        ("vendor feed", format!("{state}{since}{reason}")),
        (
            "last vendor sync",
            or_dash(timestamp_text(feed.last_vendor_sync.as_ref())),
        ),
        (
            "vendor sync lag",
            or_dash(duration_text(c.vendor_sync_lag.as_ref())),
        ),
    ]
}

async fn create(conn: &Connection, args: ConnectorCreateArgs, json: bool) -> CliResult<()> {
    let connector = match (&args.file, &args.id) {
        (Some(path), _) => {
            refuse_mixed(&args.fields)?;
            files::load::<ConnectorFile>(path)?.to_proto()
        }
        (None, Some(id)) => {
            let mut connector = Connector {
                connector_id: id.clone(),
                ..Default::default()
            };
            apply_fields(&mut connector, &args.fields);
            connector
        }
        (None, None) => return Err(CliError::Other("give a connector id or -f FILE".to_owned())),
    };
    let created = conn
        .connectors()
        .create_connector(CreateConnectorRequest {
            connector: Some(connector),
        })
        .await
        .map_err(|s| conn.status(&s))?
        .into_inner();
    print(&created, json)
}

async fn update(conn: &Connection, args: ConnectorUpdateArgs, json: bool) -> CliResult<()> {
    let (connector, expected_version) = match (&args.file, &args.id) {
        (Some(path), _) => {
            refuse_mixed(&args.fields)?;
            (files::load::<ConnectorFile>(path)?.to_proto(), 0)
        }
        (None, Some(id)) => {
            if args.fields.is_empty() {
                return Err(CliError::Other(
                    "nothing to update: give a setting flag (see connectors update --help) or -f FILE"
                        .to_owned(),
                ));
            }
            // Change only the given fields; the version check refuses a concurrent change.
            let mut connector = get(conn, id).await?;
            let version = connector.version;
            apply_fields(&mut connector, &args.fields);
            (connector, version)
        }
        (None, None) => return Err(CliError::Other("give a connector id or -f FILE".to_owned())),
    };
    send_update(conn, connector, expected_version, json).await
}

async fn send_update(
    conn: &Connection,
    connector: Connector,
    expected_version: u64,
    json: bool,
) -> CliResult<()> {
    let updated = conn
        .connectors()
        .update_connector(UpdateConnectorRequest {
            connector: Some(connector),
            expected_version,
        })
        .await
        .map_err(|s| conn.status(&s))?
        .into_inner();
    print(&updated, json)
}

/// `enable`: compliance toggles (and app protection with --app-protection) on, provisioned.
/// `disable`: both kinds of toggle off unless one is named.
async fn toggle(conn: &Connection, args: ToggleArgs, on: bool, json: bool) -> CliResult<()> {
    let mut connector = get(conn, &args.id).await?;
    let version = connector.version;
    let platforms: &[TogglePlatform] = if args.platforms.is_empty() {
        TogglePlatform::ALL
    } else {
        &args.platforms
    };
    let neither = !args.compliance && !args.app_protection;
    let compliance = args.compliance || neither;
    let app_protection = args.app_protection || (neither && !on);
    for platform in platforms {
        if compliance {
            let toggles = connector.compliance_enabled.get_or_insert_default();
            *platform.toggle(toggles) = on;
        }
        if app_protection {
            let toggles = connector.app_protection_enabled.get_or_insert_default();
            *platform.toggle(toggles) = on;
        }
    }
    if on {
        connector.provisioned = Some(true);
    }
    send_update(conn, connector, version, json).await
}

fn refuse_mixed(fields: &ConnectorFields) -> CliResult<()> {
    if fields.is_empty() {
        Ok(())
    } else {
        Err(CliError::Other(
            "give the settings either in -f FILE or as flags, not both".to_owned(),
        ))
    }
}

impl ConnectorFields {
    /// Whether no setting flag was given.
    fn is_empty(&self) -> bool {
        self.vendor.is_none()
            && self.display_name.is_none()
            && self.kind.is_none()
            && self.compliance.is_none()
            && self.app_protection.is_none()
            && self.block_on_missing_data.is_none()
            && self.block_unsupported_os.is_none()
            && self.min_os.is_empty()
            && self.unresponsive_after.is_none()
            && self.provisioned.is_none()
            && self.missing_data.is_none()
    }
}

/// Platform lists from flags, where `none` is `None`.
fn flag_toggles(list: &[Option<TogglePlatform>]) -> PlatformToggles {
    let on: Vec<TogglePlatform> = list.iter().flatten().copied().collect();
    names::toggles(&on)
}

/// Overwrites the fields that were given as flags.
fn apply_fields(connector: &mut Connector, fields: &ConnectorFields) {
    if let Some(vendor) = &fields.vendor {
        connector.vendor.clone_from(vendor);
    }
    if let Some(name) = &fields.display_name {
        connector.display_name.clone_from(name);
    }
    if let Some(kind) = fields.kind {
        connector.kind = kind.to_proto();
    }
    if let Some(list) = &fields.compliance {
        connector.compliance_enabled = Some(flag_toggles(list));
    }
    if let Some(list) = &fields.app_protection {
        connector.app_protection_enabled = Some(flag_toggles(list));
    }
    if let Some(list) = &fields.block_on_missing_data {
        connector.block_on_missing_partner_data = Some(flag_toggles(list));
    }
    if let Some(block) = fields.block_unsupported_os {
        connector.block_unsupported_os_versions = block;
    }
    if !fields.min_os.is_empty() {
        let min = connector
            .minimum_os_versions
            .get_or_insert_with(MinimumOsVersions::default);
        for (platform, version) in &fields.min_os {
            platform.minimum_os(min).clone_from(version);
        }
    }
    if let Some(after) = fields.unresponsive_after {
        connector.unresponsive_after = Some(proto_duration(after));
    }
    if let Some(provisioned) = fields.provisioned {
        connector.provisioned = Some(provisioned);
    }
    if let Some(mode) = fields.missing_data {
        connector.missing_data = mode.to_proto();
    }
}
