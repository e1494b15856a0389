//! Error policy. Services return `AppError`: a stable code for users (see
//! `domain::ErrorCode`) plus an internal cause for the logs. Database and
//! other infrastructure failures become `internal`, and their cause is logged
//! where the request ends, never shown.

use domain::ErrorCode;

#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub cause: Option<anyhow::Error>,
}

impl AppError {
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        AppError { code: ErrorCode::Internal, cause: Some(cause.into()) }
    }
}

impl From<ErrorCode> for AppError {
    fn from(code: ErrorCode) -> Self {
        AppError { code, cause: None }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        let code = if db_unreachable(&e) { ErrorCode::Unavailable } else { ErrorCode::Internal };
        AppError { code, cause: Some(e.into()) }
    }
}

/// The database could not be reached or went away mid-request (restart,
/// failover, network): the user is asked to try again, not told of an error.
/// Nothing half-done stays: the transaction is rolled back with the connection.
pub fn db_unreachable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{sqlx::Error as Sqlx, DbErr, RuntimeErr};
    match e {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => {
            match s.as_ref() {
                Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed | Sqlx::Protocol(_) => true,
                Sqlx::Tls(_) => true,
                // PostgreSQL: connection exceptions (08…) and "operator intervention" (57P…: shutting down,
                // starting up, terminated by the administrator)
                Sqlx::Database(d) => d.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
                _ => false,
            }
        }
        DbErr::Conn(_) => true,
        _ => false,
    }
}

impl From<redis::RedisError> for AppError {
    fn from(e: redis::RedisError) -> Self {
        let gone = e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() || e.is_timeout();
        AppError { code: if gone { ErrorCode::Unavailable } else { ErrorCode::Internal }, cause: Some(e.into()) }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Some(c) => write!(f, "{}: {c:#}", self.code),
            None => write!(f, "{}", self.code),
        }
    }
}

impl std::error::Error for AppError {}

pub type AppResult<T> = Result<T, AppError>;
