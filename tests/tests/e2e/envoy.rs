//! Enforcement through a real Envoy: Envoy 1.40.0 with an mTLS listener whose device certificates carry
//! the device id in a URI SAN, its ext_authz filter asking the core's gateway listener (with a bearer
//! token of the `gateway` role), and a sample "exchange" app behind it. The device's risk comes from the
//! vendor simulator through the real Lookout plugin in a real connector host, so each scenario is the
//! seed's: a threat on the phone, and Exchange stops answering it. The fixture is
//! `riskgate_tests::enforcement`.

use std::time::Duration;

use anyhow::{ensure, Context as _};
use riskgate_tests::enforcement::{
    owner_email, Enforced, HostTimings, Setup, Users, EXCHANGE_PATH, PRINCIPAL_PATTERN,
};
use serde_json::Value;

/// Generous bound for anything these tests wait for.
const WAIT: Duration = Duration::from_secs(30);

/// A secure device of the simulator's seeded fleet, and two more.
const PHONE: &str = "fleet-00001";
const OTHER_PHONE: &str = "fleet-00000";
const THIRD_PHONE: &str = "fleet-00002";

/// The enforcement path with the three devices allowed through Envoy.
async fn start() -> anyhow::Result<Enforced> {
    start_with(Users::None).await
}

async fn start_with(users: Users) -> anyhow::Result<Enforced> {
    Enforced::start(Setup {
        fleet: 3,
        timings: HostTimings::Fast,
        users,
        ready_devices: &[PHONE, OTHER_PHONE, THIRD_PHONE],
        within: WAIT,
    })
    .await
}

/// The codes, policies, connectors and threats of a deny body's reasons.
fn reasons(body: &Value) -> Vec<(String, String, String, Vec<String>)> {
    let field = |reason: &Value, key: &str| reason[key].as_str().unwrap_or_default().to_owned();
    body["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|reason| {
            let threats = reason["threats"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|threat| threat.as_str().map(str::to_owned))
                .collect();
            (
                field(reason, "code"),
                field(reason, "policy"),
                field(reason, "connector"),
                threats,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookout_high_turns_exchange_to_403_with_reasons_and_remediation_restores_200(
) -> anyhow::Result<()> {
    let enforced = start().await?;
    let (status, body) = enforced.exchange(PHONE, &[]).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["app"], "exchange", "the app answered: {body}");
    assert_eq!(
        body["riskgate_headers"]["x-riskgate-decision"], "allow",
        "{body}"
    );
    let position: u64 = body["riskgate_headers"]["x-riskgate-position"]
        .as_str()
        .context("x-riskgate-position reaches the app")?
        .parse()?;
    ensure!(position > 0, "the position of the decision's view: {body}");

    let threat = enforced.infect(PHONE).await?;
    enforced
        .wait_for_status(PHONE, 403, "Lookout raised it to HIGH", WAIT)
        .await?;
    let (status, body) = enforced.exchange(PHONE, &[]).await?;
    assert_eq!(status, 403);
    assert_eq!(body["resource"], "exchange", "{body}");
    assert_eq!(body["decision"], "deny", "{body}");
    let reasons = reasons(&body);
    assert!(
        reasons
            .iter()
            .any(|(_, policy, connector, threats)| policy == "mtd"
                && connector == "lookout"
                && threats.contains(&threat)),
        "the deny names policy mtd, connector lookout and threat {threat}: {body}"
    );
    assert!(
        body.get("app").is_none(),
        "the app never saw the request: {body}"
    );
    // Only the infected phone lost access.
    assert_eq!(enforced.exchange(OTHER_PHONE, &[]).await?.0, 200);

    enforced.remediate(PHONE).await?;
    enforced
        .wait_for_status(PHONE, 200, "the threat was remediated", WAIT)
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_without_a_device_certificate_from_the_ca_are_refused() -> anyhow::Result<()> {
    let enforced = start().await?;
    let anonymous = enforced.envoy.client(None)?;
    let refused = enforced.envoy.get(&anonymous, "/exchange/inbox", &[]).await;
    assert!(
        refused.is_err(),
        "no client certificate, no answer: {refused:?}"
    );

    let foreign_ca = riskgate_envoy::Pki::generate()?;
    let foreign = foreign_ca.device(&PRINCIPAL_PATTERN.replace("{id}", PHONE))?;
    let impostor = enforced.envoy.client(Some(&foreign))?;
    let refused = enforced.envoy.get(&impostor, "/exchange/inbox", &[]).await;
    assert!(
        refused.is_err(),
        "a certificate from another CA naming a good device is refused: {refused:?}"
    );
    // The real device still gets in.
    assert_eq!(enforced.exchange(PHONE, &[]).await?.0, 200);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_riskgate_headers_change_nothing() -> anyhow::Result<()> {
    let enforced = start().await?;
    let forged = [
        ("x-riskgate-decision", "deny"),
        ("x-riskgate-position", "999999999"),
        ("x-riskgate-device", THIRD_PHONE),
    ];
    let (status, body) = enforced.exchange(PHONE, &forged).await?;
    assert_eq!(status, 200, "{body}");
    let seen = &body["riskgate_headers"];
    assert_eq!(seen["x-riskgate-decision"], "allow", "{body}");
    assert_ne!(seen["x-riskgate-position"], "999999999", "{body}");
    assert!(
        seen.get("x-riskgate-device").is_none(),
        "forged headers are removed: {body}"
    );

    enforced.infect(THIRD_PHONE).await?;
    enforced
        .wait_for_status(THIRD_PHONE, 403, "Lookout raised it to HIGH", WAIT)
        .await?;
    let claims_allowed = [
        ("x-riskgate-decision", "allow"),
        ("x-riskgate-device", PHONE),
    ];
    let (status, body) = enforced.exchange(THIRD_PHONE, &claims_allowed).await?;
    assert_eq!(status, 403, "a forged allow does not open the door: {body}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_riskgate_stopped_envoy_refuses_every_request() -> anyhow::Result<()> {
    let mut enforced = start().await?;
    enforced.fleet.core.terminate().await?;
    let (status, body) = enforced.exchange(PHONE, &[]).await?;
    assert_eq!(
        status, 503,
        "fail closed, as an outage rather than a deny: {body}"
    );
    assert!(
        body.get("app").is_none(),
        "the app never saw the request: {body}"
    );
    let errors = enforced
        .envoy
        .admin
        .counter("http.gateway.ext_authz.error")
        .await?;
    assert!(
        errors >= 1,
        "Envoy counts the refusal as an ext_authz error, not a deny"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_of_a_token_envoy_verified_must_own_the_device() -> anyhow::Result<()> {
    // Starting waits until each device's owner, with a token, gets 200 on it.
    let enforced = start_with(Users::JwtEmail).await?;
    let client = enforced.device_client(PHONE)?;
    let status = |bearer: Option<String>| {
        let client = client.clone();
        let enforced = &enforced;
        async move {
            let headers: Vec<(&str, &str)> = bearer
                .as_deref()
                .map(|bearer| ("authorization", bearer))
                .into_iter()
                .collect();
            enforced.envoy.get(&client, EXCHANGE_PATH, &headers).await
        }
    };

    let (code, body) = status(Some(enforced.bearer_for(&owner_email(OTHER_PHONE))?)).await?;
    assert_eq!(code, 403, "another user on this phone: {body}");
    assert!(
        reasons(&body)
            .iter()
            .any(|(code, ..)| code == "user_mismatch"),
        "{body}"
    );

    let (code, body) = status(None).await?;
    assert_eq!(code, 403, "no token, no user: {body}");
    assert_eq!(reasons(&body)[0].0, "no_user", "{body}");

    let (code, _) = status(Some("Bearer not.a.token".to_owned())).await?;
    assert_eq!(
        code, 401,
        "Envoy refuses a token it cannot verify before asking riskgate"
    );

    let (code, body) = status(Some(enforced.bearer_for(&owner_email(PHONE))?)).await?;
    assert_eq!(code, 200, "the owner gets in: {body}");
    Ok(())
}
