//! Open311 GeoReport v2 (protocols.md): services, filing and following
//! requests in JSON and XML with the standard's error format, keys issued
//! and revoked by staff on their page, the workflow seen as FixMyStreet
//! extended statuses and as updates.

use crate::appointments::current;
use crate::helpers::*;
use crate::pages::{browser, location, path};
use backend::entities::incident;
use backend::incidents::{self, Step};
use chrono::{Duration, Utc};
use sea_orm::EntityTrait;
use serde_json::Value;

/// Staff make a key on /staff/incidents; the page shows it once.
async fn key_for(app: &TestApp, staff_phone: &str, community: &str, label: &str) -> String {
    let staff = browser(app).await;
    staff.password_login(staff_phone).await;
    let c = app.org_id(community).await.to_string();
    let r = staff
        .form(path::<app::incidents::CreateOpen311Key>(), "/staff/incidents", &[("community_id", &c), ("label", label)])
        .await;
    let loc = location(&r);
    assert!(loc.starts_with("/staff/incidents?newkey="), "{loc}");
    let (_, html) = staff.page(&loc).await;
    assert!(html.contains(label));
    let start = html.find("o311_").expect("the new key is shown");
    let key: String = html[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    // shown once: the page without the flash does not have it, nor a reload of the same link
    let (_, again) = staff.page("/staff/incidents").await;
    assert!(!again.contains(&key) && again.contains(&key[..9]));
    let (_, reload) = staff.page(&loc).await;
    assert!(!reload.contains(&key), "只显示这一次: a reload does not show it again");
    key
}

/// The status and body; a JSON answer must be as the OpenAPI document says.
async fn answered(method: &str, path: &str, r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let json = r.headers()["content-type"].to_str().unwrap().contains("json");
    let text = r.text().await.unwrap();
    if json {
        crate::access::conforms(method, path, status, &text).unwrap();
    }
    (status, text)
}

async fn post(app: &TestApp, fmt: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let path = format!("/open311/v2/requests.{fmt}");
    let r = app.client.post(app.url(&path)).form(fields).send().await.unwrap();
    answered("POST", &path, r).await
}

async fn get(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    answered("GET", path, r).await
}

#[tokio::test]
async fn open311_clients_file_and_follow_requests_in_json_and_xml() {
    let app = spawn_app().await;
    // services: every category, no key needed
    let (s, body) = get(&app, "/open311/v2/services.json").await;
    assert_eq!(s, 200);
    let services: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(services.as_array().unwrap().len(), 8);
    assert_eq!(services[0]["service_code"], "sanitation");
    assert_eq!(services[0]["metadata"], false);
    assert_eq!(services[0]["type"], "realtime");
    let (s, xml) = get(&app, "/open311/v2/services.xml").await;
    assert_eq!(s, 200);
    assert!(xml.starts_with("<?xml") && xml.contains("<services><service>"));
    assert!(xml.contains("<service_code>sanitation</service_code>") && xml.contains("<metadata>false</metadata>"));
    let (s, def) = get(&app, "/open311/v2/services/parking.json").await;
    assert_eq!(s, 200);
    assert_eq!(serde_json::from_str::<Value>(&def).unwrap()["attributes"], serde_json::json!([]));
    let (s, err) = get(&app, "/open311/v2/services/nope.json").await;
    assert_eq!(s, 404);
    assert_eq!(serde_json::from_str::<Value>(&err).unwrap()[0]["code"], 404);
    let (s, _) = get(&app, "/open311/v2/services.csv").await;
    assert_eq!(s, 404);

    let key = key_for(&app, STAFF_A, "阳光社区", "市民热线 12345").await;
    // bad requests, in the standard's error format
    let (s, body) =
        post(&app, "json", &[("service_code", "parking"), ("description", "x"), ("lat", "39.96"), ("long", "116.41")])
            .await;
    assert_eq!(s, 403, "no key");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()[0]["code"], 403);
    let (s, _) = post(
        &app,
        "json",
        &[
            ("api_key", "o311_wrong"),
            ("service_code", "parking"),
            ("description", "x"),
            ("lat", "39.96"),
            ("long", "116.41"),
        ],
    )
    .await;
    assert_eq!(s, 403, "unknown key");
    let (s, body) = post(
        &app,
        "json",
        &[("api_key", &key), ("service_code", "potholes"), ("description", "x"), ("lat", "39.96"), ("long", "116.41")],
    )
    .await;
    assert_eq!(s, 400, "{body}");
    let (s, body) = post(&app, "json", &[("api_key", &key), ("service_code", "parking"), ("description", "x")]).await;
    assert_eq!(s, 400, "no place: {body}");
    let (s, _) = post(
        &app,
        "json",
        &[("api_key", &key), ("service_code", "parking"), ("description", "x"), ("lat", "95"), ("long", "116.41")],
    )
    .await;
    assert_eq!(s, 400, "latitude out of range");
    let (s, body) = post(
        &app,
        "xml",
        &[
            ("api_key", &key),
            ("service_code", "parking"),
            ("lat", "39.96"),
            ("long", "116.41"),
            ("media_url", "ftp://x"),
        ],
    )
    .await;
    assert_eq!(s, 400, "media_url must be a web address");
    assert!(body.contains("<errors><error><code>400</code><description>"), "{body}");
    // description is optional in GeoReport v2
    let (s, body) =
        post(&app, "xml", &[("api_key", &key), ("service_code", "parking"), ("lat", "39.96"), ("long", "116.41")])
            .await;
    assert_eq!(s, 201, "{body}");
    assert!(body.contains("<token>o311-"), "{body}");

    // a good one: filed into the workflow like any report
    let (s, body) = post(
        &app,
        "json",
        &[
            ("api_key", &key),
            ("service_code", "parking"),
            ("description", "车辆堵住 <消防> 通道 & 出口"),
            ("lat", "39.9606"),
            ("long", "116.4176"),
            ("email", "someone@example.com"),
            ("phone", "13812345678"),
            ("media_url", "https://img.example.cn/p/1.jpg"),
        ],
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let id: i64 = created[0]["service_request_id"].as_str().unwrap().parse().unwrap();
    let token = created[0]["token"].as_str().expect("POST answers a token").to_string();
    let sid = id.to_string();
    let i = incident::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!((i.source.as_str(), i.status.as_str()), ("open311", "reported"));
    assert!(
        !format!("{i:?}").contains("13812345678") && !format!("{i:?}").contains("someone@"),
        "contact details are not kept"
    );

    let (s, body) = get(&app, &format!("/open311/v2/requests/{id}.json?api_key={key}")).await;
    assert_eq!(s, 200);
    let r = &serde_json::from_str::<Value>(&body).unwrap()[0];
    assert_eq!((r["status"].as_str(), r["extended_status"].as_str()), (Some("open"), Some("OPEN")));
    assert_eq!(r["service_code"], "parking");
    assert_eq!(r["lat"], 39.9606);
    assert_eq!(r["media_url"], "https://img.example.cn/p/1.jpg", "kept apart from the description");
    assert_eq!(r["description"], "车辆堵住 <消防> 通道 & 出口");
    assert!(r["requested_datetime"].as_str().unwrap().ends_with("+08:00"));
    // without a key, or with another community's key: nothing
    let (s, _) = get(&app, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(s, 403);
    let other = key_for(&app, STAFF_B, "和谐社区", "城市 App").await;
    let (s, _) = get(&app, &format!("/open311/v2/requests/{id}.json?api_key={other}")).await;
    assert_eq!(s, 404);

    // the community works it through
    let staff = current(&app, STAFF_A).await;
    let worker = current(&app, WORKER_A).await;
    incidents::act(&app.state, &staff, id, Step::Accept { note: None }).await.unwrap();
    let due = Utc::now() + Duration::days(1);
    incidents::act(
        &app.state,
        &staff,
        id,
        Step::Dispatch { assignee: Some(worker.id), department: None, deadline: due, note: None },
    )
    .await
    .unwrap();
    incidents::act(&app.state, &worker, id, Step::Handle { note: "车辆已挪走".into(), draft: String::new() })
        .await
        .unwrap();
    incidents::act(&app.state, &staff, id, Step::SendBack { note: "仍有一辆".into() }).await.unwrap();
    incidents::act(&app.state, &worker, id, Step::Handle { note: "全部挪走".into(), draft: String::new() })
        .await
        .unwrap();
    incidents::act(&app.state, &staff, id, Step::Verify { note: None }).await.unwrap();
    incidents::act(&app.state, &staff, id, Step::Close { note: None }).await.unwrap();

    let (s, xml) = get(&app, &format!("/open311/v2/requests/{id}.xml?api_key={key}")).await;
    assert_eq!(s, 200);
    assert!(
        xml.contains("<status>closed</status>") && xml.contains("<extended_status>CLOSED</extended_status>"),
        "{xml}"
    );
    assert!(xml.contains("&lt;消防&gt; 通道 &amp; 出口"), "escaped: {xml}");
    let (_, closed) =
        get(&app, &format!("/open311/v2/requests.json?api_key={key}&status=closed&service_code=parking")).await;
    assert!(serde_json::from_str::<Value>(&closed)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["service_request_id"] == sid.as_str()));
    let (_, open) = get(&app, &format!("/open311/v2/requests.json?api_key={key}&status=open")).await;
    assert!(!serde_json::from_str::<Value>(&open)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["service_request_id"] == sid.as_str()));
    let (_, both) = get(&app, &format!("/open311/v2/requests.json?api_key={key}&service_request_id={id},999999")).await;
    assert_eq!(serde_json::from_str::<Value>(&both).unwrap().as_array().unwrap().len(), 1);
    let (s, _) = get(
        &app,
        &format!(
            "/open311/v2/requests.json?api_key={key}&start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"
        ),
    )
    .await;
    assert_eq!(s, 400, "more than 90 days");
    let (s, _) = get(&app, &format!("/open311/v2/requests.json?api_key={key}&status=maybe")).await;
    assert_eq!(s, 400);

    // updates: each step, as FixMyStreet statuses
    let (s, body) = get(&app, &format!("/open311/v2/servicerequestupdates.json?api_key={key}")).await;
    assert_eq!(s, 200);
    let updates: Vec<Value> = serde_json::from_str::<Value>(&body)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["service_request_id"] == sid.as_str())
        .cloned()
        .collect();
    let statuses: Vec<&str> = updates.iter().map(|u| u["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["FOR_TRIAGE", "ACTION_SCHEDULED", "FIXED", "REOPEN", "FIXED", "FIXED", "CLOSED"]);
    assert_eq!(updates[5]["external_status_code"], "verified");
    assert_eq!(updates[3]["description"], "仍有一辆");
    let (_, xml) = get(&app, &format!("/open311/v2/servicerequestupdates.xml?api_key={key}")).await;
    assert!(xml.contains("<service_request_updates><request_update>"));

    // the token POST answered names the request
    let (s, body) = get(&app, &format!("/open311/v2/tokens/{token}.json?api_key={key}")).await;
    assert_eq!(s, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()[0]["service_request_id"], id.to_string());

    // a revoked key is refused
    let staff_page = browser(&app).await;
    staff_page.password_login(STAFF_A).await;
    let (_, html) = staff_page.page("/staff/incidents").await;
    assert!(html.contains("市民热线 12345"));
    let key_id = backend::open311::keys(&app.state, &staff).await.unwrap()[0].id.to_string();
    let r = staff_page.form(path::<app::incidents::RevokeOpen311Key>(), "/staff/incidents", &[("id", &key_id)]).await;
    assert!(location(&r).contains("revoked=1"));
    let (s, _) = get(&app, &format!("/open311/v2/requests/{id}.json?api_key={key}")).await;
    assert_eq!(s, 403);
    // and staff of another community cannot make keys for this one
    let staff_b = current(&app, STAFF_B).await;
    let sunshine = app.org_id("阳光社区").await;
    assert!(backend::open311::create_key(&app.state, &staff_b, sunshine, "x").await.is_err());
}

#[tokio::test]
async fn a_key_reads_exactly_what_it_filed_and_others_only_roughly() {
    let app = spawn_app().await;
    let key = key_for(&app, STAFF_A, "阳光社区", "市民热线 12345").await;
    let other_key = key_for(&app, STAFF_A, "阳光社区", "城市 App").await;
    let (s, body) = post(
        &app,
        "json",
        &[
            ("api_key", &key),
            ("service_code", "parking"),
            ("description", "堵车"),
            ("lat", "39.960612"),
            ("long", "116.417634"),
            ("address_string", "3号楼2单元"),
        ],
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let mine = created[0]["service_request_id"].as_str().unwrap().to_string();
    let token = created[0]["token"].as_str().unwrap().to_string();
    // a resident's own report in the same community
    let resident = current(&app, RESIDENT_A).await;
    let community = app.org_id("阳光社区").await;
    let new = domain::incidents::NewIncident::parse(
        "sanitation",
        "楼道堆物",
        domain::incidents::Spot::parse("39.961234", "116.418765", "").unwrap(),
        "5号楼1单元302",
    )
    .unwrap();
    let theirs = incidents::report(&app.state, &resident, community, "resident-draft-1", new).await.unwrap();
    let read = |k: &str| {
        let path = format!("/open311/v2/requests.json?api_key={k}");
        let app = &app;
        async move { serde_json::from_str::<Value>(&get(app, &path).await.1).unwrap() }
    };
    let list = read(&key).await;
    let by_id = |id: &str| list.as_array().unwrap().iter().find(|r| r["service_request_id"] == id).cloned().unwrap();
    let own = by_id(&mine);
    assert_eq!((own["lat"].as_f64(), own["address"].as_str()), (Some(39.960612), Some("3号楼2单元")));
    let resident_report = by_id(&theirs.to_string());
    assert_eq!(resident_report["lat"].as_f64(), Some(39.961), "rounded to about 100 m");
    assert_eq!(resident_report["long"].as_f64(), Some(116.419));
    assert!(resident_report["address"].is_null(), "no door number for what the key did not file");
    // the other key sees this key's report roughly too, and cannot resolve its token
    let list = read(&other_key).await;
    let seen = list.as_array().unwrap().iter().find(|r| r["service_request_id"] == mine.as_str()).unwrap();
    assert_eq!(seen["lat"].as_f64(), Some(39.961));
    let (s, _) = get(&app, &format!("/open311/v2/tokens/{token}.json?api_key={other_key}")).await;
    assert_eq!(s, 404);
    // bad dates say what the filter takes; a service definition names its charset
    let (s, body) = get(&app, &format!("/open311/v2/requests.json?api_key={key}&start_date=yesterday")).await;
    assert_eq!(s, 400);
    assert!(body.contains("start_date") && body.contains("ISO 8601"), "{body}");
    let r = app.client.get(app.url("/open311/v2/services/parking.json")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/json; charset=utf-8");
}
