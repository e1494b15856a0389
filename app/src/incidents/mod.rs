//! 事件 pages: report an incident with photos and its place (grid workers,
//! and residents as 随手拍), follow it, and work it through the workflow of
//! rules.md §6 (staff accept, dispatch, verify, close; the worker handles;
//! the reporter rates). Every form is a plain multipart post to the server
//! (`/incidents/report`, `/incidents/{id}/step`) that works without WASM;
//! `public/incident.js` adds the position stamp, nearby suggestions and the
//! offline draft.

mod one;
pub use one::*;
mod staff;
pub use staff::*;

use crate::i18n::{t, Lang};
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::incidents::{Action, Category, IncidentDetail, IncidentHome, IncidentRow, RejectReason, Status};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

fn q(k: &str) -> Option<String> {
    use_query_map().with_untracked(|m| m.get(k))
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    pub home: IncidentHome,
    /// The fields of a form that came back (an error, or nearby reports to look at).
    pub kept: Vec<(String, String)>,
    /// Photos already uploaded with that form.
    pub photos: Vec<i64>,
    pub nearby: Vec<IncidentRow>,
}

fn kept(k: &[(String, String)], name: &str) -> String {
    k.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

#[server]
pub async fn report_page_data(draft: Option<String>, form: Option<String>) -> Result<ReportData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let mut home = backend::incidents::home(&state, &user).await.map_err(app_err)?;
    let kept = match &draft {
        Some(k) => state.flash.get(k, Some(user.id)).await,
        None => vec![],
    };
    let mut photos = vec![];
    if let Some(f) = form.filter(|f| backend::incidents::valid_draft(f)) {
        photos = backend::incidents::draft_photos(&state, &user, &f).await.map_err(app_err)?;
        home.form_id = f;
    }
    let mut nearby = vec![];
    let field = |n: &str| kept.iter().find(|(k, _)| k == n).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    if let (Ok(c), Some(cat), Ok(lat), Ok(lng)) = (
        field("community_id").parse::<i64>(),
        Category::parse(&field("category")),
        field("lat").parse::<f64>(),
        field("lng").parse::<f64>(),
    ) {
        nearby = backend::incidents::nearby(&state, &user, c, cat, lat, lng).await.unwrap_or_default();
    }
    Ok(ReportData { home, kept, photos, nearby })
}

/// /incidents: report (事件上报 / 随手拍), my reports, my tasks.
#[component]
pub fn IncidentsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| report_page_data(q("draft"), q("form")));
    view! {
        <Page
            title=("事件上报", "Report an incident")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(d) => view! { <IncidentsBody d=d lang=lang /> }.into_any(),
                                Err(e) => view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            }
                        })}
                    </Suspense>
                }
            }
        />
    }
    .into_any()
}

#[component]
fn IncidentsBody(d: ReportData, lang: Lang) -> impl IntoView {
    let tasks = d.home.tasks.clone();
    let mine = d.home.mine.clone();
    view! {
        <div class="console">
            {(!tasks.is_empty())
                .then(|| {
                    view! {
                        <section class="card wide-card">
                            <h2>{t(lang, "我的任务", "My tasks")}</h2>
                            <IncidentRows rows=tasks lang=lang />
                        </section>
                    }
                })} <ReportForm d=d lang=lang /> <section class="card wide-card">
                <h2>{t(lang, "我上报的事件", "My reports")}</h2>
                {if mine.is_empty() {
                    view! {
                        <p class="meta">
                            {t(lang, "还没有上报过事件。", "You have not reported anything yet.")}
                        </p>
                    }
                        .into_any()
                } else {
                    view! { <IncidentRows rows=mine lang=lang /> }.into_any()
                }}
            </section>
        </div>
        <script src="/incident.js" defer></script>
    }
    .into_any()
}

#[component]
fn ReportForm(d: ReportData, lang: Lang) -> impl IntoView {
    let k = d.kept.clone();
    let error = q("error").map(|c| code_text(&c, lang));
    let community = kept(&k, "community_id");
    // a link may choose the category (首页's 入户报修: `?category=home_repair`)
    let category = Some(kept(&k, "category"))
        .filter(|c| !c.is_empty())
        .or_else(|| use_query_map().with_untracked(|m| m.get("category")))
        .unwrap_or_default();
    let communities = d.home.communities.clone();
    let single = communities.len() == 1;
    let nearby = d.nearby.clone();
    let has_spot = !kept(&k, "lat").is_empty();
    let room = domain::incidents::MAX_PHOTOS.saturating_sub(d.photos.len());
    view! {
        <section class="card wide-card" id="report">
            <h2>{t(lang, "上报事件(随手拍)", "Report an incident")}</h2>
            <FormError message=error />
            {(!nearby.is_empty())
                .then(|| {
                    view! {
                        <div class="notice" role="status" id="nearby-kept">
                            <p>
                                <strong>
                                    {t(
                                        lang,
                                        "附近 250 米内已有同类事件在办理:",
                                        "Open reports of the same kind within 250 m:",
                                    )}
                                </strong>
                            </p>
                            <IncidentRows rows=nearby.clone() lang=lang />
                            <p class="meta">
                                {t(
                                    lang,
                                    "如果是同一件事,无需重复上报;如果不是,请再次点击“提交上报”。",
                                    "If it is the same matter there is no need to report it again; if not, press Send again.",
                                )}
                            </p>
                        </div>
                    }
                })}
            <form
                method="post"
                action="/incidents/report"
                enctype="multipart/form-data"
                class="stack"
                id="incident-form"
                data-offline-text=t(
                    lang,
                    "当前离线:已保存在本机,联网后自动提交。",
                    "Offline: saved on this phone; it is sent when you are back online.",
                )
            >
                <input type="hidden" name="form_id" value=d.home.form_id.clone() />
                {(!nearby.is_empty()).then(|| view! { <input type="hidden" name="confirm_new" value="1" /> })}
                {if single {
                    let (id, name) = communities[0].clone();
                    view! {
                        <input type="hidden" name="community_id" value=id.to_string() />
                        <p class="meta">{name}</p>
                    }
                        .into_any()
                } else {
                    view! {
                        <label>
                            {t(lang, "社区", "Community")} <select name="community_id" required>
                                {communities
                                    .iter()
                                    .map(|(id, name)| {
                                        let id = id.to_string();
                                        let sel = id == community;
                                        view! {
                                            <option value=id.clone() selected=sel>
                                                {name.clone()}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </label>
                    }
                        .into_any()
                }}
                <label>
                    {t(lang, "类别", "Category")} <select name="category" required>
                        <option value="">{t(lang, "请选择", "Choose…")}</option>
                        {Category::ALL
                            .iter()
                            .map(|c| {
                                let sel = c.as_str() == category;
                                view! {
                                    <option value=c.as_str() selected=sel>
                                        {c.name(lang.is_en())}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    {t(lang, "描述", "Description")}
                    <textarea
                        name="description"
                        rows="4"
                        maxlength="2000"
                        required
                        placeholder=t(
                            lang,
                            "发生了什么、在哪个位置、影响到谁",
                            "What happened, exactly where, who is affected",
                        )
                    >
                        {kept(&k, "description")}
                    </textarea>
                </label>
                <fieldset class="place">
                    <legend>{t(lang, "位置", "Place")}</legend>
                    <input type="hidden" name="lat" value=kept(&k, "lat") />
                    <input type="hidden" name="lng" value=kept(&k, "lng") />
                    <input type="hidden" name="accuracy" value=kept(&k, "accuracy") />
                    <input type="hidden" name="located_at" value=kept(&k, "located_at") />
                    <p class="meta" id="spot-text">
                        {if has_spot {
                            format!("{}{}, {}", t(lang, "已定位:", "Position: "), kept(&k, "lat"), kept(&k, "lng"))
                        } else {
                            t(
                                    lang,
                                    "请在下面填写地点(楼栋、单元、门牌)。",
                                    "Please type the place below (building, entrance, door).",
                                )
                                .to_string()
                        }}
                    </p>
                    <button type="button" id="locate" hidden>
                        {t(lang, "重新定位", "Locate again")}
                    </button>
                    <label>
                        {t(lang, "地点(楼栋、单元、门牌)", "Place (building, entrance, door)")}
                        <input type="text" name="address" maxlength="200" value=kept(&k, "address") />
                    </label>
                </fieldset>
                <div id="nearby" class="notice" hidden aria-live="polite"></div>
                <fieldset>
                    <legend>{t(lang, "照片(最多 9 张)", "Photos (at most 9)")}</legend>
                    {(!d.photos.is_empty())
                        .then(|| {
                            view! {
                                <p class="meta">{t(lang, "已保留的照片:", "Photos kept: ")}{d.photos.len()}</p>
                                <Thumbs ids=d.photos.clone() />
                            }
                        })}
                    <PhotoInputs room=room lang=lang />
                </fieldset>
                <button type="submit" class="primary">
                    {t(lang, "提交上报", "Send")}
                </button>
                <p class="meta" id="offline-note" role="status"></p>
            </form>
        </section>
    }
    .into_any()
}

/// One file input per photo (a `multiple` input loses the camera on Android
/// WeChat, mobile.md): three shown, the rest behind "more".
#[component]
fn PhotoInputs(room: usize, lang: Lang) -> impl IntoView {
    let first: Vec<usize> = (1..=room.min(3)).collect();
    let more: Vec<usize> = (4..=room).collect();
    view! {
        {first
            .into_iter()
            .map(|n| {
                view! {
                    <input
                        type="file"
                        name=format!("photo{n}")
                        accept="image/*"
                        aria-label=format!("{} {n}", t(lang, "照片", "Photo"))
                    />
                }
            })
            .collect_view()}
        {(!more.is_empty())
            .then(|| {
                view! {
                    <details>
                        <summary>{t(lang, "更多照片", "More photos")}</summary>
                        {more
                            .into_iter()
                            .map(|n| {
                                view! {
                                    <input
                                        type="file"
                                        name=format!("photo{n}")
                                        accept="image/*"
                                        aria-label=format!("{} {n}", t(lang, "照片", "Photo"))
                                    />
                                }
                            })
                            .collect_view()}
                    </details>
                }
            })}
    }
    .into_any()
}

#[component]
fn Thumbs(ids: Vec<i64>) -> impl IntoView {
    view! {
        <div class="thumbs">
            {ids
                .into_iter()
                .map(|id| {
                    view! {
                        <a href=format!("/incidents/photos/{id}/full") target="_blank">
                            <img
                                src=format!("/incidents/photos/{id}/thumb")
                                alt=""
                                loading="lazy"
                                width="96"
                                height="96"
                            />
                        </a>
                    }
                })
                .collect_view()}
        </div>
    }
    .into_any()
}

fn status_class(r: &IncidentRow) -> &'static str {
    if r.overdue {
        "pill danger"
    } else {
        match r.status {
            Status::Closed => "pill ok",
            Status::Rejected => "pill muted",
            Status::Reported => "pill warn",
            _ => "pill",
        }
    }
}

#[component]
pub fn IncidentRows(rows: Vec<IncidentRow>, lang: Lang) -> impl IntoView {
    view! {
        <ul class="list incidents">
            {rows
                .into_iter()
                .map(|r| {
                    let class = status_class(&r);
                    view! {
                        <li class:overdue=r.overdue>
                            <a href=format!("/incidents/{}", r.id) class="title">
                                {format!("#{} {} · {}", r.id, r.category.name(lang.is_en()), r.summary)}
                            </a>
                            <span class="meta">
                                <span class=class>
                                    {r.status.text(lang.is_en())}
                                    {r.overdue.then(|| t(lang, " · 已超期", " · overdue"))}
                                </span>
                                " "
                                {r.place.clone()}
                                " · "
                                <span class="nw">{r.reported_at.clone()}</span>
                                {r
                                    .deadline
                                    .clone()
                                    .map(|d| {
                                        view! {
                                            " · "
                                            {t(lang, "时限 ", "due ")}
                                            <span class="nw">{d}</span>
                                        }
                                    })}
                                {r.assignee.clone().map(|a| format!(" · {a}"))}
                                {(r.photos > 0).then(|| format!(" · {} {}", r.photos, t(lang, "张照片", "photos")))}
                                {r.distance_m.map(|m| format!(" · {:.0} {}", m, t(lang, "米", "m")))}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
