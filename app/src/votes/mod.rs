//! 投票 pages: residents read a vote, see the live quorum tracker (never
//! anyone's choice), cast one ballot with a plain form, keep a receipt and
//! check it later; co-owners designate who votes. Staff create polls and
//! owners' decisions (Art. 278), open and close them, remind non-voters,
//! enter paper ballots and confirm each other's.

#![allow(clippy::too_many_arguments)]

mod ballot;
pub use ballot::*;

mod staff;
mod staff_vote;
pub use staff::*;
pub use staff_vote::*;

use crate::i18n::{t, Lang};
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::votes::{area_text, MyStanding, ReceiptView, VoteKind, VoteStatus, VoteView, Weight};
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

fn status_class(s: VoteStatus) -> &'static str {
    match s {
        VoteStatus::Open => "status pending",
        VoteStatus::Closed => "status approved",
        VoteStatus::Draft => "status",
        VoteStatus::Cancelled => "status rejected",
    }
}

/// What is wrong with the choices brought to the review step, if anything:
/// none, more than the vote allows, a number that is no option, or one twice.
fn review_problem(choices: &[i64], options: usize, max_choices: i64) -> Option<domain::ErrorCode> {
    let mut seen = choices.to_vec();
    seen.sort_unstable();
    seen.dedup();
    let bad = choices.is_empty()
        || seen.len() != choices.len()
        || choices.len() as i64 > max_choices.max(1)
        || choices.iter().any(|c| *c < 1 || *c as usize > options);
    bad.then_some(domain::ErrorCode::InvalidChoice)
}

fn m2(centi: i64) -> String {
    format!("{}\u{a0}m²", area_text(centi))
}

#[server]
pub async fn votes_list() -> Result<Vec<VoteView>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::votes::list(&state, &user).await.map_err(app_err)
}

/// One line per vote: title, kind, state, times and turnout.
#[component]
fn VoteList(lang: Lang, votes: Vec<VoteView>, base: &'static str) -> impl IntoView {
    let en = lang.is_en();
    view! {
        <ul class="list votes">
            {votes
                .into_iter()
                .map(|v| {
                    view! {
                        <li>
                            <a href=format!("{base}/{}", v.id)>
                                <span class="title">{v.title.clone()}</span>
                                <span class="meta">
                                    {v.kind.label(en)}" · "{v.community.clone()}
                                    {v.building.clone().map(|b| format!(" {b}")).unwrap_or_default()}
                                </span>
                                <span class="meta">
                                    <span class="nw">{v.starts_at.clone()}</span>
                                    " – "
                                    <span class="nw">{v.ends_at.clone()}</span>
                                </span>
                                {(v.status != VoteStatus::Draft)
                                    .then(|| {
                                        view! {
                                            <span class="meta">
                                                {t(lang, "已投票 ", "Voted: ")}{v.participated.count}" / "
                                                {v.total.count}
                                            </span>
                                        }
                                    })}
                                <span class=status_class(v.status)>{v.status.label(en)}</span>
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
pub fn VotesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| votes_list());
    view! {
        <Page
            title=("议事投票", "Votes")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(v) if v.is_empty() => {
                                    view! {
                                        <p class="empty">
                                            {t(
                                                lang,
                                                "暂时没有投票。完成住户认证后,您所在社区的投票会显示在这里。",
                                                "No votes yet. Once your home is verified, your community's votes appear here.",
                                            )}
                                        </p>
                                    }
                                        .into_any()
                                }
                                Ok(v) => view! { <VoteList lang=lang votes=v base="/votes" /> }.into_any(),
                                Err(e) => view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            }
                        })}
                    </Suspense>
                    <p>
                        <a href="/votes/receipt">{t(lang, "核验投票回执", "Check a ballot receipt")}</a>
                    </p>
                }
            }
        />
    }
}

#[server]
pub async fn check_vote_receipt(code: String) -> Result<Option<ReceiptView>, ServerFnError> {
    use crate::session::ssr::*;
    if code.trim().is_empty() {
        return Ok(None);
    }
    let state = state()?;
    backend::votes::receipt(&state, &code).await.map(Some).map_err(app_err)
}

/// Anyone with a receipt code checks that the ballot is in the chain.
#[component]
pub fn VoteReceiptPage() -> impl IntoView {
    let code = q("code").unwrap_or_default();
    let typed = code.clone();
    let data = Resource::new(move || code.clone(), check_vote_receipt);
    view! {
        <Page
            title=("核验投票回执", "Check a ballot receipt")
            login_required=false
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let typed = typed.clone();
                view! {
                    <crate::layout::CodeCheckForm
                        lang=lang
                        action="/votes/receipt"
                        label=("回执编号", "Receipt number")
                        typed=typed
                    />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(None) => view! { <span></span> }.into_any(),
                                Ok(Some(r)) => {
                                    view! {
                                        <section class="card">
                                            {if r.chain_ok {
                                                view! {
                                                    <p class="success" role="status">
                                                        {t(
                                                            lang,
                                                            "您的选票已计入,所有选票都没有被改动过。",
                                                            "Your ballot is counted, and no ballot has been changed.",
                                                        )}
                                                    </p>
                                                }
                                                    .into_any()
                                            } else {
                                                view! {
                                                    <p class="form-error" role="alert">
                                                        {t(
                                                            lang,
                                                            "核对没有通过:选票记录可能被改动过。请立即联系社区居委会和街道办。",
                                                            "The check failed: the ballot record may have been changed. Please contact the community office and the street office at once.",
                                                        )}
                                                    </p>
                                                }
                                                    .into_any()
                                            }} <dl class="facts">
                                                <dt>{t(lang, "投票", "Vote")}</dt>
                                                <dd>
                                                    <a href=format!("/votes/{}", r.vote_id)>{r.title.clone()}</a>
                                                </dd>
                                                <dt>{t(lang, "选票序号", "Ballot no.")}</dt>
                                                <dd>{r.seq}" / "{r.ballots}</dd>
                                                {if r.secret {
                                                    view! {
                                                        <dt>{t(lang, "选择", "Choice")}</dt>
                                                        <dd>
                                                            {t(
                                                                lang,
                                                                "不记名投票:回执只证明选票已计入,不显示选择",
                                                                "Secret ballot: the receipt proves the ballot was counted, not how it was cast",
                                                            )}
                                                        </dd>
                                                    }
                                                        .into_any()
                                                } else {
                                                    view! {
                                                        <dt>{t(lang, "选择", "Choice")}</dt>
                                                        <dd>{r.choices.join("、")}</dd>
                                                    }
                                                        .into_any()
                                                }}
                                                <dt>{t(lang, "方式", "Channel")}</dt>
                                                <dd>
                                                    {if r.channel == "paper" {
                                                        t(lang, "纸质选票", "Paper")
                                                    } else {
                                                        t(lang, "在线", "Online")
                                                    }}
                                                </dd>
                                                <dt>{t(lang, "投票时间", "Cast at")}</dt>
                                                <dd>
                                                    <span class="nw">
                                                        {domain::time::beijing_of_rfc3339(&r.cast_at)}
                                                    </span>
                                                    {t(lang, "(北京时间)", " (Beijing time)")}
                                                </dd>
                                            </dl> <details>
                                                <summary>{t(lang, "技术细节", "Technical details")}</summary>
                                                <dl class="facts">
                                                    <dt>{t(lang, "选票哈希", "Ballot hash")}</dt>
                                                    <dd class="hash">{r.hash.clone()}</dd>
                                                    <dt>{t(lang, "链头哈希", "Head hash")}</dt>
                                                    <dd class="hash">{r.head_hash.clone()}</dd>
                                                </dl>
                                            </details>
                                        </section>
                                    }
                                        .into_any()
                                }
                                Err(_) => {
                                    view! {
                                        <p class="form-error" role="alert">
                                            {t(
                                                lang,
                                                "没有找到这张回执:编号有误,或不是本平台的投票回执。",
                                                "No such receipt: the number is wrong, or it was not issued here.",
                                            )}
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quorum_gap_names_only_what_is_still_missing() {
        let zh = Lang::default();
        assert_eq!(quorum_gap_text(zh, Weight { count: 0, area: 1 }), "距参与门槛还差 0.01\u{a0}m²");
        assert_eq!(quorum_gap_text(zh, Weight { count: 1, area: 0 }), "距参与门槛还差 1 户业主");
        assert_eq!(quorum_gap_text(zh, Weight { count: 2, area: 12050 }), "距参与门槛还差 2 户业主、120.50\u{a0}m²");
    }
}
