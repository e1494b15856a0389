//! Staff import buildings, units (户) and households from CSV or XLSX. The
//! whole file is validated first; every bad row is reported with its row
//! number and reason; a file with any error imports nothing. A file without
//! errors is imported in one transaction.
//!
//! Columns (first row, Chinese or English names, any order):
//! 网格 grid · 楼栋 building · 单元 entrance · 房号 room · 面积 area (m², optional)
//! · 户主 head (optional) · 人数 members (optional).

use chrono::Utc;
use domain::{residence::AreaCentiM2, ErrorCode, OrgLevel, OrgPath};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use std::collections::HashMap;

use crate::{
    auth::CurrentUser,
    entities::{building, dwelling, household, org_unit},
    error::{AppError, AppResult},
    State,
};

pub const MAX_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_ROWS: usize = 20_000;

pub use domain::import::{Outcome, Problem, RowError, Summary};

/// Reads the first sheet of an XLSX file or a CSV file into rows of text,
/// with the spreadsheet row number of each.
pub fn read_table(bytes: &[u8], filename: &str) -> Result<Vec<(usize, Vec<String>)>, Problem> {
    if bytes.len() > MAX_BYTES {
        return Err(Problem::UnreadableFile);
    }
    let lower = filename.to_ascii_lowercase();
    let is_zip = bytes.starts_with(b"PK\x03\x04");
    if lower.ends_with(".xlsx") || is_zip {
        read_xlsx(bytes)
    } else {
        read_csv(bytes)
    }
}

/// Bounds on an XLSX upload before calamine sees it: the unzipped size of any
/// one part and of all parts (a 5 MiB zip can hold gigabytes of XML), and the
/// columns a row is read to (an import needs seven).
const MAX_UNZIPPED_PART: u64 = 64 * 1024 * 1024;
const MAX_UNZIPPED_TOTAL: u64 = 128 * 1024 * 1024;
const MAX_COLUMNS: usize = 256;

/// XLSX: the first sheet's cells, streamed (calamine's dense `Range` would be
/// rows × columns of the sheet's extent, a huge allocation for one far cell).
/// Every cell reference of the worksheets is checked first: calamine 0.31
/// overflows its arithmetic on references of many letters or digits (found
/// by the `import_table` fuzz target) and on a dimension whose end comes
/// before its start. A panic inside calamine all the same is an unreadable
/// file, not a crash.
fn read_xlsx(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, Problem> {
    check_xlsx(bytes)?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_xlsx_cells(bytes)))
        .unwrap_or(Err(Problem::UnreadableFile))
}

fn check_xlsx(bytes: &[u8]) -> Result<(), Problem> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| Problem::UnreadableFile)?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let size = zip.by_index_raw(i).map_err(|_| Problem::UnreadableFile)?.size();
        total = total.saturating_add(size);
        if size > MAX_UNZIPPED_PART || total > MAX_UNZIPPED_TOTAL {
            return Err(Problem::UnreadableFile);
        }
    }
    for i in 0..zip.len() {
        let file = zip.by_index(i).map_err(|_| Problem::UnreadableFile)?;
        let name = file.name().map_err(|_| Problem::UnreadableFile)?.into_owned();
        if !(name.starts_with("xl/worksheets/") && name.ends_with(".xml")) {
            continue;
        }
        // never more than the declared size, whatever the stream holds
        let limit = file.size();
        let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(file.take(limit)));
        let mut buf = Vec::new();
        loop {
            let event = xml.read_event_into(&mut buf).map_err(|_| Problem::UnreadableFile)?;
            match &event {
                quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                    let (attr, check): (&str, RefCheck) = match e.local_name().as_ref() {
                        "dimension" => ("ref", valid_range),
                        "row" => ("r", valid_row),
                        "c" => ("r", |r| valid_cell(r).is_some()),
                        _ => ("", |_| true),
                    };
                    if !attr.is_empty() {
                        for a in e.attributes() {
                            let a = a.map_err(|_| Problem::UnreadableFile)?;
                            if a.key.local_name().as_ref() == attr && !check(a.value.as_bytes()) {
                                return Err(Problem::UnreadableFile);
                            }
                        }
                    }
                }
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
    }
    Ok(())
}

type RefCheck = fn(&[u8]) -> bool;

/// A row number as Excel has them: 1 to 1,048,576.
fn valid_row(r: &[u8]) -> bool {
    parse_row(r).is_some()
}

fn parse_row(r: &[u8]) -> Option<u32> {
    if r.is_empty() || r.len() > 7 || !r.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u32 = std::str::from_utf8(r).ok()?.parse().ok()?;
    (1..=1_048_576).contains(&n).then_some(n)
}

/// A cell reference such as `B12` (optionally with `$`): column A to XFD,
/// row 1 to 1,048,576; (row, column).
fn valid_cell(r: &[u8]) -> Option<(u32, u32)> {
    let r: Vec<u8> = r.iter().copied().filter(|b| *b != b'$').collect();
    let letters = r.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if !(1..=3).contains(&letters) {
        return None;
    }
    let col = r[..letters].iter().fold(0u32, |acc, b| acc * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1));
    let row = parse_row(&r[letters..])?;
    (col <= 16_384).then_some((row, col))
}

/// A `dimension` reference: one cell, or `A1:C9` with the end not before the start.
fn valid_range(r: &[u8]) -> bool {
    let mut parts = r.split(|b| *b == b':');
    let (Some(a), b, None) = (parts.next(), parts.next(), parts.next()) else { return false };
    let Some(start) = valid_cell(a) else { return false };
    match b {
        None => true,
        Some(b) => valid_cell(b).is_some_and(|end| end.0 >= start.0 && end.1 >= start.1),
    }
}

fn read_xlsx_cells(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, Problem> {
    use calamine::{DataRef, Reader};
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(|_| Problem::UnreadableFile)?;
    let first = book.sheet_names().first().cloned().ok_or(Problem::UnreadableFile)?;
    let mut cells = book.worksheet_cells_reader(&first).map_err(|_| Problem::UnreadableFile)?;
    let mut rows: std::collections::BTreeMap<u32, Vec<String>> = std::collections::BTreeMap::new();
    while let Some(cell) = cells.next_cell().map_err(|_| Problem::UnreadableFile)? {
        let (row, col) = cell.get_position();
        let col = col as usize;
        let text = match cell.get_value() {
            DataRef::Int(i) => i.to_string(),
            // Only to show the typed value as text; areas are then parsed exactly from it.
            DataRef::Float(f) => format!("{f}"),
            DataRef::String(s) => s.clone(),
            DataRef::SharedString(s) => s.to_string(),
            DataRef::Bool(b) => b.to_string(),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
            DataRef::DateTime(d) => d.to_string(),
            DataRef::Error(_) | DataRef::Empty => continue,
        };
        if col >= MAX_COLUMNS || text.is_empty() {
            continue;
        }
        if !rows.contains_key(&row) && rows.len() > MAX_ROWS {
            return Err(Problem::TooManyRows);
        }
        let cells = rows.entry(row).or_default();
        if cells.len() <= col {
            cells.resize(col + 1, String::new());
        }
        cells[col] = text;
    }
    Ok(rows.into_iter().map(|(row, cells)| (row as usize + 1, cells)).collect())
}

fn read_csv(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, Problem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Excel in China saves CSV as GBK unless told otherwise.
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let (s, _, bad) = encoding_rs::GBK.decode(bytes);
            if bad {
                return Err(Problem::UnreadableFile);
            }
            s.into_owned()
        }
    };
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::new();
    // The row number a spreadsheet shows: one more than the line breaks
    // before the record, outside quoted cells (a cell may hold a line break
    // and is still one row). Counted from the record's byte offset rather
    // than taken from csv's line, which lags one behind after a CRLF
    // (Excel's line ending): the record then starts on the "\n" of "\r\n".
    let bytes = text.as_bytes();
    let (mut counted_to, mut breaks, mut quoted) = (0usize, 0usize, false);
    for rec in rdr.records() {
        let rec = rec.map_err(|_| Problem::UnreadableFile)?;
        let mut start = rec.position().map(|p| p.byte() as usize).unwrap_or(counted_to).min(bytes.len());
        for b in bytes.get(counted_to..start).unwrap_or_default() {
            match b {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => breaks += 1,
                _ => {}
            }
        }
        // the record's text begins after the line ends (and blank lines) csv skipped
        while let Some(b @ (b'\r' | b'\n')) = bytes.get(start) {
            breaks += usize::from(*b == b'\n');
            start += 1;
        }
        counted_to = counted_to.max(start);
        out.push((breaks + 1, rec.iter().map(str::to_string).collect()));
    }
    Ok(out)
}

const COLUMNS: [(&str, &[&str], bool); 7] = [
    ("grid", &["网格", "grid"], true),
    ("building", &["楼栋", "楼", "building"], true),
    ("entrance", &["单元", "entrance"], true),
    ("room", &["房号", "户", "room", "unit"], true),
    ("area", &["面积", "产权面积", "area"], false),
    ("head", &["户主", "head"], false),
    ("members", &["人数", "members"], false),
];

fn column_label(key: &str) -> String {
    COLUMNS.iter().find(|c| c.0 == key).map(|c| c.1[0].to_string()).unwrap_or_else(|| key.to_string())
}

struct Parsed {
    row: usize,
    grid: String,
    building: String,
    entrance: String,
    room: String,
    area: Option<AreaCentiM2>,
    head: Option<String>,
    members: i32,
}

/// Validates and, when the whole file is clean, imports it into `community_id`.
pub async fn import(
    state: &State,
    staff: &CurrentUser,
    community_id: i64,
    bytes: &[u8],
    filename: &str,
) -> AppResult<Outcome> {
    let community = org_unit::Entity::find_by_id(community_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let path = OrgPath::parse(&community.path).ok_or_else(|| AppError::internal(anyhow::anyhow!("bad org path")))?;
    if community.level != OrgLevel::Community {
        return Err(ErrorCode::InvalidInput.into());
    }
    if !staff.can_manage(&path) {
        return Err(ErrorCode::Forbidden.into());
    }
    let one = |problem| Ok(Outcome::Rejected(vec![RowError { row: 0, column: None, problem, detail: None }]));
    let table = match read_table(bytes, filename) {
        Ok(t) => t,
        Err(p) => return one(p),
    };
    let mut rows = table.into_iter().filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let Some((header_row, header)) = rows.next() else { return one(Problem::Empty) };
    let index: HashMap<&str, usize> = COLUMNS
        .iter()
        .filter_map(|(key, names, _)| header.iter().position(|h| names.contains(&h.trim())).map(|i| (*key, i)))
        .collect();
    let mut errors: Vec<RowError> = COLUMNS
        .iter()
        .filter(|(key, _, required)| *required && !index.contains_key(key))
        .map(|(key, _, _)| RowError {
            row: header_row,
            column: Some(column_label(key)),
            problem: Problem::MissingColumn,
            detail: None,
        })
        .collect();
    if !errors.is_empty() {
        return Ok(Outcome::Rejected(errors));
    }
    let data: Vec<(usize, Vec<String>)> = rows.collect();
    if data.len() > MAX_ROWS {
        return one(Problem::TooManyRows);
    }

    let grids: HashMap<String, i64> = org_unit::Entity::find()
        .filter(org_unit::Column::ParentId.eq(community.id))
        .filter(org_unit::Column::Level.eq(OrgLevel::Grid))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|g| (g.name, g.id))
        .collect();
    let existing_buildings: HashMap<String, building::Model> = building::Entity::find()
        .filter(building::Column::CommunityId.eq(community.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|b| (b.name.clone(), b))
        .collect();
    let building_ids: Vec<i64> = existing_buildings.values().map(|b| b.id).collect();
    let existing_dwellings: std::collections::HashSet<(i64, String, String)> = dwelling::Entity::find()
        .filter(dwelling::Column::BuildingId.is_in(building_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|d| (d.building_id, d.entrance, d.room))
        .collect();

    let mut parsed = Vec::with_capacity(data.len());
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    let mut building_grid: HashMap<String, (String, usize)> = HashMap::new();
    for (row, cells) in data {
        let cell =
            |key: &str| index.get(key).and_then(|i| cells.get(*i)).map(|s| s.trim().to_string()).unwrap_or_default();
        let mut row_errors = Vec::new();
        let mut required = |key: &str| {
            let v = cell(key);
            if v.is_empty() {
                row_errors.push(RowError {
                    row,
                    column: Some(column_label(key)),
                    problem: Problem::Empty,
                    detail: None,
                });
            } else if v.chars().count() > 20 {
                row_errors.push(RowError {
                    row,
                    column: Some(column_label(key)),
                    problem: Problem::TooLong,
                    detail: None,
                });
            }
            v
        };
        let grid = required("grid");
        let building_name = required("building");
        let entrance = required("entrance");
        let room = required("room");
        if !grid.is_empty() && !grids.contains_key(&grid) {
            row_errors.push(RowError {
                row,
                column: Some(column_label("grid")),
                problem: Problem::UnknownGrid,
                detail: Some(grid.clone()),
            });
        }
        let area_text = cell("area");
        let area = if area_text.is_empty() {
            None
        } else {
            match AreaCentiM2::parse(&area_text) {
                Ok(a) => Some(a),
                Err(_) => {
                    row_errors.push(RowError {
                        row,
                        column: Some(column_label("area")),
                        problem: Problem::InvalidArea,
                        detail: Some(area_text),
                    });
                    None
                }
            }
        };
        let members_text = cell("members");
        let members = if members_text.is_empty() {
            0
        } else {
            match members_text.parse::<i32>() {
                Ok(n) if (0..=99).contains(&n) => n,
                _ => {
                    row_errors.push(RowError {
                        row,
                        column: Some(column_label("members")),
                        problem: Problem::InvalidMembers,
                        detail: Some(members_text),
                    });
                    0
                }
            }
        };
        let head = Some(cell("head")).filter(|h| !h.is_empty()).map(|h| h.chars().take(30).collect());
        if row_errors.is_empty() {
            let key = (building_name.clone(), entrance.clone(), room.clone());
            if let Some(first) = seen.get(&key) {
                row_errors.push(RowError {
                    row,
                    column: None,
                    problem: Problem::DuplicateInFile,
                    detail: Some(first.to_string()),
                });
            } else {
                seen.insert(key, row);
            }
            match existing_buildings.get(&building_name) {
                Some(b) => {
                    if grids.get(&grid) != Some(&b.grid_id) {
                        row_errors.push(RowError {
                            row,
                            column: Some(column_label("grid")),
                            problem: Problem::BuildingInOtherGrid,
                            detail: None,
                        });
                    } else if existing_dwellings.contains(&(b.id, entrance.clone(), room.clone())) {
                        row_errors.push(RowError { row, column: None, problem: Problem::AlreadyExists, detail: None });
                    }
                }
                None => match building_grid.get(&building_name) {
                    Some((g, first)) if *g != grid => row_errors.push(RowError {
                        row,
                        column: Some(column_label("grid")),
                        problem: Problem::BuildingInOtherGrid,
                        detail: Some(first.to_string()),
                    }),
                    Some(_) => {}
                    None => {
                        building_grid.insert(building_name.clone(), (grid.clone(), row));
                    }
                },
            }
        }
        if row_errors.is_empty() {
            parsed.push(Parsed { row, grid, building: building_name, entrance, room, area, head, members });
        }
        errors.extend(row_errors);
    }
    if !errors.is_empty() {
        return Ok(Outcome::Rejected(errors));
    }

    let now = Utc::now();
    let txn = state.db.begin().await?;
    let mut summary = Summary { rows: parsed.len(), ..Default::default() };
    let mut buildings: HashMap<String, i64> = existing_buildings.iter().map(|(k, b)| (k.clone(), b.id)).collect();
    for p in parsed {
        let building_id = match buildings.get(&p.building) {
            Some(id) => *id,
            None => {
                let grid_id = *grids
                    .get(&p.grid)
                    .ok_or_else(|| AppError::internal(anyhow::anyhow!("grid vanished at row {}", p.row)))?;
                let b = building::ActiveModel {
                    community_id: Set(community.id),
                    grid_id: Set(grid_id),
                    name: Set(p.building.clone()),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                summary.buildings_created += 1;
                buildings.insert(p.building.clone(), b.id);
                b.id
            }
        };
        let d = dwelling::ActiveModel {
            building_id: Set(building_id),
            entrance: Set(p.entrance),
            room: Set(p.room),
            area_centi_m2: Set(p.area.map(|a| a.centi())),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        // a concurrent import of the same unit: the unique index refuses, nothing is kept
        .map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                AppError::from(ErrorCode::Conflict)
            } else {
                e.into()
            }
        })?;
        summary.dwellings_created += 1;
        household::ActiveModel {
            dwelling_id: Set(d.id),
            head_name: Set(p.head),
            members: Set(p.members),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        summary.households_created += 1;
    }
    txn.commit().await?;
    tracing::info!(community = community.id, staff = staff.id, rows = summary.rows, "import done");
    Ok(Outcome::Imported(summary))
}

/// Communities a staff member may import into.
pub async fn target_communities(state: &State, staff: &CurrentUser) -> AppResult<Vec<(i64, String)>> {
    Ok(crate::org::publish_targets(state, staff)
        .await?
        .into_iter()
        .filter(|n| n.level == OrgLevel::Community)
        .map(|n| (n.id, n.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fuzz target's crash input (fuzz/artifacts): calamine panics on it
    /// with overflow checks on; the upload is refused in words instead.
    #[test]
    fn an_xlsx_that_makes_calamine_panic_is_an_unreadable_file() {
        let crash = include_bytes!("../tests/fixtures/xlsx-column-overflow.bin");
        // the fuzz input's first byte chose the file name
        assert_eq!(read_table(&crash[1..], "a.xlsx"), Err(Problem::UnreadableFile));
    }

    #[test]
    fn csv_in_utf8_with_bom_and_in_gbk() {
        let utf8 = "\u{feff}网格,楼栋,单元,房号\n第一网格,1号楼,1单元,101\n";
        let rows = read_table(utf8.as_bytes(), "a.csv").unwrap();
        assert_eq!(rows[0].1[0], "网格");
        assert_eq!(rows[1], (2, vec!["第一网格".into(), "1号楼".into(), "1单元".into(), "101".into()]));
        // Excel's CRLF, a blank line and a cell holding a line break: rows as the spreadsheet shows them
        let crlf = "网格,楼栋\r\n第一网格,1号楼\r\n\r\n\"第二\r\n网格\",2号楼\r\n第三网格,3号楼\r\n";
        let rows: Vec<usize> = read_table(crlf.as_bytes(), "c.csv").unwrap().iter().map(|r| r.0).collect();
        assert_eq!(rows, [1, 2, 4, 5]);
        let lf: Vec<usize> = read_table(b"a,b\nc,d\ne,f\n", "d.csv").unwrap().iter().map(|r| r.0).collect();
        assert_eq!(lf, [1, 2, 3]);
        let (gbk, _, _) = encoding_rs::GBK.encode("网格,楼栋\n第一网格,2号楼\n");
        let rows = read_table(&gbk, "b.csv").unwrap();
        assert_eq!(rows[1].1[1], "2号楼");
    }

    #[test]
    fn garbage_is_unreadable() {
        assert_eq!(read_table(b"PK\x03\x04garbage", "x.xlsx"), Err(Problem::UnreadableFile));
    }

    #[test]
    fn cell_references_are_checked_before_calamine() {
        assert_eq!(valid_cell(b"A1"), Some((1, 1)));
        assert_eq!(valid_cell(b"$XFD$1048576"), Some((1_048_576, 16_384)));
        assert_eq!(valid_cell(b"XFE1"), None);
        assert_eq!(valid_cell(b"AAAA1"), None);
        assert_eq!(valid_cell(b"A0"), None);
        assert_eq!(valid_cell(b"A1048577"), None);
        assert_eq!(valid_cell(b"A99999999999"), None);
        assert_eq!(valid_cell(b"1A"), None);
        assert!(valid_range(b"A1:G20"));
        assert!(valid_range(b"B2"));
        assert!(!valid_range(b"G20:A1"));
        assert!(!valid_range(b"A1:B2:C3"));
        assert!(!valid_range(b""));
        assert!(valid_row(b"20") && !valid_row(b"0") && !valid_row(b"-1"));
    }

    fn xlsx(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (r, c, v) in cells {
            sheet.write_string(*r, *c, *v).unwrap();
        }
        book.save_to_buffer().unwrap()
    }

    #[test]
    fn xlsx_rows_keep_their_spreadsheet_numbers_and_a_far_cell_costs_nothing() {
        let rows = read_table(&xlsx(&[(0, 0, "网格"), (0, 3, "房号"), (4, 1, "1号楼")]), "a.xlsx").unwrap();
        assert_eq!(rows[0], (1, vec!["网格".into(), "".into(), "".into(), "房号".into()]));
        assert_eq!(rows[1], (5, vec!["".into(), "1号楼".into()]));
        // the last cell of a sheet: calamine's dense range would be 17 billion cells
        let rows = read_table(&xlsx(&[(0, 0, "网格"), (1_048_575, 16_383, "x")]), "a.xlsx").unwrap();
        assert_eq!(rows, vec![(1, vec!["网格".to_string()])]);
    }
}
