//! 议事协商 pages. Residents propose topics (published after staff review),
//! read the background materials (and say so: participation points), discuss
//! in threads, report comments, and follow a linked vote. Staff review
//! proposals, publish topics with a deadline for the official answer, answer
//! officially, review reported comments, link votes and record meetings.
//! Everything is a plain form (replies open with `<details>`).

#![allow(clippy::too_many_arguments)]

mod one;
pub use one::*;
mod staff;
pub use staff::*;

use crate::i18n::{t, Lang};
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::topics::{
    CommentStatus, CommentView, TopicPage, TopicStatus, TopicView, COMMENT_POINTS, DAILY_CAP, MEETING_POINTS,
    READ_POINTS,
};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

fn q(k: &str) -> Option<String> {
    use_query_map().with_untracked(|m| m.get(k))
}

fn param_id() -> i64 {
    use_params_map().with_untracked(|m| m.get("id")).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn status_class(s: TopicStatus) -> &'static str {
    match s {
        TopicStatus::Published => "status pending",
        TopicStatus::Closed => "status approved",
        TopicStatus::Pending => "status",
        TopicStatus::Rejected => "status rejected",
    }
}

#[cfg(feature = "ssr")]
fn topic_path(id: i64) -> String {
    format!("/topics/{id}")
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicsData {
    pub topics: Vec<TopicView>,
    pub communities: Vec<(i64, String)>,
}

#[server]
pub async fn topics_home() -> Result<TopicsData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let topics = backend::topics::list_for(&state, &user).await.map_err(app_err)?;
    let communities = backend::support::scope::visible_communities(&state, &user).await.map_err(app_err)?;
    Ok(TopicsData { topics, communities })
}

#[server]
pub async fn propose_topic(community_id: String, title: String, body: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let keep = [("community_id", community_id.as_str()), ("title", title.as_str()), ("body", body.as_str())];
    let result = match community_id.trim().parse::<i64>() {
        Ok(c) => backend::topics::propose(&state, &user, c, &title, &body, 7).await,
        Err(_) => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(id) => {
            leptos_actix::redirect(&format!("/topics/{id}?proposed=1"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/topics", &keep)),
    }
}

#[component]
fn TopicList(lang: Lang, topics: Vec<TopicView>) -> impl IntoView {
    let en = lang.is_en();
    view! {
        <ul class="list topics">
            {topics
                .into_iter()
                .map(|tp| {
                    view! {
                        <li>
                            <a href=format!("/topics/{}", tp.id)>
                                <span class="title">{tp.title.clone()}</span>
                                <span class="meta">
                                    {tp.community.clone()}" · "
                                    {tp.published_at.clone().unwrap_or(tp.created_at.clone())}
                                    {t(lang, " · 评论 ", " · comments ")}{tp.comments}
                                </span>
                                {tp
                                    .overdue
                                    .then(|| {
                                        view! {
                                            <span class="overdue">
                                                {t(lang, "官方答复已逾期", "Official answer overdue")}
                                            </span>
                                        }
                                    })}
                                <span class=status_class(tp.status)>{tp.status.label(en)}</span>
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
pub fn TopicsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| topics_home());
    view! {
        <Page
            title=("议事协商", "Deliberation")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = q("error").map(|c| code_text(&c, lang));
                view! {
                    <p class="quick-links">
                        <a href="/votes">{t(lang, "投票表决", "Votes")}</a>
                        " · "
                        <a href="/points">{t(lang, "我的积分", "My points")}</a>
                    </p>
                    <FormError message=error />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let d = match data.await {
                                Ok(d) => d,
                                Err(e) => return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            };
                            let kept_c = q("community_id").and_then(|v| v.parse::<i64>().ok());
                            view! {
                                <section>
                                    {if d.topics.is_empty() {
                                        view! { <p class="empty">{t(lang, "暂时没有议题", "No topics yet")}</p> }
                                            .into_any()
                                    } else {
                                        view! { <TopicList lang=lang topics=d.topics.clone() /> }.into_any()
                                    }}
                                </section>
                                <p class="meta">
                                    {format!(
                                        "{}{READ_POINTS}{}{COMMENT_POINTS}{}{MEETING_POINTS}{}{DAILY_CAP}{}",
                                        t(
                                            lang,
                                            "参与积分:阅读议题材料 ",
                                            "Participation points: reading the materials ",
                                        ),
                                        t(lang, " 分,评论(未被删除)", ", a comment that stands "),
                                        t(lang, " 分,参加议事会 ", ", attending a meeting "),
                                        t(lang, " 分;每天最多 ", "; at most "),
                                        t(lang, " 分。投票不计分。", " a day. Voting earns nothing."),
                                    )}
                                </p>
                                {(!d.communities.is_empty())
                                    .then(|| {
                                        view! {
                                            <section class="card">
                                                <h2>{t(lang, "提出议题", "Propose a topic")}</h2>
                                                <p class="meta">
                                                    {t(
                                                        lang,
                                                        "提交后由社区工作人员审核,通过后公开讨论。",
                                                        "Staff review it first; then it is open for discussion.",
                                                    )}
                                                </p>
                                                <form method="post" action=ProposeTopic::PATH class="stack">
                                                    <label>
                                                        {t(lang, "社区", "Community")}
                                                        <select name="community_id" required>
                                                            {d
                                                                .communities
                                                                .iter()
                                                                .map(|(id, name)| {
                                                                    view! {
                                                                        <option value=id.to_string() selected=Some(*id) == kept_c>
                                                                            {name.clone()}
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
                                                            value=q("title").unwrap_or_default()
                                                        />
                                                    </label>
                                                    <label>
                                                        {t(lang, "说明与背景", "Background")}
                                                        <textarea name="body" required maxlength="10000" rows="5">
                                                            {q("body").unwrap_or_default()}
                                                        </textarea>
                                                    </label>
                                                    <button type="submit" class="primary">
                                                        {t(lang, "提交审核", "Submit for review")}
                                                    </button>
                                                </form>
                                            </section>
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
