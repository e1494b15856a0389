//! Exports of the evaluation figures (考核指标) for staff:
//! `GET /staff/figures.csv?from=&to=` (the table) and
//! `GET /staff/figures.xlsx?from=&to=` (the table and every item behind it).

use actix_web::get;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use backend::{auth::CurrentUser, State};
use domain::ErrorCode;
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

fn plain(status: actix_web::http::StatusCode, text: &str) -> HttpResponse {
    HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(text.to_string())
}

async fn rows(
    req: &HttpRequest,
    state: &State,
    q: &PeriodQuery,
) -> Result<(Vec<Vec<String>>, Vec<Vec<String>>, String), HttpResponse> {
    let Some(u) = req.extensions().get::<CurrentUser>().cloned() else {
        return Err(HttpResponse::SeeOther().insert_header(("Location", "/login?next=/staff/figures")).finish());
    };
    let en = u.lang.is_en();
    let today = domain::time::beijing_date(chrono::Utc::now());
    let period = domain::figures::Period::parse(q.from.as_deref().unwrap_or(""), q.to.as_deref().unwrap_or(""), today)
        .map_err(|c| plain(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, c.message(en)))?;
    match backend::figures::export(state, &u, period, en).await {
        Ok((table, items)) => {
            Ok((table, items, format!("{}_{}", period.from.format("%Y%m%d"), period.to.format("%Y%m%d"))))
        }
        Err(e) if e.code == ErrorCode::Forbidden => {
            Err(plain(actix_web::http::StatusCode::FORBIDDEN, ErrorCode::Forbidden.message(en)))
        }
        Err(e) => {
            tracing::error!(error = %e, "figures export failed");
            Err(plain(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal.message(en)))
        }
    }
}

/// `GET /staff/figures.csv`: one row per community, grid and grid worker.
#[utoipa::path(get, tag = "exports", summary = "Staff: evaluation figures per community, grid and worker as CSV", params(PeriodQuery), responses((status = 200, description = "CSV", body = String, content_type = "text/csv"), (status = 303, description = "to /login"), (status = "4XX", description = "plain-text message", body = String, content_type = "text/plain")))]
#[get("/staff/figures.csv")]
pub async fn figures_csv(req: HttpRequest, state: web::Data<State>, q: web::Query<PeriodQuery>) -> HttpResponse {
    let (table, _, stem) = match rows(&req, &state, &q).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &table {
        if w.write_record(r).is_err() {
            return HttpResponse::InternalServerError().finish();
        }
    }
    let mut out = "\u{feff}".as_bytes().to_vec(); // Excel reads UTF-8 with a BOM
    out.extend(w.into_inner().unwrap_or_default());
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"figures_{stem}.csv\"")))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(out)
}

fn workbook(table: &[Vec<String>], items: &[Vec<String>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (name, rows) in [("汇总 Summary", table), ("明细 Items", items)] {
        let sheet = book.add_worksheet();
        sheet.set_name(name)?;
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if r == 0 {
                    sheet.write_string_with_format(r as u32, c as u16, cell, &bold)?;
                } else {
                    sheet.write_string(r as u32, c as u16, cell)?;
                }
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofit();
    }
    book.save_to_buffer()
}

/// `GET /staff/figures.xlsx`: the table, and a sheet with every item.
#[utoipa::path(get, tag = "exports", summary = "Staff: the figures and every counted item as XLSX", params(PeriodQuery), responses((status = 200, description = "XLSX", body = String, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 303, description = "to /login"), (status = "4XX", description = "plain-text message", body = String, content_type = "text/plain")))]
#[get("/staff/figures.xlsx")]
pub async fn figures_xlsx(req: HttpRequest, state: web::Data<State>, q: web::Query<PeriodQuery>) -> HttpResponse {
    let (table, items, stem) = match rows(&req, &state, &q).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    match workbook(&table, &items) {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .insert_header(("Content-Disposition", format!("attachment; filename=\"figures_{stem}.xlsx\"")))
            .insert_header(("Cache-Control", "private, no-store"))
            .body(bytes),
        Err(e) => {
            tracing::error!(error = %e, "figures workbook failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}
