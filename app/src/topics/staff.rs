//! Topics for staff: review of proposals, hidden comments, meetings.

use super::*;

// ------------------------------------------------------------------ staff

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffTopicsData {
    pub topics: Vec<TopicView>,
    pub queue: Vec<CommentView>,
    pub communities: Vec<(i64, String)>,
}

#[server]
pub async fn staff_topics() -> Result<StaffTopicsData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let communities = backend::support::scope::staff_communities(&state, &user).await.map_err(app_err)?;
    let topics = backend::topics::staff_list(&state, &user).await.map_err(app_err)?;
    let queue = backend::topics::moderation_queue(&state, &user).await.map_err(app_err)?;
    Ok(StaffTopicsData { topics, queue, communities })
}

#[server]
pub async fn create_topic(
    community_id: String,
    title: String,
    body: String,
    answer_days: String,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let keep = [
        ("community_id", community_id.as_str()),
        ("title", title.as_str()),
        ("body", body.as_str()),
        ("answer_days", answer_days.as_str()),
    ];
    let result = match (community_id.trim().parse::<i64>(), domain::topics::parse_answer_days(&answer_days)) {
        (Ok(c), Ok(days)) => {
            if user.is_staff() {
                backend::topics::propose(&state, &user, c, &title, &body, days).await
            } else {
                Err(domain::ErrorCode::Forbidden.into())
            }
        }
        (Err(_), _) => Err(domain::ErrorCode::InvalidInput.into()),
        (_, Err(e)) => Err(e.into()),
    };
    match result {
        Ok(id) => {
            leptos_actix::redirect(&format!("/topics/{id}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/topics", &keep)),
    }
}

#[server]
pub async fn review_topic(id: i64, decision: String, answer_days: String, note: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let result = match domain::topics::parse_answer_days(&answer_days) {
        Ok(days) => backend::topics::review(&state, &user, id, decision == "publish", days, &note).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => {
            leptos_actix::redirect(&format!("/staff/topics?reviewed={decision}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/topics", &[])),
    }
}

#[component]
pub fn StaffTopicsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| staff_topics());
    view! {
        <Page
            title=("议事管理", "Deliberation")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = q("error").map(|c| code_text(&c, lang));
                view! {
                    {q("reviewed")
                        .map(|d| {
                            view! {
                                <p class="success" role="status">
                                    {if d == "publish" {
                                        t(lang, "议题已发布", "Published")
                                    } else {
                                        t(lang, "已退回提议人", "Returned to the proposer")
                                    }}
                                </p>
                            }
                        })}
                    {q("moderated")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已处理", "Done")}
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
                            let kept_c = q("community_id").and_then(|v| v.parse::<i64>().ok());
                            let pending: Vec<TopicView> = d
                                .topics
                                .iter()
                                .filter(|x| x.status == TopicStatus::Pending)
                                .cloned()
                                .collect();
                            let others: Vec<TopicView> = d
                                .topics
                                .iter()
                                .filter(|x| x.status != TopicStatus::Pending)
                                .cloned()
                                .collect();
                            view! {
                                <div class="console">
                                    <section class="card wide-card">
                                        <h2>{t(lang, "待审核的居民提议", "Proposals to review")}</h2>
                                        {if pending.is_empty() {
                                            view! {
                                                <p class="empty">
                                                    {t(lang, "没有待审核的提议", "Nothing to review")}
                                                </p>
                                            }
                                                .into_any()
                                        } else {
                                            view! {
                                                <ul class="list">
                                                    {pending
                                                        .into_iter()
                                                        .map(|x| {
                                                            view! {
                                                                <li class="proposal">
                                                                    <span class="title">
                                                                        <a href=format!("/topics/{}", x.id)>{x.title.clone()}</a>
                                                                    </span>
                                                                    <span class="meta">
                                                                        {x.community.clone()}" · "{x.proposer.clone()}" · "
                                                                        <span class="nw">{x.created_at.clone()}</span>
                                                                    </span>
                                                                    <form
                                                                        method="post"
                                                                        action=ReviewTopic::PATH
                                                                        class="inline-form"
                                                                    >
                                                                        <input type="hidden" name="id" value=x.id.to_string() />
                                                                        <label>
                                                                            {t(lang, "答复期限(天)", "Answer within (days)")}
                                                                            <input
                                                                                type="text"
                                                                                name="answer_days"
                                                                                inputmode="numeric"
                                                                                maxlength="2"
                                                                                value="7"
                                                                            />
                                                                        </label>
                                                                        <input
                                                                            type="text"
                                                                            name="note"
                                                                            maxlength="200"
                                                                            placeholder=t(lang, "退回原因", "Reason if returned")
                                                                            aria-label=t(lang, "退回原因", "Reason if returned")
                                                                        />
                                                                        <button
                                                                            type="submit"
                                                                            name="decision"
                                                                            value="publish"
                                                                            class="primary"
                                                                        >
                                                                            {t(lang, "发布", "Publish")}
                                                                        </button>
                                                                        <button type="submit" name="decision" value="reject">
                                                                            {t(lang, "退回", "Return")}
                                                                        </button>
                                                                    </form>
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            }
                                                .into_any()
                                        }}
                                    </section>
                                    <section class="card wide-card">
                                        <h2>{t(lang, "待审核的评论", "Reported comments")}</h2>
                                        {if d.queue.is_empty() {
                                            view! {
                                                <p class="empty">
                                                    {t(lang, "没有被举报的评论", "No reported comments")}
                                                </p>
                                            }
                                                .into_any()
                                        } else {
                                            view! {
                                                <ul class="list">
                                                    {d
                                                        .queue
                                                        .iter()
                                                        .map(|c| {
                                                            view! {
                                                                <li class="reported">
                                                                    <span class="title">
                                                                        <a href=format!(
                                                                            "/topics/{}#c{}",
                                                                            c.topic_id,
                                                                            c.id,
                                                                        )>{c.topic.clone()}</a>
                                                                    </span>
                                                                    <span class="meta">
                                                                        {c.author.clone()}{t(lang, " · 举报 ", " · reports ")}
                                                                        {c.reports}
                                                                        {(c.status == CommentStatus::Hidden)
                                                                            .then(|| t(lang, " · 已隐藏", " · hidden"))}
                                                                    </span>
                                                                    <span>{c.body.clone()}</span>
                                                                    <form
                                                                        method="post"
                                                                        action=ModerateComment::PATH
                                                                        class="inline-form"
                                                                    >
                                                                        <input
                                                                            type="hidden"
                                                                            name="id"
                                                                            value=c.topic_id.to_string()
                                                                        />
                                                                        <input
                                                                            type="hidden"
                                                                            name="comment"
                                                                            value=c.id.to_string()
                                                                        />
                                                                        <input type="hidden" name="back" value="staff" />
                                                                        <button type="submit" name="keep" value="1">
                                                                            {t(lang, "保留", "Keep")}
                                                                        </button>
                                                                        <button type="submit" name="keep" value="0">
                                                                            {t(lang, "删除", "Remove")}
                                                                        </button>
                                                                    </form>
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            }
                                                .into_any()
                                        }}
                                    </section>
                                    <section class="card wide-card">
                                        <h2>{t(lang, "议题", "Topics")}</h2>
                                        <TopicList lang=lang topics=others />
                                    </section>
                                    <section class="card wide-card">
                                        <h2>{t(lang, "发布议题", "Publish a topic")}</h2>
                                        <form method="post" action=CreateTopic::PATH class="stack">
                                            <label>
                                                {t(lang, "社区", "Community")} <select name="community_id" required>
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
                                                {t(
                                                    lang,
                                                    "背景材料(空行分段)",
                                                    "Background (blank line between paragraphs)",
                                                )}<textarea name="body" required maxlength="10000" rows="6">
                                                    {q("body").unwrap_or_default()}
                                                </textarea>
                                            </label>
                                            <label>
                                                {t(lang, "官方答复期限(天)", "Official answer within (days)")}
                                                <input
                                                    type="text"
                                                    name="answer_days"
                                                    inputmode="numeric"
                                                    maxlength="2"
                                                    value=q("answer_days").unwrap_or_else(|| "7".into())
                                                />
                                            </label>
                                            <button type="submit" class="primary">
                                                {t(lang, "发布", "Publish")}
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
