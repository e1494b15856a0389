//! 住户认证 pages: a resident asks to be bound to their home; staff decide.
//! All steps are plain forms (GET to pick, POST to submit), so they work
//! without WASM and inside WeChat.

use crate::i18n::t;
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::residence::{Choice, Relation, ResidenceStatus, ResidenceView};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResidenceFormData {
    pub mine: Vec<ResidenceView>,
    pub communities: Vec<Choice>,
    pub buildings: Vec<Choice>,
    pub dwellings: Vec<Choice>,
}

#[server]
pub async fn residence_form(community: Option<i64>, building: Option<i64>) -> Result<ResidenceFormData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let mine = backend::residence::mine(&state, &user).await.map_err(app_err)?;
    let communities = backend::residence::communities(&state).await.map_err(app_err)?;
    let buildings = match community {
        Some(c) => backend::residence::buildings(&state, c).await.map_err(app_err)?,
        None => vec![],
    };
    let dwellings = match building {
        Some(b) if buildings.iter().any(|x| x.id == b) => {
            backend::residence::dwellings(&state, b).await.map_err(app_err)?
        }
        _ => vec![],
    };
    Ok(ResidenceFormData { mine, communities, buildings, dwellings })
}

#[server]
pub async fn request_residence(
    community: String,
    building: String,
    dwelling_id: String,
    relation: String,
    area: String,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let result = match backend::residence::NewResidence::parse(&dwelling_id, &relation, &area) {
        Ok(new) => backend::residence::request(&state, &user, new).await,
        Err(code) => Err(code.into()),
    };
    match result {
        Ok(_) => {
            leptos_actix::redirect("/residence?submitted=1");
            Ok(())
        }
        Err(e) => Err(form_error(
            e,
            "/residence",
            &[
                ("community", &community),
                ("building", &building),
                ("dwelling", &dwelling_id),
                ("relation", &relation),
                ("area", &area),
            ],
        )),
    }
}

#[server]
pub async fn pending_residences() -> Result<Vec<ResidenceView>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::residence::pending(&state, &user).await.map_err(app_err)
}

#[server]
pub async fn decide_residence(id: String, decision: String, reason: Option<String>) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let reason = reason.unwrap_or_default();
    let result = match id.trim().parse::<i64>() {
        Ok(id) => backend::residence::decide(&state, &user, id, decision == "approve", &reason).await,
        Err(_) => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(()) => {
            leptos_actix::redirect(&format!("/staff/residences?{}", query(&[("done", &decision)])));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/residences", &[("id", &id), ("reason", &reason)])),
    }
}

fn status_class(s: ResidenceStatus) -> &'static str {
    match s {
        ResidenceStatus::Pending => "status pending",
        ResidenceStatus::Approved => "status approved",
        ResidenceStatus::Rejected => "status rejected",
    }
}

#[component]
pub fn ResidencePage() -> impl IntoView {
    let q = use_query_map();
    let num = move |k: &str| q.with_untracked(|m| m.get(k).and_then(|v| v.parse::<i64>().ok()));
    let community = num("community");
    let building = num("building");
    let data = Resource::new(move || (community, building), |(c, b)| residence_form(c, b));
    view! {
        <Page title=("住户认证", "Verify my home") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            let text = move |k: &str| use_query_map().with_untracked(|m| m.get(k)).unwrap_or_default();
            let error = use_query_map().with_untracked(|m| m.get("error")).map(|c| code_text(&c, lang));
            let submitted = use_query_map().with_untracked(|m| m.get("submitted")).is_some();
            view! {
                <Suspense fallback=|| ()>
                    {move || { let error = error.clone(); Suspend::new(async move {
                        let f = match data.await {
                            Ok(f) => f,
                            Err(e) => return view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        };
                        let kept_dwelling = text("dwelling").parse::<i64>().ok();
                        let kept_relation = text("relation");
                        view! {
                            {submitted.then(|| view! { <p class="success" role="status">{t(lang, "申请已提交,社区工作人员审核后即可使用社区服务。", "Submitted. Community staff will review it.")}</p> })}
                            {(!f.mine.is_empty()).then(|| view! {
                                <section class="card">
                                    <h2>{t(lang, "我的申请", "My requests")}</h2>
                                    <ul class="list plain">
                                        {f.mine.iter().map(|r| view! {
                                            <li class="residence">
                                                <span class="title">{r.community.clone()}" "{r.address.clone()}</span>
                                                <span class="meta">{r.relation.label(en)}{r.area.map(|a| format!(" · {a}"))}" · "{r.created_at.clone()}</span>
                                                <span class=status_class(r.status)>{r.status.label(en)}</span>
                                                {r.reason.clone().map(|why| view! { <span class="meta">{t(lang, "原因:", "Reason: ")}{why}</span> })}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                </section>
                            })}
                            <section class="card">
                                <h2>{t(lang, "申请绑定住址", "Link my home")}</h2>
                                <FormError message=error/>
                                <form method="get" action="/residence" class="stack">
                                    <label>{t(lang, "社区", "Community")}
                                        <select name="community" required>
                                            <option value="">{t(lang, "请选择", "Choose")}</option>
                                            {f.communities.iter().map(|c| view! { <option value=c.id.to_string() selected=Some(c.id) == community>{c.name.clone()}</option> }).collect_view()}
                                        </select>
                                    </label>
                                    {(!f.buildings.is_empty()).then(|| view! {
                                        <label>{t(lang, "楼栋", "Building")}
                                            <select name="building" required>
                                                <option value="">{t(lang, "请选择", "Choose")}</option>
                                                {f.buildings.iter().map(|b| view! { <option value=b.id.to_string() selected=Some(b.id) == building>{b.name.clone()}</option> }).collect_view()}
                                            </select>
                                        </label>
                                    })}
                                    <button type="submit">{t(lang, "下一步", "Next")}</button>
                                </form>
                                {(!f.dwellings.is_empty()).then(|| view! {
                                    <form method="post" action=RequestResidence::PATH class="stack">
                                        <input type="hidden" name="community" value=community.map(|c| c.to_string()).unwrap_or_default()/>
                                        <input type="hidden" name="building" value=building.map(|b| b.to_string()).unwrap_or_default()/>
                                        <label>{t(lang, "房号", "Unit")}
                                            <select name="dwelling_id" required>
                                                {f.dwellings.iter().map(|d| view! { <option value=d.id.to_string() selected=Some(d.id) == kept_dwelling>{d.name.clone()}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <fieldset class="choices">
                                            <legend>{t(lang, "身份", "I am the")}</legend>
                                            {Relation::ALL.into_iter().map(|r| {
                                                let checked = kept_relation == r.as_str() || (kept_relation.is_empty() && r == Relation::Owner);
                                                view! { <label class="check"><input type="radio" name="relation" value=r.as_str() checked=checked/>{r.label(en)}</label> }
                                            }).collect_view()}
                                        </fieldset>
                                        <label>{t(lang, "产权面积(平方米,业主和共有人必填)", "Registered area in m² (owners and co-owners)")}
                                            <input type="text" name="area" inputmode="decimal" placeholder="89.50" value=text("area")/>
                                        </label>
                                        <button type="submit" class="primary">{t(lang, "提交申请", "Submit")}</button>
                                    </form>
                                })}
                            </section>
                        }.into_any()
                    })}}
                </Suspense>
            }
        }/>
    }
}

#[component]
pub fn StaffResidencesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| pending_residences());
    view! {
        <Page title=("住户认证审核", "Residence requests") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            let error = use_query_map().with_untracked(|m| m.get("error")).map(|c| code_text(&c, lang));
            let done = use_query_map().with_untracked(|m| m.get("done"));
            view! {
                {done.map(|d| view! { <p class="success" role="status">{if d == "approve" { t(lang, "已通过。", "Approved.") } else { t(lang, "已驳回。", "Rejected.") }}</p> })}
                <FormError message=error/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(list) if list.is_empty() => view! { <p class="empty">{t(lang, "没有待审核的申请", "No pending requests")}</p> }.into_any(),
                            Ok(list) => view! {
                                <ul class="list plain">
                                    {list.into_iter().map(|r| {
                                        let id = r.id.to_string();
                                        view! {
                                            <li class="card residence">
                                                <span class="title">{r.applicant_name.clone()}" · "{r.applicant_phone.clone()}</span>
                                                <span>{r.community.clone()}" "{r.address.clone()}</span>
                                                <span class="meta">{r.relation.label(en)}{r.area.map(|a| format!(" · {a}"))}" · "{r.created_at.clone()}</span>
                                                <form method="post" action=DecideResidence::PATH class="row">
                                                    <input type="hidden" name="id" value=id.clone()/>
                                                    <input type="hidden" name="decision" value="approve"/>
                                                    <button type="submit" class="primary">{t(lang, "通过", "Approve")}</button>
                                                </form>
                                                <form method="post" action=DecideResidence::PATH class="stack">
                                                    <input type="hidden" name="id" value=id/>
                                                    <input type="hidden" name="decision" value="reject"/>
                                                    <label>{t(lang, "驳回原因", "Reason for rejecting")}
                                                        <input type="text" name="reason" maxlength="200"/>
                                                    </label>
                                                    <button type="submit" class="danger">{t(lang, "驳回", "Reject")}</button>
                                                </form>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(e) => view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        }
                    })}
                </Suspense>
            }
        }/>
    }
}
