//! The simulator over real HTTP, checked against `shared/reference/graph-api.md` with a bare
//! client: versions, token placement, proofs, error bodies, headers and paging.
#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use meta_graph_sim::{APP_ID, APP_SECRET, PIXEL_ID, Scenario, SimConfig, Simulator, TokenKind};
use serde_json::Value;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn get(url: &str, bearer: Option<&str>) -> (u16, reqwest::header::HeaderMap, Value) {
    let client = client();
    let mut req = client.get(url);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn auth_errors_and_versions_follow_meta() {
    let sim = Simulator::start_local(SimConfig::default())
        .await
        .expect("sim");
    let base = sim.base_url();

    let (status, _, body) = get(&format!("{base}/v25.0/me"), None).await;
    assert_eq!(status, 400, "no token is a 400");
    assert_eq!(body["error"]["code"], 104, "code 104: {body}");
    assert!(
        body["error"]["fbtrace_id"].is_string(),
        "errors carry fbtrace_id"
    );

    let (status, headers, body) =
        get(&format!("{base}/me?access_token=t1&fields=id,name"), None).await;
    assert_eq!(status, 200, "query-string tokens are accepted: {body}");
    assert_eq!(
        headers["facebook-api-version"], "v25.0",
        "an unversioned call names the serving version"
    );
    assert!(headers.contains_key("x-app-usage"), "usage header present");

    let (_, _, body) = get(
        &format!("{base}/v24.0/me?fields=id,birthday_party"),
        Some("t1"),
    )
    .await;
    assert_eq!(body["error"]["code"], 100, "unknown field: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nonexisting field (birthday_party)"))
    );

    let (_, _, body) = get(
        &format!("{base}/v25.0/me?appsecret_proof=deadbeef"),
        Some("t1"),
    )
    .await;
    assert_eq!(
        body["error"]["type"], "GraphMethodException",
        "wrong proof rejected: {body}"
    );
    assert_eq!(
        body["error"]["message"],
        "Invalid appsecret_proof provided in the API argument"
    );

    let (_, _, body) = get(&format!("{base}/v25.0/999"), Some("t1")).await;
    assert_eq!(
        (
            body["error"]["code"].as_i64(),
            body["error"]["error_subcode"].as_i64()
        ),
        (Some(100), Some(33))
    );

    let (_, _, body) = get(
        &format!("{base}/v25.0/me"),
        Some(&format!("{APP_ID}|{APP_SECRET}")),
    )
    .await;
    assert_eq!(body["error"]["code"], 2500, "/me with an app token: {body}");

    sim.set_scenario(Scenario::TokenInvalid);
    let (status, headers, body) = get(&format!("{base}/v25.0/me"), Some("t1")).await;
    assert_eq!(
        (
            status,
            body["error"]["code"].as_i64(),
            body["error"]["error_subcode"].as_i64()
        ),
        (400, Some(190), Some(463))
    );
    assert!(
        headers.contains_key("www-authenticate"),
        "OAuth errors carry WWW-Authenticate"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn paging_links_point_back_at_the_simulator_and_throttling_uses_the_right_codes() {
    let sim = Simulator::start_local(SimConfig::default())
        .await
        .expect("sim");
    let base = sim.base_url();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let url = format!(
        "{base}/v25.0/{PIXEL_ID}/stats?aggregation=event&start_time={}&end_time={now}&access_token=t1",
        now - 86_400
    );
    let (_, _, first) = get(&url, None).await;
    let next = first["paging"]["next"]
        .as_str()
        .expect("a next link on the first page");
    assert!(
        next.starts_with(&base),
        "next points at the simulator: {next}"
    );
    assert!(
        next.contains("access_token=t1"),
        "like Meta, next embeds a query-string token"
    );
    let mut hours = first["data"].as_array().map_or(0, Vec::len);
    let mut link = Some(next.to_owned());
    let mut pages = 1;
    while let Some(url) = link.take() {
        let (_, _, page) = get(&url, None).await;
        hours += page["data"].as_array().map_or(0, Vec::len);
        link = page["paging"]["next"].as_str().map(str::to_owned);
        pages += 1;
        assert!(pages < 10, "paging ends");
    }
    assert!(
        (24..=25).contains(&hours),
        "24 h of hourly buckets (25 when not hour-aligned): {hours}"
    );
    assert!(pages >= 2, "the stats span several pages: {pages}");

    sim.set_scenario(Scenario::Throttled);
    let (status, headers, body) = get(
        &format!("{base}/v25.0/{}", meta_graph_sim::AD_ACCOUNT),
        Some("t1"),
    )
    .await;
    assert_eq!(status, 400, "throttles are HTTP 400, not 429");
    assert_eq!(body["error"]["code"], 80004, "{body}");
    let buc: Value = serde_json::from_str(
        headers["x-business-use-case-usage"]
            .to_str()
            .expect("ascii"),
    )
    .expect("json header");
    let entry = &buc[meta_graph_sim::AD_ACCOUNT.trim_start_matches("act_")][0];
    assert_eq!(entry["call_count"], 100, "{buc}");
    assert!(
        entry["estimated_time_to_regain_access"]
            .as_u64()
            .is_some_and(|m| (1..=60).contains(&m)),
        "regain in minutes: {buc}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn batch_parts_answer_like_requests_and_usage_rises_until_code_4() {
    let sim = Simulator::start_local(SimConfig {
        app_quota: 10,
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let base = sim.base_url();
    let client = client();
    let batch = r#"[{"method":"GET","relative_url":"v25.0/debug_token?input_token=t1"},{"method":"GET","relative_url":"v25.0/999"}]"#;
    let resp = client
        .post(format!("{base}/"))
        .bearer_auth("t1")
        .form(&[("batch", batch)])
        .send()
        .await
        .expect("batch");
    assert_eq!(
        resp.status().as_u16(),
        200,
        "a batch is HTTP 200 even when a part fails"
    );
    let parts: Value = resp.json().await.expect("json array");
    assert_eq!(parts[0]["code"], 200, "{parts}");
    let body: Value =
        serde_json::from_str(parts[0]["body"].as_str().expect("body is a JSON string"))
            .expect("json body");
    assert_eq!(
        body["data"]["is_valid"], true,
        "debug_token answered inside the batch: {body}"
    );
    assert!(
        parts[0]["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .any(|h| h["name"] == "x-app-usage"),
        "part headers kept"
    );
    assert_eq!(
        parts[1]["code"], 400,
        "the failing part carries its own status: {parts}"
    );

    // Each part counted: 2 calls so far against a quota of 10.
    let mut last = 0;
    for _ in 0..8 {
        let (status, headers, _) = get(&format!("{base}/v25.0/me"), Some("t1")).await;
        let usage: Value =
            serde_json::from_str(headers["x-app-usage"].to_str().expect("ascii")).expect("json");
        let pct = usage["call_count"].as_u64().expect("call_count");
        assert!(pct >= last, "usage only rises within the window");
        last = pct;
        assert_eq!(status, 200);
    }
    assert_eq!(last, 100, "ten calls against a quota of ten is 100 %");
    let (status, _, body) = get(&format!("{base}/v25.0/me"), Some("t1")).await;
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (400, Some(4)),
        "over quota: app limit code 4: {body}"
    );

    // The admin API switches scenarios and lists what was received.
    let put = client
        .put(format!("{base}/__admin/scenario/pixel-silent"))
        .send()
        .await
        .expect("admin");
    assert_eq!(put.status().as_u16(), 200);
    assert_eq!(sim.scenario(), Scenario::PixelSilent);
    let bad = client
        .put(format!("{base}/__admin/scenario/sunny"))
        .send()
        .await
        .expect("admin");
    assert_eq!(bad.status().as_u16(), 400, "unknown scenarios are refused");
    let log: Value = client
        .get(format!("{base}/__admin/requests"))
        .send()
        .await
        .expect("admin")
        .json()
        .await
        .expect("json");
    assert_eq!(
        log.as_array().map(Vec::len),
        Some(10),
        "batch + 9 GETs recorded: {log}"
    );
    assert_eq!(log[1]["auth_scheme"], "Bearer");
    sim.shutdown().await;
}

#[tokio::test]
async fn conversions_api_events_arrive_as_json_or_form_and_are_all_or_nothing() {
    let sim = Simulator::start_local(SimConfig::default())
        .await
        .expect("sim");
    let url = format!("{}/v25.0/{PIXEL_ID}/events", sim.base_url());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let em = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
    let event = |id: &str| {
        serde_json::json!({"event_name": "Lead", "event_time": now, "event_id": id,
            "action_source": "app", "user_data": {"em": [em]}})
    };
    let client = client();
    // The Node SDK's way: a JSON body with `data` as an array.
    let json_reply: Value = client
        .post(&url)
        .bearer_auth("t1")
        .json(&serde_json::json!({"data": [event("a")], "test_event_code": "TEST1"}))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("accepted")
        .json()
        .await
        .expect("json");
    assert_eq!(json_reply["events_received"], 1, "{json_reply}");
    // The Python SDK's way: a form with `data` as a JSON string.
    let data = serde_json::json!([event("b"), event("c")]).to_string();
    let form_reply: Value = client
        .post(&url)
        .bearer_auth("t1")
        .form(&[("data", data.as_str())])
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(form_reply["events_received"], 2, "{form_reply}");
    assert!(form_reply["fbtrace_id"].is_string());
    // One event in milliseconds instead of seconds: the whole request is refused.
    let mut bad = event("d");
    bad["event_time"] = serde_json::json!(now * 1000);
    let data = serde_json::json!([event("e"), bad]).to_string();
    let refused = client
        .post(&url)
        .bearer_auth("t1")
        .form(&[("data", data.as_str())])
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], 100, "{body}");
    assert_eq!(
        body["error"]["error_user_title"], "Event Timestamp In Future",
        "{body}"
    );
    // A GET on the edge is not a write.
    let (status, _, _) = get(&format!("{url}?access_token=t1"), None).await;
    assert_eq!(status, 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn ads_disabled_throttled_answers_the_account_and_throttles_insights() {
    let sim = Simulator::start_local(SimConfig {
        scenario: Scenario::AdsDisabledThrottled,
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let base = sim.base_url();
    let act = meta_graph_sim::AD_ACCOUNT;
    let number = act.trim_start_matches("act_");

    let (status, _, account) = get(
        &format!("{base}/v25.0/{act}?fields=id,name,currency,account_status,disable_reason"),
        Some("t1"),
    )
    .await;
    assert_eq!(
        status, 200,
        "the Ads Management bucket is not full: {account}"
    );
    assert_eq!(
        (
            account["account_status"].as_i64(),
            account["disable_reason"].as_i64()
        ),
        (Some(2), Some(1)),
        "DISABLED for ADS_INTEGRITY_POLICY, as integers: {account}"
    );

    let (status, headers, body) = get(
        &format!("{base}/v25.0/{act}/insights?date_preset=today&fields=spend"),
        Some("t1"),
    )
    .await;
    assert_eq!(status, 400, "throttles are HTTP 400, not 429: {body}");
    assert_eq!(
        (
            body["error"]["code"].as_i64(),
            body["error"]["error_subcode"].as_i64()
        ),
        (Some(80000), Some(2_446_079)),
        "the Ads Insights BUC code: {body}"
    );
    let buc: Value = serde_json::from_str(
        headers["x-business-use-case-usage"]
            .to_str()
            .expect("ascii"),
    )
    .expect("json header");
    let entry = &buc[number][0];
    assert_eq!(entry["type"], "ads_insights", "{buc}");
    assert_eq!(entry["call_count"], 100, "the bucket is full: {buc}");
    assert!(
        entry["estimated_time_to_regain_access"]
            .as_u64()
            .is_some_and(|m| (1..=60).contains(&m)),
        "a regain time in minutes while blocked: {buc}"
    );

    let (status, _, campaigns) = get(
        &format!("{base}/v25.0/{act}/campaigns?summary=total_count"),
        Some("t1"),
    )
    .await;
    assert_eq!(
        status, 200,
        "campaigns count against Ads Management, which still answers: {campaigns}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn tokens_exchange_as_documented_and_expire_for_real() {
    let sim = Simulator::start_local(SimConfig {
        require_proof: true,
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let base = sim.base_url();
    let day = std::time::Duration::from_secs(86_400);
    let old = sim.issue_token(TokenKind::SystemUser, Some(6 * day), None);
    let proof = |token: &str| {
        use hmac::{Hmac, Mac};
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).expect("any key length");
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };

    // The documented form: a GET with everything in the query and no access token.
    let documented = format!(
        "{base}/v25.0/oauth/access_token?grant_type=fb_exchange_token&client_id={APP_ID}\
         &client_secret={APP_SECRET}&set_token_expires_in_60_days=true&fb_exchange_token={old}"
    );
    let (status, _, body) = get(&documented, None).await;
    assert_eq!(status, 200, "{body}");
    let new = body["access_token"].as_str().expect("a token").to_owned();
    assert_ne!(new, old);
    assert_eq!(body["token_type"], "bearer");

    // A POST with the same fields in the body works too; a token sent along must carry its
    // proof when the app requires one.
    let form = [
        ("grant_type", "fb_exchange_token"),
        ("client_id", APP_ID),
        ("client_secret", APP_SECRET),
        ("set_token_expires_in_60_days", "true"),
        ("fb_exchange_token", new.as_str()),
    ];
    let url = format!("{base}/v25.0/oauth/access_token");
    let unproven = client()
        .post(&url)
        .bearer_auth(&new)
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(unproven.status().as_u16(), 400);
    let body: Value = unproven.json().await.expect("json");
    assert_eq!(body["error"]["code"], 100, "missing proof: {body}");
    let proven = client()
        .post(format!("{url}?appsecret_proof={}", proof(&new)))
        .bearer_auth(&new)
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(proven.status().as_u16(), 200);

    let mut wrong = form.to_vec();
    wrong[2] = ("client_secret", "not-the-secret");
    let refused: Value = client()
        .post(&url)
        .form(&wrong)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(
        refused["error"]["message"],
        "Error validating client secret."
    );
    assert_eq!(refused["error"]["code"], 1);

    // The old token works until its own expiry, then every call refuses it with 190/463.
    let me = format!("{base}/v25.0/me?appsecret_proof={}", proof(&old));
    assert_eq!(get(&me, Some(&old)).await.0, 200);
    sim.advance_clock(6 * day + std::time::Duration::from_secs(1));
    let (status, _, body) = get(&me, Some(&old)).await;
    assert_eq!(
        (
            status,
            body["error"]["code"].clone(),
            body["error"]["error_subcode"].clone()
        ),
        (400, 190.into(), 463.into()),
        "{body}"
    );
    let renew_expired = documented.replace(&new, &old);
    let (_, _, body) = get(&renew_expired, None).await;
    assert_eq!(
        body["error"]["code"], 190,
        "an expired token cannot be renewed: {body}"
    );
    let me_new = format!("{base}/v25.0/me?appsecret_proof={}", proof(&new));
    assert_eq!(get(&me_new, Some(&new)).await.0, 200);
    sim.shutdown().await;
}
