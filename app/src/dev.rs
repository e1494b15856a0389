//! Development-only page: the one-time codes the development sender "sent".
//! Answers 404 unless DEV_MODE is on.

use crate::i18n::t;
use crate::layout::Page;
use crate::session::SessionInfo;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DevCode {
    pub phone: String,
    pub code: String,
    pub at: String,
}

#[server]
pub async fn dev_codes() -> Result<Vec<DevCode>, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    match (&state.dev_sender, state.config.dev_mode) {
        (Some(s), true) => Ok(s
            .recent()
            .into_iter()
            .map(|c| DevCode { phone: c.phone, code: c.code, at: domain::time::beijing_time(c.at) })
            .collect()),
        _ => {
            if let Some(res) = use_context::<leptos_actix::ResponseOptions>() {
                res.set_status(actix_web::http::StatusCode::NOT_FOUND);
            }
            Err(err(domain::ErrorCode::NotFound))
        }
    }
}

#[component]
pub fn DevCodesPage() -> impl IntoView {
    let codes = Resource::new(|| (), |_| dev_codes());
    view! {
        <Page
            title=("开发:验证码", "Development: codes")
            login_required=false
            render=move |s: SessionInfo| {
                let lang = s.lang;
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match codes.await {
                                Ok(list) => {
                                    view! {
                                        <p class="dev-hint">
                                            {t(
                                                lang,
                                                "仅开发模式可见。生产环境验证码通过短信发送。",
                                                "Development mode only. In production, codes go by SMS.",
                                            )}
                                        </p>
                                        <table class="codes">
                                            <thead>
                                                <tr>
                                                    <th>{t(lang, "手机号", "Mobile")}</th>
                                                    <th>{t(lang, "验证码", "Code")}</th>
                                                    <th>{t(lang, "时间", "Time")}</th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {list
                                                    .into_iter()
                                                    .map(|c| {
                                                        view! {
                                                            <tr>
                                                                <td class="phone">{c.phone}</td>
                                                                <td class="code">{c.code}</td>
                                                                <td>{c.at}</td>
                                                            </tr>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                    }
                                        .into_any()
                                }
                                Err(_) => view! { <p>{t(lang, "页面不存在", "Not found")}</p> }.into_any(),
                            }
                        })}
                    </Suspense>
                }
            }
        />
    }
}
