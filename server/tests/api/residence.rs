//! 住户认证 end to end through the plain forms, and its rules.

use crate::helpers::*;
use crate::pages::{location, path};
use app::residence::{DecideResidence, RequestResidence};

/// A dwelling of 阳光社区's 1号楼: (community id, building id, dwelling id).
pub async fn a_dwelling(app: &TestApp) -> (i64, i64, i64) {
    use backend::entities::{building, dwelling};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let community = app.org_id("阳光社区").await;
    let b = building::Entity::find()
        .filter(building::Column::CommunityId.eq(community))
        .filter(building::Column::Name.eq("1号楼"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let d = dwelling::Entity::find()
        .filter(dwelling::Column::BuildingId.eq(b.id))
        .order_by_desc(dwelling::Column::Id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    (community, b.id, d.id)
}

const NEWCOMER: &str = "13612340000";

pub async fn submit(app: &TestApp, c: i64, b: i64, d: i64, relation: &str, area: &str) -> reqwest::Response {
    submit_with_id(app, c, b, d, relation, area, "").await
}

/// The request form with an ID number (empty: none given).
pub async fn submit_with_id(
    app: &TestApp,
    c: i64,
    b: i64,
    d: i64,
    relation: &str,
    area: &str,
    id_number: &str,
) -> reqwest::Response {
    app.form(
        path::<RequestResidence>(),
        "/residence",
        &[
            ("community", &c.to_string()),
            ("building", &b.to_string()),
            ("dwelling_id", &d.to_string()),
            ("relation", relation),
            ("area", area),
            ("id_number", id_number),
        ],
    )
    .await
}

#[tokio::test]
async fn a_newcomer_asks_staff_approve_and_the_community_opens_up() {
    let app = spawn_app().await;
    app.browser_login(NEWCOMER).await;
    let (c, b, d) = a_dwelling(&app).await;

    // picking step by step with plain GET forms
    let (_, html) = app.page("/residence").await;
    assert!(html.contains("阳光社区") && html.contains("和谐社区"));
    let (_, html) = app.page(&format!("/residence?community={c}")).await;
    assert!(html.contains("1号楼"));
    let (_, html) = app.page(&format!("/residence?community={c}&building={b}")).await;
    assert!(html.contains("1单元 101") && html.contains("产权面积"));

    // an owner must give the area: refused, with every choice kept
    let r = submit(&app, c, b, d, "owner", "").await;
    let to = location(&r);
    assert!(to.contains("error=invalid_area"), "{to}");
    let (_, html) = app.page(&to).await;
    assert!(html.contains("面积格式不正确"));
    assert!(html.contains(&format!(r#"<option value="{d}" selected"#)), "dwelling kept");

    let r = submit(&app, c, b, d, "owner", "89.5").await;
    assert_eq!(location(&r), "/residence?submitted=1");
    let (_, html) = app.page("/residence").await;
    assert!(html.contains("待审核") && html.contains("89.50\u{a0}m²"));
    // the same request twice is refused by the database
    let r = submit(&app, c, b, d, "owner", "89.5").await;
    assert!(location(&r).contains("error=conflict"), "{}", location(&r));
    // nothing to read yet
    let (_, html) = app.page("/announcements").await;
    assert!(!html.contains("本周六上午社区义诊活动"));

    // staff of the other community do not see it and cannot decide it
    let staff_b = app.login_password(STAFF_B).await;
    let staff_a = app.login_password(STAFF_A).await;
    let pending_b = backend_pending(&app, &staff_b.access_token).await;
    assert!(pending_b.is_empty());
    let pending_a = backend_pending(&app, &staff_a.access_token).await;
    assert_eq!(pending_a.len(), 1);
    assert_eq!(pending_a[0].applicant_phone, "136****0000");
    let id = pending_a[0].id;
    let user_b = backend::auth::authenticate(&app.state, &staff_b.access_token).await.unwrap();
    let e = backend::residence::decide(&app.state, &user_b, id, true, "").await.unwrap_err();
    assert_eq!(e.code, domain::ErrorCode::NotFound);

    // staff A: rejecting needs a reason; approving works once
    let user_a = backend::auth::authenticate(&app.state, &staff_a.access_token).await.unwrap();
    let e = backend::residence::decide(&app.state, &user_a, id, false, "  ").await.unwrap_err();
    assert_eq!(e.code, domain::ErrorCode::ReasonRequired);
    let (first, second) = tokio::join!(
        backend::residence::decide(&app.state, &user_a, id, true, ""),
        backend::residence::decide(&app.state, &user_a, id, true, ""),
    );
    assert!(first.is_ok() != second.is_ok(), "exactly one decision wins");
    let loser = first.err().or(second.err()).unwrap();
    assert_eq!(loser.code, domain::ErrorCode::AlreadyDecided);

    // the newcomer is now a resident of 阳光社区
    let (_, html) = app.page("/residence").await;
    assert!(html.contains("已通过"));
    let (_, html) = app.page("/announcements").await;
    assert!(html.contains("本周六上午社区义诊活动"));
}

async fn backend_pending(app: &TestApp, token: &str) -> Vec<domain::residence::ResidenceView> {
    let u = backend::auth::authenticate(&app.state, token).await.unwrap();
    backend::residence::pending(&app.state, &u, None).await.unwrap()
}

#[tokio::test]
async fn staff_reject_with_a_reason_through_the_form_and_the_applicant_sees_it() {
    let app = spawn_app().await;
    app.browser_login(NEWCOMER).await;
    let (c, b, d) = a_dwelling(&app).await;
    assert_eq!(location(&submit(&app, c, b, d, "tenant", "").await), "/residence?submitted=1");

    let staff = crate::pages::browser(&app).await;
    staff.password_login(STAFF_A).await;
    let (_, html) = staff.page("/staff/residences").await;
    assert!(html.contains("136****0000") && html.contains("租户"));
    assert!(!html.contains(NEWCOMER), "full phone number shown to staff");
    let t = app.login_password(STAFF_A).await;
    let id = backend_pending(&app, &t.access_token).await[0].id.to_string();
    let r = staff
        .form(path::<DecideResidence>(), "/staff/residences", &[("id", &id), ("decision", "reject"), ("reason", "")])
        .await;
    assert!(location(&r).contains("error=reason_required"));
    let r = staff
        .form(
            path::<DecideResidence>(),
            "/staff/residences",
            &[("id", &id), ("decision", "reject"), ("reason", "租赁合同未上传")],
        )
        .await;
    assert_eq!(location(&r), "/staff/residences?done=reject");
    let (_, html) = app.page("/residence").await;
    assert!(html.contains("未通过") && html.contains("租赁合同未上传"));
}

#[tokio::test]
async fn residents_cannot_see_the_review_queue() {
    let app = spawn_app().await;
    app.browser_login(RESIDENT_A).await;
    let (_, html) = app.page("/staff/residences").await;
    assert!(html.contains("没有权限"));
}

#[tokio::test]
async fn an_id_number_is_checked_kept_encrypted_shown_masked_and_every_full_look_is_logged() {
    use backend::entities::{personal_data_view, residence};
    use sea_orm::EntityTrait;
    const ID: &str = "11010519491231002X";
    let app = spawn_app().await;
    app.browser_login(NEWCOMER).await;
    let (c, b, d) = a_dwelling(&app).await;
    let send = |id: &'static str| submit_with_id(&app, c, b, d, "tenant", "", id);
    // a wrong check character: refused in words, the number kept for the form but not in the address
    let r = send("110105194912310021").await;
    let to = location(&r);
    assert!(to.contains("error=invalid_id_number"), "{to}");
    assert!(!to.contains("1101051949"), "the ID number must not travel in a URL: {to}");
    let (_, html) = app.page(&to).await;
    assert!(html.contains("身份证号码不正确"));
    assert!(html.contains("value=\"110105194912310021\""), "what was typed is still in the form");

    assert_eq!(location(&send("110105 19491231 002x").await), "/residence?submitted=1");
    // at rest: only ciphertext
    let row = residence::Entity::find().all(&app.state.db).await.unwrap().into_iter().max_by_key(|r| r.id).unwrap();
    let sealed = row.id_number_enc.clone().expect("stored");
    assert!(sealed.starts_with("v1:") && !sealed.contains("19491231"), "{sealed}");
    // the applicant sees their own request, masked
    let (_, html) = app.page("/residence").await;
    assert!(!html.contains(ID));

    // staff: masked by default, nothing logged
    let staff = crate::pages::browser(&app).await;
    staff.password_login(STAFF_A).await;
    let (_, html) = staff.page("/staff/residences").await;
    assert!(html.contains("110***********002X") && html.contains("136****0000"), "masked");
    assert!(!html.contains(ID) && !html.contains(NEWCOMER));
    assert!(personal_data_view::Entity::find().all(&app.state.db).await.unwrap().is_empty());
    // asking to see them in full shows them and writes the log
    let (_, html) = staff.page(&format!("/staff/residences?show={}", row.id)).await;
    assert!(html.contains(ID) && html.contains(NEWCOMER), "shown in full on request");
    let log = personal_data_view::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].subject_id, log[0].fields.as_str()), (row.user_id, "phone,id_number"));
    assert_eq!(log[0].context, format!("residence:{}", row.id));
    let (_, html) = staff.page("/staff/personal-data").await;
    assert!(html.contains("身份证号") && html.contains(&format!("住户认证 #{}", row.id)), "the log page");
    assert!(!html.contains(ID) && !html.contains(NEWCOMER), "the log names people, not their numbers");

    // staff of the other community: the request is not theirs, nothing shown, nothing logged
    let other = crate::pages::browser(&app).await;
    other.password_login(STAFF_B).await;
    let (_, html) = other.page(&format!("/staff/residences?show={}", row.id)).await;
    assert!(!html.contains(ID) && !html.contains("110***********002X"));
    let (_, html) = other.page("/staff/personal-data").await;
    assert!(!html.contains(&format!("住户认证 #{}", row.id)), "another community's log is not theirs");
    assert_eq!(personal_data_view::Entity::find().all(&app.state.db).await.unwrap().len(), 1);
    // a resident cannot reach either page
    let (_, html) = app.page(&format!("/staff/residences?show={}", row.id)).await;
    assert!(!html.contains(ID));
    let (_, html) = app.page("/staff/personal-data").await;
    assert!(html.contains("没有权限"));

    // the ciphertext is bound to its row: copied onto another person's request it does not open
    let key = backend::crypto::DataKey::new(&app.state.config.data_key).unwrap();
    assert_eq!(key.open(&format!("residence-user:{}", row.user_id), &sealed).unwrap(), ID);
    assert!(key.open(&format!("residence-user:{}", row.user_id + 1), &sealed).is_err());
}
