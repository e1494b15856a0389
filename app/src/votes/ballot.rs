//! One vote for a resident: the ballot form and its review step, the tracker of who has voted, the results.

use super::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VotePageData {
    pub vote: VoteView,
    pub standing: MyStanding,
}

#[server]
pub async fn vote_page(id: i64) -> Result<VotePageData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let vote = backend::votes::view(&state, &user, id).await.map_err(app_err)?;
    let standing = backend::votes::standing(&state, &user, id).await.map_err(app_err)?;
    Ok(VotePageData { vote, standing })
}

/// A co-owner names who of them votes for the home.
#[server]
pub async fn designate_voter(vote_id: i64, designee: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = format!("/votes/{vote_id}");
    let Ok(designee) = designee.trim().parse::<i64>() else {
        return Err(fail_form(&page, domain::ErrorCode::InvalidInput, &[]));
    };
    match backend::votes::designate(&state, &user, vote_id, designee).await {
        Ok(_) => {
            leptos_actix::redirect(&format!("{page}?designated=1"));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[])),
    }
}

/// The participation figures: for owners' decisions area and head count
/// against the two-thirds quorum ("still needs N owners and M m²").
#[component]
pub(crate) fn Tracker(lang: Lang, v: VoteView) -> impl IntoView {
    let owners = v.kind == VoteKind::Owners;
    let met = v.gap == Weight::default();
    view! {
        <section class="card" aria-live="polite">
            <h2>{t(lang, "参与情况", "Turnout")}</h2>
            {if owners {
                view! {
                    <dl class="facts">
                        <dt>{t(lang, "已参与业主", "Owners who voted")}</dt>
                        <dd>{v.participated.count}" / "{v.total.count}</dd>
                        <dt>{t(lang, "已参与面积", "Area that voted")}</dt>
                        <dd>{m2(v.participated.area)}" / "{m2(v.total.area)}</dd>
                    </dl>
                    {if met {
                        view! {
                            <p class="success">
                                {t(
                                    lang,
                                    "参与人数和面积均已达到三分之二的法定门槛。",
                                    "Both the owners and the area that voted have reached the two-thirds quorum.",
                                )}
                            </p>
                        }
                            .into_any()
                    } else {
                        view! {
                            <p class="quorum-gap">
                                <strong>{quorum_gap_text(lang, v.gap)}</strong>
                            </p>
                        }
                            .into_any()
                    }}
                }
                    .into_any()
            } else {
                view! {
                    <p>
                        {t(lang, "已投票 ", "Voted: ")}{v.participated.count}" / "{v.total.count}
                        {t(lang, " 人", " people")}
                    </p>
                }
                    .into_any()
            }}
            <p class="meta">
                {t(
                    lang,
                    "只显示参与情况,不显示任何人的选择。",
                    "Only turnout is shown, never anyone's choice.",
                )}
            </p>
        </section>
    }
}

/// What the quorum still needs: only the thresholds not yet reached
/// ("还差 3 户业主", "还差 120.50 m²", or both).
pub fn quorum_gap_text(lang: Lang, gap: Weight) -> String {
    let mut parts = vec![];
    if gap.count > 0 {
        parts.push(format!("{}{}", gap.count, t(lang, " 户业主", " owners")));
    }
    if gap.area > 0 {
        parts.push(m2(gap.area));
    }
    format!(
        "{}{}",
        t(lang, "距参与门槛还差 ", "To reach the quorum it still needs "),
        parts.join(t(lang, "、", " and "))
    )
}

/// Per-option results and, for owners' decisions, the decision with reasons.
#[component]
pub(crate) fn Results(lang: Lang, v: VoteView) -> impl IntoView {
    let owners = v.kind == VoteKind::Owners;
    let max = v.results.iter().map(|w| w.count).max().unwrap_or(0).max(1);
    let en = lang.is_en();
    let labels: Vec<String> = if owners {
        domain::votes::OWNER_OPTIONS.iter().map(|(zh, e)| if en { e.to_string() } else { zh.to_string() }).collect()
    } else {
        v.options.clone()
    };
    let closed = v.status == VoteStatus::Closed;
    view! {
        <section class="card">
            <h2>{if closed { t(lang, "投票结果", "Result") } else { t(lang, "实时结果", "Live results") }}</h2>
            <ul class="list results">
                {v
                    .results
                    .iter()
                    .zip(labels)
                    .map(|(w, label)| {
                        let pct = w.count * 100 / max;
                        view! {
                            <li>
                                <span class="title">{label}</span>
                                <span class="meta">
                                    {w.count}{t(lang, " 票", " votes")}{owners.then(|| format!(" · {}", m2(w.area)))}
                                </span>
                                <svg class="bar" aria-hidden="true" viewBox="0 0 100 1" preserveAspectRatio="none">
                                    <rect width=pct height="1" />
                                </svg>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            {v
                .decision
                .map(|d| {
                    let yes = |ok: bool| if ok { t(lang, "达到", "met") } else { t(lang, "未达到", "not met") };
                    view! {
                        <p class=if d.passed { "success decision" } else { "form-error decision" } role="status">
                            {if d.passed {
                                t(lang, "表决通过", "Passed")
                            } else {
                                t(lang, "表决未通过", "Not passed")
                            }}
                        </p>
                        <ul class="list reasons">
                            <li>
                                {t(lang, "参与面积三分之二:", "Two thirds of the area took part: ")}
                                {yes(d.quorum_area)}
                            </li>
                            <li>
                                {t(lang, "参与人数三分之二:", "Two thirds of the owners took part: ")}
                                {yes(d.quorum_count)}
                            </li>
                            <li>
                                {t(lang, "同意面积比例:", "Share of the area agreeing: ")}{yes(d.majority_area)}
                            </li>
                            <li>
                                {t(lang, "同意人数比例:", "Share of the owners agreeing: ")}
                                {yes(d.majority_count)}
                            </li>
                            {(d.deemed.count > 0)
                                .then(|| {
                                    view! {
                                        <li>
                                            {t(
                                                lang,
                                                "按本次规则视为同意(不计入参与门槛):",
                                                "Deemed to agree under this vote's rule (not part of the quorum): ",
                                            )}{d.deemed.count}{t(lang, " 户,", " owners, ")}{m2(d.deemed.area)}
                                        </li>
                                    }
                                })}
                        </ul>
                    }
                })}
            {v
                .objection_until
                .clone()
                .map(|u| {
                    view! {
                        <p class="meta">
                            {t(lang, "结果公示期至 ", "Objections may be raised until ")}{u}
                            {t(
                                lang,
                                ",如有异议请向社区居委会书面提出。",
                                " (in writing, to the community office).",
                            )}
                        </p>
                    }
                })}
        </section>
    }
}

#[component]
pub fn VotePage() -> impl IntoView {
    let id = param_id();
    let data = Resource::new(move || id, vote_page);
    view! {
        <Page
            title=("投票", "Vote")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let error = q("error").map(|c| code_text(&c, lang));
                let kept: Vec<i64> = q("sel").unwrap_or_default().split(',').filter_map(|x| x.parse().ok()).collect();
                let fresh_receipt = q("receipt");
                let review = q("review");
                let review_choices: Vec<i64> = use_query_map()
                    .with_untracked(|m| m.get_all("choice"))
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|c| c.parse().ok())
                    .collect();
                view! {
                    <FormError message=error />
                    {q("designated")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(
                                        lang,
                                        "已记录您的指定。全部共有人指定同一人后,由其投票。",
                                        "Your designation is recorded. Once every co-owner names the same person, that person votes.",
                                    )}
                                </p>
                            }
                        })}
                    <Suspense fallback=|| ()>
                        {move || {
                            let kept = kept.clone();
                            let fresh_receipt = fresh_receipt.clone();
                            let review = review.clone();
                            let review_choices = review_choices.clone();
                            Suspend::new(async move {
                                let d = match data.await {
                                    Ok(d) => d,
                                    Err(e) => {
                                        return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any();
                                    }
                                };
                                let v = d.vote.clone();
                                let open = v.status == VoteStatus::Open;
                                let owners = v.kind == VoteKind::Owners;
                                let labels: Vec<String> = if owners {
                                    domain::votes::OWNER_OPTIONS
                                        .iter()
                                        .map(|(zh, e)| if en { e.to_string() } else { zh.to_string() })
                                        .collect()
                                } else {
                                    v.options.clone()
                                };
                                let multi = v.max_choices > 1;
                                let show_results = !v.results.is_empty();
                                let chain_link = format!("/api/v1/votes/{}/chain", v.id);
                                view! {
                                    <article class="card vote">
                                        <h2>{v.title.clone()}</h2>
                                        <p class="meta">
                                            {v.kind.label(en)}" · "{v.community.clone()}
                                            {v.building.clone().map(|b| format!(" {b}")).unwrap_or_default()}" "
                                            <span class=status_class(v.status)>{v.status.label(en)}</span>
                                        </p>
                                        <p class="meta">
                                            {t(lang, "投票时间:", "Voting: ")}
                                            <span class="nw">{v.starts_at.clone()}</span>" – "
                                            <span class="nw">{v.ends_at.clone()}</span>
                                            {t(lang, "(北京时间)", " (Beijing time)")}
                                        </p>
                                        {v
                                            .matter
                                            .map(|m| {
                                                view! {
                                                    <p class="meta">
                                                        {t(lang, "表决事项:第", "Matter: item ")}{m.item()}
                                                        {t(lang, "项 ", " — ")}{m.label(en)}
                                                    </p>
                                                    <p class="rule">{m.rule_text(en)}</p>
                                                }
                                            })}
                                        {v
                                            .deemed_consent
                                            .then(|| {
                                                view! {
                                                    <p class="meta">
                                                        {t(
                                                            lang,
                                                            "本次表决适用“未投票视为同意”规则(不计入参与门槛)。",
                                                            "This vote counts owners who do not vote as agreeing (never towards the quorum).",
                                                        )}
                                                    </p>
                                                }
                                            })}
                                        {(!owners)
                                            .then(|| {
                                                view! {
                                                    <p class="meta">
                                                        {v.eligibility.label(en)}
                                                        {t(lang, "可投票 · ", " may vote · ")}
                                                        {if v.secret {
                                                            t(lang, "不记名投票", "secret ballot")
                                                        } else {
                                                            t(lang, "记名投票", "open ballot")
                                                        }}
                                                        {if v.live_results {
                                                            t(
                                                                lang,
                                                                " · 投票期间公开实时结果",
                                                                " · live results",
                                                            )
                                                        } else {
                                                            t(
                                                                lang,
                                                                " · 结束后公布结果",
                                                                " · results after closing",
                                                            )
                                                        }}
                                                        {multi
                                                            .then(|| {
                                                                format!(
                                                                    "{}{}",
                                                                    t(lang, " · 最多选 ", " · choose up to "),
                                                                    v.max_choices,
                                                                )
                                                            })}
                                                    </p>
                                                }
                                            })}
                                        <div class="body">
                                            {v
                                                .body
                                                .split("\n\n")
                                                .map(|p| view! { <p>{p.to_string()}</p> })
                                                .collect_view()}
                                        </div>
                                    </article>
                                    {(v.status != VoteStatus::Draft)
                                        .then(|| view! { <Tracker lang=lang v=v.clone() /> })}
                                    {match d.standing.clone() {
                                        MyStanding::NotOnRoll => {
                                            view! {
                                                <p class="card meta">
                                                    {t(
                                                        lang,
                                                        "您不在本次投票的名册中。名册在投票开始时确定:仅限投票范围内已认证的",
                                                        "You are not on this vote's roll. It was fixed when voting opened: verified ",
                                                    )}{v.eligibility.label(en)}{t(lang, "。", " in scope only.")}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                        MyStanding::OtherVoter { voter, .. } => {
                                            view! {
                                                <p class="card meta">
                                                    {t(
                                                        lang,
                                                        "您家由共有人 ",
                                                        "Your home's ballot is cast by co-owner ",
                                                    )}{voter}{t(lang, " 代表投票。", ".")}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                        MyStanding::NeedsDesignation { co_owners, mine, .. } => {
                                            view! {
                                                <form method="post" action=DesignateVoter::PATH class="card stack">
                                                    <h2>{t(lang, "指定投票人", "Designate the voter")}</h2>
                                                    <p class="meta">
                                                        {t(
                                                            lang,
                                                            "这套房屋有多位共有人,按规定只能投一票。全部共有人指定同一人后,由其投票。",
                                                            "This home has several co-owners and casts one ballot. Once every co-owner names the same person, that person votes.",
                                                        )}
                                                    </p>
                                                    <input type="hidden" name="vote_id" value=v.id.to_string() />
                                                    <label>
                                                        {t(lang, "由谁投票", "Who votes")}
                                                        <select name="designee">
                                                            {co_owners
                                                                .into_iter()
                                                                .map(|(uid, name)| {
                                                                    view! {
                                                                        <option value=uid.to_string() selected=mine == Some(uid)>
                                                                            {name}
                                                                        </option>
                                                                    }
                                                                })
                                                                .collect_view()}
                                                        </select>
                                                    </label>
                                                    <button type="submit">
                                                        {t(lang, "确认指定", "Designate")}
                                                    </button>
                                                </form>
                                            }
                                                .into_any()
                                        }
                                        MyStanding::MayVote {
                                            area,
                                            ..
                                        } if open && review.is_some()
                                            && review_problem(&review_choices, labels.len(), v.max_choices)
                                                .is_none() => {
                                            let chosen: Vec<String> = review_choices
                                                .iter()
                                                .filter_map(|c| labels.get((*c as usize).wrapping_sub(1)).cloned())
                                                .collect();
                                            let sel = review_choices
                                                .iter()
                                                .map(|c| c.to_string())
                                                .collect::<Vec<_>>()
                                                .join(",");
                                            view! {
                                                <form
                                                    method="post"
                                                    action=format!("/votes/{}/ballot", v.id)
                                                    class="card stack ballot review"
                                                    id="ballot"
                                                >
                                                    <h2>
                                                        {t(lang, "请核对您的选择", "Please check your choice")}
                                                    </h2>
                                                    <p class="chosen">
                                                        <strong>{chosen.join("、")}</strong>
                                                    </p>
                                                    {match v.matter {
                                                        Some(m) => {
                                                            view! {
                                                                <p>
                                                                    {t(lang, "这表示您对“", "This means you vote “")}
                                                                    {chosen.join("、")}{t(lang, "”:", "” on: ")}
                                                                    {m.label(en)}{t(lang, "。", ".")}
                                                                </p>
                                                            }
                                                                .into_any()
                                                        }
                                                        None => {
                                                            view! {
                                                                <p>
                                                                    {t(
                                                                        lang,
                                                                        "这表示您在“",
                                                                        "This means your ballot in “",
                                                                    )}{v.title.clone()}
                                                                    {t(
                                                                        lang,
                                                                        "”中选择上面这一项。",
                                                                        "” is for the above.",
                                                                    )}
                                                                </p>
                                                            }
                                                                .into_any()
                                                        }
                                                    }}
                                                    {owners
                                                        .then(|| {
                                                            view! {
                                                                <p class="meta">
                                                                    {t(
                                                                        lang,
                                                                        "您这一票计入专有部分面积 ",
                                                                        "Your ballot carries an area of ",
                                                                    )}<span class="nw">{m2(area)}</span>
                                                                </p>
                                                            }
                                                        })}
                                                    <p class="notice">
                                                        <strong>
                                                            {t(
                                                                lang,
                                                                "选票提交后不能更改。",
                                                                "A ballot cannot be changed once cast.",
                                                            )}
                                                        </strong>
                                                    </p>
                                                    <input type="hidden" name="confirm" value="1" />
                                                    {review_choices
                                                        .iter()
                                                        .map(|c| {
                                                            view! {
                                                                <input type="hidden" name="choice" value=c.to_string() />
                                                            }
                                                        })
                                                        .collect_view()}
                                                    <button type="submit" class="primary">
                                                        {t(lang, "确认提交选票", "Cast my ballot")}
                                                    </button>
                                                    <a class="button" href=format!("/votes/{}?sel={sel}#ballot", v.id)>
                                                        {t(lang, "返回修改", "Change my choice")}
                                                    </a>
                                                </form>
                                            }
                                                .into_any()
                                        }
                                        MyStanding::MayVote { area, .. } if open => {
                                            let problem = review
                                                .as_ref()
                                                .and_then(|_| review_problem(
                                                    &review_choices,
                                                    labels.len(),
                                                    v.max_choices,
                                                ));
                                            let kept = if review.is_some() {
                                                review_choices.clone()
                                            } else {
                                                kept.clone()
                                            };
                                            view! {
                                                <form
                                                    method="get"
                                                    action=format!("/votes/{}#ballot", v.id)
                                                    class="card stack ballot"
                                                    id="ballot"
                                                >
                                                    <FormError message=problem.map(|c| c.message(en).to_string()) />
                                                    <input type="hidden" name="review" value="1" />
                                                    <fieldset>
                                                        <legend>
                                                            {t(lang, "您的选择", "Your choice")}
                                                            {multi
                                                                .then(|| {
                                                                    format!(
                                                                        "{}{}",
                                                                        t(lang, "(最多选 ", " (up to "),
                                                                        v.max_choices,
                                                                    ) + t(lang, " 项)", ")")
                                                                })}
                                                        </legend>
                                                        {labels
                                                            .iter()
                                                            .enumerate()
                                                            .map(|(i, label)| {
                                                                let n = (i + 1) as i64;
                                                                let id = format!("choice-{n}");
                                                                let for_id = id.clone();
                                                                view! {
                                                                    <label class="check" for=for_id>
                                                                        <input
                                                                            type=if multi { "checkbox" } else { "radio" }
                                                                            name="choice"
                                                                            id=id
                                                                            value=n.to_string()
                                                                            checked=kept.contains(&n)
                                                                            required=!multi
                                                                        />
                                                                        <span>{label.clone()}</span>
                                                                    </label>
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </fieldset>
                                                    {owners
                                                        .then(|| {
                                                            view! {
                                                                <p class="meta">
                                                                    {t(
                                                                        lang,
                                                                        "您这一票计入专有部分面积 ",
                                                                        "Your ballot carries an area of ",
                                                                    )}<span class="nw">{m2(area)}</span>
                                                                </p>
                                                            }
                                                        })}
                                                    <p class="meta">
                                                        {t(
                                                            lang,
                                                            "下一步核对您的选择,确认后才提交。选票提交后不能更改,您会得到一张投票回执,可随时核验选票已计入。",
                                                            "Next you check your choice; only then is it cast. A ballot cannot be changed once cast; you get a receipt to check at any time that it was counted.",
                                                        )}
                                                    </p>
                                                    <button type="submit" class="primary">
                                                        {t(lang, "下一步:核对选择", "Next: check my choice")}
                                                    </button>
                                                </form>
                                            }
                                                .into_any()
                                        }
                                        MyStanding::MayVote { .. } => {
                                            view! {
                                                <p class="card meta">
                                                    {if v.status == VoteStatus::Closed {
                                                        t(
                                                            lang,
                                                            "投票已结束,您没有投票。",
                                                            "Voting has closed; you did not vote.",
                                                        )
                                                    } else {
                                                        t(lang, "投票尚未开始。", "Voting has not started yet.")
                                                    }}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                        MyStanding::Voted { receipt, seq, choices, channel, .. } => {
                                            let shown = if receipt.is_empty() {
                                                fresh_receipt.clone().unwrap_or_default()
                                            } else {
                                                receipt.clone()
                                            };
                                            let chosen: Vec<String> = choices
                                                .iter()
                                                .filter_map(|c| labels.get((*c as usize).wrapping_sub(1)).cloned())
                                                .collect();
                                            view! {
                                                <section class="card voted" role="status" id="receipt">
                                                    <p class="success">
                                                        {t(lang, "您已投票", "You have voted")}
                                                        {(!chosen.is_empty())
                                                            .then(|| {
                                                                format!("{}{}", t(lang, ":", ": "), chosen.join("、"))
                                                            })}
                                                        {(channel == "paper")
                                                            .then(|| t(lang, "(纸质选票)", " (paper ballot)"))}
                                                    </p>
                                                    {if shown.is_empty() {
                                                        view! {
                                                            <p class="meta">
                                                                {t(
                                                                    lang,
                                                                    "不记名投票的回执只在投票后显示一次。",
                                                                    "A secret ballot's receipt is shown only once, right after voting.",
                                                                )}
                                                            </p>
                                                        }
                                                            .into_any()
                                                    } else {
                                                        view! {
                                                            <p>
                                                                {t(lang, "投票回执:", "Receipt: ")}
                                                                <strong class="receipt-code">{shown.clone()}</strong>
                                                                {(seq > 0)
                                                                    .then(|| {
                                                                        format!("{}{seq}", t(lang, " · 第 ", " · ballot #"))
                                                                    })}{(seq > 0).then(|| t(lang, " 张选票", ""))}
                                                            </p>
                                                            <p class="meta">
                                                                {t(
                                                                    lang,
                                                                    "请保存回执编号,可随时核验您的选票已计入且未被改动。",
                                                                    "Keep the receipt number: with it you can check at any time that your ballot is counted and unchanged.",
                                                                )}
                                                            </p>
                                                            <p>
                                                                <a
                                                                    class="button"
                                                                    href=format!("/votes/receipt?code={shown}")
                                                                >
                                                                    {t(lang, "核验回执", "Check the receipt")}
                                                                </a>
                                                            </p>
                                                        }
                                                            .into_any()
                                                    }}
                                                </section>
                                            }
                                                .into_any()
                                        }
                                    }}
                                    {show_results.then(|| view! { <Results lang=lang v=v.clone() /> })}
                                    {(v.status == VoteStatus::Closed && !show_results)
                                        .then(|| {
                                            view! {
                                                <p class="meta">
                                                    {t(lang, "结果整理中。", "The result is being prepared.")}
                                                </p>
                                            }
                                        })}
                                    {v
                                        .head_hash
                                        .clone()
                                        .map(|h| {
                                            view! {
                                                <section class="card">
                                                    <h2>
                                                        {t(lang, "选票能不能被改动", "Can ballots be changed?")}
                                                    </h2>
                                                    <p>
                                                        {t(
                                                            lang,
                                                            "不能。每张选票一投出就登记在一条连续的记录里,任何人改动或删掉其中一张,记录就对不上了。您可以随时用投票回执核对自己的选票。",
                                                            "No. Each ballot is entered in one continuous record as it is cast; if anyone changed or removed one, the record would no longer add up. You can check your own ballot at any time with its receipt.",
                                                        )}
                                                    </p>
                                                    <details>
                                                        <summary>
                                                            {t(lang, "技术细节", "Technical details")}
                                                        </summary>
                                                        <p class="meta">
                                                            {t(
                                                                lang,
                                                                "每张选票都与前一张的哈希相连,投票规则在第一张选票前写入。当前链头:",
                                                                "Each ballot is chained to the previous one by hash; the rules were hashed in before the first ballot. Head of the chain: ",
                                                            )}
                                                        </p>
                                                        <p class="hash">{h}</p>
                                                        <p>
                                                            <a href=chain_link
                                                                .clone()>
                                                                {t(
                                                                    lang,
                                                                    "下载选票链(JSON)",
                                                                    "Download the ballot chain (JSON)",
                                                                )}
                                                            </a>
                                                        </p>
                                                    </details>
                                                </section>
                                            }
                                        })}
                                    <p>
                                        <a href="/votes">{t(lang, "返回投票列表", "Back to votes")}</a>
                                    </p>
                                }
                                    .into_any()
                            })
                        }}
                    </Suspense>
                }
            }
        />
    }
}
