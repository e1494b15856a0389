//! Staff pages of votes: creating polls and owners' decisions, opening and
//! closing them, reminders, paper ballots entered by one and confirmed by another.

#![allow(clippy::too_many_arguments)]

use super::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffVotesData {
    pub communities: Vec<(i64, String)>,
    /// (building id, "社区 · 楼栋")
    pub buildings: Vec<(i64, String)>,
    pub votes: Vec<VoteView>,
    pub default_start: String,
    pub default_end: String,
}

#[server]
pub async fn staff_votes() -> Result<StaffVotesData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let communities = backend::support::scope::staff_communities(&state, &user).await.map_err(app_err)?;
    let mut buildings = vec![];
    for (id, name) in &communities {
        for b in backend::residence::buildings(&state, *id).await.map_err(app_err)? {
            buildings.push((b.id, format!("{name} · {}", b.name)));
        }
    }
    let votes = backend::votes::list(&state, &user).await.map_err(app_err)?;
    let (default_start, default_end) = backend::votes::default_window();
    Ok(StaffVotesData { communities, buildings, votes, default_start, default_end })
}

#[server]
pub async fn create_vote(
    community_id: String,
    kind: String,
    title: String,
    body: String,
    options: Option<String>,
    max_choices: Option<String>,
    matter: Option<String>,
    eligibility: Option<String>,
    building_id: Option<String>,
    secret: Option<String>,
    live_results: Option<String>,
    deemed_consent: Option<String>,
    starts_at: String,
    ends_at: String,
    objection_days: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_staff("/staff/votes")?;
    let (options, max_choices, matter, eligibility, building_id, objection_days) = (
        options.unwrap_or_default(),
        max_choices.unwrap_or_default(),
        matter.unwrap_or_default(),
        eligibility.unwrap_or_default(),
        building_id.unwrap_or_default(),
        objection_days.unwrap_or_default(),
    );
    let flag = |f: &Option<String>| f.as_deref().is_some_and(|v| !v.is_empty() && v != "0");
    let keep = [
        ("community_id", community_id.as_str()),
        ("kind", kind.as_str()),
        ("title", title.as_str()),
        ("options", options.as_str()),
        ("max_choices", max_choices.as_str()),
        ("matter", matter.as_str()),
        ("eligibility", eligibility.as_str()),
        ("building_id", building_id.as_str()),
        ("secret", if flag(&secret) { "1" } else { "" }),
        ("live_results", if flag(&live_results) { "1" } else { "" }),
        ("deemed_consent", if flag(&deemed_consent) { "1" } else { "" }),
        ("starts_at", starts_at.as_str()),
        ("ends_at", ends_at.as_str()),
        ("objection_days", objection_days.as_str()),
        ("body", body.as_str()),
    ];
    let form = domain::votes::VoteForm {
        kind: &kind,
        title: &title,
        body: &body,
        options: &options,
        max_choices: &max_choices,
        matter: &matter,
        eligibility: &eligibility,
        building_id: &building_id,
        secret: flag(&secret),
        live_results: flag(&live_results),
        deemed_consent: flag(&deemed_consent),
        starts_at: &starts_at,
        ends_at: &ends_at,
        objection_days: &objection_days,
    };
    let parsed = community_id
        .trim()
        .parse::<i64>()
        .map_err(|_| domain::ErrorCode::InvalidInput)
        .and_then(|c| domain::votes::NewVote::parse(&form, backend::votes::now_ts()).map(|v| (c, v)));
    let result = match parsed {
        Ok((c, v)) => backend::votes::create(&state, &user, c, v).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(id) => {
            leptos_actix::redirect(&format!("/staff/votes/{id}?created=1"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/votes", &keep)),
    }
}

#[component]
pub fn StaffVotesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| staff_votes());
    view! {
        <Page title=("投票管理", "Votes") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            let error = q("error").map(|c| code_text(&c, lang));
            view! {
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let kept_kind = q("kind").unwrap_or_else(|| "poll".into());
                        let kept_c = q("community_id").and_then(|v| v.parse::<i64>().ok());
                        let kept_b = q("building_id").and_then(|v| v.parse::<i64>().ok());
                        let kept_matter = q("matter").and_then(|v| v.parse::<u8>().ok());
                        let kept_elig = q("eligibility").unwrap_or_else(|| "residents".into());
                        let on = |k: &str| q(k).is_some_and(|v| !v.is_empty());
                        view! {
                            <div class="console">
                                <section class="card wide-card">
                                    <h2>{t(lang, "发起投票", "New vote")}</h2>
                                    <form method="post" action=CreateVote::PATH class="stack">
                                        <fieldset>
                                            <legend>{t(lang, "类型", "Kind")}</legend>
                                            <label class="check"><input type="radio" name="kind" value="poll" checked=kept_kind == "poll"/><span>{t(lang, "议事投票(一人一票,可单选或多选)", "Community poll (one person one vote)")}</span></label>
                                            <label class="check"><input type="radio" name="kind" value="owners" checked=kept_kind == "owners"/><span>{t(lang, "业主共同决定(民法典第278条,按专有部分面积和人数)", "Owners' decision (Civil Code Art. 278, by area and head count)")}</span></label>
                                        </fieldset>
                                        <label>{t(lang, "社区", "Community")}
                                            <select name="community_id" required>
                                                {d.communities.iter().map(|(id, name)| view! { <option value=id.to_string() selected=Some(*id) == kept_c>{name.clone()}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label>{t(lang, "范围", "Scope")}
                                            <select name="building_id">
                                                <option value="">{t(lang, "整个社区", "The whole community")}</option>
                                                {d.buildings.iter().map(|(id, name)| view! { <option value=id.to_string() selected=Some(*id) == kept_b>{name.clone()}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label>{t(lang, "标题", "Title")}<input type="text" name="title" required maxlength="60" value=q("title").unwrap_or_default()/></label>
                                        <label>{t(lang, "说明和背景材料", "Background")}<textarea name="body" required rows="5" maxlength="5000">{q("body").unwrap_or_default()}</textarea></label>
                                        <label>{t(lang, "表决事项(业主共同决定)", "Matter (owners' decision)")}
                                            <select name="matter">
                                                {domain::votes::Matter::ALL.into_iter().map(|m| view! { <option value=m.item().to_string() selected=kept_matter == Some(m.item())>{m.item()}". "{m.label(en)}{m.is_special().then(|| t(lang, "(需四分之三同意)", " (three quarters)"))}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label class="check"><input type="checkbox" name="deemed_consent" value="1" checked=on("deemed_consent")/><span>{t(lang, "未投票视为同意(仅当本地规定允许;不计入参与门槛)", "Non-voters deemed to agree (only where local rules allow; never part of the quorum)")}</span></label>
                                        <label>{t(lang, "选项(议事投票,每行一个,2–20个)", "Options (polls: one per line, 2–20)")}<textarea name="options" rows="4">{q("options").unwrap_or_default()}</textarea></label>
                                        <label>{t(lang, "最多可选几项", "Choices allowed")}<input type="number" name="max_choices" min="1" max="20" value=q("max_choices").unwrap_or_else(|| "1".into())/></label>
                                        <label>{t(lang, "谁可以投票(议事投票)", "Who may vote (polls)")}
                                            <select name="eligibility">
                                                <option value="residents" selected=kept_elig == "residents">{t(lang, "已认证居民", "Verified residents")}</option>
                                                <option value="owners" selected=kept_elig == "owners">{t(lang, "已认证业主", "Verified owners")}</option>
                                            </select>
                                        </label>
                                        <label class="check"><input type="checkbox" name="secret" value="1" checked=on("secret")/><span>{t(lang, "不记名投票", "Secret ballot")}</span></label>
                                        <label class="check"><input type="checkbox" name="live_results" value="1" checked=on("live_results")/><span>{t(lang, "投票期间公开实时结果", "Show live results while voting")}</span></label>
                                        <div class="row2">
                                            <label>{t(lang, "开始(北京时间)", "Starts (Beijing)")}<input type="datetime-local" name="starts_at" required value=q("starts_at").unwrap_or(d.default_start.clone())/></label>
                                            <label>{t(lang, "结束(北京时间)", "Ends (Beijing)")}<input type="datetime-local" name="ends_at" required value=q("ends_at").unwrap_or(d.default_end.clone())/></label>
                                        </div>
                                        <label>{t(lang, "结果公示期(天)", "Objection period (days)")}<input type="number" name="objection_days" min="0" max="30" value=q("objection_days").unwrap_or_else(|| "7".into())/></label>
                                        <p class="meta">{t(lang, "投票开始时名册和规则即被固定并写入选票链,之后不能修改。", "When voting opens, the roll and the rules are fixed and hashed into the ballot chain; they cannot change afterwards.")}</p>
                                        <button type="submit" class="primary">{t(lang, "创建投票", "Create the vote")}</button>
                                    </form>
                                </section>
                                <section class="card wide-card">
                                    <h2>{t(lang, "投票列表", "Votes")}</h2>
                                    {if d.votes.is_empty() { view! { <p class="empty">{t(lang, "还没有投票", "No votes yet")}</p> }.into_any() } else { view! { <VoteList lang=lang votes=d.votes.clone() base="/staff/votes"/> }.into_any() }}
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
        <Page title=("投票管理", "Vote") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            let error = q("error").map(|c| code_text(&c, lang));
            let done = q("done").map(|d| match d.as_str() {
                "opened" => t(lang, "投票已开始,名册和规则已固定。", "Voting is open; the roll and rules are fixed."),
                "closed" => t(lang, "投票已结束,结果已公布。", "Voting is closed and the result published."),
                "cancelled" => t(lang, "投票已撤销。", "The vote was withdrawn."),
                "paper_entered" => t(lang, "纸质选票已录入,待另一位工作人员确认后计入。", "Paper ballot entered; it counts once another staff member confirms it."),
                "paper_confirmed" => t(lang, "纸质选票已确认并计入。", "Paper ballot confirmed and counted."),
                "paper_rejected" => t(lang, "纸质选票已退回。", "Paper ballot rejected."),
                _ => "",
            });
            let reminded = q("reminded");
            view! {
                {q("created").map(|_| view! { <p class="success" role="status">{t(lang, "投票已创建,将在开始时间自动开始。", "The vote is created and opens by itself at its start time.")}</p> })}
                {done.map(|m| view! { <p class="success" role="status">{m}</p> })}
                {reminded.map(|n| view! { <p class="success" role="status">{t(lang, "已提醒 ", "Reminded ")}{n}{t(lang, " 人", " people")}</p> })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let d = match data.await {
                            Ok(d) => d,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let v = d.vote.clone();
                        let id = v.id;
                        let owners = v.kind == VoteKind::Owners;
                        let labels: Vec<String> = if owners {
                            domain::votes::OWNER_OPTIONS.iter().map(|(zh, e)| if en { e.to_string() } else { zh.to_string() }).collect()
                        } else {
                            v.options.clone()
                        };
                        let action = |name: &'static str, zh: &'static str, english: &'static str, class: &'static str| view! {
                            <form method="post" action=VoteAction::PATH class="inline-form">
                                <input type="hidden" name="id" value=id.to_string()/>
                                <input type="hidden" name="action" value=name/>
                                <button type="submit" class=class>{t(lang, zh, english)}</button>
                            </form>
                        };
                        let open = v.status == VoteStatus::Open;
                        let kept_key = q("key_no").unwrap_or_default();
                        view! {
                            <div class="console">
                                <section class="card wide-card">
                                    <h2>{v.title.clone()}</h2>
                                    <p class="meta">{v.kind.label(en)}" · "{v.community.clone()}{v.building.clone().map(|b| format!(" {b}")).unwrap_or_default()}" "<span class=status_class(v.status)>{v.status.label(en)}</span></p>
                                    <p class="meta"><span class="nw">{v.starts_at.clone()}</span>" – "<span class="nw">{v.ends_at.clone()}</span></p>
                                    {v.matter.map(|m| view! { <p class="meta">{t(lang, "第", "Item ")}{m.item()}{t(lang, "项:", ": ")}{m.label(en)}</p> })}
                                    <div class="actions">
                                        {(v.status == VoteStatus::Draft).then(|| view! { {action("open", "立即开始", "Open now", "primary")} {action("cancel", "撤销", "Withdraw", "")} })}
                                        {open.then(|| view! { {action("remind", "提醒未投票的人", "Remind non-voters", "")} {action("close", "立即结束", "Close now", "")} })}
                                    </div>
                                    <p><a href=format!("/votes/{id}")>{t(lang, "居民看到的页面", "The residents' page")}</a></p>
                                    {(v.status != VoteStatus::Draft).then(|| view! {
                                        <p class=if d.chain_ok { "success" } else { "form-error" }>{if d.chain_ok { t(lang, "选票链校验通过", "Ballot chain verifies") } else { t(lang, "选票链校验未通过!", "Ballot chain does NOT verify!") }}</p>
                                    })}
                                </section>
                                {(v.status != VoteStatus::Draft).then(|| view! { <Tracker lang=lang v=v.clone()/> })}
                                {(!v.results.is_empty()).then(|| view! { <Results lang=lang v=v.clone()/> })}
                                {(!d.pending.is_empty()).then(|| view! {
                                    <section class="card wide-card">
                                        <h2>{t(lang, "待确认的纸质选票", "Paper ballots to confirm")}</h2>
                                        <ul class="list">
                                            {d.pending.iter().map(|p| view! {
                                                <li class="paper">
                                                    <span class="title">{p.label.clone()}" · "{p.choices.join("、")}</span>
                                                    <span class="meta">{t(lang, "录入:", "Entered by ")}{p.entered_by.clone()}" · "{p.entered_at.clone()}{(!p.note.is_empty()).then(|| format!(" · {}", p.note))}</span>
                                                    {if p.entered_by_me { view! { <span class="meta">{t(lang, "须由另一位工作人员确认", "Another staff member must confirm it")}</span> }.into_any() } else { view! {
                                                        <form method="post" action=DecidePaperBallot::PATH class="inline-form">
                                                            <input type="hidden" name="vote_id" value=id.to_string()/>
                                                            <input type="hidden" name="paper_id" value=p.id.to_string()/>
                                                            <button type="submit" name="decision" value="confirm" class="primary">{t(lang, "核对无误,计入", "Confirm and count")}</button>
                                                            <button type="submit" name="decision" value="reject">{t(lang, "退回", "Reject")}</button>
                                                        </form>
                                                    }.into_any() }}
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    </section>
                                })}
                                {open.then(|| view! {
                                    <section class="card">
                                        <h2>{t(lang, "录入纸质选票", "Enter a paper ballot")}</h2>
                                        <form method="post" action=EnterPaperBallot::PATH class="stack">
                                            <input type="hidden" name="vote_id" value=id.to_string()/>
                                            <label>{t(lang, "投票人(名册)", "Voter (roll)")}
                                                <select name="key_no" required>
                                                    {d.roll.iter().filter(|r| !r.voted && !r.pending_paper).map(|r| {
                                                        let text = format!("{} {}{}", r.key_no, r.label, if r.owners.is_empty() { String::new() } else { format!("({})", r.owners.join("、")) });
                                                        view! { <option value=r.key_no.to_string() selected=kept_key == r.key_no.to_string()>{text}</option> }
                                                    }).collect_view()}
                                                </select>
                                            </label>
                                            {if v.max_choices == 1 { view! {
                                                <label>{t(lang, "选择", "Choice")}
                                                    <select name="choices">
                                                        {labels.iter().enumerate().map(|(i, l)| view! { <option value=(i + 1).to_string()>{l.clone()}</option> }).collect_view()}
                                                    </select>
                                                </label>
                                            }.into_any() } else { view! {
                                                <label>{t(lang, "选项编号(用逗号分隔,如 1,3)", "Option numbers (comma separated, e.g. 1,3)")}
                                                    <input type="text" name="choices" required value=q("choices").unwrap_or_default()/>
                                                </label>
                                                <ol class="meta">{labels.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ol>
                                            }.into_any() }}
                                            <label>{t(lang, "备注(选票编号等)", "Note (ballot paper no. etc.)")}<input type="text" name="note" maxlength="200" value=q("note").unwrap_or_default()/></label>
                                            <button type="submit">{t(lang, "录入,等待复核", "Enter for confirmation")}</button>
                                        </form>
                                    </section>
                                })}
                                {(!d.roll.is_empty()).then(|| view! {
                                    <section class="card wide-card">
                                        <h2>{t(lang, "名册", "Roll")}" ("{d.roll.len()}")"</h2>
                                        {d.participation_hidden.then(|| view! {
                                            <p class="meta">{t(lang, "不记名投票:投票期间不逐户显示谁已投票(只显示总数),以免从投票先后推出各户的选择。结束后显示。", "Secret ballot: who has voted is not shown home by home while voting is open (only the total), so no one can tell a home's choice from the order of ballots. It is shown after closing.")}</p>
                                        })}
                                        <table class="grid">
                                            <thead><tr>
                                                <th>"#"</th><th>{t(lang, "房屋 / 居民", "Home / resident")}</th>
                                                {owners.then(|| view! { <th>{t(lang, "面积", "Area")}</th><th>{t(lang, "业主", "Owners")}</th> })}
                                                <th>{t(lang, "投票人", "Voter")}</th>{(!d.participation_hidden).then(|| view! { <th>{t(lang, "已投", "Voted")}</th> })}
                                            </tr></thead>
                                            <tbody>
                                                {d.roll.iter().map(|r| view! {
                                                    <tr>
                                                        <td>{r.key_no}</td><td>{r.label.clone()}</td>
                                                        {owners.then(|| view! { <td>{m2(r.area)}</td><td>{r.owners.join("、")}</td> })}
                                                        <td>{r.voter.clone().unwrap_or_else(|| if r.owners.len() > 1 { t(lang, "待共有人指定", "to be designated").to_string() } else { t(lang, "仅纸质", "paper only").to_string() })}</td>
                                                        {(!d.participation_hidden).then(|| view! { <td>{if r.voted { "✓" } else if r.pending_paper { "…" } else { "" }}</td> })}
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </section>
                                })}
                                <p><a href="/staff/votes">{t(lang, "返回投票管理", "Back to votes")}</a></p>
                            </div>
                        }.into_any()
                    })}
                </Suspense>
            }
        }/>
    }
}
