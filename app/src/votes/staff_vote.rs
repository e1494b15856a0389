//! One vote for staff: opening, closing, paper ballots entered and confirmed by a second person.

use super::*;

#[server]
pub async fn staff_vote(id: i64) -> Result<domain::votes::StaffVote, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::votes::staff_view(&state, &user, id).await.map_err(app_err)
}

/// Open now, close now, withdraw a draft, remind non-voters.
#[server]
pub async fn vote_action(id: i64, action: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_staff("/staff/votes")?;
    let page = format!("/staff/votes/{id}");
    let done = match action.as_str() {
        "open" => backend::votes::open_now(&state, &user, id).await.map(|_| "opened".to_string()),
        "close" => backend::votes::close_now(&state, &user, id).await.map(|_| "closed".to_string()),
        "cancel" => backend::votes::cancel(&state, &user, id).await.map(|_| "cancelled".to_string()),
        "remind" => backend::votes::remind(&state, &user, id).await.map(|n| format!("reminded={n}")),
        _ => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match done {
        Ok(what) if what.starts_with("reminded") => {
            leptos_actix::redirect(&format!("{page}?{what}"));
            Ok(())
        }
        Ok(what) => {
            leptos_actix::redirect(&format!("{page}?done={what}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[])),
    }
}

/// Staff enter a paper ballot; another staff member must confirm it.
#[server]
pub async fn enter_paper_ballot(
    vote_id: i64,
    key_no: String,
    choices: String,
    note: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = format!("/staff/votes/{vote_id}");
    let note = note.unwrap_or_default();
    let keep = [("key_no", key_no.as_str()), ("choices", choices.as_str()), ("note", note.as_str())];
    let raw: Vec<String> =
        choices.split([',', ',', ' ']).filter(|c| !c.trim().is_empty()).map(|c| c.to_string()).collect();
    let result = match key_no.trim().parse::<i64>() {
        Ok(k) => backend::votes::enter_paper(&state, &user, vote_id, k, &raw, &note).await,
        Err(_) => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(_) => {
            leptos_actix::redirect(&format!("{page}?done=paper_entered"));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &keep)),
    }
}

#[server]
pub async fn decide_paper_ballot(vote_id: i64, paper_id: i64, decision: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = format!("/staff/votes/{vote_id}");
    let confirm = decision == "confirm";
    match backend::votes::decide_paper(&state, &user, paper_id, confirm).await {
        Ok(()) => {
            leptos_actix::redirect(&format!(
                "{page}?done={}",
                if confirm { "paper_confirmed" } else { "paper_rejected" }
            ));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[])),
    }
}

#[component]
pub fn StaffVotePage() -> impl IntoView {
    let id = param_id();
    let data = Resource::new(move || id, staff_vote);
    view! {
        <Page
            title=("投票管理", "Vote")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let error = q("error").map(|c| code_text(&c, lang));
                let done = q("done")
                    .map(|d| match d.as_str() {
                        "opened" => {
                            t(
                                lang,
                                "投票已开始,名册和规则已固定。",
                                "Voting is open; the roll and rules are fixed.",
                            )
                        }
                        "closed" => {
                            t(lang, "投票已结束,结果已公布。", "Voting is closed and the result published.")
                        }
                        "cancelled" => t(lang, "投票已撤销。", "The vote was withdrawn."),
                        "paper_entered" => {
                            t(
                                lang,
                                "纸质选票已录入,待另一位工作人员确认后计入。",
                                "Paper ballot entered; it counts once another staff member confirms it.",
                            )
                        }
                        "paper_confirmed" => {
                            t(lang, "纸质选票已确认并计入。", "Paper ballot confirmed and counted.")
                        }
                        "paper_rejected" => t(lang, "纸质选票已退回。", "Paper ballot rejected."),
                        _ => "",
                    });
                let reminded = q("reminded");
                view! {
                    {q("created")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(
                                        lang,
                                        "投票已创建,将在开始时间自动开始。",
                                        "The vote is created and opens by itself at its start time.",
                                    )}
                                </p>
                            }
                        })}
                    {done
                        .map(|m| {
                            view! {
                                <p class="success" role="status">
                                    {m}
                                </p>
                            }
                        })}
                    {reminded
                        .map(|n| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已提醒 ", "Reminded ")}
                                    {n}
                                    {t(lang, " 人", " people")}
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
                            let v = d.vote.clone();
                            let id = v.id;
                            let owners = v.kind == VoteKind::Owners;
                            let labels: Vec<String> = if owners {
                                domain::votes::OWNER_OPTIONS
                                    .iter()
                                    .map(|(zh, e)| if en { e.to_string() } else { zh.to_string() })
                                    .collect()
                            } else {
                                v.options.clone()
                            };
                            let action = |
                                name: &'static str,
                                zh: &'static str,
                                english: &'static str,
                                class: &'static str|
                            {
                                view! {
                                    <form method="post" action=VoteAction::PATH class="inline-form">
                                        <input type="hidden" name="id" value=id.to_string() />
                                        <input type="hidden" name="action" value=name />
                                        <button type="submit" class=class>
                                            {t(lang, zh, english)}
                                        </button>
                                    </form>
                                }
                            };
                            let open = v.status == VoteStatus::Open;
                            let kept_key = q("key_no").unwrap_or_default();
                            view! {
                                <div class="console">
                                    <section class="card wide-card">
                                        <h2>{v.title.clone()}</h2>
                                        <p class="meta">
                                            {v.kind.label(en)}" · "{v.community.clone()}
                                            {v.building.clone().map(|b| format!(" {b}")).unwrap_or_default()}" "
                                            <span class=status_class(v.status)>{v.status.label(en)}</span>
                                        </p>
                                        <p class="meta">
                                            <span class="nw">{v.starts_at.clone()}</span>
                                            " – "
                                            <span class="nw">{v.ends_at.clone()}</span>
                                        </p>
                                        {v
                                            .matter
                                            .map(|m| {
                                                view! {
                                                    <p class="meta">
                                                        {t(lang, "第", "Item ")}{m.item()}{t(lang, "项:", ": ")}
                                                        {m.label(en)}
                                                    </p>
                                                }
                                            })}
                                        <div class="actions">
                                            {(v.status == VoteStatus::Draft)
                                                .then(|| {
                                                    view! {
                                                        {action("open", "立即开始", "Open now", "primary")}
                                                        {action("cancel", "撤销", "Withdraw", "")}
                                                    }
                                                })}
                                            {open
                                                .then(|| {
                                                    view! {
                                                        {action(
                                                            "remind",
                                                            "提醒未投票的人",
                                                            "Remind non-voters",
                                                            "",
                                                        )}
                                                        {action("close", "立即结束", "Close now", "")}
                                                    }
                                                })}
                                        </div>
                                        <p>
                                            <a href=format!(
                                                "/votes/{id}",
                                            )>{t(lang, "居民看到的页面", "The residents' page")}</a>
                                        </p>
                                        {(v.status != VoteStatus::Draft)
                                            .then(|| {
                                                view! {
                                                    <p class=if d.chain_ok {
                                                        "success"
                                                    } else {
                                                        "form-error"
                                                    }>
                                                        {if d.chain_ok {
                                                            t(lang, "选票链校验通过", "Ballot chain verifies")
                                                        } else {
                                                            t(
                                                                lang,
                                                                "选票链校验未通过!",
                                                                "Ballot chain does NOT verify!",
                                                            )
                                                        }}
                                                    </p>
                                                }
                                            })}
                                    </section>
                                    {(v.status != VoteStatus::Draft)
                                        .then(|| view! { <Tracker lang=lang v=v.clone() /> })}
                                    {(!v.results.is_empty()).then(|| view! { <Results lang=lang v=v.clone() /> })}
                                    {(!d.pending.is_empty())
                                        .then(|| {
                                            view! {
                                                <section class="card wide-card">
                                                    <h2>
                                                        {t(
                                                            lang,
                                                            "待确认的纸质选票",
                                                            "Paper ballots to confirm",
                                                        )}
                                                    </h2>
                                                    <ul class="list">
                                                        {d
                                                            .pending
                                                            .iter()
                                                            .map(|p| {
                                                                view! {
                                                                    <li class="paper">
                                                                        <span class="title">
                                                                            {p.label.clone()}" · "{p.choices.join("、")}
                                                                        </span>
                                                                        <span class="meta">
                                                                            {t(lang, "录入:", "Entered by ")}{p.entered_by.clone()}
                                                                            " · "{p.entered_at.clone()}
                                                                            {(!p.note.is_empty()).then(|| format!(" · {}", p.note))}
                                                                        </span>
                                                                        {if p.entered_by_me {
                                                                            view! {
                                                                                <span class="meta">
                                                                                    {t(
                                                                                        lang,
                                                                                        "须由另一位工作人员确认",
                                                                                        "Another staff member must confirm it",
                                                                                    )}
                                                                                </span>
                                                                            }
                                                                                .into_any()
                                                                        } else {
                                                                            view! {
                                                                                <form
                                                                                    method="post"
                                                                                    action=DecidePaperBallot::PATH
                                                                                    class="inline-form"
                                                                                >
                                                                                    <input type="hidden" name="vote_id" value=id.to_string() />
                                                                                    <input
                                                                                        type="hidden"
                                                                                        name="paper_id"
                                                                                        value=p.id.to_string()
                                                                                    />
                                                                                    <button
                                                                                        type="submit"
                                                                                        name="decision"
                                                                                        value="confirm"
                                                                                        class="primary"
                                                                                    >
                                                                                        {t(lang, "核对无误,计入", "Confirm and count")}
                                                                                    </button>
                                                                                    <button type="submit" name="decision" value="reject">
                                                                                        {t(lang, "退回", "Reject")}
                                                                                    </button>
                                                                                </form>
                                                                            }
                                                                                .into_any()
                                                                        }}
                                                                    </li>
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </ul>
                                                </section>
                                            }
                                        })}
                                    {open
                                        .then(|| {
                                            view! {
                                                <section class="card">
                                                    <h2>{t(lang, "录入纸质选票", "Enter a paper ballot")}</h2>
                                                    <form method="post" action=EnterPaperBallot::PATH class="stack">
                                                        <input type="hidden" name="vote_id" value=id.to_string() />
                                                        <label>
                                                            {t(lang, "投票人(名册)", "Voter (roll)")}
                                                            <select name="key_no" required>
                                                                {d
                                                                    .roll
                                                                    .iter()
                                                                    .filter(|r| !r.voted && !r.pending_paper)
                                                                    .map(|r| {
                                                                        let text = format!(
                                                                            "{} {}{}",
                                                                            r.key_no,
                                                                            r.label,
                                                                            if r.owners.is_empty() {
                                                                                String::new()
                                                                            } else {
                                                                                format!("({})", r.owners.join("、"))
                                                                            },
                                                                        );
                                                                        view! {
                                                                            <option
                                                                                value=r.key_no.to_string()
                                                                                selected=kept_key == r.key_no.to_string()
                                                                            >
                                                                                {text}
                                                                            </option>
                                                                        }
                                                                    })
                                                                    .collect_view()}
                                                            </select>
                                                        </label>
                                                        {if v.max_choices == 1 {
                                                            view! {
                                                                <label>
                                                                    {t(lang, "选择", "Choice")}
                                                                    <select name="choices">
                                                                        {labels
                                                                            .iter()
                                                                            .enumerate()
                                                                            .map(|(i, l)| {
                                                                                view! {
                                                                                    <option value=(i + 1).to_string()>{l.clone()}</option>
                                                                                }
                                                                            })
                                                                            .collect_view()}
                                                                    </select>
                                                                </label>
                                                            }
                                                                .into_any()
                                                        } else {
                                                            view! {
                                                                <label>
                                                                    {t(
                                                                        lang,
                                                                        "选项编号(用逗号分隔,如 1,3)",
                                                                        "Option numbers (comma separated, e.g. 1,3)",
                                                                    )}
                                                                    <input
                                                                        type="text"
                                                                        name="choices"
                                                                        required
                                                                        value=q("choices").unwrap_or_default()
                                                                    />
                                                                </label>
                                                                <ol class="meta">
                                                                    {labels
                                                                        .iter()
                                                                        .map(|l| view! { <li>{l.clone()}</li> })
                                                                        .collect_view()}
                                                                </ol>
                                                            }
                                                                .into_any()
                                                        }}
                                                        <label>
                                                            {t(
                                                                lang,
                                                                "备注(选票编号等)",
                                                                "Note (ballot paper no. etc.)",
                                                            )}
                                                            <input
                                                                type="text"
                                                                name="note"
                                                                maxlength="200"
                                                                value=q("note").unwrap_or_default()
                                                            />
                                                        </label>
                                                        <button type="submit">
                                                            {t(lang, "录入,等待复核", "Enter for confirmation")}
                                                        </button>
                                                    </form>
                                                </section>
                                            }
                                        })}
                                    {(!d.roll.is_empty())
                                        .then(|| {
                                            view! {
                                                <section class="card wide-card">
                                                    <h2>{t(lang, "名册", "Roll")}" ("{d.roll.len()}")"</h2>
                                                    {d
                                                        .participation_hidden
                                                        .then(|| {
                                                            view! {
                                                                <p class="meta">
                                                                    {t(
                                                                        lang,
                                                                        "不记名投票:投票期间不逐户显示谁已投票(只显示总数),以免从投票先后推出各户的选择。结束后显示。",
                                                                        "Secret ballot: who has voted is not shown home by home while voting is open (only the total), so no one can tell a home's choice from the order of ballots. It is shown after closing.",
                                                                    )}
                                                                </p>
                                                            }
                                                        })}
                                                    <table class="grid">
                                                        <thead>
                                                            <tr>
                                                                <th>"#"</th>
                                                                <th>{t(lang, "房屋 / 居民", "Home / resident")}</th>
                                                                {owners
                                                                    .then(|| {
                                                                        view! {
                                                                            <th>{t(lang, "面积", "Area")}</th>
                                                                            <th>{t(lang, "业主", "Owners")}</th>
                                                                        }
                                                                    })}
                                                                <th>{t(lang, "投票人", "Voter")}</th>
                                                                {(!d.participation_hidden)
                                                                    .then(|| view! { <th>{t(lang, "已投", "Voted")}</th> })}
                                                            </tr>
                                                        </thead>
                                                        <tbody>
                                                            {d
                                                                .roll
                                                                .iter()
                                                                .map(|r| {
                                                                    view! {
                                                                        <tr>
                                                                            <td>{r.key_no}</td>
                                                                            <td>{r.label.clone()}</td>
                                                                            {owners
                                                                                .then(|| {
                                                                                    view! {
                                                                                        <td>{m2(r.area)}</td>
                                                                                        <td>{r.owners.join("、")}</td>
                                                                                    }
                                                                                })}
                                                                            <td>
                                                                                {r
                                                                                    .voter
                                                                                    .clone()
                                                                                    .unwrap_or_else(|| {
                                                                                        if r.owners.len() > 1 {
                                                                                            t(lang, "待共有人指定", "to be designated")
                                                                                                .to_string()
                                                                                        } else {
                                                                                            t(lang, "仅纸质", "paper only").to_string()
                                                                                        }
                                                                                    })}
                                                                            </td>
                                                                            {(!d.participation_hidden)
                                                                                .then(|| {
                                                                                    view! {
                                                                                        <td>
                                                                                            {if r.voted {
                                                                                                "✓"
                                                                                            } else if r.pending_paper {
                                                                                                "…"
                                                                                            } else {
                                                                                                ""
                                                                                            }}
                                                                                        </td>
                                                                                    }
                                                                                })}
                                                                        </tr>
                                                                    }
                                                                })
                                                                .collect_view()}
                                                        </tbody>
                                                    </table>
                                                </section>
                                            }
                                        })}
                                    <p>
                                        <a href="/staff/votes">{t(lang, "返回投票管理", "Back to votes")}</a>
                                    </p>
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
