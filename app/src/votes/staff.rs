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
        <Page
            title=("投票管理", "Votes")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let error = q("error").map(|c| code_text(&c, lang));
                view! {
                    <FormError message=error />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let d = match data.await {
                                Ok(d) => d,
                                Err(e) => return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
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
                                                <label class="check">
                                                    <input
                                                        type="radio"
                                                        name="kind"
                                                        value="poll"
                                                        checked=kept_kind == "poll"
                                                    />
                                                    <span>
                                                        {t(
                                                            lang,
                                                            "议事投票(一人一票,可单选或多选)",
                                                            "Community poll (one person one vote)",
                                                        )}
                                                    </span>
                                                </label>
                                                <label class="check">
                                                    <input
                                                        type="radio"
                                                        name="kind"
                                                        value="owners"
                                                        checked=kept_kind == "owners"
                                                    />
                                                    <span>
                                                        {t(
                                                            lang,
                                                            "业主共同决定(民法典第278条,按专有部分面积和人数)",
                                                            "Owners' decision (Civil Code Art. 278, by area and head count)",
                                                        )}
                                                    </span>
                                                </label>
                                            </fieldset>
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
                                                {t(lang, "范围", "Scope")} <select name="building_id">
                                                    <option value="">
                                                        {t(lang, "整个社区", "The whole community")}
                                                    </option>
                                                    {d
                                                        .buildings
                                                        .iter()
                                                        .map(|(id, name)| {
                                                            view! {
                                                                <option value=id.to_string() selected=Some(*id) == kept_b>
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
                                                {t(lang, "说明和背景材料", "Background")}
                                                <textarea name="body" required rows="5" maxlength="5000">
                                                    {q("body").unwrap_or_default()}
                                                </textarea>
                                            </label>
                                            <label>
                                                {t(
                                                    lang,
                                                    "表决事项(业主共同决定)",
                                                    "Matter (owners' decision)",
                                                )}
                                                <select name="matter">
                                                    {domain::votes::Matter::ALL
                                                        .into_iter()
                                                        .map(|m| {
                                                            view! {
                                                                <option
                                                                    value=m.item().to_string()
                                                                    selected=kept_matter == Some(m.item())
                                                                >
                                                                    {m.item()}
                                                                    ". "
                                                                    {m.label(en)}
                                                                    {m
                                                                        .is_special()
                                                                        .then(|| t(
                                                                            lang,
                                                                            "(需四分之三同意)",
                                                                            " (three quarters)",
                                                                        ))}
                                                                </option>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </select>
                                            </label>
                                            <label class="check">
                                                <input
                                                    type="checkbox"
                                                    name="deemed_consent"
                                                    value="1"
                                                    checked=on("deemed_consent")
                                                />
                                                <span>
                                                    {t(
                                                        lang,
                                                        "未投票视为同意(仅当本地规定允许;不计入参与门槛)",
                                                        "Non-voters deemed to agree (only where local rules allow; never part of the quorum)",
                                                    )}
                                                </span>
                                            </label>
                                            <label>
                                                {t(
                                                    lang,
                                                    "选项(议事投票,每行一个,2–20个)",
                                                    "Options (polls: one per line, 2–20)",
                                                )}<textarea name="options" rows="4">
                                                    {q("options").unwrap_or_default()}
                                                </textarea>
                                            </label>
                                            <label>
                                                {t(lang, "最多可选几项", "Choices allowed")}
                                                <input
                                                    type="number"
                                                    name="max_choices"
                                                    min="1"
                                                    max="20"
                                                    value=q("max_choices").unwrap_or_else(|| "1".into())
                                                />
                                            </label>
                                            <label>
                                                {t(lang, "谁可以投票(议事投票)", "Who may vote (polls)")}
                                                <select name="eligibility">
                                                    <option value="residents" selected=kept_elig == "residents">
                                                        {t(lang, "已认证居民", "Verified residents")}
                                                    </option>
                                                    <option value="owners" selected=kept_elig == "owners">
                                                        {t(lang, "已认证业主", "Verified owners")}
                                                    </option>
                                                </select>
                                            </label>
                                            <label class="check">
                                                <input type="checkbox" name="secret" value="1" checked=on("secret") />
                                                <span>{t(lang, "不记名投票", "Secret ballot")}</span>
                                            </label>
                                            <label class="check">
                                                <input
                                                    type="checkbox"
                                                    name="live_results"
                                                    value="1"
                                                    checked=on("live_results")
                                                />
                                                <span>
                                                    {t(
                                                        lang,
                                                        "投票期间公开实时结果",
                                                        "Show live results while voting",
                                                    )}
                                                </span>
                                            </label>
                                            <div class="row2">
                                                <label>
                                                    {t(lang, "开始(北京时间)", "Starts (Beijing)")}
                                                    <input
                                                        type="datetime-local"
                                                        name="starts_at"
                                                        required
                                                        value=q("starts_at").unwrap_or(d.default_start.clone())
                                                    />
                                                </label>
                                                <label>
                                                    {t(lang, "结束(北京时间)", "Ends (Beijing)")}
                                                    <input
                                                        type="datetime-local"
                                                        name="ends_at"
                                                        required
                                                        value=q("ends_at").unwrap_or(d.default_end.clone())
                                                    />
                                                </label>
                                            </div>
                                            <label>
                                                {t(lang, "结果公示期(天)", "Objection period (days)")}
                                                <input
                                                    type="number"
                                                    name="objection_days"
                                                    min="0"
                                                    max="30"
                                                    value=q("objection_days").unwrap_or_else(|| "7".into())
                                                />
                                            </label>
                                            <p class="meta">
                                                {t(
                                                    lang,
                                                    "投票开始时名册和规则即被固定并写入选票链,之后不能修改。",
                                                    "When voting opens, the roll and the rules are fixed and hashed into the ballot chain; they cannot change afterwards.",
                                                )}
                                            </p>
                                            <button type="submit" class="primary">
                                                {t(lang, "创建投票", "Create the vote")}
                                            </button>
                                        </form>
                                    </section>
                                    <section class="card wide-card">
                                        <h2>{t(lang, "投票列表", "Votes")}</h2>
                                        {if d.votes.is_empty() {
                                            view! { <p class="empty">{t(lang, "还没有投票", "No votes yet")}</p> }
                                                .into_any()
                                        } else {
                                            view! { <VoteList lang=lang votes=d.votes.clone() base="/staff/votes" /> }
                                                .into_any()
                                        }}
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
