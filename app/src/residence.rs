//! 住户认证 pages: a resident asks to be bound to their home; staff decide.
//! All steps are plain forms (GET to pick, POST to submit), so they work
//! without WASM and inside WeChat.

use crate::i18n::t;
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::residence::{Choice, PersonalDataViewRow, Relation, ResidenceStatus, ResidenceView};
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
    /// the ID number typed into a form that failed (kept server-side, never in a URL)
    pub kept_id_number: String,
}

#[server]
pub async fn residence_form(
    community: Option<i64>,
    building: Option<i64>,
    kept: Option<String>,
) -> Result<ResidenceFormData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let kept_id_number = match kept {
        Some(k) => state.flash.get(&k, Some(user.id)).await.into_iter().find(|(k, _)| k == "id_number").map(|(_, v)| v),
        None => None,
    }
    .unwrap_or_default();
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
    Ok(ResidenceFormData { mine, communities, buildings, dwellings, kept_id_number })
}

#[server]
pub async fn request_residence(
    community: String,
    building: String,
    dwelling_id: String,
    relation: String,
    area: String,
    id_number: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let id_number = id_number.unwrap_or_default();
    let result = match backend::residence::NewResidence::parse(&dwelling_id, &relation, &area, &id_number) {
        Ok(new) => backend::residence::request(&state, &user, new).await,
        Err(code) => Err(code.into()),
    };
    match result {
        Ok(_) => {
            leptos_actix::redirect("/residence?submitted=1");
            Ok(())
        }
        Err(e) => {
            // the ID number waits server-side for the form, never in the address
            let kept = if id_number.trim().is_empty() {
                String::new()
            } else {
                state.flash.put(Some(user.id), vec![("id_number".into(), id_number.trim().to_string())]).await
            };
            Err(form_error(
                e,
                "/residence",
                &[
                    ("community", &community),
                    ("building", &building),
                    ("dwelling", &dwelling_id),
                    ("relation", &relation),
                    ("area", &area),
                    ("kept", &kept),
                ],
            ))
        }
    }
}

#[server]
pub async fn pending_residences(show: Option<i64>) -> Result<Vec<ResidenceView>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::residence::pending(&state, &user, show).await.map_err(app_err)
}

/// The personal-data log of the staff member's communities.
#[server]
pub async fn personal_data_log(page: Option<u64>) -> Result<Vec<PersonalDataViewRow>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::residence::personal_data_log(&state, &user, page.unwrap_or(1).max(1)).await.map_err(app_err)
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
    let kept = q.with_untracked(|m| m.get("kept")).filter(|k| !k.is_empty());
    let data = Resource::new(move || (community, building, kept.clone()), |(c, b, k)| residence_form(c, b, k));
    view! {
        <Page
            title=("住户认证", "Verify my home")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let text = move |k: &str| use_query_map().with_untracked(|m| m.get(k)).unwrap_or_default();
                let error = use_query_map().with_untracked(|m| m.get("error")).map(|c| code_text(&c, lang));
                let submitted = use_query_map().with_untracked(|m| m.get("submitted")).is_some();
                view! {
                    <Suspense fallback=|| ()>
                        {move || {
                            let error = error.clone();
                            Suspend::new(async move {
                                let f = match data.await {
                                    Ok(f) => f,
                                    Err(e) => {
                                        return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any();
                                    }
                                };
                                let kept_dwelling = text("dwelling").parse::<i64>().ok();
                                let kept_relation = text("relation");
                                view! {
                                    {submitted
                                        .then(|| {
                                            view! {
                                                <p class="success" role="status">
                                                    {t(
                                                        lang,
                                                        "申请已提交,社区工作人员审核后即可使用社区服务。",
                                                        "Submitted. Community staff will review it.",
                                                    )}
                                                </p>
                                            }
                                        })}
                                    {(!f.mine.is_empty())
                                        .then(|| {
                                            view! {
                                                <section class="card">
                                                    <h2>{t(lang, "我的申请", "My requests")}</h2>
                                                    <ul class="list plain">
                                                        {f
                                                            .mine
                                                            .iter()
                                                            .map(|r| {
                                                                view! {
                                                                    <li class="residence">
                                                                        <span class="title">
                                                                            {r.community.clone()}" "{r.address.clone()}
                                                                        </span>
                                                                        <span class="meta">
                                                                            {r.relation.label(en)}{r.area.map(|a| format!(" · {a}"))}
                                                                            " · "<span class="nw">{r.created_at.clone()}</span>
                                                                        </span>
                                                                        <span class=status_class(
                                                                            r.status,
                                                                        )>{r.status.label(en)}</span>
                                                                        {r
                                                                            .reason
                                                                            .clone()
                                                                            .map(|why| {
                                                                                view! {
                                                                                    <span class="meta">
                                                                                        {t(lang, "原因:", "Reason: ")}{why}
                                                                                    </span>
                                                                                }
                                                                            })}
                                                                    </li>
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </ul>
                                                </section>
                                            }
                                        })}
                                    <section class="card">
                                        <h2>{t(lang, "申请绑定住址", "Link my home")}</h2>
                                        <FormError message=error />
                                        <form method="get" action="/residence" class="stack">
                                            <label>
                                                {t(lang, "社区", "Community")} <select name="community" required>
                                                    <option value="">{t(lang, "请选择", "Choose")}</option>
                                                    {f
                                                        .communities
                                                        .iter()
                                                        .map(|c| {
                                                            view! {
                                                                <option
                                                                    value=c.id.to_string()
                                                                    selected=Some(c.id) == community
                                                                >
                                                                    {c.name.clone()}
                                                                </option>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </select>
                                            </label>
                                            {(!f.buildings.is_empty())
                                                .then(|| {
                                                    view! {
                                                        <label>
                                                            {t(lang, "楼栋", "Building")}
                                                            <select name="building" required>
                                                                <option value="">{t(lang, "请选择", "Choose")}</option>
                                                                {f
                                                                    .buildings
                                                                    .iter()
                                                                    .map(|b| {
                                                                        view! {
                                                                            <option
                                                                                value=b.id.to_string()
                                                                                selected=Some(b.id) == building
                                                                            >
                                                                                {b.name.clone()}
                                                                            </option>
                                                                        }
                                                                    })
                                                                    .collect_view()}
                                                            </select>
                                                        </label>
                                                    }
                                                })}
                                            <button type="submit">{t(lang, "下一步", "Next")}</button>
                                        </form>
                                        {(!f.dwellings.is_empty())
                                            .then(|| {
                                                view! {
                                                    <form method="post" action=RequestResidence::PATH class="stack">
                                                        <input
                                                            type="hidden"
                                                            name="community"
                                                            value=community.map(|c| c.to_string()).unwrap_or_default()
                                                        />
                                                        <input
                                                            type="hidden"
                                                            name="building"
                                                            value=building.map(|b| b.to_string()).unwrap_or_default()
                                                        />
                                                        <label>
                                                            {t(lang, "房号", "Unit")}
                                                            <select name="dwelling_id" required>
                                                                {f
                                                                    .dwellings
                                                                    .iter()
                                                                    .map(|d| {
                                                                        view! {
                                                                            <option
                                                                                value=d.id.to_string()
                                                                                selected=Some(d.id) == kept_dwelling
                                                                            >
                                                                                {d.name.clone()}
                                                                            </option>
                                                                        }
                                                                    })
                                                                    .collect_view()}
                                                            </select>
                                                        </label>
                                                        <fieldset class="choices">
                                                            <legend>{t(lang, "身份", "I am the")}</legend>
                                                            {Relation::ALL
                                                                .into_iter()
                                                                .map(|r| {
                                                                    let checked = kept_relation == r.as_str()
                                                                        || (kept_relation.is_empty() && r == Relation::Owner);
                                                                    view! {
                                                                        <label class="check">
                                                                            <input
                                                                                type="radio"
                                                                                name="relation"
                                                                                value=r.as_str()
                                                                                checked=checked
                                                                            />
                                                                            {r.label(en)}
                                                                        </label>
                                                                    }
                                                                })
                                                                .collect_view()}
                                                        </fieldset>
                                                        <label>
                                                            {t(
                                                                lang,
                                                                "产权面积(平方米,业主和共有人必填)",
                                                                "Registered area in m² (owners and co-owners)",
                                                            )}
                                                            <input
                                                                type="text"
                                                                name="area"
                                                                inputmode="decimal"
                                                                placeholder="89.50"
                                                                value=text("area")
                                                            />
                                                        </label>
                                                        <label>
                                                            {t(
                                                                lang,
                                                                "身份证号(选填,可加快审核)",
                                                                "ID number (optional; speeds up the check)",
                                                            )}
                                                            <input
                                                                type="text"
                                                                name="id_number"
                                                                maxlength="22"
                                                                autocomplete="off"
                                                                spellcheck="false"
                                                                value=f.kept_id_number.clone()
                                                            />
                                                            <span class="meta">
                                                                {t(
                                                                    lang,
                                                                    "加密保存;工作人员只看到打码的号码,查看完整号码会留下记录。",
                                                                    "Kept encrypted; staff see it masked, and every look at the full number is logged.",
                                                                )}
                                                            </span>
                                                        </label>
                                                        <button type="submit" class="primary">
                                                            {t(lang, "提交申请", "Submit")}
                                                        </button>
                                                    </form>
                                                }
                                            })}
                                    </section>
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

#[component]
pub fn StaffResidencesPage() -> impl IntoView {
    let show = use_query_map().with_untracked(|m| m.get("show").and_then(|v| v.parse::<i64>().ok()));
    let data = Resource::new(move || show, pending_residences);
    view! {
        <Page
            title=("住户认证审核", "Residence requests")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let error = use_query_map().with_untracked(|m| m.get("error")).map(|c| code_text(&c, lang));
                let done = use_query_map().with_untracked(|m| m.get("done"));
                view! {
                    {done
                        .map(|d| {
                            view! {
                                <p class="success" role="status">
                                    {if d == "approve" {
                                        t(lang, "已通过。", "Approved.")
                                    } else {
                                        t(lang, "已驳回。", "Rejected.")
                                    }}
                                </p>
                            }
                        })}
                    <FormError message=error />
                    <p>
                        <a href="/staff/personal-data">
                            {t(lang, "个人信息查看记录", "Log of looks at personal data")}
                        </a>
                    </p>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(list) if list.is_empty() => {
                                    view! {
                                        <p class="empty">
                                            {t(lang, "没有待审核的申请", "No pending requests")}
                                        </p>
                                    }
                                        .into_any()
                                }
                                Ok(list) => {
                                    view! {
                                        <ul class="list plain">
                                            {list
                                                .into_iter()
                                                .map(|r| {
                                                    let id = r.id.to_string();
                                                    view! {
                                                        <li class="card residence">
                                                            <span class="title">
                                                                {r.applicant_name.clone()}" · "{r.applicant_phone.clone()}
                                                            </span>
                                                            {r
                                                                .applicant_id_number
                                                                .clone()
                                                                .map(|n| {
                                                                    view! {
                                                                        <span>{t(lang, "身份证号 ", "ID number ")}{n}</span>
                                                                    }
                                                                })}
                                                            {if r.in_full {
                                                                view! {
                                                                    <span class="meta">
                                                                        {t(
                                                                            lang,
                                                                            "已显示完整号码;本次查看已记录。",
                                                                            "Shown in full; this look is logged.",
                                                                        )}" "
                                                                        <a href="/staff/residences">{t(lang, "隐藏", "Hide")}</a>
                                                                    </span>
                                                                }
                                                                    .into_any()
                                                            } else {
                                                                view! {
                                                                    <a class="meta" href=format!("/staff/residences?show={id}")>
                                                                        {t(
                                                                            lang,
                                                                            "查看完整号码(将被记录)",
                                                                            "Show the full numbers (logged)",
                                                                        )}
                                                                    </a>
                                                                }
                                                                    .into_any()
                                                            }}
                                                            <span>{r.community.clone()}" "{r.address.clone()}</span>
                                                            <span class="meta">
                                                                {r.relation.label(en)}{r.area.map(|a| format!(" · {a}"))}
                                                                " · "<span class="nw">{r.created_at.clone()}</span>
                                                            </span>
                                                            <form
                                                                method="post"
                                                                action=DecideResidence::PATH
                                                                class="row"
                                                            >
                                                                <input type="hidden" name="id" value=id.clone() />
                                                                <input type="hidden" name="decision" value="approve" />
                                                                <button type="submit" class="primary">
                                                                    {t(lang, "通过", "Approve")}
                                                                </button>
                                                            </form>
                                                            <form
                                                                method="post"
                                                                action=DecideResidence::PATH
                                                                class="stack"
                                                            >
                                                                <input type="hidden" name="id" value=id />
                                                                <input type="hidden" name="decision" value="reject" />
                                                                <label>
                                                                    {t(lang, "驳回原因", "Reason for rejecting")}
                                                                    <input type="text" name="reason" maxlength="200" />
                                                                </label>
                                                                <button type="submit" class="danger">
                                                                    {t(lang, "驳回", "Reject")}
                                                                </button>
                                                            </form>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
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

/// 个人信息查看记录: who saw whose phone or ID number in full, and when.
#[component]
pub fn PersonalDataLogPage() -> impl IntoView {
    let page = use_query_map().with_untracked(|m| m.get("page").and_then(|v| v.parse::<u64>().ok()));
    let data = Resource::new(move || page, personal_data_log);
    view! {
        <Page
            title=("个人信息查看记录", "Looks at personal data")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                view! {
                    <p class="meta">
                        {t(
                            lang,
                            "工作人员和网格员每次查看居民完整手机号或身份证号,都记录在此,不可删除。",
                            "Every time staff or a grid worker see a resident's full phone or ID number it is recorded here, for good.",
                        )}
                    </p>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(rows) if rows.is_empty() => {
                                    view! { <p class="empty">{t(lang, "暂无记录", "Nothing yet")}</p> }.into_any()
                                }
                                Ok(rows) => {
                                    view! {
                                        <div class="table-wrap">
                                            <table class="figures">
                                                <thead>
                                                    <tr>
                                                        <th scope="col">{t(lang, "时间", "When")}</th>
                                                        <th scope="col">{t(lang, "查看人", "Who looked")}</th>
                                                        <th scope="col">{t(lang, "被查看人", "Whose data")}</th>
                                                        <th scope="col">{t(lang, "内容", "What")}</th>
                                                        <th scope="col">{t(lang, "位置", "Where")}</th>
                                                    </tr>
                                                </thead>
                                                <tbody>
                                                    {rows
                                                        .into_iter()
                                                        .map(|r| {
                                                            let what = r
                                                                .fields
                                                                .iter()
                                                                .map(|f| match f.as_str() {
                                                                    "phone" => t(lang, "手机号", "phone"),
                                                                    "id_number" => t(lang, "身份证号", "ID number"),
                                                                    _ => "?",
                                                                })
                                                                .collect::<Vec<_>>()
                                                                .join(t(lang, "、", ", "));
                                                            let place = match r.context.split_once(':') {
                                                                Some(("residence", id)) => {
                                                                    format!(
                                                                        "{}{id}",
                                                                        t(lang, "住户认证 #", "residence request #"),
                                                                    )
                                                                }
                                                                Some(("incident", id)) => {
                                                                    format!("{}{id}", t(lang, "事件 #", "incident #"))
                                                                }
                                                                _ => r.context.clone(),
                                                            };
                                                            view! {
                                                                <tr>
                                                                    <td>{r.at}</td>
                                                                    <td>{r.viewer}</td>
                                                                    <td>{r.subject}</td>
                                                                    <td>{what}</td>
                                                                    <td>{place}</td>
                                                                </tr>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </tbody>
                                            </table>
                                        </div>
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
