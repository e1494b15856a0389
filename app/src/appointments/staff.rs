//! Staff pages of appointments: service items, their hours and slots, closures.

#![allow(clippy::too_many_arguments)]

use super::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffData {
    pub communities: Vec<(i64, String)>,
    pub items: Vec<(ItemView, i64, i64)>,
    pub closures: Vec<ClosureView>,
}

#[server]
pub async fn staff_appointments() -> Result<StaffData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let communities = backend::support::scope::staff_communities(&state, &user).await.map_err(app_err)?;
    let items = backend::appointments::staff_items(&state, &user).await.map_err(app_err)?;
    let counts = backend::appointments::counts_today(&state, &user).await.map_err(app_err)?;
    let items = items
        .into_iter()
        .map(|i| {
            let (n, a) = counts.iter().find(|c| c.0 == i.id).map(|c| (c.1, c.2)).unwrap_or((0, 0));
            (i, n, a)
        })
        .collect();
    let closures = backend::appointments::closures(&state, &user).await.map_err(app_err)?;
    Ok(StaffData { communities, items, closures })
}

#[server]
pub async fn save_service_item(
    id: Option<String>,
    community_id: Option<String>,
    name: String,
    guide: String,
    place: String,
    duration_minutes: String,
    audience: String,
    book_notice_hours: String,
    cancel_notice_hours: String,
    window_days: String,
    quota_count: String,
    quota_period: String,
    no_show_limit: String,
    offer_minutes: String,
    active: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    use domain::appointments::{ItemForm, ItemSettings};
    let state = state()?;
    let user = require_staff("/staff/appointments")?;
    let parsed = ItemSettings::parse(&ItemForm {
        name: &name,
        guide: &guide,
        place: &place,
        duration_minutes: &duration_minutes,
        audience: &audience,
        book_notice_hours: &book_notice_hours,
        cancel_notice_hours: &cancel_notice_hours,
        window_days: &window_days,
        quota_count: &quota_count,
        quota_period: &quota_period,
        no_show_limit: &no_show_limit,
        offer_minutes: &offer_minutes,
    });
    let existing = id.as_deref().and_then(|i| i.trim().parse::<i64>().ok());
    let result = match (parsed, existing) {
        (Err(c), _) => Err(c.into()),
        (Ok(s), Some(id)) => {
            backend::appointments::update_item(&state, &user, id, s, active.is_some()).await.map(|_| id)
        }
        (Ok(s), None) => match community_id.as_deref().and_then(|c| c.trim().parse::<i64>().ok()) {
            Some(c) => backend::appointments::create_item(&state, &user, c, s).await,
            None => Err(domain::ErrorCode::InvalidInput.into()),
        },
    };
    match result {
        Ok(id) => {
            leptos_actix::redirect(&format!("/staff/appointments/items/{id}?done=saved"));
            Ok(())
        }
        Err(e) => {
            let page = match existing {
                Some(id) => format!("/staff/appointments/items/{id}"),
                None => "/staff/appointments".to_string(),
            };
            Err(form_error(
                e,
                &page,
                &[
                    ("community_id", community_id.as_deref().unwrap_or("")),
                    ("name", &name),
                    ("guide", &guide),
                    ("place", &place),
                    ("duration_minutes", &duration_minutes),
                    ("audience", &audience),
                    ("book_notice_hours", &book_notice_hours),
                    ("cancel_notice_hours", &cancel_notice_hours),
                    ("window_days", &window_days),
                    ("quota_count", &quota_count),
                    ("quota_period", &quota_period),
                    ("no_show_limit", &no_show_limit),
                    ("offer_minutes", &offer_minutes),
                ],
            ))
        }
    }
}

#[server]
pub async fn add_closure(
    community_id: String,
    item_id: Option<String>,
    first: String,
    last: String,
    reason: String,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_staff("/staff/appointments")?;
    let item = item_id.as_deref().filter(|s| !s.is_empty()).map(|s| s.trim().parse::<i64>());
    let result = match (community_id.trim().parse::<i64>(), item, domain::appointments::Closure::parse(&first, &last)) {
        (_, _, Err(c)) => Err(c.into()),
        (Ok(c), None, Ok(cl)) => backend::appointments::add_closure(&state, &user, c, None, cl, &reason).await,
        (Ok(c), Some(Ok(i)), Ok(cl)) => {
            backend::appointments::add_closure(&state, &user, c, Some(i), cl, &reason).await
        }
        _ => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(n) => {
            leptos_actix::redirect(&format!("/staff/appointments?{}", query(&[("closed", &n.to_string())])));
            Ok(())
        }
        Err(e) => Err(form_error(
            e,
            "/staff/appointments",
            &[
                ("c_community", &community_id),
                ("c_item", item_id.as_deref().unwrap_or("")),
                ("first", &first),
                ("last", &last),
                ("reason", &reason),
            ],
        )),
    }
}

pub(super) fn item_fields(lang: Lang, item: Option<&ItemView>, kept: impl Fn(&str) -> Option<String>) -> impl IntoView {
    let en = lang.is_en();
    let hours = |m: i32| {
        if m % 60 == 0 {
            (m / 60).to_string()
        } else {
            format!("{:.1}", m as f64 / 60.0)
        }
    };
    let val = |k: &str, from_item: Option<String>, default: &str| {
        kept(k).or(from_item).unwrap_or_else(|| default.to_string())
    };
    let name = val("name", item.map(|i| i.name.clone()), "");
    let guide = val("guide", item.map(|i| i.guide.clone()), "");
    let place = val("place", item.map(|i| i.place.clone()), "");
    let duration = val("duration_minutes", item.map(|i| i.duration_minutes.to_string()), "15");
    let audience = val("audience", item.map(|i| i.policy.audience.as_str().to_string()), "verified");
    let book = val("book_notice_hours", item.map(|i| hours(i.policy.book_notice_minutes)), "1");
    let cancel = val("cancel_notice_hours", item.map(|i| hours(i.policy.cancel_notice_minutes)), "2");
    let window = val("window_days", item.map(|i| i.policy.window_days.to_string()), "7");
    let qc = val("quota_count", item.map(|i| i.policy.quota.map(|q| q.0.to_string()).unwrap_or_default()), "");
    let qp =
        val("quota_period", item.map(|i| i.policy.quota.map(|q| q.1.as_str().to_string()).unwrap_or_default()), "week");
    let ns = val("no_show_limit", item.map(|i| i.policy.no_show_limit.map(|n| n.to_string()).unwrap_or_default()), "3");
    let offer = val("offer_minutes", item.map(|i| i.policy.offer_minutes.to_string()), "30");
    view! {
        <label>
            {t(lang, "事项名称", "Name")}<input type="text" name="name" required maxlength="60" value=name />
        </label>
        <label>
            {t(lang, "办事指南(需携带材料等)", "Guide (what to bring)")}
            <textarea name="guide" rows="4" maxlength="2000">
                {guide}
            </textarea>
        </label>
        <label>
            {t(lang, "办理地点", "Place")}<input type="text" name="place" required maxlength="100" value=place />
        </label>
        <label>
            {t(lang, "每人预计时长(分钟)", "Expected duration (minutes)")}
            <input type="text" inputmode="numeric" name="duration_minutes" required value=duration />
        </label>
        <fieldset class="choices">
            <legend>{t(lang, "预约对象", "Who may book")}</legend>
            {Audience::ALL
                .into_iter()
                .map(|a| {
                    view! {
                        <label>
                            <input type="radio" name="audience" value=a.as_str() checked=audience == a.as_str() />
                            {a.label(en)}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
        <label>
            {t(lang, "最少提前预约(小时)", "Book at least … hours ahead")}
            <input type="text" inputmode="decimal" name="book_notice_hours" required value=book />
        </label>
        <label>
            {t(lang, "最晚取消/改约(开始前小时数)", "Cancel or move until … hours before")}
            <input type="text" inputmode="decimal" name="cancel_notice_hours" required value=cancel />
        </label>
        <label>
            {t(lang, "可预约天数(今后几天)", "Bookable days ahead")}
            <input type="text" inputmode="numeric" name="window_days" required value=window />
        </label>
        <div class="row2">
            <label>
                {t(lang, "限约次数(空为不限)", "Limit (empty: none)")}
                <input type="text" inputmode="numeric" name="quota_count" value=qc />
            </label>
            <label>
                {t(lang, "限约周期", "Per")}
                <select name="quota_period">
                    {QuotaPeriod::ALL
                        .into_iter()
                        .map(|p| {
                            view! {
                                <option value=p.as_str() selected=qp == p.as_str()>
                                    {p.label(en)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
        </div>
        <label>
            {t(
                lang,
                "90天内爽约几次暂停在线预约(空为不限)",
                "No-shows in 90 days that suspend online booking (empty: never)",
            )}<input type="text" inputmode="numeric" name="no_show_limit" value=ns />
        </label>
        <label>
            {t(lang, "候补名额保留时间(分钟)", "Minutes a freed seat is held for the next person waiting")}
            <input type="text" inputmode="numeric" name="offer_minutes" required value=offer />
        </label>
    }
}

#[component]
pub fn StaffAppointmentsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| staff_appointments());
    view! {
        <Page
            title=("预约管理", "Appointments")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = q("error").map(|c| code_text(&c, lang));
                let closed = q("closed");
                view! {
                    <p>
                        <a class="button primary" href="/staff/appointments/queue">
                            {t(lang, "今日接待队列 ›", "Today's desk queue ›")}
                        </a>
                    </p>
                    {closed
                        .map(|n| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已设置停办,取消预约 ", "Closure saved; bookings cancelled: ")}
                                    {n}
                                    {t(lang, " 个,已通知预约人。", " (everyone told).")}
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
                            let kept_community = q("community_id")
                                .or_else(|| q("c_community"))
                                .and_then(|v| v.parse::<i64>().ok());
                            view! {
                                <div class="console">
                                    <section class="card">
                                        <h2>{t(lang, "预约事项", "Service items")}</h2>
                                        {if d.items.is_empty() {
                                            view! { <p class="empty">{t(lang, "还没有事项", "No items yet")}</p> }
                                                .into_any()
                                        } else {
                                            view! {
                                                <ul class="list">
                                                    {d
                                                        .items
                                                        .iter()
                                                        .map(|(i, n, a)| {
                                                            view! {
                                                                <li>
                                                                    <a href=format!("/staff/appointments/items/{}", i.id)>
                                                                        <span class="title">
                                                                            {i.name.clone()}
                                                                            {(!i.active).then(|| t(lang, "(已停用)", " (inactive)"))}
                                                                        </span>
                                                                        <span class="meta">
                                                                            {i.community.clone()}" · "
                                                                            {t(lang, "今日预约 ", "today ")}{*n}
                                                                            {t(lang, ",已到 ", ", arrived ")}{*a}
                                                                        </span>
                                                                    </a>
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            }
                                                .into_any()
                                        }}
                                    </section>
                                    <section class="card">
                                        <h2>{t(lang, "新增事项", "New item")}</h2>
                                        <form method="post" action=SaveServiceItem::PATH class="stack">
                                            <label>
                                                {t(lang, "所属社区", "Community")}
                                                <select name="community_id" required>
                                                    {d
                                                        .communities
                                                        .iter()
                                                        .map(|(id, name)| {
                                                            view! {
                                                                <option
                                                                    value=id.to_string()
                                                                    selected=Some(*id) == kept_community
                                                                >
                                                                    {name.clone()}
                                                                </option>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </select>
                                            </label>
                                            {item_fields(lang, None, |k| if q("name").is_some() { q(k) } else { None })}
                                            <button type="submit" class="primary">
                                                {t(lang, "保存事项", "Save item")}
                                            </button>
                                        </form>
                                    </section>
                                    <section class="card">
                                        <h2>{t(lang, "闭馆与节假日", "Closures and holidays")}</h2>
                                        {if d.closures.is_empty() {
                                            view! {
                                                <p class="empty">
                                                    {t(lang, "近期没有停办安排", "No closures ahead")}
                                                </p>
                                            }
                                                .into_any()
                                        } else {
                                            view! {
                                                <ul class="list plain">
                                                    {d
                                                        .closures
                                                        .iter()
                                                        .map(|c| {
                                                            view! {
                                                                <li>
                                                                    <span class="title">
                                                                        {c.first.clone()}
                                                                        {(c.first != c.last).then(|| format!(" – {}", c.last))}
                                                                    </span>
                                                                    <span class="meta">
                                                                        {c
                                                                            .item
                                                                            .clone()
                                                                            .unwrap_or_else(|| {
                                                                                t(lang, "全部事项", "All items").to_string()
                                                                            })}" · "{c.reason.clone()}
                                                                    </span>
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            }
                                                .into_any()
                                        }}
                                        <form method="post" action=AddClosure::PATH class="stack">
                                            <label>
                                                {t(lang, "社区", "Community")} <select name="community_id" required>
                                                    {d
                                                        .communities
                                                        .iter()
                                                        .map(|(id, name)| {
                                                            view! {
                                                                <option
                                                                    value=id.to_string()
                                                                    selected=Some(*id) == kept_community
                                                                >
                                                                    {name.clone()}
                                                                </option>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </select>
                                            </label>
                                            <label>
                                                {t(lang, "事项(留空为全部事项)", "Item (empty: all items)")}
                                                <select name="item_id">
                                                    <option value="">{t(lang, "全部事项", "All items")}</option>
                                                    {d
                                                        .items
                                                        .iter()
                                                        .map(|(i, _, _)| {
                                                            view! {
                                                                <option
                                                                    value=i.id.to_string()
                                                                    selected=q("c_item") == Some(i.id.to_string())
                                                                >
                                                                    {i.community.clone()}
                                                                    " · "
                                                                    {i.name.clone()}
                                                                </option>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </select>
                                            </label>
                                            <label>
                                                {t(lang, "开始日期", "First day")}
                                                <input
                                                    type="date"
                                                    name="first"
                                                    required
                                                    value=q("first").unwrap_or_default()
                                                />
                                            </label>
                                            <label>
                                                {t(
                                                    lang,
                                                    "结束日期(含,留空为一天)",
                                                    "Last day (inclusive; empty: one day)",
                                                )}<input type="date" name="last" value=q("last").unwrap_or_default() />
                                            </label>
                                            <label>
                                                {t(
                                                    lang,
                                                    "原因(会通知已预约的居民)",
                                                    "Reason (sent to everyone booked)",
                                                )}
                                                <input
                                                    type="text"
                                                    name="reason"
                                                    required
                                                    maxlength="100"
                                                    value=q("reason").unwrap_or_default()
                                                />
                                            </label>
                                            <button type="submit" class="danger">
                                                {t(lang, "设置停办", "Close these days")}
                                            </button>
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
