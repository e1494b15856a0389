//! Login by phone and one-time code (everyone), by password (staff), logout,
//! and the personal settings (language, large text). These forms are plain
//! HTML forms: they work the same with and without WASM.

use crate::i18n::t;
use crate::layout::{FormError, Page};
use crate::session::{code_text, SessionInfo};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

/// Only local paths, so a crafted link cannot send a user elsewhere after login.
pub fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_string()
    } else {
        "/".to_string()
    }
}

#[server]
pub async fn request_code(phone: String, next: Option<String>) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let req = request()?;
    let next = safe_next(next.as_deref().unwrap_or("/"));
    match backend::auth::request_code(&state, &phone, &client_ip(&req)).await {
        Ok(p) => {
            let wait = state.config.code_resend.as_secs().to_string();
            leptos_actix::redirect(&format!(
                "/login?{}",
                query(&[("phone", p.as_str()), ("sent", "1"), ("cd", &wait), ("next", &next)])
            ));
            Ok(())
        }
        // asked again too soon: to the code field (a code already received
        // still works), saying how long to wait for a new one
        Err(e) if e.code == domain::ErrorCode::RateLimited && domain::Phone::parse(&phone).is_ok() => {
            let wait = state.config.code_resend.as_secs().max(1).to_string();
            Err(fail_form(
                "/login",
                e.code,
                &[("phone", &phone), ("sent", "1"), ("wait", &wait), ("cd", &wait), ("next", &next)],
            ))
        }
        Err(e) => Err(form_error(e, "/login", &[("phone", &phone), ("next", &next)])),
    }
}

#[server]
pub async fn login_with_code(phone: String, code: String, next: Option<String>) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    use backend::auth::CodePurpose;
    let state = state()?;
    let next = safe_next(next.as_deref().unwrap_or("/"));
    match backend::auth::login_with_code(&state, &phone, &code, CodePurpose::ResidentOrRegister).await {
        Ok(session) => {
            finish_login(&session).await?;
            leptos_actix::redirect(&next);
            Ok(())
        }
        Err(e) => {
            let c = e.code;
            let _ = app_err(e);
            Err(fail_form("/login", c, &[("phone", &phone), ("sent", "1"), ("next", &next)]))
        }
    }
}

#[server]
pub async fn login_with_password(phone: String, password: String, next: Option<String>) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let req = request()?;
    let next = safe_next(next.as_deref().unwrap_or("/staff"));
    match backend::auth::login_with_password(&state, &phone, &password, &client_ip(&req)).await {
        Ok(session) => {
            finish_login(&session).await?;
            leptos_actix::redirect(&next);
            Ok(())
        }
        // the password is never echoed back
        Err(e) => {
            let c = e.code;
            let _ = app_err(e);
            Err(fail_form("/login/password", c, &[("phone", &phone), ("next", &next)]))
        }
    }
}

#[server]
pub async fn logout() -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    if let Some(u) = current_user() {
        backend::auth::logout(&state, &u.session_id).await.map_err(app_err)?;
    }
    clear_session_cookies()?;
    leptos_actix::redirect("/login");
    Ok(())
}

#[server]
pub async fn set_preferences(
    lang: Option<String>,
    large_text: Option<String>,
    close_hint: Option<String>,
    back: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::session::{ssr::*, LANG_COOKIE, LARGE_TEXT_COOKIE, NO_HINT_COOKIE};
    const YEAR: i64 = 365 * 86_400;
    if let Some(l) = lang.as_deref().and_then(crate::i18n::Lang::parse) {
        set_cookie(cookie(LANG_COOKIE, l.code(), YEAR, false)?);
        if let Some(u) = current_user() {
            backend::auth::set_language(&state()?, u.id, l).await.map_err(app_err)?;
        }
    }
    if let Some(v) = large_text.as_deref() {
        set_cookie(cookie(LARGE_TEXT_COOKIE, if v == "1" { "1" } else { "0" }, YEAR, false)?);
    }
    if close_hint.as_deref() == Some("1") {
        set_cookie(cookie(NO_HINT_COOKIE, "1", YEAR, false)?);
    }
    leptos_actix::redirect(&safe_next(back.as_deref().unwrap_or("/me")));
    Ok(())
}

/// 我的: the name the person wants to be called by.
#[server]
pub async fn set_my_name(name: String) -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let user = require_user()?;
    let parsed = domain::text::PersonName::parse(&name).map_err(|c| fail_form("/me#name", c, &[("name", &name)]))?;
    backend::auth::set_name(&state()?, user.id, parsed)
        .await
        .map_err(|e| form_error(e, "/me#name", &[("name", &name)]))?;
    leptos_actix::redirect("/me?saved=name#name");
    Ok(())
}

fn q(key: &'static str) -> Option<String> {
    use_query_map().with_untracked(|m| m.get(key))
}

#[component]
pub fn LoginPage() -> impl IntoView {
    view! {
        <Page
            title=("登录", "Log in")
            login_required=false
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let phone = q("phone").unwrap_or_default();
                let sent = q("sent").is_some();
                let next = q("next").map(|n| safe_next(&n)).unwrap_or_else(|| "/".into());
                let error = q("error").map(|c| code_text(&c, lang));
                let already = s.user.clone();
                view! {
                    <section class="card narrow">
                        {already
                            .map(|u| {
                                view! {
                                    <p class="notice">
                                        {t(lang, "您已登录:", "You are logged in as ")}{u.name}" · "
                                        <a href="/">{t(lang, "返回首页", "Home")}</a>
                                    </p>
                                }
                            })}
                        <p class="lead">
                            {t(
                                lang,
                                "用手机号和短信验证码登录。首次登录将自动注册。",
                                "Log in with your mobile number and a one-time code. First-time users are registered automatically.",
                            )}
                        </p>
                        {(q("wechat").as_deref() == Some("bind"))
                            .then(|| {
                                view! {
                                    <p class="notice" role="status">
                                        {t(
                                            lang,
                                            "首次使用微信登录:请用手机号登录一次,之后在微信中将自动登录。",
                                            "First WeChat login: log in once with your phone number; after that WeChat logs you in.",
                                        )}
                                    </p>
                                }
                            })}
                        {(s.wechat_login && s.in_wechat)
                            .then(|| {
                                view! {
                                    <p>
                                        <a
                                            class="button primary wide"
                                            href=format!("/auth/wechat?next={}", crate::layout::encode_component(&next))
                                        >
                                            {t(lang, "微信一键登录", "Log in with WeChat")}
                                        </a>
                                    </p>
                                }
                            })} <FormError message=error />
                        {if sent {
                            let wait = q("wait").filter(|w| w.len() <= 5 && w.bytes().all(|b| b.is_ascii_digit()));
                            let countdown = q("cd")
                                .and_then(|c| c.parse::<u32>().ok())
                                .filter(|c| (1..=3600).contains(c));
                            // the WASM client counts these seconds down and then enables the button
                            view! {
                                {match wait {
                                    Some(w) => {
                                        view! {
                                            <p class="notice" role="status">
                                                {if lang.is_en() {
                                                    format!(
                                                        "If a code has reached you, type it below. For a new one, wait {w} seconds, then tap “Send a new code”.",
                                                    )
                                                } else {
                                                    format!(
                                                        "如果已经收到验证码,请直接在下面输入。需要新的验证码,请等 {w} 秒后再点“重新获取验证码”。",
                                                    )
                                                }}
                                            </p>
                                        }
                                            .into_any()
                                    }
                                    None => {
                                        view! {
                                            <p class="notice" role="status">
                                                {t(
                                                    lang,
                                                    "验证码已发送,5分钟内有效。",
                                                    "A code has been sent. It is valid for 5 minutes.",
                                                )}
                                            </p>
                                        }
                                            .into_any()
                                    }
                                }}
                                <form method="post" action=LoginWithCode::PATH class="stack">
                                    <input type="hidden" name="next" value=next.clone() />
                                    <label>
                                        {t(lang, "手机号", "Mobile number")}
                                        <input
                                            type="tel"
                                            name="phone"
                                            inputmode="numeric"
                                            autocomplete="tel"
                                            required
                                            value=phone.clone()
                                        />
                                    </label>
                                    <label>
                                        {t(lang, "验证码", "Code")}
                                        <input
                                            type="text"
                                            name="code"
                                            inputmode="numeric"
                                            autocomplete="one-time-code"
                                            pattern="[0-9]{6}"
                                            maxlength="6"
                                            required
                                            autofocus
                                        />
                                    </label>
                                    <button type="submit" class="primary">
                                        {t(lang, "登录", "Log in")}
                                    </button>
                                </form>
                                <form method="post" action=RequestCode::PATH class="inline">
                                    <input type="hidden" name="phone" value=phone />
                                    <input type="hidden" name="next" value=next.clone() />
                                    <button type="submit" class="link" id="resend">
                                        {t(lang, "重新获取验证码", "Send a new code")}
                                    </button>
                                    {countdown
                                        .map(|n| {
                                            view! {
                                                <p
                                                    class="meta countdown"
                                                    data-countdown=n.to_string()
                                                    data-enables="resend"
                                                    aria-live="off"
                                                    hidden
                                                    data-template=t(
                                                        lang,
                                                        "{n} 秒后可以重新获取",
                                                        "You can ask again in {n} s",
                                                    )
                                                >
                                                    {crate::enhance::countdown_text(
                                                        t(
                                                            lang,
                                                            "{n} 秒后可以重新获取",
                                                            "You can ask again in {n} s",
                                                        ),
                                                        n,
                                                    )}
                                                </p>
                                            }
                                        })}
                                </form>
                            }
                                .into_any()
                        } else {
                            view! {
                                <form method="post" action=RequestCode::PATH class="stack">
                                    <input type="hidden" name="next" value=next.clone() />
                                    <label>
                                        {t(lang, "手机号", "Mobile number")}
                                        <input
                                            type="tel"
                                            name="phone"
                                            inputmode="numeric"
                                            autocomplete="tel"
                                            required
                                            value=phone
                                            placeholder="138 0000 0000"
                                        />
                                    </label>
                                    <button type="submit" class="primary">
                                        {t(lang, "获取验证码", "Send code")}
                                    </button>
                                </form>
                            }
                                .into_any()
                        }} <p class="alt">
                            <a href="/login/password">
                                {t(lang, "工作人员密码登录", "Staff: log in with a password")}
                            </a>
                        </p>
                        {s
                            .dev_mode
                            .then(|| {
                                view! {
                                    <p class="dev-hint">
                                        {t(
                                            lang,
                                            "开发模式:验证码显示在 ",
                                            "Development mode: codes are shown at ",
                                        )}<a href="/dev/codes">"/dev/codes"</a>
                                    </p>
                                }
                            })}
                    </section>
                }
            }
        />
    }
}

#[component]
pub fn PasswordLoginPage() -> impl IntoView {
    view! {
        <Page
            title=("工作人员登录", "Staff log in")
            login_required=false
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let phone = q("phone").unwrap_or_default();
                let next = q("next").map(|n| safe_next(&n)).unwrap_or_else(|| "/staff".into());
                let error = q("error").map(|c| code_text(&c, lang));
                view! {
                    <section class="card narrow">
                        <FormError message=error />
                        <form method="post" action=LoginWithPassword::PATH class="stack">
                            <input type="hidden" name="next" value=next />
                            <label>
                                {t(lang, "手机号", "Mobile number")}
                                <input
                                    type="tel"
                                    name="phone"
                                    inputmode="numeric"
                                    autocomplete="username"
                                    required
                                    value=phone
                                />
                            </label>
                            <label>
                                {t(lang, "密码", "Password")}
                                <input type="password" name="password" autocomplete="current-password" required />
                            </label>
                            <button type="submit" class="primary">
                                {t(lang, "登录", "Log in")}
                            </button>
                        </form>
                        <p class="alt">
                            <a href="/login">{t(lang, "用验证码登录", "Log in with a code")}</a>
                        </p>
                    </section>
                }
            }
        />
    }
}

/// What 我的 links to, by the person's main role: (path, icon, zh, en).
pub fn me_links(primary: Option<domain::Role>) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    use domain::Role;
    match primary {
        Some(Role::Staff) | Some(Role::Admin) => vec![
            ("/staff", "⌂", "工作台", "Console"),
            ("/inbox", "✆", "消息", "Inbox"),
            ("/inbox/settings", "⚙", "通知设置", "Notification settings"),
        ],
        Some(Role::GridWorker) => vec![
            ("/patrol", "◎", "巡逻", "Patrol"),
            ("/incidents", "⚑", "我的任务和上报", "My tasks and reports"),
            ("/inbox", "✆", "消息", "Inbox"),
            ("/inbox/settings", "⚙", "通知设置", "Notification settings"),
        ],
        _ => vec![
            ("/appointments/mine", "◷", "我的预约", "My bookings"),
            ("/bills", "¥", "缴费和收据", "Bills and receipts"),
            ("/incidents", "⚑", "我的上报", "My reports"),
            ("/volunteer", "♥", "志愿记录", "Volunteer record"),
            ("/points", "★", "我的积分", "My points"),
            ("/votes", "☑", "我的投票", "My votes"),
            ("/residence", "⌂", "我的房屋和家人", "My home and household"),
            ("/inbox/settings", "⚙", "通知设置", "Notification settings"),
        ],
    }
}

#[component]
pub fn MePage() -> impl IntoView {
    view! {
        <Page
            title=("我的", "Me")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let large = s.large_text;
                let u = s
                    .user
                    .clone()
                    .unwrap_or_else(|| crate::session::UserInfo {
                        id: 0,
                        name: String::new(),
                        phone_masked: String::new(),
                        roles: vec![],
                        primary: None,
                        unread: 0,
                    });
                view! {
                    <section class="card">
                        <h2>{u.name.clone()}</h2>
                        <p class="muted">{t(lang, "手机号 ", "Mobile ")}{u.phone_masked.clone()}</p>
                        <ul class="roles">
                            {u
                                .roles
                                .iter()
                                .map(|(r, org)| view! { <li>{r.label(lang.is_en())}" · "{org.clone()}</li> })
                                .collect_view()}
                        </ul>
                        {u
                            .roles
                            .is_empty()
                            .then(|| {
                                view! {
                                    <p class="notice">
                                        {t(
                                            lang,
                                            "您的账号尚未绑定社区住址,绑定后可查看本社区公告和办理业务。",
                                            "Your account is not yet linked to a home address in a community.",
                                        )}
                                    </p>
                                }
                            })}
                        <p>
                            <a href="/residence">{t(lang, "住户认证(绑定住址)", "Verify my home")}</a>
                        </p>
                    </section>
                    <section class="card" id="name">
                        <h2>{t(lang, "怎么称呼您", "What to call you")}</h2>
                        {q("saved")
                            .filter(|v| v == "name")
                            .map(|_| {
                                view! {
                                    <p class="success" role="status">
                                        {t(lang, "称呼已保存", "Your name is saved")}
                                    </p>
                                }
                            })}
                        <FormError message=q("error").map(|c| code_text(&c, lang)) />
                        <form method="post" action=SetMyName::PATH>
                            <label>
                                {t(
                                    lang,
                                    "称呼(社区工作人员和邻居看到的名字)",
                                    "Name (what staff and neighbours see)",
                                )}
                                <input
                                    type="text"
                                    name="name"
                                    required
                                    maxlength="30"
                                    autocomplete="name"
                                    value=q("name").unwrap_or_else(|| u.name.clone())
                                />
                            </label>
                            <button type="submit">{t(lang, "保存称呼", "Save name")}</button>
                        </form>
                    </section>
                    {view! {
                        <nav class="card" aria-labelledby="me-links">
                            <h2 id="me-links">{t(lang, "我的事项", "My things")}</h2>
                            <ul class="tiles">
                                {me_links(u.primary)
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
                    }
                        .into_any()}
                    <section class="card">
                        <h2>{t(lang, "显示设置", "Display")}</h2>
                        <form method="post" action=SetPreferences::PATH class="row">
                            <input type="hidden" name="large_text" value=if large { "0" } else { "1" } />
                            <button type="submit">
                                {if large {
                                    t(lang, "关闭大字模式", "Normal text")
                                } else {
                                    t(lang, "开启大字模式", "Large text")
                                }}
                            </button>
                        </form>
                        <form method="post" action=SetPreferences::PATH class="row">
                            <input type="hidden" name="lang" value=if lang.is_en() { "zh" } else { "en" } />
                            <button type="submit" lang=if lang.is_en() { "zh-CN" } else { "en" }>
                                {if lang.is_en() { "切换到中文" } else { "English" }}
                            </button>
                        </form>
                    </section>
                    {view! {
                        <crate::layout::ConfirmPost
                            label=t(lang, "退出登录", "Log out")
                            question=t(
                                lang,
                                "确定要退出登录吗?下次使用要重新输入手机号和验证码。",
                                "Log out? Next time you will need your phone number and a code again.",
                            )
                            yes=t(lang, "确定退出", "Yes, log out")
                            no=t(lang, "不退出", "Stay logged in")
                            action=Logout::PATH
                            fields=vec![]
                        />
                    }
                        .into_any()}
                }
            }
        />
    }
}
