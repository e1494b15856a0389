//! Staff pages of patrol: plans, grid outlines, routes and checkpoints, the
//! printable QR sheet.

#![allow(clippy::too_many_arguments)]

use super::*;

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
    let grids = backend::support::scope::staff_grids(&state, &user).await.map_err(app_err)?;
    let routes = backend::patrol::routes(&state, &user).await.map_err(app_err)?;
    let ids: Vec<i64> = grids.iter().map(|(id, _)| *id).collect();
    let workers =
        backend::patrol::grid_workers(&state, &ids, backend::support::people::english(&user)).await.map_err(app_err)?;
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
pub(super) fn Plans(
    r: RouteView,
    workers: Vec<(i64, i64, String)>,
    today: String,
    lang: crate::i18n::Lang,
) -> impl IntoView {
    let id = r.id;
    let kept = q("route").and_then(|v| v.parse::<i64>().ok()) == Some(id) && q("start").is_some();
    let keep = move |k: &str| if kept { q(k).unwrap_or_default() } else { String::new() };
    let days: Vec<String> = if kept { keep("days").split(',').map(str::to_string).collect() } else { vec![] };
    let mine: Vec<(i64, String)> = workers.into_iter().filter(|w| w.1 == r.grid_id).map(|w| (w.0, w.2)).collect();
    let chosen = keep("worker");
    let en = lang.is_en();
    view! {
        <h3>{t(lang, "巡逻计划", "Patrol plans")}</h3>
        {r
            .plans
            .is_empty()
            .then(|| {
                view! {
                    <p class="meta">
                        {t(
                            lang,
                            "尚无计划;到位率按计划要求的点位签到计算。",
                            "No plans yet; presence (到位率) counts the check-ins plans require.",
                        )}
                    </p>
                }
            })}
        <ul class="list plain plans">
            {r
                .plans
                .iter()
                .map(|p| {
                    view! {
                        <li class=if p.ended { "ended" } else { "" }>
                            <span class="title">{p.worker.clone()}" · "{p.rule.describe(en)}</span>
                            <span class="meta">
                                {p.rule.from.format("%Y-%m-%d").to_string()}" – "
                                {p
                                    .rule
                                    .until
                                    .map(|u| u.format("%Y-%m-%d").to_string())
                                    .unwrap_or_else(|| t(lang, "长期", "open-ended").to_string())}
                                {p.ended.then(|| t(lang, " · 已结束", " · ended"))}
                            </span>
                            {(!p.ended)
                                .then(|| {
                                    view! {
                                        <form method="post" action=EndPlan::PATH class="inline-form">
                                            <input type="hidden" name="id" value=p.id.to_string() />
                                            <button type="submit" class="link">
                                                {t(lang, "结束计划", "End plan")}
                                            </button>
                                        </form>
                                    }
                                })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <details open=kept>
            <summary>{t(lang, "新建计划", "New plan")}</summary>
            <form method="post" action=AddPlan::PATH class="stack plan-form">
                <input type="hidden" name="route" value=id.to_string() />
                <label>
                    {t(lang, "网格员", "Grid worker")} <select name="worker" required>
                        {mine
                            .into_iter()
                            .map(|(w, name)| {
                                let sel = chosen == w.to_string();
                                view! {
                                    <option value=w.to_string() selected=sel>
                                        {name}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <fieldset class="days">
                    <legend>{t(lang, "巡逻日", "Days")}</legend>
                    {(1u8..=7)
                        .map(|d| {
                            let checked = if kept { days.iter().any(|x| x == &d.to_string()) } else { d <= 5 };
                            view! {
                                <label class="check">
                                    <input type="checkbox" name=format!("d{d}") value="1" checked=checked />
                                    <span>{domain::appointments::weekday_name(d, en)}</span>
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                // the error of this form, here beside its fields rather than atop the page
                {kept.then(|| q("error").map(|c| view! { <FormError message=Some(code_text(&c, lang)) /> }))}
                <div class="row2">
                    <label>
                        {t(lang, "开始(时:分)", "From (HH:MM)")}
                        <input
                            type="time"
                            name="start"
                            required
                            value=if kept { keep("start") } else { "08:00".into() }
                        />
                    </label>
                    <label>
                        {t(lang, "结束(时:分)", "Until (HH:MM)")}
                        <input type="time" name="end" required value=if kept { keep("end") } else { "10:00".into() } />
                    </label>
                </div>
                <p class="meta">
                    {t(
                        lang,
                        "时段至少 10 分钟;到位率按时段内在各点位的有效签到计算。",
                        "The window is at least 10 minutes; presence counts valid check-ins at every checkpoint within it.",
                    )}
                </p>
                <div class="row2">
                    <label>
                        {t(lang, "生效日期", "First day")}
                        <input type="date" name="from" required value=if kept { keep("from") } else { today.clone() } />
                    </label>
                    <label>
                        {t(lang, "截止日期(可空)", "Last day (optional)")}
                        <input type="date" name="until" value=keep("until") />
                    </label>
                </div>
                <button type="submit">{t(lang, "保存计划", "Save plan")}</button>
            </form>
        </details>
    }
    .into_any()
}

#[component]
pub(super) fn RouteCard(
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
            <p class="meta">
                {r.grid.clone()}" · "
                {if r.ordered {
                    t(lang, "按顺序巡查", "Visit in order")
                } else {
                    t(lang, "不限顺序", "Any order")
                }}" · "{r.checkpoints.len()}{t(lang, " 个点位", " checkpoints")}
            </p>
            <ol class="list checkpoints">
                {r
                    .checkpoints
                    .iter()
                    .map(|c| {
                        view! {
                            <li>
                                <span class="title">
                                    {c.name.clone()}{c.requires_qr.then(|| t(lang, "(扫码)", " (QR)"))}
                                </span>
                                <span class="meta">
                                    {format!("{:.6}, {:.6} · ", c.lat, c.lng)}{t(lang, "半径 ", "radius ")}
                                    {c.radius_m}" m"
                                </span>
                                <form method="post" action=RemoveCheckpoint::PATH class="inline-form">
                                    <input type="hidden" name="id" value=c.id.to_string() />
                                    <button type="submit" class="link">
                                        {t(lang, "删除", "Remove")}
                                    </button>
                                </form>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            {(qr_count > 0)
                .then(|| {
                    view! {
                        <p>
                            <a class="button" href=format!("/staff/patrol/routes/{id}/sheet")>
                                {t(lang, "打印点位二维码", "Print checkpoint QR codes")}
                            </a>
                        </p>
                    }
                })}
            <Plans r=r.clone() workers=workers today=today lang=lang />
            <details open=kept>
                <summary>{t(lang, "添加点位", "Add a checkpoint")}</summary>
                <form method="post" action=AddCheckpoint::PATH class="stack">
                    <input type="hidden" name="route" value=id.to_string() />
                    <label>
                        {t(lang, "名称", "Name")}
                        <input type="text" name="name" required maxlength="60" value=keep("name") />
                    </label>
                    <div class="row2">
                        <label>
                            {t(lang, "纬度(WGS-84)", "Latitude (WGS-84)")}
                            <input
                                type="text"
                                name="lat"
                                required
                                inputmode="decimal"
                                maxlength="12"
                                value=keep("lat")
                            />
                        </label>
                        <label>
                            {t(lang, "经度(WGS-84)", "Longitude (WGS-84)")}
                            <input
                                type="text"
                                name="lng"
                                required
                                inputmode="decimal"
                                maxlength="12"
                                value=keep("lng")
                            />
                        </label>
                    </div>
                    <label>
                        {t(lang, "半径(米,默认 30)", "Radius (m, default 30)")}
                        <input type="text" name="radius" inputmode="numeric" maxlength="3" value=keep("radius") />
                    </label>
                    <label class="check">
                        <input type="checkbox" name="qr" value="1" />
                        <span>{t(lang, "须扫点位二维码", "Needs its QR code scanned")}</span>
                    </label>
                    <button type="submit">{t(lang, "添加", "Add")}</button>
                </form>
            </details>
            <details open=kept && !geojson.is_empty()>
                <summary>{t(lang, "从 GeoJSON 导入", "Import from GeoJSON")}</summary>
                <form method="post" action=ImportCheckpoints::PATH class="stack">
                    <input type="hidden" name="route" value=id.to_string() />
                    <label>
                        {t(
                            lang,
                            "GeoJSON(点要素,properties 含 name,可选 radius、qr)",
                            "GeoJSON (Point features with properties.name; radius and qr optional)",
                        )} <textarea name="geojson" required rows="6" maxlength="200000">
                            {if kept { geojson.clone() } else { String::new() }}
                        </textarea>
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
        <Page
            title=("巡逻线路", "Patrol routes")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let plan_form = q("route").is_some() && q("start").is_some();
                let error = q("error").filter(|_| !plan_form).map(|c| code_text(&c, lang));
                // a plan form's error is shown in that form (see `Plans`)
                view! {
                    {q("created")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "线路已创建", "Route created")}
                                </p>
                            }
                        })}
                    {q("added")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "点位已添加", "Checkpoint added")}
                                </p>
                            }
                        })}
                    {q("imported")
                        .map(|n| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已导入 ", "Imported ")}
                                    {n}
                                    {t(lang, " 个点位", " checkpoints")}
                                </p>
                            }
                        })}
                    {q("removed")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "点位已删除", "Checkpoint removed")}
                                </p>
                            }
                        })}
                    {q("planned")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "巡逻计划已保存", "Plan saved")}
                                </p>
                            }
                        })}
                    {q("plan_ended")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "计划已结束", "Plan ended")}
                                </p>
                            }
                        })}
                    {q("outline")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "网格边界已保存", "Grid outline saved")}
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
                            view! {
                                <div class="console">
                                    {d
                                        .routes
                                        .clone()
                                        .into_iter()
                                        .map(|r| {
                                            view! {
                                                <RouteCard
                                                    r=r
                                                    lang=lang
                                                    geojson=d.geojson.clone()
                                                    workers=d.workers.clone()
                                                    today=d.today.clone()
                                                />
                                            }
                                        })
                                        .collect_view()} <Outlines d=d.clone() lang=lang /> <section class="card">
                                        <h2>{t(lang, "新建线路", "New route")}</h2>
                                        <form method="post" action=CreateRoute::PATH class="stack">
                                            <label>
                                                {t(lang, "网格", "Grid")} <select name="grid_id" required>
                                                    {d
                                                        .grids
                                                        .iter()
                                                        .map(|(id, name)| {
                                                            view! {
                                                                <option value=id.to_string()>{name.clone()}</option>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </select>
                                            </label>
                                            <label>
                                                {t(lang, "线路名称", "Name")}
                                                <input
                                                    type="text"
                                                    name="name"
                                                    required
                                                    maxlength="60"
                                                    value=q("route_name").unwrap_or_default()
                                                />
                                            </label>
                                            <label class="check">
                                                <input type="checkbox" name="ordered" value="1" />
                                                <span>{t(lang, "须按顺序巡查", "Checkpoints in order")}</span>
                                            </label>
                                            <button type="submit" class="primary">
                                                {t(lang, "创建", "Create")}
                                            </button>
                                        </form>
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

#[component]
pub(super) fn Outlines(d: PatrolData, lang: crate::i18n::Lang) -> impl IntoView {
    let kept = q("outline_draft").is_some();
    let chosen = q("grid").unwrap_or_default();
    let text = if kept { d.outline_text.clone() } else { String::new() };
    view! {
        <section class="card" id="outlines">
            <h2>{t(lang, "网格边界", "Grid outlines")}</h2>
            <p class="meta">
                {t(
                    lang,
                    "边界画在巡逻轨迹图和实时位置图上。已设置:",
                    "Outlines are drawn on the track and live sketches. Set: ",
                )}
                {d
                    .grids
                    .iter()
                    .filter(|(id, _)| d.outlined.contains(id))
                    .map(|(_, n)| n.clone())
                    .collect::<Vec<_>>()
                    .join("、")} {d.outlined.is_empty().then(|| t(lang, "无", "none"))}
            </p>
            <form method="post" action=SetOutline::PATH class="stack">
                <label>
                    {t(lang, "网格", "Grid")} <select name="grid" required>
                        {d
                            .grids
                            .iter()
                            .map(|(id, name)| {
                                let sel = chosen == id.to_string();
                                view! {
                                    <option value=id.to_string() selected=sel>
                                        {name.clone()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    {t(
                        lang,
                        "GeoJSON 面(Polygon,WGS-84;留空则清除)",
                        "GeoJSON Polygon (WGS-84; empty clears it)",
                    )} <textarea name="geojson" rows="5" maxlength="200000">
                        {text}
                    </textarea>
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
        <Page
            title=("点位二维码", "Checkpoint QR codes")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let (r, items) = match data.await {
                                Ok(d) => d,
                                Err(e) => return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            };
                            view! {
                                <h2>{r.grid.clone()}" · "{r.name.clone()}</h2>
                                <div class="qr-sheet">
                                    {items
                                        .into_iter()
                                        .map(|i| {
                                            view! {
                                                <figure class="qr-tile">
                                                    <div class="qr-img" inner_html=i.svg.clone()></div>
                                                    <figcaption>
                                                        <strong>{i.seq}". "{i.name.clone()}</strong>
                                                        <br />
                                                        {t(
                                                            lang,
                                                            "网格员巡逻签到请扫码",
                                                            "Grid workers: scan to check in",
                                                        )}
                                                    </figcaption>
                                                </figure>
                                            }
                                        })
                                        .collect_view()}
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

// ------------------------------------------------------------------ the grid worker
