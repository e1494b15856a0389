//! The access matrix: every server function (from the server-function
//! registry) and every REST operation (from the OpenAPI document) called as
//! anonymous, a resident, a grid worker, community staff and the street
//! admin of 阳光社区's street, and a resident and staff of the other
//! community (和谐社区), each answer compared with the committed expectation
//! below. A new endpoint without an expectation fails the test, so does an
//! expectation that no longer holds.
//!
//! Each call carries the same harmless arguments (every field "1"), enough
//! to get past argument parsing, so what is measured is the gate: who is
//! turned away before anything is done. A third table (`SCOPED`) calls the
//! endpoints that take an object with real objects of 阳光社区 (and some of
//! 和谐社区): there the two last columns show that the other community's
//! people do not reach them. Letters:
//!   p  passed the gate (any answer but the four below)
//!   L  not logged in (401 / `not_logged_in`)
//!   F  forbidden (403 / `forbidden`)
//!   N  not found (404 / `not_found`): outside the caller's reach
//!   B  the request itself refused (400) before the caller was looked at
//!      (REST: our empty `{}` body; schemathesis (script/fuzz-api) sends
//!      valid ones and checks every login-only operation refuses no login)
//!
//! Every JSON answer of a REST operation is what the OpenAPI document says
//! it answers with that status (`conforms`). No answer to anyone holds a
//! phone or ID number in full (masked:
//! 138****0001, 110***********002X).
//!
//! `MATRIX_PRINT=1` prints the table as it is now, to review a change.

use crate::helpers::*;
use std::collections::BTreeMap;

const CALLERS: [(&str, Option<(&str, bool)>); 7] = [
    ("anonymous", None),
    ("resident", Some((RESIDENT_A, false))),
    ("grid worker", Some((WORKER_A, false))),
    ("staff", Some((STAFF_A, true))),
    ("street admin", Some((ADMIN, true))),
    ("resident B", Some((RESIDENT_B, false))),
    ("staff B", Some((STAFF_B, true))),
];

/// Every argument name of every server function, each "1".
const ARGS: &[&str] = &[
    "a",
    "acc",
    "action",
    "active",
    "add",
    "amount",
    "answer_days",
    "area",
    "at",
    "attendance",
    "audience",
    "back",
    "basis",
    "bill_id",
    "body",
    "book_notice_hours",
    "booking_id",
    "building",
    "building_id",
    "cancel_notice_hours",
    "capacity",
    "check_in",
    "check_out",
    "checkpoint",
    "choices",
    "cid",
    "code",
    "comment",
    "community",
    "community_id",
    "cost",
    "d",
    "d1",
    "d2",
    "d3",
    "d4",
    "d5",
    "d6",
    "d7",
    "date",
    "day",
    "day_hours",
    "decision",
    "deemed_consent",
    "description",
    "designee",
    "device",
    "dir",
    "draft",
    "duration_minutes",
    "dwelling_id",
    "eligibility",
    "end",
    "ends_at",
    "entrance",
    "entry_id",
    "first",
    "form",
    "from",
    "geo_lat",
    "geo_lng",
    "geo_radius",
    "geojson",
    "grid",
    "grid_id",
    "guide",
    "hours",
    "id",
    "id_number",
    "idem",
    "item",
    "item_id",
    "keep",
    "kept",
    "key_no",
    "kind",
    "label",
    "lang",
    "large_text",
    "last",
    "lat",
    "leave",
    "live_results",
    "lng",
    "mark",
    "matter",
    "max_choices",
    "metric",
    "moving",
    "name",
    "new_key",
    "next",
    "no",
    "no_show_limit",
    "note",
    "offer_minutes",
    "office_phone",
    "official",
    "offset",
    "options",
    "ordered",
    "org_unit_id",
    "organiser_phone",
    "outline_draft",
    "page",
    "paper_id",
    "parent",
    "password",
    "patrol",
    "period",
    "phone",
    "phones",
    "pinned",
    "place",
    "points",
    "points_per_hour",
    "price",
    "property_name",
    "property_phone",
    "property_repairs",
    "publish_at",
    "qr",
    "quota_count",
    "quota_period",
    "radius",
    "reason",
    "relation",
    "report",
    "room",
    "route",
    "s",
    "secret",
    "show",
    "slot",
    "slot_minutes",
    "start",
    "starts_at",
    "status",
    "stock",
    "subject",
    "target",
    "ticket",
    "title",
    "to",
    "token",
    "unit_minutes",
    "until",
    "user_id",
    "value",
    "vote_id",
    "w",
    "what",
    "window_days",
    "worker",
    "year_hours",
];

fn classify(status: u16, body: &str, location: &str, rest: bool) -> char {
    let has = |code: &str| {
        body.contains(&format!("\"{code}\""))
            || body.contains(&format!("|{code}"))
            || body == code
            || location.contains(&format!("error={code}"))
    };
    if (300..400).contains(&status) && location.starts_with("/login") {
        'L'
    } else if body.starts_with("Args|") || body.starts_with("Deserialization|") {
        'B'
    } else if (200..300).contains(&status) {
        'p'
    } else if (rest && status == 401) || has("not_logged_in") || has("session_expired") {
        'L'
    } else if (rest && status == 403) || has("forbidden") {
        'F'
    } else if status == 404 || has("not_found") {
        'N'
    } else if status == 400 && (rest || body.is_empty() || (!has("invalid_input") && body.contains("rgs"))) {
        'B'
    } else {
        'p'
    }
}

async fn tokens(app: &TestApp) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for (_, who) in CALLERS {
        out.push(match who {
            None => None,
            Some((phone, true)) => Some(app.login_password(phone).await.access_token),
            Some((phone, false)) => Some(app.login_code(phone).await.access_token),
        });
    }
    out
}

/// Someone waiting for 阳光社区's staff with an ID number on their request,
/// so that the review queue has personal data to (not) show.
async fn pending_request_with_an_id_number(app: &TestApp) {
    let t = app.login_code("13612340001").await;
    let user = backend::auth::authenticate(&app.state, &t.access_token).await.unwrap();
    let (_, _, dwelling) = crate::residence::a_dwelling(app).await;
    let new =
        backend::residence::NewResidence::parse(&dwelling.to_string(), "tenant", "", "11010519491231002X").unwrap();
    backend::residence::request(&app.state, &user, new).await.unwrap();
}

/// (endpoint, row of letters) for every server function.
async fn server_fn_rows(app: &TestApp, tokens: &[Option<String>]) -> BTreeMap<String, (String, Vec<String>)> {
    let mut paths: Vec<(String, String)> =
        leptos::server_fn::actix::server_fn_paths().map(|(p, m)| (p.to_string(), m.to_string())).collect();
    paths.sort();
    // logging out ends the session the later calls use: last
    paths.sort_by_key(|(p, _)| p.contains("logout"));
    let body: String = ARGS.iter().map(|a| format!("{a}=1")).collect::<Vec<_>>().join("&");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut rows = BTreeMap::new();
    for (path, method) in paths {
        let mut row = String::new();
        let mut notes = Vec::new();
        for t in tokens {
            let mut req = if method == "GET" {
                client.get(format!("{}?{body}", app.url(&path)))
            } else {
                client
                    .post(app.url(&path))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone())
            };
            req = req.header("accept", "application/json");
            if let Some(t) = t {
                req = req.bearer_auth(t);
            }
            let (letter, note) = probe(app, req, &method, &path, false).await;
            row.push(letter);
            notes.push(note);
        }
        rows.insert(format!("{method} {path}"), (row, notes));
    }
    rows
}

/// Sends one call: its letter, a note for a failing comparison. Panics when
/// the answer holds a phone or ID number in full, unless the call itself
/// appended that look to the personal-data log (staff showing a request's
/// numbers, someone handling a report calling its reporter back): the only
/// way a number may be seen in full.
async fn probe(app: &TestApp, req: reqwest::RequestBuilder, method: &str, path: &str, rest: bool) -> (char, String) {
    use backend::entities::{personal_data_view, user};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let last_look = || async {
        personal_data_view::Entity::find()
            .order_by_desc(personal_data_view::Column::Id)
            .one(&app.state.db)
            .await
            .unwrap()
            .map(|v| v.id)
            .unwrap_or(0)
    };
    let before = last_look().await;
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let json = r.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|t| t.contains("json"));
    let text = r.text().await.unwrap_or_default();
    if rest && json {
        if let Err(e) = conforms(method, path, status, &text) {
            DEVIATIONS.lock().unwrap().push(e);
        }
    }
    // the looks this call wrote, with the phone of each person looked at
    let mut looks: Vec<(personal_data_view::Model, String)> = Vec::new();
    for v in personal_data_view::Entity::find()
        .filter(personal_data_view::Column::Id.gt(before))
        .all(&app.state.db)
        .await
        .unwrap()
    {
        let phone = user::Entity::find_by_id(v.subject_id).one(&app.state.db).await.unwrap().map(|u| u.phone);
        looks.push((v, phone.unwrap_or_default()));
    }
    let logged = |field: &str, phone: Option<&str>| {
        looks.iter().any(|(v, p)| v.fields.split(',').any(|f| f == field) && phone.is_none_or(|phone| phone == p))
    };
    if let Some(phone) = full_phone(&text) {
        if !path.contains("dev_codes") && !logged("phone", Some(&phone)) {
            panic!("{method} {path} shows the phone number {phone} in full, unlogged: {text:.200}");
        }
    }
    if let Some(id) = full_id_number(&text) {
        if !logged("id_number", None) {
            panic!("{method} {path} shows the ID number {id} in full, unlogged: {text:.200}");
        }
    }
    (
        classify(status, &text, &location, rest),
        format!("{status} {location} {}", text.chars().take(60).collect::<String>()),
    )
}

/// Whether a JSON answer of a REST operation is what the OpenAPI
/// document says it answers with that status (schemathesis checks the same
/// with made-up objects; here they are real ones). `path` may be the
/// template itself or a concrete path.
pub fn conforms(method: &str, path: &str, status: u16, text: &str) -> Result<(), String> {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    let doc = DOC.get_or_init(|| serde_json::to_value(server::openapi::document()).unwrap());
    let concrete = path.split('?').next().unwrap_or(path);
    let fits = |template: &str| {
        let (t, c): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), concrete.split('/').collect());
        t.len() == c.len()
            && t.iter().zip(&c).all(|(t, c)| match (t.split_once('{'), t.rsplit_once('}')) {
                (Some((pre, _)), Some((_, post))) => {
                    c.len() > pre.len() + post.len() && c.starts_with(pre) && c.ends_with(post)
                }
                _ => t == c,
            })
    };
    let Some((template, item)) = doc["paths"].as_object().unwrap().iter().find(|(t, _)| fits(t)) else {
        return Err(format!("{method} {path}: not in the document"));
    };
    let responses = &item[method.to_lowercase()]["responses"];
    let Some(answer) = responses.get(status.to_string()).or_else(|| responses.get(format!("{}XX", status / 100)))
    else {
        return Err(format!("{method} {template}: status {status} is not documented: {text:.200}"));
    };
    let Some(schema) = answer["content"]
        .as_object()
        .and_then(|c| c.iter().find(|(t, _)| t.contains("json")))
        .map(|(_, m)| &m["schema"])
    else {
        return Err(format!(
            "{method} {template}: {status} is documented without a JSON body, but answered one: {text:.200}"
        ));
    };
    let root = serde_json::json!({ "components": doc["components"], "allOf": [schema] });
    let validator = jsonschema::draft202012::new(&root).map_err(|e| format!("{method} {template}: {e}"))?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{method} {path}: not JSON ({e}): {text:.200}"))?;
    let errors: Vec<String> =
        validator.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{method} {path} answered {status} not as documented: {} in {text:.300}", errors.join("; ")))
    }
}

#[test]
fn answers_are_checked_against_the_document() {
    let me = r#"{"id":1,"name":"居民 王芳","phone":"138****0001","roles":[],"lang":"zh"}"#;
    assert!(conforms("GET", "/api/v1/me", 200, "{}").is_err(), "required fields missing");
    assert!(conforms("GET", "/api/v1/me", 200, &me.replace("\"id\":1", "\"id\":\"1\"")).is_err(), "a wrong type");
    let err = r#"{"error":"not_found","message":"内容不存在或已删除"}"#;
    assert_eq!(conforms("GET", "/api/v1/votes/7", 404, err), Ok(()));
    assert!(conforms("GET", "/api/v1/votes/7", 404, r#"{"error":"no_such_code","message":""}"#).is_err());
    assert!(conforms("GET", "/api/v1/votes/7", 200, r#"{"vote":{}}"#).is_err(), "through a $ref");
    assert!(conforms("GET", "/api/v1/nowhere", 200, "{}").is_err());
}

/// What `conforms` found wrong in this test's answers.
static DEVIATIONS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn no_deviations() {
    let mut d = DEVIATIONS.lock().unwrap().clone();
    d.sort();
    d.dedup();
    assert!(d.is_empty(), "answers not as the OpenAPI document says:\n{}", d.join("\n"));
}

/// A mainland mobile number written out in full (11 digits, 1[3-9]…, not
/// inside a longer run of digits): personal data no answer here may hold,
/// to anyone (the development code page aside, which exists only without
/// an SMS gateway).
fn full_phone(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(10)).find_map(|i| {
        let run = &b[i..i + 11];
        // a run inside a longer word of letters and digits (a random hex id) is no phone
        let before = i.checked_sub(1).map(|j| b[j].is_ascii_alphanumeric()).unwrap_or(false);
        let after = b.get(i + 11).is_some_and(u8::is_ascii_alphanumeric);
        (!before && !after && run[0] == b'1' && (b'3'..=b'9').contains(&run[1]) && run.iter().all(u8::is_ascii_digit))
            .then(|| String::from_utf8_lossy(run).into_owned())
    })
}

/// A citizen ID number written out in full (a valid one: 18 characters with
/// the right check character, not inside a longer run of digits).
fn full_id_number(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(17)).find_map(|i| {
        let before = i.checked_sub(1).map(|j| b[j].is_ascii_alphanumeric()).unwrap_or(false);
        let after = b.get(i + 18).is_some_and(u8::is_ascii_alphanumeric);
        let run = std::str::from_utf8(&b[i..i + 18]).ok()?;
        (!before && !after).then(|| domain::IdNumber::parse(run).ok()).flatten().map(|n| n.as_str().to_string())
    })
}

#[test]
fn full_phone_numbers_are_recognised() {
    assert_eq!(full_id_number(r#"{"id":"11010519491231002X"}"#).as_deref(), Some("11010519491231002X"));
    assert_eq!(full_id_number(r#"{"id":"110***********002X"}"#), None);
    assert_eq!(full_id_number("110105194912310021"), None, "a wrong check character: not an ID number");
    assert_eq!(full_phone(r#"{"phone":"13800000001"}"#).as_deref(), Some("13800000001"));
    assert_eq!(full_phone(r#"{"phone":"138****0001"}"#), None);
    assert_eq!(full_phone("1700000000123"), None, "part of a longer number (a timestamp)");
    assert_eq!(full_phone("12800000001"), None);
    assert_eq!(full_phone("inc-a15184015862c0de"), None, "inside a random hex id");
}

/// The server function's name from its path (`/api/list_announcements123…`).
fn fn_name(endpoint: &str) -> String {
    endpoint.rsplit('/').next().unwrap_or_default().trim_end_matches(|c: char| c.is_ascii_digit()).to_string()
}

#[tokio::test]
async fn every_server_function_turns_away_who_it_should() {
    let app = spawn_app().await;
    pending_request_with_an_id_number(&app).await;
    let tokens = tokens(&app).await;
    let rows = server_fn_rows(&app, &tokens).await;
    if std::env::var("MATRIX_PRINT").is_ok() {
        for (k, (row, _)) in &rows {
            println!("{row} {}", fn_name(k));
        }
    }
    compare(&rows, SERVER_FNS, fn_name);
    assert!(rows.len() > 100, "{} server functions", rows.len());
}

/// Compares what was measured with a committed table (`LETTERS key` lines).
fn compare(rows: &BTreeMap<String, (String, Vec<String>)>, table: &str, key: impl Fn(&str) -> String) {
    let expected: BTreeMap<&str, &str> = table
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (row, name) = l.split_once(' ').unwrap();
            (name.trim(), row)
        })
        .collect();
    let mut wrong = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (endpoint, (row, notes)) in rows {
        let name = key(endpoint);
        seen.insert(name.clone());
        match expected.get(name.as_str()) {
            None => wrong.push(format!("{name}: no expectation (now {row})")),
            Some(want) if want != row => {
                let detail: Vec<String> = CALLERS
                    .iter()
                    .zip(want.chars().zip(row.chars()))
                    .zip(notes)
                    .filter(|((_, (w, g)), _)| w != g)
                    .map(|((c, (w, g)), n)| format!("{} expected {w} got {g} ({n})", c.0))
                    .collect();
                wrong.push(format!("{name}: expected {want}, got {row}: {}", detail.join("; ")))
            }
            Some(_) => {}
        }
    }
    for name in expected.keys() {
        if !seen.contains(*name) {
            wrong.push(format!("{name}: expected, but not there"));
        }
    }
    assert!(wrong.is_empty(), "access matrix (callers: {:?}):\n{}", CALLERS.map(|c| c.0), wrong.join("\n"));
}

/// One line per server function: the letter for each caller, in the order
/// of `CALLERS` (anonymous, resident, grid worker, staff, street admin,
/// resident B, staff B), then its name.
const SERVER_FNS: &str = "
LFFppFp add_checkpoint
LFFppFp add_closure
LFpFFFF add_device
LFFFFFF add_fee
LFFppFp add_honour_hours
LFFFFFF add_mall_item
LFFppFp add_plan
LFFppFp add_service_hours
Lpppppp appointment_items
LFFFFFF approve_organiser
LFFppFp award_points
LFFppFp bill_import_page
LNNNNNN book_slot
LNNNNNN booking_page
LFFppFF cancel_activity
LNNNNNN cancel_order
LNNNNNN cancel_redemption
NNNNNNN certificate_view
Lpppppp change_booking
LFFppFp change_slots
LFFppFp check_code
LFpFFFF check_in_form
NNNNNNN check_receipt
NNNNNNN check_vote_receipt
LFFppFF close_topic
LFFppNN confirm_all_attendances
LFFppNN confirm_attendance
LNNNNNN continue_payment
LFFppNN correct_attendance
LFFFFFF create_open311_key
LFFFFFF create_route
LFFNNFN create_topic
LFFppFp create_vote
LNNNNNN decide_paper_ballot
LNNppNN decide_residence
LppppNN designate_voter
LFFppFp desk_mark
LFFppFp desk_queue
ppppppp dev_codes
LFFppFF end_plan
LFFppFF enter_paper_ballot
LFFppFp generate_property_fees
Lpppppp get_announcement
Lpppppp get_inbox
Lpppppp get_prefs
LFFppFp get_publish_form
ppppppp get_session
Lpppppp home_data
LFFppFF import_checkpoints
LFFppFp import_page
LppppNN incident_page_data
LpNNNNN issue_certificate
LNNNNNN item_page
LFFppFF link_topic_vote
Lpppppp list_announcements
LFFppFp list_scheduled
LFFppFp load_figures
LppppNN load_topic
ppppppp login_with_code
ppppppp login_with_password
ppppppp logout
Lpppppp mark_all_read
LNNNNNN moderate_comment
Lpppppp my_bills
Lpppppp my_bookings
Lpppppp my_points
LFFppFp open311_keys
LNNNNNN order_page
LFFppNN organise_data
Lpppppp organiser_check
LFpFFFF patrol_action
LNpppNN patrol_detail
LFFppFp pending_residences
LFFppFp personal_data_log
LNNNNNN pickup_redemption
LppppNN post_comment
LNNNNNN propose_topic
Lpppppp publish_activity
LFFppFp publish_announcement
ppppppp push_key
LNNNNNN qr_checkpoint
LppppNN read_topic
LFFppFF record_topic_meeting
LppppNN redeem_item
LNNNNNN refund_bill
LFFpNNN remove_checkpoint
LFpFFFF remove_device
LNNNNNN report_comment
Lpppppp report_page_data
ppppppp request_code
Lpppppp request_residence
Lpppppp residence_form
LFFppFF restock_item
LFFppFF reverse_points
LFFppFF review_topic
LNNNNNN revoke_open311_key
LFFFFFF revoke_organiser
LNNppNN route_sheet
LFFppFp run_reconcile
LFFppFp save_service_item
LNNNNNN set_community_contacts
Lpppppp set_my_name
LFFFFFF set_outline
ppppppp set_preferences
LFFppFp staff_appointments
LFFppFp staff_bills
LFFppFp staff_contacts
LFFppFp staff_incidents
LNNppNN staff_item_page
LFFppFp staff_patrol
LFFppFp staff_patrols
LFFppFp staff_points
LFFppFp staff_topics
LFFppFp staff_volunteer
LFFppFF staff_vote
LFFppFp staff_votes
LFpFFFF start_patrol
Lpppppp topics_home
LNNNNNN volunteer_check
Lpppppp volunteer_home
LNNNNNN volunteer_scan
LppppNN volunteer_sign_up
LNNNNNN volunteer_withdraw
LFFppFp vote_action
LppppNN vote_page
Lpppppp votes_list
Lpppppp waitlist_slot
LFpFFFF worker_patrol
";

/// (METHOD path, row of letters) for every REST operation of the OpenAPI
/// document, path parameters filled with 1, bodies empty JSON objects.
async fn rest_rows(app: &TestApp, tokens: &[Option<String>]) -> BTreeMap<String, (String, Vec<String>)> {
    let doc = serde_json::to_value(server::openapi::document()).unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.push((method.to_uppercase(), path.clone()));
        }
    }
    ops.sort();
    // logging out and refreshing spend the caller's session: last
    ops.sort_by_key(|(_, p)| p.contains("logout") || p.contains("refresh"));
    let mut rows = BTreeMap::new();
    for (method, path) in ops {
        // a stream never ends: only its gate is looked at, below
        if path.ends_with("/events") {
            continue;
        }
        let concrete: String =
            path.split('/').map(|seg| if seg.starts_with('{') { "1" } else { seg }).collect::<Vec<_>>().join("/");
        let mut row = String::new();
        let mut notes = Vec::new();
        for t in tokens {
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let mut req = client.request(m.clone(), app.url(&concrete)).header("accept", "application/json");
            if m != reqwest::Method::GET && m != reqwest::Method::DELETE {
                req = req.header("content-type", "application/json").body("{}");
            }
            if let Some(t) = t {
                req = req.bearer_auth(t);
            }
            let (letter, note) = probe(app, req, &method, &path, true).await;
            row.push(letter);
            notes.push(note);
        }
        rows.insert(format!("{method} {path}"), (row, notes));
    }
    rows
}

#[tokio::test]
async fn every_rest_operation_turns_away_who_it_should() {
    let app = spawn_app().await;
    let tokens = tokens(&app).await;
    let rows = rest_rows(&app, &tokens).await;
    if std::env::var("MATRIX_PRINT").is_ok() {
        for (k, (row, _)) in &rows {
            println!("{row} {k}");
        }
    }
    compare(&rows, REST, |k| k.to_string());
    assert!(rows.len() > 50, "{} operations", rows.len());
    no_deviations();
}

/// One line per REST operation, as `SERVER_FNS`. The live-event stream is
/// left out (it never ends); the security tests cover its login.
const REST: &str = "
BBBBBBB DELETE /api/v1/push/subscriptions
ppppppp GET /api/openapi.json
Lpppppp GET /api/v1/announcements
Lpppppp GET /api/v1/announcements/{id}
Lpppppp GET /api/v1/appointments/bookings
LNNNNNN GET /api/v1/appointments/bookings/{id}
Lpppppp GET /api/v1/appointments/items
LppppNN GET /api/v1/appointments/items/{id}/slots
Lpppppp GET /api/v1/inbox
BBBBBBB GET /api/v1/incidents/nearby
Lpppppp GET /api/v1/me
BBBBBBB GET /api/v1/osmand
NNNNNNN GET /api/v1/patrols/{id}.geojson
NNNNNNN GET /api/v1/patrols/{id}.gpx
Lpppppp GET /api/v1/payments/orders
LNNNNNN GET /api/v1/payments/orders/{no}
NNNNNNN GET /api/v1/payments/receipts/{code}
ppppppp GET /api/v1/push/key
Lpppppp GET /api/v1/volunteer/activities
LppppNN GET /api/v1/volunteer/activities/{id}
LFFppNN GET /api/v1/volunteer/activities/{id}/code
NNNNNNN GET /api/v1/volunteer/certificates/{code}
Lpppppp GET /api/v1/volunteer/me
Lpppppp GET /api/v1/votes
NNNNNNN GET /api/v1/votes/receipts/{code}
LppppNN GET /api/v1/votes/{id}
LppppNN GET /api/v1/votes/{id}/chain
LNNNNNN GET /appointments/bookings/{id}/calendar.ics
NNNNNNN GET /auth/wechat
NNNNNNN GET /auth/wechat/callback
ppppppp GET /healthz
LNNNNNN GET /inbox/{id}/open
LNNNNNN GET /incidents/photos/{id}/{size}
NNNNNNN GET /open311/v2/requests.{fmt}
NNNNNNN GET /open311/v2/requests/{id}.{fmt}
NNNNNNN GET /open311/v2/servicerequestupdates.{fmt}
NNNNNNN GET /open311/v2/services.{fmt}
NNNNNNN GET /open311/v2/services/{code}.{fmt}
NNNNNNN GET /open311/v2/tokens/{token}.{fmt}
BBBBBBB GET /osmand
NNNNNNN GET /pay/sandbox/{no}
BBBBBBB GET /pay/wechat/{no}
ppppppp GET /ping
LFFppFp GET /staff/bills/orders.csv
LFFppFp GET /staff/figures.csv
LFFppFp GET /staff/figures.xlsx
BBBBBBB POST /api/v1/announcements
BBBBBBB POST /api/v1/appointments/bookings
LNNNNNN POST /api/v1/appointments/bookings/{id}/cancel
BBBBBBB POST /api/v1/auth/code
BBBBBBB POST /api/v1/auth/login
Lpppppp POST /api/v1/auth/logout
BBBBBBB POST /api/v1/auth/password
BBBBBBB POST /api/v1/auth/refresh
Lpppppp POST /api/v1/inbox/read-all
LNNNNNN POST /api/v1/inbox/{id}/read
BBBBBBB POST /api/v1/osmand
LBBBBBB POST /api/v1/patrol/batch
NNNNNNN POST /api/v1/payments/notify/{provider}
BBBBBBB POST /api/v1/payments/orders
LNNNNNN POST /api/v1/payments/orders/{no}/cancel
LNNNNNN POST /api/v1/payments/orders/{no}/pay
BBBBBBB POST /api/v1/push/subscriptions
Lpppppp POST /api/v1/push/test
LppppNN POST /api/v1/volunteer/activities/{id}/signup
LppppNN POST /api/v1/volunteer/activities/{id}/withdraw
BBBBBBB POST /api/v1/volunteer/check
BBBBBBB POST /api/v1/votes/{id}/ballots
Lpppppp POST /bills/pay
BBBBBBB POST /inbox/settings
Lpppppp POST /incidents/report
Lpppppp POST /incidents/{id}/step
BBBBBBB POST /open311/v2/requests.{fmt}
BBBBBBB POST /osmand
ppppppp POST /pay/sandbox/{no}
LFFppFp POST /staff/bills/import
LFFppFp POST /staff/import
LppppNN POST /votes/{id}/ballot
";

/// One call on a real object of one community.
enum Call {
    /// method, concrete path (with query), JSON body
    Rest(&'static str, String, Option<serde_json::Value>),
    /// server function name, its arguments
    Fn(&'static str, Vec<(&'static str, String)>),
}

/// Real objects of 阳光社区 (A), and a few of 和谐社区 (B), each looked up
/// or made the way a resident would: what the scope columns are about
/// (the all-"1" matrices above show the gates; here the objects exist).
async fn scoped_calls(app: &TestApp) -> Vec<(&'static str, Call)> {
    use backend::entities::{
        announcement, incident, patrol, patrol_route, service_item, topic, volunteer_activity, vote,
    };
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let db = &app.state.db;
    let (a, b) = (app.org_id("阳光社区").await, app.org_id("和谐社区").await);
    let announcement_of = |org: i64| async move {
        announcement::Entity::find().filter(announcement::Column::OrgUnitId.eq(org)).one(db).await.unwrap().unwrap().id
    };
    // an item for the community's own people (verified residents, households)
    let item_of = |org: i64| async move {
        service_item::Entity::find()
            .filter(service_item::Column::OrgUnitId.eq(org))
            .filter(service_item::Column::Audience.ne("anyone"))
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let (ann_a, ann_b, item_a, item_b) =
        (announcement_of(a).await, announcement_of(b).await, item_of(a).await, item_of(b).await);
    // an item open to anyone (a service hall serves whoever comes): everyone sees it
    let anyone_a = service_item::Entity::find()
        .filter(service_item::Column::OrgUnitId.eq(a))
        .filter(service_item::Column::Audience.eq("anyone"))
        .one(db)
        .await
        .unwrap()
        .expect("the demo item of 阳光社区 open to anyone")
        .id;
    let vote_a = vote::Entity::find()
        .filter(vote::Column::CommunityId.eq(a))
        .filter(vote::Column::BuildingId.is_null())
        .one(db)
        .await
        .unwrap()
        .expect("the demo poll of 阳光社区")
        .id;
    let topic_a = topic::Entity::find().filter(topic::Column::CommunityId.eq(a)).one(db).await.unwrap().unwrap().id;
    let activity_a = volunteer_activity::Entity::find()
        .filter(volunteer_activity::Column::CommunityId.eq(a))
        .filter(volunteer_activity::Column::EndsAt.gt(chrono::Utc::now()))
        .order_by_asc(volunteer_activity::Column::StartsAt)
        .one(db)
        .await
        .unwrap()
        .expect("an activity of 阳光社区 not over")
        .id;
    let incident_a =
        incident::Entity::find().filter(incident::Column::CommunityId.eq(a)).one(db).await.unwrap().unwrap();
    let patrol_a = patrol::Entity::find().one(db).await.unwrap().expect("the demo patrol of 阳光社区第一网格").id;
    let route_a = patrol_route::Entity::find().one(db).await.unwrap().unwrap().id;
    // resident A's booking and order, made as they would make them
    let resident_a = crate::appointments::current(app, RESIDENT_A).await;
    let slot = crate::appointments::a_slot(app, item_a, chrono::Duration::days(3), 5).await;
    let booking_a = backend::appointments::book(&app.state, &resident_a, slot).await.unwrap();
    let bills: Vec<i64> = backend::bills::mine(&app.state, &resident_a)
        .await
        .unwrap()
        .iter()
        .filter(|b| b.status == domain::bills::BillStatus::Unpaid)
        .map(|b| b.id)
        .collect();
    let order_a = backend::payments::create_order(&app.state, &resident_a, &bills, None).await.unwrap().out_trade_no;
    let (lat, lng) = (incident_a.lat.unwrap_or(31.23), incident_a.lng.unwrap_or(121.47));
    let get = |p: String| Call::Rest("GET", p, None);
    let id = |v: i64| vec![("id", v.to_string())];
    vec![
        ("GET announcement of A", get(format!("/api/v1/announcements/{ann_a}"))),
        ("GET announcement of B", get(format!("/api/v1/announcements/{ann_b}"))),
        ("GET slots of an item of A", get(format!("/api/v1/appointments/items/{item_a}/slots"))),
        ("GET slots of an item of B", get(format!("/api/v1/appointments/items/{item_b}/slots"))),
        ("GET slots of an item of A open to anyone", get(format!("/api/v1/appointments/items/{anyone_a}/slots"))),
        ("GET resident A's booking", get(format!("/api/v1/appointments/bookings/{booking_a}"))),
        ("GET resident A's order", get(format!("/api/v1/payments/orders/{order_a}"))),
        ("GET activity of A", get(format!("/api/v1/volunteer/activities/{activity_a}"))),
        ("GET check-in code of an activity of A", get(format!("/api/v1/volunteer/activities/{activity_a}/code"))),
        ("GET vote of A", get(format!("/api/v1/votes/{vote_a}"))),
        ("GET ballot chain of a vote of A", get(format!("/api/v1/votes/{vote_a}/chain"))),
        ("GET GPX of a patrol of A", get(format!("/api/v1/patrols/{patrol_a}.gpx"))),
        ("GET GeoJSON of a patrol of A", get(format!("/api/v1/patrols/{patrol_a}.geojson"))),
        (
            "GET incidents near one of A",
            get(format!(
                "/api/v1/incidents/nearby?community_id={a}&category={}&lat={lat}&lng={lng}",
                incident_a.category
            )),
        ),
        (
            "POST a ballot in a poll of A",
            Call::Rest("POST", format!("/api/v1/votes/{vote_a}/ballots"), Some(serde_json::json!({"choices": [1]}))),
        ),
        (
            "POST signup for an activity of A",
            Call::Rest("POST", format!("/api/v1/volunteer/activities/{activity_a}/signup"), None),
        ),
        ("get_announcement of A", Call::Fn("get_announcement", id(ann_a))),
        ("get_announcement of B", Call::Fn("get_announcement", id(ann_b))),
        ("item_page of an item of A", Call::Fn("item_page", id(item_a))),
        ("item_page of an item of B", Call::Fn("item_page", id(item_b))),
        ("item_page of an item of A open to anyone", Call::Fn("item_page", id(anyone_a))),
        ("staff_item_page of an item of A", Call::Fn("staff_item_page", id(item_a))),
        ("booking_page of resident A's booking", Call::Fn("booking_page", id(booking_a))),
        ("order_page of resident A's order", Call::Fn("order_page", vec![("no", order_a.clone())])),
        ("vote_page of a vote of A", Call::Fn("vote_page", id(vote_a))),
        ("staff_vote of a vote of A", Call::Fn("staff_vote", id(vote_a))),
        ("load_topic of A", Call::Fn("load_topic", id(topic_a))),
        (
            "post_comment on a topic of A",
            Call::Fn("post_comment", vec![("id", topic_a.to_string()), ("body", "同意,建议周末施工。".into())]),
        ),
        (
            "organise_data of an activity of A",
            Call::Fn("organise_data", vec![("id", activity_a.to_string()), ("dir", "in".into())]),
        ),
        ("incident_page_data of A", Call::Fn("incident_page_data", id(incident_a.id))),
        (
            "incident_page_data of A with its reporter's phone",
            Call::Fn("incident_page_data", vec![("id", incident_a.id.to_string()), ("contact", "1".into())]),
        ),
        ("patrol_detail of a patrol of A", Call::Fn("patrol_detail", id(patrol_a))),
        ("route_sheet of a route of A", Call::Fn("route_sheet", id(route_a))),
    ]
}

#[tokio::test]
async fn the_objects_of_one_community_are_out_of_the_others_reach() {
    let app = spawn_app().await;
    let calls = scoped_calls(&app).await;
    let tokens = tokens(&app).await;
    let fns: BTreeMap<String, String> =
        leptos::server_fn::actix::server_fn_paths().map(|(p, _)| (fn_name(p), p.to_string())).collect();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut rows = BTreeMap::new();
    for (label, call) in &calls {
        let mut row = String::new();
        let mut notes = Vec::new();
        for t in &tokens {
            let (mut req, method, path, rest) = match call {
                Call::Rest(method, path, body) => {
                    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
                    let mut req = client.request(m, app.url(path));
                    if let Some(b) = body {
                        req = req.json(b);
                    }
                    (req, method.to_string(), path.clone(), true)
                }
                Call::Fn(name, args) => {
                    let path = fns.get(*name).unwrap_or_else(|| panic!("no server function {name}"));
                    let form = backend::url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(args.iter().map(|(k, v)| (*k, v.as_str())))
                        .finish();
                    let req = client
                        .post(app.url(path))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(form);
                    (req, "POST".to_string(), path.clone(), false)
                }
            };
            req = req.header("accept", "application/json");
            if let Some(t) = t {
                req = req.bearer_auth(t);
            }
            let (letter, note) = probe(&app, req, &method, &path, rest).await;
            row.push(letter);
            notes.push(note);
        }
        rows.insert(label.to_string(), (row, notes));
    }
    if std::env::var("MATRIX_PRINT").is_ok() {
        for (k, (row, _)) in &rows {
            println!("{row} {k}");
        }
    }
    compare(&rows, SCOPED, |k| k.to_string());
    no_deviations();
}

/// One line per call of `scoped_calls`, as `SERVER_FNS`: A's people
/// (resident, grid worker, staff) and the street admin reach A's objects as
/// their role allows; B's resident and staff never do (N: as if it did not
/// exist, F: refused), and the other way round for B's.
const SCOPED: &str = "
LNpppNN GET GPX of a patrol of A
LNpppNN GET GeoJSON of a patrol of A
LppppNN GET activity of A
LppppNN GET announcement of A
LNNNppp GET announcement of B
LppppNN GET ballot chain of a vote of A
LFFppNN GET check-in code of an activity of A
LppppFF GET incidents near one of A
LpNppNN GET resident A's booking
LpNppNN GET resident A's order
LppppNN GET slots of an item of A
Lpppppp GET slots of an item of A open to anyone
LNNNppp GET slots of an item of B
LppppNN GET vote of A
LpFFFNN POST a ballot in a poll of A
LppppNN POST signup for an activity of A
LpNppNN booking_page of resident A's booking
LppppNN get_announcement of A
LNNNppp get_announcement of B
LppppNN incident_page_data of A
LppppNN incident_page_data of A with its reporter's phone
LppppNN item_page of an item of A
Lpppppp item_page of an item of A open to anyone
LNNNppp item_page of an item of B
LpNppNN load_topic of A
LpNppNN order_page of resident A's order
LFFppNN organise_data of an activity of A
LNpppNN patrol_detail of a patrol of A
LpNppNN post_comment on a topic of A
LNNppNN route_sheet of a route of A
LNNppNN staff_item_page of an item of A
LFFppFF staff_vote of a vote of A
LppppNN vote_page of a vote of A
";
