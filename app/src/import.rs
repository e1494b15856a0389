//! Staff import buildings, units and households from CSV or XLSX. The upload
//! is a plain multipart form to POST /staff/import (server/src/upload.rs);
//! this page shows the form and the outcome: every bad row with its number
//! and reason, or what was imported.

use crate::i18n::t;
use crate::layout::{FormError, Page};
use crate::session::{code_text, error_text, SessionInfo};
use domain::import::Outcome;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportPageData {
    pub communities: Vec<(i64, String)>,
    pub file: Option<String>,
    pub outcome: Option<Outcome>,
}

#[server]
pub async fn import_page(report: Option<String>) -> Result<ImportPageData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    if !user.is_staff() {
        return Err(err(domain::ErrorCode::Forbidden));
    }
    let communities = backend::import::target_communities(&state, &user).await.map_err(app_err)?;
    let (file, outcome) = import_report(&state, &user, report).await;
    Ok(ImportPageData { communities, file, outcome })
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let report = use_query_map().with_untracked(|m| m.get("report"));
    let data = Resource::new(move || report.clone(), import_page);
    view! {
        <Page
            title=("导入房屋住户", "Import households")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = use_query_map().with_untracked(|m| m.get("error")).map(|c| code_text(&c, lang));
                let chosen = use_query_map().with_untracked(|m| m.get("community").and_then(|c| c.parse::<i64>().ok()));
                // the community chosen for the last upload stays chosen
                view! {
                    <FormError message=error />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let d = match data.await {
                                Ok(d) => d,
                                Err(e) => return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            };
                            let file = d.file.clone().unwrap_or_default();
                            view! {
                                {d
                                    .outcome
                                    .map(|o| match o {
                                        Outcome::Imported(s) => {
                                            view! {
                                                <section class="card" role="status">
                                                    <p class="success">
                                                        {t(lang, "导入成功:", "Imported: ")}{file.clone()}
                                                    </p>
                                                    <p>
                                                        {t(lang, "共 ", "")}{s.rows}
                                                        {t(lang, " 行;新建楼栋 ", " rows; buildings created: ")}
                                                        {s.buildings_created} {t(lang, ",房屋 ", ", units: ")}
                                                        {s.dwellings_created}{t(lang, ",住户 ", ", households: ")}
                                                        {s.households_created}
                                                    </p>
                                                </section>
                                            }
                                                .into_any()
                                        }
                                        Outcome::Rejected(errors) => {
                                            view! {
                                                <RowErrors
                                                    lang=lang
                                                    errors=errors
                                                    headline=t(
                                                            lang,
                                                            "文件有错误,未导入任何数据。请修改后重新上传:",
                                                            "The file has errors; nothing was imported. Fix them and upload again: ",
                                                        )
                                                        .to_string() + &file
                                                />
                                            }
                                                .into_any()
                                        }
                                    })}
                                <section class="card">
                                    <h2>{t(lang, "上传文件", "Upload a file")}</h2>
                                    <p class="muted">
                                        {t(
                                            lang,
                                            "CSV(UTF-8 或 GBK)或 XLSX。第一行为列名:网格、楼栋、单元、房号,可选:面积、户主、人数。整份文件校验通过才会导入。",
                                            "CSV (UTF-8 or GBK) or XLSX. First row: 网格 grid, 楼栋 building, 单元 entrance, 房号 room; optional 面积 area, 户主 head, 人数 members. Nothing is imported unless the whole file is valid.",
                                        )}
                                    </p>
                                    <form
                                        method="post"
                                        action="/staff/import"
                                        enctype="multipart/form-data"
                                        class="stack"
                                    >
                                        <label>
                                            {t(lang, "社区", "Community")} <select name="community_id" required>
                                                {d
                                                    .communities
                                                    .into_iter()
                                                    .map(|(id, name)| {
                                                        view! {
                                                            <option value=id.to_string() selected=Some(id) == chosen>
                                                                {name}
                                                            </option>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </select>
                                        </label>
                                        <label>
                                            {t(lang, "文件", "File")}
                                            <input
                                                type="file"
                                                name="file"
                                                required
                                                accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                                            />
                                        </label>
                                        <button type="submit" class="primary">
                                            {t(lang, "校验并导入", "Check and import")}
                                        </button>
                                    </form>
                                </section>
                            }
                                .into_any()
                        })}
                    </Suspense>
                }
            }
        />
    }
}

/// Every bad row of a rejected import: row number, column, reason.
#[component]
pub fn RowErrors(lang: crate::i18n::Lang, errors: Vec<domain::import::RowError>, headline: String) -> impl IntoView {
    let en = lang.is_en();
    view! {
        <section class="card" role="alert">
            <p class="form-error">{headline}</p>
            <table class="errors">
                <thead>
                    <tr>
                        <th>{t(lang, "行", "Row")}</th>
                        <th>{t(lang, "列", "Column")}</th>
                        <th>{t(lang, "原因", "Reason")}</th>
                    </tr>
                </thead>
                <tbody>
                    {errors
                        .into_iter()
                        .map(|e| {
                            view! {
                                <tr>
                                    <td>{if e.row == 0 { "—".to_string() } else { e.row.to_string() }}</td>
                                    <td>{e.column.unwrap_or_default()}</td>
                                    <td>{e.problem.message(en)}{e.detail.map(|x| format!("({x})"))}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}
