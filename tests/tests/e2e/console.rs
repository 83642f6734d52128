//! The web console in a real headless Chromium (Debian's), against the real core, the vendor simulator
//! and a Lookout connector host: sign-in, the overview's counts, filtering and a device's page, a
//! simulator-driven infection turning the device red live and back, a reader's limits, CSRF, and pages
//! that work at 390 px and without JavaScript.

use std::time::Duration;

use anyhow::{ensure, Context as _};
use riskgate_tests::{
    api::{
        connector_service_client::ConnectorServiceClient,
        device_service_client::DeviceServiceClient, ComplianceStatus, GetConnectorRequest,
        ListDevicesRequest, ThreatLevel,
    },
    auth::with_token,
    browser::{Browser, Width},
    console::{sign_in, sign_in_to_overview, wait_for_text, ConsoleProcess},
    enforcement::{Fleet, HostTimings, Users, ADMIN_TOKEN, NO_CONSOLE_ROLE_TOKEN, READER_TOKEN},
    wait_until,
};
use serde_json::json;

/// Devices in the simulator's fleet.
const FLEET: u32 = 6;
/// The device the live tests infect.
const PHONE: &str = "fleet-00001";
const WAIT: Duration = Duration::from_secs(60);

/// The fleet, synced into the core, and a console following it.
async fn start() -> anyhow::Result<(Fleet, ConsoleProcess)> {
    let fleet = Fleet::start(FLEET, HostTimings::Fast, Users::None).await?;
    wait_until(WAIT, "every device of the fleet reported", || async {
        listed(&fleet, ListDevicesRequest::default())
            .await
            .is_ok_and(|devices| devices.len() == FLEET as usize)
    })
    .await?;
    let console = ConsoleProcess::start(&fleet.core.url(), "", None).await?;
    Ok((fleet, console))
}

/// Every device ListDevices lists for `request`, asked with the admin token.
async fn listed(
    fleet: &Fleet,
    request: ListDevicesRequest,
) -> anyhow::Result<Vec<riskgate_tests::api::Device>> {
    let request = ListDevicesRequest {
        page_size: 1000,
        ..request
    };
    Ok(DeviceServiceClient::new(fleet.core.channel().await?)
        .list_devices(with_token(request, ADMIN_TOKEN))
        .await?
        .into_inner()
        .devices)
}

/// POSTs `body` to `path` from the page, with its cookies; returns the status (0 for a redirect).
async fn post_from_page(browser: &Browser, path: &str, body: &str) -> anyhow::Result<u64> {
    let status = browser
        .run_async(
            "var done = arguments[arguments.length - 1];
             fetch(arguments[0], { method: 'POST', redirect: 'manual', credentials: 'same-origin',
               headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: arguments[1] })
               .then(function (r) { done(r.status); }, function (e) { done(String(e)); });",
            vec![json!(path), json!(body)],
        )
        .await?;
    status
        .as_u64()
        .with_context(|| format!("POST {path}: {status}"))
}

/// The session's CSRF token, from the sign-out form every page carries.
async fn csrf_of_page(browser: &Browser) -> anyhow::Result<String> {
    let value = browser
        .run(
            "return document.querySelector('form[action=\"/signout\"] input[name=csrf]').value;",
            vec![],
        )
        .await?;
    value.as_str().map(str::to_owned).context("a CSRF token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_gets_a_clear_error_and_a_reader_signs_in() -> anyhow::Result<()> {
    let (fleet, console) = start().await?;
    let browser = Browser::start(Width::Desktop).await?;
    sign_in(&browser, &console, "not-a-riskgate-token").await?;
    wait_for_text(
        &browser,
        "#error",
        "the refusal of an unknown token",
        |text| text.contains("does not accept this token"),
    )
    .await?;
    sign_in(&browser, &console, NO_CONSOLE_ROLE_TOKEN).await?;
    wait_for_text(
        &browser,
        "#error",
        "the refusal of a gateway token",
        |text| text.contains("needs reader or admin"),
    )
    .await?;
    browser.open(&console.at("/devices")).await?;
    wait_for_text(
        &browser,
        "h1",
        "the sign-in form for a page without a session",
        |text| text == "Sign in",
    )
    .await?;
    sign_in_to_overview(&browser, &console, READER_TOKEN).await?;
    ensure!(browser
        .text("header .who")
        .await?
        .contains("viewer (reader)"));
    drop(fleet);
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_counts_equal_list_devices() -> anyhow::Result<()> {
    let (fleet, console) = start().await?;
    let browser = Browser::start(Width::Desktop).await?;
    sign_in_to_overview(&browser, &console, ADMIN_TOKEN).await?;
    let levels = [
        ("high", ThreatLevel::High),
        ("medium", ThreatLevel::Medium),
        ("low", ThreatLevel::Low),
        ("secured", ThreatLevel::Secured),
        ("none", ThreatLevel::Unspecified),
    ];
    for (key, level) in levels {
        let shown = browser.text(&format!("[data-level={key}] .count")).await?;
        let request = ListDevicesRequest {
            levels: vec![level as i32],
            ..Default::default()
        };
        let expected = listed(&fleet, request).await?.len();
        ensure!(
            shown == expected.to_string(),
            "level {key}: shown {shown}, listed {expected}"
        );
    }
    let statuses = [
        ("noncompliant", ComplianceStatus::Noncompliant),
        ("compliant", ComplianceStatus::Compliant),
        ("in_grace_period", ComplianceStatus::InGracePeriod),
        ("unknown", ComplianceStatus::Unknown),
    ];
    for (key, status) in statuses {
        let shown = browser
            .text(&format!("[data-compliance={key}] .count"))
            .await?;
        let request = ListDevicesRequest {
            compliance: vec![status as i32],
            ..Default::default()
        };
        let expected = listed(&fleet, request).await?.len();
        ensure!(
            shown == expected.to_string(),
            "status {key}: shown {shown}, listed {expected}"
        );
    }
    ensure!(browser
        .text("main")
        .await?
        .contains(&format!("{FLEET} devices.")));
    ensure!(browser.text("#connectors").await?.contains("lookout"));
    ensure!(browser.has("svg.chart").await?, "the chart is drawn");
    browser.screenshot("console-overview").await?;
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtering_and_opening_a_device_work_without_javascript() -> anyhow::Result<()> {
    let (fleet, console) = start().await?;
    let browser = Browser::start_without_javascript(Width::Desktop).await?;
    sign_in_to_overview(&browser, &console, READER_TOKEN).await?;
    browser.open(&console.at("/devices")).await?;
    let form = browser
        .client
        .form(fantoccini::Locator::Css(".filters form"))
        .await?;
    form.set_by_name("q", "FLEET-00003").await?;
    form.submit().await?;
    wait_for_text(&browser, "#devices tbody", "the one device found", |text| {
        text.contains("fleet-00003") && !text.contains("fleet-00002")
    })
    .await?;
    ensure!(browser
        .client
        .current_url()
        .await?
        .as_str()
        .contains("q=FLEET-00003"));
    browser
        .client
        .find(fantoccini::Locator::LinkText("fleet-00003"))
        .await?
        .click()
        .await?;
    wait_for_text(&browser, "main h1", "the device's page", |text| {
        text == "Device fleet-00003"
    })
    .await?;
    ensure!(
        browser.text("#reports").await?.contains("lookout"),
        "its partner's report"
    );
    ensure!(
        browser.text("#policies").await?.contains("mtd"),
        "its verdict per policy"
    );
    ensure!(
        browser.text("#access").await?.contains("exchange"),
        "its decision per resource"
    );
    ensure!(
        browser
            .text("#timeline")
            .await?
            .contains("lookout reported"),
        "its timeline"
    );
    ensure!(
        browser
            .text("header")
            .await?
            .contains("reload for the latest"),
        "without JavaScript the page says it does not update itself"
    );
    browser
        .open(&console.at("/devices?level=secured&compliance=compliant"))
        .await?;
    let secured = listed(
        &fleet,
        ListDevicesRequest {
            levels: vec![ThreatLevel::Secured as i32],
            compliance: vec![ComplianceStatus::Compliant as i32],
            ..Default::default()
        },
    )
    .await?;
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("#devices tbody tr"))
        .await?;
    ensure!(
        rows.len() == secured.len(),
        "{} rows, {} listed",
        rows.len(),
        secured.len()
    );
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infection_turns_the_device_red_live_and_remediation_turns_it_back() -> anyhow::Result<()>
{
    let (fleet, console) = start().await?;
    let desktop = Browser::start(Width::Desktop).await?;
    let phone = Browser::start(Width::Phone).await?;
    for browser in [&desktop, &phone] {
        sign_in_to_overview(browser, &console, ADMIN_TOKEN).await?;
    }
    desktop
        .open(&console.at(&format!("/devices/{PHONE}")))
        .await?;
    wait_for_text(
        &desktop,
        "#live-status",
        "the device page following live",
        |text| text == "live",
    )
    .await?;
    wait_for_text(
        &phone,
        "#live-status",
        "the overview following live",
        |text| text == "live",
    )
    .await?;
    ensure!(!desktop.text("#verdict").await?.contains("HIGH"));
    for browser in [&desktop, &phone] {
        browser
            .run("window.riskgateMarker = 'not reloaded';", vec![])
            .await?;
    }

    fleet.infect(PHONE).await?;
    wait_for_text(
        &desktop,
        "#verdict",
        "the device page turning HIGH and noncompliant",
        |text| text.contains("HIGH") && text.contains("noncompliant"),
    )
    .await?;
    ensure!(
        desktop.text("#access").await?.contains("deny"),
        "exchange denied"
    );
    wait_for_text(
        &phone,
        "#at-risk",
        "the overview listing the device at risk",
        |text| text.contains(PHONE),
    )
    .await?;
    let red = desktop
        .run("return getComputedStyle(document.querySelector('#verdict .badge.bad')).backgroundColor;", vec![])
        .await?;
    ensure!(
        red == json!("rgb(179, 38, 30)"),
        "the HIGH badge is red: {red}"
    );
    desktop.screenshot("console-device-infected").await?;
    phone.screenshot("console-overview-phone-infected").await?;
    let width = phone
        .run(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await?;
    ensure!(
        width[0].as_u64() <= width[1].as_u64(),
        "no sideways scrolling at 390 px: {width}"
    );

    fleet.remediate(PHONE).await?;
    wait_for_text(
        &desktop,
        "#verdict",
        "the device page back to SECURED and compliant",
        |text| text.contains("SECURED") && !text.contains("noncompliant"),
    )
    .await?;
    wait_for_text(
        &phone,
        "#at-risk",
        "the overview without the device at risk",
        |text| !text.contains(PHONE),
    )
    .await?;
    for browser in [&desktop, &phone] {
        let marker = browser.run("return window.riskgateMarker;", vec![]).await?;
        ensure!(
            marker == json!("not reloaded"),
            "updated in place, not reloaded: {marker}"
        );
    }
    phone.close().await?;
    desktop.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_neither_sees_nor_may_post_admin_actions() -> anyhow::Result<()> {
    let (fleet, console) = start().await?;
    let browser = Browser::start(Width::Desktop).await?;
    sign_in_to_overview(&browser, &console, READER_TOKEN).await?;
    browser
        .open(&console.at(&format!("/devices/{PHONE}")))
        .await?;
    wait_for_text(&browser, "main h1", "the device page", |text| {
        text.contains(PHONE)
    })
    .await?;
    ensure!(
        !browser.has("#recheck").await?,
        "no re-check form for a reader"
    );
    browser.open(&console.at("/connectors")).await?;
    wait_for_text(&browser, "main h1", "the connectors page", |text| {
        text == "Connectors"
    })
    .await?;
    ensure!(
        !browser.has("form.toggles").await?,
        "no toggle form for a reader"
    );
    let csrf = csrf_of_page(&browser).await?;
    let before = connector_version(&fleet).await?;
    for (path, body) in [
        (format!("/devices/{PHONE}/recheck"), format!("csrf={csrf}")),
        (
            "/connectors/lookout/toggles".to_owned(),
            format!("csrf={csrf}&version={before}&compliance.android=on"),
        ),
    ] {
        let status = post_from_page(&browser, &path, &body).await?;
        ensure!(status == 403, "a reader's POST {path} is refused: {status}");
    }
    ensure!(
        connector_version(&fleet).await? == before,
        "nothing changed"
    );
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_its_csrf_token_is_refused_and_with_it_an_admin_acts() -> anyhow::Result<()>
{
    let (fleet, console) = start().await?;
    let browser = Browser::start(Width::Desktop).await?;
    sign_in_to_overview(&browser, &console, ADMIN_TOKEN).await?;
    browser.open(&console.at("/connectors")).await?;
    wait_for_text(&browser, "main h1", "the connectors page", |text| {
        text == "Connectors"
    })
    .await?;
    let before = connector_version(&fleet).await?;
    for body in [
        format!("version={before}"),
        format!("csrf=forged&version={before}"),
    ] {
        let status = post_from_page(&browser, "/connectors/lookout/toggles", &body).await?;
        ensure!(
            status == 403,
            "POST without the session's CSRF token: {status}"
        );
    }
    ensure!(
        connector_version(&fleet).await? == before,
        "nothing changed"
    );

    // Through the form itself: turn app protection on for Android.
    let form = browser
        .client
        .form(fantoccini::Locator::Css("#toggles-lookout"))
        .await?;
    let checkbox = browser
        .client
        .find(fantoccini::Locator::Css(
            "#toggles-lookout input[name='app_protection.android']",
        ))
        .await?;
    checkbox.click().await?;
    form.submit().await?;
    wait_for_text(&browser, ".flash", "the outcome", |text| {
        text.contains("Saved the toggles of lookout")
    })
    .await?;
    let connector = ConnectorServiceClient::new(fleet.core.channel().await?)
        .get_connector(with_token(
            GetConnectorRequest {
                connector_id: "lookout".into(),
            },
            ADMIN_TOKEN,
        ))
        .await?
        .into_inner();
    ensure!(connector.version > before, "the connector was updated");
    ensure!(
        connector
            .app_protection_enabled
            .is_some_and(|toggles| toggles.android),
        "app protection on for Android"
    );
    ensure!(
        connector
            .compliance_enabled
            .is_some_and(|toggles| toggles.ios),
        "the compliance toggles kept"
    );
    browser.close().await
}

async fn connector_version(fleet: &Fleet) -> anyhow::Result<u64> {
    Ok(ConnectorServiceClient::new(fleet.core.channel().await?)
        .get_connector(with_token(
            GetConnectorRequest {
                connector_id: "lookout".into(),
            },
            ADMIN_TOKEN,
        ))
        .await?
        .into_inner()
        .version)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_time_sign_in_link_works_once() -> anyhow::Result<()> {
    let fleet = Fleet::start(1, HostTimings::Fast, Users::None).await?;
    let console = ConsoleProcess::start(&fleet.core.url(), "", Some(ADMIN_TOKEN)).await?;
    let link = console.signin_link.clone().context("a link")?;
    let browser = Browser::start(Width::Desktop).await?;
    browser.open(&link).await?;
    wait_for_text(&browser, "main h1", "the overview", |text| {
        text == "Overview"
    })
    .await?;
    ensure!(browser.text("header .who").await?.contains("ops (admin)"));
    let other = Browser::start(Width::Desktop).await?;
    other.open(&link).await?;
    wait_for_text(&other, "#error", "the spent link refused", |text| {
        text.contains("already used")
    })
    .await?;
    other.close().await?;
    browser.close().await
}
