//! Payment routes outside Leptos:
//!
//! - `POST /bills/pay`: the bills page's form (several `bill` fields, which
//!   server functions cannot take without JavaScript) → order → provider.
//! - `GET|POST /pay/sandbox/{no}`: the sandbox provider's own pay page.
//! - `GET /staff/bills/orders.csv`: staff export.
//! - `/api/v1/payments/…`: JSON for external clients, and the providers'
//!   notification endpoint.

use actix_web::{get, post};
use actix_web::{http::header, web, HttpMessage, HttpRequest, HttpResponse};
use backend::{
    auth::CurrentUser,
    idempotency::{self, Keyed, Start},
    payments::{self, sandbox::Choice, Applied, Created, Refused},
    wxpay::NotifyHeaders,
    AppError, State,
};
use domain::{money::Fen, ErrorCode};
use serde::Deserialize;

use crate::api::{api_err, code_err, user, ApiError};

use crate::security::see_other;

/// Who pays from where: WeChat's browser or not, and the client's address.
pub fn payer_context(req: &HttpRequest) -> payments::PayerContext {
    let ua = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    payments::PayerContext::from_request(ua, &app::session::ssr::client_ip(req))
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    backend::url::form_urlencoded::parse(body).into_owned().collect()
}

/// Creates the order under the request's idempotency key (a replay or a
/// double click gets the same order).
async fn create_keyed(state: &State, u: &CurrentUser, ids: &[i64], key: Option<&str>) -> Result<Created, AppError> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let fingerprint = format!("bills={}", sorted.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    let Some(key) = key else { return payments::create_order(state, u, &sorted, None).await };
    let k = Keyed::parse(u.id, "order.create", key, fingerprint.as_bytes())?;
    // a duplicate still in flight: wait for its answer a little
    let mut tries = 0;
    loop {
        match idempotency::start(&state.db, &k).await {
            Ok(Start::Replay(saved)) => {
                return serde_json::from_str::<Created>(&saved.body)
                    .map(|c| Created { created: false, ..c })
                    .map_err(AppError::internal)
            }
            Ok(Start::Fresh) => break,
            Err(e) if e.code == ErrorCode::IdempotencyInFlight && tries < 20 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    }
    match payments::create_order(state, u, &sorted, Some(&k)).await {
        Ok(c) => Ok(c),
        Err(e) => {
            idempotency::release(&state.db, &k).await?;
            Err(e)
        }
    }
}

/// `POST /bills/pay` (form: `bill` once per bill, `idem`): make the order
/// and send the payer to the provider.
#[utoipa::path(post, tag = "forms", summary = "The pay form: makes (or reuses) the order for the ticked bills and goes to pay", request_body(content = crate::openapi::PayBillsForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "to the payment page, or back with `error=`")))]
#[post("/bills/pay")]
pub async fn pay_bills(req: HttpRequest, state: web::Data<State>, body: web::Bytes) -> HttpResponse {
    let Some(u) = req.extensions().get::<CurrentUser>().cloned() else {
        return see_other("/login?next=/bills");
    };
    let pairs = form_pairs(&body);
    let ids: Vec<i64> = pairs.iter().filter(|(k, _)| k == "bill").filter_map(|(_, v)| v.trim().parse().ok()).collect();
    let key = pairs.iter().find(|(k, _)| k == "idem").map(|(_, v)| v.clone());
    let keep = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    if ids.is_empty() {
        return see_other("/bills?error=no_bill_chosen#pay");
    }
    let created = match create_keyed(&state, &u, &ids, key.as_deref()).await {
        Ok(c) => c,
        Err(e) => {
            if let Some(c) = &e.cause {
                tracing::error!(code = %e.code, "creating an order failed: {c:#}");
            }
            return see_other(&format!("/bills?error={}&sel={keep}#pay", e.code.as_str()));
        }
    };
    match payments::pay_with(&state, &u, &created.out_trade_no, &payer_context(&req)).await {
        Ok(url) => see_other(&url),
        Err(e) => see_other(&format!("/pay/orders/{}?error={}", created.out_trade_no, e.code.as_str())),
    }
}

/// `GET /pay/sandbox/{no}`: the sandbox provider's page (not ours: it
/// stands where WeChat Pay's cashier would).
#[utoipa::path(get, tag = "payments", summary = "The sandbox cashier page (stands where WeChat Pay's would)", params(("no" = String, Path, description = "out_trade_no of the order")), security(()), responses((status = 200, description = "HTML", body = String, content_type = "text/html"), (status = 404, description = "no such trade, or the sandbox is off")))]
#[get("/pay/sandbox/{no}")]
pub async fn sandbox_page(req: HttpRequest, state: web::Data<State>, no: web::Path<String>) -> HttpResponse {
    let Some(sb) = state.sandbox.as_ref() else { return crate::security::refusal(&req, domain::ErrorCode::NotFound) };
    let t = match sb.trade(&state, &no).await {
        Ok(Some(t)) => t,
        Ok(None) => return HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("没有这笔交易"),
        Err(_) => return HttpResponse::InternalServerError().finish(),
    };
    let no = domain::text::escape_xml(&t.out_trade_no);
    let open = t.state == domain::payments::TradeState::Notpay;
    let actions = if open {
        format!(
            r#"<form method="post" action="/pay/sandbox/{no}">
<button name="choice" value="success" class="ok">支付成功</button>
<button name="choice" value="late">支付成功,通知延迟 {}秒</button>
<button name="choice" value="failure" class="bad">支付失败</button>
</form>"#,
            payments::sandbox::LATE_NOTIFY_SECS
        )
    } else {
        format!(r#"<p>这笔交易已处理({}).</p><p><a href="/pay/orders/{no}">返回商户</a></p>"#, t.state.as_str())
    };
    let html = format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>沙箱支付</title><style>
body{{font-family:system-ui,sans-serif;margin:0;background:#ededed;color:#111}}
header{{background:#07c160;color:#fff;padding:12px 16px;font-size:17px}}
main{{max-width:420px;margin:16px auto;background:#fff;border-radius:8px;padding:20px}}
.amount{{font-size:34px;font-weight:600;text-align:center;margin:12px 0}}
.meta{{color:#666;font-size:14px;text-align:center}}
form{{display:flex;flex-direction:column;gap:12px;margin-top:20px}}
button{{font-size:17px;padding:14px;border-radius:6px;border:1px solid #ccc;background:#fff;min-height:48px}}
button.ok{{background:#07c160;color:#fff;border:0}} button.bad{{color:#c00}}
.note{{font-size:13px;color:#888;margin-top:16px}}
</style></head><body><header>沙箱支付 · 模拟微信支付</header><main>
<p class="meta">{merchant}</p><p class="meta">{desc}</p>
<p class="amount">{amount}</p><p class="meta">商户订单号 {no}</p>
{actions}
<p class="note">这是测试用的沙箱,不会产生真实扣款。支付结果以沙箱发给商户的签名通知(或商户主动查询)为准。</p>
</main></body></html>"#,
        merchant = "智慧社区(沙箱商户)",
        desc = domain::text::escape_xml(&t.description),
        amount = Fen(t.amount_fen),
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, crate::security::csp_for_document(&html)))
        .body(html)
}

#[derive(Deserialize)]
pub struct JsapiQuery {
    prepay_id: String,
}

/// `GET /pay/wechat/{no}?prepay_id=…`: inside WeChat, hands the signed
/// parameters to WeChat's JS bridge; whatever the bridge says, the payer
/// lands on the order page, which shows "confirming" until WeChat Pay's
/// notification (or our query) settles it.
#[utoipa::path(get, tag = "payments", summary = "Inside WeChat: hands the signed parameters to the JS bridge", params(("no" = String, Path, description = "out_trade_no"), ("prepay_id" = String, Query, description = "from WeChat Pay's unified order")), responses((status = 200, description = "HTML", body = String, content_type = "text/html"), (status = 303, description = "to /login"), (status = 400, description = "a malformed order number or prepay id", body = crate::openapi::ErrorBody), (status = 404, description = "WeChat Pay is not configured", body = crate::openapi::ErrorBody)))]
#[get("/pay/wechat/{no}")]
pub async fn wechat_jsapi(
    req: HttpRequest,
    state: web::Data<State>,
    no: web::Path<String>,
    q: web::Query<JsapiQuery>,
) -> HttpResponse {
    let Some(w) = state.wechatpay.as_ref() else { return crate::security::refusal(&req, domain::ErrorCode::NotFound) };
    if req.extensions().get::<CurrentUser>().is_none() {
        return see_other(&format!("/login?next=/pay/orders/{no}"));
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if !no.chars().all(ok) || !q.prepay_id.chars().all(ok) || q.prepay_id.len() > 64 {
        return HttpResponse::BadRequest().finish();
    }
    let params = w.jsapi_params(&q.prepay_id);
    let back = format!("/pay/orders/{}", domain::text::escape_xml(&no));
    let html = format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>微信支付</title></head><body><p>正在打开微信支付…</p><p><a href="{back}">返回订单</a></p>
<script>
function pay() {{
  WeixinJSBridge.invoke('getBrandWCPayRequest', {params}, function () {{ location.replace('{back}'); }});
}}
if (typeof WeixinJSBridge === 'undefined') {{ document.addEventListener('WeixinJSBridgeReady', pay, false); }} else {{ pay(); }}
</script></body></html>"#
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, crate::security::csp_for_document(&html)))
        .body(html)
}

/// `POST /pay/sandbox/{no}` (`choice`): the payer's decision; back to the merchant.
#[utoipa::path(post, tag = "payments", summary = "The sandbox payer's decision", params(("no" = String, Path, description = "out_trade_no of the order")), request_body(content = crate::openapi::SandboxChoiceForm, content_type = "application/x-www-form-urlencoded"), security(()), responses((status = 303, description = "back to the order page"), (status = "4XX", description = "no such trade, the sandbox is off, or the trade is already decided", body = crate::openapi::ErrorBody)))]
#[post("/pay/sandbox/{no}")]
pub async fn sandbox_decide(
    req: HttpRequest,
    state: web::Data<State>,
    no: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(sb) = state.sandbox.as_ref() else { return crate::security::refusal(&req, ErrorCode::NotFound) };
    let choice = form_pairs(&body).into_iter().find(|(k, _)| k == "choice").and_then(|(_, v)| Choice::parse(&v));
    let Some(choice) = choice else { return see_other(&format!("/pay/sandbox/{no}")) };
    match sb.decide(&state, &no, choice).await {
        Ok(()) => see_other(&format!("/pay/orders/{no}")),
        Err(e) if e.code == ErrorCode::Internal => {
            tracing::error!(error = %e, "sandbox decision failed");
            HttpResponse::InternalServerError().finish()
        }
        Err(e) => crate::security::refusal(&req, e.code),
    }
}

/// `GET /staff/bills/orders.csv`: paid and refunded orders, one row per bill.
#[utoipa::path(get, tag = "exports", summary = "Staff: paid and refunded orders as CSV, one row per bill", responses((status = 200, description = "CSV (UTF-8 with BOM)", body = String, content_type = "text/csv"), (status = 303, description = "to /login"), (status = 403, description = "not staff", body = String, content_type = "text/plain")))]
#[get("/staff/bills/orders.csv")]
pub async fn payments_export(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let Some(u) = req.extensions().get::<CurrentUser>().cloned() else {
        return see_other("/login?next=/staff/bills");
    };
    if !u.is_staff() {
        return HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body(ErrorCode::Forbidden.message(false));
    }
    let rows = match payments::export_rows(&state, &u).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "export failed");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        if w.write_record(&r).is_err() {
            return HttpResponse::InternalServerError().finish();
        }
    }
    let mut out = "\u{feff}".as_bytes().to_vec(); // Excel reads UTF-8 with a BOM
    out.extend(w.into_inner().unwrap_or_default());
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"payments.csv\""))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(out)
}

/// Under /api/v1 (see `api::routes`).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/payments")
            .service(payments_mine)
            .service(payments_create)
            .service(payments_one)
            .service(payments_pay)
            .service(payments_cancel)
            .service(payments_receipt)
            .service(payments_notify),
    );
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateBody {
    bill_ids: Vec<i64>,
}

/// `POST /api/v1/payments/orders {"bill_ids": [..]}` with `Idempotency-Key`
/// (required): 201 with the new order, 200 with the payer's open order for
/// exactly these bills, 409 `bill_in_payment` / `bill_not_payable`.
#[utoipa::path(post, tag = "payments", summary = "Makes an order for the caller's bills (Idempotency-Key required)", request_body = CreateBody, params(("Idempotency-Key" = String, Header, description = "a client-chosen key (8–64 of A–Z a–z 0–9 - _)")), responses((status = 201, description = "the new order", body = domain::payments::OrderView), (status = 200, description = "the payer's open order for exactly these bills", body = domain::payments::OrderView), crate::openapi::Refused))]
#[post("/orders")]
async fn payments_create(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let key = req
        .headers()
        .get("Idempotency-Key")
        .map(|v| v.to_str().unwrap_or("\u{0}").to_string())
        .ok_or_else(|| code_err(&req, ErrorCode::InvalidIdempotencyKey))?;
    let c = create_keyed(&state, &u, &body.bill_ids, Some(&key)).await.map_err(api_err(&req))?;
    let view = payments::order(&state, &u, &c.out_trade_no).await.map_err(api_err(&req))?;
    Ok(if c.created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(view))
}

#[utoipa::path(get, tag = "payments", summary = "The caller's orders, newest first", responses((status = 200, body = [domain::payments::OrderView]), crate::openapi::Refused))]
#[get("/orders")]
async fn payments_mine(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(payments::mine(&state, &u, 50).await.map_err(api_err(&req))?))
}

#[utoipa::path(get, tag = "payments", summary = "One of the caller's orders (staff: any of the communities they manage)", params(("no" = String, Path, description = "out_trade_no of the order")), responses((status = 200, body = domain::payments::OrderView), crate::openapi::Refused))]
#[get("/orders/{no}")]
async fn payments_one(
    req: HttpRequest,
    state: web::Data<State>,
    no: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(payments::order(&state, &u, &no).await.map_err(api_err(&req))?))
}

/// `POST …/pay`: where the payer goes next (the sandbox cashier, WeChat's
/// H5 page, or the in-WeChat bridge).
#[derive(serde::Serialize, utoipa::ToSchema)]
struct PayUrl {
    pay_url: String,
}

/// `POST /api/v1/payments/orders/{no}/pay`: where the payer goes to pay
/// (the same place when asked again).
/// With an `Idempotency-Key` a replay gets the saved answer and the key
/// used for another order is refused (422).
#[utoipa::path(post, tag = "payments", summary = "Where the payer goes to pay (the same place when asked again)", params(("no" = String, Path, description = "out_trade_no of the order"), ("Idempotency-Key" = Option<String>, Header, description = "a client-chosen key (8–64 of A–Z a–z 0–9 - _): a replay answers as the first time")), responses((status = 200, description = "`{pay_url}`", body = PayUrl), crate::openapi::Refused))]
#[post("/orders/{no}/pay")]
async fn payments_pay(
    req: HttpRequest,
    state: web::Data<State>,
    no: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let key = req.headers().get("Idempotency-Key").map(|v| v.to_str().unwrap_or("\u{0}").to_string());
    let keyed = match key {
        Some(k) => {
            Some(Keyed::parse(u.id, "order.pay", &k, format!("no={no}").as_bytes()).map_err(|c| code_err(&req, c))?)
        }
        None => None,
    };
    if let Some(k) = &keyed {
        if let Start::Replay(saved) = idempotency::start(&state.db, k).await.map_err(api_err(&req))? {
            return Ok(HttpResponse::Ok().content_type("application/json").body(saved.body));
        }
    }
    match payments::pay_with(&state, &u, &no, &payer_context(&req)).await {
        Ok(url) => {
            let body =
                serde_json::to_string(&PayUrl { pay_url: url }).map_err(|_| code_err(&req, ErrorCode::Internal))?;
            if let Some(k) = &keyed {
                idempotency::finish(&state.db, k, 200, &body).await.map_err(api_err(&req))?;
            }
            Ok(HttpResponse::Ok().content_type("application/json").body(body))
        }
        Err(e) => {
            if let Some(k) = &keyed {
                idempotency::release(&state.db, k).await.map_err(api_err(&req))?;
            }
            Err(api_err(&req)(e))
        }
    }
}

/// `POST …/cancel`: the order's status afterwards.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct OrderStatusBody {
    status: domain::payments::OrderStatus,
}

#[utoipa::path(post, tag = "payments", summary = "Cancels an unpaid order", params(("no" = String, Path, description = "out_trade_no of the order")), responses((status = 200, description = "`{status}`", body = OrderStatusBody), crate::openapi::Refused))]
#[post("/orders/{no}/cancel")]
async fn payments_cancel(
    req: HttpRequest,
    state: web::Data<State>,
    no: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let s = payments::cancel(&state, &u, &no).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(OrderStatusBody { status: s }))
}

#[utoipa::path(get, tag = "payments", summary = "Checks a receipt code (anyone holding the paper receipt)", params(("code" = String, Path, description = "the receipt code")), security(()), responses((status = 200, body = domain::payments::ReceiptCheck), crate::openapi::Refused))]
#[get("/receipts/{code}")]
async fn payments_receipt(
    req: HttpRequest,
    state: web::Data<State>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(payments::check_receipt(&state, &code).await.map_err(api_err(&req))?))
}

/// What a refused notification answers, as WeChat Pay v3 expects.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct NotifyFail {
    /// always `FAIL`
    #[schema(value_type = String, example = "FAIL")]
    code: &'static str,
    message: String,
}

/// `POST /api/v1/payments/notify/{provider}`: a provider's notification
/// (WeChat Pay v3 format). 204 when taken (also for a duplicate); 401 for a
/// bad signature, stale timestamp or unknown key; 400 for what does not
/// match an order. The provider retries whatever is not 2xx.
#[utoipa::path(post, tag = "payments", summary = "A payment provider's signed notification (WeChat Pay v3 format)", params(("provider" = String, Path, description = "`wechatpay` or `sandbox`")), request_body(content = backend::wxpay::Notification, description = "the provider's JSON envelope (resource encrypted with AEAD_AES_256_GCM)", content_type = "application/json"), security(()), responses((status = 204, description = "taken (also a duplicate)"), (status = 400, description = "does not match an order", body = NotifyFail), (status = 401, description = "bad signature, stale timestamp or unknown key", body = NotifyFail), (status = 404, description = "unknown provider", body = NotifyFail), (status = 500, description = "could not be handled now: the provider retries", body = NotifyFail), (status = 503, description = "the database is away: the provider retries", body = NotifyFail)))]
#[post("/notify/{provider}")]
async fn payments_notify(
    req: HttpRequest,
    state: web::Data<State>,
    provider: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let fail = |status: u16, message: &str| {
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
            .json(NotifyFail { code: "FAIL", message: message.to_string() })
    };
    if provider.as_str() != state.payments.name() {
        return fail(404, "unknown provider");
    }
    let headers =
        NotifyHeaders::from_lookup(|name| req.headers().get(name).and_then(|v| v.to_str().ok()).map(|s| s.to_string()));
    match payments::notification(&state, &headers, &body).await {
        Ok(Applied::Paid) | Ok(Applied::Duplicate) | Ok(Applied::Unmatched) => HttpResponse::NoContent().finish(),
        Err(Refused::Invalid(e)) => {
            tracing::warn!(error = %e, "payment notification refused");
            fail(401, &e.to_string())
        }
        Err(Refused::Rejected(e)) if e.code == ErrorCode::Internal => {
            tracing::error!(error = %e, "payment notification could not be handled");
            fail(500, "try again")
        }
        // the database is away: WeChat Pay retries a non-2xx answer
        Err(Refused::Rejected(e)) if e.code == ErrorCode::Unavailable => {
            tracing::warn!(error = %e, "payment notification deferred: database unavailable");
            fail(503, "try again")
        }
        Err(Refused::Rejected(e)) => {
            tracing::warn!(error = %e, "payment notification does not match an order");
            fail(400, e.code.as_str())
        }
    }
}
