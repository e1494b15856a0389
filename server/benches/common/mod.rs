//! What the in-process benchmarks share: start the release app on a
//! database, log a demo user in, make and drop a PostgreSQL database, and
//! write a figures section into docs/benchmarks.md between its markers.

use backend::{auth::CurrentUser, Config, State};
use sea_orm::{ConnectionTrait, Database};
use server::Application;
use std::collections::HashMap;

/// Starts the app (demo data, quiet logs) on `url`; returns its base URL and state.
pub async fn start(url: String, dir: &std::path::Path, extra: &[(&str, &str)]) -> (String, State) {
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("DATABASE_URL".into(), url);
    env.insert("DATA_DIR".into(), dir.display().to_string());
    env.insert("BIND".into(), "127.0.0.1:0".into());
    env.insert("JWT_SECRET".into(), "bench-secret-bench-secret-bench-secret-0123456789".into());
    env.insert("DEMO_DATA".into(), "true".into());
    env.insert("LOG".into(), "warn".into());
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("config");
    let app = Application::build(config).await.expect("build app");
    let base = format!("http://127.0.0.1:{}", app.port);
    let state = app.state.clone();
    tokio::spawn(app.into_server());
    (base, state)
}

/// A demo user, logged in.
pub async fn user(state: &State, phone: &str) -> CurrentUser {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let u = backend::entities::user::Entity::find()
        .filter(backend::entities::user::Column::Phone.eq(phone))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap();
    let t = backend::auth::issue_session(state, u.id, None).await.unwrap();
    backend::auth::authenticate(state, &t.access_token).await.unwrap()
}

fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh PostgreSQL database `name`, when PostgreSQL is running.
pub async fn fresh_postgres(name: &str) -> Option<String> {
    let admin = admin_url();
    let db = Database::connect(&admin).await.ok()?;
    let _ = db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}")).await;
    db.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
    Some(format!("{base}/{name}"))
}

pub async fn drop_postgres(name: &str) {
    if let Ok(db) = Database::connect(&admin_url()).await {
        let _ = db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    }
}

/// Replaces the section between `<!-- {marker}:` and `<!-- /{marker} -->` in
/// docs/benchmarks.md (or appends it).
pub fn write_section(marker: &str, section: &str) {
    let (open, close) = (format!("<!-- {marker}:"), format!("<!-- /{marker} -->"));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let doc = match (doc.find(&open), doc.find(&close)) {
        (Some(a), Some(b)) => {
            let end = (b + close.len() + 1).min(doc.len());
            format!("{}{}{}", &doc[..a], section, &doc[end..])
        }
        _ => format!("{}\n\n{}", doc.trim_end(), section),
    };
    std::fs::write(&path, doc).unwrap();
}
