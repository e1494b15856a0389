//! WeChat Pay API v3 cryptography and messages (protocols.md), used by the
//! `wechatpay` provider, by the `sandbox` provider (which signs and encrypts
//! its notifications exactly the same way) and by the tests' fake provider.
//!
//! - Signatures: SHA256 with RSA (PKCS#1 v1.5), base64. A notification is
//!   signed over `timestamp\nnonce\nbody\n`; a merchant request over
//!   `method\npath\ntimestamp\nnonce\nbody\n`. Signing and verifying use
//!   `ring` (constant-time; the `rsa` crate's RUSTSEC-2023-0071 timing side
//!   channel is in exactly the private-key operation residents can trigger);
//!   OpenSSL only generates the sandbox's key and reads and writes PEM.
//! - A notification's `resource` is AEAD_AES_256_GCM with the 32-byte APIv3
//!   key, a 12-byte nonce and the associated data, ciphertext and tag base64.

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use openssl::pkey::{HasPublic, PKey, PKeyRef};
use rand::{distributions::Alphanumeric, Rng};
use ring::signature::{RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An RSA public key (a platform's or a merchant's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// SubjectPublicKeyInfo (what a `PUBLIC KEY` PEM holds).
    spki_der: Vec<u8>,
    /// PKCS#1 RSAPublicKey (what `ring` verifies with).
    pkcs1_der: Vec<u8>,
}

impl PublicKey {
    fn of<T: HasPublic>(k: &PKeyRef<T>) -> anyhow::Result<PublicKey> {
        Ok(PublicKey { spki_der: k.public_key_to_der()?, pkcs1_der: k.rsa()?.public_key_to_der_pkcs1()? })
    }

    /// The SubjectPublicKeyInfo DER (a sandbox serial is its hash).
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }
}

/// Notifications older or newer than this are refused (replays).
pub const MAX_SKEW_SECS: i64 = 300;

/// Why a notification was refused. None of these is applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("timestamp outside ±300 s")]
    Stale,
    #[error("unknown certificate serial")]
    UnknownSerial,
    #[error("signature does not verify")]
    BadSignature,
    #[error("body is not a notification")]
    BadBody,
    #[error("resource does not decrypt")]
    BadCiphertext,
}

/// The four headers a notification carries.
#[derive(Clone, Debug, Default)]
pub struct NotifyHeaders {
    pub serial: Option<String>,
    pub signature: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
}

impl NotifyHeaders {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> NotifyHeaders {
        NotifyHeaders {
            serial: get("Wechatpay-Serial"),
            signature: get("Wechatpay-Signature"),
            timestamp: get("Wechatpay-Timestamp"),
            nonce: get("Wechatpay-Nonce"),
        }
    }

    /// As (name, value) pairs, for sending.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![];
        for (n, x) in [
            ("Wechatpay-Serial", &self.serial),
            ("Wechatpay-Signature", &self.signature),
            ("Wechatpay-Timestamp", &self.timestamp),
            ("Wechatpay-Nonce", &self.nonce),
        ] {
            if let Some(x) = x {
                v.push((n, x.clone()));
            }
        }
        v
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resource {
    pub algorithm: String,
    pub ciphertext: String,
    #[serde(default)]
    pub associated_data: String,
    pub original_type: String,
    pub nonce: String,
}

/// The notification envelope (what arrives in the body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: String,
    pub create_time: String,
    pub event_type: String,
    pub resource_type: String,
    #[serde(default)]
    pub summary: String,
    pub resource: Resource,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub total: i64,
    #[serde(default)]
    pub payer_total: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub payer_currency: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payer {
    pub openid: String,
}

/// A transaction: the decrypted resource of `TRANSACTION.SUCCESS`, and the
/// answer to an order query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub trade_type: Option<String>,
    pub trade_state: String,
    #[serde(default)]
    pub trade_state_desc: Option<String>,
    #[serde(default)]
    pub bank_type: Option<String>,
    #[serde(default)]
    pub success_time: Option<String>,
    #[serde(default)]
    pub payer: Option<Payer>,
    #[serde(default)]
    pub amount: Option<Amount>,
}

/// An RSA key pair with its certificate serial (platform or merchant).
#[derive(Clone)]
pub struct KeyPair {
    pub serial: String,
    signer: Arc<RsaKeyPair>,
    /// PKCS#8 (what a `PRIVATE KEY` PEM holds).
    pkcs8_der: Arc<Vec<u8>>,
    public: PublicKey,
}

impl KeyPair {
    /// A fresh 2048-bit key (the sandbox's platform key, tests).
    pub fn generate(serial: &str) -> anyhow::Result<KeyPair> {
        let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048)?)?;
        KeyPair::from_pkcs8(serial, key.private_key_to_pkcs8()?)
    }

    /// From a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as WeChat Pay issues them.
    pub fn from_pem(serial: &str, pem: &str) -> anyhow::Result<KeyPair> {
        let key = PKey::private_key_from_pem(pem.as_bytes())?;
        anyhow::ensure!(key.rsa().is_ok(), "not an RSA key");
        KeyPair::from_pkcs8(serial, key.private_key_to_pkcs8()?)
    }

    fn from_pkcs8(serial: &str, der: Vec<u8>) -> anyhow::Result<KeyPair> {
        let signer = RsaKeyPair::from_pkcs8(&der).map_err(|e| anyhow::anyhow!("RSA key refused: {e}"))?;
        let key = PKey::private_key_from_pkcs8(&der)?;
        let public = PublicKey::of(&key)?;
        Ok(KeyPair { serial: serial.to_string(), signer: Arc::new(signer), pkcs8_der: Arc::new(der), public })
    }

    pub fn private_pem(&self) -> anyhow::Result<String> {
        let pem = PKey::private_key_from_pkcs8(&self.pkcs8_der)?.private_key_to_pem_pkcs8()?;
        Ok(String::from_utf8(pem)?)
    }

    pub fn public(&self) -> PublicKey {
        self.public.clone()
    }

    pub fn public_pem(&self) -> anyhow::Result<String> {
        Ok(String::from_utf8(PKey::public_key_from_der(&self.public.spki_der)?.public_key_to_pem()?)?)
    }

    /// SHA256-with-RSA over `message`, base64 (ring: constant-time, blinded).
    pub fn sign(&self, message: &[u8]) -> String {
        let mut sig = vec![0u8; self.signer.public().modulus_len()];
        match self.signer.sign(&RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), message, &mut sig) {
            Ok(()) => STANDARD.encode(sig),
            Err(_) => {
                // only the system's random source can fail here; an empty
                // signature is refused by whoever checks it
                tracing::error!("RSA signing failed");
                String::new()
            }
        }
    }
}

/// A public key from a `-----BEGIN PUBLIC KEY-----` PEM (SubjectPublicKeyInfo).
pub fn public_from_pem(pem: &str) -> anyhow::Result<PublicKey> {
    let key = PKey::public_key_from_pem(pem.as_bytes())?;
    PublicKey::of(&key)
}

pub fn verify(key: &PublicKey, message: &[u8], signature_b64: &str) -> bool {
    let Ok(raw) = STANDARD.decode(signature_b64.trim()) else { return false };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key.pkcs1_der).verify(message, &raw).is_ok()
}

pub fn nonce_str() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect()
}

/// The message a notification (or a response) is signed over.
pub fn notification_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(body.len() + 64);
    m.extend_from_slice(timestamp.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(nonce.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// Signs a notification body as the platform does: the four headers.
pub fn sign_notification(platform: &KeyPair, timestamp: i64, body: &[u8]) -> NotifyHeaders {
    let ts = timestamp.to_string();
    let nonce = nonce_str();
    let signature = platform.sign(&notification_message(&ts, &nonce, body));
    NotifyHeaders {
        serial: Some(platform.serial.clone()),
        signature: Some(signature),
        timestamp: Some(ts),
        nonce: Some(nonce),
    }
}

fn nonce12(b: &[u8]) -> Option<Nonce<aes_gcm::aead::consts::U12>> {
    let a: [u8; 12] = b.try_into().ok()?;
    Some(Nonce::from(a))
}

/// Encrypts a resource with the APIv3 key (AEAD_AES_256_GCM).
pub fn encrypt_resource(
    apiv3_key: &[u8; 32],
    plaintext: &[u8],
    associated_data: &str,
    original_type: &str,
) -> anyhow::Result<Resource> {
    let nonce: String = rand::thread_rng().sample_iter(&Alphanumeric).take(12).map(char::from).collect();
    let cipher = Aes256Gcm::new_from_slice(apiv3_key).map_err(|_| anyhow::anyhow!("APIv3 key must be 32 bytes"))?;
    let ct = cipher
        .encrypt(
            &nonce12(nonce.as_bytes()).ok_or_else(|| anyhow::anyhow!("nonce"))?,
            Payload { msg: plaintext, aad: associated_data.as_bytes() },
        )
        .map_err(|_| anyhow::anyhow!("encryption failed"))?;
    Ok(Resource {
        algorithm: "AEAD_AES_256_GCM".into(),
        ciphertext: STANDARD.encode(ct),
        associated_data: associated_data.into(),
        original_type: original_type.into(),
        nonce,
    })
}

pub fn decrypt_resource(apiv3_key: &[u8; 32], r: &Resource) -> Result<Vec<u8>, NotifyError> {
    if r.algorithm != "AEAD_AES_256_GCM" || r.nonce.len() != 12 {
        return Err(NotifyError::BadCiphertext);
    }
    let ct = STANDARD.decode(r.ciphertext.as_bytes()).map_err(|_| NotifyError::BadCiphertext)?;
    let cipher = Aes256Gcm::new_from_slice(apiv3_key).map_err(|_| NotifyError::BadCiphertext)?;
    cipher
        .decrypt(
            &nonce12(r.nonce.as_bytes()).ok_or(NotifyError::BadCiphertext)?,
            Payload { msg: &ct, aad: r.associated_data.as_bytes() },
        )
        .map_err(|_| NotifyError::BadCiphertext)
}

/// What verifies notifications: the platform keys by serial (several during
/// a rotation) and the APIv3 key.
#[derive(Clone)]
pub struct Verifier {
    pub platform: Vec<(String, PublicKey)>,
    pub apiv3_key: [u8; 32],
}

impl Verifier {
    /// Checks headers, freshness and signature, then parses the envelope and
    /// decrypts its resource. `now` is Unix seconds.
    pub fn open(&self, h: &NotifyHeaders, body: &[u8], now: i64) -> Result<(Notification, Vec<u8>), NotifyError> {
        let serial = h.serial.as_deref().ok_or(NotifyError::MissingHeader("Wechatpay-Serial"))?;
        let signature = h.signature.as_deref().ok_or(NotifyError::MissingHeader("Wechatpay-Signature"))?;
        let ts = h.timestamp.as_deref().ok_or(NotifyError::MissingHeader("Wechatpay-Timestamp"))?;
        let nonce = h.nonce.as_deref().ok_or(NotifyError::MissingHeader("Wechatpay-Nonce"))?;
        let t: i64 = ts.trim().parse().map_err(|_| NotifyError::Stale)?;
        if (now - t).abs() >= MAX_SKEW_SECS {
            return Err(NotifyError::Stale);
        }
        let key = self.platform.iter().find(|(s, _)| s == serial).map(|(_, k)| k).ok_or(NotifyError::UnknownSerial)?;
        if !verify(key, &notification_message(ts, nonce, body), signature) {
            return Err(NotifyError::BadSignature);
        }
        let n: Notification = serde_json::from_slice(body).map_err(|_| NotifyError::BadBody)?;
        let plain = decrypt_resource(&self.apiv3_key, &n.resource)?;
        Ok((n, plain))
    }
}

/// `Authorization` for a merchant's request to the API
/// (`WECHATPAY2-SHA256-RSA2048`).
pub fn authorization(mchid: &str, merchant: &KeyPair, method: &str, path_and_query: &str, body: &str) -> String {
    let ts = chrono::Utc::now().timestamp().to_string();
    let nonce = nonce_str();
    let message = format!("{method}\n{path_and_query}\n{ts}\n{nonce}\n{body}\n");
    let signature = merchant.sign(message.as_bytes());
    format!(
        "WECHATPAY2-SHA256-RSA2048 mchid=\"{mchid}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{ts}\",serial_no=\"{}\"",
        merchant.serial
    )
}

/// One row of a trade bill (交易账单): a payment or a refund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeBillRow {
    pub time: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    /// SUCCESS, REFUND or REVOKED
    pub state: String,
    /// 订单金额, in fen
    pub amount: i64,
    /// 退款金额, in fen (refund rows)
    pub refund: i64,
}

/// The header of a trade bill (type ALL), as WeChat Pay writes it.
pub const TRADE_BILL_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";

fn yuan_to_fen(s: &str) -> Option<i64> {
    domain::money::Fen::parse_yuan(s).ok().map(|f| f.0)
}

/// Parses a trade bill: every data field starts with a backtick; the rows
/// end at the totals ("总交易单数…"). Amounts are yuan with two decimals.
pub fn parse_trade_bill(text: &str) -> Result<Vec<TradeBillRow>, String> {
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty bill")?.split(',').map(|h| h.trim()).collect();
    let col = |name: &str| header.iter().position(|h| *h == name).ok_or(format!("no column {name}"));
    let (time, tx, no, state, amount, refund) = (
        col("交易时间")?,
        col("微信订单号")?,
        col("商户订单号")?,
        col("交易状态")?,
        col("订单金额")?,
        col("退款金额")?,
    );
    let mut out = vec![];
    for (i, line) in lines.enumerate() {
        if line.starts_with("总交易单数") {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(|c| c.trim().trim_start_matches('`')).collect();
        let get = |j: usize| cells.get(j).copied().ok_or(format!("row {}: too few fields", i + 2));
        out.push(TradeBillRow {
            time: get(time)?.to_string(),
            transaction_id: get(tx)?.to_string(),
            out_trade_no: get(no)?.to_string(),
            state: get(state)?.to_string(),
            amount: yuan_to_fen(get(amount)?).ok_or(format!("row {}: bad amount", i + 2))?,
            refund: yuan_to_fen(get(refund)?).unwrap_or(0),
        });
    }
    Ok(out)
}

/// Writes rows as a trade bill (the sandbox's, and the tests' fake's).
pub fn write_trade_bill(appid: &str, mchid: &str, rows: &[TradeBillRow]) -> String {
    let yuan = |f: i64| format!("{}.{:02}", f / 100, f % 100);
    let mut s = String::from(TRADE_BILL_HEADER);
    s.push('\n');
    for r in rows {
        s.push_str(&format!(
            "`{},`{appid},`{mchid},`0,`,`{},`{},`o,`JSAPI,`{},`OTHERS,`CNY,`{},`0.00,`0,`0,`{},`0.00,`,`,`缴费,`,`0.00,`0.60%,`{},`{},`\n",
            r.time,
            r.transaction_id,
            r.out_trade_no,
            r.state,
            yuan(r.amount),
            yuan(r.refund),
            yuan(r.amount),
            yuan(r.refund),
        ));
    }
    let total: i64 = rows.iter().filter(|r| r.state == "SUCCESS").map(|r| r.amount).sum();
    s.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n");
    s.push_str(&format!("`{},`{},`0.00,`0.00,`0.00,`{},`0.00\n", rows.len(), yuan(total), yuan(total)));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> KeyPair {
        KeyPair::generate("5157F09EFDC096DE15EBE81A47057A7232F1B8E1").unwrap()
    }

    #[test]
    fn notifications_verify_and_decrypt_and_refuse_tampering() {
        let platform = pair();
        let key = [7u8; 32];
        let tx = br#"{"appid":"wx1","mchid":"1900000001","out_trade_no":"A1","trade_state":"SUCCESS"}"#;
        let n = Notification {
            id: "n1".into(),
            create_time: "2026-11-23T10:00:00+08:00".into(),
            event_type: "TRANSACTION.SUCCESS".into(),
            resource_type: "encrypt-resource".into(),
            summary: "支付成功".into(),
            resource: encrypt_resource(&key, tx, "transaction", "transaction").unwrap(),
        };
        let body = serde_json::to_vec(&n).unwrap();
        let now = 1_795_000_000;
        let h = sign_notification(&platform, now, &body);
        let v = Verifier { platform: vec![(platform.serial.clone(), platform.public())], apiv3_key: key };
        let (got, plain) = v.open(&h, &body, now + 10).unwrap();
        assert_eq!(got, n);
        assert_eq!(plain, tx);

        // replayed later, or from the future
        assert_eq!(v.open(&h, &body, now + 300).unwrap_err(), NotifyError::Stale);
        assert_eq!(v.open(&h, &body, now - 300).unwrap_err(), NotifyError::Stale);
        // a changed body
        let mut tampered = body.clone();
        let at = tampered.iter().position(|b| *b == b'n').unwrap();
        tampered[at] = b'm';
        assert_eq!(v.open(&h, &tampered, now).unwrap_err(), NotifyError::BadSignature);
        // signed by someone else under the right serial
        let other = pair();
        let mut forged = sign_notification(&other, now, &body);
        forged.serial = Some(platform.serial.clone());
        assert_eq!(v.open(&forged, &body, now).unwrap_err(), NotifyError::BadSignature);
        // unknown serial, missing header
        let mut unknown = h.clone();
        unknown.serial = Some("00".into());
        assert_eq!(v.open(&unknown, &body, now).unwrap_err(), NotifyError::UnknownSerial);
        let mut missing = h.clone();
        missing.nonce = None;
        assert_eq!(v.open(&missing, &body, now).unwrap_err(), NotifyError::MissingHeader("Wechatpay-Nonce"));
        // the wrong APIv3 key
        let wrong = Verifier { apiv3_key: [8u8; 32], ..v.clone() };
        assert_eq!(wrong.open(&h, &body, now).unwrap_err(), NotifyError::BadCiphertext);
    }

    #[test]
    fn trade_bills_round_trip() {
        let rows = vec![
            TradeBillRow {
                time: "2026-11-22 10:05:01".into(),
                transaction_id: "4200000001".into(),
                out_trade_no: "ZH1".into(),
                state: "SUCCESS".into(),
                amount: 104_162,
                refund: 0,
            },
            TradeBillRow {
                time: "2026-11-22 11:00:00".into(),
                transaction_id: "4200000002".into(),
                out_trade_no: "ZH2".into(),
                state: "SUCCESS".into(),
                amount: 1,
                refund: 0,
            },
        ];
        let text = write_trade_bill("wx1", "1900000001", &rows);
        assert!(text.contains("`1041.62") && text.lines().count() == 5, "{text}");
        assert_eq!(parse_trade_bill(&text).unwrap(), rows);
        assert!(parse_trade_bill("交易时间,商户订单号\n").is_err(), "columns missing");
        let bad = text.replace("`1041.62", "`1041.6x");
        assert!(parse_trade_bill(&bad).is_err());
    }

    #[test]
    fn keys_survive_pem() {
        let k = pair();
        let again = KeyPair::from_pem(&k.serial, &k.private_pem().unwrap()).unwrap();
        let public = public_from_pem(&k.public_pem().unwrap()).unwrap();
        assert!(verify(&public, b"hello", &again.sign(b"hello")));
        assert!(!verify(&public, b"hellO", &again.sign(b"hello")));
    }
}
