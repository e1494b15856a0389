//! Identity: one-time codes by phone, staff passwords (argon2id), short-lived
//! JWT access tokens and rotating refresh tokens (stored hashed; reuse of a
//! spent one revokes its whole family).

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use chrono::{DateTime, Utc};
use domain::{phone::OtpCode, ErrorCode, OrgPath, Phone, Role};
use rand::Rng;
use sea_orm::{
    sea_query::{Expr, ExprTrait, Query},
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

use crate::{
    entities::{org_unit, otp_code, refresh_token, user, user_role},
    error::{AppError, AppResult},
    State,
};

pub const CODE_TTL: Duration = Duration::from_secs(300);
pub const CODE_MAX_ATTEMPTS: i32 = 5;
pub const PASSWORD_MAX_FAILURES: i32 = 5;
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// A role held at a node of the organisation tree.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub org_unit_id: i64,
    pub org_path: OrgPath,
    pub org_name: String,
}

/// The authenticated user of a request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: i64,
    pub name: String,
    pub phone: Phone,
    pub lang: domain::i18n::Lang,
    pub grants: Vec<Grant>,
    /// The login (refresh-token family) this request belongs to.
    pub session_id: String,
}

impl CurrentUser {
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
    pub fn is_staff(&self) -> bool {
        self.grants.iter().any(|g| g.role.is_staff())
    }
    /// The most capable role, which decides the home page and navigation.
    pub fn primary_role(&self) -> Option<Role> {
        self.grants.iter().map(|g| g.role).max()
    }
    /// May act as `role` (or a stronger staff role) on the node at `path`.
    pub fn can_manage(&self, path: &OrgPath) -> bool {
        self.grants.iter().any(|g| g.role.is_staff() && g.org_path.contains(path))
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: i64,
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

/// Tokens handed to a client after login or refresh. Not `Debug`: secrets.
pub struct Session {
    pub user_id: i64,
    pub access_token: String,
    pub access_expires_in: Duration,
    pub refresh_token: String,
    pub refresh_expires_in: Duration,
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

fn random_token() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    rand::thread_rng().fill(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn ttl(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero())
}

// ---------- one-time codes ----------

/// Sends a one-time code to `phone_input`. Rate-limited per phone and per client address.
pub async fn request_code(state: &State, phone_input: &str, client_ip: &str) -> AppResult<Phone> {
    let phone = Phone::parse(phone_input)?;
    let limiter = &state.limiter;
    let per_hour = state.config.codes_per_hour;
    let resend = state.config.code_resend;
    if !limiter.hit(&format!("otp:ip:{client_ip}"), per_hour.saturating_mul(3), Duration::from_secs(3600)).await?
        || (!resend.is_zero() && !limiter.hit(&format!("otp:phone:min:{}", phone.as_str()), 1, resend).await?)
        || !limiter.hit(&format!("otp:phone:hour:{}", phone.as_str()), per_hour, Duration::from_secs(3600)).await?
    {
        return Err(ErrorCode::RateLimited.into());
    }
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32));
    let now = Utc::now();
    otp_code::ActiveModel {
        phone: Set(phone.as_str().to_string()),
        code_hash: Set(code_hash(state, &phone, &code)),
        attempts: Set(0),
        expires_at: Set(now + ttl(CODE_TTL)),
        consumed_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    state.sender.send(&phone, &code).await?;
    Ok(phone)
}

fn code_hash(state: &State, phone: &Phone, code: &str) -> String {
    sha256_hex(&[&state.config.jwt_secret, phone.as_str().as_bytes(), code.as_bytes()])
}

/// Who may log in by code, and what happens to a new number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodePurpose {
    /// Residents: a number we do not know yet gets a new account (without
    /// roles until residence verification).
    ResidentOrRegister,
    /// Grid workers and staff: only registered numbers.
    RegisteredOnly,
}

pub async fn login_with_code(
    state: &State,
    phone_input: &str,
    code_input: &str,
    purpose: CodePurpose,
) -> AppResult<Session> {
    let phone = Phone::parse(phone_input)?;
    let code = OtpCode::parse(code_input)?;
    let now = Utc::now();
    let latest = otp_code::Entity::find()
        .filter(otp_code::Column::Phone.eq(phone.as_str()))
        .filter(otp_code::Column::ConsumedAt.is_null())
        .order_by_desc(otp_code::Column::Id)
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::CodeExpired)?;
    if latest.expires_at <= now {
        return Err(ErrorCode::CodeExpired.into());
    }
    // Claim the attempt before comparing (a guarded increment): however many
    // guesses arrive at once, at most CODE_MAX_ATTEMPTS are ever compared.
    let claimed = otp_code::Entity::update_many()
        .col_expr(otp_code::Column::Attempts, Expr::col(otp_code::Column::Attempts).add(1))
        .filter(otp_code::Column::Id.eq(latest.id))
        .filter(otp_code::Column::ConsumedAt.is_null())
        .filter(otp_code::Column::Attempts.lt(CODE_MAX_ATTEMPTS))
        .exec(&state.db)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(ErrorCode::TooManyAttempts.into());
    }
    if latest.code_hash != code_hash(state, &phone, code.as_str()) {
        return Err(if latest.attempts + 1 >= CODE_MAX_ATTEMPTS {
            ErrorCode::TooManyAttempts
        } else {
            ErrorCode::InvalidCode
        }
        .into());
    }
    // Consume exactly once (compare-and-swap), even if the same code is sent twice at once.
    let consumed = otp_code::Entity::update_many()
        .col_expr(otp_code::Column::ConsumedAt, Expr::value(now))
        .filter(otp_code::Column::Id.eq(latest.id))
        .filter(otp_code::Column::ConsumedAt.is_null())
        .exec(&state.db)
        .await?;
    if consumed.rows_affected != 1 {
        return Err(ErrorCode::InvalidCode.into());
    }
    let existing = user::Entity::find().filter(user::Column::Phone.eq(phone.as_str())).one(&state.db).await?;
    let user = match (existing, purpose) {
        (Some(u), _) if u.active => u,
        (Some(_), _) => return Err(ErrorCode::Forbidden.into()),
        (None, CodePurpose::RegisteredOnly) => return Err(ErrorCode::NotRegistered.into()),
        (None, CodePurpose::ResidentOrRegister) => {
            match new_user(phone.as_str(), &crate::support::people::default_name(phone.as_str()))
                .insert(&state.db)
                .await
            {
                Ok(u) => u,
                // Two first logins at once: the other one created the account.
                Err(e) if crate::db::is_unique_violation(&e) => user::Entity::find()
                    .filter(user::Column::Phone.eq(phone.as_str()))
                    .one(&state.db)
                    .await?
                    .ok_or_else(|| AppError::internal(e))?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    issue_session(state, user.id, None).await
}

// ---------- passwords ----------

/// A new active account without a password (it logs in with codes).
pub fn new_user(phone: &str, name: &str) -> user::ActiveModel {
    user::ActiveModel {
        phone: Set(phone.to_string()),
        name: Set(name.to_string()),
        password_hash: Set(None),
        wechat_openid: Set(None),
        lang: Set(domain::i18n::Lang::Zh),
        failed_logins: Set(0),
        locked_until: Set(None),
        active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(anyhow::anyhow!("argon2: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// Staff log in with phone number and password. Five wrong passwords lock
/// the account for 15 minutes; attempts are also rate-limited per address.
pub async fn login_with_password(
    state: &State,
    phone_input: &str,
    password: &str,
    client_ip: &str,
) -> AppResult<Session> {
    if !state.limiter.hit(&format!("pw:ip:{client_ip}"), 60, Duration::from_secs(900)).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    let phone = Phone::parse(phone_input).map_err(|_| ErrorCode::InvalidCredentials)?;
    let now = Utc::now();
    let Some(u) = user::Entity::find().filter(user::Column::Phone.eq(phone.as_str())).one(&state.db).await? else {
        // Same work as a real check, so timing does not reveal which numbers exist.
        let pw = password.to_string();
        let _ = tokio::task::spawn_blocking(move || verify_password(&pw, DUMMY_HASH)).await;
        // And the same answers: an unknown number "locks" after the same number
        // of failures for the same time, or the lock would tell which numbers exist.
        let within = state
            .limiter
            .hit(&format!("pw:unknown:{}", phone.as_str()), (PASSWORD_MAX_FAILURES - 1) as u32, LOCKOUT)
            .await?;
        return Err(if within { ErrorCode::InvalidCredentials } else { ErrorCode::AccountLocked }.into());
    };
    if let Some(until) = u.locked_until {
        if until > now {
            return Err(ErrorCode::AccountLocked.into());
        }
    }
    let hash = u.password_hash.clone().unwrap_or_else(|| DUMMY_HASH.to_string());
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash)).await.map_err(AppError::internal)?
        && u.password_hash.is_some()
        && u.active;
    if !ok {
        let failures = u.failed_logins + 1;
        let mut am: user::ActiveModel = u.into();
        if failures >= PASSWORD_MAX_FAILURES {
            am.failed_logins = Set(0);
            am.locked_until = Set(Some(now + ttl(LOCKOUT)));
            am.update(&state.db).await?;
            return Err(ErrorCode::AccountLocked.into());
        }
        am.failed_logins = Set(failures);
        am.update(&state.db).await?;
        return Err(ErrorCode::InvalidCredentials.into());
    }
    let user_id = u.id;
    if u.failed_logins != 0 || u.locked_until.is_some() {
        let mut am: user::ActiveModel = u.into();
        am.failed_logins = Set(0);
        am.locked_until = Set(None);
        am.update(&state.db).await?;
    }
    let grants = load_grants(state, user_id).await?;
    if !grants.iter().any(|g| g.role.may_use_password()) {
        return Err(ErrorCode::InvalidCredentials.into());
    }
    issue_session(state, user_id, None).await
}

/// argon2id hash of a random string: makes unknown accounts cost the same as known ones.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4CXPCq6B6o1j5qFqg0Cj0bK4v8gL9b0Fh1sYxXJx3oI";

// ---------- tokens ----------

pub async fn issue_session(state: &State, user_id: i64, family: Option<String>) -> AppResult<Session> {
    let family = family.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let refresh = random_token();
    let now = Utc::now();
    refresh_token::ActiveModel {
        family_id: Set(family.clone()),
        user_id: Set(user_id),
        token_hash: Set(sha256_hex(&[refresh.as_bytes()])),
        expires_at: Set(now + ttl(state.config.refresh_ttl)),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    let access_token = encode_access(state, user_id, &family, now)?;
    Ok(Session {
        user_id,
        access_token,
        access_expires_in: state.config.access_ttl,
        refresh_token: refresh,
        refresh_expires_in: state.config.refresh_ttl,
    })
}

fn encode_access(state: &State, user_id: i64, family: &str, now: DateTime<Utc>) -> AppResult<String> {
    let claims = Claims {
        sub: user_id,
        sid: family.to_string(),
        iat: now.timestamp(),
        exp: (now + ttl(state.config.access_ttl)).timestamp(),
        iss: "zhsq".into(),
    };
    sign(state, &claims)
}

/// Signs claims with the server's secret, HS256 (the only algorithm we accept).
pub fn sign(state: &State, claims: &impl Serialize) -> AppResult<String> {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(&state.config.jwt_secret),
    )
    .map_err(AppError::internal)
}

/// Checks an access token's signature, algorithm (HS256 only), issuer and expiry.
pub fn decode_access(state: &State, token: &str) -> AppResult<Claims> {
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.set_issuer(&["zhsq"]);
    v.leeway = 5;
    jsonwebtoken::decode::<Claims>(token, &jsonwebtoken::DecodingKey::from_secret(&state.config.jwt_secret), &v)
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => ErrorCode::SessionExpired.into(),
            _ => ErrorCode::NotLoggedIn.into(),
        })
}

/// Exchanges a refresh token for a new pair. A token may be used once; using
/// a spent or revoked one revokes every token of its login (family), since
/// someone else holds a copy.
pub async fn refresh(state: &State, presented: &str) -> AppResult<Session> {
    let now = Utc::now();
    let hash = sha256_hex(&[presented.as_bytes()]);
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::SessionExpired)?;
    if let (Some(used), None) = (row.used_at, row.revoked_at) {
        // Two requests of one browser refreshing at the same moment: both get a session.
        if now - used < ttl(state.config.refresh_reuse_grace) && row.expires_at > now {
            return issue_session(state, row.user_id, Some(row.family_id)).await;
        }
    }
    if row.revoked_at.is_some() || row.used_at.is_some() {
        revoke_family(state, &row.family_id).await?;
        tracing::warn!(user_id = row.user_id, "refresh token reuse: login revoked");
        return Err(ErrorCode::SessionExpired.into());
    }
    if row.expires_at <= now {
        return Err(ErrorCode::SessionExpired.into());
    }
    let txn = state.db.begin().await?;
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        txn.rollback().await?;
        revoke_family(state, &row.family_id).await?;
        return Err(ErrorCode::SessionExpired.into());
    }
    txn.commit().await?;
    let active = user::Entity::find_by_id(row.user_id).one(&state.db).await?.map(|u| u.active).unwrap_or(false);
    if !active {
        revoke_family(state, &row.family_id).await?;
        return Err(ErrorCode::SessionExpired.into());
    }
    issue_session(state, row.user_id, Some(row.family_id)).await
}

/// The live-event kind that tells this login's open event streams to end
/// (never sent to a client).
pub const SESSION_REVOKED_EVENT: &str = "session.revoked";

pub async fn revoke_family(state: &State, family_id: &str) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    // End the login's open event streams on every instance. The streams also
    // check their login every few minutes, so a lost event only delays this.
    if let Some(row) =
        refresh_token::Entity::find().filter(refresh_token::Column::FamilyId.eq(family_id)).one(&state.db).await?
    {
        let topic = crate::events::Topic::User(row.user_id);
        if let Err(e) = state.bus.publish(&topic, SESSION_REVOKED_EVENT, &serde_json::json!({ "sid": family_id })).await
        {
            tracing::warn!(code = %e.code, "could not announce a revoked login to its event streams");
        }
    }
    Ok(())
}

/// Whether a login (refresh-token family) of an active account is still live.
pub async fn login_is_live(state: &State, user_id: i64, family_id: &str) -> AppResult<bool> {
    let live_login = Query::select()
        .expr(Expr::val(1))
        .from(refresh_token::Entity)
        .and_where(Expr::col(refresh_token::Column::FamilyId).eq(Expr::val(family_id)))
        .and_where(Expr::col(refresh_token::Column::RevokedAt).is_null())
        .to_owned();
    Ok(user::Entity::find_by_id(user_id)
        .filter(user::Column::Active.eq(true))
        .filter(Expr::exists(live_login))
        .one(&state.db)
        .await?
        .is_some())
}

/// Logout: the login's refresh tokens are revoked, and with them every access
/// token of that login (checked on each request).
pub async fn logout(state: &State, family_id: &str) -> AppResult<()> {
    revoke_family(state, family_id).await
}

pub async fn logout_by_refresh(state: &State, presented: &str) -> AppResult<()> {
    let hash = sha256_hex(&[presented.as_bytes()]);
    if let Some(row) =
        refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(hash)).one(&state.db).await?
    {
        revoke_family(state, &row.family_id).await?;
    }
    Ok(())
}

/// Resolves an access token into the current user: the signature and expiry,
/// then, in one query, that the login is not revoked and the account is
/// active; then the roles with their org units (one join).
pub async fn authenticate(state: &State, token: &str) -> AppResult<CurrentUser> {
    let claims = decode_access(state, token)?;
    let live_login = Query::select()
        .expr(Expr::val(1))
        .from(refresh_token::Entity)
        .and_where(Expr::col(refresh_token::Column::FamilyId).eq(Expr::val(claims.sid.as_str())))
        .and_where(Expr::col(refresh_token::Column::RevokedAt).is_null())
        .to_owned();
    let u = user::Entity::find_by_id(claims.sub)
        .filter(user::Column::Active.eq(true))
        .filter(Expr::exists(live_login))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::SessionExpired)?;
    let phone = Phone::parse(&u.phone).map_err(AppError::internal)?;
    Ok(CurrentUser {
        id: u.id,
        name: crate::support::people::name_of(&u, u.lang.is_en()),
        phone,
        lang: u.lang,
        grants: load_grants(state, claims.sub).await?,
        session_id: claims.sid,
    })
}

/// The user as the server acts for them without a login of theirs (an
/// Open311 key's issuer, demo data): `None` if unknown or deactivated.
pub async fn acting_as(state: &State, user_id: i64) -> AppResult<Option<CurrentUser>> {
    let Some(u) = user::Entity::find_by_id(user_id).filter(user::Column::Active.eq(true)).one(&state.db).await? else {
        return Ok(None);
    };
    Ok(Some(CurrentUser {
        id: u.id,
        name: crate::support::people::name_of(&u, u.lang.is_en()),
        phone: Phone::parse(&u.phone).map_err(AppError::internal)?,
        lang: u.lang,
        grants: load_grants(state, u.id).await?,
        session_id: String::new(),
    }))
}

/// Remembers the user's language ("zh" or "en") so it follows them to a new device.
pub async fn set_language(state: &State, user_id: i64, lang: domain::i18n::Lang) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::Lang, Expr::value(lang))
        .filter(user::Column::Id.eq(user_id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// The name a person gives themselves (a first login names the account by
/// its phone's last four digits, `people::default_name`).
pub async fn set_name(state: &State, user_id: i64, name: domain::text::PersonName) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::Name, Expr::value(name.into_inner()))
        .filter(user::Column::Id.eq(user_id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// The language a user chose, if any.
pub async fn language(state: &State, user_id: i64) -> AppResult<Option<domain::i18n::Lang>> {
    Ok(user::Entity::find_by_id(user_id).one(&state.db).await?.map(|u| u.lang))
}

pub async fn load_grants(state: &State, user_id: i64) -> AppResult<Vec<Grant>> {
    let rows = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(user_id))
        .find_also_related(org_unit::Entity)
        .all(&state.db)
        .await?;
    let mut grants = Vec::with_capacity(rows.len());
    for (r, org) in rows {
        let Some(org) = org else { continue };
        let Some(org_path) = OrgPath::parse(&org.path) else { continue };
        grants.push(Grant { role: r.role, org_unit_id: org.id, org_path, org_name: org.name });
    }
    grants.sort_by_key(|g| std::cmp::Reverse(g.role));
    Ok(grants)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
