//! 巡逻线路 pages for staff: routes per grid, checkpoints entered one by one
//! or imported from GeoJSON, and a printable sheet of checkpoint QR codes.
//! The grid worker's patrol mode builds on these (issue 4).
// a plain form's fields are a server function's arguments
#![allow(clippy::too_many_arguments)]

pub mod desk;
pub mod recorder;
mod staff;
mod track;
pub use staff::*;
pub use track::*;

use crate::i18n::{t, Lang};
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::patrol::{RouteView, SheetItem};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

fn q(k: &str) -> Option<String> {
    use_query_map().with_untracked(|m| m.get(k))
}

#[server]
pub async fn worker_patrol() -> Result<domain::patrol::WorkerHome, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::patrol::worker_home(&state, &user).await.map_err(app_err)
}

#[server]
pub async fn start_patrol(route: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let result = match route.trim() {
        "" => backend::patrol::start(&state, &user, None, None).await,
        r => match r.parse::<i64>() {
            Ok(r) => backend::patrol::start(&state, &user, Some(r), None).await,
            Err(_) => Err(domain::ErrorCode::InvalidInput.into()),
        },
    };
    match result {
        Ok(_) => {
            leptos_actix::redirect("/patrol?started=1");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/patrol", &[])),
    }
}

/// Pause, resume or end (plain form; with JavaScript the outbox sends it).
#[server]
pub async fn patrol_action(patrol: i64, what: String, cid: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_role(domain::Role::GridWorker, "/patrol")?;
    let result = match domain::patrol::Transition::parse(&what) {
        Some(t) if domain::patrol::valid_client_id(&cid) => {
            backend::patrol::transition_now(&state, &user, patrol, t, &format!("{cid}:{what}")).await
        }
        _ => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(_) => {
            leptos_actix::redirect(&format!("/patrol?{what}=1"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/patrol", &[])),
    }
}

/// A check-in from a plain form: judged now on the fixes already stored.
#[server]
pub async fn check_in_form(patrol: i64, checkpoint: i64, cid: String, qr: Option<String>) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let client_id = format!("{cid}:c{checkpoint}");
    match backend::patrol::checkin_now(&state, &user, patrol, checkpoint, qr.as_deref(), &client_id).await {
        Ok(v) => {
            leptos_actix::redirect(&format!(
                "/patrol?checked={}#cp{checkpoint}",
                if v.accepted { "ok" } else { "flagged" }
            ));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/patrol", &[])),
    }
}

#[server]
pub async fn add_device(device: String, label: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::patrol::register_device(&state, &user, Some(device.as_str()), &label).await {
        Ok(id) => {
            leptos_actix::redirect(&format!("/patrol?device={id}#devices"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/patrol", &[("device", device.as_str()), ("label", label.as_str())])),
    }
}

#[server]
pub async fn remove_device(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::patrol::remove_device(&state, &user, id).await.map_err(app_err)?;
    leptos_actix::redirect("/patrol#devices");
    Ok(())
}

fn state_badge(s: domain::patrol::PatrolState, lang: crate::i18n::Lang) -> impl IntoView {
    let class = match s {
        domain::patrol::PatrolState::Active => "tag ok",
        domain::patrol::PatrolState::Paused => "tag warn",
        domain::patrol::PatrolState::Ended => "tag",
    };
    view! { <span class=class>{s.label(lang.is_en())}</span> }
}

#[component]
fn CheckinLines(checkins: Vec<domain::patrol::CheckinView>, lang: crate::i18n::Lang) -> impl IntoView {
    view! {
        <ul class="evidence">
            {checkins
                .into_iter()
                .map(|c| {
                    view! {
                        <li class=if c.accepted { "ok" } else { "flag" }>
                            <strong>
                                <span class="nw">{c.at.clone()}</span>
                                " "
                                {if c.accepted {
                                    t(lang, "签到有效", "accepted")
                                } else {
                                    t(lang, "签到存疑", "flagged")
                                }}
                            </strong>
                            {c.evidence.iter().map(|e| view! { <span class="meta">{e.clone()}</span> }).collect_view()}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn OpenPatrol(h: domain::patrol::WorkerHome, lang: crate::i18n::Lang) -> impl IntoView {
    let Some(p) = h.open.clone() else { return ().into_any() };
    let paused = p.state == domain::patrol::PatrolState::Paused;
    let cid = h.form_id.clone();
    let done = h.checkpoints.iter().filter(|c| c.done()).count();
    let total = h.checkpoints.len();
    // the route for the recorder's guidance, and its sketch with the worker's dot
    let route: Vec<domain::patrol::guide::Waypoint> = h
        .checkpoints
        .iter()
        .map(|c| domain::patrol::guide::Waypoint {
            id: c.checkpoint.id,
            name: c.checkpoint.name.clone(),
            lat: c.checkpoint.lat,
            lng: c.checkpoint.lng,
            radius_m: c.checkpoint.radius_m,
            done: c.done(),
        })
        .collect();
    let ordered = h.routes.iter().any(|r| r.ordered && p.route.as_ref() == Some(&r.name));
    let map = (!route.is_empty()).then(|| {
        let cps: Vec<(domain::patrol::CheckpointView, bool)> =
            h.checkpoints.iter().map(|c| (c.checkpoint.clone(), c.done())).collect();
        domain::patrol::track_map(&[], &cps, &[], 360.0)
    });
    view! {
        <section class="card wide-card" id="patrol" data-patrol=p.id.to_string() data-state=p.state.as_str()>
            <h2>{p.route.clone().unwrap_or_else(|| p.grid.clone())}" "{state_badge(p.state, lang)}</h2>
            <p class="meta">{t(lang, "开始于 ", "Started ")}{p.started.clone()}" · "{p.grid.clone()}</p>
            <PlansToday plans=h.plans_today.clone() lang=lang />
            <recorder::PatrolRecorder
                patrol=p.id
                state=p.state
                lang=lang
                kept=p.kept
                last_fix=p.last_fix.clone()
                route=route
                ordered=ordered
                map=map.clone()
            />
            {map.map(|m| view! { <TrackSvg map=m lang=lang me=true /> })}
            <noscript>
                <p class="meta">
                    {t(
                        lang,
                        "浏览器未启用 JavaScript,无法记录手机轨迹;可在下方登记 GPS 记录器 App。",
                        "Without JavaScript this page cannot record a track; register a GPS logger app below.",
                    )}
                </p>
            </noscript>
            <div class="actions">
                <form method="post" action=PatrolAction::PATH data-outbox="event">
                    <input type="hidden" name="patrol" value=p.id.to_string() />
                    <input type="hidden" name="what" value=if paused { "resume" } else { "pause" } />
                    <input type="hidden" name="cid" value=cid.clone() />
                    <button type="submit">
                        {if paused { t(lang, "继续巡逻", "Resume") } else { t(lang, "暂停", "Pause") }}
                    </button>
                </form>
                <form
                    method="post"
                    action=PatrolAction::PATH
                    data-outbox="event"
                    data-confirm=t(lang, "确定结束本次巡逻?", "End this patrol?")
                >
                    <input type="hidden" name="patrol" value=p.id.to_string() />
                    <input type="hidden" name="what" value="end" />
                    <input type="hidden" name="cid" value=cid.clone() />
                    <button type="submit" class="danger">
                        {t(lang, "结束巡逻", "End patrol")}
                    </button>
                </form>
            </div>
            <h3 id="cp-tally">{t(lang, "点位签到 ", "Checkpoints ")}{done}" / "{total}</h3>
            <ol class="list plain checkpoints">
                {h
                    .checkpoints
                    .into_iter()
                    .map(|c| {
                        let cp = c.checkpoint.clone();
                        let is_done = c.done();
                        let flagged = !is_done && !c.checkins.is_empty();
                        // the next step in words: done, try again (and how), or check in
                        view! {
                            <li id=format!("cp{}", cp.id) class=if is_done { "done" } else { "" }>
                                <span class="title">
                                    {if is_done { "✓ " } else { "" }}{cp.name.clone()}
                                    {cp.requires_qr.then(|| t(lang, "(须扫码)", " (scan its QR code)"))}
                                </span>
                                <CheckinLines checkins=c.checkins.clone() lang=lang />
                                {if is_done {
                                    view! {
                                        <p class="success">
                                            {t(
                                                lang,
                                                "已签到,请前往下一个点位。",
                                                "Checked in. Go on to the next checkpoint.",
                                            )}
                                        </p>
                                    }
                                        .into_any()
                                } else {
                                    view! {
                                        {flagged
                                            .then(|| {
                                                view! {
                                                    <p class="notice">
                                                        {if cp.requires_qr {
                                                            t(
                                                                lang,
                                                                "签到未通过。请走到点位旁,扫描点位上的二维码后再签到一次。",
                                                                "Not accepted. Walk up to the checkpoint, scan the QR code posted there, then check in again.",
                                                            )
                                                        } else {
                                                            t(
                                                                lang,
                                                                "签到未通过。请走到点位旁,等手机定位稳定(约半分钟)后再签到一次。",
                                                                "Not accepted. Walk up to the checkpoint, let the phone's position settle (about half a minute), then check in again.",
                                                            )
                                                        }}
                                                    </p>
                                                }
                                            })}
                                        <form
                                            method="post"
                                            action=CheckInForm::PATH
                                            data-outbox="checkin"
                                            class="inline-form"
                                        >
                                            <input type="hidden" name="patrol" value=p.id.to_string() />
                                            <input type="hidden" name="checkpoint" value=cp.id.to_string() />
                                            <input type="hidden" name="cid" value=cid.clone() />
                                            <button type="submit" disabled=paused>
                                                {if flagged {
                                                    t(lang, "再次签到", "Check in again")
                                                } else {
                                                    t(lang, "在此签到", "Check in here")
                                                }}
                                            </button>
                                        </form>
                                    }
                                        .into_any()
                                }}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            <p>
                <a href=format!("/patrols/{}", p.id)>{t(lang, "查看轨迹", "View the track")}</a>
            </p>
        </section>
    }
    .into_any()
}

#[component]
fn PlansToday(plans: Vec<String>, lang: crate::i18n::Lang) -> impl IntoView {
    (!plans.is_empty()).then(|| {
        view! {
            <div class="plans-today">
                <h3>{t(lang, "今日巡逻计划", "Today's patrol plans")}</h3>
                <ul class="list plain">{plans.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                <p class="meta">
                    {t(
                        lang,
                        "须在时段内到各点位有效签到,计入到位率。",
                        "Check in at every checkpoint within the window; it counts towards presence (到位率).",
                    )}
                </p>
            </div>
        }
    })
}

#[component]
fn StartPatrol(h: domain::patrol::WorkerHome, lang: crate::i18n::Lang) -> impl IntoView {
    view! {
        <section class="card wide-card">
            <h2>{t(lang, "开始巡逻", "Start a patrol")}</h2>
            <PlansToday plans=h.plans_today.clone() lang=lang />
            <p class="meta">
                {t(
                    lang,
                    "开始后本页记录轨迹(请保持本页打开);开始和结束时需要网络,途中离线的记录会在恢复网络后补传。",
                    "Once started, this page records your track (keep it open). Starting needs the network; what is recorded offline is sent when you are back online.",
                )}
            </p>
            <ul class="list plain">
                {h
                    .routes
                    .into_iter()
                    .map(|r| {
                        view! {
                            <li>
                                <span class="title">{r.name.clone()}</span>
                                <span class="meta">
                                    {r.grid.clone()}" · "{r.checkpoints.len()}{t(lang, " 个点位", " checkpoints")}
                                    {r.ordered.then(|| t(lang, " · 按顺序", " · in order"))}
                                </span>
                                <form method="post" action=StartPatrol::PATH>
                                    <input type="hidden" name="route" value=r.id.to_string() />
                                    <button type="submit" class="primary">
                                        {t(lang, "按此线路开始", "Start on this route")}
                                    </button>
                                </form>
                            </li>
                        }
                    })
                    .collect_view()} <li>
                    <span class="title">{t(lang, "自由巡逻", "Free patrol")}</span>
                    <span class="meta">{t(lang, "不按线路,仅记录轨迹", "No route; the track only")}</span>
                    <form method="post" action=StartPatrol::PATH>
                        <input type="hidden" name="route" value="" />
                        <button type="submit">{t(lang, "开始", "Start")}</button>
                    </form>
                </li>
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn Devices(h: domain::patrol::WorkerHome, lang: crate::i18n::Lang) -> impl IntoView {
    view! {
        <section class="card wide-card" id="devices">
            <h2>{t(lang, "GPS 记录器 App", "GPS logger apps")}</h2>
            <p class="meta">
                {t(
                    lang,
                    "也可用 Traccar Client 或 OsmAnd 记录轨迹:服务器地址填 ",
                    "You may also record with Traccar Client or OsmAnd: set the server URL to ",
                )}<code>{h.osmand_url.clone()}</code>
                {t(
                    lang,
                    ",设备号填下面登记的号码。只在巡逻进行中才保存位置。",
                    " and the device id to one registered below. Positions are kept only while a patrol is under way.",
                )}
            </p>
            <ul class="list plain">
                {h
                    .devices
                    .into_iter()
                    .map(|(id, device, label)| {
                        view! {
                            <li>
                                <span class="title">{label}</span>
                                <span class="meta">
                                    <code>{device}</code>
                                </span>
                                <form method="post" action=RemoveDevice::PATH class="inline-form">
                                    <input type="hidden" name="id" value=id.to_string() />
                                    <button type="submit" class="link">
                                        {t(lang, "删除", "Remove")}
                                    </button>
                                </form>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <form method="post" action=AddDevice::PATH class="stack">
                <label>
                    {t(lang, "设备号(留空则自动生成)", "Device id (blank: generate one)")}
                    <input
                        type="text"
                        name="device"
                        maxlength="64"
                        autocomplete="off"
                        value=q("device").filter(|_| q("error").is_some()).unwrap_or_default()
                    />
                </label>
                <label>
                    {t(lang, "名称", "Label")}
                    <input type="text" name="label" maxlength="40" value=q("label").unwrap_or_default() />
                </label>
                <button type="submit">{t(lang, "登记设备", "Register")}</button>
            </form>
        </section>
    }
    .into_any()
}

#[component]
fn PatrolRows(rows: Vec<domain::patrol::PatrolRow>, lang: crate::i18n::Lang, staff: bool) -> impl IntoView {
    view! {
        <ul class="list patrols">
            {rows
                .into_iter()
                .map(|r| {
                    view! {
                        <li id=format!("p{}", r.id)>
                            <a href=format!("/patrols/{}", r.id)>
                                <span class="title">
                                    {staff.then(|| format!("{} · ", r.worker))}
                                    {r
                                        .route
                                        .clone()
                                        .unwrap_or_else(|| t(lang, "自由巡逻", "Free patrol").to_string())}" "
                                    {state_badge(r.state, lang)}
                                </span>
                                <span class="meta">
                                    {r.started.clone()}{r.ended.clone().map(|e| format!(" – {e}"))}" · "
                                    {r.grid.clone()}
                                </span>
                                <span class="meta">
                                    {t(lang, "轨迹点 ", "points ")}{r.kept}
                                    {(r.dropped > 0).then(|| format!(" (+{})", r.dropped))}" · "
                                    {checkpoint_tally(lang, &r)}
                                    <span class="live">
                                        {r
                                            .last_fix
                                            .clone()
                                            .map(|l| format!(" · {} {l}", t(lang, "最近定位", "last fix")))}
                                    </span>
                                </span>
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
pub fn WorkerPatrolPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| worker_patrol());
    view! {
        <Page
            title=("巡逻", "Patrol")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = q("error").map(|c| code_text(&c, lang));
                view! {
                    {q("started")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "巡逻已开始", "Patrol started")}
                                </p>
                            }
                        })}
                    {q("end")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "巡逻已结束", "Patrol ended")}
                                </p>
                            }
                        })}
                    {q("checked")
                        .map(|v| {
                            view! {
                                <p class=if v == "ok" { "success" } else { "error" } role="status">
                                    {if v == "ok" {
                                        t(lang, "签到有效", "Check-in accepted")
                                    } else {
                                        t(
                                            lang,
                                            "签到存疑,原因见点位下方",
                                            "Check-in flagged; see the reasons under the checkpoint",
                                        )
                                    }}
                                </p>
                            }
                        })}
                    {q("device")
                        .filter(|_| q("error").is_none())
                        .map(|d| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "设备已登记:", "Device registered: ")}
                                    <code>{d}</code>
                                </p>
                            }
                        })}
                    <FormError message=error />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let h = match data.await {
                                Ok(h) => h,
                                Err(e) => return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            };
                            let open = h.open.is_some();
                            let recent = h.recent.clone();
                            view! {
                                <div class="console">
                                    {if open {
                                        view! { <OpenPatrol h=h.clone() lang=lang /> }.into_any()
                                    } else {
                                        view! { <StartPatrol h=h.clone() lang=lang /> }.into_any()
                                    }} <section class="card">
                                        <h2>{t(lang, "最近巡逻", "Recent patrols")}</h2>
                                        <PatrolRows rows=recent lang=lang staff=false />
                                    </section> <Devices h=h lang=lang />
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

// ------------------------------------------------------------------ QR scan at a checkpoint

#[server]
pub async fn qr_checkpoint(token: String) -> Result<(i64, i64, String, String), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::patrol::checkpoint_by_token(&state, &user, &token).await.map_err(app_err)
}

/// What a printed checkpoint QR code opens: check in here, with the code.
#[component]
pub fn QrCheckinPage() -> impl IntoView {
    let token = use_params_map().with_untracked(|m| m.get("token")).unwrap_or_default();
    let data = Resource::new(move || token.clone(), qr_checkpoint);
    let token = use_params_map().with_untracked(|m| m.get("token")).unwrap_or_default();
    view! {
        <Page
            title=("点位签到", "Checkpoint check-in")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let token = token.clone();
                view! {
                    <Suspense fallback=|| ()>
                        {move || {
                            let token = token.clone();
                            Suspend::new(async move {
                                let (patrol, cp, name, cid) = match data.await {
                                    Ok(d) => d,
                                    Err(e) => {
                                        return view! {
                                            <FormError message=Some(error_text(&e, lang)) />
                                            <p>
                                                <a href="/patrol">{t(lang, "回到巡逻", "Back to the patrol")}</a>
                                            </p>
                                        }
                                            .into_any();
                                    }
                                };
                                view! {
                                    <section
                                        class="card narrow"
                                        id="patrol"
                                        data-patrol=patrol.to_string()
                                        data-state="active"
                                    >
                                        <h2>{name}</h2>
                                        <p>
                                            {t(
                                                lang,
                                                "已扫描点位二维码。请在点位旁点击签到。",
                                                "You scanned the checkpoint's code. Tap to check in while you are there.",
                                            )}
                                        </p>
                                        <form method="post" action=CheckInForm::PATH data-outbox="checkin">
                                            <input type="hidden" name="patrol" value=patrol.to_string() />
                                            <input type="hidden" name="checkpoint" value=cp.to_string() />
                                            <input type="hidden" name="cid" value=cid />
                                            <input type="hidden" name="qr" value=token.clone() />
                                            <button type="submit" class="primary">
                                                {t(lang, "签到", "Check in")}
                                            </button>
                                        </form>
                                        <recorder::PatrolRecorder
                                            patrol=patrol
                                            state=domain::patrol::PatrolState::Active
                                            lang=lang
                                            kept=0
                                            last_fix=None
                                            route=vec![]
                                            ordered=false
                                            map=None
                                        />
                                    </section>
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

// ------------------------------------------------------------------ a patrol's track
