//! 预约 pages: residents browse items, book, queue, cancel and move; staff
//! set items, hours and closures up and run the desk. Every action is a
//! plain form (works without WASM and inside WeChat); errors come back to the
//! page they were made on, with what was chosen kept.

// Server functions take a form's fields as their arguments.
#![allow(clippy::too_many_arguments)]

mod bookings;
pub use bookings::*;

mod desk;
mod staff;
mod staff_item;
pub use desk::*;
pub use staff::*;
pub use staff_item::*;

use crate::i18n::{t, Lang};
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::appointments::{
    day_label, parse_day, Audience, BookingStatus, BookingView, ClosureView, DayView, HoursRule, ItemView, QueueEntry,
    QuotaPeriod, StaffSlot,
};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

fn q(k: &str) -> Option<String> {
    use_query_map().with_untracked(|m| m.get(k))
}

fn param_id() -> i64 {
    use_params_map().with_untracked(|m| m.get("id")).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn rules_text(i: &ItemView, lang: Lang) -> Vec<String> {
    let en = lang.is_en();
    let p = &i.policy;
    let hours = |m: i32| {
        if m % 60 == 0 {
            format!("{}", m / 60)
        } else {
            format!("{:.1}", m as f64 / 60.0)
        }
    };
    let mut v = vec![
        format!("{}{}", t(lang, "预约对象:", "Who may book: "), p.audience.label(en)),
        if en {
            format!("Book at least {} h ahead, up to {} days ahead", hours(p.book_notice_minutes), p.window_days)
        } else {
            format!("需提前{}小时预约,可预约今后{}天内的时段", hours(p.book_notice_minutes), p.window_days)
        },
        if en {
            format!("Cancel or move online until {} h before the start", hours(p.cancel_notice_minutes))
        } else {
            format!("开始前{}小时之前可在线取消或改约", hours(p.cancel_notice_minutes))
        },
    ];
    if let Some((n, period)) = p.effective_quota() {
        let per = if p.per_household() { t(lang, "每户", "per household") } else { t(lang, "每人", "per person") };
        v.push(if en {
            format!("At most {n} {per} {}", period.label(true))
        } else {
            format!("{per}{}限约{n}次", period.label(false))
        });
    }
    if let Some(n) = p.no_show_limit {
        v.push(if en {
            format!("{n} no-shows in 90 days suspend online booking")
        } else {
            format!("90天内爽约{n}次将暂停在线预约")
        });
    }
    v
}

fn status_class(s: BookingStatus) -> &'static str {
    match s {
        BookingStatus::Booked | BookingStatus::Arrived | BookingStatus::Served => "status approved",
        BookingStatus::Offered => "status pending",
        _ => "status rejected",
    }
}

// ------------------------------------------------------------- server fns

#[server]
pub async fn appointment_items() -> Result<Vec<ItemView>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::appointments::items_for(&state, &user).await.map_err(app_err)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemPageData {
    pub item: ItemView,
    pub days: Vec<DayView>,
    /// The booking being moved, when rescheduling.
    pub moving: Option<BookingView>,
}

#[server]
pub async fn item_page(id: i64, moving: Option<i64>) -> Result<ItemPageData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let item = backend::appointments::item(&state, &user, id).await.map_err(app_err)?;
    let days = backend::appointments::days(&state, &user, id).await.map_err(app_err)?;
    let moving = match moving {
        Some(b) => {
            Some(backend::appointments::booking(&state, &user, b).await.map_err(app_err)?).filter(|b| b.item_id == id)
        }
        None => None,
    };
    Ok(ItemPageData { item, days, moving })
}

#[server]
pub async fn book_slot(item: String, slot: String, moving: Option<String>) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let moving = moving.filter(|m| !m.is_empty());
    let result = match (slot.trim().parse::<i64>(), moving.as_deref().map(|m| m.trim().parse::<i64>())) {
        (Ok(s), None) => backend::appointments::book(&state, &user, s).await,
        (Ok(s), Some(Ok(m))) => backend::appointments::reschedule(&state, &user, m, s).await,
        _ => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(id) => {
            leptos_actix::redirect(&format!("/appointments/bookings/{id}?done=booked"));
            Ok(())
        }
        Err(e) => {
            let mut keep = vec![("slot", slot.as_str())];
            if let Some(m) = &moving {
                keep.push(("moving", m.as_str()));
            }
            Err(form_error(e, &format!("/appointments/items/{}", item.trim()), &keep))
        }
    }
}

#[server]
pub async fn waitlist_slot(item: String, slot: String, leave: Option<String>) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let result = match slot.trim().parse::<i64>() {
        Ok(s) if leave.is_some() => backend::appointments::leave_waitlist(&state, &user, s).await,
        Ok(s) => backend::appointments::join_waitlist(&state, &user, s).await,
        Err(_) => Err(domain::ErrorCode::InvalidInput.into()),
    };
    let page = format!("/appointments/items/{}", item.trim());
    match result {
        Ok(()) => {
            let done = if leave.is_some() { "left" } else { "waiting" };
            leptos_actix::redirect(&format!("{page}?{}", query(&[("done", done), ("slot", &slot)])));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[("slot", &slot)])),
    }
}

#[server]
pub async fn my_bookings() -> Result<Vec<BookingView>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::appointments::mine(&state, &user).await.map_err(app_err)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookingPageData {
    pub booking: BookingView,
    /// The QR code (SVG) carrying the desk's check-in link.
    pub qr: String,
    pub mine: bool,
}

#[server]
pub async fn booking_page(id: i64) -> Result<BookingPageData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    // whether it is the viewer's own comes with the booking (staff may open others' from the desk)
    let (booking, mine) = backend::appointments::booking_for(&state, &user, id).await.map_err(app_err)?;
    let qr = backend::support::qr::qr_svg(&backend::appointments::check_url(&state, &booking.code)).map_err(app_err)?;
    Ok(BookingPageData { booking, qr, mine })
}

#[server]
pub async fn change_booking(id: String, action: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = format!("/appointments/bookings/{}", id.trim());
    let result = match (id.trim().parse::<i64>(), action.as_str()) {
        (Ok(b), "cancel") | (Ok(b), "decline") => backend::appointments::cancel(&state, &user, b).await,
        (Ok(b), "accept") => backend::appointments::accept_offer(&state, &user, b).await,
        _ => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(()) => {
            leptos_actix::redirect(&format!("{page}?{}", query(&[("done", &action)])));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[])),
    }
}

// ------------------------------------------------------------- resident pages

#[component]
pub fn AppointmentsPage() -> impl IntoView {
    let items = Resource::new(|| (), |_| appointment_items());
    let mine = Resource::new(|| (), |_| my_bookings());
    view! {
        <Page
            title=("预约办事", "Appointments")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let upcoming = mine
                                .await
                                .map(|v| v.into_iter().filter(|b| b.upcoming).collect::<Vec<_>>())
                                .unwrap_or_default();
                            view! {
                                <section class="card">
                                    <h2>{t(lang, "我的预约", "My bookings")}</h2>
                                    {if upcoming.is_empty() {
                                        view! {
                                            <p class="empty">
                                                {t(lang, "暂无待办的预约", "No upcoming bookings")}
                                            </p>
                                        }
                                            .into_any()
                                    } else {
                                        view! {
                                            <ul class="list">
                                                {upcoming
                                                    .into_iter()
                                                    .map(|b| {
                                                        view! {
                                                            <li>
                                                                <a href=format!("/appointments/bookings/{}", b.id)>
                                                                    <span class="title">{b.item.clone()}</span>
                                                                    <span class="meta">
                                                                        <span class="nw">{b.date.clone()}</span>
                                                                        " "
                                                                        {b.start.clone()}
                                                                        "–"
                                                                        {b.end.clone()}
                                                                        " · "
                                                                        <span class=status_class(
                                                                            b.status,
                                                                        )>{b.status.label(en)}</span>
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
                                    <p>
                                        <a href="/appointments/mine">
                                            {t(lang, "全部预约记录", "All my bookings")}
                                        </a>
                                    </p>
                                </section>
                            }
                        })}
                    </Suspense>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match items.await {
                                Ok(list) if list.is_empty() => {
                                    view! {
                                        <p class="empty">
                                            {t(lang, "暂无可预约的事项", "Nothing to book yet")}
                                        </p>
                                    }
                                        .into_any()
                                }
                                Ok(list) => {
                                    view! {
                                        <section class="card">
                                            <h2>{t(lang, "可预约事项", "What you can book")}</h2>
                                            <ul class="list">
                                                {list
                                                    .into_iter()
                                                    .map(|i| {
                                                        view! {
                                                            <li>
                                                                <a href=format!("/appointments/items/{}", i.id)>
                                                                    <span class="title">{i.name.clone()}</span>
                                                                    <span class="meta">
                                                                        {i.community.clone()}" · "{i.place.clone()}
                                                                    </span>
                                                                    <span class="meta">{i.policy.audience.label(en)}</span>
                                                                </a>
                                                            </li>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </ul>
                                        </section>
                                    }
                                        .into_any()
                                }
                                Err(e) => view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            }
                        })}
                    </Suspense>
                }
            }
        />
    }
}

#[component]
pub fn ItemPage() -> impl IntoView {
    let id = param_id();
    let moving = q("moving").and_then(|m| m.parse::<i64>().ok());
    let data = Resource::new(move || (id, moving), |(id, m)| item_page(id, m));
    view! {
        <Page
            title=("预约", "Book")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let error = q("error").map(|c| code_text(&c, lang));
                let chosen = q("slot").and_then(|v| v.parse::<i64>().ok());
                let done = q("done");
                view! {
                    <Suspense fallback=|| ()>
                        {move || {
                            let error = error.clone();
                            let done = done.clone();
                            Suspend::new(async move {
                                let d = match data.await {
                                    Ok(d) => d,
                                    Err(e) => {
                                        return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any();
                                    }
                                };
                                let item_id = d.item.id.to_string();
                                let moving_id = d.moving.as_ref().map(|b| b.id.to_string());
                                let shown = q("day")
                                    .filter(|x| d.days.iter().any(|day| &day.date == x))
                                    .or_else(|| {
                                        chosen
                                            .and_then(|c| {
                                                d.days
                                                    .iter()
                                                    .find(|day| day.slots.iter().any(|s| s.id == c))
                                                    .map(|day| day.date.clone())
                                            })
                                    })
                                    .or_else(|| {
                                        d.days
                                            .iter()
                                            .find(|day| day.slots.iter().any(|s| s.blocked.is_none() && s.free() > 0))
                                            .map(|day| day.date.clone())
                                    })
                                    .or_else(|| d.days.first().map(|day| day.date.clone()))
                                    .unwrap_or_default();
                                // one day at a time: the one asked for, the one with the slot just tried, or the first with a free seat
                                view! {
                                    <section class="card">
                                        <h2>{d.item.name.clone()}</h2>
                                        <p class="meta">
                                            {d.item.community.clone()}" · "{d.item.place.clone()}" · "
                                            {t(lang, "约", "about ")}{d.item.duration_minutes}
                                            {t(lang, "分钟", " min")}
                                        </p>
                                        {(!d.item.guide.is_empty())
                                            .then(|| {
                                                view! {
                                                    <h3>{t(lang, "办事指南", "What to bring")}</h3>
                                                    <p class="guide">{d.item.guide.clone()}</p>
                                                }
                                            })}
                                        <ul class="rules">
                                            {rules_text(&d.item, lang)
                                                .into_iter()
                                                .map(|r| view! { <li>{r}</li> })
                                                .collect_view()}
                                        </ul>
                                    </section>
                                    {d
                                        .moving
                                        .clone()
                                        .map(|b| {
                                            view! {
                                                <p class="notice" role="note">
                                                    {t(lang, "正在改约:", "Moving: ")}
                                                    {b.date}
                                                    " "
                                                    {b.start}
                                                    "–"
                                                    {b.end}
                                                    {t(
                                                        lang,
                                                        "。请选择新的时段,原预约将在新预约成功后取消。",
                                                        ". Choose a new time; the old booking is cancelled once the new one is made.",
                                                    )}
                                                </p>
                                            }
                                        })}
                                    {done
                                        .map(|d| {
                                            view! {
                                                <p class="success" role="status">
                                                    {match d.as_str() {
                                                        "waiting" => {
                                                            t(
                                                                lang,
                                                                "已加入候补名单。有人取消时,我们会通知您在规定时间内确认。",
                                                                "You are on the waiting list. If a seat frees up, we will ask you to confirm within a set time.",
                                                            )
                                                        }
                                                        _ => t(lang, "已退出候补。", "You left the waiting list."),
                                                    }}
                                                </p>
                                            }
                                        })}
                                    <FormError message=error />
                                    {if d.days.is_empty() {
                                        view! {
                                            <p class="empty">
                                                {t(
                                                    lang,
                                                    "近期没有可预约的时段",
                                                    "No times open in the coming days",
                                                )}
                                            </p>
                                        }
                                            .into_any()
                                    } else {
                                        view! {
                                            <nav class="chips" aria-label=t(lang, "日期", "Days")>
                                                {d
                                                    .days
                                                    .iter()
                                                    .map(|day| {
                                                        let label = parse_day(&day.date)
                                                            .map(|x| day_label(x, en))
                                                            .unwrap_or_default();
                                                        let free: i32 = day
                                                            .slots
                                                            .iter()
                                                            .filter(|s| s.blocked.is_none())
                                                            .map(|s| s.free())
                                                            .sum();
                                                        let href = match &moving_id {
                                                            Some(m) => format!("?day={}&moving={m}", day.date),
                                                            None => format!("?day={}", day.date),
                                                        };
                                                        let current = (day.date == shown).then_some("page");
                                                        view! {
                                                            <a href=href aria-current=current>
                                                                {label}
                                                                <span class="free">
                                                                    {if free > 0 {
                                                                        if en {
                                                                            format!(" · {free} free")
                                                                        } else {
                                                                            format!(" · 余{free}")
                                                                        }
                                                                    } else {
                                                                        String::new()
                                                                    }}
                                                                </span>
                                                            </a>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </nav>
                                            {d
                                                .days
                                                .into_iter()
                                                .filter(|day| day.date == shown)
                                                .map(|day| {
                                                    let label = parse_day(&day.date)
                                                        .map(|x| day_label(x, en))
                                                        .unwrap_or_default();
                                                    let item_id = item_id.clone();
                                                    let moving_id = moving_id.clone();
                                                    view! {
                                                        <section class="card day" id=format!("d{}", day.date)>
                                                            <h2>{label}</h2>
                                                            <ul class="slots">
                                                                {day
                                                                    .slots
                                                                    .into_iter()
                                                                    .map(|sl| {
                                                                        let free = sl.free();
                                                                        let sid = sl.id.to_string();
                                                                        let picked = chosen == Some(sl.id);
                                                                        let item_id = item_id.clone();
                                                                        let moving_id = moving_id.clone();
                                                                        let seats = if !sl.open {
                                                                            t(lang, "停止办理", "Closed").to_string()
                                                                        } else if free > 0 {
                                                                            if en {
                                                                                format!("{free} of {} free", sl.capacity)
                                                                            } else {
                                                                                format!("余{free}/{}", sl.capacity)
                                                                            }
                                                                        } else if en {
                                                                            format!("Full · {} waiting", sl.waiting_count)
                                                                        } else {
                                                                            format!("已约满 · 候补{}人", sl.waiting_count)
                                                                        };
                                                                        let seats_class = if free > 0 && sl.open {
                                                                            "seats"
                                                                        } else {
                                                                            "seats full"
                                                                        };
                                                                        let action = if let Some(b) = sl.mine {
                                                                            view! {
                                                                                <a
                                                                                    class="button"
                                                                                    href=format!("/appointments/bookings/{b}")
                                                                                >
                                                                                    {t(lang, "已预约 ›", "Booked ›")}
                                                                                </a>
                                                                            }
                                                                                .into_any()
                                                                        } else if let Some(why) = sl.blocked {
                                                                            view! { <span class="meta why">{why.message(en)}</span> }
                                                                                .into_any()
                                                                        } else if free > 0 {
                                                                            view! {
                                                                                <form method="post" action=BookSlot::PATH>
                                                                                    <input type="hidden" name="item" value=item_id.clone() />
                                                                                    <input type="hidden" name="slot" value=sid.clone() />
                                                                                    {moving_id
                                                                                        .clone()
                                                                                        .map(|m| {
                                                                                            view! { <input type="hidden" name="moving" value=m /> }
                                                                                        })}
                                                                                    <button type="submit" class="primary">
                                                                                        {if moving_id.is_some() {
                                                                                            t(lang, "改到此时段", "Move here")
                                                                                        } else {
                                                                                            t(lang, "预约", "Book")
                                                                                        }}
                                                                                    </button>
                                                                                </form>
                                                                            }
                                                                                .into_any()
                                                                        } else if sl.waiting {
                                                                            view! {
                                                                                <form method="post" action=WaitlistSlot::PATH>
                                                                                    <input type="hidden" name="item" value=item_id.clone() />
                                                                                    <input type="hidden" name="slot" value=sid.clone() />
                                                                                    <input type="hidden" name="leave" value="1" />
                                                                                    <button type="submit">
                                                                                        {t(lang, "退出候补", "Leave waiting list")}
                                                                                    </button>
                                                                                </form>
                                                                            }
                                                                                .into_any()
                                                                        } else {
                                                                            view! {
                                                                                <form method="post" action=WaitlistSlot::PATH>
                                                                                    <input type="hidden" name="item" value=item_id.clone() />
                                                                                    <input type="hidden" name="slot" value=sid.clone() />
                                                                                    <button type="submit">
                                                                                        {t(lang, "排队候补", "Join waiting list")}
                                                                                    </button>
                                                                                </form>
                                                                            }
                                                                                .into_any()
                                                                        };
                                                                        view! {
                                                                            <li
                                                                                class=if picked { "slot picked" } else { "slot" }
                                                                                data-slot=sid.clone()
                                                                            >
                                                                                <span class="time">
                                                                                    {sl.start.clone()}"–"{sl.end.clone()}
                                                                                </span>
                                                                                <span class=seats_class>{seats}</span>
                                                                                {action}
                                                                            </li>
                                                                        }
                                                                    })
                                                                    .collect_view()}
                                                            </ul>
                                                        </section>
                                                    }
                                                })
                                                .collect_view()}
                                        }
                                            .into_any()
                                    }}
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

// ------------------------------------------------------------- staff
