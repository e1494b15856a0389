//! The organiser's page (rotating check-in code, attendance, corrections,
//! confirming hours) and the certificate anyone can check.

#![allow(clippy::too_many_arguments)]

use super::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganisePageData {
    pub view: OrganiseView,
    /// The current code, or why there is none now.
    pub code: Result<CodeView, String>,
}

#[server]
pub async fn organise_data(id: i64, dir: String) -> Result<OrganisePageData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let view = backend::volunteer::organise(&state, &user, id).await.map_err(app_err)?;
    let dir = Direction::parse(&dir).unwrap_or(Direction::In);
    let code = backend::volunteer::current_code(&state, &user, id, dir).await.map_err(|e| e.code.as_str().to_string());
    Ok(OrganisePageData { view, code })
}

#[cfg(feature = "ssr")]
pub(super) fn organise_path(id: i64) -> String {
    format!("/volunteer/{id}/organise")
}

#[server]
pub async fn organiser_check(id: i64, phone: String, d: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = organise_path(id);
    let result = match Direction::parse(&d) {
        Some(dir) => backend::volunteer::organiser_check(&state, &user, id, &phone, dir).await,
        None => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(a) => {
            leptos_actix::redirect(&format!(
                "{page}?{}",
                query(&[("checked", d.as_str()), ("who", a.person.as_str())])
            ));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[("phone", phone.as_str())])),
    }
}

#[server]
pub async fn correct_attendance(
    id: i64,
    attendance: i64,
    check_in: String,
    check_out: String,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = organise_path(id);
    match backend::volunteer::correct(&state, &user, attendance, &check_in, &check_out).await {
        Ok(()) => {
            leptos_actix::redirect(&format!("{page}?corrected=1#t{attendance}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[])),
    }
}

#[server]
pub async fn confirm_attendance(id: i64, attendance: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = organise_path(id);
    match backend::volunteer::confirm(&state, &user, attendance).await {
        Ok(c) => {
            leptos_actix::redirect(&format!(
                "{page}?confirmed={}&points={}#t{attendance}",
                c.credited_minutes, c.points
            ));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[])),
    }
}

#[server]
pub async fn confirm_all_attendances(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = organise_path(id);
    match backend::volunteer::confirm_all(&state, &user, id).await {
        Ok(n) => {
            leptos_actix::redirect(&format!("{page}?confirmed_all={n}"));
            Ok(())
        }
        Err(e) => Err(form_error(e, &page, &[])),
    }
}

#[component]
pub(super) fn AttendanceRow(a: AttendanceView, activity: i64, lang: Lang) -> impl IntoView {
    let preview = a.preview.map(|c| {
        let cap = match c.capped_by {
            Some(Cap::Day) => t(lang, "(受每日上限限制)", " (daily cap)"),
            Some(Cap::Year) => t(lang, "(受年度上限限制)", " (yearly cap)"),
            None => "",
        };
        format!(
            "{}{} · {} {}{cap}",
            t(lang, "确认后记 ", "Confirming credits "),
            hours(c.credited_minutes, lang),
            c.points,
            t(lang, "积分", "points")
        )
    });
    view! {
        <li class="attendance-row" id=format!("t{}", a.id)>
            <span class="title">{a.person.clone()}" "<span class="meta">{a.phone_masked.clone()}</span></span>
            <span class="meta">
                {t(lang, "签到 ", "In ")}<span class="nw">{a.check_in.clone()}</span>
                {a.in_by_organiser.then(|| t(lang, "(组织者代签)", " (by organiser)"))}
                {a.in_distance_m.map(|d| format!("{}{d} m", t(lang, " · 距离 ", " · distance ")))}
                {a.check_out.clone().map(|o| format!("{}{o}", t(lang, " · 签退 ", " · out ")))}
                {a.out_by_organiser.then(|| t(lang, "(组织者代签)", " (by organiser)"))}
            </span>
            {if a.confirmed {
                view! { <span class="status approved">{credited_text(&a, lang)}</span> }.into_any()
            } else {
                view! {
                    {preview.map(|p| view! { <span class="meta preview">{p}</span> })}
                    <form method="post" action=CorrectAttendance::PATH class="inline-form correct">
                        <input type="hidden" name="id" value=activity.to_string() />
                        <input type="hidden" name="attendance" value=a.id.to_string() />
                        <label>
                            {t(lang, "签到", "In")}
                            <input type="datetime-local" name="check_in" required value=a.in_input.clone() />
                        </label>
                        <label>
                            {t(lang, "签退", "Out")}
                            <input type="datetime-local" name="check_out" required value=a.out_input.clone() />
                        </label>
                        <button type="submit">{t(lang, "更正时间", "Correct times")}</button>
                    </form>
                    {a
                        .check_out
                        .is_some()
                        .then(|| {
                            view! {
                                <form method="post" action=ConfirmAttendance::PATH class="inline-form">
                                    <input type="hidden" name="id" value=activity.to_string() />
                                    <input type="hidden" name="attendance" value=a.id.to_string() />
                                    <button type="submit" class="primary">
                                        {t(lang, "确认时长", "Confirm hours")}
                                    </button>
                                </form>
                            }
                        })}
                }
                    .into_any()
            }}
        </li>
    }
}

#[component]
pub fn OrganisePage() -> impl IntoView {
    let id = param("id").parse::<i64>().unwrap_or(0);
    let dir = q("d").filter(|d| d == "out").unwrap_or_else(|| "in".into());
    let shown_dir = dir.clone();
    let data = Resource::new(move || (id, dir.clone()), |(id, dir)| organise_data(id, dir));
    view! {
        <Page
            title=("活动组织", "Organise")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let error = q("error").map(|c| code_text(&c, lang));
                let out = shown_dir == "out";
                view! {
                    {q("checked")
                        .map(|d| {
                            view! {
                                <p class="success" role="status">
                                    {q("who").unwrap_or_default()}
                                    {if d == "out" {
                                        t(lang, " 已签退", " checked out")
                                    } else {
                                        t(lang, " 已签到", " checked in")
                                    }}
                                </p>
                            }
                        })}
                    {q("published")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(
                                        lang,
                                        "活动已发布,居民可以报名了。活动开始前 1 小时起,这里显示签到二维码。",
                                        "Published; residents can sign up. The check-in code shows here from an hour before the start.",
                                    )}
                                </p>
                            }
                        })}
                    {q("corrected")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "时间已更正", "Times corrected")}
                                </p>
                            }
                        })}
                    {q("confirmed")
                        .map(|m| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已确认时长 ", "Confirmed: ")}
                                    {hours(m.parse().unwrap_or(0), lang)}
                                    {t(lang, ",积分 +", ", points +")}
                                    {q("points").unwrap_or_default()}
                                </p>
                            }
                        })}
                    {q("confirmed_all")
                        .map(|n| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已确认 ", "Confirmed ")}
                                    {n}
                                    {t(lang, " 人的时长", " people's hours")}
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
                            let a = d.view.activity.clone();
                            let id = a.id;
                            let open = d
                                .view
                                .attendances
                                .iter()
                                .filter(|x| !x.confirmed && x.check_out.is_some())
                                .count();
                            view! {
                                <div class="console">
                                    <section class="card qr-card">
                                        <h2>{a.title.clone()}</h2>
                                        <p class="meta">
                                            {a.place.clone()}" · "<span class="nw">{a.starts_at.clone()}</span>" – "
                                            <span class="nw">{a.ends_at.clone()}</span>
                                        </p>
                                        <nav class="tabs">
                                            <a
                                                href=format!("/volunteer/{id}/organise")
                                                aria-current=(!out).then_some("page")
                                            >
                                                {Direction::In.label(en)}
                                            </a>
                                            <a
                                                href=format!("/volunteer/{id}/organise?d=out")
                                                aria-current=out.then_some("page")
                                            >
                                                {Direction::Out.label(en)}
                                            </a>
                                        </nav>
                                        {match d.code.clone() {
                                            Ok(c) => {
                                                view! {
                                                    <div
                                                        id="qr"
                                                        class="qr"
                                                        data-activity=id.to_string()
                                                        data-dir=c.direction.as_str()
                                                        data-url=c.url.clone()
                                                        data-left=c.seconds_left.to_string()
                                                        inner_html=c.svg.clone()
                                                    ></div>
                                                    <p class="meta">
                                                        {t(
                                                            lang,
                                                            "请志愿者用微信或相机扫码",
                                                            "Volunteers scan this with WeChat or the camera",
                                                        )}{" · "}<span id="qr-left">{c.seconds_left}</span>
                                                        {t(lang, " 秒后更新", " s until it changes")}
                                                    </p>
                                                    <noscript>
                                                        <meta
                                                            http-equiv="refresh"
                                                            content=c.seconds_left.max(1).to_string()
                                                        />
                                                    </noscript>
                                                    <script src="/volunteer.js" defer></script>
                                                }
                                                    .into_any()
                                            }
                                            Err(code) => {
                                                view! { <p class="empty">{code_text(&code, lang)}</p> }.into_any()
                                            }
                                        }}
                                    </section>
                                    <section class="card">
                                        <h2>{t(lang, "代为签到 / 签退", "Check someone in or out")}</h2>
                                        <form method="post" action=OrganiserCheck::PATH class="stack">
                                            <input type="hidden" name="id" value=id.to_string() />
                                            <label>
                                                {t(lang, "志愿者手机号", "Volunteer's phone")}
                                                <input
                                                    type="tel"
                                                    name="phone"
                                                    required
                                                    maxlength="11"
                                                    inputmode="numeric"
                                                    value=q("phone").unwrap_or_default()
                                                />
                                            </label>
                                            <label>
                                                {t(lang, "操作", "Action")} <select name="d">
                                                    <option value="in">{Direction::In.label(en)}</option>
                                                    <option value="out" selected=out>
                                                        {Direction::Out.label(en)}
                                                    </option>
                                                </select>
                                            </label>
                                            <button type="submit">{t(lang, "提交", "Submit")}</button>
                                        </form>
                                    </section>
                                    <section class="card wide-card">
                                        <h2>{t(lang, "签到记录与时长确认", "Attendance and hours")}</h2>
                                        <p class="meta">{rule_text(&a, lang)}</p>
                                        {if d.view.attendances.is_empty() {
                                            view! {
                                                <p class="empty">
                                                    {t(lang, "还没有人签到", "Nobody has checked in yet")}
                                                </p>
                                            }
                                                .into_any()
                                        } else {
                                            view! {
                                                <ul class="list attendances">
                                                    {d
                                                        .view
                                                        .attendances
                                                        .iter()
                                                        .cloned()
                                                        .map(|x| view! { <AttendanceRow a=x activity=id lang=lang /> })
                                                        .collect_view()}
                                                </ul>
                                            }
                                                .into_any()
                                        }}
                                        {(open > 1)
                                            .then(|| {
                                                view! {
                                                    <form method="post" action=ConfirmAllAttendances::PATH>
                                                        <input type="hidden" name="id" value=id.to_string() />
                                                        <button type="submit">
                                                            {t(
                                                                lang,
                                                                "确认全部已签退的时长",
                                                                "Confirm everyone checked out",
                                                            )}
                                                        </button>
                                                    </form>
                                                }
                                            })}
                                    </section>
                                    <section class="card">
                                        <h2>
                                            {t(lang, "报名名单", "Sign-ups")}
                                            {format!(" {}/{}", a.signed_up, a.capacity)}
                                        </h2>
                                        <ul class="list roster">
                                            {d
                                                .view
                                                .roster
                                                .iter()
                                                .map(|r| {
                                                    view! {
                                                        <li>
                                                            <span class="title">
                                                                {r.name.clone()}" "
                                                                <span class="meta">{r.phone_masked.clone()}</span>
                                                            </span>
                                                            <span class="meta">
                                                                {r.status.label(en)}{r.queue.map(|n| format!(" #{n}"))}
                                                                {r
                                                                    .checked_in
                                                                    .then(|| t(lang, " · 已签到", " · checked in"))}
                                                            </span>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
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

// ------------------------------------------------------------------ certificate

#[server]
pub async fn certificate_view(code: String) -> Result<Certificate, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    backend::volunteer::certificate(&state, &code).await.map_err(app_err)
}

#[component]
pub fn CertificatePage() -> impl IntoView {
    let code = param("code");
    let data = Resource::new(move || code.clone(), certificate_view);
    view! {
        <Page
            title=("志愿服务证明", "Certificate of volunteer service")
            login_required=false
            render=move |s: SessionInfo| {
                let lang = s.lang;
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let c = match data.await {
                                Ok(c) => c,
                                Err(e) => return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            };
                            view! {
                                <article class="card certificate">
                                    <h2>{t(lang, "志愿服务证明", "Certificate of volunteer service")}</h2>
                                    <p>
                                        {t(lang, "兹证明 ", "This certifies that ")}<strong>{c.name.clone()}</strong>
                                        {t(lang, " 在 ", " volunteered in ")}{c.communities.join("、")}
                                        {t(
                                            lang,
                                            " 参加志愿服务,经组织者记录确认,累计志愿服务时长 ",
                                            ", with service hours recorded and confirmed by the organisers totalling ",
                                        )} <strong class="amount">{hours(c.service_minutes, lang)}</strong>
                                        {(c.honour_minutes > 0)
                                            .then(|| {
                                                format!(
                                                    "{}{}",
                                                    t(lang, ",另有荣誉时长 ", "; honour hours: "),
                                                    hours(c.honour_minutes, lang),
                                                )
                                            })} {t(lang, "。", ".")}
                                    </p>
                                    <table class="lines">
                                        <thead>
                                            <tr>
                                                <th>{t(lang, "日期", "Date")}</th>
                                                <th>{t(lang, "活动", "Activity")}</th>
                                                <th>{t(lang, "时长", "Hours")}</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {c
                                                .lines
                                                .iter()
                                                .map(|l| {
                                                    view! {
                                                        <tr>
                                                            <td>
                                                                <span class="nw">{l.date.clone()}</span>
                                                            </td>
                                                            <td>
                                                                {l.title.clone()}
                                                                {l.honour.then(|| t(lang, "(荣誉时长)", " (honour)"))}
                                                            </td>
                                                            <td>{hours(l.minutes, lang)}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                    <p class="meta">{t(lang, "开具时间 ", "Issued ")}{c.issued_at.clone()}</p>
                                    <p class="meta">
                                        {t(lang, "验证码 ", "Verification code ")}
                                        <strong class="receipt-code">{c.code.clone()}</strong>
                                        {t(
                                            lang,
                                            " · 在本站打开 /volunteer/certificate/验证码 即可核验",
                                            " · check it at /volunteer/certificate/<code> on this site",
                                        )}
                                    </p>
                                    <p class="no-print">
                                        <button type="button" data-print="1" hidden>
                                            {t(lang, "打印", "Print")}
                                        </button>
                                    </p>
                                    <script src="/volunteer.js" defer></script>
                                </article>
                            }
                                .into_any()
                        })}
                    </Suspense>
                }
            }
        />
    }
}

// ------------------------------------------------------------------ staff
