//! One incident: its history, photos and the steps the people on it may take.

use super::*;

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
        <Page
            title=("事件", "Incident")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(d) => view! { <IncidentBody data=d lang=lang /> }.into_any(),
                                Err(e) => view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            }
                        })}
                    </Suspense>
                }
            }
        />
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
        {q("reported")
            .map(|_| {
                view! {
                    <p class="success" role="status">
                        {t(lang, "已上报,社区会尽快受理。", "Reported; the community will take it up soon.")}
                    </p>
                }
            })}
        {q("done")
            .map(|_| {
                view! {
                    <p class="success" role="status">
                        {t(lang, "已保存", "Saved")}
                    </p>
                }
            })}
        <div class="console">
            <section class="card wide-card" class:overdue=d.overdue>
                <h2>
                    {format!("#{} {} ", d.id, d.category.name(en))}
                    <span class=badge>
                        {d.status.text(en)}{d.overdue.then(|| t(lang, " · 已超期", " · overdue"))}
                    </span>
                </h2>
                <p class="body">{d.description.clone()}</p>
                <Facts d=d.clone() phone=data.reporter_phone.clone() lang=lang />
                {(!d.photos.is_empty()).then(|| view! { <Thumbs ids=d.photos.clone() /> })}
            </section>
            <Actions data=data.clone() lang=lang />
            <Timeline events=d.events.clone() lang=lang />
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
            <dt>{t(lang, "社区", "Community")}</dt>
            <dd>{d.community.clone()}{d.grid.clone().map(|g| format!(" · {g}"))}</dd>
            {d
                .address
                .clone()
                .map(|a| {
                    view! {
                        <dt>{t(lang, "地点", "Place")}</dt>
                        <dd>{a}</dd>
                    }
                })}
            {place
                .map(|p| {
                    view! {
                        <dt>{t(lang, "定位", "Position")}</dt>
                        <dd>{p}</dd>
                    }
                })}
            <dt>{t(lang, "上报", "Reported")}</dt>
            <dd>
                <span class="nw">{d.reported_at.clone()}</span>
                {(!d.reporter.is_empty()).then(|| format!(" · {}", d.reporter))}
            </dd>
            {d
                .may_contact_reporter()
                .then(|| {
                    view! {
                        <dt>{t(lang, "联系上报人", "Call the reporter")}</dt>
                        <dd>
                            {match phone.clone() {
                                Some(p) => {
                                    // tap-sized: a worker on foot calls from the phone in hand
                                    view! {
                                        <a class="button primary tel" href=format!("tel:{p}")>
                                            {format!("☎ {p}")}
                                        </a>
                                    }
                                        .into_any()
                                }
                                None => {
                                    // a look at the full number is logged: only on request
                                    view! {
                                        <a class="button" href=format!("/incidents/{}?contact=1", d.id)>
                                            {t(lang, "显示电话", "Show the number")}
                                        </a>
                                        <span class="meta">
                                            {t(lang, "(查看将被记录)", " (the look is recorded)")}
                                        </span>
                                    }
                                        .into_any()
                                }
                            }}
                        </dd>
                    }
                })}
            {d
                .assignee
                .clone()
                .or(d.department.clone())
                .map(|a| {
                    view! {
                        <dt>{t(lang, "承办", "Assigned to")}</dt>
                        <dd>{a}</dd>
                    }
                })}
            {d
                .deadline
                .clone()
                .map(|x| {
                    view! {
                        <dt>{t(lang, "办理时限", "Deadline")}</dt>
                        <dd class:danger=d.overdue>
                            <span class="nw">{x}</span>
                            {(d.escalations > 0)
                                .then(|| format!(" · {} {}", t(lang, "督办", "escalated"), d.escalations))}
                        </dd>
                    }
                })}
            {d
                .reject_reason
                .map(|r| {
                    view! {
                        <dt>{t(lang, "不予立案", "Rejected")}</dt>
                        <dd>
                            {r.text(en)}
                            {d
                                .duplicate_of
                                .map(|o| {
                                    view! {
                                        " "
                                        <a href=format!("/incidents/{o}")>{format!("#{o}")}</a>
                                    }
                                })}
                        </dd>
                    }
                })}
            {d
                .rating
                .map(|r| {
                    view! {
                        <dt>{t(lang, "满意度", "Satisfaction")}</dt>
                        <dd>
                            {"★".repeat(r as usize)}{"☆".repeat(5 - r as usize)}
                            {d.rating_comment.clone().map(|c| format!(" {c}"))}
                        </dd>
                    }
                })}
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
                {d
                    .iter()
                    .map(|e| {
                        view! {
                            <li>
                                <span class="title">{e.action.text(en)}</span>
                                <span class="meta">
                                    <span class="nw">{e.at.clone()}</span>
                                    " · "
                                    {e.actor.clone()}
                                </span>
                                {e.note.clone().map(|n| view! { <p>{n}</p> })}
                                // the report's own photos are shown at the top
                                {(!e.photos.is_empty() && e.action != Action::Report)
                                    .then(|| view! { <Thumbs ids=e.photos.clone() /> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
    .into_any()
}

/// A step form: multipart, to /incidents/{id}/step.
#[component]
fn StepForm(id: i64, action: Action, draft: String, children: Children) -> impl IntoView {
    view! {
        <form
            method="post"
            action=format!("/incidents/{id}/step")
            enctype="multipart/form-data"
            class="stack step"
            data-action=action.as_str()
        >
            <input type="hidden" name="action" value=action.as_str() />
            <input type="hidden" name="draft" value=draft />
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
            <FormError message=error />
            {m_accept
                .then(|| {
                    view! {
                        <StepForm id=id action=Action::Accept draft=draft.clone()>
                            <button type="submit" class="primary">
                                {t(lang, "受理立案", "Accept")}
                            </button>
                        </StepForm>
                    }
                })}
            {m_reject
                .then(|| {
                    view! {
                        <details>
                            <summary>{t(lang, "不予立案", "Reject")}</summary>
                            <StepForm id=id action=Action::Reject draft=draft.clone()>
                                <label>
                                    {t(lang, "原因", "Reason")} <select name="reason">
                                        <option value="duplicate">{RejectReason::Duplicate.text(en)}</option>
                                        <option value="not_ours">{RejectReason::NotOurs.text(en)}</option>
                                    </select>
                                </label>
                                <label>
                                    {t(
                                        lang,
                                        "重复的事件编号(重复上报时)",
                                        "Number of the report it repeats",
                                    )}
                                    <input
                                        type="text"
                                        name="duplicate_of"
                                        inputmode="numeric"
                                        value=reject_dup.clone()
                                    />
                                </label>
                                <label>
                                    {t(lang, "说明", "Note")}<textarea name="note" rows="2">
                                        {reject_note.clone()}
                                    </textarea>
                                </label>
                                <button type="submit">{t(lang, "不予立案", "Reject")}</button>
                            </StepForm>
                        </details>
                    }
                })}
            {m_dispatch
                .then(|| {
                    view! {
                        <StepForm id=id action=Action::Dispatch draft=draft.clone()>
                            <h3>{t(lang, "派遣", "Dispatch")}</h3>
                            <label>
                                {t(lang, "派给网格员", "To a grid worker")} <select name="assignee">
                                    <option value="">{t(lang, "(或填写部门)", "(or a department)")}</option>
                                    {assignable
                                        .iter()
                                        .map(|a| {
                                            view! {
                                                <option value=a
                                                    .id
                                                    .to_string()>{a.name.clone()}" · "{a.grid.clone()}</option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </label>
                            <label>
                                {t(
                                    lang,
                                    "或派给部门(物业、城管等)",
                                    "Or to a department (property manager, city management…)",
                                )}<input type="text" name="department" maxlength="60" value=dispatch_dept.clone() />
                            </label>
                            <label>
                                {t(lang, "办理时限", "Deadline")}
                                <input type="datetime-local" name="deadline" required value=deadline_input.clone() />
                            </label>
                            <label>
                                {t(lang, "说明", "Note")}<textarea name="note" rows="2">
                                    {dispatch_note.clone()}
                                </textarea>
                            </label>
                            <button type="submit" class="primary">
                                {t(lang, "派遣", "Dispatch")}
                            </button>
                        </StepForm>
                    }
                })}
            {m_start
                .then(|| {
                    view! {
                        <StepForm id=id action=Action::Start draft=draft.clone()>
                            <h3>{t(lang, "开始处置", "Start")}</h3>
                            <label>
                                {t(lang, "处置前照片", "Photo before")}
                                <input type="file" name="photo1" accept="image/*" />
                            </label>
                            <label>
                                {t(lang, "说明", "Note")}<textarea name="note" rows="2">
                                    {start_note.clone()}
                                </textarea>
                            </label>
                            <button type="submit" class="primary">
                                {t(lang, "开始处置", "Start")}
                            </button>
                        </StepForm>
                    }
                })}
            {m_handle
                .then(|| {
                    view! {
                        <StepForm id=id action=Action::Handle draft=draft.clone()>
                            <h3>{t(lang, "处置完成", "Handled")}</h3>
                            <label>
                                {t(lang, "处置后照片", "Photo after")}
                                <input type="file" name="photo1" accept="image/*" />
                            </label>
                            <input
                                type="file"
                                name="photo2"
                                accept="image/*"
                                aria-label=t(lang, "处置后照片 2", "Photo after 2")
                            />
                            <label>
                                {t(lang, "处置情况", "What was done")}<textarea name="note" rows="3" required>
                                    {handle_note.clone()}
                                </textarea>
                            </label>
                            <button type="submit" class="primary">
                                {t(lang, "提交处置结果", "Send the result")}
                            </button>
                        </StepForm>
                    }
                })}
            {m_verify
                .then(|| {
                    view! {
                        <StepForm id=id action=Action::Verify draft=draft.clone()>
                            <h3>{t(lang, "核查", "Verify")}</h3>
                            <label>
                                {t(lang, "核查意见", "Finding")}<textarea name="note" rows="2">
                                    {verify_note.clone()}
                                </textarea>
                            </label>
                            <button type="submit" class="primary">
                                {t(lang, "核查通过", "Verified")}
                            </button>
                        </StepForm>
                        <StepForm id=id action=Action::SendBack draft=draft.clone()>
                            <label>
                                {t(lang, "退回原因", "Why it goes back")}<textarea name="note" rows="2" required>
                                    {back_note.clone()}
                                </textarea>
                            </label>
                            <button type="submit">
                                {t(lang, "核查未通过,退回重办", "Not done: send back")}
                            </button>
                        </StepForm>
                    }
                })}
            {m_close
                .then(|| {
                    view! {
                        <StepForm id=id action=Action::Close draft=draft.clone()>
                            <button type="submit" class="primary">
                                {t(lang, "结案", "Close")}
                            </button>
                        </StepForm>
                    }
                })}
            {m_decide
                .then(|| {
                    let x = extension.clone();
                    view! {
                        <div class="notice">
                            {x
                                .map(|x| {
                                    view! {
                                        <p>
                                            {x.by}{t(lang, " 申请延期至 ", " asks to extend to ")}{x.until}": "
                                            {x.reason}
                                        </p>
                                    }
                                })} <StepForm id=id action=Action::DecideExtension draft=draft.clone()>
                                <input type="hidden" name="approve" value="1" />
                                <button type="submit" class="primary">
                                    {t(lang, "批准延期", "Approve")}
                                </button>
                            </StepForm> <StepForm id=id action=Action::DecideExtension draft=draft.clone()>
                                <input type="hidden" name="approve" value="0" />
                                <button type="submit">{t(lang, "不批准", "Refuse")}</button>
                            </StepForm>
                        </div>
                    }
                })}
            {m_extend
                .then(|| {
                    view! {
                        <details>
                            <summary>{t(lang, "申请延期", "Ask for more time")}</summary>
                            <StepForm id=id action=Action::RequestExtension draft=draft.clone()>
                                <label>
                                    {t(lang, "延期至", "Until")}
                                    <input type="datetime-local" name="until" required value=ext_until.clone() />
                                </label>
                                <label>
                                    {t(lang, "理由", "Reason")}<textarea name="reason" rows="2" required>
                                        {ext_reason.clone()}
                                    </textarea>
                                </label>
                                <button type="submit">{t(lang, "提交申请", "Ask")}</button>
                            </StepForm>
                        </details>
                    }
                })}
            {m_rate
                .then(|| {
                    view! {
                        <StepForm id=id action=Action::Rate draft=draft.clone()>
                            <h3>{t(lang, "评价办理结果", "Rate the result")}</h3>
                            <div class="stars" role="radiogroup">
                                {(1..=5)
                                    .rev()
                                    .map(|n| {
                                        view! {
                                            <label>
                                                <input type="radio" name="rating" value=n.to_string() required />
                                                {"★".repeat(n)}
                                            </label>
                                        }
                                    })
                                    .collect_view()}
                            </div>
                            <label>
                                {t(lang, "意见(可选)", "Comment (optional)")}<textarea name="comment" rows="2">
                                    {rate_comment.clone()}
                                </textarea>
                            </label>
                            <button type="submit" class="primary">
                                {t(lang, "提交评价", "Send")}
                            </button>
                        </StepForm>
                    }
                })}
            {m_note
                .then(|| {
                    view! {
                        <details>
                            <summary>{t(lang, "补充进展或照片", "Add an update or photos")}</summary>
                            <StepForm id=id action=Action::Note draft=draft.clone()>
                                <label>
                                    {t(lang, "进展", "Update")}<textarea name="note" rows="2">
                                        {note_note.clone()}
                                    </textarea>
                                </label>
                                <input
                                    type="file"
                                    name="photo1"
                                    accept="image/*"
                                    aria-label=t(lang, "照片", "Photo")
                                />
                                <button type="submit">{t(lang, "保存", "Save")}</button>
                            </StepForm>
                        </details>
                    }
                })}
        </section>
    }
    .into_any()
}
