//! 事件 pages: report an incident with photos and its place (grid workers,
//! and residents as 随手拍), follow it, and work it through the workflow of
//! rules.md §6 (staff accept, dispatch, verify, close; the worker handles;
//! the reporter rates). Every form is a plain multipart post to the server
//! (`/incidents/report`, `/incidents/{id}/step`) that works without WASM;
//! `public/incident.js` adds the position stamp, nearby suggestions and the
//! offline draft.

use crate::i18n::{t, Lang};
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::incidents::{Action, Category, IncidentDetail, IncidentHome, IncidentRow, RejectReason, Status};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

fn q(k: &str) -> Option<String> {
    use_query_map().with_untracked(|m| m.get(k))
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    pub home: IncidentHome,
    /// The fields of a form that came back (an error, or nearby reports to look at).
    pub kept: Vec<(String, String)>,
    /// Photos already uploaded with that form.
    pub photos: Vec<i64>,
    pub nearby: Vec<IncidentRow>,
}

fn kept(k: &[(String, String)], name: &str) -> String {
    k.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

#[server]
pub async fn report_page_data(draft: Option<String>, form: Option<String>) -> Result<ReportData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let mut home = backend::incidents::home(&state, &user).await.map_err(app_err)?;
    let kept = match &draft {
        Some(k) => state.flash.get(k, Some(user.id)).await,
        None => vec![],
    };
    let mut photos = vec![];
    if let Some(f) = form.filter(|f| backend::incidents::valid_draft(f)) {
        photos = backend::incidents::draft_photos(&state, &user, &f).await.map_err(app_err)?;
        home.form_id = f;
    }
    let mut nearby = vec![];
    let field = |n: &str| kept.iter().find(|(k, _)| k == n).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    if let (Ok(c), Some(cat), Ok(lat), Ok(lng)) = (
        field("community_id").parse::<i64>(),
        Category::parse(&field("category")),
        field("lat").parse::<f64>(),
        field("lng").parse::<f64>(),
    ) {
        nearby = backend::incidents::nearby(&state, &user, c, cat, lat, lng).await.unwrap_or_default();
    }
    Ok(ReportData { home, kept, photos, nearby })
}

/// /incidents: report (事件上报 / 随手拍), my reports, my tasks.
#[component]
pub fn IncidentsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| report_page_data(q("draft"), q("form")));
    view! {
        <Page title=("事件上报", "Report an incident") render=move |s: SessionInfo| {
            let lang = s.lang;
            view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(d) => view! { <IncidentsBody d=d lang=lang/> }.into_any(),
                            Err(e) => view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        }
                    })}
                </Suspense>
            }
        }/>
    }
    .into_any()
}

#[component]
fn IncidentsBody(d: ReportData, lang: Lang) -> impl IntoView {
    let tasks = d.home.tasks.clone();
    let mine = d.home.mine.clone();
    view! {
        <div class="console">
            {(!tasks.is_empty()).then(|| view! {
                <section class="card wide-card">
                    <h2>{t(lang, "我的任务", "My tasks")}</h2>
                    <IncidentRows rows=tasks lang=lang/>
                </section>
            })}
            <ReportForm d=d lang=lang/>
            <section class="card wide-card">
                <h2>{t(lang, "我上报的事件", "My reports")}</h2>
                {if mine.is_empty() {
                    view! { <p class="meta">{t(lang, "还没有上报过事件。", "You have not reported anything yet.")}</p> }.into_any()
                } else {
                    view! { <IncidentRows rows=mine lang=lang/> }.into_any()
                }}
            </section>
        </div>
        <script src="/incident.js" defer></script>
    }
    .into_any()
}

#[component]
fn ReportForm(d: ReportData, lang: Lang) -> impl IntoView {
    let k = d.kept.clone();
    let error = q("error").map(|c| code_text(&c, lang));
    let community = kept(&k, "community_id");
    // a link may choose the category (首页's 入户报修: `?category=home_repair`)
    let category = Some(kept(&k, "category"))
        .filter(|c| !c.is_empty())
        .or_else(|| use_query_map().with_untracked(|m| m.get("category")))
        .unwrap_or_default();
    let communities = d.home.communities.clone();
    let single = communities.len() == 1;
    let nearby = d.nearby.clone();
    let has_spot = !kept(&k, "lat").is_empty();
    let room = domain::incidents::MAX_PHOTOS.saturating_sub(d.photos.len());
    view! {
        <section class="card wide-card" id="report">
            <h2>{t(lang, "上报事件(随手拍)", "Report an incident")}</h2>
            <FormError message=error/>
            {(!nearby.is_empty()).then(|| view! {
                <div class="notice" role="status" id="nearby-kept">
                    <p><strong>{t(lang, "附近 250 米内已有同类事件在办理:", "Open reports of the same kind within 250 m:")}</strong></p>
                    <IncidentRows rows=nearby.clone() lang=lang/>
                    <p class="meta">{t(lang, "如果是同一件事,无需重复上报;如果不是,请再次点击“提交上报”。", "If it is the same matter there is no need to report it again; if not, press Send again.")}</p>
                </div>
            })}
            <form method="post" action="/incidents/report" enctype="multipart/form-data" class="stack" id="incident-form" data-offline-text=t(lang, "当前离线:已保存在本机,联网后自动提交。", "Offline: saved on this phone; it is sent when you are back online.")>
                <input type="hidden" name="form_id" value=d.home.form_id.clone()/>
                {(!nearby.is_empty()).then(|| view! { <input type="hidden" name="confirm_new" value="1"/> })}
                {if single {
                    let (id, name) = communities[0].clone();
                    view! { <input type="hidden" name="community_id" value=id.to_string()/><p class="meta">{name}</p> }.into_any()
                } else {
                    view! {
                        <label>{t(lang, "社区", "Community")}
                            <select name="community_id" required>
                                {communities.iter().map(|(id, name)| {
                                    let id = id.to_string();
                                    let sel = id == community;
                                    view! { <option value=id.clone() selected=sel>{name.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    }.into_any()
                }}
                <label>{t(lang, "类别", "Category")}
                    <select name="category" required>
                        <option value="">{t(lang, "请选择", "Choose…")}</option>
                        {Category::ALL.iter().map(|c| {
                            let sel = c.as_str() == category;
                            view! { <option value=c.as_str() selected=sel>{c.name(lang.is_en())}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>{t(lang, "描述", "Description")}
                    <textarea name="description" rows="4" maxlength="2000" required placeholder=t(lang, "发生了什么、在哪个位置、影响到谁", "What happened, exactly where, who is affected")>{kept(&k, "description")}</textarea>
                </label>
                <fieldset class="place">
                    <legend>{t(lang, "位置", "Place")}</legend>
                    <input type="hidden" name="lat" value=kept(&k, "lat")/>
                    <input type="hidden" name="lng" value=kept(&k, "lng")/>
                    <input type="hidden" name="accuracy" value=kept(&k, "accuracy")/>
                    <input type="hidden" name="located_at" value=kept(&k, "located_at")/>
                    <p class="meta" id="spot-text">{if has_spot {
                        format!("{}{}, {}", t(lang, "已定位:", "Position: "), kept(&k, "lat"), kept(&k, "lng"))
                    } else {
                        t(lang, "请在下面填写地点(楼栋、单元、门牌)。", "Please type the place below (building, entrance, door).").to_string()
                    }}</p>
                    <button type="button" id="locate" hidden>{t(lang, "重新定位", "Locate again")}</button>
                    <label>{t(lang, "地点(楼栋、单元、门牌)", "Place (building, entrance, door)")}
                        <input type="text" name="address" maxlength="200" value=kept(&k, "address")/>
                    </label>
                </fieldset>
                <div id="nearby" class="notice" hidden aria-live="polite"></div>
                <fieldset>
                    <legend>{t(lang, "照片(最多 9 张)", "Photos (at most 9)")}</legend>
                    {(!d.photos.is_empty()).then(|| view! {
                        <p class="meta">{t(lang, "已保留的照片:", "Photos kept: ")}{d.photos.len()}</p>
                        <Thumbs ids=d.photos.clone()/>
                    })}
                    <PhotoInputs room=room lang=lang/>
                </fieldset>
                <button type="submit" class="primary">{t(lang, "提交上报", "Send")}</button>
                <p class="meta" id="offline-note" role="status"></p>
            </form>
        </section>
    }
    .into_any()
}

/// One file input per photo (a `multiple` input loses the camera on Android
/// WeChat, mobile.md): three shown, the rest behind "more".
#[component]
fn PhotoInputs(room: usize, lang: Lang) -> impl IntoView {
    let first: Vec<usize> = (1..=room.min(3)).collect();
    let more: Vec<usize> = (4..=room).collect();
    view! {
        {first.into_iter().map(|n| view! {
            <input type="file" name=format!("photo{n}") accept="image/*" aria-label=format!("{} {n}", t(lang, "照片", "Photo"))/>
        }).collect_view()}
        {(!more.is_empty()).then(|| view! {
            <details>
                <summary>{t(lang, "更多照片", "More photos")}</summary>
                {more.into_iter().map(|n| view! {
                    <input type="file" name=format!("photo{n}") accept="image/*" aria-label=format!("{} {n}", t(lang, "照片", "Photo"))/>
                }).collect_view()}
            </details>
        })}
    }
    .into_any()
}

#[component]
fn Thumbs(ids: Vec<i64>) -> impl IntoView {
    view! {
        <div class="thumbs">
            {ids.into_iter().map(|id| view! {
                <a href=format!("/incidents/photos/{id}/full") target="_blank">
                    <img src=format!("/incidents/photos/{id}/thumb") alt="" loading="lazy" width="96" height="96"/>
                </a>
            }).collect_view()}
        </div>
    }
    .into_any()
}

fn status_class(r: &IncidentRow) -> &'static str {
    if r.overdue {
        "pill danger"
    } else {
        match r.status {
            Status::Closed => "pill ok",
            Status::Rejected => "pill muted",
            Status::Reported => "pill warn",
            _ => "pill",
        }
    }
}

#[component]
pub fn IncidentRows(rows: Vec<IncidentRow>, lang: Lang) -> impl IntoView {
    view! {
        <ul class="list incidents">
            {rows.into_iter().map(|r| {
                let class = status_class(&r);
                view! {
                    <li class:overdue=r.overdue>
                        <a href=format!("/incidents/{}", r.id) class="title">{format!("#{} {} · {}", r.id, r.category.name(lang.is_en()), r.summary)}</a>
                        <span class="meta">
                            <span class=class>{r.status.text(lang.is_en())}{r.overdue.then(|| t(lang, " · 已超期", " · overdue"))}</span>
                            " "{r.place.clone()}" · "<span class="nw">{r.reported_at.clone()}</span>
                            {r.deadline.clone().map(|d| view! { " · "{t(lang, "时限 ", "due ")}<span class="nw">{d}</span> })}
                            {r.assignee.clone().map(|a| format!(" · {a}"))}
                            {(r.photos > 0).then(|| format!(" · {} {}", r.photos, t(lang, "张照片", "photos")))}
                            {r.distance_m.map(|m| format!(" · {:.0} {}", m, t(lang, "米", "m")))}
                        </span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

// ------------------------------------------------------------------ one incident

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetailData {
    pub d: IncidentDetail,
    /// A fresh key for photos sent with a step.
    pub draft: String,
    pub kept: Vec<(String, String)>,
    /// The reporter's phone in full, when asked for (`contact`) by someone
    /// who may call them back; the look is in the personal-data log.
    pub reporter_phone: Option<String>,
}

#[server]
pub async fn incident_page_data(
    id: i64,
    draft: Option<String>,
    contact: Option<String>,
) -> Result<DetailData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let d = backend::incidents::detail(&state, &user, id).await.map_err(app_err)?;
    let kept = match &draft {
        Some(k) => state.flash.get(k, Some(user.id)).await,
        None => vec![],
    };
    let reporter_phone = match contact {
        Some(_) if d.may_contact_reporter() => {
            Some(backend::incidents::reporter_phone(&state, &user, id).await.map_err(app_err)?)
        }
        _ => None,
    };
    Ok(DetailData { d, draft: backend::incidents::new_draft(), kept, reporter_phone })
}

#[component]
pub fn IncidentPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|m| m.get("id")).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let data = Resource::new(move || id, move |id| incident_page_data(id, q("draft"), q("contact")));
    view! {
        <Page title=("事件", "Incident") render=move |s: SessionInfo| {
            let lang = s.lang;
            view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(d) => view! { <IncidentBody data=d lang=lang/> }.into_any(),
                            Err(e) => view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        }
                    })}
                </Suspense>
            }
        }/>
    }
    .into_any()
}

#[component]
fn IncidentBody(data: DetailData, lang: Lang) -> impl IntoView {
    let d = data.d.clone();
    let en = lang.is_en();
    let badge = if d.overdue {
        "pill danger"
    } else if d.status == Status::Closed {
        "pill ok"
    } else {
        "pill"
    };
    view! {
        {q("reported").map(|_| view! { <p class="success" role="status">{t(lang, "已上报,社区会尽快受理。", "Reported; the community will take it up soon.")}</p> })}
        {q("done").map(|_| view! { <p class="success" role="status">{t(lang, "已保存", "Saved")}</p> })}
        <div class="console">
            <section class="card wide-card" class:overdue=d.overdue>
                <h2>{format!("#{} {} ", d.id, d.category.name(en))}<span class=badge>{d.status.text(en)}{d.overdue.then(|| t(lang, " · 已超期", " · overdue"))}</span></h2>
                <p class="body">{d.description.clone()}</p>
                <Facts d=d.clone() phone=data.reporter_phone.clone() lang=lang/>
                {(!d.photos.is_empty()).then(|| view! { <Thumbs ids=d.photos.clone()/> })}
            </section>
            <Actions data=data.clone() lang=lang/>
            <Timeline events=d.events.clone() lang=lang/>
        </div>
    }
    .into_any()
}

#[component]
fn Facts(d: IncidentDetail, phone: Option<String>, lang: Lang) -> impl IntoView {
    let en = lang.is_en();
    let place = match (d.lat, d.lng) {
        (Some(a), Some(b)) => {
            Some(format!("{a:.6}, {b:.6}{}", d.accuracy_m.map(|m| format!(" (±{m:.0} m)")).unwrap_or_default()))
        }
        _ => None,
    };
    view! {
                <dl class="facts">
                    <dt>{t(lang, "社区", "Community")}</dt><dd>{d.community.clone()}{d.grid.clone().map(|g| format!(" · {g}"))}</dd>
                    {d.address.clone().map(|a| view! { <dt>{t(lang, "地点", "Place")}</dt><dd>{a}</dd> })}
                    {place.map(|p| view! { <dt>{t(lang, "定位", "Position")}</dt><dd>{p}</dd> })}
                    <dt>{t(lang, "上报", "Reported")}</dt><dd><span class="nw">{d.reported_at.clone()}</span>{(!d.reporter.is_empty()).then(|| format!(" · {}", d.reporter))}</dd>
                    {d.may_contact_reporter().then(|| view! {
                        <dt>{t(lang, "联系上报人", "Call the reporter")}</dt>
                        <dd>{match phone.clone() {
                            // tap-sized: a worker on foot calls from the phone in hand
                            Some(p) => view! { <a class="button primary tel" href=format!("tel:{p}")>{format!("☎ {p}")}</a> }.into_any(),
                            // a look at the full number is logged: only on request
                            None => view! {
                                <a class="button" href=format!("/incidents/{}?contact=1", d.id)>{t(lang, "显示电话", "Show the number")}</a>
                                <span class="meta">{t(lang, "(查看将被记录)", " (the look is recorded)")}</span>
                            }.into_any(),
                        }}</dd>
                    })}
                    {d.assignee.clone().or(d.department.clone()).map(|a| view! { <dt>{t(lang, "承办", "Assigned to")}</dt><dd>{a}</dd> })}
                    {d.deadline.clone().map(|x| view! { <dt>{t(lang, "办理时限", "Deadline")}</dt><dd class:danger=d.overdue><span class="nw">{x}</span>{(d.escalations > 0).then(|| format!(" · {} {}", t(lang, "督办", "escalated"), d.escalations))}</dd> })}
                    {d.reject_reason.map(|r| view! { <dt>{t(lang, "不予立案", "Rejected")}</dt><dd>{r.text(en)}{d.duplicate_of.map(|o| view! { " " <a href=format!("/incidents/{o}")>{format!("#{o}")}</a> })}</dd> })}
                    {d.rating.map(|r| view! { <dt>{t(lang, "满意度", "Satisfaction")}</dt><dd>{"★".repeat(r as usize)}{"☆".repeat(5 - r as usize)}{d.rating_comment.clone().map(|c| format!(" {c}"))}</dd> })}
                </dl>
    }
    .into_any()
}

#[component]
fn Timeline(events: Vec<domain::incidents::EventView>, lang: Lang) -> impl IntoView {
    let en = lang.is_en();
    let d = events;
    view! {
            <section class="card wide-card">
                <h2>{t(lang, "办理过程", "Timeline")}</h2>
                <ol class="timeline">
                    {d.iter().map(|e| view! {
                        <li>
                            <span class="title">{e.action.text(en)}</span>
                            <span class="meta"><span class="nw">{e.at.clone()}</span>" · "{e.actor.clone()}</span>
                            {e.note.clone().map(|n| view! { <p>{n}</p> })}
                            // the report's own photos are shown at the top
                            {(!e.photos.is_empty() && e.action != Action::Report).then(|| view! { <Thumbs ids=e.photos.clone()/> })}
                        </li>
                    }).collect_view()}
                </ol>
            </section>
    }
    .into_any()
}

/// A step form: multipart, to /incidents/{id}/step.
#[component]
fn StepForm(id: i64, action: Action, draft: String, children: Children) -> impl IntoView {
    view! {
        <form method="post" action=format!("/incidents/{id}/step") enctype="multipart/form-data" class="stack step" data-action=action.as_str()>
            <input type="hidden" name="action" value=action.as_str()/>
            <input type="hidden" name="draft" value=draft/>
            {children()}
        </form>
    }
    .into_any()
}

#[component]
fn Actions(data: DetailData, lang: Lang) -> impl IntoView {
    let d = data.d.clone();
    let id = d.id;
    let draft = data.draft.clone();
    let k = data.kept.clone();
    let failed = q("action").unwrap_or_default();
    let keep = |a: Action, name: &str| if failed == a.as_str() { kept(&k, name) } else { String::new() };
    let (reject_dup, reject_note) = (keep(Action::Reject, "duplicate_of"), keep(Action::Reject, "note"));
    let (dispatch_dept, dispatch_note) = (keep(Action::Dispatch, "department"), keep(Action::Dispatch, "note"));
    let start_note = keep(Action::Start, "note");
    let handle_note = keep(Action::Handle, "note");
    let verify_note = keep(Action::Verify, "note");
    let back_note = keep(Action::SendBack, "note");
    let (ext_until, ext_reason) = (keep(Action::RequestExtension, "until"), keep(Action::RequestExtension, "reason"));
    let rate_comment = keep(Action::Rate, "comment");
    let note_note = keep(Action::Note, "note");
    let may = |a: Action| d.may(a);
    let (m_accept, m_reject, m_dispatch, m_start, m_handle, m_verify, m_close, m_decide, m_extend, m_rate, m_note) = (
        may(Action::Accept),
        may(Action::Reject),
        may(Action::Dispatch),
        may(Action::Start),
        may(Action::Handle),
        may(Action::Verify),
        may(Action::Close),
        may(Action::DecideExtension),
        may(Action::RequestExtension),
        may(Action::Rate),
        may(Action::Note),
    );
    let assignable = d.assignable.clone();
    let deadline_input = d.deadline_input.clone();
    let extension = d.extension.clone();
    let error = q("error").map(|c| code_text(&c, lang));
    let any = Action::ALL.iter().any(|a| d.may(*a));
    if !any && error.is_none() {
        return ().into_any();
    }
    let en = lang.is_en();
    view! {
        <section class="card wide-card" id="act">
            <h2>{t(lang, "办理", "Act")}</h2>
            <FormError message=error/>
            {m_accept.then(|| view! {
                <StepForm id=id action=Action::Accept draft=draft.clone()>
                    <button type="submit" class="primary">{t(lang, "受理立案", "Accept")}</button>
                </StepForm>
            })}
            {m_reject.then(|| view! {
                <details>
                    <summary>{t(lang, "不予立案", "Reject")}</summary>
                    <StepForm id=id action=Action::Reject draft=draft.clone()>
                        <label>{t(lang, "原因", "Reason")}
                            <select name="reason">
                                <option value="duplicate">{RejectReason::Duplicate.text(en)}</option>
                                <option value="not_ours">{RejectReason::NotOurs.text(en)}</option>
                            </select>
                        </label>
                        <label>{t(lang, "重复的事件编号(重复上报时)", "Number of the report it repeats")}<input type="text" name="duplicate_of" inputmode="numeric" value=reject_dup.clone()/></label>
                        <label>{t(lang, "说明", "Note")}<textarea name="note" rows="2">{reject_note.clone()}</textarea></label>
                        <button type="submit">{t(lang, "不予立案", "Reject")}</button>
                    </StepForm>
                </details>
            })}
            {m_dispatch.then(|| view! {
                <StepForm id=id action=Action::Dispatch draft=draft.clone()>
                    <h3>{t(lang, "派遣", "Dispatch")}</h3>
                    <label>{t(lang, "派给网格员", "To a grid worker")}
                        <select name="assignee">
                            <option value="">{t(lang, "(或填写部门)", "(or a department)")}</option>
                            {assignable.iter().map(|a| view! { <option value=a.id.to_string()>{a.name.clone()}" · "{a.grid.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>{t(lang, "或派给部门(物业、城管等)", "Or to a department (property manager, city management…)")}<input type="text" name="department" maxlength="60" value=dispatch_dept.clone()/></label>
                    <label>{t(lang, "办理时限", "Deadline")}<input type="datetime-local" name="deadline" required value=deadline_input.clone()/></label>
                    <label>{t(lang, "说明", "Note")}<textarea name="note" rows="2">{dispatch_note.clone()}</textarea></label>
                    <button type="submit" class="primary">{t(lang, "派遣", "Dispatch")}</button>
                </StepForm>
            })}
            {m_start.then(|| view! {
                <StepForm id=id action=Action::Start draft=draft.clone()>
                    <h3>{t(lang, "开始处置", "Start")}</h3>
                    <label>{t(lang, "处置前照片", "Photo before")}<input type="file" name="photo1" accept="image/*"/></label>
                    <label>{t(lang, "说明", "Note")}<textarea name="note" rows="2">{start_note.clone()}</textarea></label>
                    <button type="submit" class="primary">{t(lang, "开始处置", "Start")}</button>
                </StepForm>
            })}
            {m_handle.then(|| view! {
                <StepForm id=id action=Action::Handle draft=draft.clone()>
                    <h3>{t(lang, "处置完成", "Handled")}</h3>
                    <label>{t(lang, "处置后照片", "Photo after")}<input type="file" name="photo1" accept="image/*"/></label>
                    <input type="file" name="photo2" accept="image/*" aria-label=t(lang, "处置后照片 2", "Photo after 2")/>
                    <label>{t(lang, "处置情况", "What was done")}<textarea name="note" rows="3" required>{handle_note.clone()}</textarea></label>
                    <button type="submit" class="primary">{t(lang, "提交处置结果", "Send the result")}</button>
                </StepForm>
            })}
            {m_verify.then(|| view! {
                <StepForm id=id action=Action::Verify draft=draft.clone()>
                    <h3>{t(lang, "核查", "Verify")}</h3>
                    <label>{t(lang, "核查意见", "Finding")}<textarea name="note" rows="2">{verify_note.clone()}</textarea></label>
                    <button type="submit" class="primary">{t(lang, "核查通过", "Verified")}</button>
                </StepForm>
                <StepForm id=id action=Action::SendBack draft=draft.clone()>
                    <label>{t(lang, "退回原因", "Why it goes back")}<textarea name="note" rows="2" required>{back_note.clone()}</textarea></label>
                    <button type="submit">{t(lang, "核查未通过,退回重办", "Not done: send back")}</button>
                </StepForm>
            })}
            {m_close.then(|| view! {
                <StepForm id=id action=Action::Close draft=draft.clone()>
                    <button type="submit" class="primary">{t(lang, "结案", "Close")}</button>
                </StepForm>
            })}
            {m_decide.then(|| {
                let x = extension.clone();
                view! {
                    <div class="notice">
                        {x.map(|x| view! { <p>{x.by}{t(lang, " 申请延期至 ", " asks to extend to ")}{x.until}": "{x.reason}</p> })}
                        <StepForm id=id action=Action::DecideExtension draft=draft.clone()>
                            <input type="hidden" name="approve" value="1"/>
                            <button type="submit" class="primary">{t(lang, "批准延期", "Approve")}</button>
                        </StepForm>
                        <StepForm id=id action=Action::DecideExtension draft=draft.clone()>
                            <input type="hidden" name="approve" value="0"/>
                            <button type="submit">{t(lang, "不批准", "Refuse")}</button>
                        </StepForm>
                    </div>
                }
            })}
            {m_extend.then(|| view! {
                <details>
                    <summary>{t(lang, "申请延期", "Ask for more time")}</summary>
                    <StepForm id=id action=Action::RequestExtension draft=draft.clone()>
                        <label>{t(lang, "延期至", "Until")}<input type="datetime-local" name="until" required value=ext_until.clone()/></label>
                        <label>{t(lang, "理由", "Reason")}<textarea name="reason" rows="2" required>{ext_reason.clone()}</textarea></label>
                        <button type="submit">{t(lang, "提交申请", "Ask")}</button>
                    </StepForm>
                </details>
            })}
            {m_rate.then(|| view! {
                <StepForm id=id action=Action::Rate draft=draft.clone()>
                    <h3>{t(lang, "评价办理结果", "Rate the result")}</h3>
                    <div class="stars" role="radiogroup">
                        {(1..=5).rev().map(|n| view! {
                            <label><input type="radio" name="rating" value=n.to_string() required/>{"★".repeat(n)}</label>
                        }).collect_view()}
                    </div>
                    <label>{t(lang, "意见(可选)", "Comment (optional)")}<textarea name="comment" rows="2">{rate_comment.clone()}</textarea></label>
                    <button type="submit" class="primary">{t(lang, "提交评价", "Send")}</button>
                </StepForm>
            })}
            {m_note.then(|| view! {
                <details>
                    <summary>{t(lang, "补充进展或照片", "Add an update or photos")}</summary>
                    <StepForm id=id action=Action::Note draft=draft.clone()>
                        <label>{t(lang, "进展", "Update")}<textarea name="note" rows="2">{note_note.clone()}</textarea></label>
                        <input type="file" name="photo1" accept="image/*" aria-label=t(lang, "照片", "Photo")/>
                        <button type="submit">{t(lang, "保存", "Save")}</button>
                    </StepForm>
                </details>
            })}
        </section>
    }
    .into_any()
}

// ------------------------------------------------------------------ staff

#[server]
pub async fn staff_incidents(status: Option<String>) -> Result<Vec<IncidentRow>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let status = status.as_deref().and_then(Status::parse);
    backend::incidents::staff_list(&state, &user, status).await.map_err(app_err)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeysData {
    pub communities: Vec<(i64, String)>,
    pub keys: Vec<domain::incidents::ApiKeyView>,
    /// A key just made, shown this once.
    pub new_key: Option<String>,
}

#[server]
pub async fn open311_keys(new_key: Option<String>) -> Result<KeysData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let communities = backend::support::scope::staff_communities(&state, &user).await.map_err(app_err)?;
    let keys = backend::open311::keys(&state, &user).await.map_err(app_err)?;
    // shown this once: a reload finds nothing. The page may ask more than
    // once (and at once) while it renders, so every ask of this request
    // shares the one take from the store.
    type Shown = std::sync::Arc<tokio::sync::OnceCell<Option<String>>>;
    let new_key = match new_key {
        Some(f) => {
            let req = request()?;
            let cell: Shown = {
                let mut ext = actix_web::HttpMessage::extensions_mut(&req);
                match ext.get::<Shown>() {
                    Some(c) => c.clone(),
                    None => {
                        let c = Shown::default();
                        ext.insert(c.clone());
                        c
                    }
                }
            };
            cell.get_or_init(|| async {
                state.flash.take(&f, Some(user.id)).await.into_iter().find(|(k, _)| k == "key").map(|(_, v)| v)
            })
            .await
            .clone()
        }
        None => None,
    };
    Ok(KeysData { communities, keys, new_key })
}

#[server]
pub async fn create_open311_key(community_id: String, label: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let result = match community_id.trim().parse::<i64>() {
        Ok(c) => backend::open311::create_key(&state, &user, c, &label).await,
        Err(_) => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(key) => {
            let f = state.flash.put(Some(user.id), vec![("key".into(), key)]).await;
            leptos_actix::redirect(&format!("/staff/incidents?newkey={f}#open311"));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/incidents", &[("label", label.as_str())])),
    }
}

#[server]
pub async fn revoke_open311_key(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::open311::revoke_key(&state, &user, id).await {
        Ok(()) => {
            leptos_actix::redirect("/staff/incidents?revoked=1#open311");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/incidents", &[])),
    }
}

/// Keys for Open311 GeoReport v2 clients (city apps, hotlines).
#[component]
fn Open311Keys(lang: Lang) -> impl IntoView {
    use leptos::server_fn::ServerFn;
    let data = Resource::new(|| (), |_| open311_keys(q("newkey")));
    let error = q("error").map(|c| code_text(&c, lang));
    view! {
        <section class="card wide-card" id="open311">
            <h2>{t(lang, "Open311 接口密钥", "Open311 API keys")}</h2>
            <p class="meta">{t(lang, "第三方上报客户端(市民热线、城市 App)可通过 Open311 GeoReport v2 接口 /open311/v2/ 上报和查询本社区事件。每个客户端一个密钥。", "Civic reporting clients (hotlines, city apps) may file and follow this community's incidents through Open311 GeoReport v2 at /open311/v2/. One key per client.")}</p>
            <FormError message=error/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let Ok(d) = data.await else { return ().into_any() };
                    view! {
                        {d.new_key.clone().map(|k| view! {
                            <p class="notice" role="status">{t(lang, "新密钥(只显示这一次,请妥善保存):", "New key (shown this once; keep it safe): ")}<code>{k}</code></p>
                        })}
                        <ul class="list plain">
                            {d.keys.iter().map(|k| view! {
                                <li>
                                    <span class="title">{k.label.clone()}</span>
                                    <span class="meta">{k.community.clone()}" · "<code>{format!("{}…", k.prefix)}</code>" · "<span class="nw">{k.created_at.clone()}</span>{k.revoked.then(|| t(lang, " · 已停用", " · revoked"))}</span>
                                    {(!k.revoked).then(|| view! {
                                        <form method="post" action=RevokeOpen311Key::PATH class="inline-form">
                                            <input type="hidden" name="id" value=k.id.to_string()/>
                                            <button type="submit" class="link">{t(lang, "停用", "Revoke")}</button>
                                        </form>
                                    })}
                                </li>
                            }).collect_view()}
                        </ul>
                        <form method="post" action=CreateOpen311Key::PATH class="stack">
                            <label>{t(lang, "社区", "Community")}
                                <select name="community_id">
                                    {d.communities.iter().map(|(id, name)| view! { <option value=id.to_string()>{name.clone()}</option> }).collect_view()}
                                </select>
                            </label>
                            <label>{t(lang, "客户端名称", "Client name")}<input type="text" name="label" maxlength="60" required value=q("label").unwrap_or_default()/></label>
                            <button type="submit">{t(lang, "生成密钥", "Make a key")}</button>
                        </form>
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

/// /staff/incidents: the community's incidents, overdue first and in red.
#[component]
pub fn StaffIncidentsPage() -> impl IntoView {
    let status = q("status");
    let data = Resource::new(move || status.clone(), staff_incidents);
    view! {
        <Page title=("事件办理", "Incidents") render=move |s: SessionInfo| {
            let lang = s.lang;
            let en = lang.is_en();
            let current = q("status").unwrap_or_default();
            view! {
                <nav class="chips" aria-label=t(lang, "按状态", "By status")>
                    <a href="/staff/incidents" aria-current=current.is_empty().then_some("page")>{t(lang, "未办结", "Open")}</a>
                    {Status::ALL.iter().map(|st| {
                        let on = current == st.as_str();
                        view! { <a href=format!("/staff/incidents?status={}", st.as_str()) aria-current=on.then_some("page")>{st.text(en)}</a> }
                    }).collect_view()}
                </nav>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(rows) if rows.is_empty() => view! { <p class="meta">{t(lang, "没有事件。", "Nothing here.")}</p> }.into_any(),
                            Ok(rows) => {
                                let overdue = rows.iter().filter(|r| r.overdue).count();
                                view! {
                                    <section class="card wide-card">
                                        <h2>{t(lang, "事件", "Incidents")}" "<span class="meta">{rows.len()}{(overdue > 0).then(|| format!(" · {overdue} {}", t(lang, "件超期", "overdue")))}</span></h2>
                                        <IncidentRows rows=rows lang=lang/>
                                    </section>
                                }.into_any()
                            }
                            Err(e) => view! { <FormError message=Some(error_text(&e, lang))/> }.into_any(),
                        }
                    })}
                </Suspense>
                <Open311Keys lang=lang/>
            }
        }/>
    }
    .into_any()
}
