//! The Shared Signals transmitter end to end: the vendor simulator, the real Lookout plugin in a real
//! connector host, the core, `riskgate-ssf` following it, and an independent receiver (Python with
//! PyJWT, `tests/ssf/receiver.py`) that verifies every SET against the JWKS it fetched at run time:
//! `typ`, `kid`, `iss`, `aud` and the signature. These tests check the rest: unique `jti`s, `txn` equal
//! to the log position of the change, order, and nothing lost.

use std::{collections::BTreeSet, time::Duration};

use anyhow::{ensure, Context as _};
use reqwest::Method;
use riskgate_tests::{
    api::{device_service_client::DeviceServiceClient, event::Kind, Decision, Event},
    auth::with_token,
    enforcement::{owner_email, Fleet, HostTimings, Users, ADMIN_TOKEN},
    ssf::{
        ReceivedSet, Receiver, SsfProcess, ISSUER, KEYCLOAK_TOKEN, OKTA_AUDIENCE, OKTA_TOKEN,
        OPS_TOKEN, TENANT, VIEWER_TOKEN,
    },
    wait_until,
};
use serde_json::{json, Value};

/// Generous bound for anything these tests wait for.
const WAIT: Duration = Duration::from_secs(30);

/// Secure devices of the simulator's seeded fleet.
const PHONE: &str = "fleet-00001";
const OTHER_PHONE: &str = "fleet-00002";

const CAEP: &str = "https://schemas.openid.net/secevent/caep/event-type/";

fn all_events() -> Value {
    json!([
        format!("{CAEP}device-compliance-change"),
        format!("{CAEP}risk-level-change"),
        format!("{CAEP}session-revoked"),
    ])
}

/// The fleet, synced (each device's first compliance change logged), with the transmitter following
/// its core.
async fn start() -> anyhow::Result<(Fleet, SsfProcess)> {
    let fleet = Fleet::start(3, HostTimings::Fast, Users::None).await?;
    for device in [PHONE, OTHER_PHONE] {
        wait_until(WAIT, "the initial sync logged", || async {
            history(&fleet, device).await.is_ok_and(|events| {
                caep_positions(&events)
                    .iter()
                    .any(|(_, name)| *name == "device-compliance-change")
            })
        })
        .await?;
    }
    let ssf = SsfProcess::start(&fleet.core.url(), "min_verification_interval = \"1h\"").await?;
    Ok((fleet, ssf))
}

/// A push receiver for the `okta` audience on any port, and its stream asking for every CAEP event.
async fn okta_push(ssf: &SsfProcess) -> anyhow::Result<(Receiver, String)> {
    let receiver = Receiver::push(ssf, OKTA_AUDIENCE, "127.0.0.1:0").await?;
    let stream = push_stream(ssf, &receiver).await?;
    Ok((receiver, stream))
}

/// A push stream of the `okta` receiver to `receiver`, asking for every CAEP event.
async fn push_stream(ssf: &SsfProcess, receiver: &Receiver) -> anyhow::Result<String> {
    let endpoint = receiver.endpoint_url.clone().context("a push receiver")?;
    let config = ssf
        .create_stream(
            OKTA_TOKEN,
            &json!({
                "events_requested": all_events(),
                "delivery": { "method": "urn:ietf:rfc:8935", "endpoint_url": endpoint },
                "description": "okta itp",
            }),
        )
        .await?;
    stream_id(&config)
}

fn stream_id(config: &Value) -> anyhow::Result<String> {
    config["stream_id"]
        .as_str()
        .map(str::to_owned)
        .context("the configuration has a stream_id")
}

/// The device's events in the core's log.
async fn history(fleet: &Fleet, device: &str) -> anyhow::Result<Vec<Event>> {
    fleet.history(device).await
}

/// CAEP's level for riskgate's: SECURED and LOW are both LOW; 0 is no level yet.
fn caep_level(level: i32) -> i32 {
    if level == 0 {
        0
    } else {
        level.max(2)
    }
}

/// The positions of `events` that are CAEP events, with their names: a report that changes CAEP's
/// level, a compliance change between compliant and not, a flip to deny.
fn caep_positions(events: &[Event]) -> Vec<(u64, &'static str)> {
    let compliant = |status: i32| matches!(status, 2 | 3);
    events
        .iter()
        .filter_map(|event| {
            let name = match event.kind.as_ref()? {
                Kind::DeviceReported(report)
                    if report.current_level != 0
                        && caep_level(report.previous_level)
                            != caep_level(report.current_level) =>
                {
                    "risk-level-change"
                }
                Kind::DeviceComplianceChange(change)
                    if compliant(change.previous_status) != compliant(change.current_status) =>
                {
                    "device-compliance-change"
                }
                Kind::AccessDecisionChange(flip)
                    if flip.current_decision == Decision::Deny as i32 =>
                {
                    "session-revoked"
                }
                _ => return None,
            };
            Some((event.position, name))
        })
        .collect()
}

/// The SETs about `device`, de-duplicated by `jti` (first arrival kept).
fn about(sets: &[ReceivedSet], device: &str) -> Vec<ReceivedSet> {
    let mut seen = BTreeSet::new();
    sets.iter()
        .filter(|set| set.device() == Some(device) && seen.insert(set.jti.clone()))
        .cloned()
        .collect()
}

/// `(txn, name)` of each SET.
fn txns(sets: &[ReceivedSet]) -> Vec<(u64, String)> {
    sets.iter()
        .map(|set| (set.position().unwrap_or(0), set.name().to_owned()))
        .collect()
}

/// The `(txn, name)`s a stream created once the fleet synced must deliver: its CAEP changes after the
/// initial sync.
fn expected(events: &[Event]) -> Vec<(u64, String)> {
    let positions = caep_positions(events);
    let synced = positions
        .iter()
        .find(|(_, name)| *name == "device-compliance-change")
        .map_or(u64::MAX, |(position, _)| *position);
    positions
        .into_iter()
        .filter(|(position, _)| *position > synced)
        .map(|(position, name)| (position, name.to_owned()))
        .collect()
}

/// Waits until the core's log holds at least `count` CAEP changes of `device` after the initial sync and
/// the receiver has a SET for each; returns the SETs about the device and the expected `(txn, name)`s.
async fn wait_for_all(
    fleet: &Fleet,
    receiver: &Receiver,
    device: &str,
    count: usize,
) -> anyhow::Result<(Vec<ReceivedSet>, Vec<(u64, String)>)> {
    let delivered = wait_until(WAIT, "every CAEP change of the log delivered", || async {
        let Ok(events) = history(fleet, device).await else {
            return false;
        };
        let want = expected(&events);
        let got = txns(&about(&receiver.sets(), device));
        want.len() >= count && want.iter().all(|want| got.contains(want))
    })
    .await;
    let expected_txns = expected(&history(fleet, device).await?);
    delivered.with_context(|| {
        format!(
            "{device}: expected {expected_txns:?}, got {:?}; rejected {:?}",
            txns(&about(&receiver.sets(), device)),
            receiver.rejects()
        )
    })?;
    Ok((about(&receiver.sets(), device), expected_txns))
}

/// Infects `device` and waits until the core logged the threat's CAEP changes (whatever the transmitter
/// does with them).
async fn infect_logged(fleet: &Fleet, device: &str) -> anyhow::Result<()> {
    fleet.infect(device).await?;
    wait_until(
        WAIT,
        &format!("the core logged {device}'s threat"),
        || async {
            history(fleet, device)
                .await
                .is_ok_and(|events| expected(&events).len() >= INFECTED)
        },
    )
    .await
}

/// CAEP changes of a threat: risk-level-change, device-compliance-change, session-revoked.
const INFECTED: usize = 3;
/// And of its remediation: risk-level-change and device-compliance-change.
const REMEDIATED: usize = 5;

#[tokio::test(flavor = "multi_thread")]
async fn push_delivers_signed_caep_events_from_a_vendor_threat_and_its_remediation(
) -> anyhow::Result<()> {
    let (fleet, ssf) = start().await?;
    let (receiver, _) = okta_push(&ssf).await?;

    fleet.infect(PHONE).await?;
    let revoked = receiver
        .wait_for("session-revoked for the infected phone", WAIT, |set| {
            set.device() == Some(PHONE) && set.name() == "session-revoked"
        })
        .await?;
    ensure!(
        revoked.body["reason_admin"]["en"]
            .as_str()
            .is_some_and(|reason| reason.contains("exchange")),
        "reason_admin names the resource: {revoked:?}"
    );
    ensure!(
        revoked.sub_id
            == json!({
                "format": "complex",
                "device": { "format": "opaque", "id": PHONE },
                "user": { "format": "email", "email": owner_email(PHONE) },
                "tenant": { "format": "opaque", "id": TENANT },
            }),
        "complex subject: {}",
        revoked.sub_id
    );
    let (sets, _) = wait_for_all(&fleet, &receiver, PHONE, INFECTED).await?;
    let high = sets
        .iter()
        .find(|set| set.name() == "risk-level-change")
        .context("a risk-level-change")?;
    ensure!(
        high.body["principal"] == "DEVICE" && high.body["current_level"] == "HIGH",
        "{high:?}"
    );
    ensure!(
        high.body["risk_reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("TROJAN")),
        "risk_reason names the threat: {high:?}"
    );

    fleet.remediate(PHONE).await?;
    let (sets, expected_txns) = wait_for_all(&fleet, &receiver, PHONE, REMEDIATED).await?;
    let back = sets.last().context("SETs")?;
    ensure!(back.body["current_status"] == "compliant", "{back:?}");
    ensure!(
        txns(&sets) == expected_txns,
        "txn = log position, in order: {:?} vs {expected_txns:?}",
        txns(&sets)
    );
    let jtis: BTreeSet<_> = receiver.sets().iter().map(|set| set.jti.clone()).collect();
    ensure!(jtis.len() == receiver.sets().len(), "every jti is unique");
    ensure!(
        receiver.rejects().is_empty(),
        "every SET verified: {:?}",
        receiver.rejects()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn poll_delivers_and_unacknowledged_sets_come_again() -> anyhow::Result<()> {
    let (fleet, ssf) = start().await?;
    let config = ssf
        .create_stream(OKTA_TOKEN, &json!({ "events_requested": all_events() }))
        .await?;
    ensure!(
        config["delivery"]["method"] == "urn:ietf:rfc:8936",
        "no delivery means poll: {config}"
    );
    let poll_url = config["delivery"]["endpoint_url"]
        .as_str()
        .context("poll URL")?
        .to_owned();
    let path = poll_url
        .strip_prefix(&ssf.url)
        .context("the poll URL is the transmitter's")?
        .to_owned();

    fleet.infect(PHONE).await?;
    let poll = |body: Value| {
        let path = path.clone();
        let ssf = &ssf;
        async move { ssf.post(&path, Some(OKTA_TOKEN), &body).await }
    };
    wait_until(WAIT, "a poll returns a SET", || async {
        let answer = poll(json!({ "maxEvents": 1, "returnImmediately": true })).await;
        answer.is_ok_and(|(_, body)| {
            body["sets"]
                .as_object()
                .is_some_and(|sets| !sets.is_empty())
        })
    })
    .await?;
    let (_, first) = poll(json!({ "maxEvents": 1, "returnImmediately": true })).await?;
    let jti = first["sets"]
        .as_object()
        .and_then(|sets| sets.keys().next().cloned())
        .context("a jti")?;
    let (_, again) = poll(json!({ "maxEvents": 1, "returnImmediately": true })).await?;
    ensure!(
        again["sets"].get(&jti).is_some(),
        "an unacknowledged SET comes again: {again}"
    );
    wait_until(
        WAIT,
        "moreAvailable once the threat's three events are in",
        || async {
            let answer = poll(json!({ "maxEvents": 1, "returnImmediately": true })).await;
            answer.is_ok_and(|(_, body)| body["moreAvailable"] == true)
        },
    )
    .await?;
    let receiver = Receiver::poll(&ssf, OKTA_AUDIENCE, &poll_url, OKTA_TOKEN).await?;
    let (sets, expected_txns) = wait_for_all(&fleet, &receiver, PHONE, INFECTED).await?;
    ensure!(
        txns(&sets) == expected_txns,
        "the long-polling receiver got them all: {:?} vs {expected_txns:?}",
        txns(&sets)
    );
    let jtis: BTreeSet<_> = receiver.sets().iter().map(|set| set.jti.clone()).collect();
    ensure!(
        jtis.len() == receiver.sets().len(),
        "acknowledged SETs do not come again"
    );
    ensure!(
        receiver.rejects().is_empty(),
        "every SET verified: {:?}",
        receiver.rejects()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_stream_holds_its_events_and_delivers_them_in_order_when_enabled(
) -> anyhow::Result<()> {
    let (fleet, ssf) = start().await?;
    let (receiver, stream) = okta_push(&ssf).await?;
    ssf.set_status(OKTA_TOKEN, &stream, "paused").await?;

    infect_logged(&fleet, PHONE).await?;
    ensure!(
        about(&receiver.sets(), PHONE).is_empty(),
        "nothing is delivered while paused"
    );
    let status = ssf.status(OKTA_TOKEN, &stream).await?;
    ensure!(status["status"] == "paused", "{status}");

    ssf.set_status(OKTA_TOKEN, &stream, "enabled").await?;
    let (sets, expected_txns) = wait_for_all(&fleet, &receiver, PHONE, INFECTED).await?;
    ensure!(
        txns(&sets) == expected_txns,
        "held events arrive in log order: {:?} vs {expected_txns:?}",
        txns(&sets)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_was_down_gets_everything_in_order_once_back() -> anyhow::Result<()> {
    let (fleet, ssf) = start().await?;
    let mut receiver = Receiver::push(&ssf, OKTA_AUDIENCE, "127.0.0.1:0").await?;
    push_stream(&ssf, &receiver).await?;
    let address = receiver
        .endpoint_url
        .as_deref()
        .and_then(|url| url.strip_prefix("http://"))
        .and_then(|rest| rest.split('/').next())
        .context("the receiver's address")?
        .to_owned();
    receiver.process.kill().await?;

    infect_logged(&fleet, PHONE).await?;
    infect_logged(&fleet, OTHER_PHONE).await?;

    let receiver = Receiver::push(&ssf, OKTA_AUDIENCE, &address).await?;
    for device in [PHONE, OTHER_PHONE] {
        let (sets, expected_txns) = wait_for_all(&fleet, &receiver, device, INFECTED).await?;
        ensure!(
            txns(&sets) == expected_txns,
            "{device}: {:?} vs {expected_txns:?}",
            txns(&sets)
        );
    }
    let all: Vec<u64> = receiver
        .sets()
        .iter()
        .filter_map(ReceivedSet::position)
        .collect();
    ensure!(
        all.windows(2).all(|pair| pair[0] < pair[1]),
        "one stream, log order: {all:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_of_the_transmitter_mid_stream_loses_and_reorders_nothing() -> anyhow::Result<()> {
    let (fleet, mut ssf) = start().await?;
    let (receiver, _) = okta_push(&ssf).await?;

    fleet.infect(PHONE).await?;
    receiver
        .wait_for("the first SET", WAIT, |set| set.device() == Some(PHONE))
        .await?;
    ssf.kill_and_restart().await?;
    fleet.infect(OTHER_PHONE).await?;
    fleet.remediate(PHONE).await?;

    let (sets, expected_txns) = wait_for_all(&fleet, &receiver, PHONE, REMEDIATED).await?;
    ensure!(
        txns(&sets) == expected_txns,
        "{PHONE}: {:?} vs {expected_txns:?}",
        txns(&sets)
    );
    let (sets, expected_txns) = wait_for_all(&fleet, &receiver, OTHER_PHONE, INFECTED).await?;
    ensure!(
        txns(&sets) == expected_txns,
        "{OTHER_PHONE}: {:?} vs {expected_txns:?}",
        txns(&sets)
    );
    let mut unique = BTreeSet::new();
    let order: Vec<u64> = receiver
        .sets()
        .into_iter()
        .filter(|set| unique.insert(set.jti.clone()))
        .filter_map(|set| set.position())
        .collect();
    ensure!(
        order.windows(2).all(|pair| pair[0] < pair[1]),
        "after de-duplication, log order: {order:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn verification_events_arrive_and_asking_again_too_soon_is_429() -> anyhow::Result<()> {
    let (_fleet, ssf) = start().await?;
    let (receiver, stream) = okta_push(&ssf).await?;
    let body = json!({ "stream_id": stream, "state": "VGhpcyBpcyBhIHRlc3Q" });
    let (status, _) = ssf.post("/ssf/verify", Some(OKTA_TOKEN), &body).await?;
    ensure!(status == 204, "verification accepted: {status}");
    let verification = receiver
        .wait_for("the verification event", WAIT, |set| {
            set.name() == "verification"
        })
        .await?;
    ensure!(
        verification.body["state"] == "VGhpcyBpcyBhIHRlc3Q",
        "state echoed: {verification:?}"
    );
    ensure!(
        verification.sub_id == json!({ "format": "opaque", "id": stream }),
        "{verification:?}"
    );
    let (status, answer) = ssf.post("/ssf/verify", Some(OKTA_TOKEN), &body).await?;
    ensure!(status == 429, "too soon: {status} {answer}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_receiver_can_neither_read_nor_change_the_first_ones_stream() -> anyhow::Result<()>
{
    let (_fleet, ssf) = start().await?;
    let config = ssf
        .create_stream(OKTA_TOKEN, &json!({ "events_requested": all_events() }))
        .await?;
    let stream = stream_id(&config)?;
    ensure!(
        config["aud"] == OKTA_AUDIENCE && config["iss"] == ISSUER,
        "{config}"
    );
    let id = json!({ "stream_id": stream });
    let status = json!({ "stream_id": stream, "status": "disabled" });
    let subject =
        json!({ "stream_id": stream, "subject": { "format": "email", "email": "a@corp.example" } });
    let query = format!("?stream_id={stream}");
    let poll = format!("/ssf/poll/{stream}");
    let attempts: [(Method, String, Option<&Value>); 8] = [
        (Method::GET, format!("/ssf/streams{query}"), None),
        (Method::PATCH, "/ssf/streams".to_owned(), Some(&id)),
        (Method::DELETE, format!("/ssf/streams{query}"), None),
        (Method::GET, format!("/ssf/status{query}"), None),
        (Method::POST, "/ssf/status".to_owned(), Some(&status)),
        (Method::POST, "/ssf/subjects:add".to_owned(), Some(&subject)),
        (Method::POST, "/ssf/verify".to_owned(), Some(&id)),
        (Method::POST, poll.clone(), Some(&id)),
    ];
    for (method, path, body) in attempts {
        let (code, answer) = ssf
            .call(method.clone(), &path, Some(KEYCLOAK_TOKEN), body)
            .await?;
        ensure!(
            code == 404,
            "{method} {path} by another receiver: {code} {answer}"
        );
    }
    let (_, listed) = ssf.get("/ssf/streams", Some(KEYCLOAK_TOKEN)).await?;
    ensure!(listed == json!([]), "another receiver lists none: {listed}");
    let (code, _) = ssf
        .get(&format!("/ssf/streams{query}"), Some(OKTA_TOKEN))
        .await?;
    ensure!(code == 200, "the owner still has it");
    let (code, _) = ssf
        .get(&format!("/ssf/streams{query}"), Some(OPS_TOKEN))
        .await?;
    ensure!(code == 200, "an admin sees every stream");
    Ok(())
}

/// A bad request: method, path, token, body, the status it gets and what its description names.
type Case<'a> = (Method, String, Option<&'a str>, Option<Value>, u16, &'a str);

#[tokio::test(flavor = "multi_thread")]
async fn bad_management_requests_get_their_status_and_name_the_field() -> anyhow::Result<()> {
    let (_fleet, ssf) = start().await?;
    let config = ssf
        .create_stream(OKTA_TOKEN, &json!({ "events_requested": all_events() }))
        .await?;
    let stream = stream_id(&config)?;
    let push =
        |url: &str| json!({ "delivery": { "method": "urn:ietf:rfc:8935", "endpoint_url": url } });
    let cases: Vec<Case<'_>> = vec![
        (
            Method::POST,
            "/ssf/streams".into(),
            Some(OKTA_TOKEN),
            Some(json!([])),
            400,
            "body",
        ),
        (
            Method::POST,
            "/ssf/streams".into(),
            Some(OKTA_TOKEN),
            Some(json!({ "events_requested": "all" })),
            400,
            "events_requested",
        ),
        (
            Method::POST,
            "/ssf/streams".into(),
            Some(OKTA_TOKEN),
            Some(json!({ "events_requested": [""] })),
            400,
            "events_requested[0]",
        ),
        (
            Method::POST,
            "/ssf/streams".into(),
            Some(OKTA_TOKEN),
            Some(json!({ "delivery": { "method": "carrier-pigeon" } })),
            400,
            "delivery.method",
        ),
        (
            Method::POST,
            "/ssf/streams".into(),
            Some(OKTA_TOKEN),
            Some(json!({ "delivery": { "method": "urn:ietf:rfc:8935" } })),
            400,
            "delivery.endpoint_url",
        ),
        (
            Method::POST,
            "/ssf/streams".into(),
            Some(OKTA_TOKEN),
            Some(push("http://idp.example/events")),
            400,
            "delivery.endpoint_url",
        ),
        (
            Method::POST,
            "/ssf/streams".into(),
            Some(VIEWER_TOKEN),
            Some(json!({})),
            403,
            "ssf.manage",
        ),
        (
            Method::POST,
            "/ssf/streams".into(),
            None,
            Some(json!({})),
            401,
            "bearer",
        ),
        (
            Method::POST,
            "/ssf/streams".into(),
            Some("not-a-token"),
            Some(json!({})),
            401,
            "unknown token",
        ),
        (
            Method::PATCH,
            "/ssf/streams".into(),
            Some(OKTA_TOKEN),
            Some(json!({})),
            400,
            "stream_id",
        ),
        (
            Method::PATCH,
            "/ssf/streams".into(),
            Some(OKTA_TOKEN),
            Some(json!({ "stream_id": stream, "description": 7 })),
            400,
            "description",
        ),
        (
            Method::GET,
            "/ssf/status".into(),
            Some(OKTA_TOKEN),
            None,
            400,
            "stream_id",
        ),
        (
            Method::DELETE,
            "/ssf/streams".into(),
            Some(OKTA_TOKEN),
            None,
            400,
            "stream_id",
        ),
        (
            Method::GET,
            "/ssf/streams?stream_id=nope".into(),
            Some(OKTA_TOKEN),
            None,
            404,
            "nope",
        ),
        (
            Method::POST,
            "/ssf/status".into(),
            Some(OKTA_TOKEN),
            Some(json!({ "stream_id": stream, "status": "off" })),
            400,
            "status",
        ),
        (
            Method::POST,
            "/ssf/subjects:add".into(),
            Some(OKTA_TOKEN),
            Some(json!({ "stream_id": stream })),
            400,
            "subject",
        ),
        (
            Method::POST,
            "/ssf/subjects:add".into(),
            Some(OKTA_TOKEN),
            Some(json!({ "stream_id": stream, "subject": { "format": "phone" } })),
            400,
            "subject",
        ),
        (
            Method::POST,
            "/ssf/subjects:remove".into(),
            Some(OKTA_TOKEN),
            Some(
                json!({ "stream_id": stream, "subject": { "format": "email", "email": "a@b.example" }, "verified": "yes" }),
            ),
            400,
            "verified",
        ),
        (
            Method::POST,
            "/ssf/verify".into(),
            Some(OKTA_TOKEN),
            Some(json!({ "stream_id": stream, "state": 1 })),
            400,
            "state",
        ),
        (
            Method::POST,
            format!("/ssf/poll/{stream}"),
            Some(OKTA_TOKEN),
            Some(json!({ "maxEvents": -1 })),
            400,
            "maxEvents",
        ),
        (
            Method::POST,
            format!("/ssf/poll/{stream}"),
            Some(OKTA_TOKEN),
            Some(json!({ "ack": "x" })),
            400,
            "ack",
        ),
        (
            Method::POST,
            format!("/ssf/poll/{stream}"),
            Some(OKTA_TOKEN),
            Some(json!({ "returnImmediately": "no" })),
            400,
            "returnImmediately",
        ),
        (
            Method::POST,
            "/ssf/admin/emit-test".into(),
            Some(OKTA_TOKEN),
            Some(json!({})),
            403,
            "admin",
        ),
        (
            Method::POST,
            "/ssf/admin/emit-test".into(),
            Some(OPS_TOKEN),
            Some(json!({})),
            400,
            "subject",
        ),
    ];
    for (method, path, token, body, want, field) in cases {
        let (code, answer) = ssf
            .call(method.clone(), &path, token, body.as_ref())
            .await?;
        let description = answer["description"].as_str().unwrap_or_default();
        ensure!(
            code == want && description.contains(field),
            "{method} {path} {body:?}: want {want} naming {field:?}, got {code} {answer}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_test_event_reaches_the_streams_carrying_the_subject() -> anyhow::Result<()> {
    let (_fleet, ssf) = start().await?;
    let (receiver, stream) = okta_push(&ssf).await?;
    let riskctl = |token: &str| {
        let mut command =
            tokio::process::Command::new(riskgate_tests::binary::artifacts().bin("riskctl"));
        command.args(["--token", token, "ssf", "emit-test", "--url", &ssf.url]);
        command.args(["--email", &owner_email(PHONE)]);
        command
    };
    let output = riskctl(OPS_TOKEN).output().await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success() && stdout.contains(&stream),
        "riskctl ssf emit-test: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let subject = json!({ "format": "email", "email": owner_email(PHONE) });
    let test = receiver
        .wait_for("the test event", WAIT, |set| {
            set.name() == "session-revoked" && set.sub_id == subject
        })
        .await?;
    ensure!(
        test.txn.is_none(),
        "a test event has no log position: {test:?}"
    );
    ensure!(
        test.body["reason_admin"]["en"]
            .as_str()
            .is_some_and(|reason| reason.contains("test")),
        "{test:?}"
    );
    let refused = riskctl(OKTA_TOKEN).output().await?;
    ensure!(
        refused.status.code() == Some(4),
        "a receiver's token is refused (exit 4): {refused:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn https_serves_discovery_and_bad_configurations_such_as_plain_http_off_loopback_exit_64(
) -> anyhow::Result<()> {
    let fleet = Fleet::start(1, HostTimings::Fast, Users::None).await?;
    let pki = riskgate_envoy::Pki::generate()?;
    let tls = pki.write_listener_files(fleet.dir.path())?;
    let extra = format!(
        "[tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        tls.certificate.display(),
        tls.private_key.display()
    );
    let ssf = SsfProcess::start(&fleet.core.url(), &extra).await?;
    ensure!(ssf.url.starts_with("https://"), "{}", ssf.url);
    let client = riskgate_envoy::client::https_client(&pki.ca_pem(), None)?;
    let metadata: Value = client.get(ssf.metadata_url()).send().await?.json().await?;
    ensure!(metadata["issuer"] == ISSUER, "{metadata}");
    for member in [
        "spec_version",
        "jwks_uri",
        "delivery_methods_supported",
        "configuration_endpoint",
        "status_endpoint",
        "add_subject_endpoint",
        "remove_subject_endpoint",
        "verification_endpoint",
        "authorization_schemes",
        "default_subjects",
    ] {
        ensure!(
            !metadata[member].is_null(),
            "the metadata has {member}: {metadata}"
        );
    }
    let jwks_uri = metadata["jwks_uri"].as_str().context("jwks_uri")?;
    ensure!(jwks_uri.starts_with("https://"), "{jwks_uri}");
    let jwks: Value = client.get(jwks_uri).send().await?.json().await?;
    let key = &jwks["keys"][0];
    ensure!(key["kty"] == "RSA" && key["alg"] == "RS256", "{jwks}");
    let modulus = key["n"].as_str().context("n")?;
    ensure!(
        modulus.len() >= 342,
        "a key of 2048 bits or more: {} base64url characters",
        modulus.len()
    );

    let dir = tempfile::tempdir()?;
    let config = dir.path().join("ssf.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"0.0.0.0:0\"\ndata_dir = \"{}\"\n[core]\nurl = \"{}\"\n",
            dir.path().display(),
            fleet.core.url()
        ),
    )?;
    let output =
        tokio::process::Command::new(riskgate_tests::binary::artifacts().bin("riskgate-ssf"))
            .arg("--config")
            .arg(&config)
            .output()
            .await?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.code() == Some(64) && stderr.contains("only on loopback"),
        "plain HTTP off loopback is refused as a configuration error (64): {stderr}"
    );
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\nlisten_address = \"127.0.0.1:0\"\n",
            dir.path().display()
        ),
    )?;
    let output =
        tokio::process::Command::new(riskgate_tests::binary::artifacts().bin("riskgate-ssf"))
            .arg("--config")
            .arg(&config)
            .output()
            .await?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.code() == Some(64) && stderr.contains("listen_address"),
        "an unknown key is refused by name (64): {stderr}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disabled_stream_holds_nothing_and_starts_at_the_head_when_enabled() -> anyhow::Result<()>
{
    let (fleet, ssf) = start().await?;
    let (receiver, stream) = okta_push(&ssf).await?;
    ssf.set_status(OKTA_TOKEN, &stream, "disabled").await?;
    infect_logged(&fleet, PHONE).await?;
    ssf.set_status(OKTA_TOKEN, &stream, "enabled").await?;
    fleet.infect(OTHER_PHONE).await?;
    wait_for_all(&fleet, &receiver, OTHER_PHONE, INFECTED).await?;
    // The other phone's events come after the phone's in the log, and one stream delivers in log order.
    ensure!(
        about(&receiver.sets(), PHONE).is_empty(),
        "nothing held while disabled: {:?}",
        receiver.sets()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn removed_subjects_are_not_delivered_until_added_again() -> anyhow::Result<()> {
    let (fleet, ssf) = start().await?;
    let (receiver, stream) = okta_push(&ssf).await?;
    let subject = json!({ "stream_id": stream, "subject": { "format": "email", "email": owner_email(PHONE) } });
    let (code, answer) = ssf
        .post("/ssf/subjects:remove", Some(OKTA_TOKEN), &subject)
        .await?;
    ensure!(code == 204, "{code} {answer}");
    infect_logged(&fleet, PHONE).await?;
    fleet.infect(OTHER_PHONE).await?;
    wait_for_all(&fleet, &receiver, OTHER_PHONE, INFECTED).await?;
    ensure!(
        about(&receiver.sets(), PHONE).is_empty(),
        "the removed user's device: {:?}",
        receiver.sets()
    );

    let (code, answer) = ssf
        .post("/ssf/subjects:add", Some(OKTA_TOKEN), &subject)
        .await?;
    ensure!(code == 200, "{code} {answer}");
    fleet.remediate(PHONE).await?;
    receiver
        .wait_for("the phone's remediation once added again", WAIT, |set| {
            set.device() == Some(PHONE) && set.body["current_status"] == "compliant"
        })
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn with_default_subjects_none_only_added_subjects_are_delivered() -> anyhow::Result<()> {
    let fleet = Fleet::start(3, HostTimings::Fast, Users::None).await?;
    let ssf = SsfProcess::start(&fleet.core.url(), "default_subjects = \"NONE\"").await?;
    let (_, metadata) = ssf.get("/.well-known/ssf-configuration", None).await?;
    ensure!(metadata["default_subjects"] == "NONE", "{metadata}");
    let (receiver, stream) = okta_push(&ssf).await?;
    let device =
        json!({ "format": "complex", "device": { "format": "opaque", "id": OTHER_PHONE } });
    let body = json!({ "stream_id": stream, "subject": device, "verified": true });
    let (code, answer) = ssf
        .post("/ssf/subjects:add", Some(OKTA_TOKEN), &body)
        .await?;
    ensure!(code == 200, "{code} {answer}");
    infect_logged(&fleet, PHONE).await?;
    fleet.infect(OTHER_PHONE).await?;
    receiver
        .wait_for("the added device's session-revoked", WAIT, |set| {
            set.device() == Some(OTHER_PHONE) && set.name() == "session-revoked"
        })
        .await?;
    ensure!(
        about(&receiver.sets(), PHONE).is_empty(),
        "a device never added: {:?}",
        receiver.sets()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn update_and_replace_change_what_is_delivered() -> anyhow::Result<()> {
    let (fleet, ssf) = start().await?;
    let (receiver, stream) = okta_push(&ssf).await?;
    let revoked = format!("{CAEP}session-revoked");
    let patch =
        json!({ "stream_id": stream, "events_requested": [revoked, "urn:example:unknown"] });
    let (code, config) = ssf
        .call(
            Method::PATCH,
            "/ssf/streams",
            Some(OKTA_TOKEN),
            Some(&patch),
        )
        .await?;
    ensure!(
        code == 200 && config["events_delivered"] == json!([revoked]),
        "{code} {config}"
    );
    ensure!(
        config["description"] == "okta itp",
        "PATCH keeps what it does not name: {config}"
    );
    ensure!(
        config["delivery"]["method"] == "urn:ietf:rfc:8935",
        "{config}"
    );
    fleet.infect(PHONE).await?;
    receiver
        .wait_for("the session-revoked", WAIT, |set| {
            set.name() == "session-revoked"
        })
        .await?;
    ensure!(
        receiver
            .sets()
            .iter()
            .all(|set| set.name() == "session-revoked"),
        "only the events still requested: {:?}",
        receiver.sets()
    );

    let put = json!({ "stream_id": stream, "events_requested": all_events() });
    let (code, config) = ssf
        .call(Method::PUT, "/ssf/streams", Some(OKTA_TOKEN), Some(&put))
        .await?;
    ensure!(code == 200, "{code} {config}");
    ensure!(
        config["delivery"]["method"] == "urn:ietf:rfc:8936",
        "PUT replaces everything: {config}"
    );
    ensure!(config.get("description").is_none(), "{config}");
    ensure!(
        config["events_delivered"].as_array().map(Vec::len) == Some(3),
        "{config}"
    );
    let (code, _) = ssf
        .call(
            Method::DELETE,
            &format!("/ssf/streams?stream_id={stream}"),
            Some(OKTA_TOKEN),
            None,
        )
        .await?;
    ensure!(code == 204, "deleted: {code}");
    let (code, _) = ssf
        .get(
            &format!("/ssf/streams?stream_id={stream}"),
            Some(OKTA_TOKEN),
        )
        .await?;
    ensure!(code == 404, "gone: {code}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receivers_400_is_shown_in_the_status_and_not_retried() -> anyhow::Result<()> {
    let (fleet, ssf) = start().await?;
    let receiver = Receiver::push(&ssf, "https://someone-else.example", "127.0.0.1:0").await?;
    let stream = push_stream(&ssf, &receiver).await?;
    fleet.infect(PHONE).await?;
    wait_until(WAIT, "the status shows the receiver's refusal", || async {
        let answer = ssf.status(OKTA_TOKEN, &stream).await;
        answer.is_ok_and(|body| {
            body["last_error"]
                .as_str()
                .is_some_and(|error| error.contains("invalid_request"))
        })
    })
    .await?;
    let status = ssf.status(OKTA_TOKEN, &stream).await?;
    ensure!(
        status["status"] == "enabled",
        "a refusal does not stop the stream: {status}"
    );
    wait_until(WAIT, "each SET refused once, in turn", || async {
        receiver.rejects().len() >= INFECTED
    })
    .await?;
    ensure!(receiver.sets().is_empty(), "the receiver accepted nothing");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn push_honours_429_and_retry_after() -> anyhow::Result<()> {
    let (_fleet, ssf) = start().await?;
    let receiver =
        Receiver::push_with(&ssf, OKTA_AUDIENCE, "127.0.0.1:0", &["--throttle", "1"]).await?;
    let stream = push_stream(&ssf, &receiver).await?;
    let body = json!({ "stream_id": stream });
    ssf.post("/ssf/verify", Some(OKTA_TOKEN), &body).await?;
    let verification = receiver
        .wait_for("the verification after the 429", WAIT, |set| {
            set.name() == "verification"
        })
        .await?;
    let throttled = receiver.throttled();
    let (Some(first), Some(accepted)) = (throttled.first(), verification.at) else {
        anyhow::bail!("one 429 ({throttled:?}) then the SET ({verification:?})");
    };
    // The configured backoff is 50 ms: a retry a second later is the receiver's Retry-After.
    ensure!(
        accepted - first >= 0.9,
        "retried after {:.3} s, not after Retry-After: 1",
        accepted - first
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_key_signs_new_sets_and_the_old_one_stays_in_the_jwks() -> anyhow::Result<()> {
    let (_fleet, ssf) = start().await?;
    let (receiver, _) = okta_push(&ssf).await?;
    let subject = json!({ "subject": { "format": "email", "email": "someone@corp.example" } });
    ssf.post("/ssf/admin/emit-test", Some(OPS_TOKEN), &subject)
        .await?;
    let before = receiver
        .wait_for("a SET with the first key", WAIT, |_| true)
        .await?;
    let rotated = tokio::process::Command::new(riskgate_tests::binary::artifacts().bin("riskctl"))
        .args([
            "--token",
            OPS_TOKEN,
            "--json",
            "ssf",
            "rotate-key",
            "--url",
            &ssf.url,
        ])
        .output()
        .await?;
    ensure!(
        rotated.status.success(),
        "riskctl ssf rotate-key: {rotated:?}"
    );
    let rotated: Value = serde_json::from_slice(&rotated.stdout)?;
    let new_kid = rotated["kid"].as_str().context("kid")?.to_owned();
    ensure!(new_kid != before.kid, "a new key");
    let (_, jwks) = ssf.get("/ssf/jwks.json", None).await?;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|key| key["kid"].as_str())
        .collect();
    ensure!(
        kids.contains(&before.kid.as_str()) && kids.contains(&new_kid.as_str()),
        "both keys: {kids:?}"
    );
    ssf.post("/ssf/admin/emit-test", Some(OPS_TOKEN), &subject)
        .await?;
    receiver
        .wait_for(
            "a SET with the new key, verified after fetching the JWKS again",
            WAIT,
            |set| set.kid == new_kid,
        )
        .await?;
    let (code, _) = ssf
        .call(
            Method::POST,
            "/ssf/admin/rotate-key",
            Some(OKTA_TOKEN),
            None,
        )
        .await?;
    ensure!(code == 403, "receivers may not rotate keys: {code}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn past_the_cores_retention_the_stream_says_so_and_sends_the_current_state(
) -> anyhow::Result<()> {
    let fleet = Fleet::start_with(
        3,
        HostTimings::Fast,
        Users::None,
        &[
            "--retention-max-events",
            "3",
            "--compaction-interval",
            "100ms",
        ],
    )
    .await?;
    let ssf = SsfProcess::start(&fleet.core.url(), "").await?;
    let (receiver, stream) = okta_push(&ssf).await?;
    ssf.set_status(OKTA_TOKEN, &stream, "paused").await?;
    let client = DeviceServiceClient::new(fleet.core.channel().await?);
    let store_info = || {
        let mut client = client.clone();
        async move {
            let request = riskgate_tests::api::GetStoreInfoRequest {};
            anyhow::Ok(
                client
                    .get_store_info(with_token(request, ADMIN_TOKEN))
                    .await?
                    .into_inner(),
            )
        }
    };
    let paused_at = store_info().await?.head_position;
    fleet.infect(PHONE).await?;
    fleet.infect(OTHER_PHONE).await?;
    wait_until(
        WAIT,
        "the core compacted past the paused stream",
        || async {
            store_info()
                .await
                .is_ok_and(|info| info.oldest_position > paused_at + 1)
        },
    )
    .await?;
    ssf.set_status(OKTA_TOKEN, &stream, "enabled").await?;
    let updated = receiver
        .wait_for("stream-updated", WAIT, |set| set.name() == "stream-updated")
        .await?;
    ensure!(
        updated.body["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("retention")),
        "{updated:?}"
    );
    for device in [PHONE, OTHER_PHONE] {
        receiver
            .wait_for("the infected device's current state", WAIT, |set| {
                set.device() == Some(device) && set.body["current_status"] == "not-compliant"
            })
            .await?;
    }
    let status = ssf.status(OKTA_TOKEN, &stream).await?;
    ensure!(
        status["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("retention")),
        "{status}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poll_receivers_set_errors_end_the_sets_delivery_and_show_in_the_status(
) -> anyhow::Result<()> {
    let (_fleet, ssf) = start().await?;
    let config = ssf
        .create_stream(OKTA_TOKEN, &json!({ "events_requested": all_events() }))
        .await?;
    let stream = stream_id(&config)?;
    let poll_path = format!("/ssf/poll/{stream}");
    let body = json!({ "stream_id": stream, "state": "s" });
    let (code, _) = ssf.post("/ssf/verify", Some(OKTA_TOKEN), &body).await?;
    ensure!(code == 204, "verification: {code}");
    let (_, answer) = ssf
        .call(
            Method::POST,
            &poll_path,
            Some(OKTA_TOKEN),
            Some(&json!({ "maxEvents": 10 })),
        )
        .await?;
    let jti = answer["sets"]
        .as_object()
        .and_then(|sets| sets.keys().next().cloned())
        .with_context(|| format!("a long poll returns the verification SET: {answer}"))?;
    let errors = json!({
        "setErrs": { jti.clone(): { "err": "invalid_key", "description": "kid not found" } },
        "returnImmediately": true,
    });
    let (code, answer) = ssf.post(&poll_path, Some(OKTA_TOKEN), &errors).await?;
    ensure!(
        code == 200 && answer["sets"] == json!({}),
        "a SET reported as failed is not sent again: {answer}"
    );
    let status = ssf.status(OKTA_TOKEN, &stream).await?;
    ensure!(
        status["last_error"]
            .as_str()
            .is_some_and(|error| error.contains("invalid_key") && error.contains(&jti)),
        "{status}"
    );
    let (code, _) = ssf
        .call(
            Method::POST,
            &poll_path,
            Some(VIEWER_TOKEN),
            Some(&json!({})),
        )
        .await?;
    ensure!(code == 404, "another token's poll: {code}");
    Ok(())
}
