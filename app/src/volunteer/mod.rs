//! 志愿服务 pages. Residents sign up (or join the waitlist) and withdraw,
//! scan the organiser's rotating QR code to check in and out, see their
//! confirmed hours and points, and print a certificate anyone can verify.
//! Organisers show the code, check people in by phone number, correct times
//! and confirm hours (谁组织谁记录). Staff publish activities, record honour
//! hours and look up a person's record.
//!
//! Everything is a plain form; `/volunteer.js` only rotates the code on the
//! organiser's screen and adds the location to a check-in when the activity
//! has a geofence.

#![allow(clippy::too_many_arguments)]

mod organise;
mod staff;
pub use organise::*;
pub use staff::*;

use crate::i18n::{t, Lang};
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::volunteer::{
    minutes_text, ActivityView, AttendanceView, Cap, Certificate, CodeView, Direction, HoursRecord, OrganiseView,
    OrganiserRow, ScanView, SignupStatus,
};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

fn q(k: &str) -> Option<String> {
    use_query_map().with_untracked(|m| m.get(k))
}

fn param(k: &str) -> String {
    use_params_map().with_untracked(|m| m.get(k)).unwrap_or_default()
}

fn hours(m: i64, lang: Lang) -> String {
    minutes_text(m, lang.is_en())
}

// ------------------------------------------------------------------ resident

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolunteerData {
    pub activities: Vec<ActivityView>,
    pub record: HoursRecord,
    /// Communities where the viewer is an approved organiser (may publish).
    pub organiser_in: Vec<(i64, String)>,
    pub default_start: String,
    pub default_end: String,
}

#[server]
pub async fn volunteer_home() -> Result<VolunteerData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let activities = backend::volunteer::list_for(&state, &user).await.map_err(app_err)?;
    let record =
        backend::volunteer::record(&state, user.id, backend::support::people::english(&user)).await.map_err(app_err)?;
    let organiser_in = backend::volunteer::organiser_communities(&state, &user).await.map_err(app_err)?;
    let (default_start, default_end) = backend::volunteer::default_times();
    Ok(VolunteerData { activities, record, organiser_in, default_start, default_end })
}

#[server]
pub async fn volunteer_sign_up(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::volunteer::sign_up(&state, &user, id).await {
        Ok(s) => {
            // an activity already under way: no reminder is coming, go now
            let started = backend::volunteer::view(&state, &user, id)
                .await
                .map(|a| {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs() as i64)
                        .unwrap_or(0);
                    a.starts_ts <= now
                })
                .unwrap_or(false);
            leptos_actix::redirect(&format!(
                "/volunteer?signed={}{}#a{id}",
                s.as_str(),
                if started { "&started=1" } else { "" }
            ));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/volunteer", &[])),
    }
}

#[server]
pub async fn volunteer_withdraw(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::volunteer::withdraw(&state, &user, id).await {
        Ok(()) => {
            leptos_actix::redirect(&format!("/volunteer?withdrawn=1#a{id}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/volunteer", &[])),
    }
}

#[server]
pub async fn issue_certificate() -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::volunteer::issue_certificate(&state, &user).await {
        Ok(code) => {
            leptos_actix::redirect(&format!("/volunteer/certificate/{code}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/volunteer", &[])),
    }
}

/// What the rule means, in one line.
fn rule_text(a: &ActivityView, lang: Lang) -> String {
    let r = a.rule;
    if lang.is_en() {
        format!(
            "Counted in {} min units · {} points per hour · at most {} a day",
            r.unit_minutes,
            r.points_per_hour,
            hours(r.max_day_minutes, lang)
        )
    } else {
        format!(
            "按 {} 分钟计 · 每小时 {} 积分 · 每日最多 {}",
            r.unit_minutes,
            r.points_per_hour,
            hours(r.max_day_minutes, lang)
        )
    }
}

fn credited_text(a: &AttendanceView, lang: Lang) -> String {
    let m = a.credited_minutes.unwrap_or(0);
    let p = a.points.unwrap_or(0);
    let cap = match a.capped_by {
        Some(Cap::Day) => t(lang, "(已达每日上限)", " (daily cap reached)"),
        Some(Cap::Year) => t(lang, "(已达年度上限)", " (yearly cap reached)"),
        None => "",
    };
    if lang.is_en() {
        format!("Confirmed: {} · +{p} points{cap}", hours(m, lang))
    } else {
        format!("已确认 {} · +{p} 积分{cap}", hours(m, lang))
    }
}

/// A volunteer's own attendance line.
fn my_attendance(a: &AttendanceView, lang: Lang) -> String {
    let mut s = format!("{}{}", t(lang, "签到 ", "In "), a.check_in);
    if let Some(o) = &a.check_out {
        s.push_str(&format!("{}{o}", t(lang, " · 签退 ", " · out ")));
    }
    if a.confirmed {
        s.push_str(" · ");
        s.push_str(&credited_text(a, lang));
    } else {
        s.push_str(t(lang, " · 待组织者确认时长", " · awaiting the organiser's confirmation"));
    }
    s
}

#[component]
fn ActivityCard(a: ActivityView, lang: Lang) -> impl IntoView {
    let en = lang.is_en();
    let full = a.signed_up >= a.capacity;
    let id = a.id;
    let status = a.my_status.filter(|s| *s != SignupStatus::Withdrawn);
    let over = a.over;
    view! {
        <li class="card activity" id=format!("a{id}")>
            <h3>{a.title.clone()}{a.cancelled.then(|| t(lang, "(已取消)", " (cancelled)"))}</h3>
            <p class="meta">
                <span class="nw">{a.starts_at.clone()}</span>
                " – "
                <span class="nw">{a.ends_at.clone()}</span>
            </p>
            <p class="meta">
                {a.place.clone()}" · "{a.community.clone()}{t(lang, " · 组织者 ", " · organiser ")}
                {a.organiser.clone()}
            </p>
            {(!a.description.is_empty()).then(|| view! { <p>{a.description.clone()}</p> })}
            <p class="meta">{rule_text(&a, lang)}</p>
            <p class="meta">
                {t(lang, "名额 ", "Places ")}{a.signed_up}" / "{a.capacity}
                {(a.waitlisted > 0).then(|| format!("{}{}", t(lang, " · 候补 ", " · waitlist "), a.waitlisted))}
                {a
                    .geofence
                    .map(|_| t(lang, " · 须在现场定位签到", " · check-in needs your location on site"))}
            </p>
            {status
                .map(|s| {
                    view! {
                        <p class=if s == SignupStatus::SignedUp {
                            "status approved"
                        } else {
                            "status pending"
                        }>
                            {s.label(en)}
                            {a
                                .my_queue
                                .map(|n| format!("{}{n}", t(lang, " · 第 ", " · number ")))
                                .unwrap_or_default()}{a.my_queue.map(|_| t(lang, " 位", "")).unwrap_or_default()}
                        </p>
                    }
                })}
            {a
                .my_attendance
                .clone()
                .map(|m| view! { <p class="attendance">{crate::layout::nw_text(my_attendance(&m, lang))}</p> })}
            <div class="actions">
                {(!over && status.is_none())
                    .then(|| {
                        view! {
                            <form method="post" action=VolunteerSignUp::PATH class="inline-form">
                                <input type="hidden" name="id" value=id.to_string() />
                                <button type="submit" class="primary">
                                    {if full {
                                        t(lang, "加入候补", "Join the waitlist")
                                    } else {
                                        t(lang, "报名", "Sign up")
                                    }}
                                </button>
                            </form>
                        }
                    })}
                {(!over && status.is_some() && a.my_attendance.is_none())
                    .then(|| {
                        view! {
                            <form method="post" action=VolunteerWithdraw::PATH class="inline-form">
                                <input type="hidden" name="id" value=id.to_string() />
                                <button type="submit">{t(lang, "取消报名", "Withdraw")}</button>
                            </form>
                        }
                    })}
                {a
                    .can_organise
                    .then(|| {
                        view! {
                            <a class="button" href=format!("/volunteer/{id}/organise")>
                                {t(lang, "组织者:签到码与时长确认", "Organiser: code and hours")}
                            </a>
                        }
                    })}
            </div>
        </li>
    }
}

#[component]
fn RecordView(r: HoursRecord, lang: Lang) -> impl IntoView {
    view! {
        <dl class="facts">
            <dt>{t(lang, "志愿服务时长", "Service hours")}</dt>
            <dd class="amount">{hours(r.service_minutes, lang)}</dd>
            <dt>{t(lang, "荣誉时长(不计积分)", "Honour hours (no points)")}</dt>
            <dd>{hours(r.honour_minutes, lang)}</dd>
            <dt>{t(lang, "志愿服务积分", "Service points")}</dt>
            <dd>{r.service_points}</dd>
        </dl>
        <ul class="list">
            {r
                .attendances
                .iter()
                .map(|a| {
                    view! {
                        <li>
                            <span class="title">{a.activity.clone()}</span>
                            <span class="meta">
                                <span class="nw">{a.date.clone()}</span>
                                " · "
                                {crate::layout::nw_text(my_attendance(a, lang))}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
            {r
                .honour
                .iter()
                .map(|h| {
                    view! {
                        <li>
                            <span class="title">{h.reason.clone()}</span>
                            <span class="meta">
                                <span class="nw">{h.date.clone()}</span>
                                {t(lang, " · 荣誉时长 ", " · honour hours ")}
                                {hours(h.minutes, lang)}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
pub fn VolunteerPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| volunteer_home());
    view! {
        <Page
            title=("志愿服务", "Volunteering")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = q("error").map(|c| code_text(&c, lang));
                view! {
                    {q("signed")
                        .map(|s| {
                            view! {
                                <p class="success" role="status">
                                    {if s == "waitlisted" {
                                        t(
                                            lang,
                                            "名额已满,您已加入候补;有人取消时会按顺序递补并通知您。",
                                            "The activity is full; you are on the waitlist and will be told if a place frees up.",
                                        )
                                    } else if q("started").is_some() {
                                        t(
                                            lang,
                                            "报名成功。活动已经开始了,请尽快到活动地点,找组织者扫码签到。",
                                            "You are signed up. The activity has already started: please go to the place now and check in with the organiser's code.",
                                        )
                                    } else {
                                        t(
                                            lang,
                                            "报名成功,活动开始前会提醒您。",
                                            "You are signed up; we will remind you before it starts.",
                                        )
                                    }}
                                </p>
                            }
                        })}
                    {q("withdrawn")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已取消报名。", "Withdrawn.")}
                                </p>
                            }
                        })}
                    {q("checked")
                        .map(|d| {
                            view! {
                                <p class="success" role="status">
                                    {if d == "out" {
                                        t(
                                            lang,
                                            "签退成功,时长由组织者确认后记入。",
                                            "Checked out; the organiser confirms your hours.",
                                        )
                                    } else {
                                        t(
                                            lang,
                                            "签到成功!活动结束时请再扫签退码。",
                                            "Checked in! Scan the check-out code when you leave.",
                                        )
                                    }}
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
                            let has_hours = d.record.service_minutes + d.record.honour_minutes > 0;
                            view! {
                                <section>
                                    <h2>{t(lang, "志愿活动", "Activities")}</h2>
                                    {if d.activities.is_empty() {
                                        view! {
                                            <p class="empty">
                                                {t(lang, "暂时没有志愿活动", "No activities yet")}
                                            </p>
                                        }
                                            .into_any()
                                    } else {
                                        view! {
                                            <ul class="activities">
                                                {d
                                                    .activities
                                                    .into_iter()
                                                    .map(|a| view! { <ActivityCard a=a lang=lang /> })
                                                    .collect_view()}
                                            </ul>
                                        }
                                            .into_any()
                                    }}
                                </section>
                                <section class="card">
                                    <h2>{t(lang, "我的志愿记录", "My record")}</h2>
                                    <RecordView r=d.record.clone() lang=lang />
                                    {has_hours
                                        .then(|| {
                                            view! {
                                                <form method="post" action=IssueCertificate::PATH>
                                                    <button type="submit">
                                                        {t(
                                                            lang,
                                                            "开具志愿服务证明",
                                                            "Issue a certificate of service",
                                                        )}
                                                    </button>
                                                </form>
                                            }
                                        })}
                                    <p class="meta">
                                        <a href="/points">
                                            {t(lang, "查看积分与积分超市", "Points and the points mall")}
                                        </a>
                                    </p>
                                </section>
                                {(!d.organiser_in.is_empty())
                                    .then(|| {
                                        view! {
                                            <PublishForm
                                                lang=lang
                                                communities=d.organiser_in.clone()
                                                default_start=d.default_start.clone()
                                                default_end=d.default_end.clone()
                                                staff=false
                                            />
                                        }
                                    })}
                            }
                                .into_any()
                        })}
                    </Suspense>
                }
            }
        />
    }
}

// ------------------------------------------------------------------ scan

#[server]
pub async fn volunteer_scan(a: i64, d: String, w: i64, s: String) -> Result<ScanView, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let dir = Direction::parse(&d).ok_or_else(|| app_err(domain::ErrorCode::NotFound.into()))?;
    backend::volunteer::scan(&state, &user, a, dir, w, &s).await.map_err(app_err)
}

#[server]
pub async fn volunteer_check(
    a: i64,
    d: String,
    at: i64,
    ticket: String,
    lat: Option<String>,
    lng: Option<String>,
    acc: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let num = |v: &Option<String>| v.as_deref().and_then(|s| s.trim().parse::<f64>().ok()).filter(|f| f.is_finite());
    let fix = match (num(&lat), num(&lng), num(&acc)) {
        (Some(lat), Some(lng), Some(accuracy_m)) => Some(backend::volunteer::Fix { lat, lng, accuracy_m }),
        _ => None,
    };
    let result = match Direction::parse(&d) {
        Some(dir) => backend::volunteer::check(&state, &user, a, dir, at, &ticket, fix).await,
        None => Err(domain::ErrorCode::NotFound.into()),
    };
    match result {
        Ok(_) => {
            leptos_actix::redirect(&format!("/volunteer?checked={d}#a{a}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/volunteer", &[])),
    }
}

#[component]
pub fn ScanPage() -> impl IntoView {
    let args = (
        q("a").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0),
        q("d").unwrap_or_default(),
        q("w").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0),
        q("s").unwrap_or_default(),
    );
    let data = Resource::new(move || args.clone(), |(a, d, w, s)| volunteer_scan(a, d, w, s));
    view! {
        <Page
            title=("扫码签到", "Check in")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let v = match data.await {
                                Ok(v) => v,
                                Err(e) => {
                                    return view! {
                                        <FormError message=Some(error_text(&e, lang)) />
                                        <p>
                                            <a href="/volunteer">
                                                {t(lang, "返回志愿服务", "Back to volunteering")}
                                            </a>
                                        </p>
                                    }
                                        .into_any();
                                }
                            };
                            let geo = v.activity.geofence.is_some();
                            view! {
                                <section class="card scan">
                                    <h2>{v.activity.title.clone()}</h2>
                                    <p class="meta">
                                        {v.activity.place.clone()}" · "
                                        <span class="nw">{v.activity.starts_at.clone()}</span>" – "
                                        <span class="nw">{v.activity.ends_at.clone()}</span>
                                    </p>
                                    {v
                                        .activity
                                        .my_attendance
                                        .clone()
                                        .map(|m| {
                                            view! {
                                                <p class="attendance">
                                                    {crate::layout::nw_text(my_attendance(&m, lang))}
                                                </p>
                                            }
                                        })}
                                    <form
                                        method="post"
                                        action=VolunteerCheck::PATH
                                        class="stack"
                                        data-geo=geo.then_some("1")
                                    >
                                        <input type="hidden" name="a" value=v.activity.id.to_string() />
                                        <input type="hidden" name="d" value=v.direction.as_str() />
                                        <input type="hidden" name="at" value=v.at.to_string() />
                                        <input type="hidden" name="ticket" value=v.ticket.clone() />
                                        <input type="hidden" name="lat" value="" />
                                        <input type="hidden" name="lng" value="" />
                                        <input type="hidden" name="acc" value="" />
                                        {geo
                                            .then(|| {
                                                view! {
                                                    <p class="meta geo-status" role="status">
                                                        {t(
                                                            lang,
                                                            "此活动须在现场签到:点击后请允许获取位置。",
                                                            "This activity checks that you are on site: allow location access when asked.",
                                                        )}
                                                    </p>
                                                }
                                            })}
                                        <button type="submit" class="primary big">
                                            {format!("{}{}", t(lang, "确认", "Confirm: "), v.direction.label(en))}
                                        </button>
                                    </form>
                                    <p class="meta">
                                        {t(lang, "请在 10 分钟内确认。", "Confirm within 10 minutes.")}
                                    </p>
                                </section>
                                <script src="/volunteer.js" defer></script>
                            }
                                .into_any()
                        })}
                    </Suspense>
                }
            }
        />
    }
}

// ------------------------------------------------------------------ organiser
