//! 缴费 (first part): property fees from area × price × months, generated
//! once per period; what residents owe; arrears for staff.

use crate::appointments::current;
use crate::helpers::*;
use crate::pages::{browser, location, path};
use backend::entities::{bill, dwelling, residence};
use domain::{bill::Period, money::Fen};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

#[tokio::test]
async fn property_fees_are_generated_once_per_period_and_exact() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let community = app.org_id("阳光社区").await;
    let period = Period::parse("2026").unwrap();
    let price = Fen::parse_positive_yuan("1.85").unwrap();
    let g = backend::bills::generate_property_fees(&app.state, &staff, community, &period, price).await.unwrap();
    assert_eq!((g.created, g.existing, g.without_area), (48, 0, 0));
    let again = backend::bills::generate_property_fees(&app.state, &staff, community, &period, price).await.unwrap();
    assert_eq!((again.created, again.existing), (0, 48), "never billed twice");
    let this = bill::Entity::find().filter(bill::Column::Period.eq("2026"));
    assert_eq!(this.clone().count(&app.state.db).await.unwrap(), 48);
    // the sum is the sum of the integer per-household amounts
    let rows = this.all(&app.state.db).await.unwrap();
    assert_eq!(rows.iter().map(|b| b.amount_fen).sum::<i64>(), g.total.0);

    // resident A's home: area × 185 fen × 12, rounded half up once
    let a = current(&app, RESIDENT_A).await;
    let home =
        residence::Entity::find().filter(residence::Column::UserId.eq(a.id)).one(&app.state.db).await.unwrap().unwrap();
    let d = dwelling::Entity::find_by_id(home.dwelling_id).one(&app.state.db).await.unwrap().unwrap();
    let want = domain::money::property_fee(d.area_centi_m2.unwrap(), 185, 12);
    let mine: Vec<_> =
        backend::bills::mine(&app.state, &a).await.unwrap().into_iter().filter(|b| b.period == "2026").collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].amount, want);
    assert!(mine[0].basis.contains("× 12 个月"), "{}", mine[0].basis);
    // resident B (the other community) has none of these
    let b = current(&app, RESIDENT_B).await;
    assert!(backend::bills::mine(&app.state, &b).await.unwrap().iter().all(|x| x.period != "2026"));
    // staff of the other community cannot bill this one
    let other = current(&app, STAFF_B).await;
    let e = backend::bills::generate_property_fees(&app.state, &other, community, &period, price).await.unwrap_err();
    assert_eq!(e.code, domain::ErrorCode::Forbidden);
    // arrears: every building of 阳光社区 owes this year's and the demo half-year's fees
    let rows = backend::bills::arrears(&app.state, &staff).await.unwrap();
    assert_eq!(rows.len(), 4);
    let all_unpaid: i64 = bill::Entity::find()
        .filter(bill::Column::OrgUnitId.eq(community))
        .all(&app.state.db)
        .await
        .unwrap()
        .iter()
        .map(|b| b.amount_fen)
        .sum();
    assert_eq!(rows.iter().map(|r| r.owed.0).sum::<i64>(), all_unpaid);
    assert!(rows.iter().all(|r| r.community == "阳光社区"));
}

#[tokio::test]
async fn staff_generate_with_a_plain_form_and_residents_see_what_they_owe() {
    let app = spawn_app().await;
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let community = app.org_id("阳光社区").await.to_string();
    // a bad price is refused in words, everything typed kept
    let r = staff
        .form(
            path::<app::bills::GeneratePropertyFees>(),
            "/staff/bills",
            &[("community_id", &community), ("period", "2026-Q4"), ("price", "1.855")],
        )
        .await;
    let to = location(&r);
    assert!(to.starts_with("/staff/bills?error=invalid_amount") && to.contains("period=2026-Q4"), "{to}");
    let (_, html) = staff.page(&to).await;
    assert!(html.contains("金额格式不正确") && html.contains("value=\"2026-Q4\""), "{html}");
    let r = staff
        .form(
            path::<app::bills::GeneratePropertyFees>(),
            "/staff/bills",
            &[("community_id", &community), ("period", "2026-Q4"), ("price", "1.85")],
        )
        .await;
    let to = location(&r);
    assert!(to.contains("created=48"), "{to}");
    let (_, html) = staff.page(&to).await;
    let html = html.replace("<!>", "");
    assert!(html.contains("已生成账单 48") && html.contains("1号楼"), "{html}");

    app.browser_login(RESIDENT_A).await;
    let (status, html) = app.page("/bills").await;
    assert_eq!(status, 200);
    assert!(html.contains("待缴合计") && html.contains("2026-Q4 物业费") && html.contains("待缴"), "{html}");
}
