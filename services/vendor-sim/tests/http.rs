//! HTTP-level tests of the simulator: the in-process server on a real socket, driven with reqwest
//! exactly as a connector would (paging, auth and expiry, SSE resume, every fault and injection).

// test code
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use riskgate_vendor_sim::{actions::Action, scenario::Scenario, world::Settings, Sim};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);

struct Server {
    url: String,
    http: reqwest::Client,
}

async fn start(devices: usize) -> Server {
    let settings = Settings {
        heartbeat_ms: 100,
        ..Settings::default()
    };
    let sim = Sim::new(settings, 1);
    for n in 0..devices {
        let spec = json!({"action": "add_device", "id": format!("d{n}"), "platform": if n % 2 == 0 { "ANDROID" } else { "IOS" }});
        sim.apply(&serde_json::from_value::<Action>(spec).unwrap())
            .unwrap();
    }
    let addr = sim.spawn("127.0.0.1:0".parse().unwrap()).await.unwrap();
    Server {
        url: format!("http://{addr}"),
        http: reqwest::Client::new(),
    }
}

impl Server {
    async fn admin(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/_admin/{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn counters(&self) -> Value {
        self.http
            .get(format!("{}/_admin/counters", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn lookout_token(&self) -> String {
        let r = self
            .http
            .post(format!("{}/oauth2/token", self.url))
            .bearer_auth("sim-lookout-app-key")
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Opens the Lookout stream and reads frames until `until` holds or the stream ends.
    async fn frames(
        &self,
        query: &str,
        token: &str,
        until: impl Fn(&[String]) -> bool,
    ) -> (Vec<String>, bool) {
        let r = self
            .get(&format!("/mra/stream/v2/events{query}"), token)
            .await;
        assert_eq!(r.status(), 200);
        let mut body = r.bytes_stream();
        let mut text = String::new();
        let deadline = Instant::now() + WAIT;
        loop {
            let frames: Vec<String> = text.split("\n\n").map(str::to_owned).collect();
            let complete = &frames[..frames.len() - 1];
            if until(complete) {
                return (complete.to_vec(), false);
            }
            let next = tokio::time::timeout(
                deadline.saturating_duration_since(Instant::now()),
                body.next(),
            )
            .await
            .expect("stream stalled");
            match next {
                Some(Ok(chunk)) => text.push_str(&String::from_utf8_lossy(&chunk)),
                Some(Err(_)) | None => {
                    let mut frames: Vec<String> = text.split("\n\n").map(str::to_owned).collect();
                    if frames.last().is_some_and(String::is_empty) {
                        frames.pop();
                    }
                    return (frames, true);
                }
            }
        }
    }
}

/// A stream read on its own client until it ends: its frames, and whether it ended.
fn live_stream(s: &Server, token: &str) -> tokio::task::JoinHandle<(Vec<String>, bool)> {
    let (url, token) = (s.url.clone(), token.to_owned());
    tokio::spawn(async move {
        Server {
            url,
            http: reqwest::Client::new(),
        }
        .frames("", &token, |_| false)
        .await
    })
}

fn batches(frames: &[String]) -> Vec<&String> {
    frames
        .iter()
        .filter(|f| f.contains("event:events"))
        .collect()
}

fn id_of(frame: &str) -> &str {
    frame.lines().find_map(|l| l.strip_prefix("id:")).unwrap()
}

/// Threats page by `oid`; devices filter by their security status.
async fn threats_page_by_oid_and_devices_filter_by_status(s: &Server, token: &str) {
    s.admin(
        "infect",
        json!({"device": "d1", "vendor": "lookout", "severity": "MEDIUM"}),
    )
    .await;
    s.admin(
        "infect",
        json!({"device": "d3", "vendor": "lookout", "severity": "ADVISORY"}),
    )
    .await;
    let page: Value = s
        .get("/mra/api/v2/threats?limit=1", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["threats"][0]["risk"], "MEDIUM");
    let oid = page["threats"][0]["oid"].as_str().unwrap().to_owned();
    let page: Value = s
        .get(&format!("/mra/api/v2/threats?limit=1&oid={oid}"), token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["threats"][0]["risk"], "ADVISORY");
    let d1: Value = s
        .get(
            "/mra/api/v2/devices?limit=10&security_status=THREATS_MEDIUM",
            token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d1["devices"][0]["details"]["external_id"], "d1");
}

/// Devices page by `oid`, in order, and need a token.
async fn devices_page_by_oid(s: &Server, token: &str) {
    assert_eq!(s.get("/mra/api/v2/devices", "nope").await.status(), 401);
    let mut seen = Vec::new();
    let mut oid = String::new();
    loop {
        let page: Value = s
            .get(&format!("/mra/api/v2/devices?limit=2{oid}"), token)
            .await
            .json()
            .await
            .unwrap();
        let devices = page["devices"].as_array().unwrap();
        assert_eq!(page["count"], devices.len());
        seen.extend(
            devices
                .iter()
                .map(|d| d["details"]["external_id"].as_str().unwrap().to_owned()),
        );
        if devices.len() < 2 {
            break;
        }
        oid = format!("&oid={}", devices.last().unwrap()["oid"].as_str().unwrap());
    }
    assert_eq!(seen, ["d0", "d1", "d2", "d3", "d4"]);
}

/// A wrong application key is refused; the right one gets a two-hour Bearer token.
async fn lookout_token_for_the_app_key_only(s: &Server) -> String {
    let bad = s
        .http
        .post(format!("{}/oauth2/token", s.url))
        .bearer_auth("wrong")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let r = s
        .http
        .post(format!("{}/oauth2/token", s.url))
        .bearer_auth("sim-lookout-app-key")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 7200);
    assert!(body["expires_at"].as_u64().unwrap() > 1_700_000_000_000);
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn lookout_token_auth_expiry_and_oid_paging() {
    let s = start(5).await;
    let token = lookout_token_for_the_app_key_only(&s).await;

    devices_page_by_oid(&s, &token).await;

    threats_page_by_oid_and_devices_filter_by_status(&s, &token).await;

    s.admin(
        "device-state",
        json!({"device": "d0", "activation_status": "PENDING"}),
    )
    .await;
    let page: Value = s
        .get("/mra/api/v2/devices?limit=1", &token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        page["devices"][0].get("security_status").is_none(),
        "no security_status unless activated and protected"
    );

    s.admin("expire-tokens", json!({"vendor": "lookout"})).await;
    let expired = s.get("/mra/api/v2/devices", &token).await;
    assert_eq!(expired.status(), 401);
    assert_eq!(
        expired.json::<Value>().await.unwrap()["error_description"],
        "token expired"
    );
    let c = s.counters().await;
    assert_eq!(c["tokens_issued"]["lookout"], 1);
    assert!(c["unauthorized"].as_u64().unwrap() >= 3);
}

#[tokio::test]
async fn lookout_stream_replays_from_start_time_resumes_after_an_id_and_heartbeats() {
    let s = start(2).await;
    let token = s.lookout_token().await;
    s.admin(
        "infect",
        json!({"device": "d0", "vendor": "lookout", "severity": "HIGH"}),
    )
    .await;
    // From a minute ago: the two DEVICE CREATED batches and the infection batch.
    let since = "?start_time=2000-01-01T00:00:00Z";
    let r = s
        .get(&format!("/mra/stream/v2/events{since}"), &token)
        .await;
    assert_eq!(r.status(), 400, "more than 10 days back is refused");
    let now = riskgate_vendor_sim::time::iso_ms(riskgate_vendor_sim::time::now_ms() - 60_000);
    let (frames, _) = s
        .frames(&format!("?start_time={now}"), &token, |f| {
            batches(f).len() >= 3 && f.iter().any(|x| x.contains("heartbeat"))
        })
        .await;
    let all = batches(&frames);
    assert!(all[2].contains("\"type\":\"THREAT\"") && all[2].contains("THREATS_HIGH"));
    let second = id_of(all[1]).to_owned();

    // Resuming after the second batch, by `id`, `last_id` and the Last-Event-ID header.
    for query in [format!("?id={second}"), format!("?last_id={second}")] {
        let (frames, _) = s.frames(&query, &token, |f| !batches(f).is_empty()).await;
        assert_eq!(id_of(batches(&frames)[0]), id_of(all[2]));
    }
    let r = s
        .http
        .get(format!("{}/mra/stream/v2/events", s.url))
        .bearer_auth(&token)
        .header("Last-Event-ID", &second)
        .send()
        .await
        .unwrap();
    let first = r.bytes_stream().next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains(id_of(all[2])));

    // `types` filters batches; live batches arrive on an open stream.
    let (frames, _) = s
        .frames(&format!("?id={second}&types=DEVICE"), &token, |f| {
            f.iter().any(|x| x.contains("heartbeat"))
        })
        .await;
    assert!(
        batches(&frames)[0].contains("THREAT"),
        "a batch with a DEVICE event passes the filter whole"
    );
    let live = tokio::spawn({
        let url = s.url.clone();
        let token = token.clone();
        async move {
            let s = Server {
                url,
                http: reqwest::Client::new(),
            };
            s.frames("", &token, |f| !batches(f).is_empty()).await.0
        }
    });
    tokio::time::timeout(WAIT, async {
        while s.counters().await["stream_connections"].as_u64().unwrap() < 6 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    s.admin("remediate", json!({"device": "d0", "vendor": "lookout"}))
        .await;
    let frames = live.await.unwrap();
    assert!(batches(&frames)[0].contains("RESOLVED"));
}

/// `after` and `before` split the threats at the time of their last change.
async fn zimperium_threats_window_by_last_change(s: &Server, token: &str) {
    let cut = riskgate_vendor_sim::time::now_ms() + 1;
    tokio::time::sleep(Duration::from_millis(5)).await;
    s.admin("remediate", json!({"device": "d0", "vendor": "zimperium"}))
        .await;
    let after: Value = s
        .get(
            &format!("/api/threats/public/v1/threats?after={cut}"),
            token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["totalElements"], 1,
        "only the mitigation is after the cut"
    );
    assert_eq!(after["content"][0]["state"], 4);
    assert!(after["content"][0]["mitigatedAt"].is_u64());
    let before: Value = s
        .get(
            &format!("/api/threats/public/v1/threats?before={cut}"),
            token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["totalElements"], 2);
}

/// Threats page by page number, in timestamp order.
async fn zimperium_threats_page_by_number(s: &Server, token: &str) {
    for (device, severity) in [("d0", "CRITICAL"), ("d1", "ELEVATED"), ("d2", "LOW")] {
        s.admin(
            "infect",
            json!({"device": device, "vendor": "zimperium", "severity": severity}),
        )
        .await;
    }
    let mut ids = Vec::new();
    for page in 0.. {
        let body: Value = s.get(&format!("/api/threats/public/v1/threats?module=ZIPS&page={page}&size=2&sort=timestamp,asc"), token).await.json().await.unwrap();
        assert_eq!(body["totalElements"], 3);
        ids.extend(
            body["content"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["severityName"].as_str().unwrap().to_owned()),
        );
        if body["last"] == true {
            break;
        }
    }
    assert_eq!(ids, ["CRITICAL", "ELEVATED", "LOW"]);
}

/// Wrong credentials are refused; the right ones get a JWT and a refresh token that works once.
async fn zimperium_login_and_one_time_refresh(s: &Server) -> String {
    let bad = s
        .http
        .post(format!("{}/api/auth/v1/api_keys/login", s.url))
        .json(&json!({"clientId": "x", "secret": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert!(bad.json::<Value>().await.unwrap()["detail"].is_string());
    let login: Value = s
        .http
        .post(format!("{}/api/auth/v1/api_keys/login", s.url))
        .json(&json!({"clientId": "sim-zimperium-client", "secret": "sim-zimperium-secret"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT");
    let refreshed: Value = s
        .http
        .post(format!("{}/api/auth/v1/api_keys/access", s.url))
        .json(&json!({"refreshToken": login["refreshToken"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(refreshed["accessToken"].is_string());
    let reused = s
        .http
        .post(format!("{}/api/auth/v1/api_keys/access", s.url))
        .json(&json!({"refreshToken": login["refreshToken"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), 401, "a refresh token works once");
    token
}

#[tokio::test]
async fn zimperium_login_refresh_window_and_page_paging_and_devices() {
    let s = start(3).await;
    let token = zimperium_login_and_one_time_refresh(&s).await;

    zimperium_threats_page_by_number(&s, &token).await;
    zimperium_threats_window_by_last_change(&s, &token).await;

    let devices: Value = s
        .get(
            "/api/devices/public/v2/devices/start-scroll?page=0&size=10",
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(devices["totalHits"], 3);
    let d1 = &devices["content"][1];
    assert_eq!(d1["riskPostureName"], "ELEVATED");
    let one: Value = s
        .get(
            &format!(
                "/api/devices/public/v2/devices/{}",
                d1["id"].as_str().unwrap()
            ),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["mdmDeviceId"], "d1");
    s.admin("expire-tokens", json!({"vendor": "zimperium"}))
        .await;
    assert_eq!(
        s.get("/api/threats/public/v1/threats", &token)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn armed_faults_answer_401_429_with_retry_after_and_5xx_for_the_next_requests_only() {
    let s = start(1).await;
    let token = s.lookout_token().await;
    s.admin("faults", json!({"vendor": "lookout", "path": "/mra/api/v2/devices", "status": 429, "retry_after": 7, "count": 2})).await;
    s.admin(
        "faults",
        json!({"vendor": "lookout", "status": 503, "count": 1}),
    )
    .await;
    s.admin("faults", json!({"vendor": "zimperium", "status": 401}))
        .await;
    let r = s.get("/mra/api/v2/devices", &token).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(s.get("/mra/api/v2/devices", &token).await.status(), 429);
    assert_eq!(s.get("/mra/api/v2/devices", &token).await.status(), 503);
    assert_eq!(s.get("/mra/api/v2/devices", &token).await.status(), 200);
    let z = s
        .http
        .post(format!("{}/api/auth/v1/api_keys/login", s.url))
        .json(&json!({"clientId": "sim-zimperium-client", "secret": "sim-zimperium-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(z.status(), 401);
    assert!(z.json::<Value>().await.unwrap()["detail"].is_string());
    let c = s.counters().await;
    assert_eq!(c["faults_served"]["429"], 2);
    assert_eq!(c["faults_served"]["503"], 1);
    assert_eq!(c["requests"]["GET /mra/api/v2/devices"], 4);
}

/// Reconnect, end and drop messages reach a live stream and close it.
async fn control_messages_close_live_streams(s: &Server, token: &str) {
    for (kind, marker) in [
        ("reconnect", "retry:250"),
        ("end", "event:end"),
        ("drop_stream", ""),
    ] {
        let want = s.counters().await["stream_connections"].as_u64().unwrap() + 1;
        let live = live_stream(s, token);
        tokio::time::timeout(WAIT, async {
            while s.counters().await["stream_connections"].as_u64().unwrap() < want {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap();
        s.admin(
            "inject",
            json!({"kind": kind, "vendor": "lookout", "retry_ms": 250}),
        )
        .await;
        let (frames, ended) = live.await.unwrap();
        assert!(ended, "{kind}: the stream closes");
        assert!(
            frames.iter().any(|f| f.contains(marker)),
            "{kind}: {frames:?}"
        );
    }
}

/// Injected duplicate, malformed, unparsable and unknown-field batches reach the stream in order.
async fn injected_bad_data_reaches_the_stream(s: &Server, token: &str, now: &str) {
    s.admin("inject", json!({"kind": "duplicate", "vendor": "lookout"}))
        .await;
    s.admin("inject", json!({"kind": "malformed", "vendor": "lookout"}))
        .await;
    s.admin(
        "inject",
        json!({"kind": "malformed_json", "vendor": "lookout"}),
    )
    .await;
    s.admin(
        "inject",
        json!({"kind": "unknown_fields", "vendor": "lookout", "device": "d1"}),
    )
    .await;
    let (frames, _) = s
        .frames(&format!("?start_time={now}"), token, |f| {
            batches(f).len() >= 6
        })
        .await;
    let all = batches(&frames);
    let data = |f: &str| {
        f.lines()
            .find_map(|l| l.strip_prefix("data:"))
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        data(all[2]),
        data(all[1]),
        "the duplicate repeats the last batch"
    );
    assert_ne!(id_of(all[2]), id_of(all[1]), "under a new SSE id");
    assert!(data(all[3]).contains("EXTREME"));
    assert!(serde_json::from_str::<Value>(&data(all[4])).is_err());
    assert!(
        data(all[5]).contains("future_status_field") && data(all[5]).contains("SMISHING_ALERT")
    );
}

/// An armed stream drop cuts the stream in the middle of its second batch.
async fn stream_drops_mid_batch(s: &Server, token: &str, now: &str) {
    s.admin("faults", json!({"kind": "drop_stream", "after_batches": 1}))
        .await;
    let (frames, ended) = s
        .frames(&format!("?start_time={now}"), token, |_| false)
        .await;
    assert!(ended);
    assert_eq!(
        batches(&frames).len(),
        2,
        "one whole batch, then half of the next: {frames:?}"
    );
    assert!(
        !frames.last().unwrap().ends_with("}]}"),
        "the last frame is cut: {:?}",
        frames.last()
    );
    assert_eq!(s.counters().await["stream_drops"], 1);
}

#[tokio::test]
async fn streams_are_dropped_mid_batch_and_get_reconnect_and_end_and_bad_data_on_demand() {
    let s = start(2).await;
    let token = s.lookout_token().await;
    let now = riskgate_vendor_sim::time::iso_ms(riskgate_vendor_sim::time::now_ms() - 60_000);
    stream_drops_mid_batch(&s, &token, &now).await;

    injected_bad_data_reaches_the_stream(&s, &token, &now).await;

    control_messages_close_live_streams(&s, &token).await;

    // An expired token ends open streams.
    let live = live_stream(&s, &token);
    tokio::time::timeout(WAIT, async {
        while s.counters().await["stream_heartbeats_sent"]
            .as_u64()
            .unwrap()
            == 0
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    s.admin("expire-tokens", json!({})).await;
    let (frames, ended) = live.await.unwrap();
    assert!(ended && frames.iter().any(|f| f.contains("token expired")));
}

#[tokio::test]
async fn scenarios_build_a_seeded_fleet_and_run_their_timeline() {
    let text = r#"
        seed = 5
        [fleet]
        count = 6
        infected = 0.5
        [[devices]]
        id = "ceo"
        platform = "IOS"
        [[timeline]]
        at = "0s"
        action = "infect"
        device = "ceo"
        vendor = "lookout"
        severity = "HIGH"
        [[timeline]]
        at = "300ms"
        action = "remediate"
        device = "ceo"
    "#;
    let scenario = Scenario::parse(text).unwrap();
    let run = |scenario: Scenario| async move {
        let sim = Sim::new(Settings::default(), 5);
        sim.load_scenario(&scenario).unwrap();
        sim
    };
    let a = run(scenario.clone()).await;
    let b = run(scenario).await;
    let describe = |sim: &Sim| {
        let world = sim.world();
        world
            .devices
            .iter()
            .map(|d| format!("{} {} {} {}", d.key, d.platform, d.model, d.lookout_guid))
            .collect::<Vec<_>>()
    };
    assert_eq!(describe(&a), describe(&b), "same seed, same fleet");
    assert_eq!(a.world().devices.len(), 7);
    let deadline = Instant::now() + WAIT;
    loop {
        let status: Vec<String> = a
            .world()
            .lookout_threats
            .iter()
            .filter(|t| t.device_key == "ceo")
            .map(|t| t.status.clone())
            .collect();
        if status == ["RESOLVED"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the timeline did not infect then remediate: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
