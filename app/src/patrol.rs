//! 巡逻线路 pages for staff: routes per grid, checkpoints entered one by one
//! or imported from GeoJSON, and a printable sheet of checkpoint QR codes.
//! The grid worker's patrol mode builds on these (issue 4).

use crate::i18n::t;
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
}

#[server]
pub async fn staff_patrol() -> Result<PatrolData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let grids = backend::patrol::grids_of(&state, &user).await.map_err(app_err)?;
    let routes = backend::patrol::routes(&state, &user).await.map_err(app_err)?;
    Ok(PatrolData { grids, routes })
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
    let user = require_user()?;
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
            let r = route.to_string();
            Err(form_error(e, "/staff/patrol", &[("route", r.as_str())]))
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
fn RouteCard(r: RouteView, lang: crate::i18n::Lang) -> impl IntoView {
    let id = r.id;
    let kept = q("route").and_then(|v| v.parse::<i64>().ok()) == Some(id);
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
            <details>
                <summary>{t(lang, "从 GeoJSON 导入", "Import from GeoJSON")}</summary>
                <form method="post" action=ImportCheckpoints::PATH class="stack">
                    <input type="hidden" name="route" value=id.to_string()/>
                    <label>{t(lang, "GeoJSON(点要素,properties 含 name,可选 radius、qr)", "GeoJSON (Point features with properties.name; radius and qr optional)")}
                        <textarea name="geojson" required rows="6" maxlength="200000"></textarea>
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
    let data = Resource::new(|| (), |_| staff_patrol());
    view! {
        <Page title=("巡逻线路", "Patrol routes") render=move |s: SessionInfo| {
            let lang = s.lang;
            let error = q("error").map(|c| code_text(&c, lang));
            view! {
                {q("created").map(|_| view! { <p class="success" role="status">{t(lang, "线路已创建", "Route created")}</p> })}
                {q("added").map(|_| view! { <p class="success" role="status">{t(lang, "点位已添加", "Checkpoint added")}</p> })}
                {q("imported").map(|n| view! { <p class="success" role="status">{t(lang, "已导入 ", "Imported ")}{n}{t(lang, " 个点位", " checkpoints")}</p> })}
                {q("removed").map(|_| view! { <p class="success" role="status">{t(lang, "点位已删除", "Checkpoint removed")}</p> })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        view! {
                            <div class="console">
                                {d.routes.into_iter().map(|r| view! { <RouteCard r=r lang=lang/> }).collect_view()}
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
