//! Results of importing buildings, units and households from a spreadsheet:
//! shared by the server (which validates) and the page (which shows them).

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    UnreadableFile,
    TooManyRows,
    MissingColumn,
    Empty,
    TooLong,
    UnknownGrid,
    InvalidArea,
    InvalidMembers,
    DuplicateInFile,
    AlreadyExists,
    BuildingInOtherGrid,
    UnknownHome,
    InvalidKind,
    InvalidPeriod,
    InvalidAmount,
    AlreadyBilled,
}

impl Problem {
    pub fn message(self, english: bool) -> &'static str {
        let (zh, en) = match self {
            Problem::UnreadableFile => (
                "无法读取文件:请上传 CSV(UTF-8 或 GBK)或 XLSX 文件",
                "Cannot read the file: upload CSV (UTF-8 or GBK) or XLSX",
            ),
            Problem::TooManyRows => ("行数超过 20000 行,请分批导入", "More than 20,000 rows: split the file"),
            Problem::MissingColumn => ("缺少必填列", "A required column is missing"),
            Problem::Empty => ("必填项为空", "A required cell is empty"),
            Problem::TooLong => ("内容过长(最多20个字)", "Too long (at most 20 characters)"),
            Problem::UnknownGrid => ("本社区没有这个网格", "No such grid in this community"),
            Problem::InvalidArea => {
                ("面积应为大于0的数字,最多两位小数", "The area must be a positive number with at most two decimals")
            }
            Problem::InvalidMembers => ("人数应为 0–99 的整数", "Members must be a whole number from 0 to 99"),
            Problem::DuplicateInFile => ("与文件中前面的行重复", "Repeats an earlier row of the file"),
            Problem::AlreadyExists => ("该房屋已存在", "This unit already exists"),
            Problem::BuildingInOtherGrid => ("该楼栋已登记在其他网格", "This building is registered in another grid"),
            Problem::UnknownHome => {
                ("本社区没有这个房屋,或该房屋还没有登记住户", "No such unit in this community, or it has no household")
            }
            Problem::InvalidKind => (
                "费用类型应为 水费、电费、燃气费、停车费 或 其他费用",
                "The kind must be 水费 water, 电费 electricity, 燃气费 gas, 停车费 parking or 其他费用 other",
            ),
            Problem::InvalidPeriod => (
                "账期应如 2026、2026-H1、2026-Q4 或 2026-11",
                "The period must look like 2026, 2026-H1, 2026-Q4 or 2026-11",
            ),
            Problem::InvalidAmount => (
                "金额应为大于0的数字(元),最多两位小数",
                "The amount must be a positive number of yuan with at most two decimals",
            ),
            Problem::AlreadyBilled => {
                ("该户这一账期已有同类账单", "This household already has a bill of this kind for the period")
            }
        };
        if english {
            en
        } else {
            zh
        }
    }
}

/// One problem: the spreadsheet row number (header is row 1), the column, why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub row: usize,
    pub column: Option<String>,
    pub problem: Problem,
    /// extra detail, such as the earlier row a duplicate repeats
    pub detail: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub rows: usize,
    pub buildings_created: usize,
    pub dwellings_created: usize,
    pub households_created: usize,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Imported(Summary),
    Rejected(Vec<RowError>),
}

/// What a bill import did.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillSummary {
    pub rows: usize,
    pub bills_created: usize,
    pub total: crate::money::Fen,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BillOutcome {
    Imported(BillSummary),
    Rejected(Vec<RowError>),
}
