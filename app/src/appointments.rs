//! 预约 pages: residents browse items, book, queue, cancel and move; staff
//! set items, hours and closures up and run the desk. Every action is a
//! plain form (works without WASM and inside WeChat); errors come back to the
//! page they were made on, with what was chosen kept.

// Server functions take a form's fields as their arguments.
#![allow(clippy::too_many_arguments)]

use crate::i18n::{t, Lang};
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::appointment::{
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
    let qr =
        backend::appointments::qr_svg(&backend::appointments::check_url(&state, &booking.code)).map_err(app_err)?;
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
        <Page title=("预约办事", "Appointments") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let upcoming = mine.await.map(|v| v.into_iter().filter(|b| b.upcoming).collect::<Vec<_>>()).unwrap_or_default();
                        view! {
                            <section class="card">
                                <h2>{t(lang, "我的预约", "My bookings")}</h2>
                                {if upcoming.is_empty() {
                                    view! { <p class="empty">{t(lang, "暂无待办的预约", "No upcoming bookings")}</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="list">
                                            {upcoming.into_iter().map(|b| view! {
                                                <li><a href=format!("/appointments/bookings/{}", b.id)>
                                                    <span class="title">{b.item.clone()}</span>
                                                    <span class="meta"><span class="nw">{b.date.clone()}</span>" "{b.start.clone()}"–"{b.end.clone()}" · "<span class=status_class(b.status)>{b.status.label(en)}</span></span>
                                                </a></li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                                <p><a href="/appointments/mine">{t(lang, "全部预约记录", "All my bookings")}</a></p>
                            </section>
                        }
                    })}
                </Suspense>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match items.await {
                            Ok(list) if list.is_empty() => view! { <p class="empty">{t(lang, "暂无可预约的事项", "Nothing to book yet")}</p> }.into_any(),
                            Ok(list) => view! {
                                <section class="card">
                                    <h2>{t(lang, "可预约事项", "What you can book")}</h2>
                                    <ul class="list">
                                        {list.into_iter().map(|i| view! {
                                            <li><a href=format!("/appointments/items/{}", i.id)>
                                                <span class="title">{i.name.clone()}</span>
                                                <span class="meta">{i.community.clone()}" · "{i.place.clone()}</span>
                                                <span class="meta">{i.policy.audience.label(en)}</span>
                                            </a></li>
                                        }).collect_view()}
                                    </ul>
                                </section>
                            }.into_any(),
                            Err(e) => view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        }
                    })}
                </Suspense>
            }
        }/>
    }
}

#[component]
pub fn ItemPage() -> impl IntoView {
    let id = param_id();
    let moving = q("moving").and_then(|m| m.parse::<i64>().ok());
    let data = Resource::new(move || (id, moving), |(id, m)| item_page(id, m));
    view! {
        <Page title=("预约", "Book") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            let error = q("error").map(|c| code_text(&c, lang));
            let chosen = q("slot").and_then(|v| v.parse::<i64>().ok());
            let done = q("done");
            view! {
                <Suspense fallback=|| ()>
                    {move || { let error = error.clone(); let done = done.clone(); Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let item_id = d.item.id.to_string();
                        let moving_id = d.moving.as_ref().map(|b| b.id.to_string());
                        // one day at a time: the one asked for, the one with the slot just tried, or the first with a free seat
                        let shown = q("day")
                            .filter(|x| d.days.iter().any(|day| &day.date == x))
                            .or_else(|| chosen.and_then(|c| d.days.iter().find(|day| day.slots.iter().any(|s| s.id == c)).map(|day| day.date.clone())))
                            .or_else(|| d.days.iter().find(|day| day.slots.iter().any(|s| s.blocked.is_none() && s.free() > 0)).map(|day| day.date.clone()))
                            .or_else(|| d.days.first().map(|day| day.date.clone()))
                            .unwrap_or_default();
                        view! {
                            <section class="card">
                                <h2>{d.item.name.clone()}</h2>
                                <p class="meta">{d.item.community.clone()}" · "{d.item.place.clone()}" · "{t(lang, "约", "about ")}{d.item.duration_minutes}{t(lang, "分钟", " min")}</p>
                                {(!d.item.guide.is_empty()).then(|| view! {
                                    <h3>{t(lang, "办事指南", "What to bring")}</h3>
                                    <p class="guide">{d.item.guide.clone()}</p>
                                })}
                                <ul class="rules">{rules_text(&d.item, lang).into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                            </section>
                            {d.moving.clone().map(|b| view! {
                                <p class="notice" role="note">{t(lang, "正在改约:", "Moving: ")}{b.date}" "{b.start}"–"{b.end}{t(lang, "。请选择新的时段,原预约将在新预约成功后取消。", ". Choose a new time; the old booking is cancelled once the new one is made.")}</p>
                            })}
                            {done.map(|d| view! { <p class="success" role="status">{match d.as_str() {
                                "waiting" => t(lang, "已加入候补名单。有人取消时,我们会通知您在规定时间内确认。", "You are on the waiting list. If a seat frees up, we will ask you to confirm within a set time."),
                                _ => t(lang, "已退出候补。", "You left the waiting list."),
                            }}</p> })}
                            <FormError message=error/>
                            {if d.days.is_empty() {
                                view! { <p class="empty">{t(lang, "近期没有可预约的时段", "No times open in the coming days")}</p> }.into_any()
                            } else {
                                view! {
                                    <nav class="chips" aria-label=t(lang, "日期", "Days")>
                                        {d.days.iter().map(|day| {
                                            let label = parse_day(&day.date).map(|x| day_label(x, en)).unwrap_or_default();
                                            let free: i32 = day.slots.iter().filter(|s| s.blocked.is_none()).map(|s| s.free()).sum();
                                            let href = match &moving_id {
                                                Some(m) => format!("?day={}&moving={m}", day.date),
                                                None => format!("?day={}", day.date),
                                            };
                                            let current = (day.date == shown).then_some("page");
                                            view! { <a href=href aria-current=current>{label}<span class="free">{if free > 0 { if en { format!(" · {free} free") } else { format!(" · 余{free}") } } else { String::new() }}</span></a> }
                                        }).collect_view()}
                                    </nav>
                                    {d.days.into_iter().filter(|day| day.date == shown).map(|day| {
                                        let label = parse_day(&day.date).map(|x| day_label(x, en)).unwrap_or_default();
                                        let item_id = item_id.clone();
                                        let moving_id = moving_id.clone();
                                        view! {
                                            <section class="card day" id=format!("d{}", day.date)>
                                                <h2>{label}</h2>
                                                <ul class="slots">
                                                    {day.slots.into_iter().map(|sl| {
                                                        let free = sl.free();
                                                        let sid = sl.id.to_string();
                                                        let picked = chosen == Some(sl.id);
                                                        let item_id = item_id.clone();
                                                        let moving_id = moving_id.clone();
                                                        let seats = if !sl.open {
                                                            t(lang, "停止办理", "Closed").to_string()
                                                        } else if free > 0 {
                                                            if en { format!("{free} of {} free", sl.capacity) } else { format!("余{free}/{}", sl.capacity) }
                                                        } else if en { format!("Full · {} waiting", sl.waiting_count) } else { format!("已约满 · 候补{}人", sl.waiting_count) };
                                                        let seats_class = if free > 0 && sl.open { "seats" } else { "seats full" };
                                                        let action = if let Some(b) = sl.mine {
                                                            view! { <a class="button" href=format!("/appointments/bookings/{b}")>{t(lang, "已预约 ›", "Booked ›")}</a> }.into_any()
                                                        } else if let Some(why) = sl.blocked {
                                                            view! { <span class="meta why">{why.message(en)}</span> }.into_any()
                                                        } else if free > 0 {
                                                            view! {
                                                                <form method="post" action=BookSlot::PATH>
                                                                    <input type="hidden" name="item" value=item_id.clone()/>
                                                                    <input type="hidden" name="slot" value=sid.clone()/>
                                                                    {moving_id.clone().map(|m| view! { <input type="hidden" name="moving" value=m/> })}
                                                                    <button type="submit" class="primary">{if moving_id.is_some() { t(lang, "改到此时段", "Move here") } else { t(lang, "预约", "Book") }}</button>
                                                                </form>
                                                            }.into_any()
                                                        } else if sl.waiting {
                                                            view! {
                                                                <form method="post" action=WaitlistSlot::PATH>
                                                                    <input type="hidden" name="item" value=item_id.clone()/>
                                                                    <input type="hidden" name="slot" value=sid.clone()/>
                                                                    <input type="hidden" name="leave" value="1"/>
                                                                    <button type="submit">{t(lang, "退出候补", "Leave waiting list")}</button>
                                                                </form>
                                                            }.into_any()
                                                        } else {
                                                            view! {
                                                                <form method="post" action=WaitlistSlot::PATH>
                                                                    <input type="hidden" name="item" value=item_id.clone()/>
                                                                    <input type="hidden" name="slot" value=sid.clone()/>
                                                                    <button type="submit">{t(lang, "排队候补", "Join waiting list")}</button>
                                                                </form>
                                                            }.into_any()
                                                        };
                                                        view! {
                                                            <li class=if picked { "slot picked" } else { "slot" } data-slot=sid.clone()>
                                                                <span class="time">{sl.start.clone()}"–"{sl.end.clone()}</span>
                                                                <span class=seats_class>{seats}</span>
                                                                {action}
                                                            </li>
                                                        }
                                                    }).collect_view()}
                                                </ul>
                                            </section>
                                        }
                                    }).collect_view()}
                                }.into_any()
                            }}
                        }.into_any()
                    })}}
                </Suspense>
            }
        }/>
    }
}

#[component]
pub fn MyBookingsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| my_bookings());
    view! {
        <Page title=("我的预约", "My bookings") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match list.await {
                            Ok(v) if v.is_empty() => view! { <p class="empty">{t(lang, "还没有预约记录。", "No bookings yet.")}" "<a href="/appointments">{t(lang, "去预约", "Book something")}</a></p> }.into_any(),
                            Ok(v) => view! {
                                <ul class="list card">
                                    {v.into_iter().map(|b| view! {
                                        <li class=if b.upcoming { "" } else { "past" }><a href=format!("/appointments/bookings/{}", b.id)>
                                            <span class="title">{b.item.clone()}</span>
                                            <span class="meta"><span class="nw">{b.date.clone()}</span>" "{b.start.clone()}"–"{b.end.clone()}" · "{b.place.clone()}</span>
                                            <span class=status_class(b.status)>{b.status.label(en)}</span>
                                        </a></li>
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(e) => view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        }
                    })}
                </Suspense>
            }
        }/>
    }
}

#[component]
pub fn BookingPage() -> impl IntoView {
    let id = param_id();
    let data = Resource::new(move || id, booking_page);
    view! {
        <Page title=("预约详情", "Booking") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            let error = q("error").map(|c| code_text(&c, lang));
            let done = q("done");
            view! {
                <Suspense fallback=|| ()>
                    {move || { let error = error.clone(); let done = done.clone(); Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let b = d.booking;
                        let id = b.id.to_string();
                        let holds = b.status.holds_seat();
                        view! {
                            {done.map(|x| view! { <p class="success" role="status">{match x.as_str() {
                                "booked" => t(lang, "预约成功!到场时出示下方二维码或预约码。", "Booked! Show the QR code or the code below at the desk."),
                                "cancel" => t(lang, "已取消预约。", "The booking is cancelled."),
                                "accept" => t(lang, "已确认,名额是您的了。", "Confirmed: the seat is yours."),
                                _ => t(lang, "已放弃候补名额。", "You declined the seat."),
                            }}</p> })}
                            <FormError message=error/>
                            <section class="card booking">
                                <h2>{b.item.clone()}</h2>
                                <p class="when"><strong>{parse_day(&b.date).map(|x| day_label(x, en)).unwrap_or_default()}" "{b.start.clone()}"–"{b.end.clone()}</strong></p>
                                <p class="meta">{b.community.clone()}" · "{b.place.clone()}</p>
                                <p><span class=status_class(b.status)>{b.status.label(en)}</span></p>
                                {b.cancel_reason.clone().map(|r| view! { <p class="meta">{t(lang, "原因:", "Reason: ")}{r}</p> })}
                                {holds.then(|| view! {
                                    <figure class="qr">
                                        <div class="qr-img" role="img" aria-label=t(lang, "预约二维码", "Booking QR code") inner_html=d.qr.clone()></div>
                                        <figcaption>{t(lang, "预约码", "Code")}" "<strong class="code">{b.code.clone()}</strong></figcaption>
                                    </figure>
                                })}
                                {(!b.guide.is_empty()).then(|| view! { <h3>{t(lang, "办事指南", "What to bring")}</h3><p class="guide">{b.guide.clone()}</p> })}
                            </section>
                            {(d.mine && b.status == BookingStatus::Offered).then(|| view! {
                                <section class="card">
                                    <p class="notice">{t(lang, "候补到号!名额为您保留至 ", "A seat is held for you until ")}{b.offer_expires_at.clone().unwrap_or_default()}{t(lang, "(北京时间),逾期顺延给下一位。", " (Beijing time); after that it passes on.")}</p>
                                    <form method="post" action=ChangeBooking::PATH class="row">
                                        <input type="hidden" name="id" value=id.clone()/>
                                        <input type="hidden" name="action" value="accept"/>
                                        <button type="submit" class="primary wide">{t(lang, "确认预约", "Take the seat")}</button>
                                    </form>
                                    <form method="post" action=ChangeBooking::PATH class="row">
                                        <input type="hidden" name="id" value=id.clone()/>
                                        <input type="hidden" name="action" value="decline"/>
                                        <button type="submit" class="danger wide">{t(lang, "放弃", "Decline")}</button>
                                    </form>
                                </section>
                            })}
                            {(d.mine && b.status == BookingStatus::Booked).then(|| view! {
                                <section class="card">
                                    <p><a class="button" href=format!("/appointments/bookings/{}/calendar.ics", b.id) download="appointment.ics">{t(lang, "添加到日历", "Add to calendar")}</a></p>
                                    <p class="meta">{t(lang, "可在线取消或改约至 ", "You can cancel or move it online until ")}<span class="nw">{b.cancel_deadline.clone()}</span>{t(lang, "(北京时间)", " (Beijing time)")}</p>
                                    {if b.can_cancel {
                                        view! {
                                            <p><a class="button" href=format!("/appointments/items/{}?moving={}", b.item_id, b.id)>{t(lang, "改约", "Move")}</a></p>
                                            <crate::layout::ConfirmPost
                                                label=t(lang, "取消预约", "Cancel booking")
                                                question=t(lang, "确定要取消这次预约吗?取消后这个时段可能被别人约走。", "Cancel this booking? Someone else may then take the time.")
                                                yes=t(lang, "确定取消", "Yes, cancel it")
                                                no=t(lang, "不取消", "Keep it")
                                                action=ChangeBooking::PATH
                                                fields=vec![("id", id.clone()), ("action", "cancel".to_string())]/>
                                        }.into_any()
                                    } else {
                                        view! {
                                            <p class="notice">{t(lang, "已过取消截止时间,不能在线取消或改约;如有变化请联系社区工作人员。", "Past the cancellation deadline: please contact community staff for changes.")}</p>
                                            <crate::layout::ConfirmPost
                                                label=t(lang, "取消预约", "Cancel booking")
                                                question=t(lang, "确定要取消这次预约吗?取消后这个时段可能被别人约走。", "Cancel this booking? Someone else may then take the time.")
                                                yes=t(lang, "确定取消", "Yes, cancel it")
                                                no=t(lang, "不取消", "Keep it")
                                                action=ChangeBooking::PATH
                                                fields=vec![("id", id.clone()), ("action", "cancel".to_string())]/>
                                        }.into_any()
                                    }}
                                </section>
                            })}
                            <p><a href="/appointments">{t(lang, "‹ 返回预约", "‹ Appointments")}</a></p>
                        }.into_any()
                    })}}
                </Suspense>
            }
        }/>
    }
}

// ------------------------------------------------------------- staff

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
    let communities = backend::appointments::staff_communities(&state, &user).await.map_err(app_err)?;
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
    use domain::appointment::{ItemForm, ItemSettings};
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
    let result = match (community_id.trim().parse::<i64>(), item, domain::appointment::Closure::parse(&first, &last)) {
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

fn item_fields(lang: Lang, item: Option<&ItemView>, kept: impl Fn(&str) -> Option<String>) -> impl IntoView {
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
                                            view! { <label><input type="checkbox" name=format!("d{n}") value="1" checked=checked/>{domain::appointment::weekday_name(n as u8, en)}</label> }
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueData {
    pub day: String,
    pub items: Vec<(i64, String)>,
    pub entries: Vec<QueueEntry>,
}

#[server]
pub async fn desk_queue(day: Option<String>, item: Option<i64>) -> Result<QueueData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let day = day.as_deref().and_then(parse_day).unwrap_or_else(backend::appointments::today);
    let items = backend::appointments::staff_items(&state, &user).await.map_err(app_err)?;
    let entries = backend::appointments::queue(&state, &user, day, item).await.map_err(app_err)?;
    Ok(QueueData {
        day: day.format("%Y-%m-%d").to_string(),
        items: items.into_iter().map(|i| (i.id, format!("{} · {}", i.community, i.name))).collect(),
        entries,
    })
}

#[server]
pub async fn desk_mark(booking_id: String, mark: String, back: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_staff("/staff/appointments/queue")?;
    // only back to our own desk pages
    let back = if back.starts_with("/staff/appointments/") && !back.contains("//") {
        back
    } else {
        "/staff/appointments/queue".to_string()
    };
    let result = match (booking_id.trim().parse::<i64>(), domain::appointment::DeskMark::parse(&mark)) {
        (Ok(b), Some(m)) => backend::appointments::mark(&state, &user, b, m).await,
        _ => Err(domain::ErrorCode::InvalidInput.into()),
    };
    let sep = if back.contains('?') { '&' } else { '?' };
    match result {
        Ok(()) => {
            leptos_actix::redirect(&format!("{back}{sep}{}", query(&[("marked", &mark)])));
            Ok(())
        }
        Err(e) => {
            let page = back.split('?').next().unwrap_or("/staff/appointments/queue").to_string();
            let rest: Vec<(String, String)> =
                back.split_once('?').map(|(_, qs)| backend_query_pairs(qs)).unwrap_or_default();
            let keep: Vec<(&str, &str)> = rest
                .iter()
                .filter(|(k, _)| k != "error" && k != "marked")
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            Err(form_error(e, &page, &keep))
        }
    }
}

#[cfg(feature = "ssr")]
fn backend_query_pairs(qs: &str) -> Vec<(String, String)> {
    backend::url::form_urlencoded::parse(qs.as_bytes()).into_owned().collect()
}

fn mark_buttons(lang: Lang, e: &QueueEntry, back: String) -> impl IntoView {
    let id = e.booking_id.to_string();
    let marks: Vec<(&'static str, &'static str, &'static str, &'static str)> = match e.status {
        BookingStatus::Booked => vec![
            ("arrived", "到场", "Arrived", "primary"),
            ("served", "办结", "Served", ""),
            ("no_show", "爽约", "No-show", "danger"),
        ],
        BookingStatus::Arrived => vec![("served", "办结", "Served", "primary")],
        BookingStatus::NoShow => vec![("arrived", "改为到场", "Arrived after all", "")],
        _ => vec![],
    };
    marks
        .into_iter()
        .map(|(m, zh, en, class)| {
            view! {
                <form method="post" action=DeskMark::PATH class="inline-form">
                    <input type="hidden" name="booking_id" value=id.clone()/>
                    <input type="hidden" name="mark" value=m/>
                    <input type="hidden" name="back" value=back.clone()/>
                    <button type="submit" class=class>{t(lang, zh, en)}</button>
                </form>
            }
        })
        .collect_view()
}

fn entry_view(lang: Lang, e: QueueEntry, back: String) -> impl IntoView {
    let en = lang.is_en();
    view! {
        <li class="card queue-entry" data-code=e.code.clone()>
            <span class="title">{e.start.clone()}"–"{e.end.clone()}" · "{e.name.clone()}" "<span class="meta">{e.phone.clone()}</span></span>
            <span class="meta">{e.item.clone()}{e.address.clone().map(|a| format!(" · {a}"))}" · "{t(lang, "预约码 ", "code ")}<strong>{e.code.clone()}</strong></span>
            <span><span class=status_class(e.status)>{e.status.label(en)}</span>
                {(e.no_shows > 0).then(|| view! { <span class="tag warn">{t(lang, "近90天爽约", "No-shows (90 d): ")}{e.no_shows}</span> })}</span>
            <div class="row-actions">{mark_buttons(lang, &e, back)}</div>
        </li>
    }
}

#[component]
pub fn QueuePage() -> impl IntoView {
    let day = q("day");
    let item = q("item").and_then(|v| v.parse::<i64>().ok());
    let data = Resource::new(move || (day.clone(), item), |(d, i)| desk_queue(d, i));
    view! {
        <Page title=("接待队列", "Desk queue") render=move |s: SessionInfo| {
            let lang = s.lang;
            let error = q("error").map(|c| code_text(&c, lang));
            let marked = q("marked");
            view! {
                <p><a href="/staff/appointments">{t(lang, "‹ 预约管理", "‹ Appointments")}</a></p>
                <form method="get" action="/staff/appointments/check" class="card stack">
                    <label>{t(lang, "扫码或输入预约码", "Scan or type the booking code")}
                        <input type="text" name="code" autocomplete="off" autocapitalize="characters" required maxlength="12" placeholder="ABCD2345"/>
                    </label>
                    <button type="submit" class="primary">{t(lang, "查找", "Find")}</button>
                </form>
                {marked.map(|_| view! { <p class="success" role="status">{t(lang, "已登记。", "Recorded.")}</p> })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let back = format!("/staff/appointments/queue?day={}{}", d.day, item.map(|i| format!("&item={i}")).unwrap_or_default());
                        let total = d.entries.len();
                        let arrived = d.entries.iter().filter(|e| matches!(e.status, BookingStatus::Arrived | BookingStatus::Served)).count();
                        view! {
                            <form method="get" action="/staff/appointments/queue" class="card row-form">
                                <label>{t(lang, "日期", "Day")}<input type="date" name="day" value=d.day.clone()/></label>
                                <label>{t(lang, "事项", "Item")}
                                    <select name="item">
                                        <option value="">{t(lang, "全部", "All")}</option>
                                        {d.items.iter().map(|(id, name)| view! { <option value=id.to_string() selected=item == Some(*id)>{name.clone()}</option> }).collect_view()}
                                    </select>
                                </label>
                                <button type="submit">{t(lang, "查看", "Show")}</button>
                            </form>
                            <p class="meta">{t(lang, "共 ", "Total ")}{total}{t(lang, " 人,已到 ", ", arrived ")}{arrived}</p>
                            {if d.entries.is_empty() {
                                view! { <p class="empty">{t(lang, "当天没有预约", "No bookings that day")}</p> }.into_any()
                            } else {
                                view! { <ul class="list">{d.entries.into_iter().map(|e| entry_view(lang, e, back.clone())).collect_view()}</ul> }.into_any()
                            }}
                        }.into_any()
                    })}
                </Suspense>
            }
        }/>
    }
}

#[server]
pub async fn check_code(code: String) -> Result<(QueueEntry, String), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_staff("/staff/appointments/check")?;
    backend::appointments::find_by_code(&state, &user, &code).await.map_err(app_err)
}

/// Where a booking's QR code leads: the desk's view of that one booking.
#[component]
pub fn CheckPage() -> impl IntoView {
    let code = q("code").unwrap_or_default();
    let data = Resource::new(move || code.clone(), check_code);
    view! {
        <Page title=("核验预约", "Check a booking") render=move |s: SessionInfo| {
            let lang = s.lang;
            let error = q("error").map(|c| code_text(&c, lang));
            let marked = q("marked");
            view! {
                <p><a href="/staff/appointments/queue">{t(lang, "‹ 接待队列", "‹ Desk queue")}</a></p>
                {marked.map(|_| view! { <p class="success" role="status">{t(lang, "已登记。", "Recorded.")}</p> })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok((e, date)) => {
                                let back = format!("/staff/appointments/check?code={}", e.code);
                                view! {
                                    <p class="notice">{t(lang, "预约日期:", "Booked for: ")}{date}</p>
                                    <ul class="list">{entry_view(lang, e, back)}</ul>
                                }.into_any()
                            }
                            Err(e) => view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        }
                    })}
                </Suspense>
                <form method="get" action="/staff/appointments/check" class="card stack">
                    <label>{t(lang, "扫码或输入预约码", "Scan or type the booking code")}
                        <input type="text" name="code" autocomplete="off" autocapitalize="characters" required maxlength="12"/>
                    </label>
                    <button type="submit" class="primary">{t(lang, "查找", "Find")}</button>
                </form>
            }
        }/>
    }
}
