//! One patrol's track (map, check-ins, gaps) and staff's live map of patrols.

#![allow(clippy::too_many_arguments)]

use super::*;

#[server]
pub async fn patrol_detail(id: i64) -> Result<domain::patrol::PatrolDetail, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::patrol::detail(&state, &user, id).await.map_err(app_err)
}

#[component]
pub(super) fn TrackSvg(
    map: domain::patrol::TrackMap,
    lang: crate::i18n::Lang,
    /// The worker's own page: a dot for where they are (`#me`, placed by the recorder).
    #[prop(optional)]
    me: bool,
) -> impl IntoView {
    let (w, h) = (map.width, map.height);
    view! {
        <figure class="track-map" id=me.then_some("route-map")>
            <svg viewBox=format!("0 0 {w} {h}") role="img" aria-label=t(lang, "巡逻轨迹图", "Patrol track")>
                <rect width=w height=h class="bg" />
                {map
                    .tiles
                    .iter()
                    .map(|t| {
                        view! {
                            <image href=t.href.clone() x=t.x y=t.y width=t.w height=t.h preserveAspectRatio="none" />
                        }
                    })
                    .collect_view()}
                {map.outlines.iter().map(|d| view! { <path d=d.clone() class="outline" /> }).collect_view()}
                {map
                    .checkpoints
                    .iter()
                    .map(|(x, y, r, name, visited)| {
                        view! {
                            <g class=if *visited { "cp visited" } else { "cp" }>
                                <circle cx=*x cy=*y r=*r />
                                <text x=x + r + 3.0 y=y + 7.0>
                                    {name.clone()}
                                </text>
                            </g>
                        }
                    })
                    .collect_view()}
                {map.segments.iter().map(|d| view! { <path d=d.clone() class="trk" /> }).collect_view()}
                {me.then(|| view! { <circle id="me" class="me" cx="-20" cy="-20" r="9" visibility="hidden" /> })}
                <g class="scale">
                    <line x1="16" y1=h - 12.0 x2="116" y2=h - 12.0 />
                    <text x="16" y=h - 16.0>
                        {format!("{} m", map.metres_per_100px)}
                    </text>
                </g>
            </svg>
            <figcaption class="meta">
                {t(
                    lang,
                    "示意图,北在上;实线为轨迹(中断处为信号或记录间断),圆圈为点位范围,绿色为已签到,虚线为网格边界。",
                    "Sketch, north up: lines are the track (breaks are gaps), circles the checkpoints' ranges, green ones checked in, dashes the grid outline.",
                )}{(!map.attribution.is_empty()).then(|| format!(" © {}", map.attribution))}
            </figcaption>
        </figure>
    }
    .into_any()
}

#[component]
pub fn PatrolDetailPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|m| m.get("id")).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let data = Resource::new(move || id, patrol_detail);
    view! {
        <Page
            title=("巡逻轨迹", "Patrol track")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let d = match data.await {
                                Ok(d) => d,
                                Err(e) => return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            };
                            let r = d.row.clone();
                            view! {
                                <div class="console">
                                    <section class="card wide-card">
                                        <h2>
                                            {r.worker.clone()}" · "
                                            {r
                                                .route
                                                .clone()
                                                .unwrap_or_else(|| t(lang, "自由巡逻", "Free patrol").to_string())}
                                            " "{state_badge(r.state, lang)}
                                        </h2>
                                        <p class="meta">
                                            {r.started.clone()}{r.ended.clone().map(|e| format!(" – {e}"))}" · "
                                            {d.minutes}{t(lang, " 分钟 · ", " min · ")}
                                            {format!("{:.2} km", d.distance_m / 1000.0)}" · "{r.grid.clone()}
                                        </p>
                                        <div class="replay">
                                            <TrackSvg map=d.map.clone() lang=lang />
                                            {if d.replay.len() >= 2 {
                                                view! { <super::desk::Replay points=d.replay.clone() lang=lang /> }
                                                    .into_any()
                                            } else {
                                                ().into_any()
                                            }}
                                        </div>
                                        <p>
                                            <a class="button" href=format!("/api/v1/patrols/{}.gpx", r.id) download="">
                                                {t(lang, "导出 GPX", "Export GPX")}
                                            </a>
                                            " "
                                            <a
                                                class="button"
                                                href=format!("/api/v1/patrols/{}.geojson", r.id)
                                                download=""
                                            >
                                                {t(lang, "导出 GeoJSON", "Export GeoJSON")}
                                            </a>
                                        </p>
                                    </section>
                                    <section class="card">
                                        <h2>{checkpoint_tally(lang, &r)}</h2>
                                        {d
                                            .checkins
                                            .is_empty()
                                            .then(|| {
                                                view! { <p class="meta">{t(lang, "暂无签到", "None yet")}</p> }
                                            })}
                                        <ul class="list plain">
                                            {d
                                                .checkins
                                                .iter()
                                                .map(|c| {
                                                    view! {
                                                        <li>
                                                            <span class="title">{c.checkpoint.clone()}</span>
                                                            <CheckinLines checkins=vec![c.clone()] lang=lang />
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    </section>
                                    <section class="card">
                                        <h2>{t(lang, "轨迹质量", "Track quality")}</h2>
                                        <p>{t(lang, "轨迹点 ", "Points in the track: ")}{r.kept}</p>
                                        <ul class="list plain">
                                            {d
                                                .dropped
                                                .iter()
                                                .map(|(why, n)| {
                                                    view! {
                                                        <li>
                                                            {t(lang, "未计入:", "Left out: ")}{why.clone()}" × "{*n}
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                            {d
                                                .gaps
                                                .iter()
                                                .map(|g| {
                                                    view! {
                                                        <li class="gap">
                                                            {t(lang, "中断 ", "Gap ")}{g.from.clone()}" – "
                                                            {g.to.clone()}" ("{g.length.clone()}{t(lang, ",", ", ")}
                                                            {g.reason.clone()}")"
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
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

// ------------------------------------------------------------------ staff: patrols

#[server]
pub async fn staff_patrols() -> Result<domain::patrol::LiveBoard, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::patrol::live_board(&state, &user).await.map_err(app_err)
}

#[component]
pub(super) fn LiveMap(b: domain::patrol::LiveBoard, lang: crate::i18n::Lang) -> impl IntoView {
    let m = b.map.clone();
    let (w, h) = (m.width, m.height);
    let topics = b.grids.iter().map(|g| format!("patrols:{g}")).collect::<Vec<_>>().join(",");
    // the board's projection for the live dots: the sketch without its drawing
    let projection = domain::patrol::TrackMap { checkpoints: vec![], outlines: vec![], tiles: vec![], ..m.clone() };
    view! {
        <figure class="track-map" id="live-board">
            <svg
                viewBox=format!("0 0 {w} {h}")
                role="img"
                aria-label=t(lang, "巡逻实时位置", "Live patrol positions")
            >
                <rect width=w height=h class="bg" />
                {m
                    .tiles
                    .iter()
                    .map(|t| {
                        view! {
                            <image href=t.href.clone() x=t.x y=t.y width=t.w height=t.h preserveAspectRatio="none" />
                        }
                    })
                    .collect_view()}
                {m.outlines.iter().map(|d| view! { <path d=d.clone() class="outline" /> }).collect_view()}
                {m
                    .checkpoints
                    .iter()
                    .map(|(x, y, r, name, _)| {
                        view! {
                            <g class="cp">
                                <circle cx=*x cy=*y r=*r />
                                <text x=x + r + 3.0 y=y + 7.0>
                                    {name.clone()}
                                </text>
                            </g>
                        }
                    })
                    .collect_view()}
                <g class="dots">
                    {b
                        .dots
                        .iter()
                        .map(|(id, x, y, who)| {
                            view! {
                                <g class="dot" data-patrol=id.to_string() transform=format!("translate({x} {y})")>
                                    <circle r="9" />
                                    <text x="12" y="7">
                                        {who.clone()}
                                    </text>
                                </g>
                            }
                        })
                        .collect_view()}
                </g>
                <g class="scale">
                    <line x1="16" y1=h - 12.0 x2="116" y2=h - 12.0 />
                    <text x="16" y=h - 16.0>
                        {format!("{} m", m.metres_per_100px)}
                    </text>
                </g>
            </svg>
            <super::desk::LiveWatch map=projection topics=topics lang=lang />
            {(!m.attribution.is_empty()).then(|| view! { <p class="meta">"© "{m.attribution.clone()}</p> })}
        </figure>
    }
    .into_any()
}

#[component]
pub fn StaffPatrolsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| staff_patrols());
    view! {
        <Page
            title=("巡逻记录", "Patrols")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                view! {
                    <p>
                        <a href="/staff/patrol">{t(lang, "巡逻线路与点位", "Routes and checkpoints")}</a>
                    </p>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(b) => {
                                    let rows = b.rows.clone();
                                    view! {
                                        <div class="console">
                                            <section class="card wide-card">
                                                <h2>{t(lang, "实时位置", "Live positions")}</h2>
                                                <LiveMap b=b lang=lang />
                                            </section>
                                            <section class="card wide-card">
                                                <h2>{t(lang, "巡逻记录", "Patrols")}</h2>
                                                {rows
                                                    .is_empty()
                                                    .then(|| {
                                                        view! {
                                                            <p class="meta">
                                                                {t(lang, "还没有巡逻记录", "No patrols yet")}
                                                            </p>
                                                        }
                                                    })}
                                                <PatrolRows rows=rows lang=lang staff=true />
                                            </section>
                                        </div>
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

/// "点位 2 / 5(签到 4 次)": checkpoints reached of those planned, with the
/// check-ins tried beside it — the same meaning as the worker's own count.
pub(super) fn checkpoint_tally(lang: Lang, r: &domain::patrol::PatrolRow) -> String {
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
