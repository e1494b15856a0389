//! The frame of every page: header, the WeChat hint, the role's navigation
//! (a bottom bar on phones, a side bar on desktops) and the page body.

use crate::i18n::{t, Lang};
use crate::session::{SessionInfo, UserInfo};
use domain::Role;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

pub type SessionResource = Resource<Result<SessionInfo, ServerFnError>>;

/// Renders `render(session)` inside the page frame once the session is known.
/// `login_required` pages send anonymous visitors to /login.
#[component]
pub fn Page<F, V>(
    title: (&'static str, &'static str),
    #[prop(default = true)] login_required: bool,
    render: F,
) -> impl IntoView
where
    F: Fn(SessionInfo) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let session = expect_context::<SessionResource>();
    let location = use_location();
    view! {
        <Suspense fallback=|| {
            view! { <p class="loading">"…"</p> }
        }>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    let s = session.await.unwrap_or_default();
                    let lang = s.lang;
                    if login_required && s.user.is_none() {
                        let next = format!(
                            "{}{}",
                            location.pathname.get_untracked(),
                            {
                                let q = location.search.get_untracked();
                                let q = q.trim_start_matches('?');
                                if q.is_empty() { String::new() } else { format!("?{q}") }
                            },
                        );
                        let to = format!("/login?next={}", encode_component(&next));
                        return view! { <GoTo path=to /> }.into_any();
                    }
                    let user = s.user.clone();
                    let in_wechat = s.in_wechat;
                    let hint_closed = s.hint_closed;
                    let here = {
                        let q = location.search.get_untracked();
                        let q = q.trim_start_matches('?');
                        let p = location.pathname.get_untracked();
                        if q.is_empty() { p } else { format!("{p}?{q}") }
                    };
                    let banner = simulation_banner(&s);
                    let body = render(s);
                    view! {
                        <Title text=format!(
                            "{} · {}",
                            t(lang, title.0, title.1),
                            t(lang, "智慧社区", "Smart Community"),
                        ) />
                        {banner
                            .map(|text| {
                                view! {
                                    <p class="sim-banner" role="alert">
                                        {text}
                                    </p>
                                }
                            })}
                        <header class="topbar">
                            <a class="brand" href="/">
                                {t(lang, "智慧社区", "Smart Community")}
                            </a>
                            <h1>{t(lang, title.0, title.1)}</h1>
                        </header>
                        {(in_wechat && !hint_closed)
                            .then(|| {
                                view! {
                                    <div class="wechat-hint" role="note">
                                        <span>
                                            {t(
                                                lang,
                                                "提示:点右上角「⋯」选择「在浏览器打开」,可把智慧社区添加到桌面。",
                                                "Tip: tap “⋯” at the top right and choose “Open in browser” to install the app.",
                                            )}
                                        </span>
                                        <form method="post" action=crate::auth::SetPreferences::PATH>
                                            <input type="hidden" name="close_hint" value="1" />
                                            <input type="hidden" name="back" value=here.clone() />
                                            <button
                                                type="submit"
                                                aria-label=t(lang, "不再提示", "Do not show again")
                                            >
                                                {t(lang, "不再提示", "Hide")}
                                            </button>
                                        </form>
                                    </div>
                                }
                            })}
                        <div class="frame">
                            {user.map(|u| view! { <Nav user=u lang=lang /> })} <main id="main" class="content">
                                {body}
                            </main>
                        </div>
                    }
                        .into_any()
                })
            }}
        </Suspense>
    }
}

/// What a deployment that runs on simulations outside development says at
/// the top of every page (`PAYMENT_PROVIDER=sandbox`, `CODE_SENDER=dev`).
pub fn simulation_banner(s: &SessionInfo) -> Option<String> {
    let lang = s.lang;
    let parts: Vec<&str> = [
        s.simulated_payments.then(|| t(lang, "缴费是模拟的,不会真的付款", "payments are simulated; no money moves")),
        s.simulated_codes
            .then(|| t(lang, "验证码不发短信,只写在服务器日志里", "login codes are not sent by SMS, only logged")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        return None;
    }
    let sep = t(lang, ";", "; ");
    Some(format!("{}{}", t(lang, "演示环境:", "Demonstration only: "), parts.join(sep)))
}

/// The weekdays ticked on a form's seven checkboxes `d1`…`d7`, as "1"…"7"
/// (Monday = 1); an unticked box is absent (or empty).
pub fn ticked_days(boxes: [Option<String>; 7]) -> Vec<String> {
    boxes
        .into_iter()
        .enumerate()
        .filter(|(_, d)| d.as_deref().is_some_and(|v| !v.is_empty()))
        .map(|(i, _)| (i + 1).to_string())
        .collect()
}

/// Percent-encodes a query value (everything but unreserved characters and `/`).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[component]
fn Nav(user: UserInfo, lang: Lang) -> impl IntoView {
    let location = use_location();
    // (path, zh, en, icon, on a phone's tab bar): a phone shows five, each at
    // least 60 px wide even in large-text mode; the rest are in the side bar
    // of a wide screen and linked from the home page or the console
    let items: Vec<(&'static str, &'static str, &'static str, &'static str, bool)> = match user.primary {
        Some(Role::Staff) | Some(Role::Admin) => vec![
            ("/staff", "工作台", "Console", "⌂", true),
            ("/staff/appointments", "预约", "Bookings", "◷", true),
            ("/staff/bills", "缴费", "Bills", "¥", true),
            ("/staff/votes", "投票", "Votes", "☑", false),
            ("/staff/residences", "住户认证", "Residents", "✓", false),
            ("/staff/import", "导入", "Import", "⇪", false),
            ("/announcements", "公告", "Notices", "✉", false),
            ("/inbox", "消息", "Inbox", "✆", true),
            ("/me", "我的", "Me", "☺", true),
        ],
        Some(Role::GridWorker) => vec![
            ("/patrol", "巡逻", "Patrol", "◎", true),
            ("/incidents", "事件", "Incidents", "⚑", true),
            ("/announcements", "公告", "Notices", "✉", true),
            ("/inbox", "消息", "Inbox", "✆", true),
            ("/me", "我的", "Me", "☺", true),
        ],
        _ => vec![
            ("/", "首页", "Home", "⌂", true),
            ("/appointments", "预约", "Book", "◷", true),
            ("/bills", "缴费", "Bills", "¥", true),
            ("/topics", "议事", "Topics", "☑", false),
            ("/announcements", "公告", "Notices", "✉", false),
            ("/inbox", "消息", "Inbox", "✆", true),
            ("/me", "我的", "Me", "☺", true),
        ],
    };
    let unread = user.unread;
    view! {
        <nav class="tabbar" aria-label=t(lang, "主导航", "Main navigation")>
            {items
                .into_iter()
                .map(|(href, zh, en, icon, on_phone)| {
                    let current = move || {
                        let p = location.pathname.get();
                        let exact = href == "/" || href == "/staff";
                        if p == href || (!exact && p.starts_with(href)) { Some("page") } else { None }
                    };
                    view! {
                        <a href=href aria-current=current class=(!on_phone).then_some("wide-only")>
                            <span class="icon" aria-hidden="true">
                                {icon}
                            </span>
                            <span>{t(lang, zh, en)}</span>
                            {(href == "/inbox")
                                .then(|| {
                                    view! {
                                        <crate::live::LiveBadge
                                            unread=unread
                                            label=t(lang, "条未读", "unread").to_string()
                                        />
                                    }
                                })}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// A step that cannot be taken back asks once (适老化, WCAG 3.3.4): the
/// button opens a question with the real button ("确定取消") and a way out,
/// with and without JavaScript (`<details>`).
#[component]
pub fn ConfirmPost(
    /// what the first button says ("取消预约")
    #[prop(into)]
    label: String,
    /// the question ("确定要取消这次预约吗?")
    #[prop(into)]
    question: String,
    /// what the confirming button says ("确定取消")
    #[prop(into)]
    yes: String,
    /// what closes the question ("不取消")
    #[prop(into)]
    no: String,
    #[prop(into)] action: String,
    /// hidden fields the form posts
    fields: Vec<(&'static str, String)>,
) -> impl IntoView {
    view! {
        <details class="confirm">
            <summary class="button danger">{label}</summary>
            <div class="confirm-box" role="group">
                <p>
                    <strong>{question}</strong>
                </p>
                <form method="post" action=action class="actions">
                    {fields.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v /> }).collect_view()}
                    <button type="submit" class="danger">
                        {yes}
                    </button>
                    <button type="button" class="no" data-close-details="1" hidden>
                        {no}
                    </button>
                </form>
            </div>
        </details>
    }
}

/// Splits text so that each date in it ("2026-12-05") is its own piece:
/// `(piece, is_date)`. A browser may break a line after a date's hyphens;
/// `nw_text` keeps each date whole.
pub fn date_pieces(s: &str) -> Vec<(String, bool)> {
    let b = s.as_bytes();
    let is_date = |i: usize| {
        i + 10 <= b.len()
            && b[i..i + 4].iter().all(u8::is_ascii_digit)
            && b[i + 4] == b'-'
            && b[i + 5..i + 7].iter().all(u8::is_ascii_digit)
            && b[i + 7] == b'-'
            && b[i + 8..i + 10].iter().all(u8::is_ascii_digit)
            && (i == 0 || !b[i - 1].is_ascii_digit())
    };
    let mut out: Vec<(String, bool)> = vec![];
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        if is_date(i) {
            if start < i {
                out.push((s[start..i].to_string(), false));
            }
            out.push((s[i..i + 10].to_string(), true));
            i += 10;
            start = i;
        } else {
            i += 1;
        }
    }
    if start < b.len() {
        out.push((s[start..].to_string(), false));
    }
    out
}

/// Text with the dates in it kept on one line each (适老化: dates and times
/// never wrap inside themselves).
pub fn nw_text(s: impl Into<String>) -> AnyView {
    date_pieces(&s.into())
        .into_iter()
        .map(|(piece, date)| if date { view! { <span class="nw">{piece}</span> }.into_any() } else { piece.into_any() })
        .collect_view()
        .into_any()
}

/// An error line under a form, in the user's language.
/// The form anyone uses to check a printed code (a payment receipt, a
/// ballot receipt): a plain GET form, so it works without the client.
#[component]
pub fn CodeCheckForm(
    lang: Lang,
    /// where the form goes ("/receipts/check")
    action: &'static str,
    /// the field's label, (zh, en)
    label: (&'static str, &'static str),
    /// the code as typed, kept on the page
    typed: String,
) -> impl IntoView {
    view! {
        <form method="get" action=action class="card stack">
            <label>
                {t(lang, label.0, label.1)}
                <input
                    type="text"
                    name="code"
                    required
                    maxlength="20"
                    autocomplete="off"
                    value=typed
                    placeholder="XXXX-XXXX-XXXX"
                />
            </label>
            <button type="submit" class="primary">
                {t(lang, "核验", "Check")}
            </button>
        </form>
    }
}

#[component]
pub fn FormError(message: Option<String>) -> impl IntoView {
    message.map(|m| {
        view! {
            <p class="form-error" role="alert">
                {m}
            </p>
        }
    })
}

/// Sends the browser to `path`: a real 302 when rendered on the server
/// (whatever the request's Accept header says), a client-side navigation
/// after hydration.
#[component]
pub fn GoTo(#[prop(into)] path: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_actix::ResponseOptions>() {
        use actix_web::http::{header, StatusCode};
        if let Ok(v) = header::HeaderValue::from_str(&path) {
            res.insert_header(header::LOCATION, v);
            res.set_status(StatusCode::FOUND);
        }
    }
    view! { <leptos_router::components::Redirect path=path /> }
}

#[cfg(test)]
mod date_piece_tests {
    #[test]
    fn dates_are_their_own_pieces() {
        let p = super::date_pieces("期限 2026-12-10 03:22;2026-12-05 结案");
        assert_eq!(
            p,
            vec![
                ("期限 ".into(), false),
                ("2026-12-10".into(), true),
                (" 03:22;".into(), false),
                ("2026-12-05".into(), true),
                (" 结案".into(), false)
            ]
        );
        assert_eq!(super::date_pieces("no date"), vec![("no date".into(), false)]);
        assert_eq!(super::date_pieces("12026-12-101"), vec![("12026-12-101".into(), false)]);
    }
}
