//! 消息 (inbox): every notification a person gets, newest first, with the
//! unread ones marked; and the per-type channel settings. Plain links and
//! forms, so both work without JavaScript and inside WeChat. The unread
//! badge in the navigation is a small island that listens to live events.

use crate::i18n::{t, Lang};
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::notify::{InboxItem, NotificationKind, Pref};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

pub const PAGE_SIZE: u64 = 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InboxPageData {
    pub items: Vec<InboxItem>,
    pub total: u64,
    pub unread: u64,
}

#[server]
pub async fn get_inbox(offset: u64) -> Result<InboxPageData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    let page = backend::notify::inbox(&state, &user, PAGE_SIZE, offset).await.map_err(app_err)?;
    Ok(InboxPageData { items: page.items, total: page.total, unread: page.unread })
}

#[server]
pub async fn mark_all_read() -> Result<(), ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::notify::mark_all_read(&state, &user).await.map_err(app_err)?;
    leptos_actix::redirect("/inbox");
    Ok(())
}

/// The VAPID public key when Web Push is on.
#[server]
pub async fn push_key() -> Result<Option<String>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    Ok(state.push.as_ref().map(|p| p.vapid.public_key.clone()))
}

#[server]
pub async fn get_prefs() -> Result<Vec<Pref>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    backend::notify::prefs(&state, &user).await.map_err(app_err)
}

fn kind_label(k: NotificationKind, lang: Lang) -> &'static str {
    k.label(lang.is_en())
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let offset: u64 = use_query_map().with_untracked(|m| m.get("offset").and_then(|o| o.parse().ok())).unwrap_or(0);
    let data = Resource::new(move || offset, get_inbox);
    view! {
        <Page
            title=("消息", "Inbox")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = use_query_map().with_untracked(|m| m.get("error")).map(|c| code_text(&c, lang));
                view! {
                    <FormError message=error />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(p) => view! { <InboxList page=p offset=offset lang=lang /> }.into_any(),
                                Err(e) => view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            }
                        })}
                    </Suspense>
                    <p class="links">
                        <a href="/inbox/settings">{t(lang, "通知设置", "Notification settings")}</a>
                    </p>
                }
            }
        />
    }
}

#[component]
fn InboxList(page: InboxPageData, offset: u64, lang: Lang) -> impl IntoView {
    let next = (offset + PAGE_SIZE < page.total).then_some(offset + PAGE_SIZE);
    let summary = if lang.is_en() {
        format!("{} unread of {}", page.unread, page.total)
    } else {
        format!("共 {} 条,{} 条未读", page.total, page.unread)
    };
    let mark_all = <MarkAllRead as leptos::server_fn::ServerFn>::PATH;
    view! {
        <div class="inbox-head">
            <p class="meta" id="inbox-summary">
                {summary}
            </p>
            {(page.unread > 0)
                .then(|| {
                    view! {
                        <form method="post" action=mark_all>
                            <button type="submit" class="secondary">
                                {t(lang, "全部标为已读", "Mark all read")}
                            </button>
                        </form>
                    }
                })}
        </div>
        {if page.items.is_empty() {
            view! { <p class="empty">{t(lang, "还没有消息。", "No messages yet.")}</p> }.into_any()
        } else {
            view! {
                <ul class="list inbox">
                    {page
                        .items
                        .into_iter()
                        .map(|i| {
                            let class = if i.read { "item read" } else { "item unread" };
                            view! {
                                <li class=class>
                                    <a href=format!("/inbox/{}/open", i.id)>
                                        <span class="meta">
                                            {kind_label(i.kind, lang)}" · "<span class="nw">{i.created}</span>
                                            {(!i.read)
                                                .then(|| {
                                                    view! {
                                                        <span class="dot">{t(lang, " · 未读", " · unread")}</span>
                                                    }
                                                })}
                                        </span>
                                        <strong>{i.title}</strong>
                                        <span class="body">{i.body}</span>
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
                .into_any()
        }}
        {next
            .map(|n| {
                view! {
                    <p>
                        <a href=format!("/inbox?offset={n}")>{t(lang, "更早的消息", "Older messages")}</a>
                    </p>
                }
            })}
    }
}

#[component]
pub fn InboxSettingsPage() -> impl IntoView {
    let prefs = Resource::new(|| (), |_| get_prefs());
    let key = Resource::new(|| (), |_| push_key());
    view! {
        <Page
            title=("通知设置", "Notification settings")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let saved = use_query_map().with_untracked(|m| m.get("saved")).is_some();
                let error = use_query_map().with_untracked(|m| m.get("error")).map(|c| code_text(&c, lang));
                view! {
                    {saved
                        .then(|| {
                            view! {
                                <p class="success" role="status">
                                    {t(lang, "设置已保存。", "Settings saved.")}
                                </p>
                            }
                        })}
                    <FormError message=error />
                    <p>
                        {t(
                            lang,
                            "所有通知都会进入「消息」,不会遗漏。下面可以选择哪些通知还要推送到手机或发短信。",
                            "Every notification lands in your inbox. Below, choose which ones also come as push messages or SMS.",
                        )}
                    </p>
                    <section class="card" id="push-section">
                        <h2>{t(lang, "本设备推送", "Push on this device")}</h2>
                        {if s.in_wechat {
                            view! {
                                <p class="push-status" role="status">
                                    {t(
                                        lang,
                                        "微信内置浏览器无法接收推送通知。所有通知都会进入「消息」;也可点右上角「⋯」在浏览器中打开并添加到桌面后开启推送。",
                                        "WeChat's browser cannot receive push notifications. Every notification is in your inbox; open the app in a browser and add it to the home screen to get push.",
                                    )}
                                </p>
                            }
                                .into_any()
                        } else {
                            view! {
                                <Suspense fallback=|| ()>
                                    {move || Suspend::new(async move {
                                        let k = key.await.ok().flatten().unwrap_or_default();
                                        view! {
                                            <div id="push" data-key=k>
                                                <p class="push-status" role="status">
                                                    {t(
                                                        lang,
                                                        "需要开启 JavaScript 才能在本设备接收推送;所有通知都会进入「消息」。",
                                                        "Push needs JavaScript; every notification is in your inbox.",
                                                    )}
                                                </p>
                                                <p class="actions">
                                                    <button type="button" id="push-on" class="primary" hidden>
                                                        {t(lang, "开启推送", "Turn on push")}
                                                    </button>
                                                    <button type="button" id="push-off" class="secondary" hidden>
                                                        {t(lang, "关闭推送", "Turn off push")}
                                                    </button>
                                                    <button type="button" id="push-test" class="secondary" hidden>
                                                        {t(lang, "发送测试推送", "Send a test push")}
                                                    </button>
                                                </p>
                                            </div>
                                            <script src="/push.js" defer></script>
                                        }
                                    })}
                                </Suspense>
                            }
                                .into_any()
                        }}
                    </section>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match prefs.await {
                                Ok(list) => {
                                    view! {
                                        <form method="post" action="/inbox/settings" class="stack prefs">
                                            <table>
                                                <thead>
                                                    <tr>
                                                        <th scope="col">{t(lang, "类型", "Type")}</th>
                                                        <th scope="col">{t(lang, "推送", "Push")}</th>
                                                        <th scope="col">{t(lang, "短信", "SMS")}</th>
                                                    </tr>
                                                </thead>
                                                <tbody>
                                                    {list
                                                        .into_iter()
                                                        .map(|p| {
                                                            let k = p.kind.as_str();
                                                            let label = kind_label(p.kind, lang);
                                                            view! {
                                                                <tr>
                                                                    <th scope="row">{label}</th>
                                                                    <td>
                                                                        <input
                                                                            type="checkbox"
                                                                            name="push"
                                                                            value=k
                                                                            checked=p.push
                                                                            aria-label=format!("{label} {}", t(lang, "推送", "push"))
                                                                        />
                                                                    </td>
                                                                    <td>
                                                                        {if p.kind.sms_allowed() {
                                                                            view! {
                                                                                <input
                                                                                    type="checkbox"
                                                                                    name="sms"
                                                                                    value=k
                                                                                    checked=p.sms
                                                                                    aria-label=format!("{label} {}", t(lang, "短信", "SMS"))
                                                                                />
                                                                            }
                                                                                .into_any()
                                                                        } else {
                                                                            view! { <span class="meta">"—"</span> }.into_any()
                                                                        }}
                                                                    </td>
                                                                </tr>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </tbody>
                                            </table>
                                            <button type="submit" class="primary">
                                                {t(lang, "保存", "Save")}
                                            </button>
                                        </form>
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
