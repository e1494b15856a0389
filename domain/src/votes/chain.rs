//! The ballot chain: the frozen rules and roll hashed first, then every
//! ballot, so that anyone can recount and see that nothing was changed.

use super::*;

/// The frozen rules of a vote, hashed into the chain before the first ballot.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    pub vote_id: i64,
    pub kind: VoteKind,
    pub title: String,
    pub body: String,
    pub options: Vec<String>,
    pub max_choices: i64,
    pub matter: Option<Matter>,
    pub eligibility: Eligibility,
    pub community_id: i64,
    pub building_id: Option<i64>,
    pub secret: bool,
    pub live_results: bool,
    pub deemed_consent: bool,
    pub starts_at: String,
    pub ends_at: String,
    pub total: Weight,
    /// SHA-256 of the roll (`roll_bytes`), hex.
    pub roll_hash: String,
}

pub(super) fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n").replace('\r', "\\r")
}

impl Rules {
    /// Canonical bytes: one `key=value` line per field in a fixed order.
    pub fn canonical(&self) -> String {
        let mut s = String::from("zhsq-vote-rules/1\n");
        let mut line = |k: &str, v: &str| {
            s.push_str(k);
            s.push('=');
            s.push_str(&esc(v));
            s.push('\n');
        };
        line("vote", &self.vote_id.to_string());
        line("kind", self.kind.as_str());
        line("title", &self.title);
        line("body", &self.body);
        for (i, o) in self.options.iter().enumerate() {
            line(&format!("option.{}", i + 1), o);
        }
        line("max_choices", &self.max_choices.to_string());
        line("matter", &self.matter.map(|m| m.item().to_string()).unwrap_or_default());
        line("eligibility", self.eligibility.as_str());
        line("community", &self.community_id.to_string());
        line("building", &self.building_id.map(|b| b.to_string()).unwrap_or_default());
        line("secret", if self.secret { "1" } else { "0" });
        line("live_results", if self.live_results { "1" } else { "0" });
        line("deemed_consent", if self.deemed_consent { "1" } else { "0" });
        line("starts_at", &self.starts_at);
        line("ends_at", &self.ends_at);
        line("total_area", &self.total.area.to_string());
        line("total_count", &self.total.count.to_string());
        line("roll", &self.roll_hash);
        s
    }
}

/// One key of the frozen roll as hashed: key number, area, unit ids, voter.
pub fn roll_bytes(rows: &[(i64, i64, Vec<i64>, Option<i64>)]) -> String {
    let mut s = String::from("zhsq-vote-roll/1\n");
    for (key, area, units, voter) in rows {
        let units: Vec<String> = units.iter().map(|u| u.to_string()).collect();
        s.push_str(&format!("{key}|{area}|{}|{}\n", units.join(","), voter.map(|v| v.to_string()).unwrap_or_default()));
    }
    s
}

/// One ballot as hashed into the chain. A secret ballot has no key.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotRecord {
    pub vote_id: i64,
    pub seq: i64,
    pub key_no: Option<i64>,
    pub area: i64,
    pub choices: Vec<i64>,
    /// "online" or "paper".
    pub channel: String,
    /// SHA-256 (hex) of the voter's receipt code: the chain can be published
    /// without the codes, and a voter finds their ballot by hashing theirs.
    pub receipt_hash: String,
    /// RFC 3339, seconds.
    pub cast_at: String,
}

impl BallotRecord {
    pub fn canonical(&self) -> String {
        let choices: Vec<String> = self.choices.iter().map(|c| c.to_string()).collect();
        format!(
            "zhsq-ballot/1\nvote={}\nseq={}\nkey={}\narea={}\nchoices={}\nchannel={}\nreceipt={}\nat={}\n",
            self.vote_id,
            self.seq,
            self.key_no.map(|k| k.to_string()).unwrap_or_else(|| "-".into()),
            self.area,
            choices.join(","),
            esc(&self.channel),
            esc(&self.receipt_hash),
            esc(&self.cast_at)
        )
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `h_0 = SHA-256(32 zero bytes ‖ rules)`.
pub fn chain_start(rules: &Rules) -> String {
    let mut h = Sha256::new();
    h.update([0u8; 32]);
    h.update(rules.canonical().as_bytes());
    hex::encode(h.finalize())
}

/// `h_i = SHA-256(h_{i-1} ‖ ballot_i)` (the previous hash as raw 32 bytes).
pub fn chain_next(prev_hex: &str, ballot: &BallotRecord) -> Result<String, ErrorCode> {
    let prev = hex::decode(prev_hex).map_err(|_| ErrorCode::Internal)?;
    if prev.len() != 32 {
        return Err(ErrorCode::Internal);
    }
    let mut h = Sha256::new();
    h.update(&prev);
    h.update(ballot.canonical().as_bytes());
    Ok(hex::encode(h.finalize()))
}

/// Why a chain does not verify.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChainFault {
    /// The first ballot does not follow the rules' hash.
    RulesChanged,
    /// Ballot `seq` is out of order (missing or duplicated).
    Gap { seq: i64 },
    /// Ballot `seq` does not hash to what is stored.
    Altered { seq: i64 },
}

/// Recomputes the whole chain: `(ballot, stored prev, stored hash)` in order.
/// Returns the head hash when every link holds.
pub fn verify_chain(rules: &Rules, ballots: &[(BallotRecord, String, String)]) -> Result<String, ChainFault> {
    let mut head = chain_start(rules);
    for (i, (b, prev, hash)) in ballots.iter().enumerate() {
        if b.seq != i as i64 + 1 {
            return Err(ChainFault::Gap { seq: i as i64 + 1 });
        }
        if *prev != head {
            return Err(if i == 0 { ChainFault::RulesChanged } else { ChainFault::Altered { seq: b.seq - 1 } });
        }
        let h = chain_next(&head, b).map_err(|_| ChainFault::Altered { seq: b.seq })?;
        if h != *hash {
            return Err(ChainFault::Altered { seq: b.seq });
        }
        head = h;
    }
    Ok(head)
}
