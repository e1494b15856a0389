//! Bills imported from a spreadsheet, all or nothing, with every bad row shown.

use super::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BillImportData {
    pub communities: Vec<(i64, String)>,
    pub file: Option<String>,
    pub outcome: Option<domain::import::BillOutcome>,
}

#[server]
pub async fn bill_import_page(report: Option<String>) -> Result<BillImportData, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_user()?;
    if !user.is_staff() {
        return Err(err(domain::ErrorCode::Forbidden));
    }
    let communities = backend::support::scope::staff_communities(&state, &user).await.map_err(app_err)?;
    let (file, outcome) = import_report(&state, &user, report).await;
    Ok(BillImportData { communities, file, outcome })
}

/// Staff import water, electricity, gas, parking and other bills from CSV
/// or XLSX (a plain multipart form to POST /staff/bills/import).
#[component]
pub fn BillImportPage() -> impl IntoView {
    use domain::import::BillOutcome;
    let report = q("report");
    let data = Resource::new(move || report.clone(), bill_import_page);
    view! {
        <Page
            title=("导入账单", "Import bills")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let error = q("error").map(|c| code_text(&c, lang));
                let chosen = q("community").and_then(|c| c.parse::<i64>().ok());
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
                                        BillOutcome::Imported(s) => {
                                            view! {
                                                <section class="card" role="status">
                                                    <p class="success">
                                                        {t(lang, "导入成功:", "Imported: ")}{file.clone()}
                                                    </p>
                                                    <p>
                                                        {t(lang, "新建账单 ", "Bills created: ")}{s.bills_created}
                                                        {t(lang, " 张,合计 ", ", total ")}{s.total.to_string()}
                                                    </p>
                                                </section>
                                            }
                                                .into_any()
                                        }
                                        BillOutcome::Rejected(errors) => {
                                            view! {
                                                <crate::import::RowErrors
                                                    lang=lang
                                                    errors=errors
                                                    headline=t(
                                                            lang,
                                                            "文件有错误,未导入任何账单。请修改后重新上传:",
                                                            "The file has errors; no bill was imported. Fix them and upload again: ",
                                                        )
                                                        .to_string() + &file
                                                />
                                            }
                                                .into_any()
                                        }
                                    })}
                                <section class="card">
                                    <h2>
                                        {t(
                                            lang,
                                            "上传水电燃气、停车等账单",
                                            "Upload utility, parking and other bills",
                                        )}
                                    </h2>
                                    <p class="muted">
                                        {t(
                                            lang,
                                            "CSV(UTF-8 或 GBK)或 XLSX。第一行为列名:楼栋、单元、房号、类型(水费/电费/燃气费/停车费/其他费用)、账期(如 2026-11)、金额(元),可选:说明。整份文件校验通过才会导入;同一户同类费用同一账期只会有一张账单。",
                                            "CSV (UTF-8 or GBK) or XLSX. First row: 楼栋 building, 单元 entrance, 房号 room, 类型 kind, 账期 period (e.g. 2026-11), 金额 amount (yuan); optional 说明 basis. Nothing is imported unless the whole file is valid; a household has one bill per kind and period.",
                                        )}
                                    </p>
                                    <form
                                        method="post"
                                        action="/staff/bills/import"
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
                                <p>
                                    <a href="/staff/bills">{t(lang, "返回缴费管理", "Back to bills")}</a>
                                </p>
                            }
                                .into_any()
                        })}
                    </Suspense>
                }
            }
        />
    }
}
