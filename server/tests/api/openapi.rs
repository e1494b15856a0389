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
    // a login by default (declared once for the document); routes anyone may
    // call say so with an empty requirement
    assert_eq!(doc["security"], serde_json::json!([{"bearer": []}, {"cookie": []}]));
    assert!(paths["/api/v1/votes"]["get"].get("security").is_none(), "a logged-in route repeats the default");
    for (path, method) in [("/healthz", "get"), ("/api/v1/auth/login", "post"), ("/open311/v2/services.{fmt}", "get")] {
        assert_eq!(paths[path][method]["security"], serde_json::json!([{}]), "{method} {path} is public");
    }
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

/// utoipa names a schema after its type, and of two types of one name the
/// document silently keeps one (`appointment::HoursRule` once answered
/// for `volunteer::HoursRule`): every type deriving `ToSchema` in the
/// crates the document draws on has a name of its own (or a
/// `schema(as = …)` one).
#[test]
fn schema_names_are_unique() {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for c in ["domain/src", "backend/src", "app/src", "server/src"] {
        rust_files(&root.join(c), &mut files);
    }
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    let mut twice = Vec::new();
    let mut count = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if !(l.trim_start().starts_with("#[") && l.contains("ToSchema")) {
                continue;
            }
            // the attributes that follow, up to the item they belong to
            let mut alias = None;
            let item = lines[i + 1..].iter().find_map(|l| {
                if let Some(a) = l.split("schema(as = ").nth(1) {
                    alias = a.split(')').next().map(|a| a.replace("::", "."));
                }
                let words: Vec<&str> = l.split_whitespace().collect();
                let at = words.iter().position(|w| *w == "struct" || *w == "enum")?;
                words
                    .get(at + 1)
                    .map(|n| n.trim_end_matches(['{', '(', ';']).split('<').next().unwrap_or("").to_string())
            });
            let Some(name) = item else { continue };
            let name = alias.unwrap_or(name);
            count += 1;
            let at = format!("{}:{}", f.strip_prefix(&root).unwrap_or(&f).display(), i + 1);
            if let Some(first) = seen.insert(name.clone(), at.clone()) {
                twice.push(format!("{name}: {first} and {at}"));
            }
        }
    }
    assert!(count > 100, "found only {count} schema types: the scan is broken");
    assert!(twice.is_empty(), "schema names used twice:\n{}", twice.join("\n"));
}
