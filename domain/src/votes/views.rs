//! What pages and the API show of votes, and the form a vote is made from.

use super::*;

/// "1234567" (0.01 m²) → "12345.67".
pub fn area_text(centi: i64) -> String {
    format!("{}{}.{:02}", if centi < 0 { "-" } else { "" }, centi.abs() / 100, centi.abs() % 100)
}

/// A vote as a resident or staff member sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoteView {
    pub id: i64,
    pub kind: VoteKind,
    pub title: String,
    pub body: String,
    pub options: Vec<String>,
    pub max_choices: i64,
    pub matter: Option<Matter>,
    pub eligibility: Eligibility,
    pub community: String,
    pub building: Option<String>,
    pub secret: bool,
    pub live_results: bool,
    pub deemed_consent: bool,
    pub status: VoteStatus,
    pub starts_at: String,
    pub ends_at: String,
    pub objection_until: Option<String>,
    pub total: Weight,
    pub participated: Weight,
    pub gap: Weight,
    pub ballots: i64,
    pub head_hash: Option<String>,
    /// Per option (1-based order): weight of the ballots choosing it. Empty
    /// when results are not (yet) visible.
    pub results: Vec<Weight>,
    pub decision: Option<Decision>,
}

/// Where the viewer stands in a vote.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum MyStanding {
    /// Not on the roll (not verified, not in scope, or joined after it froze).
    NotOnRoll,
    /// On the roll with co-owners; they have not designated one voter yet.
    NeedsDesignation { key_no: i64, co_owners: Vec<(i64, String)>, mine: Option<i64> },
    /// Someone else votes for this key.
    OtherVoter { key_no: i64, voter: String },
    /// May vote now (or when it opens).
    MayVote { key_no: i64, area: i64 },
    /// Voted: the receipt code, the seq and the choice.
    Voted { key_no: i64, receipt: String, seq: i64, choices: Vec<i64>, channel: String },
}

/// What a receipt check shows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReceiptView {
    pub vote_id: i64,
    pub title: String,
    pub seq: i64,
    /// A secret ballot: `choices` is empty (a receipt that showed the choice
    /// could prove a sold vote).
    pub secret: bool,
    pub choices: Vec<String>,
    pub channel: String,
    pub cast_at: String,
    pub hash: String,
    pub head_hash: String,
    pub ballots: i64,
    /// The whole chain verified from the rules to the head.
    pub chain_ok: bool,
}

/// The staff form for a new vote, as typed.
#[derive(Clone, Debug, Default)]
pub struct VoteForm<'a> {
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// One option per line (polls).
    pub options: &'a str,
    pub max_choices: &'a str,
    pub matter: &'a str,
    pub eligibility: &'a str,
    pub building_id: &'a str,
    pub secret: bool,
    pub live_results: bool,
    pub deemed_consent: bool,
    /// Beijing local time, `2026-11-23T09:00`.
    pub starts_at: &'a str,
    pub ends_at: &'a str,
    pub objection_days: &'a str,
}

/// A vote ready to be stored: every field checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewVote {
    pub kind: VoteKind,
    pub title: String,
    pub body: String,
    pub options: Vec<String>,
    pub max_choices: i64,
    pub matter: Option<Matter>,
    pub eligibility: Eligibility,
    pub building_id: Option<i64>,
    pub secret: bool,
    pub live_results: bool,
    pub deemed_consent: bool,
    /// Unix seconds.
    pub starts_at: i64,
    pub ends_at: i64,
    pub objection_days: i64,
}

impl NewVote {
    /// Longest voting period: 90 days.
    pub const MAX_DAYS: i64 = 90;

    /// Owners' decisions: the three fixed answers, one choice, open ballot,
    /// results only after closing, owners only. Polls: 2–20 options of 1–100
    /// characters, up to that many choices. The vote must end after it starts
    /// and after `now`, within 90 days.
    pub fn parse(f: &VoteForm<'_>, now: i64) -> Result<NewVote, ErrorCode> {
        let kind = VoteKind::parse(f.kind).ok_or(ErrorCode::InvalidInput)?;
        let title = crate::text::AnnouncementTitle::parse(f.title)?.into_inner();
        let body = crate::text::AnnouncementBody::parse(f.body)?.into_inner();
        let building_id = match f.building_id.trim() {
            "" => None,
            b => Some(b.parse::<i64>().map_err(|_| ErrorCode::InvalidInput)?),
        };
        let starts_at = crate::time::parse_beijing_local(f.starts_at.trim()).ok_or(ErrorCode::InvalidTime)?;
        let ends_at = crate::time::parse_beijing_local(f.ends_at.trim()).ok_or(ErrorCode::InvalidTime)?;
        if ends_at <= starts_at || ends_at <= now || ends_at - starts_at > Self::MAX_DAYS * 86_400 {
            return Err(ErrorCode::InvalidTime);
        }
        let objection_days = match f.objection_days.trim() {
            "" => 7,
            d => d.parse::<i64>().ok().filter(|d| (0..=30).contains(d)).ok_or(ErrorCode::InvalidInput)?,
        };
        match kind {
            VoteKind::Owners => {
                let matter = Matter::parse(f.matter).ok_or(ErrorCode::InvalidInput)?;
                Ok(NewVote {
                    kind,
                    title,
                    body,
                    options: OWNER_OPTIONS.iter().map(|(zh, _)| zh.to_string()).collect(),
                    max_choices: 1,
                    matter: Some(matter),
                    eligibility: Eligibility::Owners,
                    building_id,
                    secret: false,
                    live_results: false,
                    deemed_consent: f.deemed_consent,
                    starts_at,
                    ends_at,
                    objection_days,
                })
            }
            VoteKind::Poll => {
                let options: Vec<String> =
                    f.options.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
                if !(2..=20).contains(&options.len())
                    || options.iter().any(|o| o.chars().count() > 100 || o.chars().any(char::is_control))
                {
                    return Err(ErrorCode::InvalidChoice);
                }
                let max_choices = match f.max_choices.trim() {
                    "" => 1,
                    m => m
                        .parse::<i64>()
                        .ok()
                        .filter(|m| (1..=options.len() as i64).contains(m))
                        .ok_or(ErrorCode::InvalidChoice)?,
                };
                let eligibility = Eligibility::parse(f.eligibility).ok_or(ErrorCode::InvalidInput)?;
                Ok(NewVote {
                    kind,
                    title,
                    body,
                    options,
                    max_choices,
                    matter: None,
                    eligibility,
                    building_id,
                    secret: f.secret,
                    live_results: f.live_results,
                    deemed_consent: false,
                    starts_at,
                    ends_at,
                    objection_days,
                })
            }
        }
    }
}

/// A roll row as staff see it (to enter paper ballots, to follow turnout).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RollRow {
    pub key_no: i64,
    pub label: String,
    pub area: i64,
    pub owners: Vec<String>,
    pub voter: Option<String>,
    pub voted: bool,
    pub pending_paper: bool,
}

/// A paper ballot waiting for a second staff member.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaperView {
    pub id: i64,
    pub key_no: i64,
    pub label: String,
    pub choices: Vec<String>,
    pub note: String,
    pub entered_by: String,
    pub entered_by_me: bool,
    pub entered_at: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffVote {
    /// A secret ballot while open: `roll[].voted` is not shown (turnout only).
    pub participation_hidden: bool,
    pub vote: VoteView,
    pub roll: Vec<RollRow>,
    pub pending: Vec<PaperView>,
    pub chain_ok: bool,
}
