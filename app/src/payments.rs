//! Payment pages: an order (confirming until the provider says so), its
//! printable receipt, and the public receipt check. Plain forms and links;
//! a confirming order reloads itself (a meta refresh, no JavaScript needed).

use crate::i18n::t;
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::payments::{OrderStatus, OrderView, ReceiptCheck};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

fn q(k: &str) -> Option<String> {
    use_query_map().with_untracked(|m| m.get(k))
}

fn param_no() -> String {
    use_params_map().with_untracked(|m| m.get("no")).unwrap_or_default()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderPageData {
    pub order: OrderView,
    /// Where the payer continues paying (an open order).
    pub pay_url: Option<String>,
    pub qr: Option<String>,
}

#[server]
pub async fn order_page(no: String) -> Result<OrderPageData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let order = backend::payments::order(&state, &user, &no).await.map_err(app_err)?;
    let qr = match &order.receipt_code {
        Some(code) => Some(
            backend::support::qr::qr_svg(&format!(
                "{}/receipts/check?code={code}",
                state.config.public_url.trim_end_matches('/')
            ))
            .map_err(app_err)?,
        ),
        None => None,
    };
    let pay_url = backend::payments::pay_url(&state, &user, &no).await.map_err(app_err)?;
    Ok(OrderPageData { order, pay_url, qr })
}

#[server]
pub async fn continue_payment(no: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let req = request()?;
    let ua = req.headers().get(actix_web::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ctx = backend::payments::PayerContext::from_request(ua, &client_ip(&req));
    match backend::payments::pay_with(&state, &user, &no, &ctx).await {
        Ok(url) => {
            leptos_actix::redirect(&url);
            Ok(())
        }
        Err(e) => Err(form_error(e, &format!("/pay/orders/{no}"), &[])),
    }
}

#[server]
pub async fn cancel_order(no: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::payments::cancel(&state, &user, &no).await {
        Ok(_) => {
            leptos_actix::redirect(&format!("/pay/orders/{no}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, &format!("/pay/orders/{no}"), &[])),
    }
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let no = param_no();
    let data = Resource::new(move || no.clone(), order_page);
    view! {
        <Page
            title=("缴费订单", "Payment")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let error = q("error").map(|c| code_text(&c, lang));
                view! {
                    <FormError message=error />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let d = match data.await {
                                Ok(d) => d,
                                Err(e) => return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            };
                            let o = d.order.clone();
                            let no = o.out_trade_no.clone();
                            let confirming = o.status == OrderStatus::Paying;
                            view! {
                                {confirming.then(|| view! { <meta http-equiv="refresh" content="3" /> })}
                                <section class="card order">
                                    <p class=crate::bills::status_class(o.status)>{o.status.label(en)}</p>
                                    <p class="amount big">{o.amount.to_string()}</p>
                                    {match o.status {
                                        OrderStatus::Paying => {
                                            view! {
                                                <p class="meta" role="status">
                                                    {t(
                                                        lang,
                                                        "正在向支付平台确认结果,本页会自动刷新。如果您尚未完成支付,可以继续支付或取消订单。",
                                                        "Confirming with the payment service; this page refreshes by itself. If you have not paid yet, continue or cancel.",
                                                    )}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                        OrderStatus::Paid | OrderStatus::Refunded => {
                                            view! {
                                                <p class="success">
                                                    {t(
                                                        lang,
                                                        "支付成功,账单已缴清。",
                                                        "Paid; the bills are settled.",
                                                    )}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                        OrderStatus::Failed => {
                                            view! {
                                                <p class="form-error">
                                                    {t(
                                                        lang,
                                                        "支付未成功,没有扣款。账单仍待缴,可以回到账单页重新缴纳。",
                                                        "The payment did not go through and nothing was charged. The bills are still due.",
                                                    )}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                        OrderStatus::Closed => {
                                            view! {
                                                <p class="meta">
                                                    {t(
                                                        lang,
                                                        "订单已关闭,没有扣款。账单仍待缴。",
                                                        "This order is closed; nothing was charged. The bills are still due.",
                                                    )}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                        OrderStatus::Created => {
                                            view! {
                                                <p class="meta">
                                                    {t(
                                                        lang,
                                                        "订单已创建,尚未支付。",
                                                        "Created, not paid yet.",
                                                    )}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                    }}
                                    <ul class="list bills">
                                        {o
                                            .lines
                                            .iter()
                                            .map(|l| {
                                                view! {
                                                    <li class="bill">
                                                        <span class="title">
                                                            {domain::bills::title_words(&l.title, lang.is_en())}
                                                            <span class="amount">{l.amount.to_string()}</span>
                                                        </span>
                                                        <span class="meta">{l.address.clone()}</span>
                                                        {(l.refunded.0 > 0)
                                                            .then(|| {
                                                                view! {
                                                                    <span class="meta">
                                                                        {t(lang, "已退款 ", "Refunded ")}{l.refunded.to_string()}
                                                                    </span>
                                                                }
                                                            })}
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                    <p class="meta">
                                        {t(lang, "订单号 ", "Order ")}{no.clone()}" · "
                                        <span class="nw">{o.created_at.clone()}</span>
                                    </p>
                                    {o
                                        .status
                                        .is_open()
                                        .then(|| {
                                            view! {
                                                <div class="actions">
                                                    {match d.pay_url.clone() {
                                                        Some(url) => {
                                                            view! {
                                                                <a class="button primary" href=url>
                                                                    {t(lang, "继续支付", "Continue paying")}
                                                                </a>
                                                            }
                                                                .into_any()
                                                        }
                                                        None => {
                                                            view! {
                                                                <form method="post" action=ContinuePayment::PATH>
                                                                    <input type="hidden" name="no" value=no.clone() />
                                                                    <button type="submit" class="primary">
                                                                        {t(lang, "去支付", "Pay")}
                                                                    </button>
                                                                </form>
                                                            }
                                                                .into_any()
                                                        }
                                                    }} <form method="post" action=CancelOrder::PATH>
                                                        <input type="hidden" name="no" value=no.clone() />
                                                        <button type="submit" class="link">
                                                            {t(lang, "取消订单", "Cancel the order")}
                                                        </button>
                                                    </form>
                                                </div>
                                            }
                                        })}
                                    {o
                                        .receipt_code
                                        .clone()
                                        .map(|code| {
                                            view! {
                                                <p>
                                                    <a class="button" href=format!("/pay/orders/{no}/receipt")>
                                                        {t(lang, "查看收据", "Receipt")}
                                                    </a>
                                                    " "
                                                    <span class="meta">
                                                        {t(lang, "收据编号 ", "Receipt no. ")}{code}
                                                    </span>
                                                </p>
                                            }
                                        })}
                                </section>
                                <p>
                                    <a href="/bills">{t(lang, "返回账单", "Back to bills")}</a>
                                </p>
                            }
                                .into_any()
                        })}
                    </Suspense>
                }
            }
        />
    }
}

#[component]
pub fn ReceiptPage() -> impl IntoView {
    let no = param_no();
    let data = Resource::new(move || no.clone(), order_page);
    view! {
        <Page
            title=("收据", "Receipt")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let d = match data.await {
                                Ok(d) => d,
                                Err(e) => return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            };
                            let o = d.order;
                            let Some(code) = o.receipt_code.clone() else {
                                return view! {
                                    <p class="empty">
                                        {t(lang, "订单尚未支付,没有收据。", "Not paid yet: no receipt.")}
                                    </p>
                                }
                                    .into_any();
                            };
                            view! {
                                <article class="card receipt">
                                    <h2>{o.community.clone()}{t(lang, " 缴费收据", " payment receipt")}</h2>
                                    <table class="grid">
                                        <thead>
                                            <tr>
                                                <th>{t(lang, "项目", "Item")}</th>
                                                <th>{t(lang, "房屋", "Home")}</th>
                                                <th>{t(lang, "金额", "Amount")}</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {o
                                                .lines
                                                .iter()
                                                .map(|l| {
                                                    view! {
                                                        <tr>
                                                            <td>
                                                                {domain::bills::title_words(&l.title, lang.is_en())}
                                                            </td>
                                                            <td>{l.address.clone()}</td>
                                                            <td class="amount">{l.amount.to_string()}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                        <tfoot>
                                            <tr>
                                                <th colspan="2">{t(lang, "合计", "Total")}</th>
                                                <td class="amount">{o.amount.to_string()}</td>
                                            </tr>
                                        </tfoot>
                                    </table>
                                    {(o.refunded.0 > 0)
                                        .then(|| {
                                            view! {
                                                <p>
                                                    {t(lang, "其中已退款 ", "Refunded since: ")}
                                                    <span class="amount">{o.refunded.to_string()}</span>
                                                </p>
                                            }
                                        })}
                                    <dl class="facts">
                                        <dt>{t(lang, "支付时间", "Paid at")}</dt>
                                        <dd>
                                            <span class="nw">{o.paid_at.clone().unwrap_or_default()}</span>
                                            {t(lang, "(北京时间)", " (Beijing time)")}
                                        </dd>
                                        <dt>{t(lang, "订单号", "Order")}</dt>
                                        <dd>{o.out_trade_no.clone()}</dd>
                                        <dt>{t(lang, "支付交易号", "Transaction")}</dt>
                                        <dd>{o.transaction_id.clone().unwrap_or_default()}</dd>
                                        <dt>{t(lang, "缴费人", "Payer")}</dt>
                                        <dd>{o.payer.clone()}</dd>
                                        <dt>{t(lang, "收据编号", "Receipt no.")}</dt>
                                        <dd class="code">{code.clone()}</dd>
                                    </dl>
                                    {d
                                        .qr
                                        .map(|svg| {
                                            view! {
                                                <figure class="qr">
                                                    <div
                                                        class="qr-img"
                                                        role="img"
                                                        aria-label=t(
                                                            lang,
                                                            "收据核验二维码",
                                                            "Receipt check QR code",
                                                        )
                                                        inner_html=svg
                                                    ></div>
                                                    <figcaption class="meta">
                                                        {t(
                                                            lang,
                                                            "用手机扫一扫这个二维码,就能查到这张收据是真的;也可以在“核验收据”页输入上面的收据编号。",
                                                            "Scan this code with a phone to see that the receipt is genuine, or type the receipt number above on the “Check a receipt” page.",
                                                        )}
                                                    </figcaption>
                                                </figure>
                                            }
                                        })}
                                </article>
                                <div class="no-print actions">
                                    <button type="button" data-print="1" hidden>
                                        {t(lang, "打印收据", "Print the receipt")}
                                    </button>
                                    <a class="button" href="/receipts/check">
                                        {t(lang, "核验收据", "Check a receipt")}
                                    </a>
                                    <a class="button" href=format!("/pay/orders/{}", o.out_trade_no)>
                                        {t(lang, "返回订单", "Back to the order")}
                                    </a>
                                </div>
                            }
                                .into_any()
                        })}
                    </Suspense>
                }
            }
        />
    }
}

#[server]
pub async fn check_receipt(code: String) -> Result<Option<ReceiptCheck>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    if code.trim().is_empty() {
        return Ok(None);
    }
    backend::payments::check_receipt(&state, &code).await.map(Some).map_err(app_err)
}

/// Anyone may check a receipt by its code: genuine, for how much, when.
#[component]
pub fn ReceiptCheckPage() -> impl IntoView {
    let code = q("code").unwrap_or_default();
    let typed = code.clone();
    let data = Resource::new(move || code.clone(), check_receipt);
    view! {
        <Page
            title=("收据核验", "Check a receipt")
            login_required=false
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let typed = typed.clone();
                view! {
                    <crate::layout::CodeCheckForm
                        lang=lang
                        action="/receipts/check"
                        label=("收据编号", "Receipt number")
                        typed=typed
                    />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(None) => view! { <span></span> }.into_any(),
                                Ok(Some(r)) => {
                                    view! {
                                        <section class="card">
                                            <p class="success" role="status">
                                                {t(lang, "收据真实有效", "This receipt is genuine")}
                                            </p>
                                            <dl class="facts">
                                                <dt>{t(lang, "收据编号", "Receipt no.")}</dt>
                                                <dd>{r.receipt_code.clone()}</dd>
                                                <dt>{t(lang, "收款单位", "Payee")}</dt>
                                                <dd>{r.community.clone()}</dd>
                                                <dt>{t(lang, "金额", "Amount")}</dt>
                                                <dd class="amount">{r.amount.to_string()}</dd>
                                                <dt>{t(lang, "支付时间", "Paid at")}</dt>
                                                <dd>
                                                    <span class="nw">{r.paid_at.clone()}</span>
                                                </dd>
                                                <dt>{t(lang, "项目", "Items")}</dt>
                                                <dd>{r.items.join("、")}</dd>
                                            </dl>
                                            {(r.refunded.0 > 0)
                                                .then(|| {
                                                    view! {
                                                        <p>
                                                            {t(lang, "其中已退款 ", "Refunded since: ")}
                                                            {r.refunded.to_string()}
                                                        </p>
                                                    }
                                                })}
                                        </section>
                                    }
                                        .into_any()
                                }
                                Err(_) => {
                                    view! {
                                        <p class="form-error" role="alert">
                                            {t(
                                                lang,
                                                "没有找到这张收据:编号有误,或收据不是本平台开具的。",
                                                "No such receipt: the number is wrong, or it was not issued here.",
                                            )}
                                        </p>
                                    }
                                        .into_any()
                                }
                            }
                        })}
                    </Suspense>
                }
            }
        />
    }
}
