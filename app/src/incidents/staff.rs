//! Incidents for staff: the list, dispatch and the figures behind it.

use super::*;

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
            <p class="meta">
                {t(
                    lang,
                    "第三方上报客户端(市民热线、城市 App)可通过 Open311 GeoReport v2 接口 /open311/v2/ 上报和查询本社区事件。每个客户端一个密钥。",
                    "Civic reporting clients (hotlines, city apps) may file and follow this community's incidents through Open311 GeoReport v2 at /open311/v2/. One key per client.",
                )}
            </p>
            <FormError message=error />
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let Ok(d) = data.await else { return ().into_any() };
                    view! {
                        {d
                            .new_key
                            .clone()
                            .map(|k| {
                                view! {
                                    <p class="notice" role="status">
                                        {t(
                                            lang,
                                            "新密钥(只显示这一次,请妥善保存):",
                                            "New key (shown this once; keep it safe): ",
                                        )}
                                        <code>{k}</code>
                                    </p>
                                }
                            })}
                        <ul class="list plain">
                            {d
                                .keys
                                .iter()
                                .map(|k| {
                                    view! {
                                        <li>
                                            <span class="title">{k.label.clone()}</span>
                                            <span class="meta">
                                                {k.community.clone()}" · "<code>{format!("{}…", k.prefix)}</code>
                                                " · "<span class="nw">{k.created_at.clone()}</span>
                                                {k.revoked.then(|| t(lang, " · 已停用", " · revoked"))}
                                            </span>
                                            {(!k.revoked)
                                                .then(|| {
                                                    view! {
                                                        <form
                                                            method="post"
                                                            action=RevokeOpen311Key::PATH
                                                            class="inline-form"
                                                        >
                                                            <input type="hidden" name="id" value=k.id.to_string() />
                                                            <button type="submit" class="link">
                                                                {t(lang, "停用", "Revoke")}
                                                            </button>
                                                        </form>
                                                    }
                                                })}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                        <form method="post" action=CreateOpen311Key::PATH class="stack">
                            <label>
                                {t(lang, "社区", "Community")}
                                <select name="community_id">
                                    {d
                                        .communities
                                        .iter()
                                        .map(|(id, name)| {
                                            view! { <option value=id.to_string()>{name.clone()}</option> }
                                        })
                                        .collect_view()}
                                </select>
                            </label>
                            <label>
                                {t(lang, "客户端名称", "Client name")}
                                <input
                                    type="text"
                                    name="label"
                                    maxlength="60"
                                    required
                                    value=q("label").unwrap_or_default()
                                />
                            </label>
                            <button type="submit">{t(lang, "生成密钥", "Make a key")}</button>
                        </form>
                    }
                        .into_any()
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
        <Page
            title=("事件办理", "Incidents")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let current = q("status").unwrap_or_default();
                view! {
                    <nav class="chips" aria-label=t(lang, "按状态", "By status")>
                        <a href="/staff/incidents" aria-current=current.is_empty().then_some("page")>
                            {t(lang, "未办结", "Open")}
                        </a>
                        {Status::ALL
                            .iter()
                            .map(|st| {
                                let on = current == st.as_str();
                                view! {
                                    <a
                                        href=format!("/staff/incidents?status={}", st.as_str())
                                        aria-current=on.then_some("page")
                                    >
                                        {st.text(en)}
                                    </a>
                                }
                            })
                            .collect_view()}
                    </nav>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(rows) if rows.is_empty() => {
                                    view! { <p class="meta">{t(lang, "没有事件。", "Nothing here.")}</p> }
                                        .into_any()
                                }
                                Ok(rows) => {
                                    let overdue = rows.iter().filter(|r| r.overdue).count();
                                    view! {
                                        <section class="card wide-card">
                                            <h2>
                                                {t(lang, "事件", "Incidents")}" "
                                                <span class="meta">
                                                    {rows.len()}
                                                    {(overdue > 0)
                                                        .then(|| {
                                                            format!(" · {overdue} {}", t(lang, "件超期", "overdue"))
                                                        })}
                                                </span>
                                            </h2>
                                            <IncidentRows rows=rows lang=lang />
                                        </section>
                                    }
                                        .into_any()
                                }
                                Err(e) => view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            }
                        })}
                    </Suspense>
                    <Open311Keys lang=lang />
                }
            }
        />
    }
    .into_any()
}
