//! 缴费 pages: a resident sees what their households owe and why; staff
//! generate a period's property fees and see arrears per building. Plain
//! forms throughout.

use crate::i18n::t;
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::bill::{ArrearsRow, BillStatus, BillView};
use domain::money::Fen;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

fn q(k: &str) -> Option<String> {
    use_query_map().with_untracked(|m| m.get(k))
}

#[server]
pub async fn my_bills() -> Result<Vec<BillView>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::bills::mine(&state, &user).await.map_err(app_err)
}

#[component]
pub fn BillsPage() -> impl IntoView {
    let bills = Resource::new(|| (), |_| my_bills());
    view! {
        <Page title=("缴费", "Bills") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let list = match bills.await {
                            Ok(l) => l,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let owed = Fen(list.iter().filter(|b| b.status == BillStatus::Unpaid).map(|b| b.amount.0 - b.paid.0).sum());
                        view! {
                            <section class="card">
                                <h2>{t(lang, "待缴合计", "Total due")}</h2>
                                <p class="amount big">{owed.to_string()}</p>
                                <p class="meta">{t(lang, "在线缴费即将开通;开通前请到社区物业服务中心缴纳。", "Online payment opens soon; until then please pay at the property service office.")}</p>
                            </section>
                            {if list.is_empty() {
                                view! { <p class="empty">{t(lang, "没有账单。完成住户认证后,您家的账单会显示在这里。", "No bills. Once your home is verified, its bills appear here.")}</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="list card bills">
                                        {list.into_iter().map(|b| view! {
                                            <li class="bill">
                                                <span class="title">{b.title.clone()}<span class="amount">{b.amount.to_string()}</span></span>
                                                <span class="meta">{b.kind.label(en)}" · "{b.address.clone()}</span>
                                                <span class="meta">{t(lang, "计算方式:", "Basis: ")}{b.basis.clone()}</span>
                                                <span class=if b.status == BillStatus::Unpaid { "status pending" } else { "status approved" }>{b.status.label(en)}</span>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        }.into_any()
                    })}
                </Suspense>
            }
        }/>
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffBillsData {
    pub communities: Vec<(i64, String)>,
    pub arrears: Vec<ArrearsRow>,
}

#[server]
pub async fn staff_bills() -> Result<StaffBillsData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let communities = backend::appointments::staff_communities(&state, &user).await.map_err(app_err)?;
    let arrears = backend::bills::arrears(&state, &user).await.map_err(app_err)?;
    Ok(StaffBillsData { communities, arrears })
}

#[server]
pub async fn generate_property_fees(community_id: String, period: String, price: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let parsed = (
        community_id.trim().parse::<i64>().map_err(|_| domain::ErrorCode::InvalidInput),
        domain::bill::Period::parse(&period),
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
        <Page title=("缴费管理", "Bills") render=move |s: SessionInfo| {
            let lang = s.lang;
            let error = q("error").map(|c| code_text(&c, lang));
            let created = q("created");
            view! {
                {created.map(|n| view! {
                    <p class="success" role="status">{t(lang, "已生成账单 ", "Bills created: ")}{n}{t(lang, " 张,合计 ", ", total ")}{q("total").unwrap_or_default()}
                        {t(lang, ";已有账单未重复生成 ", "; already billed, left alone: ")}{q("existing").unwrap_or_default()}
                        {t(lang, ";无登记面积的房屋 ", "; dwellings without a registered area: ")}{q("without_area").unwrap_or_default()}</p>
                })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let kept = q("community_id").and_then(|v| v.parse::<i64>().ok());
                        view! {
                            <div class="console">
                                <section class="card">
                                    <h2>{t(lang, "生成物业费账单", "Generate property fees")}</h2>
                                    <form method="post" action=GeneratePropertyFees::PATH class="stack">
                                        <label>{t(lang, "社区", "Community")}
                                            <select name="community_id" required>
                                                {d.communities.iter().map(|(id, name)| view! { <option value=id.to_string() selected=Some(*id) == kept>{name.clone()}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label>{t(lang, "账期(如 2026、2026-H1、2026-Q4、2026-11)", "Period (2026, 2026-H1, 2026-Q4, 2026-11)")}
                                            <input type="text" name="period" required maxlength="10" value=q("period").unwrap_or_default()/>
                                        </label>
                                        <label>{t(lang, "单价(元/平方米/月)", "Unit price (yuan per m² per month)")}
                                            <input type="text" name="price" inputmode="decimal" required placeholder="1.85" value=q("price").unwrap_or_default()/>
                                        </label>
                                        <p class="meta">{t(lang, "每户金额 = 产权面积 × 单价 × 账期月数,四舍五入到分。同一账期不会重复生成。", "Each household: registered area × price × months, rounded half up to the fen. A period is never billed twice.")}</p>
                                        <button type="submit" class="primary">{t(lang, "生成账单", "Generate")}</button>
                                    </form>
                                </section>
                                <section class="card">
                                    <h2>{t(lang, "欠费情况(按楼栋)", "Arrears by building")}</h2>
                                    {if d.arrears.is_empty() { view! { <p class="empty">{t(lang, "没有欠费", "Nothing owed")}</p> }.into_any() } else { view! {
                                        <table class="grid">
                                            <thead><tr><th>{t(lang, "社区", "Community")}</th><th>{t(lang, "楼栋", "Building")}</th><th>{t(lang, "欠费户数", "Households")}</th><th>{t(lang, "账单数", "Bills")}</th><th>{t(lang, "欠费金额", "Owed")}</th></tr></thead>
                                            <tbody>
                                                {d.arrears.iter().map(|r| view! {
                                                    <tr><td>{r.community.clone()}</td><td>{r.building.clone()}</td><td>{r.households}</td><td>{r.bills}</td><td class="amount">{r.owed.to_string()}</td></tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any() }}
                                </section>
                            </div>
                        }.into_any()
                    })}
                </Suspense>
            }
        }/>
    }
}
