//! One binary, database chosen by URL: SQLite by default (WAL, busy timeout,
//! foreign keys on), PostgreSQL in production. Migrations run at start-up.

use crate::config::{Config, DatabaseKind};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use std::time::Duration;

/// Migrates, then opens the pool. The migrations run on a connection of
/// their own, closed before the pool opens: a pooled SQLite connection that
/// lived through a migration now and then read a column the migration added
/// as NULL (`Missing value for column 'property_repairs'`, about 2 builds
/// in 120 under load, none since).
pub async fn connect_migrated(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let m = connect_with(config, 1).await?;
    migrate(&m).await?;
    m.close().await.map_err(|e| anyhow::anyhow!("closing the migration connection: {e}"))?;
    connect(config).await
}

pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    connect_with(config, config.database_max_connections).await
}

async fn connect_with(config: &Config, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    if config.database_kind == DatabaseKind::Sqlite {
        if let Some(path) = sqlite_file(&config.database_url) {
            if let Some(dir) = std::path::Path::new(&path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)?;
                }
            }
        }
    }
    let mut opts = ConnectOptions::new(config.database_url.clone());
    opts.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(config.database_acquire_timeout_seconds))
        // a request waits this long for a connection (the database restarting,
        // the pool exhausted), then it is answered 503 `unavailable`
        .acquire_timeout(Duration::from_secs(config.database_acquire_timeout_seconds))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    let db = Database::connect(opts).await.map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
    Ok(db)
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.map_err(|e| anyhow::anyhow!("database migration failed: {e}"))
}

fn sqlite_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(path.to_string())
    }
}

/// True when the error is a unique-constraint violation (for idempotent inserts).
pub fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}
