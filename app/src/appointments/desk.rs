//! The desk: the day's queue, arrival / service / no-show marks, and checking a
//! booking's code.

#![allow(clippy::too_many_arguments)]

use super::*;

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
    let result = match (booking_id.trim().parse::<i64>(), domain::appointments::DeskMark::parse(&mark)) {
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
pub(super) fn backend_query_pairs(qs: &str) -> Vec<(String, String)> {
    backend::url::form_urlencoded::parse(qs.as_bytes()).into_owned().collect()
}

pub(super) fn mark_buttons(lang: Lang, e: &QueueEntry, back: String) -> impl IntoView {
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
                    <input type="hidden" name="booking_id" value=id.clone() />
                    <input type="hidden" name="mark" value=m />
                    <input type="hidden" name="back" value=back.clone() />
                    <button type="submit" class=class>
                        {t(lang, zh, en)}
                    </button>
                </form>
            }
        })
        .collect_view()
}

pub(super) fn entry_view(lang: Lang, e: QueueEntry, back: String) -> impl IntoView {
    let en = lang.is_en();
    view! {
        <li class="card queue-entry" data-code=e.code.clone()>
            <span class="title">
                {e.start.clone()}"–"{e.end.clone()}" · "{e.name.clone()}" "
                <span class="meta">{e.phone.clone()}</span>
            </span>
            <span class="meta">
                {e.item.clone()}{e.address.clone().map(|a| format!(" · {a}"))}" · "{t(lang, "预约码 ", "code ")}
                <strong>{e.code.clone()}</strong>
            </span>
            <span>
                <span class=status_class(e.status)>{e.status.label(en)}</span>
                {(e.no_shows > 0)
                    .then(|| {
                        view! {
                            <span class="tag warn">{t(lang, "近90天爽约", "No-shows (90 d): ")}{e.no_shows}</span>
                        }
                    })}
            </span>
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
        <Page
            title=("接待队列", "Desk queue")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = q("error").map(|c| code_text(&c, lang));
                let marked = q("marked");
                view! {
                    <p>
                        <a href="/staff/appointments">{t(lang, "‹ 预约管理", "‹ Appointments")}</a>
                    </p>
                    <form method="get" action="/staff/appointments/check" class="card stack">
                        <label>
                            {t(lang, "扫码或输入预约码", "Scan or type the booking code")}
                            <input
                                type="text"
                                name="code"
                                autocomplete="off"
                                autocapitalize="characters"
                                required
                                maxlength="12"
                                placeholder="ABCD2345"
                            />
                        </label>
                        <button type="submit" class="primary">
                            {t(lang, "查找", "Find")}
                        </button>
                    </form>
                    {marked
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已登记。", "Recorded.")}
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
                            let back = format!(
                                "/staff/appointments/queue?day={}{}",
                                d.day,
                                item.map(|i| format!("&item={i}")).unwrap_or_default(),
                            );
                            let total = d.entries.len();
                            let arrived = d
                                .entries
                                .iter()
                                .filter(|e| matches!(e.status, BookingStatus::Arrived | BookingStatus::Served))
                                .count();
                            view! {
                                <form method="get" action="/staff/appointments/queue" class="card row-form">
                                    <label>
                                        {t(lang, "日期", "Day")}<input type="date" name="day" value=d.day.clone() />
                                    </label>
                                    <label>
                                        {t(lang, "事项", "Item")} <select name="item">
                                            <option value="">{t(lang, "全部", "All")}</option>
                                            {d
                                                .items
                                                .iter()
                                                .map(|(id, name)| {
                                                    view! {
                                                        <option value=id.to_string() selected=item == Some(*id)>
                                                            {name.clone()}
                                                        </option>
                                                    }
                                                })
                                                .collect_view()}
                                        </select>
                                    </label>
                                    <button type="submit">{t(lang, "查看", "Show")}</button>
                                </form>
                                <p class="meta">
                                    {t(lang, "共 ", "Total ")}{total}{t(lang, " 人,已到 ", ", arrived ")}{arrived}
                                </p>
                                {if d.entries.is_empty() {
                                    view! {
                                        <p class="empty">{t(lang, "当天没有预约", "No bookings that day")}</p>
                                    }
                                        .into_any()
                                } else {
                                    view! {
                                        <ul class="list">
                                            {d
                                                .entries
                                                .into_iter()
                                                .map(|e| entry_view(lang, e, back.clone()))
                                                .collect_view()}
                                        </ul>
                                    }
                                        .into_any()
                                }}
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
        <Page
            title=("核验预约", "Check a booking")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = q("error").map(|c| code_text(&c, lang));
                let marked = q("marked");
                view! {
                    <p>
                        <a href="/staff/appointments/queue">{t(lang, "‹ 接待队列", "‹ Desk queue")}</a>
                    </p>
                    {marked
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已登记。", "Recorded.")}
                                </p>
                            }
                        })}
                    <FormError message=error />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok((e, date)) => {
                                    let back = format!("/staff/appointments/check?code={}", e.code);
                                    view! {
                                        <p class="notice">{t(lang, "预约日期:", "Booked for: ")}{date}</p>
                                        <ul class="list">{entry_view(lang, e, back)}</ul>
                                    }
                                        .into_any()
                                }
                                Err(e) => view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            }
                        })}
                    </Suspense>
                    <form method="get" action="/staff/appointments/check" class="card stack">
                        <label>
                            {t(lang, "扫码或输入预约码", "Scan or type the booking code")}
                            <input
                                type="text"
                                name="code"
                                autocomplete="off"
                                autocapitalize="characters"
                                required
                                maxlength="12"
                            />
                        </label>
                        <button type="submit" class="primary">
                            {t(lang, "查找", "Find")}
                        </button>
                    </form>
                }
            }
        />
    }
}
