//! 社区公告: residents read, staff publish. Pages and their server functions.

use crate::i18n::{t, Lang};
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub org_name: String,
    pub author_name: String,
    pub pinned: bool,
    /// Beijing time, "2026-11-22 09:30"
    pub published: String,
    pub read: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnnouncementPage {
    pub items: Vec<Announcement>,
    pub total: u64,
    pub unread: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublishForm {
    pub targets: Vec<(i64, String)>,
    pub org_unit_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub pinned: bool,
    /// As typed (Beijing time, `datetime-local`), kept after an error.
    pub publish_at: String,
}

pub const PAGE_SIZE: u64 = 20;

#[cfg(feature = "ssr")]
pub fn to_view(v: backend::announcements::AnnouncementView) -> Announcement {
    let bj = chrono_fmt(v.published_at);
    Announcement {
        id: v.id,
        title: v.title,
        body: v.body,
        org_name: v.org_name,
        author_name: v.author_name,
        pinned: v.pinned,
        published: bj,
        read: v.read,
    }
}

#[cfg(feature = "ssr")]
fn chrono_fmt(t: backend::announcements::Timestamp) -> String {
    domain::time::beijing_time(t)
}

#[server]
pub async fn list_announcements(page: u64) -> Result<AnnouncementPage, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let l = backend::announcements::list(&state, &user, PAGE_SIZE, page.saturating_mul(PAGE_SIZE))
        .await
        .map_err(app_err)?;
    Ok(AnnouncementPage { items: l.items.into_iter().map(to_view).collect(), total: l.total, unread: l.unread })
}

#[server]
pub async fn get_announcement(id: i64) -> Result<Announcement, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let v = backend::announcements::read(&state, &user, id).await.map_err(|e| {
        if e.code == domain::ErrorCode::NotFound {
            if let Some(res) = use_context::<leptos_actix::ResponseOptions>() {
                res.set_status(actix_web::http::StatusCode::NOT_FOUND);
            }
        }
        app_err(e)
    })?;
    Ok(to_view(v))
}

#[server]
pub async fn get_publish_form(draft: Option<String>) -> Result<PublishForm, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    if !user.is_staff() {
        return Err(err(domain::ErrorCode::Forbidden));
    }
    let targets = backend::org::publish_targets(&state, &user).await.map_err(app_err)?;
    let kept = match draft {
        Some(k) => state.flash.get(&k, Some(user.id)).await,
        None => Vec::new(),
    };
    let field = |name: &str| kept.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    Ok(PublishForm {
        targets: targets.into_iter().map(|n| (n.id, n.name)).collect(),
        org_unit_id: field("org_unit_id").and_then(|v| v.parse().ok()),
        title: field("title").unwrap_or_default(),
        body: field("body").unwrap_or_default(),
        pinned: field("pinned").is_some(),
        publish_at: field("publish_at").unwrap_or_default(),
    })
}

/// Announcements set to go out later, for the staff console.
#[server]
pub async fn list_scheduled() -> Result<Vec<Announcement>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let rows = backend::announcements::scheduled(&state, &user).await.map_err(app_err)?;
    Ok(rows.into_iter().map(to_view).collect())
}

#[server]
pub async fn publish_announcement(
    org_unit_id: String,
    title: String,
    body: String,
    pinned: Option<String>,
    publish_at: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    use domain::text::{AnnouncementBody, AnnouncementTitle};
    let state = state()?;
    let user = require_staff("/staff")?;
    let parsed = (|| {
        let org_unit_id: i64 = org_unit_id.trim().parse().map_err(|_| domain::ErrorCode::InvalidInput)?;
        Ok::<_, domain::ErrorCode>(backend::announcements::NewAnnouncement {
            org_unit_id,
            title: AnnouncementTitle::parse(&title)?,
            body: AnnouncementBody::parse(&body)?,
            pinned: pinned.is_some(),
            publish_at: match publish_at.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(t) => Some(
                    domain::time::parse_beijing_local(t)
                        .and_then(|secs| backend::announcements::Timestamp::from_timestamp(secs, 0))
                        .ok_or(domain::ErrorCode::InvalidTime)?,
                ),
            },
        })
    })();
    let result = match parsed {
        Ok(new) => backend::announcements::publish(&state, &user, new).await,
        Err(code) => Err(code.into()),
    };
    match result {
        Ok(id) => {
            leptos_actix::redirect(&format!("/staff?{}", query(&[("published", &id.to_string())])));
            Ok(())
        }
        Err(e) => {
            let mut kept = vec![
                ("org_unit_id".to_string(), org_unit_id),
                ("title".to_string(), title),
                ("body".to_string(), body),
            ];
            if let Some(t) = publish_at {
                kept.push(("publish_at".into(), t));
            }
            if pinned.is_some() {
                kept.push(("pinned".into(), "1".into()));
            }
            let key = state.flash.put(Some(user.id), kept).await;
            Err(form_error(e, "/staff", &[("draft", &key)]))
        }
    }
}

fn paragraphs(body: &str) -> impl IntoView {
    body.split("\n\n")
        .map(|p| {
            let lines: Vec<String> = p.lines().map(str::to_string).collect();
            view! {
                <p>
                    {lines
                        .into_iter()
                        .enumerate()
                        .map(|(i, l)| {
                            view! {
                                {(i > 0).then(|| view! { <br /> })}
                                {l}
                            }
                        })
                        .collect_view()}
                </p>
            }
        })
        .collect_view()
}

#[component]
pub fn AnnouncementList(items: Vec<Announcement>, lang: Lang) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="empty">{t(lang, "暂无公告", "No notices yet")}</p> }.into_any();
    }
    view! {
        <ul class="list">
            {items
                .into_iter()
                .map(|a| {
                    let href = format!("/announcements/{}", a.id);
                    view! {
                        <li class:unread=!a.read>
                            <a href=href>
                                <span class="title">
                                    {a.pinned.then(|| view! { <span class="tag">{t(lang, "置顶", "Pinned")}</span> })}
                                    {(!a.read)
                                        .then(|| {
                                            view! {
                                                <span class="dot" aria-label=t(lang, "未读", "unread")>
                                                    "●"
                                                </span>
                                            }
                                        })} {a.title}
                                </span>
                                <span class="meta">{a.org_name}" · "<span class="nw">{a.published}</span></span>
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
pub fn AnnouncementsPage() -> impl IntoView {
    let page = move || use_query_map().with(|m| m.get("page").and_then(|p| p.parse::<u64>().ok()).unwrap_or(0));
    let data = Resource::new(page, list_announcements);
    view! {
        <Page
            title=("社区公告", "Notices")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(p) => {
                                    let current = page();
                                    let more = (current + 1) * PAGE_SIZE < p.total;
                                    view! {
                                        <p class="summary">
                                            {t(lang, "未读 ", "Unread: ")}
                                            <strong class="unread-count">{p.unread}</strong>
                                            {t(lang, " 条,共 ", " of ")}{p.total}{t(lang, " 条", "")}
                                        </p>
                                        <AnnouncementList items=p.items lang=lang />
                                        <nav class="pager">
                                            {(current > 0)
                                                .then(|| {
                                                    view! {
                                                        <a href=format!(
                                                            "/announcements?page={}",
                                                            current - 1,
                                                        )>{t(lang, "上一页", "Previous")}</a>
                                                    }
                                                })}
                                            {more
                                                .then(|| {
                                                    view! {
                                                        <a href=format!(
                                                            "/announcements?page={}",
                                                            current + 1,
                                                        )>{t(lang, "下一页", "Next")}</a>
                                                    }
                                                })}
                                        </nav>
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

#[component]
pub fn AnnouncementPage() -> impl IntoView {
    let id = move || use_params_map().with(|m| m.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let data = Resource::new(id, get_announcement);
    view! {
        <Page
            title=("公告详情", "Notice")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(a) => {
                                    view! {
                                        <article class="card notice-body">
                                            <h2>{a.title}</h2>
                                            <p class="meta">
                                                {a.org_name}" · "{a.author_name}" · "
                                                <span class="nw">{a.published}</span>
                                            </p>
                                            {paragraphs(&a.body)}
                                        </article>
                                        <p>
                                            <a href="/announcements">
                                                {t(lang, "← 返回公告列表", "← All notices")}
                                            </a>
                                        </p>
                                    }
                                        .into_any()
                                }
                                Err(e) => {
                                    view! {
                                        <FormError message=Some(error_text(&e, lang)) />
                                        <p>
                                            <a href="/announcements">
                                                {t(lang, "← 返回公告列表", "← All notices")}
                                            </a>
                                        </p>
                                    }
                                        .into_any()
                                }
                            }
                        })}
                    </Suspense>
                }
            }
        />
    }
}

#[component]
pub fn StaffConsolePage() -> impl IntoView {
    let draft = use_query_map().with_untracked(|m| m.get("draft"));
    let form = Resource::new(move || draft.clone(), get_publish_form);
    let list = Resource::new(|| 0u64, list_announcements);
    let scheduled = Resource::new(|| (), |_| list_scheduled());
    view! {
        <Page
            title=("工作台", "Console")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = use_query_map().with_untracked(|m| m.get("error")).map(|c| code_text(&c, lang));
                let published = use_query_map().with_untracked(|m| m.get("published"));
                view! {
                    <div class="console">
                        <p class="quick-links wide-card">
                            <a href="/staff/votes">{t(lang, "投票管理", "Votes")}</a>
                            " · "
                            <a href="/staff/residences">{t(lang, "住户认证审核", "Residence requests")}</a>
                            " · "
                            <a href="/staff/import">{t(lang, "导入住户", "Import households")}</a>
                            " · "
                            <a href="/announcements">{t(lang, "公告列表", "Notices")}</a>
                            " · "
                            <a href="/staff/patrol">{t(lang, "巡逻线路", "Patrol routes")}</a>
                            " · "
                            <a href="/staff/patrol/patrols">{t(lang, "巡逻记录", "Patrols")}</a>
                            " · "
                            <a href="/staff/incidents">{t(lang, "事件办理", "Incidents")}</a>
                            " · "
                            <a href="/staff/figures">{t(lang, "考核指标", "Figures")}</a>
                            " · "
                            <a href="/staff/topics">{t(lang, "议事协商", "Deliberation")}</a>
                            " · "
                            <a href="/staff/volunteer">{t(lang, "志愿服务", "Volunteering")}</a>
                            " · "
                            <a href="/staff/points">{t(lang, "积分与积分超市", "Points and the points mall")}</a>
                        </p>
                        <section class="card">
                            <h2>{t(lang, "发布公告", "Publish a notice")}</h2>
                            {published
                                .map(|id| {
                                    view! {
                                        <p class="success" role="status">
                                            {t(lang, "公告已发布。", "The notice is published. ")}
                                            <a href=format!("/announcements/{id}")>{t(lang, "查看", "View")}</a>
                                        </p>
                                    }
                                })}
                            <FormError message=error />
                            <Suspense fallback=|| ()>
                                {move || Suspend::new(async move {
                                    match form.await {
                                        Ok(f) => {
                                            let selected = f.org_unit_id;
                                            view! {
                                                <form method="post" action=PublishAnnouncement::PATH class="stack">
                                                    <label>
                                                        {t(lang, "发布范围", "Audience")}
                                                        <select name="org_unit_id" required>
                                                            {f
                                                                .targets
                                                                .into_iter()
                                                                .map(|(id, name)| {
                                                                    view! {
                                                                        <option value=id.to_string() selected=Some(id) == selected>
                                                                            {name}
                                                                        </option>
                                                                    }
                                                                })
                                                                .collect_view()}
                                                        </select>
                                                    </label>
                                                    <label>
                                                        {t(lang, "标题", "Title")}
                                                        <input
                                                            type="text"
                                                            name="title"
                                                            required
                                                            maxlength="60"
                                                            value=f.title
                                                        />
                                                    </label>
                                                    <label>
                                                        {t(lang, "正文", "Text")}
                                                        <textarea name="body" required rows="8" maxlength="5000">
                                                            {f.body}
                                                        </textarea>
                                                    </label>
                                                    <label class="check">
                                                        <input
                                                            type="checkbox"
                                                            name="pinned"
                                                            value="1"
                                                            checked=f.pinned
                                                        />
                                                        {t(lang, "置顶", "Pin to top")}
                                                    </label>
                                                    <label>
                                                        {t(
                                                            lang,
                                                            "定时发布(北京时间,留空则立即发布)",
                                                            "Publish later (Beijing time; empty publishes now)",
                                                        )}
                                                        <input
                                                            type="datetime-local"
                                                            name="publish_at"
                                                            value=f.publish_at
                                                        />
                                                    </label>
                                                    <button type="submit" class="primary">
                                                        {t(lang, "发布", "Publish")}
                                                    </button>
                                                </form>
                                            }
                                                .into_any()
                                        }
                                        Err(e) => view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                                    }
                                })}
                            </Suspense>
                        </section>
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                match scheduled.await {
                                    Ok(items) if !items.is_empty() => {
                                        view! {
                                            <section class="card" id="scheduled">
                                                <h2>{t(lang, "待发布", "Scheduled")}</h2>
                                                <ul class="list">
                                                    {items
                                                        .into_iter()
                                                        .map(|a| {
                                                            view! {
                                                                <li>
                                                                    <a href=format!("/announcements/{}", a.id)>{a.title}</a>
                                                                    <span class="meta">
                                                                        {a.org_name}" · "{t(lang, "将于 ", "at ")}
                                                                        <span class="nw">{a.published}</span>
                                                                        {t(lang, " 发布", "")}
                                                                    </span>
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            </section>
                                        }
                                            .into_any()
                                    }
                                    Ok(_) => ().into_any(),
                                    Err(e) => view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                                }
                            })}
                        </Suspense>
                        <section class="card">
                            <h2>{t(lang, "已发布", "Published")}</h2>
                            <Suspense fallback=|| ()>
                                {move || Suspend::new(async move {
                                    match list.await {
                                        Ok(p) => view! { <AnnouncementList items=p.items lang=lang /> }.into_any(),
                                        Err(e) => view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                                    }
                                })}
                            </Suspense>
                        </section>
                        <crate::home::ContactsCard lang=lang />
                    </div>
                }
            }
        />
    }
}
