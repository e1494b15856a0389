//! Importing buildings, units and households from CSV and XLSX through the
//! staff console's plain multipart form.

use crate::helpers::*;
use crate::pages::{browser, location};
use backend::entities::{building, dwelling, household};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};

async fn counts(app: &TestApp) -> (u64, u64, u64) {
    (
        building::Entity::find().count(&app.state.db).await.unwrap(),
        dwelling::Entity::find().count(&app.state.db).await.unwrap(),
        household::Entity::find().count(&app.state.db).await.unwrap(),
    )
}

async fn upload(b: &crate::pages::Browser<'_>, app: &TestApp, community: i64, name: &str, bytes: Vec<u8>) -> String {
    let form = reqwest::multipart::Form::new()
        .text("community_id", community.to_string())
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    let r =
        b.client().post(app.url("/staff/import")).header("Accept", "text/html").multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    location(&r)
}

#[tokio::test]
async fn a_file_with_errors_reports_every_row_and_imports_nothing() {
    let app = spawn_app().await;
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let sunshine = app.org_id("阳光社区").await;
    let before = counts(&app).await;
    let csv = "网格,楼栋,单元,房号,面积,户主,人数\n\
               阳光社区第一网格,9号楼,1单元,101,89.5,张三,3\n\
               不存在的网格,9号楼,1单元,102,90,,\n\
               阳光社区第一网格,9号楼,1单元,103,九十,,\n\
               阳光社区第一网格,9号楼,1单元,101,89.5,,\n\
               阳光社区第一网格,9号楼,1单元,,80,,\n\
               阳光社区第一网格,1号楼,1单元,101,80,,\n\
               阳光社区第一网格,9号楼,2单元,201,80,,120\n";
    let to = upload(&staff, &app, sunshine, "住户.csv", csv.as_bytes().to_vec()).await;
    assert!(to.starts_with("/staff/import?report="), "{to}");
    let (_, html) = staff.page(&to).await;
    assert!(html.contains("未导入任何数据"), "{html}");
    for (row, reason) in [
        ("3", "本社区没有这个网格"),
        ("4", "面积应为大于0的数字"),
        ("5", "与文件中前面的行重复"),
        ("6", "必填项为空"),
        ("7", "该房屋已存在"),
        ("8", "人数应为 0–99 的整数"),
    ] {
        assert!(html.contains(&format!("<td>{row}</td>")), "row {row} reported");
        assert!(html.contains(reason), "{reason}");
    }
    assert!(!html.contains("<td>2</td>"), "the good row is not an error");
    assert!(html.contains(&format!(r#"<option value="{sunshine}" selected"#)), "community kept");
    assert_eq!(counts(&app).await, before, "nothing imported");
}

#[tokio::test]
async fn a_clean_xlsx_imports_everything_once() {
    let app = spawn_app().await;
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let sunshine = app.org_id("阳光社区").await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["网格", "楼栋", "单元", "房号", "面积", "户主", "人数"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let mut r = 1;
    for building in ["10号楼", "11号楼"] {
        for room in ["101", "102", "201"] {
            sheet.write_string(r, 0, "阳光社区第二网格").unwrap();
            sheet.write_string(r, 1, building).unwrap();
            sheet.write_string(r, 2, "1单元").unwrap();
            sheet.write_string(r, 3, room).unwrap();
            sheet.write_number(r, 4, 88.75).unwrap();
            sheet.write_number(r, 6, 2).unwrap();
            r += 1;
        }
    }
    let bytes = book.save_to_buffer().unwrap();
    let before = counts(&app).await;
    let to = upload(&staff, &app, sunshine, "住户.xlsx", bytes.clone()).await;
    let (_, html) = staff.page(&to).await;
    assert!(html.contains("导入成功"), "{html}");
    let after = counts(&app).await;
    assert_eq!((after.0 - before.0, after.1 - before.1, after.2 - before.2), (2, 6, 6));
    // newest six by id: without ORDER BY, PostgreSQL returns rows in heap order
    let areas: Vec<Option<i64>> = dwelling::Entity::find()
        .order_by_asc(dwelling::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .take(6)
        .map(|d| d.area_centi_m2)
        .collect();
    assert!(areas.iter().all(|a| *a == Some(8875)), "{areas:?}");
    // the same file again: every row already exists, nothing changes
    let to = upload(&staff, &app, sunshine, "住户.xlsx", bytes).await;
    let (_, html) = staff.page(&to).await;
    assert!(html.contains("该房屋已存在"));
    assert_eq!(counts(&app).await, after);
}

#[tokio::test]
async fn missing_columns_and_unreadable_files_are_explained() {
    let app = spawn_app().await;
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let sunshine = app.org_id("阳光社区").await;
    let to = upload(&staff, &app, sunshine, "a.csv", "网格,楼栋\n阳光社区第一网格,1号楼\n".as_bytes().to_vec()).await;
    let (_, html) = staff.page(&to).await;
    assert!(html.contains("缺少必填列") && html.contains("单元") && html.contains("房号"));
    let to = upload(&staff, &app, sunshine, "a.xlsx", b"PK\x03\x04not really".to_vec()).await;
    let (_, html) = staff.page(&to).await;
    assert!(html.contains("无法读取文件"));
}

#[tokio::test]
async fn only_staff_of_that_community_may_import() {
    let app = spawn_app().await;
    let sunshine = app.org_id("阳光社区").await;
    let csv = "网格,楼栋,单元,房号\n阳光社区第一网格,9号楼,1单元,101\n".as_bytes().to_vec();
    let other = browser(&app).await;
    other.password_login(STAFF_B).await;
    assert!(upload(&other, &app, sunshine, "a.csv", csv.clone()).await.contains("error=forbidden"));
    let resident = browser(&app).await;
    resident.code_login(RESIDENT_A).await;
    assert!(upload(&resident, &app, sunshine, "a.csv", csv.clone()).await.contains("error=forbidden"));
    let anonymous = browser(&app).await;
    assert!(upload(&anonymous, &app, sunshine, "a.csv", csv).await.starts_with("/login"));
}
