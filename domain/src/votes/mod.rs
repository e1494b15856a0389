//! Votes: community polls (协商议事) and owners' decisions under Civil Code
//! Art. 278 (业主共同决定), computed exactly as in rules.md §1.
//!
//! Everything here is integer arithmetic: areas in 0.01 m², counts of owner
//! keys. The tally never looks at who voted, only at the weights of the
//! ballots. The ballot chain (`chain_*`) makes the record tamper-evident:
//! `h_0 = SHA-256(32 zero bytes ‖ rules)`, `h_i = SHA-256(h_{i-1} ‖ ballot_i)`.

mod chain;
mod views;
pub use chain::*;
pub use views::*;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::ErrorCode;

/// What is being decided.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum VoteKind {
    /// 协商议事 poll: one person one vote, configurable rules, advisory.
    Poll,
    /// 业主共同决定 (Art. 278): one ballot per owner key, area and head count.
    Owners,
}

impl VoteKind {
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Self::Poll, false) => "议事投票",
            (Self::Poll, true) => "Community poll",
            (Self::Owners, false) => "业主共同决定",
            (Self::Owners, true) => "Owners' decision",
        }
    }
}

/// The matters of Civil Code Art. 278 (items 1–9). Items 6–8 are special
/// matters with the three-quarters thresholds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Matter {
    ProcedureRules,
    ManagementRules,
    Committee,
    PropertyCompany,
    UseFund,
    RaiseFund,
    Rebuild,
    CommonParts,
    OtherMajor,
}

impl Matter {
    pub const ALL: [Matter; 9] = [
        Matter::ProcedureRules,
        Matter::ManagementRules,
        Matter::Committee,
        Matter::PropertyCompany,
        Matter::UseFund,
        Matter::RaiseFund,
        Matter::Rebuild,
        Matter::CommonParts,
        Matter::OtherMajor,
    ];
    /// The item number in Art. 278 (1–9).
    pub fn item(self) -> u8 {
        Self::ALL.iter().position(|m| *m == self).map(|p| p as u8 + 1).unwrap_or(9)
    }
    pub fn from_item(n: i64) -> Option<Self> {
        (1..=9).contains(&n).then(|| Self::ALL[(n - 1) as usize])
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::from_item(s.trim().parse().ok()?)
    }
    /// Items 6–8: raise the maintenance fund, rebuild, change the use of
    /// common parts or run business in them.
    pub fn is_special(self) -> bool {
        matches!(self, Matter::RaiseFund | Matter::Rebuild | Matter::CommonParts)
    }
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Self::ProcedureRules, false) => "制定和修改业主大会议事规则",
            (Self::ManagementRules, false) => "制定和修改管理规约",
            (Self::Committee, false) => "选举业主委员会或者更换业主委员会成员",
            (Self::PropertyCompany, false) => "选聘和解聘物业服务企业或者其他管理人",
            (Self::UseFund, false) => "使用建筑物及其附属设施的维修资金",
            (Self::RaiseFund, false) => "筹集建筑物及其附属设施的维修资金",
            (Self::Rebuild, false) => "改建、重建建筑物及其附属设施",
            (Self::CommonParts, false) => "改变共有部分的用途或者利用共有部分从事经营活动",
            (Self::OtherMajor, false) => "有关共有和共同管理权利的其他重大事项",
            (Self::ProcedureRules, true) => "Make or amend the owners' assembly procedure rules",
            (Self::ManagementRules, true) => "Make or amend the management statute",
            (Self::Committee, true) => "Elect or replace the owners' committee",
            (Self::PropertyCompany, true) => "Hire or dismiss the property company or other manager",
            (Self::UseFund, true) => "Use the maintenance fund",
            (Self::RaiseFund, true) => "Raise the maintenance fund",
            (Self::Rebuild, true) => "Alter or rebuild the buildings and facilities",
            (Self::CommonParts, true) => "Change the use of common parts or run business in them",
            (Self::OtherMajor, true) => "Other major matters of common ownership and management",
        }
    }
    /// The thresholds in words, as shown on the ballot.
    pub fn rule_text(self, en: bool) -> &'static str {
        match (self.is_special(), en) {
            (true, false) => "须专有部分面积占比三分之二以上且人数占比三分之二以上的业主参与表决,并经参与表决专有部分面积四分之三以上且参与表决人数四分之三以上的业主同意(民法典第二百七十八条)。",
            (false, false) => "须专有部分面积占比三分之二以上且人数占比三分之二以上的业主参与表决,并经参与表决专有部分面积过半数且参与表决人数过半数的业主同意(民法典第二百七十八条)。",
            (true, true) => "At least two thirds of the area and two thirds of the owners must take part, and at least three quarters of the participating area and of the participating owners must agree (Civil Code Art. 278).",
            (false, true) => "At least two thirds of the area and two thirds of the owners must take part, and more than half of the participating area and of the participating owners must agree (Civil Code Art. 278).",
        }
    }
}

/// Who may vote in a poll.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum Eligibility {
    /// Verified residents (owners, co-owners, tenants, family members).
    Residents,
    /// Verified owners and co-owners only.
    Owners,
}

impl Eligibility {
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Self::Residents, false) => "已认证居民",
            (Self::Residents, true) => "Verified residents",
            (Self::Owners, false) => "已认证业主",
            (Self::Owners, true) => "Verified owners",
        }
    }
}

#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum VoteStatus {
    /// Made, not yet open: rules may still change.
    Draft,
    /// Open: the roll and the rules are frozen in the chain.
    Open,
    /// Closed: the result is computed and published.
    Closed,
    /// Withdrawn before it opened.
    Cancelled,
}

impl VoteStatus {
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Self::Draft, false) => "未开始",
            (Self::Draft, true) => "Not open yet",
            (Self::Open, false) => "投票中",
            (Self::Open, true) => "Open",
            (Self::Closed, false) => "已结束",
            (Self::Closed, true) => "Closed",
            (Self::Cancelled, false) => "已撤销",
            (Self::Cancelled, true) => "Cancelled",
        }
    }
}

/// The three answers of an owners' decision, as option numbers 1–3.
pub const OWNER_OPTIONS: [(&str, &str); 3] = [("同意", "Yes"), ("反对", "No"), ("弃权", "Abstain")];
pub const YES: i64 = 1;
pub const NO: i64 = 2;
pub const ABSTAIN: i64 = 3;

/// Area (0.01 m²) and head count: the two weights of Art. 278.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weight {
    pub area: i64,
    pub count: i64,
}

impl std::ops::Add for Weight {
    type Output = Weight;
    fn add(self, o: Weight) -> Weight {
        Weight { area: self.area + o.area, count: self.count + o.count }
    }
}

impl std::ops::Sub for Weight {
    type Output = Weight;
    fn sub(self, o: Weight) -> Weight {
        Weight { area: self.area - o.area, count: self.count - o.count }
    }
}

/// What the ballots add up to, for an owners' decision.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerTally {
    /// `A`, `N`: everything on the frozen roll.
    pub total: Weight,
    /// `A_p`, `N_p`: keys with a valid ballot (yes, no and abstain).
    pub participated: Weight,
    /// `Y_A`, `Y_N`.
    pub yes: Weight,
    pub no: Weight,
    pub abstain: Weight,
}

/// The outcome of an owners' decision and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub quorum_area: bool,
    pub quorum_count: bool,
    pub majority_area: bool,
    pub majority_count: bool,
    /// Non-voters deemed to consent (only with the rule switched on; never
    /// part of the quorum).
    pub deemed: Weight,
    pub passed: bool,
}

/// Rules.md §1, in integer arithmetic:
/// quorum `3·A_p ≥ 2·A` and `3·N_p ≥ 2·N`; special matters `4·Y ≥ 3·P`
/// (area and count); ordinary matters `2·Y > P` (strictly more than half).
///
/// With `deemed_consent` (a local rule, off by default) the keys that did not
/// vote are counted as consenting in the majority test, which then runs over
/// the whole roll; the quorum is always computed from real ballots only.
pub fn decide(matter: Matter, t: &OwnerTally, deemed_consent: bool) -> Decision {
    let (a, n) = (t.total.area as i128, t.total.count as i128);
    let (ap, np) = (t.participated.area as i128, t.participated.count as i128);
    let quorum_area = 3 * ap >= 2 * a;
    let quorum_count = 3 * np >= 2 * n && n > 0;
    let deemed = if deemed_consent { t.total - t.participated } else { Weight::default() };
    let (ya, yn) = ((t.yes.area + deemed.area) as i128, (t.yes.count + deemed.count) as i128);
    let (pa, pn) = ((t.participated.area + deemed.area) as i128, (t.participated.count + deemed.count) as i128);
    let (majority_area, majority_count) =
        if matter.is_special() { (4 * ya >= 3 * pa, 4 * yn >= 3 * pn) } else { (2 * ya > pa, 2 * yn > pn) };
    let passed = quorum_area && quorum_count && majority_area && majority_count;
    Decision { quorum_area, quorum_count, majority_area, majority_count, deemed, passed }
}

/// How far the ballots are from the quorum: "still needs N owners and M m²".
/// Never reveals any choice.
pub fn quorum_gap(total: Weight, participated: Weight) -> Weight {
    let need_area = (2 * total.area as i128 + 2) / 3; // ceil(2A/3)
    let need_count = (2 * total.count as i128 + 2) / 3;
    Weight {
        area: (need_area - participated.area as i128).max(0) as i64,
        count: (need_count - participated.count as i128).max(0) as i64,
    }
}

/// A unit's area for Art. 278: registered, else surveyed, else contract.
pub fn effective_area(registered: Option<i64>, surveyed: Option<i64>, contract: Option<i64>) -> Option<i64> {
    [registered, surveyed, contract].into_iter().flatten().find(|a| *a > 0)
}

/// One unit (专有部分) in scope, with the people registered as its owners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitOwners {
    pub unit: i64,
    pub area: i64,
    /// Registered owners and co-owners (user ids).
    pub owners: Vec<i64>,
    /// Unsold or undelivered: held by the developer.
    pub developer: bool,
}

/// One owner key of the roll: a set of units that count as one owner.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerKey {
    /// 1-based, in order of the smallest unit id.
    pub key_no: i64,
    pub units: Vec<i64>,
    pub area: i64,
    pub owners: Vec<i64>,
    pub developer: bool,
}

/// Groups units into owner keys (司法解释 Art. 9): co-owners of one unit are
/// one key; all units of one buyer are one key (their areas add up); all of
/// the developer's unsold or undelivered units are one key. Shared owners
/// join keys transitively (A and B own unit 1, A owns unit 2: one key). A
/// unit with no registered owner is a key of its own (it can vote on paper).
pub fn owner_keys(units: &[UnitOwners]) -> Vec<OwnerKey> {
    let mut order: Vec<&UnitOwners> = units.iter().collect();
    order.sort_by_key(|u| u.unit);
    let n = order.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    fn union(p: &mut [usize], a: usize, b: usize) {
        let (ra, rb) = (find(p, a), find(p, b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            p[hi] = lo;
        }
    }
    let mut first_of_owner: BTreeMap<i64, usize> = BTreeMap::new();
    let mut developer: Option<usize> = None;
    for (i, u) in order.iter().enumerate() {
        if u.developer {
            match developer {
                Some(d) => union(&mut parent, d, i),
                None => developer = Some(i),
            }
            continue;
        }
        for o in &u.owners {
            match first_of_owner.get(o) {
                Some(&j) => union(&mut parent, j, i),
                None => {
                    first_of_owner.insert(*o, i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, OwnerKey> = BTreeMap::new();
    for (i, u) in order.iter().enumerate() {
        let root = find(&mut parent, i);
        let k = groups.entry(root).or_insert_with(|| OwnerKey {
            key_no: 0,
            units: vec![],
            area: 0,
            owners: vec![],
            developer: false,
        });
        k.units.push(u.unit);
        k.area += u.area;
        k.developer |= u.developer;
        if !u.developer {
            k.owners.extend(u.owners.iter().copied());
        }
    }
    // roots are the smallest index of their group, so BTreeMap order is unit order
    groups
        .into_values()
        .enumerate()
        .map(|(i, mut k)| {
            k.key_no = i as i64 + 1;
            k.owners.sort_unstable();
            k.owners.dedup();
            k
        })
        .collect()
}

/// The voter of a key: the only registered owner, or the one all co-owners
/// have designated; `None` until they have (or for a key with no one
/// registered, which can vote on paper only).
pub fn designated_voter(owners: &[i64], designations: &[(i64, i64)]) -> Option<i64> {
    match owners {
        [only] => Some(*only),
        [] => None,
        _ => {
            let first = designations.iter().find(|(by, _)| owners.contains(by)).map(|(_, to)| *to)?;
            let all_agree = owners.iter().all(|o| designations.iter().any(|(by, to)| by == o && *to == first));
            (all_agree && owners.contains(&first)).then_some(first)
        }
    }
}

/// Parses the chosen options of a ballot: 1-based option numbers, each at
/// most once, between 1 and `max` of them, all below `options`.
pub fn parse_choices(raw: &[String], options: usize, max: usize) -> Result<Vec<i64>, ErrorCode> {
    let mut out: Vec<i64> = vec![];
    for r in raw {
        let n: i64 = r.trim().parse().map_err(|_| ErrorCode::InvalidChoice)?;
        if n < 1 || n as usize > options {
            return Err(ErrorCode::InvalidChoice);
        }
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out.sort_unstable();
    if out.is_empty() || out.len() > max.max(1) {
        return Err(ErrorCode::InvalidChoice);
    }
    Ok(out)
}

/// A paper ballot typed in by one staff member, waiting for a second to
/// confirm it (four eyes) or reject it.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum PaperStatus {
    Pending,
    Confirmed,
    Rejected,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn w(area: i64, count: i64) -> Weight {
        Weight { area, count }
    }

    fn tally(total: Weight, yes: Weight, no: Weight, abstain: Weight) -> OwnerTally {
        OwnerTally { total, participated: yes + no + abstain, yes, no, abstain }
    }

    #[test]
    fn exactly_two_thirds_participation_is_a_quorum() {
        // 30 keys, 3000.00 m²: 20 keys and 2000.00 m² take part.
        let t = tally(w(300_000, 30), w(200_000, 20), w(0, 0), w(0, 0));
        let d = decide(Matter::OtherMajor, &t, false);
        assert!(d.quorum_area && d.quorum_count && d.passed);
        // one hundredth of a m² less: no quorum
        let t = tally(w(300_000, 30), w(199_999, 20), w(0, 0), w(0, 0));
        assert!(!decide(Matter::OtherMajor, &t, false).quorum_area);
        let t = tally(w(300_000, 30), w(200_000, 19), w(0, 1), w(0, 0));
        assert!(decide(Matter::OtherMajor, &t, false).quorum_count);
        let t = tally(w(300_000, 30), w(200_000, 19), w(0, 0), w(0, 0));
        assert!(!decide(Matter::OtherMajor, &t, false).quorum_count);
    }

    #[test]
    fn exactly_half_yes_fails_an_ordinary_matter() {
        let t = tally(w(1000, 10), w(500, 5), w(500, 5), w(0, 0));
        let d = decide(Matter::PropertyCompany, &t, false);
        assert!(d.quorum_area && d.quorum_count);
        assert!(!d.majority_area && !d.majority_count && !d.passed);
        // one more hundredth of a m² and one more key: passes
        let t = tally(w(1001, 11), w(501, 6), w(500, 5), w(0, 0));
        assert!(decide(Matter::PropertyCompany, &t, false).passed);
    }

    #[test]
    fn abstentions_count_for_participation_not_for_yes() {
        let t = tally(w(900, 9), w(400, 4), w(100, 1), w(400, 4));
        let d = decide(Matter::Committee, &t, false);
        assert!(d.quorum_area && d.quorum_count);
        assert!(!d.passed, "4 of 9 participating is not more than half");
    }

    #[test]
    fn exactly_three_quarters_passes_a_special_matter() {
        let t = tally(w(400, 4), w(300, 3), w(100, 1), w(0, 0));
        let d = decide(Matter::RaiseFund, &t, false);
        assert!(d.passed);
        let t = tally(w(400, 4), w(299, 3), w(101, 1), w(0, 0));
        assert!(!decide(Matter::RaiseFund, &t, false).passed);
        // the same ballots pass an ordinary matter
        assert!(decide(Matter::UseFund, &t, false).passed);
        assert!(Matter::Rebuild.is_special() && Matter::CommonParts.is_special() && !Matter::UseFund.is_special());
    }

    #[test]
    fn deemed_consent_never_makes_a_quorum() {
        // 5 of 10 took part (no quorum) — deemed consent cannot help.
        let t = tally(w(1000, 10), w(500, 5), w(0, 0), w(0, 0));
        let d = decide(Matter::OtherMajor, &t, true);
        assert!(!d.passed && !d.quorum_area);
        // with a quorum and a narrow "no" among voters, deemed consent tips it
        let t = tally(w(900, 9), w(200, 2), w(400, 4), w(0, 0));
        assert!(!decide(Matter::OtherMajor, &t, false).passed);
        let d = decide(Matter::OtherMajor, &t, true);
        assert_eq!(d.deemed, w(300, 3));
        assert!(d.passed);
    }

    #[test]
    fn empty_roll_never_passes() {
        assert!(!decide(Matter::OtherMajor, &OwnerTally::default(), false).passed);
    }

    #[test]
    fn gap_to_quorum() {
        assert_eq!(quorum_gap(w(300_000, 30), w(0, 0)), w(200_000, 20));
        assert_eq!(quorum_gap(w(100, 10), w(10, 3)), w(57, 4)); // ceil(200/3)=67, ceil(20/3)=7
        assert_eq!(quorum_gap(w(100, 10), w(100, 10)), w(0, 0));
    }

    #[test]
    fn keys_follow_the_interpretation() {
        let u = |unit, area, owners: &[i64], developer| UnitOwners { unit, area, owners: owners.to_vec(), developer };
        let keys = owner_keys(&[
            u(1, 100, &[10, 11], false), // co-owners: one key
            u(2, 200, &[10], false),     // same buyer as unit 1: joins it
            u(3, 300, &[], true),        // developer
            u(4, 400, &[], true),        // developer: same key
            u(5, 500, &[], false),       // nobody registered: own key
            u(6, 600, &[12], false),
            u(7, 700, &[12], false), // multi-unit owner
        ]);
        assert_eq!(keys.len(), 4);
        assert_eq!((keys[0].units.clone(), keys[0].area, keys[0].owners.clone()), (vec![1, 2], 300, vec![10, 11]));
        assert_eq!((keys[1].units.clone(), keys[1].area, keys[1].developer), (vec![3, 4], 700, true));
        assert_eq!((keys[2].units.clone(), keys[2].owners.clone()), (vec![5], vec![]));
        assert_eq!((keys[3].units.clone(), keys[3].area), (vec![6, 7], 1300));
        assert_eq!(keys.iter().map(|k| k.key_no).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    }

    #[test]
    fn designation_needs_every_co_owner() {
        assert_eq!(designated_voter(&[7], &[]), Some(7));
        assert_eq!(designated_voter(&[], &[]), None);
        assert_eq!(designated_voter(&[7, 8], &[(7, 8)]), None);
        assert_eq!(designated_voter(&[7, 8], &[(7, 8), (8, 8)]), Some(8));
        assert_eq!(designated_voter(&[7, 8], &[(7, 7), (8, 8)]), None);
        assert_eq!(designated_voter(&[7, 8], &[(7, 9), (8, 9)]), None, "only a co-owner can be designated");
    }

    #[test]
    fn vote_forms_are_checked() {
        let now = crate::time::parse_beijing_local("2026-11-23T08:00").unwrap();
        let base = VoteForm {
            kind: "owners",
            title: "续聘物业",
            body: "背景材料",
            matter: "4",
            starts_at: "2026-11-23T09:00",
            ends_at: "2026-11-30T18:00",
            deemed_consent: false,
            ..Default::default()
        };
        let v = NewVote::parse(&base, now).unwrap();
        assert_eq!(
            (v.kind, v.matter, v.options.len(), v.max_choices, v.secret),
            (VoteKind::Owners, Some(Matter::PropertyCompany), 3, 1, false)
        );
        assert_eq!(v.objection_days, 7);
        assert_eq!(NewVote::parse(&VoteForm { matter: "10", ..base.clone() }, now), Err(ErrorCode::InvalidInput));
        assert_eq!(
            NewVote::parse(&VoteForm { ends_at: "2026-11-23T09:00", ..base.clone() }, now),
            Err(ErrorCode::InvalidTime)
        );
        assert_eq!(
            NewVote::parse(&VoteForm { ends_at: "2027-03-01T09:00", ..base.clone() }, now),
            Err(ErrorCode::InvalidTime)
        );
        let poll = VoteForm {
            kind: "poll",
            options: "周六上午\n\n 周日下午 \n",
            max_choices: "2",
            eligibility: "residents",
            secret: true,
            ..base.clone()
        };
        let p = NewVote::parse(&poll, now).unwrap();
        assert_eq!(
            (p.options.clone(), p.max_choices, p.secret, p.matter),
            (vec!["周六上午".to_string(), "周日下午".to_string()], 2, true, None)
        );
        assert_eq!(NewVote::parse(&VoteForm { max_choices: "3", ..poll.clone() }, now), Err(ErrorCode::InvalidChoice));
        assert_eq!(
            NewVote::parse(&VoteForm { options: "只有一个", ..poll.clone() }, now),
            Err(ErrorCode::InvalidChoice)
        );
        assert_eq!(NewVote::parse(&VoteForm { title: "", ..poll }, now), Err(ErrorCode::InvalidTitle));
    }

    #[test]
    fn areas_come_from_the_best_source() {
        assert_eq!(effective_area(Some(8950), Some(9000), Some(9100)), Some(8950));
        assert_eq!(effective_area(None, Some(9000), Some(9100)), Some(9000));
        assert_eq!(effective_area(None, None, Some(9100)), Some(9100));
        assert_eq!(effective_area(None, None, None), None);
        assert_eq!(area_text(895_050), "8950.50");
    }

    #[test]
    fn choices_are_parsed_strictly() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_choices(&s(&["2"]), 3, 1), Ok(vec![2]));
        assert_eq!(parse_choices(&s(&["3", "1", "3"]), 3, 2), Ok(vec![1, 3]));
        assert_eq!(parse_choices(&s(&["1", "2"]), 3, 1), Err(ErrorCode::InvalidChoice));
        assert_eq!(parse_choices(&s(&["4"]), 3, 1), Err(ErrorCode::InvalidChoice));
        assert_eq!(parse_choices(&s(&["0"]), 3, 1), Err(ErrorCode::InvalidChoice));
        assert_eq!(parse_choices(&s(&[]), 3, 1), Err(ErrorCode::InvalidChoice));
        assert_eq!(parse_choices(&s(&["x"]), 3, 1), Err(ErrorCode::InvalidChoice));
    }

    fn rules() -> Rules {
        Rules {
            vote_id: 1,
            kind: VoteKind::Owners,
            title: "更换物业\n公司".into(),
            body: "背景".into(),
            options: OWNER_OPTIONS.iter().map(|(z, _)| z.to_string()).collect(),
            max_choices: 1,
            matter: Some(Matter::PropertyCompany),
            eligibility: Eligibility::Owners,
            community_id: 2,
            building_id: None,
            secret: false,
            live_results: false,
            deemed_consent: false,
            starts_at: "2026-11-23T00:00:00+00:00".into(),
            ends_at: "2026-11-30T00:00:00+00:00".into(),
            total: w(1000, 10),
            roll_hash: sha256_hex(roll_bytes(&[(1, 1000, vec![5], Some(9))]).as_bytes()),
        }
    }

    fn ballot(seq: i64, choice: i64) -> BallotRecord {
        BallotRecord {
            vote_id: 1,
            seq,
            key_no: Some(seq),
            area: 100,
            choices: vec![choice],
            channel: "online".into(),
            receipt_hash: format!("R{seq}"),
            cast_at: "2026-11-23T01:00:00+00:00".into(),
        }
    }

    fn chain(n: i64) -> Vec<(BallotRecord, String, String)> {
        let mut head = chain_start(&rules());
        (1..=n)
            .map(|i| {
                let b = ballot(i, 1 + i % 3);
                let h = chain_next(&head, &b).unwrap();
                let row = (b, head.clone(), h.clone());
                head = h;
                row
            })
            .collect()
    }

    #[test]
    fn the_chain_catches_every_change() {
        let c = chain(5);
        assert_eq!(verify_chain(&rules(), &c), Ok(c[4].2.clone()));
        assert_eq!(verify_chain(&rules(), &[]), Ok(chain_start(&rules())));
        // a changed choice
        let mut bad = c.clone();
        bad[2].0.choices = vec![3];
        assert_eq!(verify_chain(&rules(), &bad), Err(ChainFault::Altered { seq: 3 }));
        // a removed ballot
        let mut bad = c.clone();
        bad.remove(1);
        assert_eq!(verify_chain(&rules(), &bad), Err(ChainFault::Gap { seq: 2 }));
        // rules changed after the first ballot
        let mut r = rules();
        r.deemed_consent = true;
        assert_eq!(verify_chain(&r, &c), Err(ChainFault::RulesChanged));
        // a rewritten tail with recomputed hashes still cannot hide a changed middle
        let mut bad = c.clone();
        bad[1].0.choices = vec![2];
        bad[1].2 = chain_next(&bad[1].1, &bad[1].0).unwrap();
        assert_eq!(verify_chain(&rules(), &bad), Err(ChainFault::Altered { seq: 2 }));
        // newlines in text cannot forge a field
        assert!(rules().canonical().contains("title=更换物业\\n公司\n"));
    }

    proptest! {
        /// The decision equals the rule read literally with rationals.
        #[test]
        fn decide_matches_the_rationals(
            a in 1i64..10_000_000, n in 1i64..5_000,
            pa_num in 0u32..=1000, pn_num in 0u32..=1000,
            ya_num in 0u32..=1000, yn_num in 0u32..=1000,
            special in any::<bool>(),
        ) {
            let ap = a * pa_num as i64 / 1000;
            let np = n * pn_num as i64 / 1000;
            let ya = ap * ya_num as i64 / 1000;
            let yn = np * yn_num as i64 / 1000;
            let t = OwnerTally { total: w(a, n), participated: w(ap, np), yes: w(ya, yn), no: w(ap - ya, np - yn), abstain: w(0, 0) };
            let matter = if special { Matter::Rebuild } else { Matter::OtherMajor };
            let d = decide(matter, &t, false);
            let frac = |x: i64, y: i64| x as f64 / y as f64;
            // exact comparisons through cross-multiplication in f64 are safe at these sizes
            prop_assert_eq!(d.quorum_area, (ap as f64) * 3.0 >= (a as f64) * 2.0);
            prop_assert_eq!(d.quorum_count, (np as f64) * 3.0 >= (n as f64) * 2.0);
            if special {
                prop_assert_eq!(d.majority_area, (ya as f64) * 4.0 >= (ap as f64) * 3.0);
                prop_assert_eq!(d.majority_count, (yn as f64) * 4.0 >= (np as f64) * 3.0);
            } else {
                prop_assert_eq!(d.majority_area, ap > 0 && frac(ya, ap) > 0.5);
                prop_assert_eq!(d.majority_count, np > 0 && frac(yn, np) > 0.5);
            }
            prop_assert_eq!(d.passed, d.quorum_area && d.quorum_count && d.majority_area && d.majority_count);
            // the gap is exactly what the quorum still needs
            let g = quorum_gap(t.total, t.participated);
            prop_assert_eq!(g.area == 0, d.quorum_area);
            prop_assert_eq!(g.count == 0, d.quorum_count);
            if g.area > 0 {
                let more = OwnerTally { participated: w(ap + g.area, np), ..t };
                prop_assert!(decide(matter, &more, false).quorum_area);
                let less = OwnerTally { participated: w(ap + g.area - 1, np), ..t };
                prop_assert!(!decide(matter, &less, false).quorum_area);
            }
        }

        /// Boundaries: at exactly 2/3 participation, exactly 1/2 yes, exactly 3/4 yes.
        #[test]
        fn boundaries(k in 1i64..100_000, m in 1i64..1_000) {
            // A = 3k, N = 3m: exactly 2/3 take part
            let t = |ya: i64, yn: i64| OwnerTally { total: w(3 * k, 3 * m), participated: w(2 * k, 2 * m), yes: w(ya, yn), no: w(2 * k - ya, 2 * m - yn), abstain: w(0, 0) };
            prop_assert!(decide(Matter::OtherMajor, &t(2 * k, 2 * m), false).passed);
            // exactly half yes fails an ordinary matter
            prop_assert!(!decide(Matter::OtherMajor, &t(k, m), false).passed);
            prop_assert!(!decide(Matter::OtherMajor, &t(k + 1, m), false).passed);
            prop_assert!(decide(Matter::OtherMajor, &t(k + 1, m + 1), false).passed);
            // 2/3 less one hundredth of a m² is no quorum
            let short = OwnerTally { participated: w(2 * k - 1, 2 * m), ..t(2 * k - 1, 2 * m) };
            prop_assert!(!decide(Matter::OtherMajor, &short, false).passed);
            // exactly 3/4 of those taking part (P = 4k, 4m) passes a special matter
            let s = |ya: i64, yn: i64| OwnerTally { total: w(6 * k, 6 * m), participated: w(4 * k, 4 * m), yes: w(ya, yn), no: w(4 * k - ya, 4 * m - yn), abstain: w(0, 0) };
            prop_assert!(decide(Matter::CommonParts, &s(3 * k, 3 * m), false).passed);
            prop_assert!(!decide(Matter::CommonParts, &s(3 * k - 1, 3 * m), false).passed);
            prop_assert!(!decide(Matter::CommonParts, &s(3 * k, 3 * m - 1), false).passed);
        }

        /// Keys partition the units; areas add up; every owner is in one key.
        #[test]
        fn keys_partition_units(units in proptest::collection::vec((1i64..100_000, proptest::collection::vec(0i64..20, 0..3), any::<bool>()), 0..60)) {
            let units: Vec<UnitOwners> = units.into_iter().enumerate().map(|(i, (area, owners, dev))| UnitOwners { unit: i as i64 + 1, area, owners, developer: dev && i % 5 == 0 }).collect();
            let keys = owner_keys(&units);
            let mut seen: Vec<i64> = keys.iter().flat_map(|k| k.units.clone()).collect();
            seen.sort_unstable();
            prop_assert_eq!(seen, units.iter().map(|u| u.unit).collect::<Vec<_>>());
            prop_assert_eq!(keys.iter().map(|k| k.area).sum::<i64>(), units.iter().map(|u| u.area).sum::<i64>());
            prop_assert!(keys.iter().filter(|k| k.developer).count() <= 1);
            for o in 0..20 {
                prop_assert!(keys.iter().filter(|k| k.owners.contains(&o)).count() <= 1);
            }
        }
    }
}
