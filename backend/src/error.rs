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
        AppError::internal(e)
    }
}

impl From<redis::RedisError> for AppError {
    fn from(e: redis::RedisError) -> Self {
        AppError::internal(e)
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
