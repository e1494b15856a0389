//! 缴费 for staff: the community's bills, fees added by hand, reconciliation, refunds, the property-fee run.

use super::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffBillsData {
    pub communities: Vec<(i64, String)>,
    pub arrears: Vec<ArrearsRow>,
    pub orders: Vec<OrderView>,
    pub unmatched: Vec<domain::payments::Unmatched>,
    pub reconciliations: Vec<domain::payments::Reconciliation>,
    /// Yesterday (Beijing), the default day to reconcile.
    pub today: String,
}

#[server]
pub async fn staff_bills() -> Result<StaffBillsData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let communities = backend::support::scope::staff_communities(&state, &user).await.map_err(app_err)?;
    let arrears = backend::bills::arrears(&state, &user).await.map_err(app_err)?;
    let orders = backend::payments::staff_orders(&state, &user, 30).await.map_err(app_err)?;
    let unmatched = backend::payments::unmatched(&state, &user).await.map_err(app_err)?;
    let reconciliations = backend::payments::reconcile::recent(&state, 7).await.map_err(app_err)?;
    let today = backend::payments::reconcile::yesterday();
    Ok(StaffBillsData { communities, arrears, orders, unmatched, reconciliations, today })
}

/// One ad-hoc fee for one home (staff).
#[server]
pub async fn add_fee(
    community_id: String,
    building: String,
    entrance: String,
    room: String,
    kind: String,
    period: String,
    amount: String,
    basis: String,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let keep = [
        ("fee_community", community_id.as_str()),
        ("building", building.as_str()),
        ("entrance", entrance.as_str()),
        ("room", room.as_str()),
        ("kind", kind.as_str()),
        ("fee_period", period.as_str()),
        ("fee_amount", amount.as_str()),
        ("basis", basis.as_str()),
    ];
    let Ok(community) = community_id.trim().parse::<i64>() else {
        return Err(form_error(domain::ErrorCode::InvalidInput.into(), "/staff/bills", &keep));
    };
    let home = (building.as_str(), entrance.as_str(), room.as_str());
    match backend::bills::add_fee(&state, &user, community, home, &kind, &period, &amount, &basis).await {
        Ok(fee) => {
            let fee = fee.to_string();
            leptos_actix::redirect(&format!("/staff/bills?{}", query(&[("fee_added", fee.as_str())])));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/bills", &keep)),
    }
}

/// Reconciles a day with the payment provider now (staff).
#[server]
pub async fn run_reconcile(date: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    if !user.is_staff() {
        return Err(form_error(domain::ErrorCode::Forbidden.into(), "/staff/bills", &[]));
    }
    match backend::payments::reconcile::reconcile_typed(&state, &date).await {
        Ok(r) => {
            leptos_actix::redirect(&format!("/staff/bills?{}", query(&[("reconciled", r.date.as_str())])));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/bills", &[("date", date.as_str())])),
    }
}

#[server]
pub async fn refund_bill(no: String, bill_id: String, amount: String, reason: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let parsed =
        (bill_id.trim().parse::<i64>().map_err(|_| domain::ErrorCode::InvalidInput), Fen::parse_positive_yuan(&amount));
    let result = match parsed {
        (Ok(b), Ok(a)) => backend::payments::refund(&state, &user, &no, b, a, &reason).await,
        (Err(e), _) | (_, Err(e)) => Err(e.into()),
    };
    let keep = [
        ("refund_no", no.as_str()),
        ("refund_bill", bill_id.as_str()),
        ("amount", amount.as_str()),
        ("reason", reason.as_str()),
    ];
    match result {
        Ok(()) => {
            leptos_actix::redirect(&format!(
                "/staff/bills?{}",
                query(&[("refunded", amount.as_str()), ("refund_no", no.as_str())])
            ));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/bills", &keep)),
    }
}

#[server]
pub async fn generate_property_fees(community_id: String, period: String, price: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_staff("/staff/bills")?;
    let parsed = (
        community_id.trim().parse::<i64>().map_err(|_| domain::ErrorCode::InvalidInput),
        domain::bills::Period::parse(&period),
        Fen::parse_positive_yuan(&price),
    );
    let result = match parsed {
        (Ok(c), Ok(p), Ok(f)) => backend::bills::generate_property_fees(&state, &user, c, &p, f).await,
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e.into()),
    };
    let keep = [("community_id", community_id.as_str()), ("period", period.as_str()), ("price", price.as_str())];
    match result {
        Ok(g) => {
            let (created, existing, without, total) =
                (g.created.to_string(), g.existing.to_string(), g.without_area.to_string(), g.total.to_string());
            let mut pairs = vec![
                ("created", created.as_str()),
                ("existing", existing.as_str()),
                ("without_area", without.as_str()),
                ("total", total.as_str()),
            ];
            pairs.extend_from_slice(&keep);
            leptos_actix::redirect(&format!("/staff/bills?{}", query(&pairs)));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/bills", &keep)),
    }
}

#[component]
pub fn StaffBillsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| staff_bills());
    view! {
        <Page
            title=("缴费管理", "Bills")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = q("error").map(|c| code_text(&c, lang));
                let created = q("created");
                let refunded = q("refunded");
                let reconciled = q("reconciled");
                let fee_added = q("fee_added");
                view! {
                    {created
                        .map(|n| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已生成账单 ", "Bills created: ")}
                                    {n}
                                    {t(lang, " 张,合计 ", ", total ")}
                                    {q("total").unwrap_or_default()}
                                    {t(lang, ";已有账单未重复生成 ", "; already billed, left alone: ")}
                                    {q("existing").unwrap_or_default()}
                                    {t(lang, ";无登记面积的房屋 ", "; dwellings without a registered area: ")}
                                    {q("without_area").unwrap_or_default()}
                                </p>
                            }
                        })}
                    {fee_added
                        .map(|a| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已添加费用 ", "Fee added: ")}
                                    {a}
                                </p>
                            }
                        })}
                    {reconciled
                        .map(|d| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已完成对账:", "Reconciled: ")}
                                    {d}
                                </p>
                            }
                        })}
                    {refunded
                        .map(|a| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已退款 ¥", "Refunded ¥")}
                                    {a}
                                    {t(lang, ",订单 ", ", order ")}
                                    {q("refund_no").unwrap_or_default()}
                                </p>
                            }
                        })}
                    <FormError message=error />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let d = match data.await {
                                Ok(d) => d,
                                Err(e) => return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            };
                            let kept = q("community_id").and_then(|v| v.parse::<i64>().ok());
                            let (refund_no, refund_bill) = (q("refund_no"), q("refund_bill"));
                            let (kept_amount, kept_reason) = (
                                q("amount").unwrap_or_default(),
                                q("reason").unwrap_or_default(),
                            );
                            view! {
                                <div class="console">
                                    <section class="card">
                                        <h2>{t(lang, "生成物业费账单", "Generate property fees")}</h2>
                                        <p>
                                            <a class="button" href="/staff/bills/import">
                                                {t(
                                                    lang,
                                                    "导入水电燃气、停车等账单",
                                                    "Import utility and parking bills",
                                                )}
                                            </a>
                                        </p>
                                        <form method="post" action=GeneratePropertyFees::PATH class="stack">
                                            <label>
                                                {t(lang, "社区", "Community")} <select name="community_id" required>
                                                    {d
                                                        .communities
                                                        .iter()
                                                        .map(|(id, name)| {
                                                            view! {
                                                                <option value=id.to_string() selected=Some(*id) == kept>
                                                                    {name.clone()}
                                                                </option>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </select>
                                            </label>
                                            <label>
                                                {t(
                                                    lang,
                                                    "账期(如 2026、2026-H1、2026-Q4、2026-11)",
                                                    "Period (2026, 2026-H1, 2026-Q4, 2026-11)",
                                                )}
                                                <input
                                                    type="text"
                                                    name="period"
                                                    required
                                                    maxlength="10"
                                                    value=q("period").unwrap_or_default()
                                                />
                                            </label>
                                            <label>
                                                {t(
                                                    lang,
                                                    "单价(元/平方米/月)",
                                                    "Unit price (yuan per m² per month)",
                                                )}
                                                <input
                                                    type="text"
                                                    name="price"
                                                    inputmode="decimal"
                                                    required
                                                    placeholder="1.85"
                                                    value=q("price").unwrap_or_default()
                                                />
                                            </label>
                                            <p class="meta">
                                                {t(
                                                    lang,
                                                    "每户金额 = 产权面积 × 单价 × 账期月数,四舍五入到分。同一账期不会重复生成。",
                                                    "Each household: registered area × price × months, rounded half up to the fen. A period is never billed twice.",
                                                )}
                                            </p>
                                            <button type="submit" class="primary">
                                                {t(lang, "生成账单", "Generate")}
                                            </button>
                                        </form>
                                    </section>
                                    <section class="card">
                                        <h2>{t(lang, "添加单项费用", "Add a fee")}</h2>
                                        <form method="post" action=AddFee::PATH class="stack">
                                            <label>
                                                {t(lang, "社区", "Community")} <select name="community_id" required>
                                                    {d
                                                        .communities
                                                        .iter()
                                                        .map(|(id, name)| {
                                                            view! {
                                                                <option
                                                                    value=id.to_string()
                                                                    selected=q("fee_community")
                                                                        .and_then(|v| v.parse::<i64>().ok()) == Some(*id)
                                                                >
                                                                    {name.clone()}
                                                                </option>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </select>
                                            </label>
                                            <div class="row3">
                                                <label>
                                                    {t(lang, "楼栋", "Building")}
                                                    <input
                                                        type="text"
                                                        name="building"
                                                        required
                                                        maxlength="20"
                                                        placeholder="1号楼"
                                                        value=q("building").unwrap_or_default()
                                                    />
                                                </label>
                                                <label>
                                                    {t(lang, "单元", "Entrance")}
                                                    <input
                                                        type="text"
                                                        name="entrance"
                                                        required
                                                        maxlength="20"
                                                        placeholder="1单元"
                                                        value=q("entrance").unwrap_or_default()
                                                    />
                                                </label>
                                                <label>
                                                    {t(lang, "房号", "Room")}
                                                    <input
                                                        type="text"
                                                        name="room"
                                                        required
                                                        maxlength="20"
                                                        placeholder="101"
                                                        value=q("room").unwrap_or_default()
                                                    />
                                                </label>
                                            </div>
                                            <label>
                                                {t(lang, "类型", "Kind")}
                                                <select name="kind">
                                                    {[
                                                        ("水费", "Water"),
                                                        ("电费", "Electricity"),
                                                        ("燃气费", "Gas"),
                                                        ("停车费", "Parking"),
                                                        ("其他费用", "Other"),
                                                    ]
                                                        .into_iter()
                                                        .map(|(zh, en_label)| {
                                                            let chosen = q("kind").as_deref() == Some(zh);
                                                            view! {
                                                                <option value=zh selected=chosen>
                                                                    {t(lang, zh, en_label)}
                                                                </option>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </select>
                                            </label>
                                            <label>
                                                {t(lang, "账期", "Period")}
                                                <input
                                                    type="text"
                                                    name="period"
                                                    required
                                                    maxlength="10"
                                                    placeholder="2026-11"
                                                    value=q("fee_period").unwrap_or_default()
                                                />
                                            </label>
                                            <label>
                                                {t(lang, "金额(元)", "Amount (yuan)")}
                                                <input
                                                    type="text"
                                                    name="amount"
                                                    inputmode="decimal"
                                                    required
                                                    placeholder="50.00"
                                                    value=q("fee_amount").unwrap_or_default()
                                                />
                                            </label>
                                            <label>
                                                {t(lang, "说明(可选)", "Basis (optional)")}
                                                <input
                                                    type="text"
                                                    name="basis"
                                                    maxlength="100"
                                                    value=q("basis").unwrap_or_default()
                                                />
                                            </label>
                                            <button type="submit">{t(lang, "添加费用", "Add the fee")}</button>
                                        </form>
                                    </section>
                                    <section class="card">
                                        <h2>{t(lang, "欠费情况(按楼栋)", "Arrears by building")}</h2>
                                        {if d.arrears.is_empty() {
                                            view! { <p class="empty">{t(lang, "没有欠费", "Nothing owed")}</p> }
                                                .into_any()
                                        } else {
                                            view! {
                                                <table class="grid">
                                                    <thead>
                                                        <tr>
                                                            <th>{t(lang, "社区", "Community")}</th>
                                                            <th>{t(lang, "楼栋", "Building")}</th>
                                                            <th>{t(lang, "欠费户数", "Households")}</th>
                                                            <th>{t(lang, "账单数", "Bills")}</th>
                                                            <th>{t(lang, "欠费金额", "Owed")}</th>
                                                        </tr>
                                                    </thead>
                                                    <tbody>
                                                        {d
                                                            .arrears
                                                            .iter()
                                                            .map(|r| {
                                                                view! {
                                                                    <tr>
                                                                        <td>{r.community.clone()}</td>
                                                                        <td>{r.building.clone()}</td>
                                                                        <td>{r.households}</td>
                                                                        <td>{r.bills}</td>
                                                                        <td class="amount">{r.owed.to_string()}</td>
                                                                    </tr>
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </tbody>
                                                </table>
                                            }
                                                .into_any()
                                        }}
                                    </section>
                                    {(!d.unmatched.is_empty())
                                        .then(|| {
                                            view! {
                                                <section class="card wide-card">
                                                    <h2 class="form-error">
                                                        {t(
                                                            lang,
                                                            "待人工核对的收款",
                                                            "Payments to settle by hand",
                                                        )}
                                                    </h2>
                                                    <ul class="list">
                                                        {d
                                                            .unmatched
                                                            .iter()
                                                            .map(|u| {
                                                                view! {
                                                                    <li>
                                                                        <span class="title">
                                                                            {u.out_trade_no.clone()}" · "
                                                                            <span class="amount">{u.amount.to_string()}</span>
                                                                        </span>
                                                                        <span class="meta">
                                                                            {u.received_at.clone()}" · "{u.transaction_id.clone()}
                                                                        </span>
                                                                        <span class="meta">{u.detail.clone()}</span>
                                                                    </li>
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </ul>
                                                </section>
                                            }
                                        })}
                                    <section class="card wide-card">
                                        <h2>
                                            {t(
                                                lang,
                                                "与支付平台对账",
                                                "Reconciliation with the payment provider",
                                            )}
                                        </h2>
                                        <p class="meta">
                                            {t(
                                                lang,
                                                "每天上午10点自动核对前一天的交易账单;差异会列在这里。",
                                                "Every morning at 10:00 the previous day's trade bill is compared; differences are listed here.",
                                            )}
                                        </p>
                                        <form method="post" action=RunReconcile::PATH class="inline-form">
                                            <label class="sr-only" for="reconcile-date">
                                                {t(lang, "对账日期", "Date")}
                                            </label>
                                            <input
                                                type="date"
                                                id="reconcile-date"
                                                name="date"
                                                required
                                                value=q("date").unwrap_or_else(|| d.today.clone())
                                            />
                                            <button type="submit">{t(lang, "立即对账", "Reconcile now")}</button>
                                        </form>
                                        {if d.reconciliations.is_empty() {
                                            view! {
                                                <p class="empty">
                                                    {t(lang, "还没有对账记录", "No reconciliation yet")}
                                                </p>
                                            }
                                                .into_any()
                                        } else {
                                            view! {
                                                <ul class="list">
                                                    {d
                                                        .reconciliations
                                                        .iter()
                                                        .map(|r| {
                                                            view! {
                                                                <li class="reconciliation">
                                                                    <span class="title">
                                                                        <span class="nw">{r.date.clone()}</span>
                                                                        " "
                                                                        <span class=if r.status == domain::payments::ReconStatus::Ok
                                                                        {
                                                                            "status approved"
                                                                        } else {
                                                                            "status rejected"
                                                                        }>
                                                                            {if r.status == domain::payments::ReconStatus::Ok {
                                                                                t(lang, "一致", "all match")
                                                                            } else {
                                                                                t(lang, "有差异", "differences")
                                                                            }}
                                                                        </span>
                                                                    </span>
                                                                    <span class="meta">
                                                                        {t(lang, "支付平台 ", "Provider ")}{r.provider_count}
                                                                        {t(lang, " 笔 ", " payments ")}
                                                                        {r.provider_total.to_string()}
                                                                        {t(lang, " · 我方 ", " · ours ")}{r.our_count}
                                                                        {t(lang, " 笔 ", " payments ")}{r.our_total.to_string()}
                                                                        {t(lang, " · 核对于 ", " · at ")}
                                                                        <span class="nw">{r.at.clone()}</span>
                                                                    </span>
                                                                    {r
                                                                        .mismatches
                                                                        .iter()
                                                                        .map(|m| {
                                                                            view! {
                                                                                <span class="meta form-error">
                                                                                    {m.out_trade_no.clone()}":"{m.problem.clone()}
                                                                                </span>
                                                                            }
                                                                        })
                                                                        .collect_view()}
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            }
                                                .into_any()
                                        }}
                                    </section>
                                    <section class="card wide-card">
                                        <h2>{t(lang, "收费记录", "Payments received")}</h2>
                                        <p>
                                            <a class="button" href="/staff/bills/orders.csv" download>
                                                {t(lang, "导出 CSV", "Export CSV")}
                                            </a>
                                        </p>
                                        {if d.orders.is_empty() {
                                            view! {
                                                <p class="empty">
                                                    {t(lang, "还没有在线缴费", "No online payments yet")}
                                                </p>
                                            }
                                                .into_any()
                                        } else {
                                            view! {
                                                <ul class="list">
                                                    {d
                                                        .orders
                                                        .iter()
                                                        .map(|o| {
                                                            let no = o.out_trade_no.clone();
                                                            view! {
                                                                <li class="order">
                                                                    <span class="title">
                                                                        {o.community.clone()}" · "
                                                                        {o.paid_at.clone().unwrap_or_default()}" · "
                                                                        <span class="amount">{o.amount.to_string()}</span>" "
                                                                        <span class=status_class(
                                                                            o.status,
                                                                        )>{o.status.label(lang.is_en())}</span>
                                                                    </span>
                                                                    <span class="meta">
                                                                        {t(lang, "订单号 ", "Order ")}{no.clone()}
                                                                        {t(lang, " · 缴费人 ", " · payer ")}{o.payer.clone()}
                                                                        {t(lang, " · 已退 ", " · refunded ")}
                                                                        {o.refunded.to_string()}
                                                                    </span>
                                                                    {o
                                                                        .lines
                                                                        .iter()
                                                                        .map(|l| {
                                                                            let left = domain::money::Fen(l.amount.0 - l.refunded.0);
                                                                            let open_here = refund_no.as_deref() == Some(no.as_str())
                                                                                && refund_bill.as_deref()
                                                                                    == Some(l.bill_id.to_string().as_str());
                                                                            view! {
                                                                                <div class="line">
                                                                                    <span class="meta">
                                                                                        {domain::bills::title_words(&l.title, lang.is_en())}" · "
                                                                                        {l.address.clone()}" · "{l.amount.to_string()}
                                                                                    </span>
                                                                                    {(left.0 > 0)
                                                                                        .then(|| {
                                                                                            view! {
                                                                                                <form
                                                                                                    method="post"
                                                                                                    action=RefundBill::PATH
                                                                                                    class="inline-form"
                                                                                                >
                                                                                                    <input type="hidden" name="no" value=no.clone() />
                                                                                                    <input
                                                                                                        type="hidden"
                                                                                                        name="bill_id"
                                                                                                        value=l.bill_id.to_string()
                                                                                                    />
                                                                                                    <label
                                                                                                        class="sr-only"
                                                                                                        for=format!("amt-{}-{}", no, l.bill_id)
                                                                                                    >
                                                                                                        {t(lang, "退款金额(元)", "Refund (yuan)")}
                                                                                                    </label>
                                                                                                    <input
                                                                                                        type="text"
                                                                                                        id=format!("amt-{}-{}", no, l.bill_id)
                                                                                                        name="amount"
                                                                                                        inputmode="decimal"
                                                                                                        required
                                                                                                        placeholder=left.yuan()
                                                                                                        value=if open_here {
                                                                                                            kept_amount.clone()
                                                                                                        } else {
                                                                                                            String::new()
                                                                                                        }
                                                                                                    />
                                                                                                    <input
                                                                                                        type="text"
                                                                                                        name="reason"
                                                                                                        required
                                                                                                        maxlength="200"
                                                                                                        placeholder=t(lang, "退款原因", "Reason")
                                                                                                        aria-label=t(lang, "退款原因", "Reason")
                                                                                                        value=if open_here {
                                                                                                            kept_reason.clone()
                                                                                                        } else {
                                                                                                            String::new()
                                                                                                        }
                                                                                                    />
                                                                                                    <button type="submit">{t(lang, "退款", "Refund")}</button>
                                                                                                </form>
                                                                                            }
                                                                                        })}
                                                                                </div>
                                                                            }
                                                                        })
                                                                        .collect_view()}
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            }
                                                .into_any()
                                        }}
                                    </section>
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
