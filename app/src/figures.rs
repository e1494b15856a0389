//! 考核指标 for staff: 办结率, 到位率, 更新频率 and 满意度 per community,
//! grid and grid worker over a chosen period, each figure a link to the
//! items behind it, and CSV/XLSX exports of both.

use crate::i18n::t;
use crate::layout::{encode_component, FormError, Page};
use crate::session::{error_text, SessionInfo};
use domain::figures::{FiguresReport, Metric, Subject};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

fn q(k: &str) -> Option<String> {
    use_query_map().with_untracked(|m| m.get(k))
}

#[server]
pub async fn load_figures(
    from: Option<String>,
    to: Option<String>,
    subject: Option<String>,
    metric: Option<String>,
) -> Result<FiguresReport, ServerFnError> {
    use crate::session::ssr::*;
    let state = state()?;
    let user = require_staff("/staff/figures")?;
    let today = backend::figures::today();
    let period = domain::figures::Period::parse(from.as_deref().unwrap_or(""), to.as_deref().unwrap_or(""), today)
        .map_err(|e| app_err(e.into()))?;
    let drill = match (subject.as_deref().and_then(Subject::parse), metric.as_deref().and_then(Metric::parse)) {
        (Some(s), Some(m)) => Some((s, m)),
        _ => None,
    };
    backend::figures::report(&state, &user, period, drill, user.lang.is_en()).await.map_err(app_err)
}

#[component]
pub fn FiguresPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_figures(q("from"), q("to"), q("subject"), q("metric")));
    view! {
        <Page
            title=("考核指标", "Evaluation figures")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let r = match data.await {
                                Ok(r) => r,
                                Err(e) => {
                                    return view! {
                                        <FormError message=Some(error_text(&e, lang)) />
                                        <PeriodForm
                                            from=q("from").unwrap_or_default()
                                            to=q("to").unwrap_or_default()
                                            lang=lang
                                        />
                                    }
                                        .into_any();
                                }
                            };
                            let from = r.period.from.format("%Y-%m-%d").to_string();
                            let to = r.period.to.format("%Y-%m-%d").to_string();
                            let period_q = format!("from={from}&to={to}");
                            let link = {
                                let period_q = period_q.clone();
                                move |s: Subject, m: Metric| {
                                    format!(
                                        "/staff/figures?{period_q}&subject={}&metric={}#drill",
                                        encode_component(&s.key()),
                                        m.as_str(),
                                    )
                                }
                            };
                            let levels = [
                                ("社区", "Communities", 0u8),
                                ("网格", "Grids", 1),
                                ("网格员", "Grid workers", 2),
                            ];
                            let level_of = |s: &Subject| match s {
                                Subject::Community(_) => 0u8,
                                Subject::Grid(_) | Subject::Ungridded(_) => 1,
                                Subject::Worker(_) => 2,
                            };
                            view! {
                                <div class="console">
                                    <section class="card wide-card">
                                        <PeriodForm from=from.clone() to=to.clone() lang=lang />
                                        <p>
                                            <a class="button" href=format!("/staff/figures.csv?{period_q}") download="">
                                                {t(lang, "导出 CSV", "Export CSV")}
                                            </a>
                                            " "
                                            <a
                                                class="button"
                                                href=format!("/staff/figures.xlsx?{period_q}")
                                                download=""
                                            >
                                                {t(lang, "导出 Excel(含明细)", "Export XLSX (with items)")}
                                            </a>
                                        </p>
                                        <p class="meta">
                                            {t(
                                                lang,
                                                "点击任一指标可查看逐项明细。",
                                                "Follow any figure for the items behind it.",
                                            )}
                                        </p>
                                    </section>
                                    {levels
                                        .into_iter()
                                        .map(|(zh, en_label, level)| {
                                            let rows: Vec<_> = r
                                                .rows
                                                .iter()
                                                .filter(|f| level_of(&f.subject) == level)
                                                .cloned()
                                                .collect();
                                            let link = link.clone();
                                            view! {
                                                <section class="card wide-card">
                                                    <h2>{t(lang, zh, en_label)}</h2>
                                                    {rows
                                                        .is_empty()
                                                        .then(|| {
                                                            view! { <p class="meta">{t(lang, "无", "None")}</p> }
                                                        })}
                                                    <div class="table-wrap">
                                                        <table class="figures">
                                                            <thead>
                                                                <tr>
                                                                    <th scope="col">{t(lang, "名称", "Name")}</th>
                                                                    {Metric::ALL
                                                                        .iter()
                                                                        .map(|m| view! { <th scope="col">{m.label(en)}</th> })
                                                                        .collect_view()}
                                                                </tr>
                                                            </thead>
                                                            <tbody>
                                                                {rows
                                                                    .into_iter()
                                                                    .map(|f| {
                                                                        let link = link.clone();
                                                                        view! {
                                                                            <tr data-subject=f.subject.key()>
                                                                                <th scope="row">
                                                                                    {f.name.clone()}<small>{f.parent.clone()}</small>
                                                                                </th>
                                                                                {Metric::ALL
                                                                                    .iter()
                                                                                    .map(|m| {
                                                                                        view! {
                                                                                            <td class=m.as_str()>
                                                                                                <a href=link(f.subject, *m)>{f.text(*m)}</a>
                                                                                                <small>{f.basis(*m, en)}</small>
                                                                                            </td>
                                                                                        }
                                                                                    })
                                                                                    .collect_view()}
                                                                            </tr>
                                                                        }
                                                                    })
                                                                    .collect_view()}
                                                            </tbody>
                                                        </table>
                                                    </div>
                                                </section>
                                            }
                                        })
                                        .collect_view()}
                                    {r
                                        .drill
                                        .clone()
                                        .map(|d| {
                                            view! {
                                                <section class="card wide-card" id="drill">
                                                    <h2>
                                                        {d.name.clone()}" · "{d.metric.label(en)}" "{d.figure.clone()}
                                                    </h2>
                                                    <p class="meta">
                                                        {d.subject.kind_label(en)}" · "{d.basis.clone()}" · "
                                                        <span class="nw">{from.clone()}</span>" – "
                                                        <span class="nw">{to.clone()}</span>
                                                    </p>
                                                    <p class="meta">{d.metric.rule(en)}</p>
                                                    {d
                                                        .items
                                                        .is_empty()
                                                        .then(|| {
                                                            view! {
                                                                <p class="meta">
                                                                    {t(
                                                                        lang,
                                                                        "统计期内没有计入的事项",
                                                                        "Nothing counted in this period",
                                                                    )}
                                                                </p>
                                                            }
                                                        })}
                                                    <ul class="list plain drill">
                                                        {d
                                                            .items
                                                            .iter()
                                                            .map(|i| {
                                                                view! {
                                                                    <li class=if i.good() { "good" } else { "bad" }>
                                                                        <span class="title">
                                                                            {match i.link.clone() {
                                                                                Some(l) => {
                                                                                    view! { <a href=l>{i.title.clone()}</a> }.into_any()
                                                                                }
                                                                                None => view! { <span>{i.title.clone()}</span> }.into_any(),
                                                                            }}
                                                                        </span>
                                                                        <span class="meta">
                                                                            <span class="nw">{i.at.clone()}</span>
                                                                        </span>
                                                                        <span class="meta">
                                                                            {crate::layout::nw_text(&i.detail)}
                                                                        </span>
                                                                    </li>
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </ul>
                                                </section>
                                            }
                                        })}
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

#[component]
fn PeriodForm(from: String, to: String, lang: crate::i18n::Lang) -> impl IntoView {
    view! {
        <form method="get" action="/staff/figures" class="stack period">
            <div class="row2">
                <label>{t(lang, "开始日期", "From")}<input type="date" name="from" value=from /></label>
                <label>{t(lang, "结束日期", "To")}<input type="date" name="to" value=to /></label>
            </div>
            <button type="submit" class="primary">
                {t(lang, "统计", "Show")}
            </button>
        </form>
    }
}
