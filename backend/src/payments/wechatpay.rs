//! WeChat Pay API v3 (protocols.md): JSAPI inside WeChat (the payer's
//! openid), H5 outside it; order query; close; refunds. Every request is
//! signed with the merchant key (`WECHATPAY2-SHA256-RSA2048`); every answer's
//! signature is checked with the platform keys before it is believed, the
//! same way as notifications.

use async_trait::async_trait;
use chrono::{Duration, Utc};
use domain::ErrorCode;
use serde::Deserialize;

use super::{CloseOutcome, PayerContext, Provider, RefundAccepted, RefundRequest, RefundState};
use crate::{
    config::WechatPayConfig,
    entities::payment_order,
    error::{AppError, AppResult},
    wxpay::{self, KeyPair, NotifyHeaders, Transaction, Verifier},
    State,
};

pub struct WechatPay {
    cfg: WechatPayConfig,
    merchant: KeyPair,
    verifier: Verifier,
    http: reqwest::Client,
    notify_url: String,
}

/// The answer a merchant request got, its signature checked.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

fn unavailable(e: impl std::fmt::Display) -> AppError {
    AppError { code: ErrorCode::PaymentUnavailable, cause: Some(anyhow::anyhow!("wechatpay: {e}")) }
}

impl WechatPay {
    pub fn new(cfg: &WechatPayConfig, public_url: &str) -> anyhow::Result<WechatPay> {
        let merchant = KeyPair::from_pem(&cfg.serial, &cfg.private_key_pem)?;
        let mut platform = vec![];
        for (serial, pem) in &cfg.platform_keys {
            platform.push((serial.clone(), wxpay::public_from_pem(pem)?));
        }
        Ok(WechatPay {
            cfg: cfg.clone(),
            merchant,
            verifier: Verifier { platform, apiv3_key: cfg.apiv3_key },
            http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build()?,
            notify_url: format!("{}/api/v1/payments/notify/wechatpay", public_url.trim_end_matches('/')),
        })
    }

    async fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> AppResult<Answer> {
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = wxpay::authorization(&self.cfg.mchid, &self.merchant, method, path, &text);
        let url = format!("{}{}", self.cfg.api_base.trim_end_matches('/'), path);
        let mut req = match method {
            "GET" => self.http.get(&url),
            _ => self.http.post(&url).header("Content-Type", "application/json").body(text),
        };
        req = req.header("Authorization", auth).header("Accept", "application/json").header("User-Agent", "zhsq");
        let res = req.send().await.map_err(unavailable)?;
        let status = res.status().as_u16();
        let get = |n: &str| res.headers().get(n).and_then(|v| v.to_str().ok()).map(|s| s.to_string());
        let h = NotifyHeaders::from_lookup(get);
        let body = res.bytes().await.map_err(unavailable)?.to_vec();
        // believe nothing the platform did not sign (2xx answers carry a body or nothing)
        if (200..300).contains(&status) {
            self.check_signature(&h, &body)?;
        }
        Ok(Answer { status, body })
    }

    fn check_signature(&self, h: &NotifyHeaders, body: &[u8]) -> AppResult<()> {
        let (Some(serial), Some(sig), Some(ts), Some(nonce)) = (&h.serial, &h.signature, &h.timestamp, &h.nonce) else {
            return Err(unavailable("answer not signed"));
        };
        let t: i64 = ts.parse().map_err(|_| unavailable("bad timestamp"))?;
        if (Utc::now().timestamp() - t).abs() >= wxpay::MAX_SKEW_SECS {
            return Err(unavailable("stale answer"));
        }
        let key = self.verifier.platform.iter().find(|(s, _)| s == serial).map(|(_, k)| k);
        match key {
            Some(k) if wxpay::verify(k, &wxpay::notification_message(ts, nonce, body), sig) => Ok(()),
            _ => Err(unavailable("answer signature does not verify")),
        }
    }

    fn error_of(a: &Answer) -> ErrorBody {
        serde_json::from_slice(&a.body).unwrap_or(ErrorBody { code: String::new(), message: String::new() })
    }

    /// The parameters `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` takes, signed.
    pub fn jsapi_params(&self, prepay_id: &str) -> serde_json::Value {
        let ts = Utc::now().timestamp().to_string();
        let nonce = wxpay::nonce_str();
        let package = format!("prepay_id={prepay_id}");
        let message = format!("{}\n{ts}\n{nonce}\n{package}\n", self.cfg.appid);
        serde_json::json!({
            "appId": self.cfg.appid,
            "timeStamp": ts,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": self.merchant.sign(message.as_bytes()),
        })
    }
}

#[async_trait]
impl Provider for WechatPay {
    fn name(&self) -> &'static str {
        "wechatpay"
    }

    fn merchant(&self) -> (String, String) {
        (self.cfg.mchid.clone(), self.cfg.appid.clone())
    }

    async fn prepay(
        &self,
        _state: &State,
        order: &payment_order::Model,
        description: &str,
        payer: &PayerContext,
    ) -> AppResult<String> {
        let expire = (order.expires_at - Duration::seconds(60)).with_timezone(&domain::time::beijing());
        let mut body = serde_json::json!({
            "appid": self.cfg.appid,
            "mchid": self.cfg.mchid,
            "description": description,
            "out_trade_no": order.out_trade_no,
            "time_expire": expire.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            "notify_url": self.notify_url,
            "amount": { "total": order.amount_fen, "currency": "CNY" },
        });
        match (&payer.openid, payer.in_wechat) {
            (Some(openid), true) => {
                body["payer"] = serde_json::json!({ "openid": openid });
                let a = self.call("POST", "/v3/pay/transactions/jsapi", Some(body)).await?;
                if a.status != 200 {
                    let e = Self::error_of(&a);
                    return Err(unavailable(format!("jsapi {}: {} {}", a.status, e.code, e.message)));
                }
                let v: serde_json::Value = serde_json::from_slice(&a.body).map_err(unavailable)?;
                let prepay_id = v["prepay_id"].as_str().ok_or_else(|| unavailable("no prepay_id"))?;
                // our page hands the signed parameters to WeChat's JS bridge
                Ok(format!("/pay/wechat/{}?prepay_id={}", order.out_trade_no, prepay_id))
            }
            _ => {
                body["scene_info"] =
                    serde_json::json!({ "payer_client_ip": payer.client_ip, "h5_info": { "type": "Wap" } });
                let a = self.call("POST", "/v3/pay/transactions/h5", Some(body)).await?;
                if a.status != 200 {
                    let e = Self::error_of(&a);
                    return Err(unavailable(format!("h5 {}: {} {}", a.status, e.code, e.message)));
                }
                let v: serde_json::Value = serde_json::from_slice(&a.body).map_err(unavailable)?;
                let h5 = v["h5_url"].as_str().ok_or_else(|| unavailable("no h5_url"))?;
                let back = format!("{}/pay/orders/{}", payer.public_url.trim_end_matches('/'), order.out_trade_no);
                let back: String = crate::url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
                Ok(format!("{h5}&redirect_url={back}"))
            }
        }
    }

    async fn query(&self, _state: &State, out_trade_no: &str) -> AppResult<Option<Transaction>> {
        let path = format!("/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={}", self.cfg.mchid);
        let a = self.call("GET", &path, None).await?;
        match a.status {
            200 => Ok(Some(serde_json::from_slice(&a.body).map_err(unavailable)?)),
            404 => Ok(None),
            s => Err(unavailable(format!("query {s}: {}", Self::error_of(&a).code))),
        }
    }

    async fn close(&self, _state: &State, out_trade_no: &str) -> AppResult<CloseOutcome> {
        let path = format!("/v3/pay/transactions/out-trade-no/{out_trade_no}/close");
        let a = self.call("POST", &path, Some(serde_json::json!({ "mchid": self.cfg.mchid }))).await?;
        match a.status {
            200 | 204 => Ok(CloseOutcome::Closed),
            _ if Self::error_of(&a).code == "ORDERPAID" => Ok(CloseOutcome::AlreadyPaid),
            404 => Ok(CloseOutcome::Closed),
            s => Err(unavailable(format!("close {s}: {}", Self::error_of(&a).code))),
        }
    }

    async fn refund(&self, _state: &State, r: &RefundRequest) -> AppResult<RefundAccepted> {
        let body = serde_json::json!({
            "out_trade_no": r.out_trade_no,
            "out_refund_no": r.out_refund_no,
            "reason": r.reason.chars().take(80).collect::<String>(),
            "amount": { "refund": r.amount.0, "total": r.total.0, "currency": "CNY" },
        });
        let a = self.call("POST", "/v3/refund/domestic/refunds", Some(body)).await?;
        if a.status != 200 {
            let e = Self::error_of(&a);
            return Err(unavailable(format!("refund {}: {} {}", a.status, e.code, e.message)));
        }
        let v: serde_json::Value = serde_json::from_slice(&a.body).map_err(unavailable)?;
        match v["status"].as_str() {
            Some(s @ ("SUCCESS" | "PROCESSING")) => Ok(RefundAccepted {
                refund_id: v["refund_id"].as_str().unwrap_or_default().to_string(),
                done: s == "SUCCESS",
            }),
            other => Err(unavailable(format!("refund status {other:?}"))),
        }
    }

    async fn refund_status(&self, _state: &State, out_refund_no: &str) -> AppResult<RefundState> {
        let a = self.call("GET", &format!("/v3/refund/domestic/refunds/{out_refund_no}"), None).await?;
        if a.status != 200 {
            return Err(unavailable(format!("refund query {}: {}", a.status, Self::error_of(&a).code)));
        }
        let v: serde_json::Value = serde_json::from_slice(&a.body).map_err(unavailable)?;
        Ok(match v["status"].as_str() {
            Some("SUCCESS") => RefundState::Success,
            Some("CLOSED" | "ABNORMAL") => RefundState::Failed,
            _ => RefundState::Processing,
        })
    }

    async fn trade_bill(&self, _state: &State, date: chrono::NaiveDate) -> AppResult<Vec<wxpay::TradeBillRow>> {
        let path = format!("/v3/bill/tradebill?bill_date={}&bill_type=ALL", date.format("%Y-%m-%d"));
        let a = self.call("GET", &path, None).await?;
        if a.status != 200 {
            let e = Self::error_of(&a);
            if e.code == "NO_STATEMENT_EXIST" {
                return Ok(vec![]); // nothing traded that day
            }
            return Err(unavailable(format!("tradebill {}: {} {}", a.status, e.code, e.message)));
        }
        let v: serde_json::Value = serde_json::from_slice(&a.body).map_err(unavailable)?;
        let url = v["download_url"].as_str().ok_or_else(|| unavailable("no download_url"))?;
        let want = v["hash_value"].as_str().unwrap_or_default().to_ascii_lowercase();
        // the download is signed like any request; its content is checked by its hash
        let path_and_query = url.find("/v3/").map(|i| &url[i..]).unwrap_or(url);
        let auth = wxpay::authorization(&self.cfg.mchid, &self.merchant, "GET", path_and_query, "");
        let res = self.http.get(url).header("Authorization", auth).send().await.map_err(unavailable)?;
        if !res.status().is_success() {
            return Err(unavailable(format!("bill download {}", res.status())));
        }
        let bytes = res.bytes().await.map_err(unavailable)?;
        if sha1_smol::Sha1::from(&bytes[..]).digest().to_string() != want {
            return Err(unavailable("trade bill hash does not match"));
        }
        let text = String::from_utf8(bytes.to_vec()).map_err(unavailable)?;
        wxpay::parse_trade_bill(&text).map_err(unavailable)
    }

    async fn verifier(&self, _state: &State) -> AppResult<Verifier> {
        Ok(self.verifier.clone())
    }
}
