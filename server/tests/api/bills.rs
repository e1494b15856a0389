//! 缴费 (first part): property fees from area × price × months, generated
//! once per period; what residents owe; arrears for staff.

use crate::appointments::current;
use crate::helpers::*;
use crate::pages::{browser, location, path};
use backend::entities::{bill, dwelling, residence};
use domain::{bills::Period, money::Fen};
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
    assert!(html.contains("待缴合计") && html.contains("2026年第4季度物业费") && html.contains("待缴"), "{html}");
}

/// Two homes of 阳光社区 that have households: (building, entrance, room).
async fn two_homes(app: &TestApp) -> Vec<(String, String, String)> {
    use backend::entities::{building, household};
    let community = app.org_id("阳光社区").await;
    let mut out = vec![];
    for b in
        building::Entity::find().filter(building::Column::CommunityId.eq(community)).all(&app.state.db).await.unwrap()
    {
        for d in
            dwelling::Entity::find().filter(dwelling::Column::BuildingId.eq(b.id)).all(&app.state.db).await.unwrap()
        {
            let has =
                household::Entity::find().filter(household::Column::DwellingId.eq(d.id)).count(&app.state.db).await;
            if has.unwrap() > 0 && out.len() < 2 {
                out.push((b.name.clone(), d.entrance.clone(), d.room.clone()));
            }
        }
    }
    out
}

async fn upload_bills(
    b: &crate::pages::Browser<'_>,
    app: &TestApp,
    community: i64,
    name: &str,
    bytes: Vec<u8>,
) -> String {
    let form = reqwest::multipart::Form::new()
        .text("community_id", community.to_string())
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    let r = b
        .client()
        .post(app.url("/staff/bills/import"))
        .header("Accept", "text/html")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    location(&r)
}

#[tokio::test]
async fn utility_bills_import_whole_files_only_and_never_twice() {
    let app = spawn_app().await;
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let sunshine = app.org_id("阳光社区").await;
    let homes = two_homes(&app).await;
    let (h1, h2) = (&homes[0], &homes[1]);
    let count = || async { bill::Entity::find().count(&app.state.db).await.unwrap() };
    let before = count().await;
    let bad = format!(
        "楼栋,单元,房号,类型,账期,金额,说明\n\
         {a},{b},{c},水费,2026-11,45.50,9.1 吨\n\
         {a},{b},9999,水费,2026-11,10,\n\
         {a},{b},{c},暖气费,2026-11,10,\n\
         {a},{b},{c},电费,2026-13,10,\n\
         {a},{b},{c},停车费,2026-11,十元,\n\
         {a},{b},{c},水费,2026-11,45.50,\n\
         {a},{b},{c},水费,2026-10,30,\n",
        a = h1.0,
        b = h1.1,
        c = h1.2
    );
    let to = upload_bills(&staff, &app, sunshine, "水费.csv", bad.into_bytes()).await;
    let (_, html) = staff.page(&to).await;
    assert!(html.contains("未导入任何账单"), "{html}");
    for (row, reason) in [
        ("3", "本社区没有这个房屋"),
        ("4", "费用类型应为"),
        ("5", "账期应如"),
        ("6", "金额应为大于0的数字"),
        ("7", "与文件中前面的行重复"),
        ("8", "该户这一账期已有同类账单"), // the demo's 2026-10 water bill
    ] {
        assert!(html.contains(&format!("<td>{row}</td>")), "row {row} reported");
        assert!(html.contains(reason), "{reason}");
    }
    assert!(!html.contains("<td>2</td>"));
    assert_eq!(count().await, before, "nothing imported");

    // a clean XLSX: imported in one go, amounts exact
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, h) in ["楼栋", "单元", "房号", "类型", "账期", "金额", "说明"].iter().enumerate() {
        sheet.write_string(0, col as u16, *h).unwrap();
    }
    for (row, (home, kind, amount)) in [(h1, "电费", "123.45"), (h2, "停车费", "150")].iter().enumerate() {
        let r = row as u32 + 1;
        sheet.write_string(r, 0, &home.0).unwrap();
        sheet.write_string(r, 1, &home.1).unwrap();
        sheet.write_string(r, 2, &home.2).unwrap();
        sheet.write_string(r, 3, *kind).unwrap();
        sheet.write_string(r, 4, "2026-11").unwrap();
        sheet.write_string(r, 5, *amount).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let to = upload_bills(&staff, &app, sunshine, "账单.xlsx", bytes.clone()).await;
    let (_, html) = staff.page(&to).await;
    let html = html.replace("<!>", "");
    assert!(html.contains("导入成功") && html.contains("¥273.45"), "{html}");
    assert_eq!(count().await, before + 2);
    let e =
        bill::Entity::find().filter(bill::Column::Kind.eq("electricity")).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!((e.amount_fen, e.period.as_str(), e.title.as_str()), (12_345, "2026-11", "2026-11 电费"));
    // the same file again: refused, nothing doubled
    let to = upload_bills(&staff, &app, sunshine, "账单.xlsx", bytes).await;
    let (_, html) = staff.page(&to).await;
    assert!(html.contains("该户这一账期已有同类账单"), "{html}");
    assert_eq!(count().await, before + 2);
    // staff of another community cannot import into this one
    let other = browser(&app).await;
    other.password_login(STAFF_B).await;
    let to = upload_bills(&other, &app, sunshine, "x.csv", b"a".to_vec()).await;
    assert!(to.contains("error=forbidden"), "{to}");
}

#[tokio::test]
async fn staff_add_a_single_fee_with_a_plain_form() {
    let app = spawn_app().await;
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let sunshine = app.org_id("阳光社区").await.to_string();
    let homes = two_homes(&app).await;
    let (b, e, r) = (&homes[0].0, &homes[0].1, &homes[0].2);
    let fields = |amount: &'static str| {
        vec![
            ("community_id", sunshine.clone()),
            ("building", b.clone()),
            ("entrance", e.clone()),
            ("room", r.clone()),
            ("kind", "其他费用".to_string()),
            ("period", "2026-11".to_string()),
            ("amount", amount.to_string()),
            ("basis", "门禁卡补办".to_string()),
        ]
    };
    let send = |f: Vec<(&'static str, String)>| {
        let staff = &staff;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            location(&staff.form(crate::pages::path::<app::bills::AddFee>(), "/staff/bills", &pairs).await)
        }
    };
    let to = send(fields("二十")).await;
    assert!(to.contains("error=invalid_amount") && to.contains("basis="), "{to}");
    let (_, html) = staff.page(&to).await;
    assert!(html.contains("金额格式不正确") && html.contains("value=\"门禁卡补办\""), "{html}");
    let to = send(fields("20")).await;
    assert!(to.contains("fee_added="), "{to}");
    let fee = bill::Entity::find().filter(bill::Column::Kind.eq("other")).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!((fee.amount_fen, fee.basis.as_str(), fee.title.as_str()), (2_000, "门禁卡补办", "2026-11 其他费用"));
    // never twice for the same home, kind and period
    assert!(send(fields("20")).await.contains("error=conflict"));
    // another community's staff cannot
    let other = browser(&app).await;
    other.password_login(STAFF_B).await;
    let pairs: Vec<(String, String)> = fields("20").into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let p: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let to = location(&other.form(crate::pages::path::<app::bills::AddFee>(), "/staff/bills", &p).await);
    assert!(to.contains("error=forbidden"), "{to}");
}
