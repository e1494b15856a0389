//! Staff pages of volunteering: publishing and cancelling activities, honour
//! hours, organisers.

#![allow(clippy::too_many_arguments)]

use super::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffVolunteerData {
    pub communities: Vec<(i64, String)>,
    pub activities: Vec<ActivityView>,
    pub person: Option<(String, String, HoursRecord)>,
    pub organisers: Vec<OrganiserRow>,
    pub default_start: String,
    pub default_end: String,
}

#[server]
pub async fn staff_volunteer(phone: Option<String>) -> Result<StaffVolunteerData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let communities = backend::support::scope::staff_communities(&state, &user).await.map_err(app_err)?;
    let activities = backend::volunteer::staff_list(&state, &user).await.map_err(app_err)?;
    let person = match phone.filter(|p| !p.trim().is_empty()) {
        Some(p) => Some(backend::volunteer::staff_record(&state, &user, &p).await.map_err(app_err)?),
        None => None,
    };
    let organisers = backend::volunteer::organisers(&state, &user).await.map_err(app_err)?;
    let (default_start, default_end) = backend::volunteer::default_times();
    Ok(StaffVolunteerData { communities, activities, person, organisers, default_start, default_end })
}

#[server]
pub async fn publish_activity(
    community_id: String,
    title: String,
    description: String,
    place: String,
    starts_at: String,
    ends_at: String,
    capacity: String,
    unit_minutes: String,
    day_hours: String,
    year_hours: String,
    points_per_hour: String,
    organiser_phone: Option<String>,
    geo_lat: String,
    geo_lng: String,
    geo_radius: String,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    use domain::{
        time::parse_beijing_local,
        volunteer::{Geofence, HoursRule},
        ErrorCode,
    };
    let state = state()?;
    let user = require_user()?; // staff, or a resident approved as organiser (checked inside)
    let organiser_phone = organiser_phone.unwrap_or_default();
    let page = if user.is_staff() { "/staff/volunteer" } else { "/volunteer" };
    let keep = [
        ("community_id", community_id.as_str()),
        ("title", title.as_str()),
        ("description", description.as_str()),
        ("place", place.as_str()),
        ("starts_at", starts_at.as_str()),
        ("ends_at", ends_at.as_str()),
        ("capacity", capacity.as_str()),
        ("unit_minutes", unit_minutes.as_str()),
        ("day_hours", day_hours.as_str()),
        ("year_hours", year_hours.as_str()),
        ("points_per_hour", points_per_hour.as_str()),
        ("organiser_phone", organiser_phone.as_str()),
        ("geo_lat", geo_lat.as_str()),
        ("geo_lng", geo_lng.as_str()),
        ("geo_radius", geo_radius.as_str()),
    ];
    let parsed = (|| -> Result<backend::volunteer::NewActivity, ErrorCode> {
        Ok(backend::volunteer::NewActivity {
            community_id: community_id.trim().parse().map_err(|_| ErrorCode::InvalidInput)?,
            title: title.clone(),
            description: description.clone(),
            place: place.clone(),
            starts_at: parse_beijing_local(&starts_at).ok_or(ErrorCode::InvalidTime)?,
            ends_at: parse_beijing_local(&ends_at).ok_or(ErrorCode::InvalidTime)?,
            capacity: capacity.trim().parse().map_err(|_| ErrorCode::InvalidInput)?,
            rule: HoursRule::parse(&unit_minutes, &day_hours, &year_hours, &points_per_hour)?,
            geofence: Geofence::parse(&geo_lat, &geo_lng, &geo_radius)?,
            organiser_phone: organiser_phone.clone(),
        })
    })();
    let result = match parsed {
        Ok(new) => backend::volunteer::create(&state, &user, new).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(id) => {
            leptos_actix::redirect(&format!("/volunteer/{id}/organise?published=1"));
            Ok(())
        }
        Err(e) => Err(form_error(e, page, &keep)),
    }
}

#[server]
pub async fn cancel_activity(id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::volunteer::cancel(&state, &user, id).await {
        Ok(()) => {
            leptos_actix::redirect("/staff/volunteer?cancelled=1");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/volunteer", &[])),
    }
}

#[server]
pub async fn add_honour_hours(phone: String, hours: String, reason: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let keep = [("honour_phone", phone.as_str()), ("hours", hours.as_str()), ("reason", reason.as_str())];
    match backend::volunteer::add_honour(&state, &user, &phone, &hours, &reason).await {
        Ok(()) => {
            leptos_actix::redirect(&format!(
                "/staff/volunteer?{}",
                query(&[("honoured", "1"), ("phone", phone.as_str())])
            ));
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/volunteer", &keep)),
    }
}

#[server]
pub async fn approve_organiser(community_id: String, phone: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let result = match community_id.trim().parse::<i64>() {
        Ok(c) => backend::volunteer::approve_organiser(&state, &user, c, &phone).await,
        Err(_) => Err(domain::ErrorCode::InvalidInput.into()),
    };
    match result {
        Ok(()) => {
            leptos_actix::redirect("/staff/volunteer?approved=1");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/volunteer", &[("organiser", phone.as_str())])),
    }
}

#[server]
pub async fn revoke_organiser(community_id: i64, user_id: i64) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    match backend::volunteer::revoke_organiser(&state, &user, community_id, user_id).await {
        Ok(()) => {
            leptos_actix::redirect("/staff/volunteer?revoked=1");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff/volunteer", &[])),
    }
}

#[component]
pub(super) fn OrganisersCard(
    lang: Lang,
    communities: Vec<(i64, String)>,
    organisers: Vec<OrganiserRow>,
) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{t(lang, "志愿活动组织者", "Volunteer organisers")}</h2>
            <p class="meta">
                {t(
                    lang,
                    "经批准的居民可以自己发布志愿活动,并负责签到和确认时长。",
                    "Approved residents may publish activities themselves and run check-in and hours.",
                )}
            </p>
            <ul class="list">
                {organisers
                    .into_iter()
                    .map(|o| {
                        view! {
                            <li>
                                <span class="title">
                                    {o.name.clone()}" "<span class="meta">{o.phone_masked.clone()}</span>
                                </span>
                                <span class="meta">{o.community.clone()}</span>
                                <form method="post" action=RevokeOrganiser::PATH class="inline-form">
                                    <input type="hidden" name="community_id" value=o.community_id.to_string() />
                                    <input type="hidden" name="user_id" value=o.user_id.to_string() />
                                    <button type="submit">{t(lang, "取消资格", "Revoke")}</button>
                                </form>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <form method="post" action=ApproveOrganiser::PATH class="stack">
                <label>
                    {t(lang, "社区", "Community")} <select name="community_id" required>
                        {communities
                            .iter()
                            .map(|(id, name)| view! { <option value=id.to_string()>{name.clone()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    {t(lang, "居民手机号", "Resident's phone")}
                    <input
                        type="tel"
                        name="phone"
                        required
                        maxlength="11"
                        inputmode="numeric"
                        value=q("organiser").unwrap_or_default()
                    />
                </label>
                <button type="submit">{t(lang, "批准为组织者", "Approve as organiser")}</button>
            </form>
        </section>
    }
    .into_any()
}

#[component]
pub(super) fn PublishForm(
    lang: Lang,
    communities: Vec<(i64, String)>,
    default_start: String,
    default_end: String,
    /// Staff name the organiser; an approved organiser runs it themselves.
    staff: bool,
) -> impl IntoView {
    let kept_c = q("community_id").and_then(|v| v.parse::<i64>().ok());
    let v = |k: &str, default: &str| q(k).unwrap_or_else(|| default.to_string());
    let d = (communities, default_start, default_end);
    view! {
        <section class="card wide-card">
            <h2>{t(lang, "发布志愿活动", "Publish an activity")}</h2>
            <form method="post" action=PublishActivity::PATH class="stack">
                <label>
                    {t(lang, "社区", "Community")} <select name="community_id" required>
                        {d
                            .0
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
                    {t(lang, "活动名称", "Title")}
                    <input type="text" name="title" required maxlength="60" value=v("title", "") />
                </label>
                <label>
                    {t(lang, "活动说明", "Description")}<textarea name="description" maxlength="2000" rows="3">
                        {v("description", "")}
                    </textarea>
                </label>
                <label>
                    {t(lang, "地点", "Place")}
                    <input type="text" name="place" required maxlength="100" value=v("place", "") />
                </label>
                <div class="row2">
                    <label>
                        {t(lang, "开始(北京时间)", "Starts (Beijing)")}
                        <input type="datetime-local" name="starts_at" required value=v("starts_at", &d.1) />
                    </label>
                    <label>
                        {t(lang, "结束(北京时间)", "Ends (Beijing)")}
                        <input type="datetime-local" name="ends_at" required value=v("ends_at", &d.2) />
                    </label>
                </div>
                <div class="row2">
                    <label>
                        {t(lang, "名额", "Places")}
                        <input
                            type="text"
                            name="capacity"
                            required
                            inputmode="numeric"
                            maxlength="5"
                            value=v("capacity", "20")
                        />
                    </label>
                    <label>
                        {t(lang, "每小时积分", "Points per hour")}
                        <input
                            type="text"
                            name="points_per_hour"
                            required
                            inputmode="numeric"
                            maxlength="4"
                            value=v("points_per_hour", "10")
                        />
                    </label>
                </div>
                <div class="row2">
                    <label>
                        {t(lang, "计时单位(分钟)", "Unit (minutes)")}
                        <input
                            type="text"
                            name="unit_minutes"
                            required
                            inputmode="numeric"
                            maxlength="3"
                            value=v("unit_minutes", "30")
                        />
                    </label>
                    <label>
                        {t(lang, "每日上限(小时)", "Daily cap (hours)")}
                        <input
                            type="text"
                            name="day_hours"
                            required
                            inputmode="numeric"
                            maxlength="2"
                            value=v("day_hours", "8")
                        />
                    </label>
                </div>
                <label>
                    {t(lang, "每年上限(小时)", "Yearly cap (hours)")}
                    <input
                        type="text"
                        name="year_hours"
                        required
                        inputmode="numeric"
                        maxlength="4"
                        value=v("year_hours", "600")
                    />
                </label>
                {staff
                    .then(|| {
                        view! {
                            <label>
                                {t(
                                    lang,
                                    "组织者手机号(留空则为本人;可填本社区居民)",
                                    "Organiser's phone (empty: you; or a resident of the community)",
                                )}
                                <input
                                    type="tel"
                                    name="organiser_phone"
                                    maxlength="11"
                                    inputmode="numeric"
                                    value=v("organiser_phone", "")
                                />
                            </label>
                        }
                    })}
                <fieldset>
                    <legend>{t(lang, "现场定位(可选,WGS-84)", "On-site location (optional, WGS-84)")}</legend>
                    <div class="row2">
                        <label>
                            {t(lang, "纬度", "Latitude")}
                            <input
                                type="text"
                                name="geo_lat"
                                inputmode="decimal"
                                maxlength="12"
                                value=v("geo_lat", "")
                            />
                        </label>
                        <label>
                            {t(lang, "经度", "Longitude")}
                            <input
                                type="text"
                                name="geo_lng"
                                inputmode="decimal"
                                maxlength="12"
                                value=v("geo_lng", "")
                            />
                        </label>
                    </div>
                    <label>
                        {t(lang, "半径(米,20–2000)", "Radius (m, 20–2000)")}
                        <input
                            type="text"
                            name="geo_radius"
                            inputmode="numeric"
                            maxlength="4"
                            value=v("geo_radius", "")
                        />
                    </label>
                </fieldset>
                <button type="submit" class="primary">
                    {t(lang, "发布", "Publish")}
                </button>
            </form>
        </section>
    }
    .into_any()
}

#[component]
pub fn StaffVolunteerPage() -> impl IntoView {
    let phone = q("phone");
    let data = Resource::new(move || phone.clone(), staff_volunteer);
    view! {
        <Page
            title=("志愿服务管理", "Volunteering")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = q("error").map(|c| code_text(&c, lang));
                view! {
                    {q("cancelled")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(
                                        lang,
                                        "活动已取消,已通知报名者。",
                                        "Cancelled; everyone signed up was told.",
                                    )}
                                </p>
                            }
                        })}
                    {q("approved")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已批准为组织者", "Approved as organiser")}
                                </p>
                            }
                        })}
                    {q("revoked")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "已取消组织者资格", "Organiser approval withdrawn")}
                                </p>
                            }
                        })}
                    {q("honoured")
                        .map(|_| {
                            view! {
                                <p class="success" role="status">
                                    {t(
                                        lang,
                                        "荣誉时长已记录(不计积分)。",
                                        "Honour hours recorded (no points).",
                                    )}
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
                            let v = |k: &str, default: &str| q(k).unwrap_or_else(|| default.to_string());
                            view! {
                                <div class="console">
                                    <section class="card wide-card">
                                        <h2>{t(lang, "志愿活动", "Activities")}</h2>
                                        {if d.activities.is_empty() {
                                            view! {
                                                <p class="empty">{t(lang, "还没有活动", "No activities yet")}</p>
                                            }
                                                .into_any()
                                        } else {
                                            view! {
                                                <ul class="list">
                                                    {d
                                                        .activities
                                                        .iter()
                                                        .map(|a| {
                                                            view! {
                                                                <li>
                                                                    <span class="title">
                                                                        <a href=format!(
                                                                            "/volunteer/{}/organise",
                                                                            a.id,
                                                                        )>{a.title.clone()}</a>
                                                                        {a
                                                                            .cancelled
                                                                            .then(|| t(lang, "(已取消)", " (cancelled)"))}
                                                                    </span>
                                                                    <span class="meta">
                                                                        {a.community.clone()}" · "
                                                                        <span class="nw">{a.starts_at.clone()}</span>" – "
                                                                        <span class="nw">{a.ends_at.clone()}</span>" · "
                                                                        {a.place.clone()}
                                                                    </span>
                                                                    <span class="meta">
                                                                        {t(lang, "报名 ", "Signed up ")}{a.signed_up}" / "
                                                                        {a.capacity}{t(lang, " · 候补 ", " · waitlist ")}
                                                                        {a.waitlisted}{t(lang, " · 组织者 ", " · organiser ")}
                                                                        {a.organiser.clone()}
                                                                    </span>
                                                                    {(!a.cancelled)
                                                                        .then(|| {
                                                                            view! {
                                                                                <form
                                                                                    method="post"
                                                                                    action=CancelActivity::PATH
                                                                                    class="inline-form"
                                                                                >
                                                                                    <input type="hidden" name="id" value=a.id.to_string() />
                                                                                    <button type="submit">
                                                                                        {t(lang, "取消活动", "Cancel")}
                                                                                    </button>
                                                                                </form>
                                                                            }
                                                                        })}
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            }
                                                .into_any()
                                        }}
                                    </section>
                                    <PublishForm
                                        lang=lang
                                        communities=d.communities.clone()
                                        default_start=d.default_start.clone()
                                        default_end=d.default_end.clone()
                                        staff=true
                                    />
                                    <OrganisersCard
                                        lang=lang
                                        communities=d.communities.clone()
                                        organisers=d.organisers.clone()
                                    />
                                    <section class="card">
                                        <h2>{t(lang, "记录荣誉时长", "Record honour hours")}</h2>
                                        <p class="meta">
                                            {t(
                                                lang,
                                                "荣誉时长计入志愿记录和证明,不折算积分。",
                                                "Honour hours appear on the record and certificate but earn no points.",
                                            )}
                                        </p>
                                        <form method="post" action=AddHonourHours::PATH class="stack">
                                            <label>
                                                {t(lang, "居民手机号", "Resident's phone")}
                                                <input
                                                    type="tel"
                                                    name="phone"
                                                    required
                                                    maxlength="11"
                                                    inputmode="numeric"
                                                    value=v("honour_phone", "")
                                                />
                                            </label>
                                            <label>
                                                {t(lang, "时长(小时,可填 0.5 的倍数)", "Hours (in halves)")}
                                                <input
                                                    type="text"
                                                    name="hours"
                                                    required
                                                    inputmode="decimal"
                                                    maxlength="4"
                                                    value=v("hours", "")
                                                />
                                            </label>
                                            <label>
                                                {t(lang, "事由", "Reason")}
                                                <input
                                                    type="text"
                                                    name="reason"
                                                    required
                                                    maxlength="200"
                                                    value=v("reason", "")
                                                />
                                            </label>
                                            <button type="submit">{t(lang, "记录", "Record")}</button>
                                        </form>
                                    </section>
                                    <section class="card">
                                        <h2>{t(lang, "查询志愿记录", "Look up a record")}</h2>
                                        <form method="get" action="/staff/volunteer" class="inline-form">
                                            <label class="sr-only" for="lookup-phone">
                                                {t(lang, "手机号", "Phone")}
                                            </label>
                                            <input
                                                type="tel"
                                                id="lookup-phone"
                                                name="phone"
                                                required
                                                maxlength="11"
                                                inputmode="numeric"
                                                placeholder=t(lang, "手机号", "Phone")
                                            />
                                            <button type="submit">{t(lang, "查询", "Look up")}</button>
                                        </form>
                                        {d
                                            .person
                                            .clone()
                                            .map(|(name, phone, r)| {
                                                view! {
                                                    <p>
                                                        <strong>{name}</strong>
                                                        " "
                                                        {phone}
                                                    </p>
                                                    <RecordView r=r lang=lang />
                                                }
                                            })}
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
