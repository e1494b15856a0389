//! The sandbox provider (the default): plays WeChat Pay inside the app, so
//! the whole payment path runs for real without a merchant account.
//!
//! It keeps its own book (`sandbox_trades`), apart from our orders, as the
//! real provider would. Its pay page lets the payer choose success, failure,
//! or success with the notification held back (the order then shows
//! "confirming" until our query finds it paid). Notifications are built,
//! encrypted (AEAD_AES_256_GCM) and signed (SHA256-with-RSA) exactly as
//! WeChat Pay v3 does, with a platform key pair and APIv3 key generated on
//! first use and kept in `settings`; each success is notified twice, as the
//! real one may, and a refused notification is retried with backoff.

use async_trait::async_trait;
use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{Duration, Utc};
use domain::{payments::TradeState, ErrorCode};
use rand::{Rng, RngCore};
use sea_orm::{sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::{CloseOutcome, PayerContext, Provider, RefundAccepted, RefundRequest, RefundState};
use crate::{
    entities::{payment_order, sandbox_trade as trade, setting},
    error::{AppError, AppResult},
    jobs::{self, NewJob},
    wxpay::{
        encrypt_resource, sign_notification, Amount, KeyPair, Notification, NotifyHeaders, Payer, Transaction, Verifier,
    },
    State,
};

pub const MCHID: &str = "1900000001";
pub const APPID: &str = "wx8888888888888888";
const PLATFORM_KEY: &str = "sandbox_platform_private_key";
const APIV3_KEY: &str = "sandbox_apiv3_key";
/// How long "success, notification late" holds the notification back.
pub const LATE_NOTIFY_SECS: i64 = 120;

struct Keys {
    platform: KeyPair,
    apiv3: [u8; 32],
}

#[derive(Default)]
pub struct Sandbox {
    keys: OnceCell<Keys>,
}

/// The payer's choice on the sandbox pay page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Success,
    Failure,
    /// Paid, but the notification comes late.
    Late,
}

impl Choice {
    pub fn parse(s: &str) -> Option<Choice> {
        match s {
            "success" => Some(Choice::Success),
            "failure" => Some(Choice::Failure),
            "late" => Some(Choice::Late),
            _ => None,
        }
    }
}

async fn setting_value<C: ConnectionTrait>(db: &C, key: &str) -> AppResult<Option<String>> {
    Ok(setting::Entity::find_by_id(key.to_string()).one(db).await?.map(|s| s.value))
}

async fn put_setting<C: ConnectionTrait>(db: &C, key: &str, value: String) -> AppResult<()> {
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.into()),
        value: Set(value),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([setting::Column::Key])
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A certificate serial for a public key: the first 20 bytes of its SHA-256, hex.
fn serial_of(k: &KeyPair) -> AppResult<String> {
    Ok(hex::encode_upper(&Sha256::digest(k.public().spki_der())[..20]))
}

impl Sandbox {
    /// The platform keys, made once for the whole deployment (the first
    /// instance to store them wins; everyone uses the stored ones).
    async fn keys(&self, state: &State) -> AppResult<&Keys> {
        self.keys
            .get_or_try_init(|| async {
                if setting_value(&state.db, PLATFORM_KEY).await?.is_none() {
                    let fresh = tokio::task::spawn_blocking(|| KeyPair::generate(""))
                        .await
                        .map_err(AppError::internal)?
                        .map_err(AppError::internal)?;
                    put_setting(&state.db, PLATFORM_KEY, fresh.private_pem().map_err(AppError::internal)?).await?;
                    let mut key = [0u8; 32];
                    rand::thread_rng().fill_bytes(&mut key);
                    put_setting(&state.db, APIV3_KEY, STANDARD.encode(key)).await?;
                }
                let pem = setting_value(&state.db, PLATFORM_KEY)
                    .await?
                    .ok_or_else(|| AppError::internal(anyhow::anyhow!("sandbox key missing")))?;
                let mut platform = KeyPair::from_pem("", &pem).map_err(AppError::internal)?;
                platform.serial = serial_of(&platform)?;
                let raw = setting_value(&state.db, APIV3_KEY)
                    .await?
                    .and_then(|v| STANDARD.decode(v).ok())
                    .ok_or_else(|| AppError::internal(anyhow::anyhow!("sandbox APIv3 key missing")))?;
                let apiv3: [u8; 32] =
                    raw.try_into().map_err(|_| AppError::internal(anyhow::anyhow!("sandbox APIv3 key length")))?;
                Ok::<Keys, AppError>(Keys { platform, apiv3 })
            })
            .await
    }

    /// A notification of this transaction, signed now (or at `timestamp`),
    /// as the provider sends it. Tests use it to replay and tamper.
    pub async fn signed(&self, state: &State, tx: &Transaction, timestamp: i64) -> AppResult<(NotifyHeaders, Vec<u8>)> {
        let keys = self.keys(state).await?;
        let plain = serde_json::to_vec(tx).map_err(AppError::internal)?;
        let n = Notification {
            id: uuid::Uuid::new_v4().to_string(),
            create_time: Utc::now().with_timezone(&domain::time::beijing()).to_rfc3339(),
            event_type: "TRANSACTION.SUCCESS".into(),
            resource_type: "encrypt-resource".into(),
            summary: "支付成功".into(),
            resource: encrypt_resource(&keys.apiv3, &plain, "transaction", "transaction")
                .map_err(AppError::internal)?,
        };
        let body = serde_json::to_vec(&n).map_err(AppError::internal)?;
        Ok((sign_notification(&keys.platform, timestamp, &body), body))
    }

    /// The payer's choice on the pay page. A second choice changes nothing.
    pub async fn decide(&self, state: &State, out_trade_no: &str, choice: Choice) -> AppResult<()> {
        let t = trade::Entity::find()
            .filter(trade::Column::OutTradeNo.eq(out_trade_no))
            .one(&state.db)
            .await?
            .ok_or(ErrorCode::NotFound)?;
        let now = Utc::now();
        let (to, transaction_id) = match choice {
            Choice::Failure => (TradeState::Payerror, None),
            Choice::Success | Choice::Late => {
                let mut r = rand::thread_rng();
                (
                    TradeState::Success,
                    Some(format!(
                        "4200{:012}{:012}",
                        r.gen_range(0..1_000_000_000_000u64),
                        r.gen_range(0..1_000_000_000_000u64)
                    )),
                )
            }
        };
        let txn = sea_orm::TransactionTrait::begin(&state.db).await?;
        let moved = trade::Entity::update_many()
            .col_expr(trade::Column::State, Expr::value(to.as_str()))
            .col_expr(trade::Column::TransactionId, Expr::value(transaction_id.clone()))
            .col_expr(trade::Column::SuccessTime, Expr::value((to == TradeState::Success).then_some(now)))
            .col_expr(trade::Column::UpdatedAt, Expr::value(now))
            .filter(trade::Column::Id.eq(t.id))
            .filter(trade::Column::State.eq(TradeState::Notpay))
            .exec(&txn)
            .await?;
        if moved.rows_affected == 1 {
            if let Some(tx) = &transaction_id {
                let first = if choice == Choice::Late { now + Duration::seconds(LATE_NOTIFY_SECS) } else { now };
                // the provider may notify more than once: here always twice
                for (seq, at) in [(1, first), (2, first + Duration::seconds(5))] {
                    jobs::enqueue(
                        &txn,
                        NewJob::new(
                            super::SANDBOX_NOTIFY,
                            format!("sandbox.notify:{tx}:{seq}"),
                            NotifyJob { out_trade_no: out_trade_no.into() },
                        )
                        .at(at),
                    )
                    .await?;
                }
            }
        }
        txn.commit().await?;
        state.jobs.kick();
        Ok(())
    }

    fn transaction(&self, t: &trade::Model) -> Transaction {
        Transaction {
            appid: t.appid.clone(),
            mchid: t.mchid.clone(),
            out_trade_no: t.out_trade_no.clone(),
            transaction_id: t.transaction_id.clone(),
            trade_type: Some("JSAPI".into()),
            trade_state: t.state.as_str().into(),
            trade_state_desc: Some(
                match Some(t.state) {
                    Some(TradeState::Success) => "支付成功",
                    Some(TradeState::Payerror) => "支付失败",
                    Some(TradeState::Closed) => "已关闭",
                    Some(TradeState::Refund) => "转入退款",
                    _ => "未支付",
                }
                .into(),
            ),
            bank_type: Some("OTHERS".into()),
            success_time: t.success_time.map(|s| s.with_timezone(&domain::time::beijing()).to_rfc3339()),
            payer: Some(Payer { openid: "sandbox-payer".into() }),
            amount: Some(Amount {
                total: t.amount_fen,
                payer_total: Some(t.amount_fen),
                currency: Some("CNY".into()),
                payer_currency: Some("CNY".into()),
            }),
        }
    }

    /// The sandbox's own record of a trade (its pay page shows it).
    pub async fn trade(&self, state: &State, out_trade_no: &str) -> AppResult<Option<trade::Model>> {
        Ok(trade::Entity::find().filter(trade::Column::OutTradeNo.eq(out_trade_no)).one(&state.db).await?)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NotifyJob {
    pub out_trade_no: String,
}

/// Sends one notification of a paid sandbox trade to us, through the same
/// verification as any provider's (a refused one is retried by the job).
pub async fn notify_job(state: &State, j: NotifyJob) -> anyhow::Result<()> {
    let Some(sandbox) = state.sandbox.as_ref() else { return Ok(()) };
    let Some(t) =
        trade::Entity::find().filter(trade::Column::OutTradeNo.eq(j.out_trade_no.as_str())).one(&state.db).await?
    else {
        return Ok(());
    };
    let tx = sandbox.transaction(&t);
    let (headers, body) =
        sandbox.signed(state, &tx, Utc::now().timestamp()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    match super::notification(state, &headers, &body).await {
        Ok(outcome) => {
            tracing::debug!(order = %j.out_trade_no, ?outcome, "sandbox notification delivered");
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!("notification refused: {e:?}")),
    }
}

#[async_trait]
impl Provider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn merchant(&self) -> (String, String) {
        (MCHID.into(), APPID.into())
    }

    async fn prepay(
        &self,
        state: &State,
        order: &payment_order::Model,
        description: &str,
        _payer: &PayerContext,
    ) -> AppResult<String> {
        let now = Utc::now();
        trade::Entity::insert(trade::ActiveModel {
            out_trade_no: Set(order.out_trade_no.clone()),
            mchid: Set(MCHID.into()),
            appid: Set(APPID.into()),
            description: Set(description.chars().take(100).collect()),
            amount_fen: Set(order.amount_fen),
            refunded_fen: Set(0),
            state: Set(TradeState::Notpay),
            transaction_id: Set(None),
            success_time: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .on_conflict_do_nothing_on([trade::Column::OutTradeNo])
        .exec_without_returning(&state.db)
        .await?;
        Ok(format!("/pay/sandbox/{}", order.out_trade_no))
    }

    async fn query(&self, state: &State, out_trade_no: &str) -> AppResult<Option<Transaction>> {
        let t = trade::Entity::find().filter(trade::Column::OutTradeNo.eq(out_trade_no)).one(&state.db).await?;
        Ok(t.map(|t| self.transaction(&t)))
    }

    async fn close(&self, state: &State, out_trade_no: &str) -> AppResult<CloseOutcome> {
        let now = Utc::now();
        trade::Entity::update_many()
            .col_expr(trade::Column::State, Expr::value(TradeState::Closed))
            .col_expr(trade::Column::UpdatedAt, Expr::value(now))
            .filter(trade::Column::OutTradeNo.eq(out_trade_no))
            .filter(trade::Column::State.is_in([TradeState::Notpay, TradeState::Userpaying]))
            .exec(&state.db)
            .await?;
        let t = trade::Entity::find().filter(trade::Column::OutTradeNo.eq(out_trade_no)).one(&state.db).await?;
        Ok(match t.map(|t| t.state) {
            Some(TradeState::Success | TradeState::Refund) => CloseOutcome::AlreadyPaid,
            _ => CloseOutcome::Closed,
        })
    }

    async fn refund(&self, state: &State, r: &RefundRequest) -> AppResult<RefundAccepted> {
        let moved = trade::Entity::update_many()
            .col_expr(trade::Column::RefundedFen, Expr::col(trade::Column::RefundedFen).add(r.amount.0))
            .col_expr(trade::Column::State, Expr::value(TradeState::Refund))
            .col_expr(trade::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(trade::Column::OutTradeNo.eq(r.out_trade_no.as_str()))
            .filter(trade::Column::State.is_in([TradeState::Success, TradeState::Refund]))
            .filter(Expr::col(trade::Column::RefundedFen).add(r.amount.0).lte(Expr::col(trade::Column::AmountFen)))
            .exec(&state.db)
            .await?;
        if moved.rows_affected != 1 {
            return Err(ErrorCode::RefundTooLarge.into());
        }
        Ok(RefundAccepted { refund_id: format!("50{:020}", rand::thread_rng().gen_range(0..u64::MAX)), done: true })
    }

    async fn refund_status(&self, _state: &State, _out_refund_no: &str) -> AppResult<RefundState> {
        Ok(RefundState::Success) // the sandbox refunds at once
    }

    async fn trade_bill(&self, state: &State, date: chrono::NaiveDate) -> AppResult<Vec<crate::wxpay::TradeBillRow>> {
        let from = domain::time::beijing_at(date, chrono::NaiveTime::MIN);
        let rows = trade::Entity::find()
            .filter(trade::Column::SuccessTime.gte(from))
            .filter(trade::Column::SuccessTime.lt(from + Duration::days(1)))
            .all(&state.db)
            .await?;
        let rows: Vec<crate::wxpay::TradeBillRow> = rows
            .into_iter()
            .filter_map(|t| {
                Some(crate::wxpay::TradeBillRow {
                    time: t
                        .success_time?
                        .with_timezone(&domain::time::beijing())
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string(),
                    transaction_id: t.transaction_id?,
                    out_trade_no: t.out_trade_no,
                    state: "SUCCESS".into(),
                    amount: t.amount_fen,
                    refund: 0,
                })
            })
            .collect();
        // through the same text format as WeChat Pay's, so the parser is what reads it
        let text = crate::wxpay::write_trade_bill(APPID, MCHID, &rows);
        crate::wxpay::parse_trade_bill(&text).map_err(|e| AppError::internal(anyhow::anyhow!(e)))
    }

    async fn verifier(&self, state: &State) -> AppResult<Verifier> {
        let k = self.keys(state).await?;
        Ok(Verifier { platform: vec![(k.platform.serial.clone(), k.platform.public())], apiv3_key: k.apiv3 })
    }
}
