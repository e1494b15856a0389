//! One topic: its material, comments in threads, reports and the official answer.

use super::*;

// ------------------------------------------------------------------ one topic

#[server]
pub async fn load_topic(id: i64) -> Result<TopicPage, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::topics::page(&state, &user, id).await.map_err(app_err)
}

#[server]
pub async fn read_topic(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::topics::mark_read(&state, &user, id).await {
        Ok(p) => {
            leptos_actix::redirect(&format!("{}?read={p}", topic_path(id)));
            Ok(())
        }
        Err(e) => Err(form_error(e, &topic_path(id), &[])),
    }
}

#[server]
pub async fn post_comment(
    id: i64,
    parent: Option<String>,
    body: String,
    official: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let parent = parent.and_then(|p| p.trim().parse::<i64>().ok());
    let official = official.is_some_and(|o| !o.is_empty());
    match backend::topics::comment(&state, &user, id, parent, &body, official).await {
        Ok(c) => {
            leptos_actix::redirect(&format!("{}?commented=1#c{c}", topic_path(id)));
            Ok(())
        }
        Err(e) => {
            let p = parent.map(|p| p.to_string()).unwrap_or_default();
            Err(form_error(e, &topic_path(id), &[("body", body.as_str()), ("parent", p.as_str())]))
        }
    }
}

#[server]
pub async fn report_comment(id: i64, comment: i64, reason: Option<String>) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::topics::report(&state, &user, comment, reason.as_deref().unwrap_or("")).await {
        Ok(_) => {
            leptos_actix::redirect(&format!("{}?reported=1#c{comment}", topic_path(id)));
            Ok(())
        }
        Err(e) => Err(form_error(e, &topic_path(id), &[])),
    }
}

#[server]
pub async fn moderate_comment(id: i64, comment: i64, keep: String, back: Option<String>) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = if back.as_deref() == Some("staff") { "/staff/topics".to_string() } else { topic_path(id) };
    match backend::topics::moderate(&state, &user, comment, keep == "1").await {
        Ok(()) => {
            leptos_actix::redirect(&format!("{page}?moderated={keep}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[])),
    }
}

#[server]
pub async fn link_topic_vote(id: i64, vote_id: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let v = vote_id.trim().parse::<i64>().ok();
    match backend::topics::link_vote(&state, &user, id, v).await {
        Ok(()) => {
            leptos_actix::redirect(&format!("{}?linked=1", topic_path(id)));
            Ok(())
        }
        Err(e) => Err(form_error(e, &topic_path(id), &[])),
    }
}

#[server]
pub async fn record_topic_meeting(id: i64, phones: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::topics::record_meeting(&state, &user, id, &phones).await {
        Ok(n) => {
            leptos_actix::redirect(&format!("{}?met={n}", topic_path(id)));
            Ok(())
        }
        Err(e) => Err(form_error(e, &topic_path(id), &[("phones", phones.as_str())])),
    }
}

#[server]
pub async fn close_topic(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::topics::close(&state, &user, id).await {
        Ok(()) => {
            leptos_actix::redirect(&format!("{}?closed=1", topic_path(id)));
            Ok(())
        }
        Err(e) => Err(form_error(e, &topic_path(id), &[])),
    }
}

/// Paragraphs of the materials.
fn paragraphs(body: &str) -> Vec<String> {
    body.split("\n\n").map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()
}

#[component]
fn CommentItem(c: CommentView, topic: i64, open: bool, moderator: bool, lang: Lang) -> impl IntoView {
    // a reply refused (e.g. empty or too long) comes back open with its text
    let kept = (q("parent").as_deref() == Some(c.id.to_string().as_str())).then(|| q("body").unwrap_or_default());
    let class = format!("comment depth{}{}", c.depth, if c.official { " official" } else { "" });
    let hidden = c.status != CommentStatus::Visible;
    let note = match c.status {
        CommentStatus::Hidden => Some(t(
            lang,
            "该评论因被多人举报已暂时隐藏,等待工作人员审核。",
            "Hidden after several reports, waiting for staff review.",
        )),
        CommentStatus::Removed => Some(t(lang, "该评论已被工作人员删除。", "Removed by staff.")),
        CommentStatus::Visible => None,
    };
    let id = c.id;
    view! {
        <li class=class id=format!("c{id}")>
            <p class="meta">
                <strong>{c.author.clone()}</strong>
                {c
                    .official
                    .then(|| {
                        view! {
                            " "
                            <span class="badge-official">{t(lang, "官方答复", "Official answer")}</span>
                        }
                    })}
                " · "
                <span class="nw">{c.created_at.clone()}</span>
                {(moderator && c.reports > 0)
                    .then(|| format!("{}{}", t(lang, " · 举报 ", " · reports "), c.reports))}
            </p>
            {note.map(|n| view! { <p class="meta muted">{n}</p> })}
            {(!c.body.is_empty())
                .then(|| view! { <p class=if hidden { "body muted" } else { "body" }>{c.body.clone()}</p> })}
            <div class="actions">
                {(open && !hidden)
                    .then(|| {
                        view! {
                            <details class="reply" open=kept.is_some()>
                                <summary>{t(lang, "回复", "Reply")}</summary>
                                <form method="post" action=PostComment::PATH class="stack">
                                    <input type="hidden" name="id" value=topic.to_string() />
                                    <input type="hidden" name="parent" value=id.to_string() />
                                    <label class="sr-only" for=format!("reply{id}")>
                                        {t(lang, "回复内容", "Your reply")}
                                    </label>
                                    <textarea id=format!("reply{id}") name="body" required maxlength="1000" rows="3">
                                        {kept.clone().unwrap_or_default()}
                                    </textarea>
                                    {moderator
                                        .then(|| {
                                            view! {
                                                <label class="check">
                                                    <input type="checkbox" name="official" value="1" />
                                                    <span>
                                                        {t(lang, "作为官方答复", "As the official answer")}
                                                    </span>
                                                </label>
                                            }
                                        })}
                                    <button type="submit">{t(lang, "发表回复", "Reply")}</button>
                                </form>
                            </details>
                        }
                    })}
                {(!c.mine && !c.official && !c.i_reported && !hidden)
                    .then(|| {
                        view! {
                            <form method="post" action=ReportComment::PATH class="inline-form">
                                <input type="hidden" name="id" value=topic.to_string() />
                                <input type="hidden" name="comment" value=id.to_string() />
                                <button type="submit" class="link">
                                    {t(lang, "举报", "Report")}
                                </button>
                            </form>
                        }
                    })} {c.i_reported.then(|| view! { <span class="meta">{t(lang, "已举报", "Reported")}</span> })}
                {(moderator && !c.reviewed && c.reports > 0 && c.status != CommentStatus::Removed)
                    .then(|| {
                        view! {
                            <form method="post" action=ModerateComment::PATH class="inline-form">
                                <input type="hidden" name="id" value=topic.to_string() />
                                <input type="hidden" name="comment" value=id.to_string() />
                                <button type="submit" name="keep" value="1">
                                    {t(lang, "保留", "Keep")}
                                </button>
                                <button type="submit" name="keep" value="0">
                                    {t(lang, "删除", "Remove")}
                                </button>
                            </form>
                        }
                    })}
            </div>
        </li>
    }
}

#[component]
fn StaffTopicTools(p: TopicPage, lang: Lang) -> impl IntoView {
    let id = p.topic.id;
    let linked = p.topic.vote.as_ref().map(|v| v.0);
    view! {
        <section class="card">
            <h2>{t(lang, "工作人员", "Staff")}</h2>
            <form method="post" action=LinkTopicVote::PATH class="stack">
                <input type="hidden" name="id" value=id.to_string() />
                <label>
                    {t(lang, "关联投票", "Linked vote")} <select name="vote_id">
                        <option value="">{t(lang, "(不关联)", "(none)")}</option>
                        {p
                            .linkable_votes
                            .iter()
                            .map(|(v, title)| {
                                view! {
                                    <option value=v.to_string() selected=Some(*v) == linked>
                                        {title.clone()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <button type="submit">{t(lang, "保存", "Save")}</button>
            </form>
            <form method="post" action=RecordTopicMeeting::PATH class="stack">
                <input type="hidden" name="id" value=id.to_string() />
                <label>
                    {t(
                        lang,
                        "议事会到会居民手机号(每行一个)",
                        "Phones of residents at the meeting (one per line)",
                    )} <textarea name="phones" rows="3" maxlength="2000">
                        {q("phones").unwrap_or_default()}
                    </textarea>
                </label>
                <button type="submit">{t(lang, "记录到会", "Record attendance")}</button>
            </form>
            {(p.topic.status == TopicStatus::Published)
                .then(|| {
                    view! {
                        <form method="post" action=CloseTopic::PATH>
                            <input type="hidden" name="id" value=id.to_string() />
                            <button type="submit">{t(lang, "结束讨论", "Close the discussion")}</button>
                        </form>
                    }
                })}
        </section>
    }
    .into_any()
}

#[component]
pub fn TopicPageView() -> impl IntoView {
    let id = param_id();
    let data = Resource::new(move || id, load_topic);
    view! {
        <Page
            title=("议题", "Topic")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let error = q("error").map(|c| code_text(&c, lang));
                view! {
                    {q("proposed")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(
                                        lang,
                                        "已提交,工作人员审核通过后公开。",
                                        "Submitted; it is published once staff have reviewed it.",
                                    )}
                                </p>
                            }
                        })}
                    {q("read")
                        .map(|p| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "感谢阅读!", "Thanks for reading! ")}
                                    {(p != "0")
                                        .then(|| {
                                            format!(
                                                "{}{p}{}",
                                                t(lang, "参与积分 +", "Participation points +"),
                                                t(lang, "", ""),
                                            )
                                        })}
                                </p>
                            }
                        })}
                    {q("commented")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "评论已发表", "Comment posted")}
                                </p>
                            }
                        })}
                    {q("reported")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已举报,感谢您维护讨论秩序。", "Reported. Thank you.")}
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
                    {q("met")
                        .map(|n| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已记录到会 ", "Recorded ")}
                                    {n}
                                    {t(lang, " 人", " people")}
                                </p>
                            }
                        })}
                    <FormError message=error />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let p = match data.await {
                                Ok(p) => p,
                                Err(e) => return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            };
                            let tp = p.topic.clone();
                            let open = tp.status == TopicStatus::Published;
                            let moderator = tp.can_moderate;
                            let kept_parent = q("parent").unwrap_or_default();
                            let kept_body = if kept_parent.is_empty() {
                                q("body").unwrap_or_default()
                            } else {
                                String::new()
                            };
                            view! {
                                <article class="card topic">
                                    <h2>{tp.title.clone()}</h2>
                                    <p class="meta">
                                        {tp.community.clone()}" · "
                                        {if tp.by_resident {
                                            t(lang, "居民提议:", "Proposed by ")
                                        } else {
                                            t(lang, "社区发布:", "Published by ")
                                        }}{tp.proposer.clone()}" · "
                                        <span class=status_class(tp.status)>{tp.status.label(en)}</span>
                                    </p>
                                    {tp
                                        .review_note
                                        .clone()
                                        .filter(|_| tp.status == TopicStatus::Rejected)
                                        .map(|n| {
                                            view! {
                                                <p class="form-error">{t(lang, "未通过原因:", "Reason: ")}{n}</p>
                                            }
                                        })}
                                    {tp
                                        .answer_due_at
                                        .clone()
                                        .map(|d| {
                                            view! {
                                                <p class=if tp.overdue {
                                                    "meta overdue"
                                                } else {
                                                    "meta"
                                                }>
                                                    {crate::layout::nw_text(
                                                        match &tp.answered_at {
                                                            Some(a) => {
                                                                format!(
                                                                    "{}{a}",
                                                                    t(lang, "已官方答复 ", "Officially answered "),
                                                                )
                                                            }
                                                            None => {
                                                                format!(
                                                                    "{}{d}{}",
                                                                    t(lang, "官方答复期限 ", "Official answer due "),
                                                                    if tp.overdue {
                                                                        t(lang, "(已逾期)", " (overdue)")
                                                                    } else {
                                                                        ""
                                                                    },
                                                                )
                                                            }
                                                        },
                                                    )}
                                                </p>
                                            }
                                        })}
                                    <h3>{t(lang, "背景材料", "Background")}</h3>
                                    {paragraphs(&tp.body)
                                        .into_iter()
                                        .map(|para| view! { <p>{para}</p> })
                                        .collect_view()}
                                    {tp
                                        .vote
                                        .clone()
                                        .map(|(v, title)| {
                                            view! {
                                                <p class="linked-vote">
                                                    <a class="button" href=format!("/votes/{v}")>
                                                        {t(lang, "前往投票:", "Vote: ")}
                                                        {title}
                                                    </a>
                                                </p>
                                            }
                                        })}
                                    {(open && !tp.i_read)
                                        .then(|| {
                                            view! {
                                                <form method="post" action=ReadTopic::PATH>
                                                    <input type="hidden" name="id" value=tp.id.to_string() />
                                                    <button type="submit">
                                                        {t(
                                                            lang,
                                                            "我已阅读背景材料",
                                                            "I have read the background",
                                                        )}
                                                    </button>
                                                </form>
                                            }
                                        })}
                                    {tp
                                        .i_read
                                        .then(|| view! { <p class="meta">{t(lang, "✓ 已阅读", "✓ Read")}</p> })}
                                </article>
                                <section class="card">
                                    <h2>{t(lang, "讨论", "Discussion")}{format!(" ({})", tp.comments)}</h2>
                                    <ul class="comments">
                                        {p
                                            .comments
                                            .clone()
                                            .into_iter()
                                            .map(|c| {
                                                view! {
                                                    <CommentItem
                                                        c=c
                                                        topic=tp.id
                                                        open=open
                                                        moderator=moderator
                                                        lang=lang
                                                    />
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                    {open
                                        .then(|| {
                                            view! {
                                                <form method="post" action=PostComment::PATH class="stack">
                                                    <input type="hidden" name="id" value=tp.id.to_string() />
                                                    <label>
                                                        {t(lang, "发表评论", "Comment")}
                                                        <textarea name="body" required maxlength="1000" rows="3">
                                                            {kept_body.clone()}
                                                        </textarea>
                                                    </label>
                                                    {moderator
                                                        .then(|| {
                                                            view! {
                                                                <label class="check">
                                                                    <input type="checkbox" name="official" value="1" />
                                                                    <span>
                                                                        {t(lang, "作为官方答复", "As the official answer")}
                                                                    </span>
                                                                </label>
                                                            }
                                                        })}
                                                    <button type="submit" class="primary">
                                                        {t(lang, "发表", "Post")}
                                                    </button>
                                                </form>
                                            }
                                        })}
                                </section>
                                {moderator.then(|| view! { <StaffTopicTools p=p.clone() lang=lang /> })}
                            }
                                .into_any()
                        })}
                    </Suspense>
                }
            }
        />
    }
}
