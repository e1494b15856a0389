//! The OpenAPI document: served, equal to the committed snapshot
//! (docs/openapi.json; `UPDATE_OPENAPI=1` rewrites it after a deliberate
//! change), complete (no route is mounted outside it) and well-formed.

use crate::helpers::*;
use std::collections::HashSet;

const SNAPSHOT: &str = "../docs/openapi.json";

#[tokio::test]
async fn the_document_is_served_and_matches_the_snapshot() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let served: serde_json::Value = r.json().await.unwrap();
    let built = serde_json::to_value(server::openapi::document()).unwrap();
    assert_eq!(served, built);
    let pretty = serde_json::to_string_pretty(&built).unwrap() + "\n";
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(SNAPSHOT, &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(SNAPSHOT).expect("docs/openapi.json (run with UPDATE_OPENAPI=1)");
    assert!(
        committed == pretty,
        "the API changed: review the difference and run `UPDATE_OPENAPI=1 cargo nextest run -p server openapi`"
    );
}

#[test]
fn every_operation_is_described_once_with_its_errors() {
    let doc = serde_json::to_value(server::openapi::document()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut ids = HashSet::new();
    let mut count = 0;
    for (path, item) in paths {
        assert!(path.starts_with('/'), "{path}");
        assert!(!path.contains(':'), "a regex left in {path}");
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            count += 1;
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                !id.is_empty() && ids.insert(id.to_string()),
                "{method} {path}: operationId {id:?} missing or twice"
            );
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path}: no summary");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path}: no tag");
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}: no responses");
            // every parameter in the path template is declared
            for seg in path.split('/').flat_map(|s| s.split('.')) {
                if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    let declared = op["parameters"]
                        .as_array()
                        .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                    assert!(declared, "{method} {path}: path parameter {name} undeclared");
                }
            }
        }
    }
    // the routes this server has outside the Leptos server functions
    assert!(count >= 79, "{count} operations: fewer than when this test was written");
    for expected in [
        "/healthz",
        "/api/openapi.json",
        "/api/v1/osmand",
        "/osmand",
        "/open311/v2/requests.{fmt}",
        "/api/v1/payments/notify/{provider}",
        "/api/v1/push/subscriptions",
        "/api/v1/patrols/{id}.gpx",
        "/staff/figures.xlsx",
        "/staff/bills/orders.csv",
        "/api/v1/patrol/batch",
        "/incidents/report",
    ] {
        assert!(paths.contains_key(expected), "{expected} missing");
    }
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert!(schemes.contains_key("bearer") && schemes.contains_key("cookie"));
}

/// Routes are mounted only through `openapi::rest`, so none can exist
/// undocumented: no other place in the server calls actix's route builders
/// (static assets excepted).
#[test]
fn no_route_is_mounted_outside_the_document() {
    for entry in std::fs::read_dir("src").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name == "assets.rs" {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap().replace("utoipa_actix_web::scope(", "");
        for builder in [".route(", "web::resource(", "web::scope(", "web::get()", "web::post()", "web::delete()"] {
            assert!(!src.contains(builder), "{name} mounts a route with {builder}: register it in openapi::rest");
        }
    }
}
