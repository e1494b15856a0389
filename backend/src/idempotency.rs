//! Idempotency keys (rules.md §3). A request that creates or pays something
//! may carry a key (8–64 of `A–Z a–z 0–9 - _`). The first request with a key
//! claims it (`start`); the work then records its answer with `finish` in
//! its own transaction, so the answer exists exactly when the work does. A
//! replay gets the saved answer; a different request under the same key is
//! refused (422); a duplicate while the first is still running gets 409 and
//! may retry. A claim whose request died (no answer after `STALE`) may be
//! taken over; a request that failed gives its claim back (`release`), so
//! the client's retry runs again.

use chrono::{Duration, Utc};
use domain::ErrorCode;
use sea_orm::{sea_query::Expr, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::{entities::idempotency_key as row, error::AppResult};

/// A claim with no answer after this long belongs to a request that died.
pub const STALE: i64 = 60;

/// One keyed request: who, which operation, the key, and what was asked.
#[derive(Clone, Debug)]
pub struct Keyed {
    pub user_id: i64,
    pub scope: &'static str,
    pub key: String,
    pub fingerprint: String,
}

impl Keyed {
    /// Parses the key and fingerprints the request's meaningful content.
    pub fn parse(user_id: i64, scope: &'static str, key: &str, request: &[u8]) -> Result<Keyed, ErrorCode> {
        let key = key.trim();
        // as documented (docs/openapi.json): 8–64 of A–Z a–z 0–9 - _ (a UUID fits)
        if !(8..=64).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(ErrorCode::InvalidIdempotencyKey);
        }
        Ok(Keyed { user_id, scope, key: key.to_string(), fingerprint: hex::encode(Sha256::digest(request)) })
    }

    fn filter<Q: QueryFilter>(&self, q: Q) -> Q {
        q.filter(row::Column::UserId.eq(self.user_id))
            .filter(row::Column::Scope.eq(self.scope))
            .filter(row::Column::Key.eq(self.key.as_str()))
    }
}

/// A new key, for a form to carry (so a double submit is one request).
pub fn fresh_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A saved answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved {
    pub status: u16,
    pub body: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Start {
    /// The key is ours: do the work and `finish` in its transaction.
    Fresh,
    /// Done before: answer with this.
    Replay(Saved),
}

pub async fn start(db: &DatabaseConnection, k: &Keyed) -> AppResult<Start> {
    let now = Utc::now();
    let inserted = row::Entity::insert(row::ActiveModel {
        user_id: Set(k.user_id),
        scope: Set(k.scope.to_string()),
        key: Set(k.key.clone()),
        fingerprint: Set(k.fingerprint.clone()),
        status: Set("in_flight".into()),
        response_status: Set(None),
        response_body: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([row::Column::UserId, row::Column::Scope, row::Column::Key])
    .exec_without_returning(db)
    .await?;
    if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        return Ok(Start::Fresh);
    }
    let existing = k.filter(row::Entity::find()).one(db).await?.ok_or(ErrorCode::IdempotencyInFlight)?;
    if existing.fingerprint != k.fingerprint {
        return Err(ErrorCode::IdempotencyMismatch.into());
    }
    if existing.status == "done" {
        return Ok(Start::Replay(Saved {
            status: existing.response_status.unwrap_or(200) as u16,
            body: existing.response_body.unwrap_or_default(),
        }));
    }
    if existing.updated_at < now - Duration::seconds(STALE) {
        // the first request died without an answer: take the claim over, once
        let taken = k
            .filter(row::Entity::update_many())
            .col_expr(row::Column::UpdatedAt, Expr::value(now))
            .filter(row::Column::Status.eq("in_flight"))
            .filter(row::Column::UpdatedAt.eq(existing.updated_at))
            .exec(db)
            .await?;
        if taken.rows_affected == 1 {
            return Ok(Start::Fresh);
        }
    }
    Err(ErrorCode::IdempotencyInFlight.into())
}

/// Records the answer, inside the transaction that does the work.
pub async fn finish<C: ConnectionTrait>(conn: &C, k: &Keyed, status: u16, body: &str) -> AppResult<()> {
    k.filter(row::Entity::update_many())
        .col_expr(row::Column::Status, Expr::value("done"))
        .col_expr(row::Column::ResponseStatus, Expr::value(status as i32))
        .col_expr(row::Column::ResponseBody, Expr::value(body))
        .col_expr(row::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(row::Column::Status.eq("in_flight"))
        .exec(conn)
        .await?;
    Ok(())
}

/// Gives the claim back after a failure, so a retry runs the request again.
pub async fn release(db: &DatabaseConnection, k: &Keyed) -> AppResult<()> {
    k.filter(row::Entity::delete_many()).filter(row::Column::Status.eq("in_flight")).exec(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_requests_fingerprinted() {
        assert!(Keyed::parse(1, "x", "a3f0-11ef-9c2e", b"{}").is_ok());
        assert!(Keyed::parse(1, "x", &fresh_key(), b"{}").is_ok());
        assert!(Keyed::parse(1, "x", "abc_DEF-", b"{}").is_ok());
        assert!(Keyed::parse(1, "x", &"k".repeat(64), b"{}").is_ok());
        for bad in ["", "short-7", "has space1", "a.b.c.d.e", "key/with/slash", "有中文的键值很长很长"] {
            assert_eq!(Keyed::parse(1, "x", bad, b"{}").unwrap_err(), ErrorCode::InvalidIdempotencyKey, "{bad}");
        }
        assert_eq!(Keyed::parse(1, "x", &"k".repeat(65), b"{}").unwrap_err(), ErrorCode::InvalidIdempotencyKey);
        let a = Keyed::parse(1, "x", "kkkkkkkk", b"{\"slot_id\":1}").unwrap();
        let b = Keyed::parse(1, "x", "kkkkkkkk", b"{\"slot_id\":2}").unwrap();
        assert_ne!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint.len(), 64);
    }
}
