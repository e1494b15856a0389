//! 首页: what is waiting for me (amount due, my next booking, a vote I have
//! not cast, my open reports), the services as large icons, the numbers to
//! call, and the latest notices. Staff are sent to their console.

use crate::announcements::{list_announcements, AnnouncementList};
use crate::i18n::{t, Lang};
use crate::layout::{FormError, Page};
use crate::session::{error_text, SessionInfo};
use domain::money::Fen;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One thing waiting for the resident, with where to deal with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Todo {
    /// unpaid bills: how many, and the amount still due
    Due { bills: usize, owed: Fen },
    /// the next booking: what, day, start
    Booking { id: i64, item: String, date: String, start: String },
    /// an open vote I may still vote in
    Vote { id: i64, title: String, ends_at: String },
    /// my reports still being handled
    Reports { open: usize },
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HomeSummary {
    pub todo: Vec<Todo>,
    pub contacts: Vec<Contact>,
}

/// A community's numbers as 首页 shows them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub community: String,
    pub office_phone: Option<String>,
    pub property_name: Option<String>,
    pub property_phone: Option<String>,
    /// The property service takes home-repair requests here.
    pub repairs: bool,
}

#[server]
pub async fn home_data() -> Result<HomeSummary, ServerFnError> {
    use crate::session::ssr::*;
    use domain::appointments::BookingStatus;
    use domain::bills::BillStatus;
    let state = state()?;
    let user = require_user()?;
    let mut todo = vec![];
    let unpaid: Vec<_> = backend::bills::mine(&state, &user)
        .await
        .map_err(app_err)?
        .into_iter()
        .filter(|b| b.status == BillStatus::Unpaid)
        .collect();
    if !unpaid.is_empty() {
        let owed = Fen(unpaid.iter().map(|b| b.amount.0 - b.paid.0).sum());
        todo.push(Todo::Due { bills: unpaid.len(), owed });
    }
    let mut bookings: Vec<_> = backend::appointments::mine(&state, &user)
        .await
        .map_err(app_err)?
        .into_iter()
        .filter(|b| b.upcoming && matches!(b.status, BookingStatus::Booked | BookingStatus::Offered))
        .collect();
    bookings.sort_by(|a, b| (&a.date, &a.start).cmp(&(&b.date, &b.start)));
    if let Some(b) = bookings.into_iter().next() {
        todo.push(Todo::Booking { id: b.id, item: b.item, date: b.date, start: b.start });
    }
    for v in backend::votes::list(&state, &user).await.map_err(app_err)? {
        if v.status != domain::votes::VoteStatus::Open {
            continue;
        }
        if let Ok(domain::votes::MyStanding::MayVote { .. }) = backend::votes::standing(&state, &user, v.id).await {
            todo.push(Todo::Vote { id: v.id, title: v.title, ends_at: v.ends_at });
            break;
        }
    }
    let open = backend::incidents::home(&state, &user)
        .await
        .map_err(app_err)?
        .mine
        .iter()
        .filter(|r| r.status.is_open())
        .count();
    if open > 0 {
        todo.push(Todo::Reports { open });
    }
    let contacts = backend::org::my_contacts(&state, &user)
        .await
        .map_err(app_err)?
        .into_iter()
        .map(|c| Contact {
            community: c.community,
            office_phone: c.office_phone,
            property_name: c.property_name,
            property_phone: c.property_phone,
            repairs: c.property_repairs,
        })
        .collect();
    Ok(HomeSummary { todo, contacts })
}

/// (path, icon, zh, en) of the services on 首页.
fn services(repairs: bool) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    let mut v = vec![
        ("/appointments", "◷", "预约办事", "Book a visit"),
        ("/bills", "¥", "生活缴费", "Pay bills"),
        ("/incidents", "⚑", "随手拍", "Report a problem"),
    ];
    if repairs {
        v.push(("/incidents?category=home_repair#report", "⚒", "入户报修", "Home repair"));
    }
    v.extend([
        ("/volunteer", "♥", "志愿服务", "Volunteering"),
        ("/points", "★", "积分超市", "Points mall"),
        ("/topics", "☷", "议事协商", "Deliberation"),
        ("/votes", "☑", "投票表决", "Votes"),
        ("/announcements", "✉", "社区公告", "Notices"),
    ]);
    v
}

#[component]
fn TodoList(lang: Lang, todo: Vec<Todo>) -> impl IntoView {
    let en = lang.is_en();
    view! {
        <section class="card" aria-labelledby="todo-h">
            <h2 id="todo-h">{t(lang, "待办", "To do")}</h2>
            {if todo.is_empty() {
                view! { <p class="empty">{t(lang, "现在没有要办的事。", "Nothing is waiting for you.")}</p> }
                    .into_any()
            } else {
                view! {
                    <ul class="todo">
                        {todo
                            .into_iter()
                            .map(|item| {
                                let (href, what, go): (String, AnyView, &str) = match item {
                                    Todo::Due { bills, owed } => {
                                        (
                                            "/bills".into(),
                                            view! {
                                                <span class="what">
                                                    {if en {
                                                        format!("{bills} unpaid bill(s): ")
                                                    } else {
                                                        format!("{bills} 张账单待缴,共 ")
                                                    }}<span class="amount">{owed.to_string()}</span>
                                                </span>
                                            }
                                                .into_any(),
                                            t(lang, "去缴费", "Pay"),
                                        )
                                    }
                                    Todo::Booking { id, item, date, start } => {
                                        (
                                            format!("/appointments/bookings/{id}"),
                                            view! {
                                                <span class="what">
                                                    {t(lang, "下次预约:", "Next booking: ")}{item}" "
                                                    <span class="nw">{date}" "{start}</span>
                                                </span>
                                            }
                                                .into_any(),
                                            t(lang, "查看", "View"),
                                        )
                                    }
                                    Todo::Vote { id, title, ends_at } => {
                                        (
                                            format!("/votes/{id}"),
                                            view! {
                                                <span class="what">
                                                    {t(lang, "等您投票:", "Waiting for your vote: ")}{title}
                                                    <span class="meta">
                                                        {t(lang, " 截止 ", " closes ")}
                                                        <span class="nw">{ends_at}</span>
                                                    </span>
                                                </span>
                                            }
                                                .into_any(),
                                            t(lang, "去投票", "Vote"),
                                        )
                                    }
                                    Todo::Reports { open } => {
                                        (
                                            "/incidents".into(),
                                            view! {
                                                <span class="what">
                                                    {if en {
                                                        format!("{open} of my report(s) being handled")
                                                    } else {
                                                        format!("我的上报有 {open} 件正在办理")
                                                    }}
                                                </span>
                                            }
                                                .into_any(),
                                            t(lang, "看进展", "Progress"),
                                        )
                                    }
                                };
                                view! {
                                    <li>
                                        <a href=href>{what}<span class="go">{go}" ›"</span></a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    let notices = Resource::new(|| 0u64, list_announcements);
    let data = Resource::new(|| (), |_| home_data());
    view! {
        <Page
            title=("首页", "Home")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let user = s.user.clone();
                let name = user.as_ref().map(|u| u.name.clone()).unwrap_or_default();
                if user.as_ref().map(|u| u.is_staff()).unwrap_or(false) {
                    return view! { <crate::layout::GoTo path="/staff" /> }.into_any();
                }
                let no_roles = user.as_ref().map(|u| u.roles.is_empty()).unwrap_or(true);
                view! {
                    <section class="card greeting">
                        <h2>{t(lang, "您好,", "Hello, ")}{name}</h2>
                        {no_roles
                            .then(|| {
                                view! {
                                    <p class="notice">
                                        {t(
                                            lang,
                                            "您的账号尚未绑定社区住址。完成住户认证后即可查看本社区公告、办理社区业务。",
                                            "Your account is not linked to a home in a community yet. Verify your residence to see its notices and use its services.",
                                        )}
                                    </p>
                                    <p>
                                        <a class="button primary" href="/residence">
                                            {t(lang, "去认证", "Verify now")}
                                        </a>
                                    </p>
                                }
                            })}
                    </section>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let d = match data.await {
                                Ok(d) => d,
                                Err(e) => return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            };
                            let repairs = d.contacts.iter().any(|c| c.repairs);
                            view! {
                                <TodoList lang=lang todo=d.todo.clone() />
                                <nav class="card" aria-labelledby="services-h">
                                    <h2 id="services-h">{t(lang, "社区服务", "Services")}</h2>
                                    <ul class="tiles">
                                        {services(repairs)
                                            .into_iter()
                                            .map(|(href, icon, zh, en)| {
                                                view! {
                                                    <li>
                                                        <a href=href>
                                                            <span class="icon" aria-hidden="true">
                                                                {icon}
                                                            </span>
                                                            <span>{t(lang, zh, en)}</span>
                                                        </a>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                </nav>
                                {(!d.contacts.is_empty())
                                    .then(|| {
                                        view! {
                                            <section class="card" aria-labelledby="phones-h">
                                                <h2 id="phones-h">{t(lang, "联系电话", "Phone numbers")}</h2>
                                                <ul class="phones">
                                                    {d
                                                        .contacts
                                                        .iter()
                                                        .flat_map(|c| {
                                                            let mut rows = vec![];
                                                            if let Some(n) = c.office_phone.clone() {
                                                                rows.push((
                                                                    format!(
                                                                        "{}{}",
                                                                        c.community,
                                                                        t(lang, "居委会", " community office"),
                                                                    ),
                                                                    n,
                                                                ));
                                                            }
                                                            if let Some(n) = c.property_phone.clone() {
                                                                rows.push((
                                                                    c
                                                                        .property_name
                                                                        .clone()
                                                                        .unwrap_or_else(|| {
                                                                            t(lang, "物业", "Property service").to_string()
                                                                        }),
                                                                    n,
                                                                ));
                                                            }
                                                            rows
                                                        })
                                                        .map(|(who, number)| {
                                                            let dial = format!(
                                                                "tel:{}",
                                                                domain::phone::ContactNumber::tel(&number),
                                                            );
                                                            view! {
                                                                <li>
                                                                    <a href=dial>
                                                                        <span>{who}</span>
                                                                        <span class="num">{number}</span>
                                                                    </a>
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            </section>
                                        }
                                    })}
                            }
                                .into_any()
                        })}
                    </Suspense>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match notices.await {
                                Ok(p) => {
                                    let latest = p.items.into_iter().take(3).collect::<Vec<_>>();
                                    view! {
                                        <section class="card">
                                            <h2>
                                                <a href="/announcements">{t(lang, "社区公告", "Notices")}</a>
                                                {(p.unread > 0)
                                                    .then(|| {
                                                        view! { <span class="badge unread-count">{p.unread}</span> }
                                                    })}
                                            </h2>
                                            <AnnouncementList items=latest lang=lang />
                                        </section>
                                    }
                                        .into_any()
                                }
                                Err(e) => view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            }
                        })}
                    </Suspense>
                }
                    .into_any()
            }
        />
    }
}

/// The contacts of the staff member's communities, for the console's form.
#[server]
pub async fn staff_contacts() -> Result<Vec<(i64, String, String, String, String, bool)>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    Ok(backend::org::staff_contacts(&state, &user)
        .await
        .map_err(app_err)?
        .into_iter()
        .map(|c| {
            (
                c.community_id,
                c.community,
                c.office_phone.unwrap_or_default(),
                c.property_name.unwrap_or_default(),
                c.property_phone.unwrap_or_default(),
                c.property_repairs,
            )
        })
        .collect())
}

#[server]
pub async fn set_community_contacts(
    community_id: i64,
    office_phone: String,
    property_name: String,
    property_phone: String,
    property_repairs: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let repairs = property_repairs.is_some_and(|v| !v.is_empty());
    let keep = [
        ("contacts_for", community_id.to_string()),
        ("office_phone", office_phone.clone()),
        ("property_name", property_name.clone()),
        ("property_phone", property_phone.clone()),
    ];
    let keep: Vec<(&str, &str)> = keep.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match backend::org::set_contacts(
        &state,
        &user,
        community_id,
        &office_phone,
        &property_name,
        &property_phone,
        repairs,
    )
    .await
    {
        Ok(()) => {
            leptos_actix::redirect("/staff?contacts=saved#contacts");
            Ok(())
        }
        Err(e) => Err(form_error(e, "/staff#contacts", &keep)),
    }
}

/// The console's card: each community's numbers, as residents see them on 首页.
#[component]
pub fn ContactsCard(lang: Lang) -> impl IntoView {
    use leptos::server_fn::ServerFn;
    use leptos_router::hooks::use_query_map;
    let q = |k: &str| use_query_map().with_untracked(|m| m.get(k));
    let error = q("error").filter(|_| q("contacts_for").is_some()).map(|c| crate::session::code_text(&c, lang));
    let failed_for: Option<i64> = q("contacts_for").and_then(|v| v.parse().ok());
    let typed = (q("office_phone"), q("property_name"), q("property_phone"));
    let saved = q("contacts").is_some();
    let data = Resource::new(|| (), |_| staff_contacts());
    view! {
        <section class="card" id="contacts">
            <h2>{t(lang, "社区联系电话", "Community phone numbers")}</h2>
            <p class="meta">
                {t(
                    lang,
                    "居民在首页看到这些电话,点一下就能拨打。",
                    "Residents see these on their home page and call with one tap.",
                )}
            </p>
            {saved
                .then(|| {
                    view! {
                        <p class="success" role="status">
                            {t(lang, "已保存。", "Saved.")}
                        </p>
                    }
                })}
            <Suspense fallback=|| ()>
                {move || {
                    let error = error.clone();
                    let typed = typed.clone();
                    Suspend::new(async move {
                        let rows = data.await.unwrap_or_default();
                        rows.into_iter()
                            .map(|(id, name, office, pname, pphone, repairs)| {
                                let mine = failed_for == Some(id);
                                let pick = |typed: &Option<String>, stored: String| {
                                    if mine { typed.clone().unwrap_or_default() } else { stored }
                                };
                                view! {
                                    <form method="post" action=SetCommunityContacts::PATH class="stack">
                                        <h3>{name}</h3>
                                        {mine.then(|| view! { <FormError message=error.clone() /> })}
                                        <input type="hidden" name="community_id" value=id.to_string() />
                                        <label>
                                            {t(lang, "居委会电话", "Community office")}
                                            <input
                                                type="tel"
                                                name="office_phone"
                                                maxlength="30"
                                                value=pick(&typed.0, office)
                                            />
                                        </label>
                                        <label>
                                            {t(lang, "物业名称", "Property service")}
                                            <input
                                                type="text"
                                                name="property_name"
                                                maxlength="40"
                                                value=pick(&typed.1, pname)
                                            />
                                        </label>
                                        <label>
                                            {t(lang, "物业电话", "Property service phone")}
                                            <input
                                                type="tel"
                                                name="property_phone"
                                                maxlength="30"
                                                value=pick(&typed.2, pphone)
                                            />
                                        </label>
                                        <label class="check">
                                            <input type="checkbox" name="property_repairs" value="1" checked=repairs />
                                            {t(
                                                lang,
                                                "物业在本平台接受入户报修",
                                                "The property service takes home-repair requests here",
                                            )}
                                        </label>
                                        <button type="submit">{t(lang, "保存", "Save")}</button>
                                    </form>
                                }
                            })
                            .collect_view()
                            .into_any()
                    })
                }}
            </Suspense>
        </section>
    }
}
