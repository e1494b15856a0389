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
        <label>{t(lang, "事项名称", "Name")}<input type="text" name="name" required maxlength="60" value=name/></label>
        <label>{t(lang, "办事指南(需携带材料等)", "Guide (what to bring)")}<textarea name="guide" rows="4" maxlength="2000">{guide}</textarea></label>
        <label>{t(lang, "办理地点", "Place")}<input type="text" name="place" required maxlength="100" value=place/></label>
        <label>{t(lang, "每人预计时长(分钟)", "Expected duration (minutes)")}<input type="text" inputmode="numeric" name="duration_minutes" required value=duration/></label>
        <fieldset class="choices">
            <legend>{t(lang, "预约对象", "Who may book")}</legend>
            {Audience::ALL.into_iter().map(|a| view! {
                <label><input type="radio" name="audience" value=a.as_str() checked=audience == a.as_str()/>{a.label(en)}</label>
            }).collect_view()}
        </fieldset>
        <label>{t(lang, "最少提前预约(小时)", "Book at least … hours ahead")}<input type="text" inputmode="decimal" name="book_notice_hours" required value=book/></label>
        <label>{t(lang, "最晚取消/改约(开始前小时数)", "Cancel or move until … hours before")}<input type="text" inputmode="decimal" name="cancel_notice_hours" required value=cancel/></label>
        <label>{t(lang, "可预约天数(今后几天)", "Bookable days ahead")}<input type="text" inputmode="numeric" name="window_days" required value=window/></label>
        <div class="row2">
            <label>{t(lang, "限约次数(空为不限)", "Limit (empty: none)")}<input type="text" inputmode="numeric" name="quota_count" value=qc/></label>
            <label>{t(lang, "限约周期", "Per")}
                <select name="quota_period">
                    {QuotaPeriod::ALL.into_iter().map(|p| view! { <option value=p.as_str() selected=qp == p.as_str()>{p.label(en)}</option> }).collect_view()}
                </select>
            </label>
        </div>
        <label>{t(lang, "90天内爽约几次暂停在线预约(空为不限)", "No-shows in 90 days that suspend online booking (empty: never)")}<input type="text" inputmode="numeric" name="no_show_limit" value=ns/></label>
        <label>{t(lang, "候补名额保留时间(分钟)", "Minutes a freed seat is held for the next person waiting")}<input type="text" inputmode="numeric" name="offer_minutes" required value=offer/></label>
    }
}

#[component]
pub fn StaffAppointmentsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| staff_appointments());
    view! {
        <Page title=("预约管理", "Appointments") render=move |s: SessionInfo| {
            let lang = s.lang;
            let error = q("error").map(|c| code_text(&c, lang));
            let closed = q("closed");
            view! {
                <p><a class="button primary" href="/staff/appointments/queue">{t(lang, "今日接待队列 ›", "Today's desk queue ›")}</a></p>
                {closed.map(|n| view! { <p class="success" role="status">{t(lang, "已设置停办,取消预约 ", "Closure saved; bookings cancelled: ")}{n}{t(lang, " 个,已通知预约人。", " (everyone told).")}</p> })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let kept_community = q("community_id").or_else(|| q("c_community")).and_then(|v| v.parse::<i64>().ok());
                        view! {
                            <div class="console">
                            <section class="card">
                                <h2>{t(lang, "预约事项", "Service items")}</h2>
                                {if d.items.is_empty() { view! { <p class="empty">{t(lang, "还没有事项", "No items yet")}</p> }.into_any() } else { view! {
                                    <ul class="list">
                                        {d.items.iter().map(|(i, n, a)| view! {
                                            <li><a href=format!("/staff/appointments/items/{}", i.id)>
                                                <span class="title">{i.name.clone()}{(!i.active).then(|| t(lang, "(已停用)", " (inactive)"))}</span>
                                                <span class="meta">{i.community.clone()}" · "{t(lang, "今日预约 ", "today ")}{*n}{t(lang, ",已到 ", ", arrived ")}{*a}</span>
                                            </a></li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any() }}
                            </section>
                            <section class="card">
                                <h2>{t(lang, "新增事项", "New item")}</h2>
                                <form method="post" action=SaveServiceItem::PATH class="stack">
                                    <label>{t(lang, "所属社区", "Community")}
                                        <select name="community_id" required>
                                            {d.communities.iter().map(|(id, name)| view! { <option value=id.to_string() selected=Some(*id) == kept_community>{name.clone()}</option> }).collect_view()}
                                        </select>
                                    </label>
                                    {item_fields(lang, None, |k| if q("name").is_some() { q(k) } else { None })}
                                    <button type="submit" class="primary">{t(lang, "保存事项", "Save item")}</button>
                                </form>
                            </section>
                            <section class="card">
                                <h2>{t(lang, "闭馆与节假日", "Closures and holidays")}</h2>
                                {if d.closures.is_empty() { view! { <p class="empty">{t(lang, "近期没有停办安排", "No closures ahead")}</p> }.into_any() } else { view! {
                                    <ul class="list plain">
                                        {d.closures.iter().map(|c| view! {
                                            <li><span class="title">{c.first.clone()}{(c.first != c.last).then(|| format!(" – {}", c.last))}</span>
                                                <span class="meta">{c.item.clone().unwrap_or_else(|| t(lang, "全部事项", "All items").to_string())}" · "{c.reason.clone()}</span></li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any() }}
                                <form method="post" action=AddClosure::PATH class="stack">
                                    <label>{t(lang, "社区", "Community")}
                                        <select name="community_id" required>
                                            {d.communities.iter().map(|(id, name)| view! { <option value=id.to_string() selected=Some(*id) == kept_community>{name.clone()}</option> }).collect_view()}
                                        </select>
                                    </label>
                                    <label>{t(lang, "事项(留空为全部事项)", "Item (empty: all items)")}
                                        <select name="item_id">
                                            <option value="">{t(lang, "全部事项", "All items")}</option>
                                            {d.items.iter().map(|(i, _, _)| view! { <option value=i.id.to_string() selected=q("c_item") == Some(i.id.to_string())>{i.community.clone()}" · "{i.name.clone()}</option> }).collect_view()}
                                        </select>
                                    </label>
                                    <label>{t(lang, "开始日期", "First day")}<input type="date" name="first" required value=q("first").unwrap_or_default()/></label>
                                    <label>{t(lang, "结束日期(含,留空为一天)", "Last day (inclusive; empty: one day)")}<input type="date" name="last" value=q("last").unwrap_or_default()/></label>
                                    <label>{t(lang, "原因(会通知已预约的居民)", "Reason (sent to everyone booked)")}<input type="text" name="reason" required maxlength="100" value=q("reason").unwrap_or_default()/></label>
                                    <button type="submit" class="danger">{t(lang, "设置停办", "Close these days")}</button>
                                </form>
                            </section>
                            </div>
                        }.into_any()
                    })}
                </Suspense>
            }
        }/>
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffItemData {
    pub item: ItemView,
    pub hours: Vec<(i64, HoursRule)>,
    pub slots: Vec<StaffSlot>,
}

#[server]
pub async fn staff_item_page(id: i64) -> Result<StaffItemData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let item = backend::appointments::staff_item(&state, &user, id).await.map_err(app_err)?;
    let hours = backend::appointments::hours_rows(&state, &user, id).await.map_err(app_err)?;
    let slots = backend::appointments::staff_slots(&state, &user, id).await.map_err(app_err)?;
    Ok(StaffItemData { item, hours, slots })
}

#[server]
pub async fn add_service_hours(
    item_id: String,
    d1: Option<String>,
    d2: Option<String>,
    d3: Option<String>,
    d4: Option<String>,
    d5: Option<String>,
    d6: Option<String>,
    d7: Option<String>,
    start: String,
    end: String,
    slot_minutes: String,
    capacity: String,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_staff("/staff/appointments")?;
    let days = crate::layout::ticked_days([d1, d2, d3, d4, d5, d6, d7]);
    let page = format!("/staff/appointments/items/{}", item_id.trim());
    let result = match (item_id.trim().parse::<i64>(), HoursRule::parse(&days, &start, &end, &slot_minutes, &capacity))
    {
        (Ok(id), Ok(rule)) => backend::appointments::add_hours(&state, &user, id, rule).await,
        (_, Err(c)) => Err(c.into()),
        _ => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(n) => {
            leptos_actix::redirect(&format!("{page}?{}", query(&[("made", &n.to_string())])));
            Ok(())
        }
        Err(e) => {
            let days = days.join(",");
            Err(form_error(
                e,
                &page,
                &[
                    ("h_days", &days),
                    ("start", &start),
                    ("end", &end),
                    ("slot_minutes", &slot_minutes),
                    ("capacity", &capacity),
                ],
            ))
        }
    }
}

#[server]
pub async fn change_slots(
    item_id: String,
    action: String,
    target: String,
    value: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_staff("/staff/appointments")?;
    let page = format!("/staff/appointments/items/{}", item_id.trim());
    let result = match (action.as_str(), target.trim().parse::<i64>()) {
        ("remove_hours", Ok(h)) => backend::appointments::remove_hours(&state, &user, h).await,
        ("capacity", Ok(s)) => match value.as_deref().map(|v| v.trim().parse::<i32>()) {
            Some(Ok(c)) => backend::appointments::set_capacity(&state, &user, s, c).await,
            _ => Err(domain::ErrorCode::InvalidInput.into()),
        },
        _ => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(()) => {
            // back on the same day, the changed slot marked
            leptos_actix::redirect(&format!("{page}?{}", query(&[("done", &action), ("slot", &target)])));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[("slot", &target)])),
    }
}

#[component]
pub fn StaffItemPage() -> impl IntoView {
    let id = param_id();
    let data = Resource::new(move || id, staff_item_page);
    view! {
        <Page title=("预约事项", "Service item") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            let error = q("error").map(|c| code_text(&c, lang));
            let done = q("done");
            let made = q("made");
            view! {
                <p><a href="/staff/appointments">{t(lang, "‹ 预约管理", "‹ Appointments")}</a></p>
                {done.map(|_| view! { <p class="success" role="status">{t(lang, "已保存。", "Saved.")}</p> })}
                {made.map(|n| view! { <p class="success" role="status">{t(lang, "已添加开放时间,新生成时段 ", "Hours added; new slots: ")}{n}</p> })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let item_id = d.item.id.to_string();
                        let kept_days = q("h_days").unwrap_or_else(|| "1,2,3,4,5".into());
                        let bad_slot = q("slot").and_then(|v| v.parse::<i64>().ok());
                        let keep_item = q("name").is_some();
                        let mut dates: Vec<String> = d.slots.iter().map(|s| s.date.clone()).collect();
                        dates.dedup();
                        let shown = q("day")
                            .filter(|x| dates.contains(x))
                            .or_else(|| bad_slot.and_then(|b| d.slots.iter().find(|s| s.id == b).map(|s| s.date.clone())))
                            .or_else(|| dates.first().cloned())
                            .unwrap_or_default();
                        view! {
                            <div class="console">
                            <section class="card">
                                <h2>{d.item.name.clone()}</h2>
                                <form method="post" action=SaveServiceItem::PATH class="stack">
                                    <input type="hidden" name="id" value=item_id.clone()/>
                                    {item_fields(lang, Some(&d.item), move |k| if keep_item { q(k) } else { None })}
                                    <label class="check"><input type="checkbox" name="active" value="1" checked=d.item.active/>{t(lang, "开放预约", "Open for booking")}</label>
                                    <button type="submit" class="primary">{t(lang, "保存", "Save")}</button>
                                </form>
                            </section>
                            <section class="card">
                                <h2>{t(lang, "开放时间", "Opening hours")}</h2>
                                <ul class="list plain">
                                    {d.hours.iter().map(|(hid, h)| view! {
                                        <li class="row-between"><span>{h.describe(en)}</span>
                                            <form method="post" action=ChangeSlots::PATH>
                                                <input type="hidden" name="item_id" value=item_id.clone()/>
                                                <input type="hidden" name="action" value="remove_hours"/>
                                                <input type="hidden" name="target" value=hid.to_string()/>
                                                <button type="submit" class="link">{t(lang, "停用", "Stop")}</button>
                                            </form>
                                        </li>
                                    }).collect_view()}
                                </ul>
                                <form method="post" action=AddServiceHours::PATH class="stack">
                                    <input type="hidden" name="item_id" value=item_id.clone()/>
                                    <fieldset class="choices">
                                        <legend>{t(lang, "每周", "Days")}</legend>
                                        {(1..=7u32).map(|n| {
                                            let checked = kept_days.split(',').any(|x| x == n.to_string());
                                            view! { <label><input type="checkbox" name=format!("d{n}") value="1" checked=checked/>{domain::appointments::weekday_name(n as u8, en)}</label> }
                                        }).collect_view()}
                                    </fieldset>
                                    <div class="row2">
                                        <label>{t(lang, "开始", "From")}<input type="time" name="start" required value=q("start").unwrap_or_else(|| "09:00".into())/></label>
                                        <label>{t(lang, "结束", "Until")}<input type="time" name="end" required value=q("end").unwrap_or_else(|| "11:30".into())/></label>
                                    </div>
                                    <div class="row2">
                                        <label>{t(lang, "每段分钟", "Minutes per slot")}<input type="text" inputmode="numeric" name="slot_minutes" required value=q("slot_minutes").unwrap_or_else(|| "30".into())/></label>
                                        <label>{t(lang, "每段名额", "Seats per slot")}<input type="text" inputmode="numeric" name="capacity" required value=q("capacity").unwrap_or_else(|| "5".into())/></label>
                                    </div>
                                    <button type="submit" class="primary">{t(lang, "添加开放时间", "Add hours")}</button>
                                </form>
                            </section>
                            <section class="card wide-card">
                                <h2>{t(lang, "时段与名额", "Slots and seats")}</h2>
                                {if d.slots.is_empty() { view! { <p class="empty">{t(lang, "还没有时段,请先添加开放时间", "No slots yet: add opening hours first")}</p> }.into_any() } else { view! {
                                    <nav class="chips" aria-label=t(lang, "日期", "Days")>
                                        {dates.iter().map(|x| {
                                            let label = parse_day(x).map(|p| day_label(p, en)).unwrap_or_default();
                                            let current = (*x == shown).then_some("page");
                                            view! { <a href=format!("?day={x}") aria-current=current>{label}</a> }
                                        }).collect_view()}
                                    </nav>
                                    <table class="grid">
                                        <thead><tr><th>{t(lang, "日期", "Day")}</th><th>{t(lang, "时段", "Time")}</th><th>{t(lang, "已约/名额", "Booked/seats")}</th><th>{t(lang, "候补", "Waiting")}</th><th>{t(lang, "调整名额", "Seats")}</th></tr></thead>
                                        <tbody>
                                            {d.slots.iter().filter(|sl| sl.date == shown).map(|sl| view! {
                                                <tr class=if bad_slot == Some(sl.id) { "picked" } else { "" }>
                                                    <td><span class="nw">{sl.date.clone()}</span></td>
                                                    <td>{sl.start.clone()}"–"{sl.end.clone()}{(!sl.open).then(|| t(lang, "(停办)", " (closed)"))}</td>
                                                    <td>{sl.booked}"/"{sl.capacity}</td>
                                                    <td>{sl.waiting}</td>
                                                    <td>
                                                        <form method="post" action=ChangeSlots::PATH class="inline-form">
                                                            <input type="hidden" name="item_id" value=item_id.clone()/>
                                                            <input type="hidden" name="action" value="capacity"/>
                                                            <input type="hidden" name="target" value=sl.id.to_string()/>
                                                            <input type="text" inputmode="numeric" name="value" size="3" aria-label=t(lang, "名额", "Seats") value=sl.capacity.to_string()/>
                                                            <button type="submit">{t(lang, "改", "Set")}</button>
                                                        </form>
                                                    </td>
                                                </tr>
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
