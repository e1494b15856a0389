//! 缴费 pages: a resident sees what their households owe and why; staff
//! generate a period's property fees and see arrears per building. Plain
//! forms throughout.

#![allow(clippy::too_many_arguments)]

mod staff;
pub use staff::*;
mod import;
pub use import::*;

use crate::i18n::t;
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::bills::{ArrearsRow, BillStatus, BillView};
use domain::money::Fen;
use domain::payments::{OrderStatus, OrderView};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

fn q(k: &str) -> Option<String> {
    use_query_map().with_untracked(|m| m.get(k))
}

/// What the bills page needs: the bills, which open order holds which bill,
/// recent orders, and a fresh idempotency key for the pay form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BillsData {
    pub bills: Vec<BillView>,
    /// (bill id, out_trade_no) of bills held by an open order of this payer.
    pub held: Vec<(i64, String)>,
    pub orders: Vec<OrderView>,
    pub idem: String,
}

#[server]
pub async fn my_bills() -> Result<BillsData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let bills = backend::bills::mine(&state, &user).await.map_err(app_err)?;
    let mut held = vec![];
    for b in bills.iter().filter(|b| b.status == BillStatus::Unpaid) {
        if let Some(no) = backend::payments::open_order_of_bill(&state, &user, b.id).await.map_err(app_err)? {
            held.push((b.id, no));
        }
    }
    let orders = backend::payments::mine(&state, &user, 10).await.map_err(app_err)?;
    Ok(BillsData { bills, held, orders, idem: backend::idempotency::fresh_key() })
}

#[component]
pub fn BillsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| my_bills());
    view! {
        <Page
            title=("缴费", "Bills")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let error = q("error").map(|c| code_text(&c, lang));
                let kept: Vec<i64> = q("sel").unwrap_or_default().split(',').filter_map(|x| x.parse().ok()).collect();
                view! {
                    <Suspense fallback=|| ()>
                        {move || {
                            let kept = kept.clone();
                            let error = error.clone();
                            Suspend::new(async move {
                                let d = match data.await {
                                    Ok(l) => l,
                                    Err(e) => {
                                        return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any();
                                    }
                                };
                                let unpaid: Vec<BillView> = d
                                    .bills
                                    .iter()
                                    .filter(|b| b.status == BillStatus::Unpaid)
                                    .cloned()
                                    .collect();
                                let owed = Fen(unpaid.iter().map(|b| b.amount.0 - b.paid.0).sum());
                                let settled: Vec<BillView> = d
                                    .bills
                                    .iter()
                                    .filter(|b| b.status != BillStatus::Unpaid)
                                    .cloned()
                                    .collect();
                                let held = d.held.clone();
                                let preselect = kept.is_empty() && error.is_none();
                                // nothing ticked on purpose: nothing comes back ticked
                                view! {
                                    <section class="card">
                                        <h2>{t(lang, "待缴合计", "Total due")}</h2>
                                        <p class="amount big">{owed.to_string()}</p>
                                    </section>
                                    {(unpaid.is_empty()).then(|| view! { <FormError message=error.clone() /> })}
                                    {if d.bills.is_empty() {
                                        view! {
                                            <p class="empty">
                                                {t(
                                                    lang,
                                                    "没有账单。完成住户认证后,您家的账单会显示在这里。",
                                                    "No bills. Once your home is verified, its bills appear here.",
                                                )}
                                            </p>
                                        }
                                            .into_any()
                                    } else if unpaid.is_empty() {
                                        view! {
                                            <p class="success">
                                                {t(lang, "账单都已缴清。", "Everything is paid.")}
                                            </p>
                                        }
                                            .into_any()
                                    } else {
                                        view! {
                                            <form method="post" action="/bills/pay" class="card" id="pay">
                                                <h2>{t(lang, "选择要缴的账单", "Choose bills to pay")}</h2>
                                                <FormError message=error.clone() />
                                                <input type="hidden" name="idem" value=d.idem.clone() />
                                                <ul class="list bills">
                                                    {unpaid
                                                        .into_iter()
                                                        .map(|b| {
                                                            let holder = held
                                                                .iter()
                                                                .find(|(id, _)| *id == b.id)
                                                                .map(|(_, no)| no.clone());
                                                            let checked = preselect || kept.contains(&b.id);
                                                            let id = format!("bill-{}", b.id);
                                                            let for_id = id.clone();
                                                            view! {
                                                                <li class="bill">
                                                                    <label class="check" for=for_id>
                                                                        <input
                                                                            type="checkbox"
                                                                            name="bill"
                                                                            id=id
                                                                            value=b.id.to_string()
                                                                            checked=checked
                                                                        />
                                                                        <span class="title">
                                                                            {domain::bills::title_words(&b.title, lang.is_en())}
                                                                            <span class="amount">{b.amount.to_string()}</span>
                                                                        </span>
                                                                    </label>
                                                                    <span class="meta">
                                                                        {b.kind.label(en)}" · "{b.address.clone()}
                                                                    </span>
                                                                    <span class="meta">
                                                                        {t(lang, "计算方式:", "Basis: ")}
                                                                        {domain::msg::render(&b.basis, lang.is_en())}
                                                                    </span>
                                                                    <span class="status pending">{b.status.label(en)}</span>
                                                                    {holder
                                                                        .map(|no| {
                                                                            view! {
                                                                                <span class="meta">
                                                                                    {t(
                                                                                        lang,
                                                                                        "已在订单中待支付:",
                                                                                        "In an unfinished order: ",
                                                                                    )}<a href=format!("/pay/orders/{no}")>{no.clone()}</a>
                                                                                </span>
                                                                            }
                                                                        })}
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                                <p class="meta">
                                                    {t(
                                                        lang,
                                                        "可一次缴纳多张账单。支付结果以支付平台的通知为准,返回后可能短暂显示“支付确认中”。",
                                                        "Several bills can be paid at once. A payment counts when the payment service confirms it; you may see “confirming” for a moment.",
                                                    )}
                                                </p>
                                                <button type="submit" class="primary">
                                                    {t(lang, "缴纳所选账单", "Pay the selected bills")}
                                                </button>
                                            </form>
                                        }
                                            .into_any()
                                    }}
                                    {(!d.orders.is_empty())
                                        .then(|| {
                                            view! {
                                                <section class="card">
                                                    <h2>{t(lang, "缴费记录", "Payments")}</h2>
                                                    <ul class="list">
                                                        {d
                                                            .orders
                                                            .iter()
                                                            .map(|o| {
                                                                view! {
                                                                    <li>
                                                                        <a href=format!("/pay/orders/{}", o.out_trade_no)>
                                                                            <span class="title">
                                                                                {o
                                                                                    .lines
                                                                                    .iter()
                                                                                    .map(|l| domain::bills::title_words(&l.title, lang.is_en()))
                                                                                    .collect::<Vec<_>>()
                                                                                    .join("、")}
                                                                            </span>
                                                                            <span class="meta">
                                                                                <span class="nw">{o.created_at.clone()}</span>
                                                                                " · "
                                                                                <span class="amount">{o.amount.to_string()}</span>
                                                                            </span>
                                                                            <span class=status_class(
                                                                                o.status,
                                                                            )>{o.status.label(en)}</span>
                                                                        </a>
                                                                    </li>
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </ul>
                                                </section>
                                            }
                                        })}
                                    {(!settled.is_empty())
                                        .then(|| {
                                            view! {
                                                <section class="card">
                                                    <h2>{t(lang, "已缴账单", "Paid bills")}</h2>
                                                    <ul class="list bills">
                                                        {settled
                                                            .into_iter()
                                                            .map(|b| {
                                                                view! {
                                                                    <li class="bill">
                                                                        <span class="title">
                                                                            {domain::bills::title_words(&b.title, lang.is_en())}
                                                                            <span class="amount">{b.amount.to_string()}</span>
                                                                        </span>
                                                                        <span class="meta">
                                                                            {b.kind.label(en)}" · "{b.address.clone()}
                                                                        </span>
                                                                        <span class="status approved">{b.status.label(en)}</span>
                                                                    </li>
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </ul>
                                                </section>
                                            }
                                        })}
                                }
                                    .into_any()
                            })
                        }}
                    </Suspense>
                }
            }
        />
    }
}

pub fn status_class(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Paid => "status approved",
        OrderStatus::Created | OrderStatus::Paying => "status pending",
        OrderStatus::Refunded => "status",
        OrderStatus::Closed | OrderStatus::Failed => "status rejected",
    }
}
