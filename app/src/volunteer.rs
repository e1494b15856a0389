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
    let record = backend::volunteer::record(&state, user.id).await.map_err(app_err)?;
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
            <p class="meta"><span class="nw">{a.starts_at.clone()}</span>" – "<span class="nw">{a.ends_at.clone()}</span></p>
            <p class="meta">{a.place.clone()}" · "{a.community.clone()}{t(lang, " · 组织者 ", " · organiser ")}{a.organiser.clone()}</p>
            {(!a.description.is_empty()).then(|| view! { <p>{a.description.clone()}</p> })}
            <p class="meta">{rule_text(&a, lang)}</p>
            <p class="meta">{t(lang, "名额 ", "Places ")}{a.signed_up}" / "{a.capacity}{(a.waitlisted > 0).then(|| format!("{}{}", t(lang, " · 候补 ", " · waitlist "), a.waitlisted))}
                {a.geofence.map(|_| t(lang, " · 须在现场定位签到", " · check-in needs your location on site"))}</p>
            {status.map(|s| view! {
                <p class=if s == SignupStatus::SignedUp { "status approved" } else { "status pending" }>
                    {s.label(en)}{a.my_queue.map(|n| format!("{}{n}", t(lang, " · 第 ", " · number "))).unwrap_or_default()}{a.my_queue.map(|_| t(lang, " 位", "")).unwrap_or_default()}
                </p>
            })}
            {a.my_attendance.clone().map(|m| view! { <p class="attendance">{crate::layout::nw_text(my_attendance(&m, lang))}</p> })}
            <div class="actions">
                {(!over && status.is_none()).then(|| view! {
                    <form method="post" action=VolunteerSignUp::PATH class="inline-form">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <button type="submit" class="primary">{if full { t(lang, "加入候补", "Join the waitlist") } else { t(lang, "报名", "Sign up") }}</button>
                    </form>
                })}
                {(!over && status.is_some() && a.my_attendance.is_none()).then(|| view! {
                    <form method="post" action=VolunteerWithdraw::PATH class="inline-form">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <button type="submit">{t(lang, "取消报名", "Withdraw")}</button>
                    </form>
                })}
                {a.can_organise.then(|| view! {
                    <a class="button" href=format!("/volunteer/{id}/organise")>{t(lang, "组织者:签到码与时长确认", "Organiser: code and hours")}</a>
                })}
            </div>
        </li>
    }
}

#[component]
fn RecordView(r: HoursRecord, lang: Lang) -> impl IntoView {
    view! {
        <dl class="facts">
            <dt>{t(lang, "志愿服务时长", "Service hours")}</dt><dd class="amount">{hours(r.service_minutes, lang)}</dd>
            <dt>{t(lang, "荣誉时长(不计积分)", "Honour hours (no points)")}</dt><dd>{hours(r.honour_minutes, lang)}</dd>
            <dt>{t(lang, "志愿服务积分", "Service points")}</dt><dd>{r.service_points}</dd>
        </dl>
        <ul class="list">
            {r.attendances.iter().map(|a| view! {
                <li><span class="title">{a.activity.clone()}</span><span class="meta"><span class="nw">{a.date.clone()}</span>" · "{crate::layout::nw_text(my_attendance(a, lang))}</span></li>
            }).collect_view()}
            {r.honour.iter().map(|h| view! {
                <li><span class="title">{h.reason.clone()}</span><span class="meta"><span class="nw">{h.date.clone()}</span>{t(lang, " · 荣誉时长 ", " · honour hours ")}{hours(h.minutes, lang)}</span></li>
            }).collect_view()}
        </ul>
    }
}

#[component]
pub fn VolunteerPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| volunteer_home());
    view! {
        <Page title=("志愿服务", "Volunteering") render=move |s: SessionInfo| {
            let lang = s.lang;
            let error = q("error").map(|c| code_text(&c, lang));
            view! {
                {q("signed").map(|s| view! { <p class="success" role="status">{if s == "waitlisted" { t(lang, "名额已满,您已加入候补;有人取消时会按顺序递补并通知您。", "The activity is full; you are on the waitlist and will be told if a place frees up.") } else if q("started").is_some() { t(lang, "报名成功。活动已经开始了,请尽快到活动地点,找组织者扫码签到。", "You are signed up. The activity has already started: please go to the place now and check in with the organiser's code.") } else { t(lang, "报名成功,活动开始前会提醒您。", "You are signed up; we will remind you before it starts.") }}</p> })}
                {q("withdrawn").map(|_| view! { <p class="success" role="status">{t(lang, "已取消报名。", "Withdrawn.")}</p> })}
                {q("checked").map(|d| view! { <p class="success" role="status">{if d == "out" { t(lang, "签退成功,时长由组织者确认后记入。", "Checked out; the organiser confirms your hours.") } else { t(lang, "签到成功!活动结束时请再扫签退码。", "Checked in! Scan the check-out code when you leave.") }}</p> })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let has_hours = d.record.service_minutes + d.record.honour_minutes > 0;
                        view! {
                            <section>
                                <h2>{t(lang, "志愿活动", "Activities")}</h2>
                                {if d.activities.is_empty() { view! { <p class="empty">{t(lang, "暂时没有志愿活动", "No activities yet")}</p> }.into_any() } else { view! {
                                    <ul class="activities">
                                        {d.activities.into_iter().map(|a| view! { <ActivityCard a=a lang=lang/> }).collect_view()}
                                    </ul>
                                }.into_any() }}
                            </section>
                            <section class="card">
                                <h2>{t(lang, "我的志愿记录", "My record")}</h2>
                                <RecordView r=d.record.clone() lang=lang/>
                                {has_hours.then(|| view! {
                                    <form method="post" action=IssueCertificate::PATH>
                                        <button type="submit">{t(lang, "开具志愿服务证明", "Issue a certificate of service")}</button>
                                    </form>
                                })}
                                <p class="meta"><a href="/points">{t(lang, "查看积分与积分超市", "Points and the points mall")}</a></p>
                            </section>
                            {(!d.organiser_in.is_empty()).then(|| view! {
                                <PublishForm lang=lang communities=d.organiser_in.clone() default_start=d.default_start.clone() default_end=d.default_end.clone() staff=false/>
                            })}
                        }.into_any()
                    })}
                </Suspense>
            }
        }/>
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
        <Page title=("扫码签到", "Check in") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let v = match data.await {
                            Ok(v) => v,
                            Err(e) => return view! {
                                <FormError message=Some(error_text(&e, lang))/>
                                <p><a href="/volunteer">{t(lang, "返回志愿服务", "Back to volunteering")}</a></p>
                            }.into_any(),
                        };
                        let geo = v.activity.geofence.is_some();
                        view! {
                            <section class="card scan">
                                <h2>{v.activity.title.clone()}</h2>
                                <p class="meta">{v.activity.place.clone()}" · "<span class="nw">{v.activity.starts_at.clone()}</span>" – "<span class="nw">{v.activity.ends_at.clone()}</span></p>
                                {v.activity.my_attendance.clone().map(|m| view! { <p class="attendance">{crate::layout::nw_text(my_attendance(&m, lang))}</p> })}
                                <form method="post" action=VolunteerCheck::PATH class="stack" data-geo=geo.then_some("1")>
                                    <input type="hidden" name="a" value=v.activity.id.to_string()/>
                                    <input type="hidden" name="d" value=v.direction.as_str()/>
                                    <input type="hidden" name="at" value=v.at.to_string()/>
                                    <input type="hidden" name="ticket" value=v.ticket.clone()/>
                                    <input type="hidden" name="lat" value=""/>
                                    <input type="hidden" name="lng" value=""/>
                                    <input type="hidden" name="acc" value=""/>
                                    {geo.then(|| view! { <p class="meta geo-status" role="status">{t(lang, "此活动须在现场签到:点击后请允许获取位置。", "This activity checks that you are on site: allow location access when asked.")}</p> })}
                                    <button type="submit" class="primary big">{format!("{}{}", t(lang, "确认", "Confirm: "), v.direction.label(en))}</button>
                                </form>
                                <p class="meta">{t(lang, "请在 10 分钟内确认。", "Confirm within 10 minutes.")}</p>
                            </section>
                            <script src="/volunteer.js" defer></script>
                        }.into_any()
                    })}
                </Suspense>
            }
        }/>
    }
}

// ------------------------------------------------------------------ organiser

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganisePageData {
    pub view: OrganiseView,
    /// The current code, or why there is none now.
    pub code: Result<CodeView, String>,
}

#[server]
pub async fn organise_data(id: i64, dir: String) -> Result<OrganisePageData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let view = backend::volunteer::organise(&state, &user, id).await.map_err(app_err)?;
    let dir = Direction::parse(&dir).unwrap_or(Direction::In);
    let code = backend::volunteer::current_code(&state, &user, id, dir).await.map_err(|e| e.code.as_str().to_string());
    Ok(OrganisePageData { view, code })
}

#[cfg(feature = "ssr")]
fn organise_path(id: i64) -> String {
    format!("/volunteer/{id}/organise")
}

#[server]
pub async fn organiser_check(id: i64, phone: String, d: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = organise_path(id);
    let result = match Direction::parse(&d) {
        Some(dir) => backend::volunteer::organiser_check(&state, &user, id, &phone, dir).await,
        None => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(a) => {
            leptos_actix::redirect(&format!(
                "{page}?{}",
                query(&[("checked", d.as_str()), ("who", a.person.as_str())])
            ));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[("phone", phone.as_str())])),
    }
}

#[server]
pub async fn correct_attendance(
    id: i64,
    attendance: i64,
    check_in: String,
    check_out: String,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = organise_path(id);
    match backend::volunteer::correct(&state, &user, attendance, &check_in, &check_out).await {
        Ok(()) => {
            leptos_actix::redirect(&format!("{page}?corrected=1#t{attendance}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[])),
    }
}

#[server]
pub async fn confirm_attendance(id: i64, attendance: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = organise_path(id);
    match backend::volunteer::confirm(&state, &user, attendance).await {
        Ok(c) => {
            leptos_actix::redirect(&format!(
                "{page}?confirmed={}&points={}#t{attendance}",
                c.credited_minutes, c.points
            ));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[])),
    }
}

#[server]
pub async fn confirm_all_attendances(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = organise_path(id);
    match backend::volunteer::confirm_all(&state, &user, id).await {
        Ok(n) => {
            leptos_actix::redirect(&format!("{page}?confirmed_all={n}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[])),
    }
}

#[component]
fn AttendanceRow(a: AttendanceView, activity: i64, lang: Lang) -> impl IntoView {
    let preview = a.preview.map(|c| {
        let cap = match c.capped_by {
            Some(Cap::Day) => t(lang, "(受每日上限限制)", " (daily cap)"),
            Some(Cap::Year) => t(lang, "(受年度上限限制)", " (yearly cap)"),
            None => "",
        };
        format!(
            "{}{} · {} {}{cap}",
            t(lang, "确认后记 ", "Confirming credits "),
            hours(c.credited_minutes, lang),
            c.points,
            t(lang, "积分", "points")
        )
    });
    view! {
        <li class="attendance-row" id=format!("t{}", a.id)>
            <span class="title">{a.person.clone()}" "<span class="meta">{a.phone_masked.clone()}</span></span>
            <span class="meta">
                {t(lang, "签到 ", "In ")}<span class="nw">{a.check_in.clone()}</span>{a.in_by_organiser.then(|| t(lang, "(组织者代签)", " (by organiser)"))}
                {a.in_distance_m.map(|d| format!("{}{d} m", t(lang, " · 距离 ", " · distance ")))}
                {a.check_out.clone().map(|o| format!("{}{o}", t(lang, " · 签退 ", " · out ")))}{a.out_by_organiser.then(|| t(lang, "(组织者代签)", " (by organiser)"))}
            </span>
            {if a.confirmed {
                view! { <span class="status approved">{credited_text(&a, lang)}</span> }.into_any()
            } else {
                view! {
                    {preview.map(|p| view! { <span class="meta preview">{p}</span> })}
                    <form method="post" action=CorrectAttendance::PATH class="inline-form correct">
                        <input type="hidden" name="id" value=activity.to_string()/>
                        <input type="hidden" name="attendance" value=a.id.to_string()/>
                        <label>{t(lang, "签到", "In")}<input type="datetime-local" name="check_in" required value=a.in_input.clone()/></label>
                        <label>{t(lang, "签退", "Out")}<input type="datetime-local" name="check_out" required value=a.out_input.clone()/></label>
                        <button type="submit">{t(lang, "更正时间", "Correct times")}</button>
                    </form>
                    {a.check_out.is_some().then(|| view! {
                        <form method="post" action=ConfirmAttendance::PATH class="inline-form">
                            <input type="hidden" name="id" value=activity.to_string()/>
                            <input type="hidden" name="attendance" value=a.id.to_string()/>
                            <button type="submit" class="primary">{t(lang, "确认时长", "Confirm hours")}</button>
                        </form>
                    })}
                }.into_any()
            }}
        </li>
    }
}

#[component]
pub fn OrganisePage() -> impl IntoView {
    let id = param("id").parse::<i64>().unwrap_or(0);
    let dir = q("d").filter(|d| d == "out").unwrap_or_else(|| "in".into());
    let shown_dir = dir.clone();
    let data = Resource::new(move || (id, dir.clone()), |(id, dir)| organise_data(id, dir));
    view! {
        <Page title=("活动组织", "Organise") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            let error = q("error").map(|c| code_text(&c, lang));
            let out = shown_dir == "out";
            view! {
                {q("checked").map(|d| view! { <p class="success" role="status">{q("who").unwrap_or_default()}{if d == "out" { t(lang, " 已签退", " checked out") } else { t(lang, " 已签到", " checked in") }}</p> })}
                {q("published").map(|_| view! { <p class="success" role="status">{t(lang, "活动已发布,居民可以报名了。活动开始前 1 小时起,这里显示签到二维码。", "Published; residents can sign up. The check-in code shows here from an hour before the start.")}</p> })}
                {q("corrected").map(|_| view! { <p class="success" role="status">{t(lang, "时间已更正", "Times corrected")}</p> })}
                {q("confirmed").map(|m| view! { <p class="success" role="status">{t(lang, "已确认时长 ", "Confirmed: ")}{hours(m.parse().unwrap_or(0), lang)}{t(lang, ",积分 +", ", points +")}{q("points").unwrap_or_default()}</p> })}
                {q("confirmed_all").map(|n| view! { <p class="success" role="status">{t(lang, "已确认 ", "Confirmed ")}{n}{t(lang, " 人的时长", " people's hours")}</p> })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let a = d.view.activity.clone();
                        let id = a.id;
                        let open = d.view.attendances.iter().filter(|x| !x.confirmed && x.check_out.is_some()).count();
                        view! {
                            <div class="console">
                                <section class="card qr-card">
                                    <h2>{a.title.clone()}</h2>
                                    <p class="meta">{a.place.clone()}" · "<span class="nw">{a.starts_at.clone()}</span>" – "<span class="nw">{a.ends_at.clone()}</span></p>
                                    <nav class="tabs">
                                        <a href=format!("/volunteer/{id}/organise") aria-current=(!out).then_some("page")>{Direction::In.label(en)}</a>
                                        <a href=format!("/volunteer/{id}/organise?d=out") aria-current=out.then_some("page")>{Direction::Out.label(en)}</a>
                                    </nav>
                                    {match d.code.clone() {
                                        Ok(c) => view! {
                                            <div id="qr" class="qr" data-activity=id.to_string() data-dir=c.direction.as_str() data-url=c.url.clone() data-left=c.seconds_left.to_string() inner_html=c.svg.clone()></div>
                                            <p class="meta">{t(lang, "请志愿者用微信或相机扫码", "Volunteers scan this with WeChat or the camera")}{" · "}<span id="qr-left">{c.seconds_left}</span>{t(lang, " 秒后更新", " s until it changes")}</p>
                                            <noscript><meta http-equiv="refresh" content=c.seconds_left.max(1).to_string()/></noscript>
                                            <script src="/volunteer.js" defer></script>
                                        }.into_any(),
                                        Err(code) => view! { <p class="empty">{code_text(&code, lang)}</p> }.into_any(),
                                    }}
                                </section>
                                <section class="card">
                                    <h2>{t(lang, "代为签到 / 签退", "Check someone in or out")}</h2>
                                    <form method="post" action=OrganiserCheck::PATH class="stack">
                                        <input type="hidden" name="id" value=id.to_string()/>
                                        <label>{t(lang, "志愿者手机号", "Volunteer's phone")}<input type="tel" name="phone" required maxlength="11" inputmode="numeric" value=q("phone").unwrap_or_default()/></label>
                                        <label>{t(lang, "操作", "Action")}
                                            <select name="d">
                                                <option value="in">{Direction::In.label(en)}</option>
                                                <option value="out" selected=out>{Direction::Out.label(en)}</option>
                                            </select>
                                        </label>
                                        <button type="submit">{t(lang, "提交", "Submit")}</button>
                                    </form>
                                </section>
                                <section class="card wide-card">
                                    <h2>{t(lang, "签到记录与时长确认", "Attendance and hours")}</h2>
                                    <p class="meta">{rule_text(&a, lang)}</p>
                                    {if d.view.attendances.is_empty() { view! { <p class="empty">{t(lang, "还没有人签到", "Nobody has checked in yet")}</p> }.into_any() } else { view! {
                                        <ul class="list attendances">
                                            {d.view.attendances.iter().cloned().map(|x| view! { <AttendanceRow a=x activity=id lang=lang/> }).collect_view()}
                                        </ul>
                                    }.into_any() }}
                                    {(open > 1).then(|| view! {
                                        <form method="post" action=ConfirmAllAttendances::PATH>
                                            <input type="hidden" name="id" value=id.to_string()/>
                                            <button type="submit">{t(lang, "确认全部已签退的时长", "Confirm everyone checked out")}</button>
                                        </form>
                                    })}
                                </section>
                                <section class="card">
                                    <h2>{t(lang, "报名名单", "Sign-ups")}{format!(" {}/{}", a.signed_up, a.capacity)}</h2>
                                    <ul class="list roster">
                                        {d.view.roster.iter().map(|r| view! {
                                            <li>
                                                <span class="title">{r.name.clone()}" "<span class="meta">{r.phone_masked.clone()}</span></span>
                                                <span class="meta">{r.status.label(en)}{r.queue.map(|n| format!(" #{n}"))}{r.checked_in.then(|| t(lang, " · 已签到", " · checked in"))}</span>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                </section>
                            </div>
                        }.into_any()
                    })}
                </Suspense>
            }
        }/>
    }
}

// ------------------------------------------------------------------ certificate

#[server]
pub async fn certificate_view(code: String) -> Result<Certificate, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    backend::volunteer::certificate(&state, &code).await.map_err(app_err)
}

#[component]
pub fn CertificatePage() -> impl IntoView {
    let code = param("code");
    let data = Resource::new(move || code.clone(), certificate_view);
    view! {
        <Page title=("志愿服务证明", "Certificate of volunteer service") login_required=false render=move |s: SessionInfo| {
            let lang = s.lang;
            view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let c = match data.await {
                            Ok(c) => c,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        view! {
                            <article class="card certificate">
                                <h2>{t(lang, "志愿服务证明", "Certificate of volunteer service")}</h2>
                                <p>{t(lang, "兹证明 ", "This certifies that ")}<strong>{c.name.clone()}</strong>
                                   {t(lang, " 在 ", " volunteered in ")}{c.communities.join("、")}
                                   {t(lang, " 参加志愿服务,经组织者记录确认,累计志愿服务时长 ", ", with service hours recorded and confirmed by the organisers totalling ")}
                                   <strong class="amount">{hours(c.service_minutes, lang)}</strong>
                                   {(c.honour_minutes > 0).then(|| format!("{}{}", t(lang, ",另有荣誉时长 ", "; honour hours: "), hours(c.honour_minutes, lang)))}
                                   {t(lang, "。", ".")}</p>
                                <table class="lines">
                                    <thead><tr><th>{t(lang, "日期", "Date")}</th><th>{t(lang, "活动", "Activity")}</th><th>{t(lang, "时长", "Hours")}</th></tr></thead>
                                    <tbody>
                                        {c.lines.iter().map(|l| view! {
                                            <tr><td><span class="nw">{l.date.clone()}</span></td><td>{l.title.clone()}{l.honour.then(|| t(lang, "(荣誉时长)", " (honour)"))}</td><td>{hours(l.minutes, lang)}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <p class="meta">{t(lang, "开具时间 ", "Issued ")}{c.issued_at.clone()}</p>
                                <p class="meta">{t(lang, "验证码 ", "Verification code ")}<strong class="receipt-code">{c.code.clone()}</strong>
                                    {t(lang, " · 在本站打开 /volunteer/certificate/验证码 即可核验", " · check it at /volunteer/certificate/<code> on this site")}</p>
                                <p class="no-print"><button type="button" data-print="1" hidden>{t(lang, "打印", "Print")}</button></p>
                                <script src="/volunteer.js" defer></script>
                            </article>
                        }.into_any()
                    })}
                </Suspense>
            }
        }/>
    }
}

// ------------------------------------------------------------------ staff

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffVolunteerData {
    pub communities: Vec<(i64, String)>,
    pub activities: Vec<ActivityView>,
    pub person: Option<(String, String, HoursRecord)>,
    pub organisers: Vec<OrganiserRow>,
    pub default_start: String,
    pub default_end: String,
}

#[server]
pub async fn staff_volunteer(phone: Option<String>) -> Result<StaffVolunteerData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let communities = backend::appointments::staff_communities(&state, &user).await.map_err(app_err)?;
    let activities = backend::volunteer::staff_list(&state, &user).await.map_err(app_err)?;
    let person = match phone.filter(|p| !p.trim().is_empty()) {
        Some(p) => Some(backend::volunteer::staff_record(&state, &user, &p).await.map_err(app_err)?),
        None => None,
    };
    let organisers = backend::volunteer::organisers(&state, &user).await.map_err(app_err)?;
    let (default_start, default_end) = backend::volunteer::default_times();
    Ok(StaffVolunteerData { communities, activities, person, organisers, default_start, default_end })
}

#[server]
pub async fn publish_activity(
    community_id: String,
    title: String,
    description: String,
    place: String,
    starts_at: String,
    ends_at: String,
    capacity: String,
    unit_minutes: String,
    day_hours: String,
    year_hours: String,
    points_per_hour: String,
    organiser_phone: Option<String>,
    geo_lat: String,
    geo_lng: String,
    geo_radius: String,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    use domain::{
        text::parse_beijing_local,
        volunteer::{Geofence, HoursRule},
        ErrorCode,
    };
    let state = state()?;
    let user = require_user()?; // staff, or a resident approved as organiser (checked inside)
    let organiser_phone = organiser_phone.unwrap_or_default();
    let page = if user.is_staff() { "/staff/volunteer" } else { "/volunteer" };
    let keep = [
        ("community_id", community_id.as_str()),
        ("title", title.as_str()),
        ("description", description.as_str()),
        ("place", place.as_str()),
        ("starts_at", starts_at.as_str()),
        ("ends_at", ends_at.as_str()),
        ("capacity", capacity.as_str()),
        ("unit_minutes", unit_minutes.as_str()),
        ("day_hours", day_hours.as_str()),
        ("year_hours", year_hours.as_str()),
        ("points_per_hour", points_per_hour.as_str()),
        ("organiser_phone", organiser_phone.as_str()),
        ("geo_lat", geo_lat.as_str()),
        ("geo_lng", geo_lng.as_str()),
        ("geo_radius", geo_radius.as_str()),
    ];
    let parsed = (|| -> Result<backend::volunteer::NewActivity, ErrorCode> {
        Ok(backend::volunteer::NewActivity {
            community_id: community_id.trim().parse().map_err(|_| ErrorCode::InvalidInput)?,
            title: title.clone(),
            description: description.clone(),
            place: place.clone(),
            starts_at: parse_beijing_local(&starts_at).ok_or(ErrorCode::InvalidTime)?,
            ends_at: parse_beijing_local(&ends_at).ok_or(ErrorCode::InvalidTime)?,
            capacity: capacity.trim().parse().map_err(|_| ErrorCode::InvalidInput)?,
            rule: HoursRule::parse(&unit_minutes, &day_hours, &year_hours, &points_per_hour)?,
            geofence: Geofence::parse(&geo_lat, &geo_lng, &geo_radius)?,
            organiser_phone: organiser_phone.clone(),
        })
    })();
    let result = match parsed {
        Ok(new) => backend::volunteer::create(&state, &user, new).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(id) => {
            leptos_actix::redirect(&format!("/volunteer/{id}/organise?published=1"));
            Ok(())
        }
        Err(e) => Err(form_error(e, page, &keep)),
    }
}

#[server]
pub async fn cancel_activity(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::volunteer::cancel(&state, &user, id).await {
        Ok(()) => {
            leptos_actix::redirect("/staff/volunteer?cancelled=1");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/volunteer", &[])),
    }
}

#[server]
pub async fn add_honour_hours(phone: String, hours: String, reason: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let keep = [("honour_phone", phone.as_str()), ("hours", hours.as_str()), ("reason", reason.as_str())];
    match backend::volunteer::add_honour(&state, &user, &phone, &hours, &reason).await {
        Ok(()) => {
            leptos_actix::redirect(&format!(
                "/staff/volunteer?{}",
                query(&[("honoured", "1"), ("phone", phone.as_str())])
            ));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/volunteer", &keep)),
    }
}

#[server]
pub async fn approve_organiser(community_id: String, phone: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let result = match community_id.trim().parse::<i64>() {
        Ok(c) => backend::volunteer::approve_organiser(&state, &user, c, &phone).await,
        Err(_) => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(()) => {
            leptos_actix::redirect("/staff/volunteer?approved=1");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/volunteer", &[("organiser", phone.as_str())])),
    }
}

#[server]
pub async fn revoke_organiser(community_id: i64, user_id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::volunteer::revoke_organiser(&state, &user, community_id, user_id).await {
        Ok(()) => {
            leptos_actix::redirect("/staff/volunteer?revoked=1");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/volunteer", &[])),
    }
}

#[component]
fn OrganisersCard(lang: Lang, communities: Vec<(i64, String)>, organisers: Vec<OrganiserRow>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{t(lang, "志愿活动组织者", "Volunteer organisers")}</h2>
            <p class="meta">{t(lang, "经批准的居民可以自己发布志愿活动,并负责签到和确认时长。", "Approved residents may publish activities themselves and run check-in and hours.")}</p>
            <ul class="list">
                {organisers.into_iter().map(|o| view! {
                    <li>
                        <span class="title">{o.name.clone()}" "<span class="meta">{o.phone_masked.clone()}</span></span>
                        <span class="meta">{o.community.clone()}</span>
                        <form method="post" action=RevokeOrganiser::PATH class="inline-form">
                            <input type="hidden" name="community_id" value=o.community_id.to_string()/>
                            <input type="hidden" name="user_id" value=o.user_id.to_string()/>
                            <button type="submit">{t(lang, "取消资格", "Revoke")}</button>
                        </form>
                    </li>
                }).collect_view()}
            </ul>
            <form method="post" action=ApproveOrganiser::PATH class="stack">
                <label>{t(lang, "社区", "Community")}
                    <select name="community_id" required>
                        {communities.iter().map(|(id, name)| view! { <option value=id.to_string()>{name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>{t(lang, "居民手机号", "Resident's phone")}<input type="tel" name="phone" required maxlength="11" inputmode="numeric" value=q("organiser").unwrap_or_default()/></label>
                <button type="submit">{t(lang, "批准为组织者", "Approve as organiser")}</button>
            </form>
        </section>
    }
    .into_any()
}

#[component]
fn PublishForm(
    lang: Lang,
    communities: Vec<(i64, String)>,
    default_start: String,
    default_end: String,
    /// Staff name the organiser; an approved organiser runs it themselves.
    staff: bool,
) -> impl IntoView {
    let kept_c = q("community_id").and_then(|v| v.parse::<i64>().ok());
    let v = |k: &str, default: &str| q(k).unwrap_or_else(|| default.to_string());
    let d = (communities, default_start, default_end);
    view! {
        <section class="card wide-card">
            <h2>{t(lang, "发布志愿活动", "Publish an activity")}</h2>
            <form method="post" action=PublishActivity::PATH class="stack">
                <label>{t(lang, "社区", "Community")}
                    <select name="community_id" required>
                        {d.0.iter().map(|(id, name)| view! { <option value=id.to_string() selected=Some(*id) == kept_c>{name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>{t(lang, "活动名称", "Title")}<input type="text" name="title" required maxlength="60" value=v("title", "")/></label>
                <label>{t(lang, "活动说明", "Description")}<textarea name="description" maxlength="2000" rows="3">{v("description", "")}</textarea></label>
                <label>{t(lang, "地点", "Place")}<input type="text" name="place" required maxlength="100" value=v("place", "")/></label>
                <div class="row2">
                    <label>{t(lang, "开始(北京时间)", "Starts (Beijing)")}<input type="datetime-local" name="starts_at" required value=v("starts_at", &d.1)/></label>
                    <label>{t(lang, "结束(北京时间)", "Ends (Beijing)")}<input type="datetime-local" name="ends_at" required value=v("ends_at", &d.2)/></label>
                </div>
                <div class="row2">
                    <label>{t(lang, "名额", "Places")}<input type="text" name="capacity" required inputmode="numeric" maxlength="5" value=v("capacity", "20")/></label>
                    <label>{t(lang, "每小时积分", "Points per hour")}<input type="text" name="points_per_hour" required inputmode="numeric" maxlength="4" value=v("points_per_hour", "10")/></label>
                </div>
                <div class="row2">
                    <label>{t(lang, "计时单位(分钟)", "Unit (minutes)")}<input type="text" name="unit_minutes" required inputmode="numeric" maxlength="3" value=v("unit_minutes", "30")/></label>
                    <label>{t(lang, "每日上限(小时)", "Daily cap (hours)")}<input type="text" name="day_hours" required inputmode="numeric" maxlength="2" value=v("day_hours", "8")/></label>
                </div>
                <label>{t(lang, "每年上限(小时)", "Yearly cap (hours)")}<input type="text" name="year_hours" required inputmode="numeric" maxlength="4" value=v("year_hours", "600")/></label>
                {staff.then(|| view! { <label>{t(lang, "组织者手机号(留空则为本人;可填本社区居民)", "Organiser's phone (empty: you; or a resident of the community)")}<input type="tel" name="organiser_phone" maxlength="11" inputmode="numeric" value=v("organiser_phone", "")/></label> })}
                <fieldset>
                    <legend>{t(lang, "现场定位(可选,WGS-84)", "On-site location (optional, WGS-84)")}</legend>
                    <div class="row2">
                        <label>{t(lang, "纬度", "Latitude")}<input type="text" name="geo_lat" inputmode="decimal" maxlength="12" value=v("geo_lat", "")/></label>
                        <label>{t(lang, "经度", "Longitude")}<input type="text" name="geo_lng" inputmode="decimal" maxlength="12" value=v("geo_lng", "")/></label>
                    </div>
                    <label>{t(lang, "半径(米,20–2000)", "Radius (m, 20–2000)")}<input type="text" name="geo_radius" inputmode="numeric" maxlength="4" value=v("geo_radius", "")/></label>
                </fieldset>
                <button type="submit" class="primary">{t(lang, "发布", "Publish")}</button>
            </form>
        </section>
    }
    .into_any()
}

#[component]
pub fn StaffVolunteerPage() -> impl IntoView {
    let phone = q("phone");
    let data = Resource::new(move || phone.clone(), staff_volunteer);
    view! {
        <Page title=("志愿服务管理", "Volunteering") render=move |s: SessionInfo| {
            let lang = s.lang;
            let error = q("error").map(|c| code_text(&c, lang));
            view! {
                {q("cancelled").map(|_| view! { <p class="success" role="status">{t(lang, "活动已取消,已通知报名者。", "Cancelled; everyone signed up was told.")}</p> })}
                {q("approved").map(|_| view! { <p class="success" role="status">{t(lang, "已批准为组织者", "Approved as organiser")}</p> })}
                {q("revoked").map(|_| view! { <p class="success" role="status">{t(lang, "已取消组织者资格", "Organiser approval withdrawn")}</p> })}
                {q("honoured").map(|_| view! { <p class="success" role="status">{t(lang, "荣誉时长已记录(不计积分)。", "Honour hours recorded (no points).")}</p> })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let v = |k: &str, default: &str| q(k).unwrap_or_else(|| default.to_string());
                        view! {
                            <div class="console">
                                <section class="card wide-card">
                                    <h2>{t(lang, "志愿活动", "Activities")}</h2>
                                    {if d.activities.is_empty() { view! { <p class="empty">{t(lang, "还没有活动", "No activities yet")}</p> }.into_any() } else { view! {
                                        <ul class="list">
                                            {d.activities.iter().map(|a| view! {
                                                <li>
                                                    <span class="title"><a href=format!("/volunteer/{}/organise", a.id)>{a.title.clone()}</a>{a.cancelled.then(|| t(lang, "(已取消)", " (cancelled)"))}</span>
                                                    <span class="meta">{a.community.clone()}" · "<span class="nw">{a.starts_at.clone()}</span>" – "<span class="nw">{a.ends_at.clone()}</span>" · "{a.place.clone()}</span>
                                                    <span class="meta">{t(lang, "报名 ", "Signed up ")}{a.signed_up}" / "{a.capacity}{t(lang, " · 候补 ", " · waitlist ")}{a.waitlisted}{t(lang, " · 组织者 ", " · organiser ")}{a.organiser.clone()}</span>
                                                    {(!a.cancelled).then(|| view! {
                                                        <form method="post" action=CancelActivity::PATH class="inline-form">
                                                            <input type="hidden" name="id" value=a.id.to_string()/>
                                                            <button type="submit">{t(lang, "取消活动", "Cancel")}</button>
                                                        </form>
                                                    })}
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any() }}
                                </section>
                                <PublishForm lang=lang communities=d.communities.clone() default_start=d.default_start.clone() default_end=d.default_end.clone() staff=true/>
                                <OrganisersCard lang=lang communities=d.communities.clone() organisers=d.organisers.clone()/>
                                <section class="card">
                                    <h2>{t(lang, "记录荣誉时长", "Record honour hours")}</h2>
                                    <p class="meta">{t(lang, "荣誉时长计入志愿记录和证明,不折算积分。", "Honour hours appear on the record and certificate but earn no points.")}</p>
                                    <form method="post" action=AddHonourHours::PATH class="stack">
                                        <label>{t(lang, "居民手机号", "Resident's phone")}<input type="tel" name="phone" required maxlength="11" inputmode="numeric" value=v("honour_phone", "")/></label>
                                        <label>{t(lang, "时长(小时,可填 0.5 的倍数)", "Hours (in halves)")}<input type="text" name="hours" required inputmode="decimal" maxlength="4" value=v("hours", "")/></label>
                                        <label>{t(lang, "事由", "Reason")}<input type="text" name="reason" required maxlength="200" value=v("reason", "")/></label>
                                        <button type="submit">{t(lang, "记录", "Record")}</button>
                                    </form>
                                </section>
                                <section class="card">
                                    <h2>{t(lang, "查询志愿记录", "Look up a record")}</h2>
                                    <form method="get" action="/staff/volunteer" class="inline-form">
                                        <label class="sr-only" for="lookup-phone">{t(lang, "手机号", "Phone")}</label>
                                        <input type="tel" id="lookup-phone" name="phone" required maxlength="11" inputmode="numeric" placeholder=t(lang, "手机号", "Phone")/>
                                        <button type="submit">{t(lang, "查询", "Look up")}</button>
                                    </form>
                                    {d.person.clone().map(|(name, phone, r)| view! {
                                        <p><strong>{name}</strong>" "{phone}</p>
                                        <RecordView r=r lang=lang/>
                                    })}
                                </section>
                            </div>
                        }.into_any()
                    })}
                </Suspense>
            }
        }/>
    }
}
