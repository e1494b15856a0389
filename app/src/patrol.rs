//! 巡逻线路 pages for staff: routes per grid, checkpoints entered one by one
//! or imported from GeoJSON, and a printable sheet of checkpoint QR codes.
//! The grid worker's patrol mode builds on these (issue 4).
// a plain form's fields are a server function's arguments
#![allow(clippy::too_many_arguments)]

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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatrolData {
    pub grids: Vec<(i64, String)>,
    pub routes: Vec<RouteView>,
    /// Grid workers of those grids: (user, grid, name).
    pub workers: Vec<(i64, i64, String)>,
    /// Grids with an outline set.
    pub outlined: Vec<i64>,
    /// Today (Beijing), the default first day of a new plan.
    pub today: String,
    /// The GeoJSON of a refused import, to fill the box again.
    pub geojson: String,
    /// The GeoJSON of a refused outline, likewise.
    pub outline_text: String,
}

#[server]
pub async fn staff_patrol(draft: Option<String>, outline_draft: Option<String>) -> Result<PatrolData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let grids = backend::patrol::grids_of(&state, &user).await.map_err(app_err)?;
    let routes = backend::patrol::routes(&state, &user).await.map_err(app_err)?;
    let ids: Vec<i64> = grids.iter().map(|(id, _)| *id).collect();
    let workers = backend::patrol::grid_workers(&state, &ids).await.map_err(app_err)?;
    let outlined =
        backend::patrol::outlines(&state, &ids).await.map_err(app_err)?.into_iter().map(|(id, _)| id).collect();
    let today = backend::figures::today().format("%Y-%m-%d").to_string();
    let geojson = match draft {
        Some(k) => state.flash.get(&k, Some(user.id)).await.into_iter().find(|(k, _)| k == "geojson").map(|(_, v)| v),
        None => None,
    };
    let outline_text = match outline_draft {
        Some(k) => state.flash.get(&k, Some(user.id)).await.into_iter().find(|(k, _)| k == "geojson").map(|(_, v)| v),
        None => None,
    };
    Ok(PatrolData {
        grids,
        routes,
        workers,
        outlined,
        today,
        geojson: geojson.unwrap_or_default(),
        outline_text: outline_text.unwrap_or_default(),
    })
}

/// Staff set a patrol plan on a route (plain form; the days are seven checkboxes).
#[server]
pub async fn add_plan(
    route: i64,
    worker: String,
    d1: Option<String>,
    d2: Option<String>,
    d3: Option<String>,
    d4: Option<String>,
    d5: Option<String>,
    d6: Option<String>,
    d7: Option<String>,
    start: String,
    end: String,
    from: String,
    until: String,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_staff("/staff/patrol")?;
    let days = crate::layout::ticked_days([d1, d2, d3, d4, d5, d6, d7]);
    let result =
        match (worker.trim().parse::<i64>(), domain::figures::PlanRule::parse(&days, &start, &end, &from, &until)) {
            (Ok(w), Ok(rule)) => backend::patrol::add_plan(&state, &user, route, w, rule).await,
            (Err(_), _) => Err(domain::ErrorCode::InvalidInput.into()),
            (_, Err(e)) => Err(e.into()),
        };
    match result {
        Ok(_) => {
            leptos_actix::redirect(&format!("/staff/patrol?planned=1#r{route}"));
            Ok(())
        }
        Err(e) => {
            let r = route.to_string();
            let days = days.join(",");
            Err(form_error(
                e,
                "/staff/patrol",
                &[
                    ("route", r.as_str()),
                    ("worker", worker.as_str()),
                    ("days", days.as_str()),
                    ("start", start.as_str()),
                    ("end", end.as_str()),
                    ("from", from.as_str()),
                    ("until", until.as_str()),
                ],
            ))
        }
    }
}

#[server]
pub async fn end_plan(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::patrol::end_plan(&state, &user, id).await {
        Ok(route) => {
            leptos_actix::redirect(&format!("/staff/patrol?plan_ended=1#r{route}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/patrol", &[])),
    }
}

/// Staff set or clear a grid's outline (GeoJSON Polygon).
#[server]
pub async fn set_outline(grid: String, geojson: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let result = match grid.trim().parse::<i64>() {
        Ok(g) => backend::patrol::set_outline(&state, &user, g, &geojson).await,
        Err(_) => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(()) => {
            leptos_actix::redirect("/staff/patrol?outline=1#outlines");
            Ok(())
        }
        Err(e) => {
            let key = state.flash.put(Some(user.id), vec![("geojson".into(), geojson)]).await;
            Err(form_error(e, "/staff/patrol", &[("grid", grid.as_str()), ("outline_draft", key.as_str())]))
        }
    }
}

#[server]
pub async fn create_route(grid_id: String, name: String, ordered: Option<String>) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let ordered = ordered.is_some_and(|o| !o.is_empty());
    let result = match grid_id.trim().parse::<i64>() {
        Ok(g) => backend::patrol::create_route(&state, &user, g, &name, ordered).await,
        Err(_) => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(id) => {
            leptos_actix::redirect(&format!("/staff/patrol?created=1#r{id}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/patrol", &[("route_name", name.as_str())])),
    }
}

#[server]
pub async fn add_checkpoint(
    route: i64,
    name: String,
    lat: String,
    lng: String,
    radius: String,
    qr: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_staff("/staff/patrol")?;
    let qr = qr.is_some_and(|v| !v.is_empty());
    let result = match domain::patrol::NewCheckpoint::parse(&name, &lat, &lng, &radius, qr) {
        Ok(c) => backend::patrol::add_checkpoint(&state, &user, route, c).await,
        Err(e) => Err(e.into()),
    };
    let r = route.to_string();
    match result {
        Ok(_) => {
            leptos_actix::redirect(&format!("/staff/patrol?added=1#r{route}"));
            Ok(())
        }
        Err(e) => Err(form_error(
            e,
            "/staff/patrol",
            &[
                ("route", r.as_str()),
                ("name", name.as_str()),
                ("lat", lat.as_str()),
                ("lng", lng.as_str()),
                ("radius", radius.as_str()),
            ],
        )),
    }
}

#[server]
pub async fn import_checkpoints(route: i64, geojson: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::patrol::import_geojson(&state, &user, route, &geojson).await {
        Ok(n) => {
            leptos_actix::redirect(&format!("/staff/patrol?imported={n}#r{route}"));
            Ok(())
        }
        Err(e) => {
            // up to 200 KB does not fit a redirect: kept server-side for ten minutes
            let key = state.flash.put(Some(user.id), vec![("geojson".into(), geojson)]).await;
            let r = route.to_string();
            Err(form_error(e, "/staff/patrol", &[("route", r.as_str()), ("draft", key.as_str())]))
        }
    }
}

#[server]
pub async fn remove_checkpoint(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::patrol::remove_checkpoint(&state, &user, id).await {
        Ok(route) => {
            leptos_actix::redirect(&format!("/staff/patrol?removed=1#r{route}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/patrol", &[])),
    }
}

#[component]
fn Plans(r: RouteView, workers: Vec<(i64, i64, String)>, today: String, lang: crate::i18n::Lang) -> impl IntoView {
    let id = r.id;
    let kept = q("route").and_then(|v| v.parse::<i64>().ok()) == Some(id) && q("start").is_some();
    let keep = move |k: &str| if kept { q(k).unwrap_or_default() } else { String::new() };
    let days: Vec<String> = if kept { keep("days").split(',').map(str::to_string).collect() } else { vec![] };
    let mine: Vec<(i64, String)> = workers.into_iter().filter(|w| w.1 == r.grid_id).map(|w| (w.0, w.2)).collect();
    let chosen = keep("worker");
    let en = lang.is_en();
    view! {
        <h3>{t(lang, "巡逻计划", "Patrol plans")}</h3>
        {r.plans.is_empty().then(|| view! { <p class="meta">{t(lang, "尚无计划;到位率按计划要求的点位签到计算。", "No plans yet; presence (到位率) counts the check-ins plans require.")}</p> })}
        <ul class="list plain plans">
            {r.plans.iter().map(|p| view! {
                <li class=if p.ended { "ended" } else { "" }>
                    <span class="title">{p.worker.clone()}" · "{p.rule.describe(en)}</span>
                    <span class="meta">
                        {p.rule.from.format("%Y-%m-%d").to_string()}" – "{p.rule.until.map(|u| u.format("%Y-%m-%d").to_string()).unwrap_or_else(|| t(lang, "长期", "open-ended").to_string())}
                        {p.ended.then(|| t(lang, " · 已结束", " · ended"))}
                    </span>
                    {(!p.ended).then(|| view! {
                        <form method="post" action=EndPlan::PATH class="inline-form">
                            <input type="hidden" name="id" value=p.id.to_string()/>
                            <button type="submit" class="link">{t(lang, "结束计划", "End plan")}</button>
                        </form>
                    })}
                </li>
            }).collect_view()}
        </ul>
        <details open=kept>
            <summary>{t(lang, "新建计划", "New plan")}</summary>
            <form method="post" action=AddPlan::PATH class="stack plan-form">
                <input type="hidden" name="route" value=id.to_string()/>
                <label>{t(lang, "网格员", "Grid worker")}
                    <select name="worker" required>
                        {mine.into_iter().map(|(w, name)| {
                            let sel = chosen == w.to_string();
                            view! { <option value=w.to_string() selected=sel>{name}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <fieldset class="days">
                    <legend>{t(lang, "巡逻日", "Days")}</legend>
                    {(1u8..=7).map(|d| {
                        let checked = if kept { days.iter().any(|x| x == &d.to_string()) } else { d <= 5 };
                        view! { <label class="check"><input type="checkbox" name=format!("d{d}") value="1" checked=checked/><span>{domain::appointment::weekday_name(d, en)}</span></label> }
                    }).collect_view()}
                </fieldset>
                // the error of this form, here beside its fields rather than atop the page
                {kept.then(|| q("error").map(|c| view! { <FormError message=Some(code_text(&c, lang))/> }))}
                <div class="row2">
                    <label>{t(lang, "开始(时:分)", "From (HH:MM)")}<input type="time" name="start" required value=if kept { keep("start") } else { "08:00".into() }/></label>
                    <label>{t(lang, "结束(时:分)", "Until (HH:MM)")}<input type="time" name="end" required value=if kept { keep("end") } else { "10:00".into() }/></label>
                </div>
                <p class="meta">{t(lang, "时段至少 10 分钟;到位率按时段内在各点位的有效签到计算。", "The window is at least 10 minutes; presence counts valid check-ins at every checkpoint within it.")}</p>
                <div class="row2">
                    <label>{t(lang, "生效日期", "First day")}<input type="date" name="from" required value=if kept { keep("from") } else { today.clone() }/></label>
                    <label>{t(lang, "截止日期(可空)", "Last day (optional)")}<input type="date" name="until" value=keep("until")/></label>
                </div>
                <button type="submit">{t(lang, "保存计划", "Save plan")}</button>
            </form>
        </details>
    }
    .into_any()
}

#[component]
fn RouteCard(
    r: RouteView,
    lang: crate::i18n::Lang,
    #[prop(optional)] geojson: String,
    #[prop(optional)] workers: Vec<(i64, i64, String)>,
    #[prop(optional)] today: String,
) -> impl IntoView {
    let id = r.id;
    let kept = q("route").and_then(|v| v.parse::<i64>().ok()) == Some(id) && q("start").is_none();
    let keep = move |k: &str| if kept { q(k).unwrap_or_default() } else { String::new() };
    let qr_count = r.checkpoints.iter().filter(|c| c.requires_qr).count();
    view! {
        <section class="card wide-card route" id=format!("r{id}")>
            <h2>{r.name.clone()}</h2>
            <p class="meta">{r.grid.clone()}" · "{if r.ordered { t(lang, "按顺序巡查", "Visit in order") } else { t(lang, "不限顺序", "Any order") }}" · "{r.checkpoints.len()}{t(lang, " 个点位", " checkpoints")}</p>
            <ol class="list checkpoints">
                {r.checkpoints.iter().map(|c| view! {
                    <li>
                        <span class="title">{c.name.clone()}{c.requires_qr.then(|| t(lang, "(扫码)", " (QR)"))}</span>
                        <span class="meta">{format!("{:.6}, {:.6} · ", c.lat, c.lng)}{t(lang, "半径 ", "radius ")}{c.radius_m}" m"</span>
                        <form method="post" action=RemoveCheckpoint::PATH class="inline-form">
                            <input type="hidden" name="id" value=c.id.to_string()/>
                            <button type="submit" class="link">{t(lang, "删除", "Remove")}</button>
                        </form>
                    </li>
                }).collect_view()}
            </ol>
            {(qr_count > 0).then(|| view! { <p><a class="button" href=format!("/staff/patrol/routes/{id}/sheet")>{t(lang, "打印点位二维码", "Print checkpoint QR codes")}</a></p> })}
            <Plans r=r.clone() workers=workers today=today lang=lang/>
            <details open=kept>
                <summary>{t(lang, "添加点位", "Add a checkpoint")}</summary>
                <form method="post" action=AddCheckpoint::PATH class="stack">
                    <input type="hidden" name="route" value=id.to_string()/>
                    <label>{t(lang, "名称", "Name")}<input type="text" name="name" required maxlength="60" value=keep("name")/></label>
                    <div class="row2">
                        <label>{t(lang, "纬度(WGS-84)", "Latitude (WGS-84)")}<input type="text" name="lat" required inputmode="decimal" maxlength="12" value=keep("lat")/></label>
                        <label>{t(lang, "经度(WGS-84)", "Longitude (WGS-84)")}<input type="text" name="lng" required inputmode="decimal" maxlength="12" value=keep("lng")/></label>
                    </div>
                    <label>{t(lang, "半径(米,默认 30)", "Radius (m, default 30)")}<input type="text" name="radius" inputmode="numeric" maxlength="3" value=keep("radius")/></label>
                    <label class="check"><input type="checkbox" name="qr" value="1"/><span>{t(lang, "须扫点位二维码", "Needs its QR code scanned")}</span></label>
                    <button type="submit">{t(lang, "添加", "Add")}</button>
                </form>
            </details>
            <details open=kept && !geojson.is_empty()>
                <summary>{t(lang, "从 GeoJSON 导入", "Import from GeoJSON")}</summary>
                <form method="post" action=ImportCheckpoints::PATH class="stack">
                    <input type="hidden" name="route" value=id.to_string()/>
                    <label>{t(lang, "GeoJSON(点要素,properties 含 name,可选 radius、qr)", "GeoJSON (Point features with properties.name; radius and qr optional)")}
                        <textarea name="geojson" required rows="6" maxlength="200000">{if kept { geojson.clone() } else { String::new() }}</textarea>
                    </label>
                    <button type="submit">{t(lang, "导入", "Import")}</button>
                </form>
            </details>
        </section>
    }
    .into_any()
}

#[component]
pub fn StaffPatrolPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| staff_patrol(q("draft"), q("outline_draft")));
    view! {
        <Page title=("巡逻线路", "Patrol routes") render=move |s: SessionInfo| {
            let lang = s.lang;
            // a plan form's error is shown in that form (see `Plans`)
            let plan_form = q("route").is_some() && q("start").is_some();
            let error = q("error").filter(|_| !plan_form).map(|c| code_text(&c, lang));
            view! {
                {q("created").map(|_| view! { <p class="success" role="status">{t(lang, "线路已创建", "Route created")}</p> })}
                {q("added").map(|_| view! { <p class="success" role="status">{t(lang, "点位已添加", "Checkpoint added")}</p> })}
                {q("imported").map(|n| view! { <p class="success" role="status">{t(lang, "已导入 ", "Imported ")}{n}{t(lang, " 个点位", " checkpoints")}</p> })}
                {q("removed").map(|_| view! { <p class="success" role="status">{t(lang, "点位已删除", "Checkpoint removed")}</p> })}
                {q("planned").map(|_| view! { <p class="success" role="status">{t(lang, "巡逻计划已保存", "Plan saved")}</p> })}
                {q("plan_ended").map(|_| view! { <p class="success" role="status">{t(lang, "计划已结束", "Plan ended")}</p> })}
                {q("outline").map(|_| view! { <p class="success" role="status">{t(lang, "网格边界已保存", "Grid outline saved")}</p> })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        view! {
                            <div class="console">
                                {d.routes.clone().into_iter().map(|r| view! { <RouteCard r=r lang=lang geojson=d.geojson.clone() workers=d.workers.clone() today=d.today.clone()/> }).collect_view()}
                                <Outlines d=d.clone() lang=lang/>
                                <section class="card">
                                    <h2>{t(lang, "新建线路", "New route")}</h2>
                                    <form method="post" action=CreateRoute::PATH class="stack">
                                        <label>{t(lang, "网格", "Grid")}
                                            <select name="grid_id" required>
                                                {d.grids.iter().map(|(id, name)| view! { <option value=id.to_string()>{name.clone()}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label>{t(lang, "线路名称", "Name")}<input type="text" name="name" required maxlength="60" value=q("route_name").unwrap_or_default()/></label>
                                        <label class="check"><input type="checkbox" name="ordered" value="1"/><span>{t(lang, "须按顺序巡查", "Checkpoints in order")}</span></label>
                                        <button type="submit" class="primary">{t(lang, "创建", "Create")}</button>
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

#[component]
fn Outlines(d: PatrolData, lang: crate::i18n::Lang) -> impl IntoView {
    let kept = q("outline_draft").is_some();
    let chosen = q("grid").unwrap_or_default();
    let text = if kept { d.outline_text.clone() } else { String::new() };
    view! {
        <section class="card" id="outlines">
            <h2>{t(lang, "网格边界", "Grid outlines")}</h2>
            <p class="meta">{t(lang, "边界画在巡逻轨迹图和实时位置图上。已设置:", "Outlines are drawn on the track and live sketches. Set: ")}
                {d.grids.iter().filter(|(id, _)| d.outlined.contains(id)).map(|(_, n)| n.clone()).collect::<Vec<_>>().join("、")}
                {d.outlined.is_empty().then(|| t(lang, "无", "none"))}
            </p>
            <form method="post" action=SetOutline::PATH class="stack">
                <label>{t(lang, "网格", "Grid")}
                    <select name="grid" required>
                        {d.grids.iter().map(|(id, name)| {
                            let sel = chosen == id.to_string();
                            view! { <option value=id.to_string() selected=sel>{name.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>{t(lang, "GeoJSON 面(Polygon,WGS-84;留空则清除)", "GeoJSON Polygon (WGS-84; empty clears it)")}
                    <textarea name="geojson" rows="5" maxlength="200000">{text}</textarea>
                </label>
                <button type="submit">{t(lang, "保存边界", "Save outline")}</button>
            </form>
        </section>
    }
    .into_any()
}

#[server]
pub async fn route_sheet(id: i64) -> Result<(RouteView, Vec<SheetItem>), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::patrol::sheet(&state, &user, id).await.map_err(app_err)
}

#[component]
pub fn RouteSheetPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|m| m.get("id")).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let data = Resource::new(move || id, route_sheet);
    view! {
        <Page title=("点位二维码", "Checkpoint QR codes") render=move |s: SessionInfo| {
            let lang = s.lang;
            view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let (r, items) = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        view! {
                            <h2>{r.grid.clone()}" · "{r.name.clone()}</h2>
                            <div class="qr-sheet">
                                {items.into_iter().map(|i| view! {
                                    <figure class="qr-tile">
                                        <div class="qr-img" inner_html=i.svg.clone()></div>
                                        <figcaption><strong>{i.seq}". "{i.name.clone()}</strong><br/>{t(lang, "网格员巡逻签到请扫码", "Grid workers: scan to check in")}</figcaption>
                                    </figure>
                                }).collect_view()}
                            </div>
                        }.into_any()
                    })}
                </Suspense>
            }
        }/>
    }
}

// ------------------------------------------------------------------ the grid worker

#[server]
pub async fn worker_patrol() -> Result<domain::patrol::WorkerHome, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::tracking::worker_home(&state, &user).await.map_err(app_err)
}

#[server]
pub async fn start_patrol(route: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let result = match route.trim() {
        "" => backend::tracking::start(&state, &user, None, None).await,
        r => match r.parse::<i64>() {
            Ok(r) => backend::tracking::start(&state, &user, Some(r), None).await,
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
            backend::tracking::transition_now(&state, &user, patrol, t, &format!("{cid}:{what}")).await
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
    match backend::tracking::checkin_now(&state, &user, patrol, checkpoint, qr.as_deref(), &client_id).await {
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
    match backend::tracking::register_device(&state, &user, Some(device.as_str()), &label).await {
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
    backend::tracking::remove_device(&state, &user, id).await.map_err(app_err)?;
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
            {checkins.into_iter().map(|c| view! {
                <li class=if c.accepted { "ok" } else { "flag" }>
                    <strong><span class="nw">{c.at.clone()}</span>" "{if c.accepted { t(lang, "签到有效", "accepted") } else { t(lang, "签到存疑", "flagged") }}</strong>
                    {c.evidence.iter().map(|e| view! { <span class="meta">{e.clone()}</span> }).collect_view()}
                </li>
            }).collect_view()}
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
    view! {
        <section class="card wide-card" id="patrol" data-patrol=p.id.to_string() data-state=p.state.as_str()>
            <h2>{p.route.clone().unwrap_or_else(|| p.grid.clone())}" "{state_badge(p.state, lang)}</h2>
            <p class="meta">{t(lang, "开始于 ", "Started ")}{p.started.clone()}" · "{p.grid.clone()}</p>
            <PlansToday plans=h.plans_today.clone() lang=lang/>
            <p id="rec" class="rec" role="status" aria-live="polite">
                {t(lang, "已记录轨迹点 ", "Track points: ")}{p.kept}
                {p.last_fix.clone().map(|l| view! { <span>{t(lang, ",最近 ", ", last ")}{l}</span> })}
            </p>
            <noscript><p class="meta">{t(lang, "浏览器未启用 JavaScript,无法记录手机轨迹;可在下方登记 GPS 记录器 App。", "Without JavaScript this page cannot record a track; register a GPS logger app below.")}</p></noscript>
            <div class="actions">
                <form method="post" action=PatrolAction::PATH data-outbox="event">
                    <input type="hidden" name="patrol" value=p.id.to_string()/>
                    <input type="hidden" name="what" value=if paused { "resume" } else { "pause" }/>
                    <input type="hidden" name="cid" value=cid.clone()/>
                    <button type="submit">{if paused { t(lang, "继续巡逻", "Resume") } else { t(lang, "暂停", "Pause") }}</button>
                </form>
                <form method="post" action=PatrolAction::PATH data-outbox="event" data-confirm=t(lang, "确定结束本次巡逻?", "End this patrol?")>
                    <input type="hidden" name="patrol" value=p.id.to_string()/>
                    <input type="hidden" name="what" value="end"/>
                    <input type="hidden" name="cid" value=cid.clone()/>
                    <button type="submit" class="danger">{t(lang, "结束巡逻", "End patrol")}</button>
                </form>
            </div>
            <h3>{t(lang, "点位签到 ", "Checkpoints ")}{done}" / "{total}</h3>
            <ol class="list plain checkpoints">
                {h.checkpoints.into_iter().map(|c| {
                    let cp = c.checkpoint.clone();
                    let is_done = c.done();
                    // the next step in words: done, try again (and how), or check in
                    let flagged = !is_done && !c.checkins.is_empty();
                    view! {
                        <li id=format!("cp{}", cp.id) class=if is_done { "done" } else { "" }>
                            <span class="title">{if is_done { "✓ " } else { "" }}{cp.name.clone()}{cp.requires_qr.then(|| t(lang, "(须扫码)", " (scan its QR code)"))}</span>
                            <CheckinLines checkins=c.checkins.clone() lang=lang/>
                            {if is_done {
                                view! { <p class="success">{t(lang, "已签到,请前往下一个点位。", "Checked in. Go on to the next checkpoint.")}</p> }.into_any()
                            } else {
                                view! {
                                    {flagged.then(|| view! {
                                        <p class="notice">{if cp.requires_qr {
                                            t(lang, "签到未通过。请走到点位旁,扫描点位上的二维码后再签到一次。", "Not accepted. Walk up to the checkpoint, scan the QR code posted there, then check in again.")
                                        } else {
                                            t(lang, "签到未通过。请走到点位旁,等手机定位稳定(约半分钟)后再签到一次。", "Not accepted. Walk up to the checkpoint, let the phone's position settle (about half a minute), then check in again.")
                                        }}</p>
                                    })}
                                    <form method="post" action=CheckInForm::PATH data-outbox="checkin" class="inline-form">
                                        <input type="hidden" name="patrol" value=p.id.to_string()/>
                                        <input type="hidden" name="checkpoint" value=cp.id.to_string()/>
                                        <input type="hidden" name="cid" value=cid.clone()/>
                                        <button type="submit" disabled=paused>{if flagged { t(lang, "再次签到", "Check in again") } else { t(lang, "在此签到", "Check in here") }}</button>
                                    </form>
                                }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ol>
            <p><a href=format!("/patrols/{}", p.id)>{t(lang, "查看轨迹", "View the track")}</a></p>
        </section>
    }
    .into_any()
}

#[component]
fn PlansToday(plans: Vec<String>, lang: crate::i18n::Lang) -> impl IntoView {
    (!plans.is_empty()).then(|| view! {
        <div class="plans-today">
            <h3>{t(lang, "今日巡逻计划", "Today's patrol plans")}</h3>
            <ul class="list plain">{plans.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            <p class="meta">{t(lang, "须在时段内到各点位有效签到,计入到位率。", "Check in at every checkpoint within the window; it counts towards presence (到位率).")}</p>
        </div>
    })
}

#[component]
fn StartPatrol(h: domain::patrol::WorkerHome, lang: crate::i18n::Lang) -> impl IntoView {
    view! {
        <section class="card wide-card">
            <h2>{t(lang, "开始巡逻", "Start a patrol")}</h2>
            <PlansToday plans=h.plans_today.clone() lang=lang/>
            <p class="meta">{t(lang, "开始后本页记录轨迹(请保持本页打开);开始和结束时需要网络,途中离线的记录会在恢复网络后补传。", "Once started, this page records your track (keep it open). Starting needs the network; what is recorded offline is sent when you are back online.")}</p>
            <ul class="list plain">
                {h.routes.into_iter().map(|r| view! {
                    <li>
                        <span class="title">{r.name.clone()}</span>
                        <span class="meta">{r.grid.clone()}" · "{r.checkpoints.len()}{t(lang, " 个点位", " checkpoints")}{r.ordered.then(|| t(lang, " · 按顺序", " · in order"))}</span>
                        <form method="post" action=StartPatrol::PATH>
                            <input type="hidden" name="route" value=r.id.to_string()/>
                            <button type="submit" class="primary">{t(lang, "按此线路开始", "Start on this route")}</button>
                        </form>
                    </li>
                }).collect_view()}
                <li>
                    <span class="title">{t(lang, "自由巡逻", "Free patrol")}</span>
                    <span class="meta">{t(lang, "不按线路,仅记录轨迹", "No route; the track only")}</span>
                    <form method="post" action=StartPatrol::PATH>
                        <input type="hidden" name="route" value=""/>
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
            <p class="meta">{t(lang, "也可用 Traccar Client 或 OsmAnd 记录轨迹:服务器地址填 ", "You may also record with Traccar Client or OsmAnd: set the server URL to ")}<code>{h.osmand_url.clone()}</code>{t(lang, ",设备号填下面登记的号码。只在巡逻进行中才保存位置。", " and the device id to one registered below. Positions are kept only while a patrol is under way.")}</p>
            <ul class="list plain">
                {h.devices.into_iter().map(|(id, device, label)| view! {
                    <li>
                        <span class="title">{label}</span>
                        <span class="meta"><code>{device}</code></span>
                        <form method="post" action=RemoveDevice::PATH class="inline-form">
                            <input type="hidden" name="id" value=id.to_string()/>
                            <button type="submit" class="link">{t(lang, "删除", "Remove")}</button>
                        </form>
                    </li>
                }).collect_view()}
            </ul>
            <form method="post" action=AddDevice::PATH class="stack">
                <label>{t(lang, "设备号(留空则自动生成)", "Device id (blank: generate one)")}<input type="text" name="device" maxlength="64" autocomplete="off" value=q("device").filter(|_| q("error").is_some()).unwrap_or_default()/></label>
                <label>{t(lang, "名称", "Label")}<input type="text" name="label" maxlength="40" value=q("label").unwrap_or_default()/></label>
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
            {rows.into_iter().map(|r| view! {
                <li id=format!("p{}", r.id)>
                    <a href=format!("/patrols/{}", r.id)>
                        <span class="title">{staff.then(|| format!("{} · ", r.worker))}{r.route.clone().unwrap_or_else(|| t(lang, "自由巡逻", "Free patrol").to_string())}" "{state_badge(r.state, lang)}</span>
                        <span class="meta">{r.started.clone()}{r.ended.clone().map(|e| format!(" – {e}"))}" · "{r.grid.clone()}</span>
                        <span class="meta">{t(lang, "轨迹点 ", "points ")}{r.kept}{(r.dropped > 0).then(|| format!(" (+{})", r.dropped))}" · "{checkpoint_tally(lang, &r)}<span class="live">{r.last_fix.clone().map(|l| format!(" · {} {l}", t(lang, "最近定位", "last fix")))}</span></span>
                    </a>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
pub fn WorkerPatrolPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| worker_patrol());
    view! {
        <Page title=("巡逻", "Patrol") render=move |s: SessionInfo| {
            let lang = s.lang;
            let error = q("error").map(|c| code_text(&c, lang));
            view! {
                {q("started").map(|_| view! { <p class="success" role="status">{t(lang, "巡逻已开始", "Patrol started")}</p> })}
                {q("end").map(|_| view! { <p class="success" role="status">{t(lang, "巡逻已结束", "Patrol ended")}</p> })}
                {q("checked").map(|v| view! { <p class=if v == "ok" { "success" } else { "error" } role="status">{if v == "ok" { t(lang, "签到有效", "Check-in accepted") } else { t(lang, "签到存疑,原因见点位下方", "Check-in flagged; see the reasons under the checkpoint") }}</p> })}
                {q("device").filter(|_| q("error").is_none()).map(|d| view! { <p class="success" role="status">{t(lang, "设备已登记:", "Device registered: ")}<code>{d}</code></p> })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let h = match data.await {
                            Ok(h) => h,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let open = h.open.is_some();
                        let recent = h.recent.clone();
                        view! {
                            <div class="console">
                                {if open { view! { <OpenPatrol h=h.clone() lang=lang/> }.into_any() } else { view! { <StartPatrol h=h.clone() lang=lang/> }.into_any() }}
                                <section class="card">
                                    <h2>{t(lang, "最近巡逻", "Recent patrols")}</h2>
                                    <PatrolRows rows=recent lang=lang staff=false/>
                                </section>
                                <Devices h=h lang=lang/>
                            </div>
                            <script src="/patrol.js" defer></script>
                        }.into_any()
                    })}
                </Suspense>
            }
        }/>
    }
}

// ------------------------------------------------------------------ QR scan at a checkpoint

#[server]
pub async fn qr_checkpoint(token: String) -> Result<(i64, i64, String, String), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::tracking::checkpoint_by_token(&state, &user, &token).await.map_err(app_err)
}

/// What a printed checkpoint QR code opens: check in here, with the code.
#[component]
pub fn QrCheckinPage() -> impl IntoView {
    let token = use_params_map().with_untracked(|m| m.get("token")).unwrap_or_default();
    let data = Resource::new(move || token.clone(), qr_checkpoint);
    let token = use_params_map().with_untracked(|m| m.get("token")).unwrap_or_default();
    view! {
        <Page title=("点位签到", "Checkpoint check-in") render=move |s: SessionInfo| {
            let lang = s.lang;
            let token = token.clone();
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let token = token.clone();
                        Suspend::new(async move {
                            let (patrol, cp, name, cid) = match data.await {
                                Ok(d) => d,
                                Err(e) => return view! {
                                    <FormError message=Some(error_text(&e, lang))/>
                                    <p><a href="/patrol">{t(lang, "回到巡逻", "Back to the patrol")}</a></p>
                                }.into_any(),
                            };
                            view! {
                                <section class="card narrow" id="patrol" data-patrol=patrol.to_string() data-state="active">
                                    <h2>{name}</h2>
                                    <p>{t(lang, "已扫描点位二维码。请在点位旁点击签到。", "You scanned the checkpoint's code. Tap to check in while you are there.")}</p>
                                    <form method="post" action=CheckInForm::PATH data-outbox="checkin">
                                        <input type="hidden" name="patrol" value=patrol.to_string()/>
                                        <input type="hidden" name="checkpoint" value=cp.to_string()/>
                                        <input type="hidden" name="cid" value=cid/>
                                        <input type="hidden" name="qr" value=token.clone()/>
                                        <button type="submit" class="primary">{t(lang, "签到", "Check in")}</button>
                                    </form>
                                    <p id="rec" class="rec" role="status" aria-live="polite"></p>
                                </section>
                                <script src="/patrol.js" defer></script>
                            }.into_any()
                        })
                    }}
                </Suspense>
            }
        }/>
    }
}

// ------------------------------------------------------------------ a patrol's track

#[server]
pub async fn patrol_detail(id: i64) -> Result<domain::patrol::PatrolDetail, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::tracking::detail(&state, &user, id).await.map_err(app_err)
}

#[component]
fn TrackSvg(map: domain::patrol::TrackMap, lang: crate::i18n::Lang) -> impl IntoView {
    let (w, h) = (map.width, map.height);
    view! {
        <figure class="track-map">
            <svg viewBox=format!("0 0 {w} {h}") role="img" aria-label=t(lang, "巡逻轨迹图", "Patrol track")>
                <rect width=w height=h class="bg"/>
                {map.tiles.iter().map(|t| view! { <image href=t.href.clone() x=t.x y=t.y width=t.w height=t.h preserveAspectRatio="none"/> }).collect_view()}
                {map.outlines.iter().map(|d| view! { <path d=d.clone() class="outline"/> }).collect_view()}
                {map.checkpoints.iter().map(|(x, y, r, name, visited)| view! {
                    <g class=if *visited { "cp visited" } else { "cp" }>
                        <circle cx=*x cy=*y r=*r/>
                        <text x=x + r + 3.0 y=y + 7.0>{name.clone()}</text>
                    </g>
                }).collect_view()}
                {map.segments.iter().map(|d| view! { <path d=d.clone() class="trk"/> }).collect_view()}
                <g class="scale"><line x1="16" y1=h - 12.0 x2="116" y2=h - 12.0/><text x="16" y=h - 16.0>{format!("{} m", map.metres_per_100px)}</text></g>
            </svg>
            <figcaption class="meta">{t(lang, "示意图,北在上;实线为轨迹(中断处为信号或记录间断),圆圈为点位范围,绿色为已签到,虚线为网格边界。", "Sketch, north up: lines are the track (breaks are gaps), circles the checkpoints' ranges, green ones checked in, dashes the grid outline.")}{(!map.attribution.is_empty()).then(|| format!(" © {}", map.attribution))}</figcaption>
        </figure>
    }
    .into_any()
}

#[component]
pub fn PatrolDetailPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|m| m.get("id")).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let data = Resource::new(move || id, patrol_detail);
    view! {
        <Page title=("巡逻轨迹", "Patrol track") render=move |s: SessionInfo| {
            let lang = s.lang;
            view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let r = d.row.clone();
                        view! {
                            <div class="console">
                                <section class="card wide-card">
                                    <h2>{r.worker.clone()}" · "{r.route.clone().unwrap_or_else(|| t(lang, "自由巡逻", "Free patrol").to_string())}" "{state_badge(r.state, lang)}</h2>
                                    <p class="meta">{r.started.clone()}{r.ended.clone().map(|e| format!(" – {e}"))}" · "{d.minutes}{t(lang, " 分钟 · ", " min · ")}{format!("{:.2} km", d.distance_m / 1000.0)}" · "{r.grid.clone()}</p>
                                    <div class="replay" data-replay=format!("[{}]", d.replay.iter().map(|(x, y, at)| format!("[{x},{y},{at}]")).collect::<Vec<_>>().join(","))>
                                        <TrackSvg map=d.map.clone() lang=lang/>
                                        <div class="replay-controls" hidden>
                                            <button type="button" class="play">{t(lang, "回放", "Replay")}</button>
                                            <input type="range" min="0" max="1000" value="1000" aria-label=t(lang, "回放进度", "Replay position")/>
                                            <output aria-live="off"></output>
                                        </div>
                                    </div>
                                    {(d.replay.len() >= 2).then(|| view! { <script src="/patrol-replay.js" defer></script> })}
                                    <p>
                                        <a class="button" href=format!("/api/v1/patrols/{}.gpx", r.id) download="">{t(lang, "导出 GPX", "Export GPX")}</a>" "
                                        <a class="button" href=format!("/api/v1/patrols/{}.geojson", r.id) download="">{t(lang, "导出 GeoJSON", "Export GeoJSON")}</a>
                                    </p>
                                </section>
                                <section class="card">
                                    <h2>{checkpoint_tally(lang, &r)}</h2>
                                    {d.checkins.is_empty().then(|| view! { <p class="meta">{t(lang, "暂无签到", "None yet")}</p> })}
                                    <ul class="list plain">
                                        {d.checkins.iter().map(|c| view! {
                                            <li><span class="title">{c.checkpoint.clone()}</span><CheckinLines checkins=vec![c.clone()] lang=lang/></li>
                                        }).collect_view()}
                                    </ul>
                                </section>
                                <section class="card">
                                    <h2>{t(lang, "轨迹质量", "Track quality")}</h2>
                                    <p>{t(lang, "轨迹点 ", "Points in the track: ")}{r.kept}</p>
                                    <ul class="list plain">
                                        {d.dropped.iter().map(|(why, n)| view! { <li>{t(lang, "未计入:", "Left out: ")}{why.clone()}" × "{*n}</li> }).collect_view()}
                                        {d.gaps.iter().map(|g| view! { <li class="gap">{t(lang, "中断 ", "Gap ")}{g.from.clone()}" – "{g.to.clone()}" ("{g.minutes}{t(lang, " 分钟,", " min, ")}{g.reason.clone()}")"</li> }).collect_view()}
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

// ------------------------------------------------------------------ staff: patrols

#[server]
pub async fn staff_patrols() -> Result<domain::patrol::LiveBoard, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::tracking::live_board(&state, &user).await.map_err(app_err)
}

#[component]
fn LiveMap(b: domain::patrol::LiveBoard, lang: crate::i18n::Lang) -> impl IntoView {
    let m = b.map.clone();
    let (w, h) = (m.width, m.height);
    let proj = format!(
        "{{\"cx\":{},\"cy\":{},\"k\":{},\"scale\":{},\"w\":{w},\"h\":{h}}}",
        m.centre.1, m.centre.0, m.k, m.scale
    );
    let topics = b.grids.iter().map(|g| format!("patrols:{g}")).collect::<Vec<_>>().join(",");
    view! {
        <figure class="track-map" id="live-board" data-proj=proj data-topics=topics>
            <svg viewBox=format!("0 0 {w} {h}") role="img" aria-label=t(lang, "巡逻实时位置", "Live patrol positions")>
                <rect width=w height=h class="bg"/>
                {m.tiles.iter().map(|t| view! { <image href=t.href.clone() x=t.x y=t.y width=t.w height=t.h preserveAspectRatio="none"/> }).collect_view()}
                {m.outlines.iter().map(|d| view! { <path d=d.clone() class="outline"/> }).collect_view()}
                {m.checkpoints.iter().map(|(x, y, r, name, _)| view! {
                    <g class="cp"><circle cx=*x cy=*y r=*r/><text x=x + r + 3.0 y=y + 7.0>{name.clone()}</text></g>
                }).collect_view()}
                <g class="dots">
                    {b.dots.iter().map(|(id, x, y, who)| view! {
                        <g class="dot" data-patrol=id.to_string() transform=format!("translate({x} {y})")>
                            <circle r="9"/><text x="12" y="7">{who.clone()}</text>
                        </g>
                    }).collect_view()}
                </g>
                <g class="scale"><line x1="16" y1=h - 12.0 x2="116" y2=h - 12.0/><text x="16" y=h - 16.0>{format!("{} m", m.metres_per_100px)}</text></g>
            </svg>
            <figcaption class="meta" id="live-status" aria-live="polite">{t(lang, "蓝点为巡逻中网格员的最新位置,自动更新。", "Blue dots: the latest positions of workers on patrol, updated live.")}</figcaption>
            {(!m.attribution.is_empty()).then(|| view! { <p class="meta">"© "{m.attribution.clone()}</p> })}
        </figure>
    }
    .into_any()
}

#[component]
pub fn StaffPatrolsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| staff_patrols());
    view! {
        <Page title=("巡逻记录", "Patrols") render=move |s: SessionInfo| {
            let lang = s.lang;
            view! {
                <p><a href="/staff/patrol">{t(lang, "巡逻线路与点位", "Routes and checkpoints")}</a></p>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(b) => {
                                let rows = b.rows.clone();
                                view! {
                                    <div class="console">
                                        <section class="card wide-card">
                                            <h2>{t(lang, "实时位置", "Live positions")}</h2>
                                            <LiveMap b=b lang=lang/>
                                        </section>
                                        <section class="card wide-card">
                                            <h2>{t(lang, "巡逻记录", "Patrols")}</h2>
                                            {rows.is_empty().then(|| view! { <p class="meta">{t(lang, "还没有巡逻记录", "No patrols yet")}</p> })}
                                            <PatrolRows rows=rows lang=lang staff=true/>
                                        </section>
                                    </div>
                                    <script src="/patrol-watch.js" defer></script>
                                }.into_any()
                            }
                            Err(e) => view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        }
                    })}
                </Suspense>
            }
        }/>
    }
}

/// "点位 2 / 5(签到 4 次)": checkpoints reached of those planned, with the
/// check-ins tried beside it — the same meaning as the worker's own count.
fn checkpoint_tally(lang: Lang, r: &domain::patrol::PatrolRow) -> String {
    format!(
        "{}{} / {}{}{}{}",
        t(lang, "点位签到 ", "Checkpoints "),
        r.checkpoints_reached,
        r.checkpoints_planned,
        t(lang, "(签到 ", " ("),
        r.checkins,
        t(lang, " 次)", " check-ins)")
    )
}
