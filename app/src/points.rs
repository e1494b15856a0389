//! 积分 pages: a resident's balance explained entry by entry, the points
//! mall (redeem with a plain form, a pickup code, cancel), and for staff:
//! give points with a reason, look up a person's ledger and reverse an entry,
//! add mall items and stock, hand items over against their pickup code.

#![allow(clippy::too_many_arguments)]

use crate::i18n::{t, Lang};
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::points::{EntryView, ItemView, RedemptionStatus, RedemptionView};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

fn q(k: &str) -> Option<String> {
    use_query_map().with_untracked(|m| m.get(k))
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointsData {
    pub balance: i64,
    pub entries: Vec<EntryView>,
    pub items: Vec<ItemView>,
    pub redemptions: Vec<RedemptionView>,
    pub idem: String,
}

#[server]
pub async fn my_points() -> Result<PointsData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let (balance, entries) = backend::points::ledger(&state, user.id).await.map_err(app_err)?;
    let items = backend::points::items_for(&state, &user).await.map_err(app_err)?;
    let redemptions = backend::points::my_redemptions(&state, &user).await.map_err(app_err)?;
    Ok(PointsData { balance, entries, items, redemptions, idem: backend::idempotency::fresh_key() })
}

#[server]
pub async fn redeem_item(item_id: i64, idem: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::points::redeem(&state, &user, item_id, &idem).await {
        Ok(r) => {
            leptos_actix::redirect(&format!("/points?{}", query(&[("redeemed", r.code.as_str())])));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/points", &[])),
    }
}

#[server]
pub async fn cancel_redemption(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::points::cancel(&state, &user, id).await {
        Ok(()) => {
            leptos_actix::redirect("/points?cancelled=1");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/points", &[])),
    }
}

fn signed(p: i64) -> String {
    if p > 0 {
        format!("+{p}")
    } else {
        p.to_string()
    }
}

/// The ledger: every entry with the balance after it.
#[component]
fn Ledger(lang: Lang, entries: Vec<EntryView>, #[prop(optional)] reverse: bool) -> impl IntoView {
    let en = lang.is_en();
    view! {
        <ul class="list ledger">
            {entries
                .into_iter()
                .map(|e| {
                    let can_reverse = reverse && e.kind.reversible() && !e.reversed;
                    let class = if e.points > 0 { "points plus" } else { "points minus" };
                    view! {
                        <li>
                            <span class="title">
                                {e.kind.label(en)}" "<strong class=class>{signed(e.points)}</strong>
                            </span>
                            <span class="meta">{domain::msg::render(&e.reason, lang.is_en())}</span>
                            <span class="meta">
                                <span class="nw">{e.at.clone()}</span>
                                {t(lang, " · 余额 ", " · balance ")}
                                {e.balance_after}
                                {e.reversed.then(|| t(lang, " · 已冲正", " · reversed"))}
                            </span>
                            {can_reverse
                                .then(|| {
                                    view! {
                                        <form method="post" action=ReversePoints::PATH class="inline-form">
                                            <input type="hidden" name="entry_id" value=e.id.to_string() />
                                            <input
                                                type="text"
                                                name="reason"
                                                required
                                                maxlength="200"
                                                placeholder=t(lang, "冲正原因", "Reason")
                                                aria-label=t(lang, "冲正原因", "Reason")
                                            />
                                            <button type="submit">{t(lang, "冲正", "Reverse")}</button>
                                        </form>
                                    }
                                })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
pub fn PointsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| my_points());
    view! {
        <Page
            title=("我的积分", "My points")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let error = q("error").map(|c| code_text(&c, lang));
                view! {
                    {q("redeemed")
                        .map(|c| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "兑换成功,请凭领取码 ", "Redeemed. Collect it with the code ")}
                                    <strong>{c}</strong>
                                    {t(
                                        lang,
                                        " 到社区领取(7天内有效)。",
                                        " at the community office within 7 days.",
                                    )}
                                </p>
                            }
                        })}
                    {q("cancelled")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已取消,积分已退回。", "Cancelled; the points are back.")}
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
                            let balance = d.balance;
                            let idem = d.idem.clone();
                            view! {
                                <section class="card">
                                    <h2>{t(lang, "积分余额", "Balance")}</h2>
                                    <p class="amount big">{balance}</p>
                                    <p class="meta">
                                        {t(
                                            lang,
                                            "积分来自志愿服务和参与社区议事;每一笔都列在下面,可逐笔核对。",
                                            "Points come from volunteering and taking part in deliberation; every entry is listed below.",
                                        )}
                                    </p>
                                </section>
                                <section class="card">
                                    <h2>{t(lang, "积分超市", "Points mall")}</h2>
                                    {if d.items.is_empty() {
                                        view! {
                                            <p class="empty">
                                                {t(lang, "暂无可兑换的物品", "Nothing to redeem yet")}
                                            </p>
                                        }
                                            .into_any()
                                    } else {
                                        view! {
                                            <ul class="list mall">
                                                {d
                                                    .items
                                                    .iter()
                                                    .map(|i| {
                                                        let enough = balance >= i.cost;
                                                        let available = i.stock > 0;
                                                        view! {
                                                            <li class="item">
                                                                <span class="title">
                                                                    {i.name.clone()}" "
                                                                    <strong class="points">
                                                                        {i.cost}{t(lang, " 积分", " points")}
                                                                    </strong>
                                                                </span>
                                                                {(!i.description.is_empty())
                                                                    .then(|| {
                                                                        view! { <span class="meta">{i.description.clone()}</span> }
                                                                    })}
                                                                <span class="meta">
                                                                    {t(lang, "剩余 ", "Left: ")}{i.stock}
                                                                </span>
                                                                <form
                                                                    method="post"
                                                                    action=RedeemItem::PATH
                                                                    class="inline-form"
                                                                >
                                                                    <input
                                                                        type="hidden"
                                                                        name="item_id"
                                                                        value=i.id.to_string()
                                                                    />
                                                                    <input
                                                                        type="hidden"
                                                                        name="idem"
                                                                        value=format!("{}-{}", idem, i.id)
                                                                    />
                                                                    <button type="submit" disabled=!(enough && available)>
                                                                        {if !available {
                                                                            t(lang, "已兑完", "Out of stock")
                                                                        } else if !enough {
                                                                            t(lang, "积分不足", "Not enough points")
                                                                        } else {
                                                                            t(lang, "兑换", "Redeem")
                                                                        }}
                                                                    </button>
                                                                </form>
                                                            </li>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </ul>
                                        }
                                            .into_any()
                                    }}
                                </section>
                                {(!d.redemptions.is_empty())
                                    .then(|| {
                                        view! {
                                            <section class="card">
                                                <h2>{t(lang, "我的兑换", "My redemptions")}</h2>
                                                <ul class="list">
                                                    {d
                                                        .redemptions
                                                        .iter()
                                                        .map(|r| {
                                                            let pending = r.status == RedemptionStatus::Pending;
                                                            view! {
                                                                <li class="redemption">
                                                                    <span class="title">
                                                                        {r.item.clone()}" · "{r.cost}
                                                                        {t(lang, " 积分", " points")}
                                                                    </span>
                                                                    <span class=if pending {
                                                                        "status pending"
                                                                    } else {
                                                                        "status"
                                                                    }>{r.status.label(en)}</span>
                                                                    {pending
                                                                        .then(|| {
                                                                            view! {
                                                                                <span class="meta">
                                                                                    {t(lang, "领取码 ", "Pickup code ")}
                                                                                    <strong class="receipt-code">{r.code.clone()}</strong>
                                                                                    {t(lang, " · 请于 ", " · collect by ")}
                                                                                    <span class="nw">{r.expires_at.clone()}</span>
                                                                                    {t(lang, " 前领取", "")}
                                                                                </span>
                                                                                <form
                                                                                    method="post"
                                                                                    action=CancelRedemption::PATH
                                                                                    class="inline-form"
                                                                                >
                                                                                    <input type="hidden" name="id" value=r.id.to_string() />
                                                                                    <button type="submit">
                                                                                        {t(lang, "取消兑换", "Cancel")}
                                                                                    </button>
                                                                                </form>
                                                                            }
                                                                        })}
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            </section>
                                        }
                                    })}
                                <section class="card">
                                    <h2>{t(lang, "积分明细", "Ledger")}</h2>
                                    {if d.entries.is_empty() {
                                        view! {
                                            <p class="empty">{t(lang, "还没有积分记录", "No entries yet")}</p>
                                        }
                                            .into_any()
                                    } else {
                                        view! { <Ledger lang=lang entries=d.entries.clone() /> }.into_any()
                                    }}
                                </section>
                            }
                                .into_any()
                        })}
                    </Suspense>
                }
            }
        />
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffPointsData {
    pub communities: Vec<(i64, String)>,
    pub items: Vec<ItemView>,
    pub pending: Vec<RedemptionView>,
    pub person: Option<domain::points::PersonLedger>,
    pub idem: String,
}

#[server]
pub async fn staff_points(phone: Option<String>) -> Result<StaffPointsData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let communities = backend::support::scope::staff_communities(&state, &user).await.map_err(app_err)?;
    let items = backend::points::staff_items(&state, &user).await.map_err(app_err)?;
    let pending = backend::points::staff_pending(&state, &user).await.map_err(app_err)?;
    let person = match phone.filter(|p| !p.trim().is_empty()) {
        Some(p) => Some(backend::points::staff_ledger(&state, &user, &p).await.map_err(app_err)?),
        None => None,
    };
    Ok(StaffPointsData { communities, items, pending, person, idem: backend::idempotency::fresh_key() })
}

#[server]
pub async fn award_points(phone: String, points: String, reason: String, idem: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let keep = [("award_phone", phone.as_str()), ("points", points.as_str()), ("reason", reason.as_str())];
    let result = match domain::points::parse_points(&points) {
        Ok(p) => backend::points::award(&state, &user, &phone, p, &reason, &idem).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => {
            leptos_actix::redirect(&format!(
                "/staff/points?{}",
                query(&[("awarded", points.as_str()), ("phone", phone.as_str())])
            ));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/points", &keep)),
    }
}

#[server]
pub async fn reverse_points(entry_id: i64, reason: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::points::reverse(&state, &user, entry_id, &reason).await {
        Ok(()) => {
            leptos_actix::redirect("/staff/points?reversed=1");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/points", &[])),
    }
}

#[server]
pub async fn add_mall_item(
    community_id: String,
    name: String,
    description: String,
    cost: String,
    stock: String,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let keep = [
        ("item_community", community_id.as_str()),
        ("name", name.as_str()),
        ("description", description.as_str()),
        ("cost", cost.as_str()),
        ("stock", stock.as_str()),
    ];
    let parsed = (
        community_id.trim().parse::<i64>().map_err(|_| domain::ErrorCode::InvalidInput),
        domain::points::parse_points(&cost),
        domain::points::parse_stock(&stock),
    );
    let result = match parsed {
        (Ok(c), Ok(cost), Ok(stock)) => {
            backend::points::create_item(&state, &user, c, &name, &description, cost, stock).await
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e.into()),
    };
    match result {
        Ok(_) => {
            leptos_actix::redirect("/staff/points?item_added=1");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/points", &keep)),
    }
}

#[server]
pub async fn restock_item(item_id: i64, add: String, active: Option<String>) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let delta = match add.trim() {
        "" => Ok(0),
        a => a.parse::<i64>().ok().filter(|d| d.abs() <= 100_000).ok_or(domain::ErrorCode::InvalidInput),
    };
    let result = match delta {
        Ok(d) => backend::points::restock(&state, &user, item_id, d, active.is_some_and(|a| !a.is_empty())).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => {
            leptos_actix::redirect("/staff/points?restocked=1");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/points", &[])),
    }
}

#[server]
pub async fn pickup_redemption(code: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::points::pickup(&state, &user, &code).await {
        Ok(r) => {
            leptos_actix::redirect(&format!(
                "/staff/points?{}",
                query(&[("picked", r.item.as_str()), ("by", r.person.as_str())])
            ));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/points", &[("code", code.as_str())])),
    }
}

#[component]
pub fn StaffPointsPage() -> impl IntoView {
    let phone = q("phone");
    let data = Resource::new(move || phone.clone(), staff_points);
    view! {
        <Page
            title=("积分管理", "Points")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = q("error").map(|c| code_text(&c, lang));
                view! {
                    {q("awarded")
                        .map(|p| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已发放 ", "Awarded ")}
                                    {p}
                                    {t(lang, " 积分", " points")}
                                </p>
                            }
                        })}
                    {q("reversed")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已冲正", "Reversed")}
                                </p>
                            }
                        })}
                    {q("item_added")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已上架", "Item added")}
                                </p>
                            }
                        })}
                    {q("restocked")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "库存已更新", "Stock updated")}
                                </p>
                            }
                        })}
                    {q("picked")
                        .map(|i| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已领取:", "Picked up: ")}
                                    {i}
                                    " · "
                                    {q("by").unwrap_or_default()}
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
                            let kept_c = q("item_community").and_then(|v| v.parse::<i64>().ok());
                            view! {
                                <div class="console">
                                    <section class="card">
                                        <h2>{t(lang, "兑换领取", "Hand over a redemption")}</h2>
                                        <form method="post" action=PickupRedemption::PATH class="stack">
                                            <label>
                                                {t(lang, "领取码", "Pickup code")}
                                                <input
                                                    type="text"
                                                    name="code"
                                                    required
                                                    maxlength="20"
                                                    autocomplete="off"
                                                    placeholder="XXXX-XXXX-XXXX"
                                                    value=q("code").unwrap_or_default()
                                                />
                                            </label>
                                            <button type="submit" class="primary">
                                                {t(lang, "确认领取", "Confirm pickup")}
                                            </button>
                                        </form>
                                        {(!d.pending.is_empty())
                                            .then(|| {
                                                view! {
                                                    <ul class="list">
                                                        {d
                                                            .pending
                                                            .iter()
                                                            .map(|r| {
                                                                view! {
                                                                    <li>
                                                                        <span class="title">
                                                                            {r.item.clone()}" · "{r.person.clone()}
                                                                        </span>
                                                                        <span class="meta">
                                                                            {r.code.clone()}" · "{t(lang, "截止 ", "until ")}
                                                                            <span class="nw">{r.expires_at.clone()}</span>
                                                                        </span>
                                                                    </li>
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </ul>
                                                }
                                            })}
                                    </section>
                                    <section class="card">
                                        <h2>{t(lang, "发放积分", "Give points")}</h2>
                                        <form method="post" action=AwardPoints::PATH class="stack">
                                            <input type="hidden" name="idem" value=d.idem.clone() />
                                            <label>
                                                {t(lang, "居民手机号", "Resident's phone")}
                                                <input
                                                    type="tel"
                                                    name="phone"
                                                    required
                                                    maxlength="11"
                                                    inputmode="numeric"
                                                    value=q("award_phone").unwrap_or_default()
                                                />
                                            </label>
                                            <label>
                                                {t(lang, "积分", "Points")}
                                                <input
                                                    type="text"
                                                    name="points"
                                                    required
                                                    inputmode="numeric"
                                                    maxlength="6"
                                                    value=q("points").unwrap_or_default()
                                                />
                                            </label>
                                            <label>
                                                {t(lang, "原因", "Reason")}
                                                <input
                                                    type="text"
                                                    name="reason"
                                                    required
                                                    maxlength="200"
                                                    value=q("reason").unwrap_or_default()
                                                />
                                            </label>
                                            <button type="submit">{t(lang, "发放", "Give")}</button>
                                        </form>
                                    </section>
                                    <section class="card">
                                        <h2>{t(lang, "查询居民积分", "Look up a resident")}</h2>
                                        <form method="get" action="/staff/points" class="inline-form">
                                            <label class="sr-only" for="lookup-phone">
                                                {t(lang, "手机号", "Phone")}
                                            </label>
                                            <input
                                                type="tel"
                                                id="lookup-phone"
                                                name="phone"
                                                required
                                                maxlength="11"
                                                inputmode="numeric"
                                                placeholder=t(lang, "手机号", "Phone")
                                            />
                                            <button type="submit">{t(lang, "查询", "Look up")}</button>
                                        </form>
                                        {d
                                            .person
                                            .clone()
                                            .map(|p| {
                                                view! {
                                                    <p>
                                                        <strong>{p.name.clone()}</strong>
                                                        " "
                                                        {p.phone_masked.clone()}
                                                        {t(lang, " · 余额 ", " · balance ")}
                                                        {p.balance}
                                                    </p>
                                                    <Ledger lang=lang entries=p.entries.clone() reverse=true />
                                                }
                                            })}
                                    </section>
                                    <section class="card wide-card">
                                        <h2>{t(lang, "积分超市", "Points mall")}</h2>
                                        <ul class="list">
                                            {d
                                                .items
                                                .iter()
                                                .map(|i| {
                                                    view! {
                                                        <li class="item">
                                                            <span class="title">
                                                                {i.name.clone()}" · "{i.cost}
                                                                {t(lang, " 积分", " points")}
                                                                {(!i.active).then(|| t(lang, "(已下架)", " (off)"))}
                                                            </span>
                                                            <span class="meta">
                                                                {i.community.clone()}
                                                                {t(lang, " · 可兑 ", " · available ")}{i.stock}
                                                                {t(lang, " · 待领取 ", " · awaiting pickup ")}{i.held}
                                                            </span>
                                                            <form
                                                                method="post"
                                                                action=RestockItem::PATH
                                                                class="inline-form"
                                                            >
                                                                <input
                                                                    type="hidden"
                                                                    name="item_id"
                                                                    value=i.id.to_string()
                                                                />
                                                                <input
                                                                    type="text"
                                                                    name="add"
                                                                    inputmode="numeric"
                                                                    maxlength="7"
                                                                    placeholder=t(lang, "补货数量", "Add stock")
                                                                    aria-label=t(lang, "补货数量", "Add stock")
                                                                />
                                                                <label class="check">
                                                                    <input
                                                                        type="checkbox"
                                                                        name="active"
                                                                        value="1"
                                                                        checked=i.active
                                                                    />
                                                                    <span>{t(lang, "上架", "On sale")}</span>
                                                                </label>
                                                                <button type="submit">{t(lang, "保存", "Save")}</button>
                                                            </form>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                        <form method="post" action=AddMallItem::PATH class="stack">
                                            <h3>{t(lang, "上架新物品", "Add an item")}</h3>
                                            <label>
                                                {t(lang, "社区", "Community")} <select name="community_id" required>
                                                    {d
                                                        .communities
                                                        .iter()
                                                        .map(|(id, name)| {
                                                            view! {
                                                                <option value=id.to_string() selected=Some(*id) == kept_c>
                                                                    {name.clone()}
                                                                </option>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </select>
                                            </label>
                                            <label>
                                                {t(lang, "名称", "Name")}
                                                <input
                                                    type="text"
                                                    name="name"
                                                    required
                                                    maxlength="60"
                                                    value=q("name").unwrap_or_default()
                                                />
                                            </label>
                                            <label>
                                                {t(lang, "说明", "Description")}
                                                <input
                                                    type="text"
                                                    name="description"
                                                    maxlength="500"
                                                    value=q("description").unwrap_or_default()
                                                />
                                            </label>
                                            <div class="row2">
                                                <label>
                                                    {t(lang, "所需积分", "Cost (points)")}
                                                    <input
                                                        type="text"
                                                        name="cost"
                                                        required
                                                        inputmode="numeric"
                                                        maxlength="6"
                                                        value=q("cost").unwrap_or_default()
                                                    />
                                                </label>
                                                <label>
                                                    {t(lang, "库存", "Stock")}
                                                    <input
                                                        type="text"
                                                        name="stock"
                                                        required
                                                        inputmode="numeric"
                                                        maxlength="6"
                                                        value=q("stock").unwrap_or_default()
                                                    />
                                                </label>
                                            </div>
                                            <button type="submit">{t(lang, "上架", "Add")}</button>
                                        </form>
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
