//! One service item for staff: its hours, slots and closures.

use super::*;

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
        <Page
            title=("预约事项", "Service item")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let error = q("error").map(|c| code_text(&c, lang));
                let done = q("done");
                let made = q("made");
                view! {
                    <p>
                        <a href="/staff/appointments">{t(lang, "‹ 预约管理", "‹ Appointments")}</a>
                    </p>
                    {done
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已保存。", "Saved.")}
                                </p>
                            }
                        })}
                    {made
                        .map(|n| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已添加开放时间,新生成时段 ", "Hours added; new slots: ")}
                                    {n}
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
                            let item_id = d.item.id.to_string();
                            let kept_days = q("h_days").unwrap_or_else(|| "1,2,3,4,5".into());
                            let bad_slot = q("slot").and_then(|v| v.parse::<i64>().ok());
                            let keep_item = q("name").is_some();
                            let mut dates: Vec<String> = d.slots.iter().map(|s| s.date.clone()).collect();
                            dates.dedup();
                            let shown = q("day")
                                .filter(|x| dates.contains(x))
                                .or_else(|| {
                                    bad_slot.and_then(|b| d.slots.iter().find(|s| s.id == b).map(|s| s.date.clone()))
                                })
                                .or_else(|| dates.first().cloned())
                                .unwrap_or_default();
                            view! {
                                <div class="console">
                                    <section class="card">
                                        <h2>{d.item.name.clone()}</h2>
                                        <form method="post" action=SaveServiceItem::PATH class="stack">
                                            <input type="hidden" name="id" value=item_id.clone() />
                                            {item_fields(
                                                lang,
                                                Some(&d.item),
                                                move |k| if keep_item { q(k) } else { None },
                                            )}
                                            <label class="check">
                                                <input type="checkbox" name="active" value="1" checked=d.item.active />
                                                {t(lang, "开放预约", "Open for booking")}
                                            </label>
                                            <button type="submit" class="primary">
                                                {t(lang, "保存", "Save")}
                                            </button>
                                        </form>
                                    </section>
                                    <section class="card">
                                        <h2>{t(lang, "开放时间", "Opening hours")}</h2>
                                        <ul class="list plain">
                                            {d
                                                .hours
                                                .iter()
                                                .map(|(hid, h)| {
                                                    view! {
                                                        <li class="row-between">
                                                            <span>{h.describe(en)}</span>
                                                            <form method="post" action=ChangeSlots::PATH>
                                                                <input type="hidden" name="item_id" value=item_id.clone() />
                                                                <input type="hidden" name="action" value="remove_hours" />
                                                                <input type="hidden" name="target" value=hid.to_string() />
                                                                <button type="submit" class="link">
                                                                    {t(lang, "停用", "Stop")}
                                                                </button>
                                                            </form>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                        <form method="post" action=AddServiceHours::PATH class="stack">
                                            <input type="hidden" name="item_id" value=item_id.clone() />
                                            <fieldset class="choices">
                                                <legend>{t(lang, "每周", "Days")}</legend>
                                                {(1..=7u32)
                                                    .map(|n| {
                                                        let checked = kept_days.split(',').any(|x| x == n.to_string());
                                                        view! {
                                                            <label>
                                                                <input
                                                                    type="checkbox"
                                                                    name=format!("d{n}")
                                                                    value="1"
                                                                    checked=checked
                                                                />
                                                                {domain::appointments::weekday_name(n as u8, en)}
                                                            </label>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </fieldset>
                                            <div class="row2">
                                                <label>
                                                    {t(lang, "开始", "From")}
                                                    <input
                                                        type="time"
                                                        name="start"
                                                        required
                                                        value=q("start").unwrap_or_else(|| "09:00".into())
                                                    />
                                                </label>
                                                <label>
                                                    {t(lang, "结束", "Until")}
                                                    <input
                                                        type="time"
                                                        name="end"
                                                        required
                                                        value=q("end").unwrap_or_else(|| "11:30".into())
                                                    />
                                                </label>
                                            </div>
                                            <div class="row2">
                                                <label>
                                                    {t(lang, "每段分钟", "Minutes per slot")}
                                                    <input
                                                        type="text"
                                                        inputmode="numeric"
                                                        name="slot_minutes"
                                                        required
                                                        value=q("slot_minutes").unwrap_or_else(|| "30".into())
                                                    />
                                                </label>
                                                <label>
                                                    {t(lang, "每段名额", "Seats per slot")}
                                                    <input
                                                        type="text"
                                                        inputmode="numeric"
                                                        name="capacity"
                                                        required
                                                        value=q("capacity").unwrap_or_else(|| "5".into())
                                                    />
                                                </label>
                                            </div>
                                            <button type="submit" class="primary">
                                                {t(lang, "添加开放时间", "Add hours")}
                                            </button>
                                        </form>
                                    </section>
                                    <section class="card wide-card">
                                        <h2>{t(lang, "时段与名额", "Slots and seats")}</h2>
                                        {if d.slots.is_empty() {
                                            view! {
                                                <p class="empty">
                                                    {t(
                                                        lang,
                                                        "还没有时段,请先添加开放时间",
                                                        "No slots yet: add opening hours first",
                                                    )}
                                                </p>
                                            }
                                                .into_any()
                                        } else {
                                            view! {
                                                <nav class="chips" aria-label=t(lang, "日期", "Days")>
                                                    {dates
                                                        .iter()
                                                        .map(|x| {
                                                            let label = parse_day(x)
                                                                .map(|p| day_label(p, en))
                                                                .unwrap_or_default();
                                                            let current = (*x == shown).then_some("page");
                                                            view! {
                                                                <a href=format!("?day={x}") aria-current=current>
                                                                    {label}
                                                                </a>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </nav>
                                                <table class="grid">
                                                    <thead>
                                                        <tr>
                                                            <th>{t(lang, "日期", "Day")}</th>
                                                            <th>{t(lang, "时段", "Time")}</th>
                                                            <th>{t(lang, "已约/名额", "Booked/seats")}</th>
                                                            <th>{t(lang, "候补", "Waiting")}</th>
                                                            <th>{t(lang, "调整名额", "Seats")}</th>
                                                        </tr>
                                                    </thead>
                                                    <tbody>
                                                        {d
                                                            .slots
                                                            .iter()
                                                            .filter(|sl| sl.date == shown)
                                                            .map(|sl| {
                                                                view! {
                                                                    <tr class=if bad_slot == Some(sl.id) {
                                                                        "picked"
                                                                    } else {
                                                                        ""
                                                                    }>
                                                                        <td>
                                                                            <span class="nw">{sl.date.clone()}</span>
                                                                        </td>
                                                                        <td>
                                                                            {sl.start.clone()}"–"{sl.end.clone()}
                                                                            {(!sl.open).then(|| t(lang, "(停办)", " (closed)"))}
                                                                        </td>
                                                                        <td>{sl.booked}"/"{sl.capacity}</td>
                                                                        <td>{sl.waiting}</td>
                                                                        <td>
                                                                            <form
                                                                                method="post"
                                                                                action=ChangeSlots::PATH
                                                                                class="inline-form"
                                                                            >
                                                                                <input type="hidden" name="item_id" value=item_id.clone() />
                                                                                <input type="hidden" name="action" value="capacity" />
                                                                                <input
                                                                                    type="hidden"
                                                                                    name="target"
                                                                                    value=sl.id.to_string()
                                                                                />
                                                                                <input
                                                                                    type="text"
                                                                                    inputmode="numeric"
                                                                                    name="value"
                                                                                    size="3"
                                                                                    aria-label=t(lang, "名额", "Seats")
                                                                                    value=sl.capacity.to_string()
                                                                                />
                                                                                <button type="submit">{t(lang, "改", "Set")}</button>
                                                                            </form>
                                                                        </td>
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
