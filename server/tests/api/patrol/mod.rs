//! Patrol routes and checkpoints (issue 4): staff of the grid's community
//! only; checkpoints checked at the edge; GeoJSON imports all or nothing;
//! the printable QR sheet; the staff page with plain forms.

mod tracking;

use crate::appointments::current;
use crate::helpers::*;
use crate::pages::{browser, location, path};
use backend::patrol;
use domain::patrol::NewCheckpoint;
use domain::ErrorCode;

const GEOJSON: &str = r#"{"type": "FeatureCollection", "features": [
  {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.3975, 39.9087]}, "properties": {"name": "东门岗亭", "qr": true}},
  {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.3981, 39.9092]}, "properties": {"name": "3号楼消防通道", "radius": 20}},
  {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.3990, 39.9080]}, "properties": {"name": "地下车库入口"}}
]}"#;

#[tokio::test]
async fn staff_define_routes_and_import_checkpoints_all_or_nothing() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let grid = app.org_id("阳光社区第一网格").await;
    // only staff of the grid's community
    let other = current(&app, STAFF_B).await;
    assert_eq!(
        patrol::create_route(&app.state, &other, grid, "夜巡", true).await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    let resident = current(&app, RESIDENT_A).await;
    assert_eq!(
        patrol::create_route(&app.state, &resident, grid, "夜巡", true).await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    let route = patrol::create_route(&app.state, &staff, grid, "夜间巡逻线", true).await.unwrap();
    let c = NewCheckpoint::parse("北门", "39.9101", "116.3969", "", false).unwrap();
    patrol::add_checkpoint(&app.state, &staff, route, c.clone()).await.unwrap();
    assert!(patrol::add_checkpoint(&app.state, &other, route, c).await.is_err());

    // bad imports change nothing
    for bad in [
        "not json",
        r#"{"type": "FeatureCollection", "features": []}"#,
        r#"{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}, "properties": {"name": "x"}}"#,
        r#"{"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.4, 39.9]}, "properties": {}}"#,
    ] {
        assert_eq!(
            patrol::import_geojson(&app.state, &staff, route, bad).await.unwrap_err().code,
            ErrorCode::InvalidGeoJson,
            "{bad}"
        );
    }
    let half_bad = GEOJSON.replace("\"radius\": 20", "\"radius\": 2000");
    assert_eq!(
        patrol::import_geojson(&app.state, &staff, route, &half_bad).await.unwrap_err().code,
        ErrorCode::InvalidRadius
    );
    let swapped = GEOJSON
        .replace("[116.3975, 39.9087]", "[39.9087, 116.3975]")
        .replace("[116.3981, 39.9092]", "[39.9092, 116.3981]");
    assert_eq!(
        patrol::import_geojson(&app.state, &staff, route, &swapped).await.unwrap_err().code,
        ErrorCode::InvalidLocation
    );
    let mine = patrol::routes(&app.state, &staff).await.unwrap().into_iter().find(|r| r.id == route).unwrap();
    assert_eq!(mine.checkpoints.len(), 1);

    assert_eq!(patrol::import_geojson(&app.state, &staff, route, GEOJSON).await.unwrap(), 3);
    let r = patrol::routes(&app.state, &staff).await.unwrap().into_iter().find(|r| r.id == route).unwrap();
    let names: Vec<(i32, &str, i32, bool)> =
        r.checkpoints.iter().map(|c| (c.seq, c.name.as_str(), c.radius_m, c.requires_qr)).collect();
    assert_eq!(
        names,
        vec![
            (1, "北门", 30, false),
            (2, "东门岗亭", 30, true),
            (3, "3号楼消防通道", 20, false),
            (4, "地下车库入口", 30, false)
        ]
    );
    assert!(r.ordered);
    assert!(patrol::routes(&app.state, &other).await.unwrap().is_empty(), "another community's staff see none");

    // the sheet has a code for the checkpoint that needs one
    let (_, items) = patrol::sheet(&app.state, &staff, route).await.unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0].url.contains("/patrol/checkpoints/") && items[0].svg.contains("<svg"));
    let removed = patrol::remove_checkpoint(&app.state, &staff, r.checkpoints[0].id).await.unwrap();
    assert_eq!(removed, route);
}

#[tokio::test]
async fn the_staff_page_works_with_plain_forms_and_keeps_bad_input() {
    let app = spawn_app().await;
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let grid = app.org_id("阳光社区第一网格").await.to_string();
    let r = staff
        .form(path::<app::patrol::CreateRoute>(), "/staff/patrol", &[("grid_id", &grid), ("name", "白天巡逻")])
        .await;
    assert!(location(&r).starts_with("/staff/patrol?created=1"), "{}", location(&r));
    let (_, html) = staff.page("/staff/patrol").await;
    assert!(html.contains("白天巡逻"));
    let routes = patrol::routes(&app.state, &current(&app, STAFF_A).await).await.unwrap();
    let route = routes.iter().find(|r| r.name == "白天巡逻").unwrap().id.to_string();
    let r = staff
        .form(
            path::<app::patrol::AddCheckpoint>(),
            "/staff/patrol",
            &[("route", &route), ("name", "西门"), ("lat", "39.91"), ("lng", "116.39"), ("radius", "900")],
        )
        .await;
    let to = location(&r);
    assert!(to.contains("error=invalid_radius") && to.contains("name=%E8%A5%BF%E9%97%A8"), "{to}");
    let (_, html) = staff.page(&to).await;
    assert!(
        html.contains("半径须为 5 到 500 米之间的整数") && html.contains("value=\"西门\""),
        "the error and the input kept"
    );
}

#[tokio::test]
async fn a_refused_geojson_import_keeps_the_pasted_text() {
    let app = spawn_app().await;
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let routes = patrol::routes(&app.state, &current(&app, STAFF_A).await).await.unwrap();
    let route = routes[0].id.to_string();
    let bad = GEOJSON.replace("\"radius\": 20", "\"radius\": 2000");
    let r = staff
        .form(path::<app::patrol::ImportCheckpoints>(), "/staff/patrol", &[("route", &route), ("geojson", &bad)])
        .await;
    let to = location(&r);
    assert!(to.contains("error=invalid_radius") && to.contains("draft="), "{to}");
    let (_, html) = staff.page(&to).await;
    assert!(html.contains("半径须为 5 到 500 米之间的整数"));
    assert!(
        html.contains("&quot;radius&quot;: 2000") || html.contains("\"radius\": 2000"),
        "the text is back in the box"
    );
    // another staff member cannot read it
    let other = browser(&app).await;
    other.password_login(STAFF_B).await;
    let (_, html) = other.page(&to).await;
    assert!(!html.contains("radius\": 2000") && !html.contains("radius&quot;: 2000"));
}
