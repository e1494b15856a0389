//! Evaluation figures of grid work (考核指标) and the patrol plans behind
//! 到位率. Pure: the backend collects one [`Item`] per thing that counts
//! (an incident that fell due, a checkpoint visit a plan required, an
//! information update, a rating) from the append-only records, and
//! everything shown — the table per worker, grid and community, the
//! drill-down item by item, the CSV and XLSX — is computed here from those
//! items, so the number and its explanation can never disagree.
//!
//! - 办结率 (closure): incidents whose deadline fell in the period and has
//!   passed (or that were closed before it), closed with the handling that
//!   was verified finished by the deadline (after approved extensions) ÷
//!   those due.
//! - 到位率 (presence): checkpoint visits the patrol plans required in the
//!   period (each planned day whose time window has ended, each checkpoint
//!   of the route) done by an accepted check-in of the planned worker
//!   inside the window ÷ required.
//! - 更新频率 (updates): information updates by grid workers (reports
//!   filed, workflow steps taken on their incidents) ÷ worker-days (the
//!   days of the period up to today, times the workers).
//! - 满意度 (satisfaction): the reporters' ratings given in the period:
//!   the mean of the stars and the share of 4–5 stars.

use crate::appointments::{parse_clock, parse_day};
use crate::time::beijing_at;
use crate::ErrorCode;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// The longest period a table covers.
pub const MAX_PERIOD_DAYS: i64 = 366;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
    strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "db", derive(sea_orm::DeriveValueType), sea_orm(value_type = "String"))]
pub enum Metric {
    Closure,
    Presence,
    Updates,
    Satisfaction,
}

crate::coded!(Metric);

impl Metric {
    pub const ALL: [Metric; 4] = [Metric::Closure, Metric::Presence, Metric::Updates, Metric::Satisfaction];

    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Metric::Closure, false) => "办结率",
            (Metric::Closure, true) => "On-time closure",
            (Metric::Presence, false) => "到位率",
            (Metric::Presence, true) => "Presence",
            (Metric::Updates, false) => "更新频率",
            (Metric::Updates, true) => "Updates per worker-day",
            (Metric::Satisfaction, false) => "满意度",
            (Metric::Satisfaction, true) => "Satisfaction",
        }
    }

    /// How the number is made, in words (shown above a drill-down).
    pub fn rule(self, en: bool) -> &'static str {
        match (self, en) {
            (Metric::Closure, false) => "有期限的事件中,经核查的处置在期限前完成并已结案的比例。期限前结案的,按结案时间计入所在统计期(刚结案,本期数字当即变化);其余在期限到期时计入期限所在统计期。期限含已批准的延期。",
            (Metric::Closure, true) => "Of the incidents with a deadline, the share closed with the verified handling done by the deadline (approved extensions included). A case closed by its deadline counts in the period it closed in (so closing one moves today's figure at once); any other counts in its deadline's period once the deadline has passed.",
            (Metric::Presence, false) => "巡逻计划在统计期内要求的点位到访(时段已结束的每个计划日 × 线路的每个点位)中,计划网格员在时段内有效签到的比例。",
            (Metric::Presence, true) => "Of the checkpoint visits the patrol plans required in the period (each planned day whose window has ended × each checkpoint of the route), the share with an accepted check-in by the planned worker inside the window.",
            (Metric::Updates, false) => "网格员上报事件和办理事件步骤的条数,除以人·天数(统计期内截至今天的天数 × 网格员人数)。",
            (Metric::Updates, true) => "Incidents reported and workflow steps taken by grid workers, divided by worker-days (days of the period up to today × workers).",
            (Metric::Satisfaction, false) => "统计期内报告人对已结案事件的评价:平均星级及 4–5 星所占比例。",
            (Metric::Satisfaction, true) => "Reporters' ratings of closed incidents given in the period: the mean of the stars and the share of 4–5 stars.",
        }
    }
}

/// Whom a figure is about.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Subject {
    Community(i64),
    Grid(i64),
    Worker(i64),
    /// A community's items in no grid (a report with no position, or outside
    /// every grid's outline): the row that makes a community's figures the
    /// sum of its grids' and this one.
    Ungridded(i64),
}

impl Subject {
    /// "community:3", "grid:5", "worker:12" (in links).
    pub fn key(self) -> String {
        match self {
            Subject::Community(id) => format!("community:{id}"),
            Subject::Grid(id) => format!("grid:{id}"),
            Subject::Worker(id) => format!("worker:{id}"),
            Subject::Ungridded(id) => format!("ungridded:{id}"),
        }
    }

    pub fn parse(s: &str) -> Option<Subject> {
        let (kind, id) = s.split_once(':')?;
        let id: i64 = id.parse().ok().filter(|i| *i > 0)?;
        match kind {
            "community" => Some(Subject::Community(id)),
            "grid" => Some(Subject::Grid(id)),
            "worker" => Some(Subject::Worker(id)),
            "ungridded" => Some(Subject::Ungridded(id)),
            _ => None,
        }
    }

    pub fn kind_label(self, en: bool) -> &'static str {
        match (self, en) {
            (Subject::Community(_), false) => "社区",
            (Subject::Community(_), true) => "Community",
            (Subject::Grid(_), false) => "网格",
            (Subject::Grid(_), true) => "Grid",
            (Subject::Worker(_), false) => "网格员",
            (Subject::Worker(_), true) => "Grid worker",
            (Subject::Ungridded(_), false) => "未划入网格",
            (Subject::Ungridded(_), true) => "Outside any grid",
        }
    }
}

/// A period of whole Beijing days, both ends included.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", schema(as = figures::Period))]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// From the form's two dates; blank means the last 30 days up to today.
    pub fn parse(from: &str, to: &str, today: NaiveDate) -> Result<Period, ErrorCode> {
        let to = match to.trim() {
            "" => today,
            s => parse_day(s).ok_or(ErrorCode::InvalidDateRange)?,
        };
        let from = match from.trim() {
            "" => to - Duration::days(29),
            s => parse_day(s).ok_or(ErrorCode::InvalidDateRange)?,
        };
        if from > to || (to - from).num_days() >= MAX_PERIOD_DAYS {
            return Err(ErrorCode::InvalidDateRange);
        }
        Ok(Period { from, to })
    }

    /// [start, end) as instants.
    pub fn bounds(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (beijing_at(self.from, NaiveTime::MIN), beijing_at(self.to + Duration::days(1), NaiveTime::MIN))
    }

    /// Days of the period up to `today` (the days a worker could work).
    pub fn days_until(&self, today: NaiveDate) -> u32 {
        let last = self.to.min(today);
        if last < self.from {
            0
        } else {
            ((last - self.from).num_days() + 1) as u32
        }
    }

    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.from.iter_days().take_while(move |d| *d <= self.to)
    }
}

// ------------------------------------------------------------------ patrol plans

/// A patrol plan as entered: which days of the week (bit 0 = Monday), the
/// time window (minutes after Beijing midnight) and the dates it holds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRule {
    pub weekdays: u8,
    pub start_min: u16,
    pub end_min: u16,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl PlanRule {
    /// Parses the staff form: weekday numbers 1–7, "HH:MM" twice, dates.
    pub fn parse(weekdays: &[String], start: &str, end: &str, from: &str, until: &str) -> Result<PlanRule, ErrorCode> {
        let mut mask = 0u8;
        for w in weekdays {
            match w.trim().parse::<u8>() {
                Ok(n @ 1..=7) => mask |= 1 << (n - 1),
                _ => return Err(ErrorCode::InvalidPlan),
            }
        }
        let clock = |s: &str| -> Result<u16, ErrorCode> {
            let s = s.trim();
            if s == "24:00" {
                return Ok(1440);
            }
            let t = parse_clock(s).ok_or(ErrorCode::InvalidPlan)?;
            Ok((t.hour() * 60 + t.minute()) as u16)
        };
        let (start_min, end_min) = (clock(start)?, clock(end)?);
        let from = parse_day(from).ok_or(ErrorCode::InvalidPlan)?;
        let until = match until.trim() {
            "" => None,
            s => Some(parse_day(s).ok_or(ErrorCode::InvalidPlan)?),
        };
        let rule = PlanRule { weekdays: mask, start_min, end_min, from, until };
        rule.check()?;
        Ok(rule)
    }

    /// What the database CHECKs too.
    pub fn check(&self) -> Result<(), ErrorCode> {
        if self.start_min < self.end_min && self.end_min - self.start_min < 10 {
            return Err(ErrorCode::PlanTooShort);
        }
        let ok = (1..=127).contains(&self.weekdays)
            && self.start_min < self.end_min
            && self.end_min <= 1440
            && self.end_min - self.start_min >= 10
            && self.until.is_none_or(|u| u >= self.from);
        if ok {
            Ok(())
        } else {
            Err(ErrorCode::InvalidPlan)
        }
    }

    pub fn applies(&self, day: NaiveDate) -> bool {
        let bit = 1u8 << day.weekday().num_days_from_monday();
        self.weekdays & bit != 0 && day >= self.from && self.until.is_none_or(|u| day <= u)
    }

    /// The window of one day, as instants.
    pub fn window(&self, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let at = |m: u16| beijing_at(day, NaiveTime::MIN) + Duration::minutes(m as i64);
        (at(self.start_min), at(self.end_min))
    }

    /// The days of `period` this plan required: it applies that day, and
    /// the whole window had passed by `now` while the plan was in force
    /// (a plan ended mid-window does not require that day).
    pub fn required_days(&self, period: &Period, now: DateTime<Utc>, ended: Option<DateTime<Utc>>) -> Vec<NaiveDate> {
        let cutoff = ended.map_or(now, |e| e.min(now));
        period.days().filter(|d| self.applies(*d) && self.window(*d).1 <= cutoff).collect()
    }

    /// "周一至周五 08:00–10:00" / "Mon–Fri 08:00–10:00"
    pub fn describe(&self, en: bool) -> String {
        let names = |i: u8| crate::appointments::weekday_name(i + 1, en);
        let days: Vec<u8> = (0..7).filter(|i| self.weekdays & (1 << i) != 0).collect();
        let contiguous = days.windows(2).all(|w| w[1] == w[0] + 1);
        let day_text = if days.len() == 7 {
            if en {
                "Every day".to_string()
            } else {
                "每天".to_string()
            }
        } else if days.len() >= 3 && contiguous {
            format!("{}{}{}", names(days[0]), if en { "–" } else { "至" }, names(days[days.len() - 1]))
        } else {
            days.iter().map(|d| names(*d)).collect::<Vec<_>>().join(if en { ", " } else { "、" })
        };
        format!("{day_text} {}–{}", clock_text(self.start_min), clock_text(self.end_min))
    }
}

pub fn clock_text(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// A plan as listed on the route card.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub id: i64,
    pub route_id: i64,
    pub worker: String,
    pub rule: PlanRule,
    pub ended: bool,
}

// ------------------------------------------------------------------ items and figures

/// One thing that counts towards a figure, with its explanation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub metric: Metric,
    pub community: i64,
    pub grid: Option<i64>,
    pub worker: Option<i64>,
    /// Closure and presence: 1 done, 0 not; updates: 1; satisfaction: stars.
    pub score: u32,
    /// When it counts (Beijing time, shown).
    pub at: String,
    pub title: String,
    pub detail: String,
    pub link: Option<String>,
}

impl Item {
    pub fn about(&self, s: Subject) -> bool {
        match s {
            Subject::Community(c) => self.community == c,
            Subject::Grid(g) => self.grid == Some(g),
            Subject::Worker(w) => self.worker == Some(w),
            Subject::Ungridded(c) => self.community == c && self.grid.is_none(),
        }
    }

    /// Whether the item counts in favour (shown green in a drill-down).
    pub fn good(&self) -> bool {
        match self.metric {
            Metric::Closure | Metric::Presence | Metric::Updates => self.score > 0,
            Metric::Satisfaction => self.score >= 4,
        }
    }
}

/// A share: `num` of `den`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratio {
    pub num: u32,
    pub den: u32,
}

impl Ratio {
    /// "87.5%" (one decimal, rounded half up), "—" with nothing due.
    pub fn percent(&self) -> String {
        if self.den == 0 {
            return "—".into();
        }
        let tenths = (self.num as u64 * 2000 + self.den as u64) / (2 * self.den as u64);
        format!("{}.{}%", tenths / 10, tenths % 10)
    }

    pub fn value(&self) -> Option<f64> {
        (self.den > 0).then(|| self.num as f64 / self.den as f64)
    }
}

/// The figures of one subject over a period.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub subject: Subject,
    pub name: String,
    /// The community or grid it belongs to, for a worker or grid ("" for a community).
    pub parent: String,
    pub closure: Ratio,
    pub presence: Ratio,
    pub updates: u32,
    pub worker_days: u32,
    /// Ratings: how many, the stars added up, how many of 4–5 stars.
    pub ratings: u32,
    pub stars: u32,
    pub satisfied: u32,
}

impl Figures {
    /// "1.25" updates per worker-day, "—" without worker-days.
    pub fn update_rate(&self) -> String {
        if self.worker_days == 0 {
            return "—".into();
        }
        let hundredths = (self.updates as u64 * 200 + self.worker_days as u64) / (2 * self.worker_days as u64);
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    }

    /// The mean of the stars, "4.5" (one decimal, half up), "—" without ratings.
    pub fn mean_stars(&self) -> String {
        if self.ratings == 0 {
            return "—".into();
        }
        let tenths = (self.stars as u64 * 20 + self.ratings as u64) / (2 * self.ratings as u64);
        format!("{}.{}", tenths / 10, tenths % 10)
    }

    /// "4.5 ★ · 80.0%" (mean stars, share of 4–5), "—" without ratings.
    pub fn satisfaction(&self) -> String {
        if self.ratings == 0 {
            return "—".into();
        }
        format!("{} ★ · {}", self.mean_stars(), Ratio { num: self.satisfied, den: self.ratings }.percent())
    }

    pub fn text(&self, m: Metric) -> String {
        match m {
            Metric::Closure => self.closure.percent(),
            Metric::Presence => self.presence.percent(),
            Metric::Updates => self.update_rate(),
            Metric::Satisfaction => self.satisfaction(),
        }
    }

    /// "7 / 8", "12 条 / 20 人·天", "5 条评价"
    pub fn basis(&self, m: Metric, en: bool) -> String {
        match (m, en) {
            (Metric::Closure, _) => format!("{} / {}", self.closure.num, self.closure.den),
            (Metric::Presence, _) => format!("{} / {}", self.presence.num, self.presence.den),
            (Metric::Updates, false) => format!("{} 条 / {} 人·天", self.updates, self.worker_days),
            (Metric::Updates, true) => format!("{} / {} worker-days", self.updates, self.worker_days),
            (Metric::Satisfaction, false) => format!("{} 条评价", self.ratings),
            (Metric::Satisfaction, true) => format!("{} ratings", self.ratings),
        }
    }
}

/// A subject to tabulate: who, its name, what it belongs to, its worker-days.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubjectInfo {
    pub subject: Subject,
    pub name: String,
    pub parent: String,
    pub worker_days: u32,
}

/// The figures of each subject, from the items alone.
pub fn tabulate(items: &[Item], subjects: &[SubjectInfo]) -> Vec<Figures> {
    subjects
        .iter()
        .map(|s| {
            let mut f = Figures {
                subject: s.subject,
                name: s.name.clone(),
                parent: s.parent.clone(),
                closure: Ratio::default(),
                presence: Ratio::default(),
                updates: 0,
                worker_days: s.worker_days,
                ratings: 0,
                stars: 0,
                satisfied: 0,
            };
            for i in items.iter().filter(|i| i.about(s.subject)) {
                match i.metric {
                    Metric::Closure => {
                        f.closure.den += 1;
                        f.closure.num += u32::from(i.score > 0);
                    }
                    Metric::Presence => {
                        f.presence.den += 1;
                        f.presence.num += u32::from(i.score > 0);
                    }
                    Metric::Updates => f.updates += 1,
                    Metric::Satisfaction => {
                        f.ratings += 1;
                        f.stars += i.score;
                        f.satisfied += u32::from(i.score >= 4);
                    }
                }
            }
            f
        })
        .collect()
}

/// The items behind one figure, in the order they happened.
pub fn drill(items: &[Item], subject: Subject, metric: Metric) -> Vec<&Item> {
    items.iter().filter(|i| i.metric == metric && i.about(subject)).collect()
}

/// The figures page: the period, a table per level, and (when asked) the
/// items behind one figure.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FiguresReport {
    pub period: Period,
    pub rows: Vec<Figures>,
    pub drill: Option<Drill>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drill {
    pub subject: Subject,
    pub name: String,
    pub metric: Metric,
    pub figure: String,
    pub basis: String,
    pub items: Vec<Item>,
}

/// Rows for a CSV or spreadsheet: a header and one row per subject.
pub fn table_rows(rows: &[Figures], en: bool) -> Vec<Vec<String>> {
    let mut out = vec![vec![
        if en { "Level" } else { "层级" }.to_string(),
        if en { "Name" } else { "名称" }.to_string(),
        if en { "Belongs to" } else { "所属" }.to_string(),
        Metric::Closure.label(en).to_string(),
        if en { "closed on time / due" } else { "按期办结 / 应办结" }.to_string(),
        Metric::Presence.label(en).to_string(),
        if en { "visits done / required" } else { "实到 / 应到" }.to_string(),
        Metric::Updates.label(en).to_string(),
        if en { "updates" } else { "更新条数" }.to_string(),
        if en { "worker-days" } else { "人·天" }.to_string(),
        if en { "Mean stars" } else { "平均星级" }.to_string(),
        if en { "4–5 stars" } else { "满意(4–5 星)比例" }.to_string(),
        if en { "ratings" } else { "评价条数" }.to_string(),
    ]];
    for f in rows {
        out.push(vec![
            f.subject.kind_label(en).to_string(),
            f.name.clone(),
            f.parent.clone(),
            f.closure.percent(),
            format!("{} / {}", f.closure.num, f.closure.den),
            f.presence.percent(),
            format!("{} / {}", f.presence.num, f.presence.den),
            f.update_rate(),
            f.updates.to_string(),
            f.worker_days.to_string(),
            f.mean_stars(),
            Ratio { num: f.satisfied, den: f.ratings }.percent(),
            f.ratings.to_string(),
        ]);
    }
    out
}

/// Rows for the drill-down sheet: every item of every metric, with whom it
/// counts for.
pub fn item_rows(items: &[Item], names: &dyn Fn(Subject) -> String, en: bool) -> Vec<Vec<String>> {
    let mut out = vec![vec![
        if en { "Figure" } else { "指标" }.to_string(),
        if en { "Community" } else { "社区" }.to_string(),
        if en { "Grid" } else { "网格" }.to_string(),
        if en { "Grid worker" } else { "网格员" }.to_string(),
        if en { "Time" } else { "时间" }.to_string(),
        if en { "Item" } else { "事项" }.to_string(),
        if en { "Counts as" } else { "计分" }.to_string(),
        if en { "Why" } else { "说明" }.to_string(),
    ]];
    for i in items {
        let counts = match i.metric {
            Metric::Closure | Metric::Presence => if i.score > 0 {
                if en {
                    "done"
                } else {
                    "达标"
                }
            } else if en {
                "missed"
            } else {
                "未达标"
            }
            .to_string(),
            Metric::Updates => "1".to_string(),
            Metric::Satisfaction => format!("{} ★", i.score),
        };
        out.push(vec![
            i.metric.label(en).to_string(),
            names(Subject::Community(i.community)),
            i.grid.map(|g| names(Subject::Grid(g))).unwrap_or_default(),
            i.worker.map(|w| names(Subject::Worker(w))).unwrap_or_default(),
            i.at.clone(),
            i.title.clone(),
            counts,
            i.detail.clone(),
        ]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    fn item(metric: Metric, grid: Option<i64>, worker: Option<i64>, score: u32) -> Item {
        Item {
            metric,
            community: 1,
            grid,
            worker,
            score,
            at: String::new(),
            title: String::new(),
            detail: String::new(),
            link: None,
        }
    }

    #[test]
    fn periods_default_to_thirty_days_and_refuse_nonsense() {
        let today = day("2026-12-02");
        assert_eq!(Period::parse("", "", today), Ok(Period { from: day("2026-11-03"), to: today }));
        assert_eq!(Period::parse("2026-11-01", "2026-11-30", today).unwrap().days().count(), 30);
        assert_eq!(Period::parse("2026-12-01", "2026-11-30", today), Err(ErrorCode::InvalidDateRange));
        assert_eq!(Period::parse("2025-01-01", "2026-11-30", today), Err(ErrorCode::InvalidDateRange));
        assert_eq!(Period::parse("yesterday", "", today), Err(ErrorCode::InvalidDateRange));
        let p = Period::parse("2026-11-25", "2026-12-10", today).unwrap();
        assert_eq!(p.days_until(today), 8);
        assert_eq!(p.days_until(day("2026-11-01")), 0);
        let (a, b) = p.bounds();
        assert_eq!(a, Utc.with_ymd_and_hms(2026, 11, 24, 16, 0, 0).unwrap());
        assert_eq!(b, Utc.with_ymd_and_hms(2026, 12, 10, 16, 0, 0).unwrap());
    }

    #[test]
    fn plans_parse_and_require_only_windows_that_have_passed() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let r = PlanRule::parse(&s(&["1", "2", "3", "4", "5"]), "08:00", "10:00", "2026-11-30", "").unwrap();
        assert_eq!(r.weekdays, 0b0011111);
        assert_eq!((r.start_min, r.end_min), (480, 600));
        assert_eq!(r.describe(false), "周一至周五 08:00–10:00");
        assert_eq!(r.describe(true), "Mon–Fri 08:00–10:00");
        let r2 = PlanRule::parse(&s(&["1", "3"]), "20:00", "24:00", "2026-11-01", "2026-11-30").unwrap();
        assert_eq!(r2.describe(false), "周一、周三 20:00–24:00");
        // bad input
        for (days, a, b, from, until) in [
            (s(&[]), "08:00", "10:00", "2026-11-30", ""),
            (s(&["8"]), "08:00", "10:00", "2026-11-30", ""),
            (s(&["1"]), "10:00", "08:00", "2026-11-30", ""),
            (s(&["1"]), "8 点", "10:00", "2026-11-30", ""),
            (s(&["1"]), "08:00", "10:00", "2026-11-30", "2026-11-01"),
            (s(&["1"]), "08:00", "10:00", "", ""),
        ] {
            assert_eq!(PlanRule::parse(&days, a, b, from, until), Err(ErrorCode::InvalidPlan), "{days:?} {a} {b}");
        }
        // too short a window says so, not the whole list of rules
        assert_eq!(PlanRule::parse(&s(&["1"]), "08:00", "08:05", "2026-11-30", ""), Err(ErrorCode::PlanTooShort));
        // Monday 2026-11-30 .. Wednesday 2026-12-02; now is Wednesday 09:00 Beijing
        let period = Period { from: day("2026-11-28"), to: day("2026-12-02") };
        let now = beijing_at(day("2026-12-02"), parse_clock("09:00").unwrap());
        // Sat/Sun not planned, Mon and Tue done, Wed's window still open
        assert_eq!(r.required_days(&period, now, None), vec![day("2026-11-30"), day("2026-12-01")]);
        let later = beijing_at(day("2026-12-02"), parse_clock("10:00").unwrap());
        assert_eq!(r.required_days(&period, later, None).len(), 3);
        // ended on Tuesday at 09:00: Tuesday's window had not passed
        let ended = beijing_at(day("2026-12-01"), parse_clock("09:00").unwrap());
        assert_eq!(r.required_days(&period, later, Some(ended)), vec![day("2026-11-30")]);
        // the window of a day, in UTC
        assert_eq!(r.window(day("2026-11-30")).0, Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap());
        assert_eq!(r2.window(day("2026-11-30")).1, Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap());
    }

    #[test]
    fn figures_come_from_the_items_and_explain_themselves() {
        let items = vec![
            item(Metric::Closure, Some(10), Some(100), 1),
            item(Metric::Closure, Some(10), Some(100), 0),
            item(Metric::Closure, Some(10), None, 1), // dispatched to a department
            item(Metric::Presence, Some(10), Some(100), 1),
            item(Metric::Presence, Some(10), Some(100), 1),
            item(Metric::Presence, Some(11), Some(101), 0),
            item(Metric::Updates, Some(10), Some(100), 1),
            item(Metric::Updates, Some(11), Some(101), 1),
            item(Metric::Updates, Some(11), Some(101), 1),
            item(Metric::Satisfaction, Some(10), Some(100), 5),
            item(Metric::Satisfaction, Some(10), Some(100), 4),
            item(Metric::Satisfaction, Some(10), None, 2),
        ];
        let info =
            |subject, worker_days| SubjectInfo { subject, name: String::new(), parent: String::new(), worker_days };
        let t = tabulate(
            &items,
            &[
                info(Subject::Community(1), 20),
                info(Subject::Grid(10), 10),
                info(Subject::Worker(100), 10),
                info(Subject::Worker(101), 10),
            ],
        );
        let (c, g, w, w2) = (&t[0], &t[1], &t[2], &t[3]);
        assert_eq!(c.closure, Ratio { num: 2, den: 3 });
        assert_eq!(c.closure.percent(), "66.7%");
        assert_eq!(w.closure.percent(), "50.0%");
        assert_eq!(g.closure, Ratio { num: 2, den: 3 });
        assert_eq!(c.presence.percent(), "66.7%");
        assert_eq!(w.presence.percent(), "100.0%");
        assert_eq!(w2.presence.percent(), "0.0%");
        assert_eq!(c.update_rate(), "0.15");
        assert_eq!(w2.update_rate(), "0.20");
        assert_eq!(w.satisfaction(), "4.5 ★ · 100.0%");
        assert_eq!(c.satisfaction(), "3.7 ★ · 66.7%");
        assert_eq!(Figures { worker_days: 0, ..c.clone() }.update_rate(), "—");
        assert_eq!(Ratio::default().percent(), "—");
        // the drill-down holds exactly the items the figure counted
        for f in &t {
            for m in Metric::ALL {
                let d = drill(&items, f.subject, m);
                match m {
                    Metric::Closure => assert_eq!(d.len() as u32, f.closure.den),
                    Metric::Presence => assert_eq!(d.len() as u32, f.presence.den),
                    Metric::Updates => assert_eq!(d.len() as u32, f.updates),
                    Metric::Satisfaction => {
                        assert_eq!(d.iter().map(|i| i.score).sum::<u32>(), f.stars)
                    }
                }
            }
        }
        let rows = table_rows(&t, false);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].len(), rows[1].len());
        assert_eq!(rows[1][3], "66.7%");
        assert_eq!(rows[1][10], "3.7");
        let names = |s: Subject| s.key();
        let detail = item_rows(&items, &names, true);
        assert_eq!(detail.len(), items.len() + 1);
        assert_eq!(detail[3][3], "");
    }

    #[test]
    fn subjects_round_trip() {
        for s in [Subject::Community(3), Subject::Grid(5), Subject::Worker(12)] {
            assert_eq!(Subject::parse(&s.key()), Some(s));
        }
        assert_eq!(Subject::parse("worker:0"), None);
        assert_eq!(Subject::parse("staff:1"), None);
        assert_eq!(Metric::parse("presence"), Some(Metric::Presence));
    }
}
