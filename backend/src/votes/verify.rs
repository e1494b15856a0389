//! Checking the count: the chain verified, a receipt looked up, the
//! chain and the frozen roll published for anyone to recount.

use super::*;

pub(super) fn parse_list(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|c| c.parse().ok()).collect()
}

/// Loads a vote's ballots in chain order and recomputes the chain.
pub(super) async fn verify(state: &State, v: &vote::Model) -> AppResult<(bool, Vec<ballot::Model>)> {
    let ballots = ballot::Entity::find()
        .filter(ballot::Column::VoteId.eq(v.id))
        .order_by_asc(ballot::Column::Seq)
        .all(&state.db)
        .await?;
    let ok = match &v.rules_text {
        None => ballots.is_empty(),
        Some(rules) => {
            let records: Vec<(BallotRecord, String, String)> =
                ballots.iter().map(|b| (record_of(b), b.prev_hash.clone(), b.hash.clone())).collect();
            verify_text(rules, &records).as_deref() == Some(v.head_hash.as_deref().unwrap_or(""))
        }
    };
    Ok((ok, ballots))
}

pub(super) fn record_of(b: &ballot::Model) -> BallotRecord {
    BallotRecord {
        vote_id: b.vote_id,
        seq: b.seq,
        key_no: b.key_no,
        area: b.area,
        choices: parse_list(&b.choices),
        channel: b.channel.clone(),
        receipt_hash: dv::sha256_hex(b.receipt.as_bytes()),
        cast_at: b.cast_at.clone(),
    }
}

/// Verifies a chain against the stored canonical rules text.
pub(super) fn verify_text(rules_text: &str, ballots: &[(BallotRecord, String, String)]) -> Option<String> {
    let mut head = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update([0u8; 32]);
        h.update(rules_text.as_bytes());
        hex::encode(h.finalize())
    };
    for (i, (b, prev, hash)) in ballots.iter().enumerate() {
        if b.seq != i as i64 + 1 || *prev != head {
            return None;
        }
        let h = dv::chain_next(&head, b).ok()?;
        if h != *hash {
            return None;
        }
        head = h;
    }
    Some(head)
}

/// Anyone holding a receipt code checks that their ballot is in the chain
/// and that the chain holds from the rules to the head.
pub async fn receipt(state: &State, code: &str) -> AppResult<ReceiptView> {
    let code = normalize_receipt_code(code).ok_or(ErrorCode::NotFound)?;
    let b = ballot::Entity::find()
        .filter(ballot::Column::Receipt.eq(code))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let (v, _) = load(state, b.vote_id).await?;
    let (ok, ballots) = verify(state, &v).await?;
    let options = options_of(&v);
    Ok(ReceiptView {
        vote_id: v.id,
        title: v.title.clone(),
        seq: b.seq,
        // a secret ballot's receipt proves it was counted, never how it was
        // cast: a receipt that showed the choice could be sold with the vote
        secret: v.secret,
        choices: if v.secret {
            vec![]
        } else {
            parse_list(&b.choices)
                .into_iter()
                .map(|c| options.get((c as usize).wrapping_sub(1)).cloned().unwrap_or_default())
                .collect()
        },
        channel: b.channel.clone(),
        cast_at: b.cast_at.clone(),
        hash: b.hash.clone(),
        head_hash: v.head_hash.clone().unwrap_or_default(),
        ballots: ballots.len() as i64,
        chain_ok: ok,
    })
}

/// The published chain: the rules text and every ballot as hashed (receipt
/// codes replaced by their SHA-256).
///
/// While the vote is open only what shows that nothing is changed is
/// published: each ballot's sequence number, receipt hash, previous hash and
/// hash, and the running head. Whose ballot it is, its area, choices, channel
/// and time are `null` until the vote closes: a key number beside a choice
/// would show staff (who can match keys to homes) each home's vote live, and
/// a poll's tally before its time. At closing everything is revealed, with
/// the frozen roll the rules' `roll` line commits to, so anyone can recompute
/// the roll hash, every ballot hash and the tally.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Chain {
    pub vote_id: i64,
    pub rules: String,
    pub head_hash: String,
    /// Whether the ballots' contents and the roll are shown (after closing).
    pub revealed: bool,
    pub ballots: Vec<ChainEntry>,
    /// The frozen roll, after closing: `sha256(roll text)` is the rules'
    /// `roll` line, the text being `zhsq-vote-roll/1\n` then one line per key
    /// `key|area|unit ids joined by ,|voter user id or empty`.
    pub roll: Option<Vec<RollKey>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChainEntry {
    pub seq: i64,
    pub key_no: Option<i64>,
    pub area: Option<i64>,
    pub choices: Option<Vec<i64>>,
    pub channel: Option<String>,
    pub receipt_hash: String,
    pub cast_at: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// One key of the frozen roll, as the roll hash commits to it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RollKey {
    pub key_no: i64,
    /// 0.01 m² (owners' decisions), 0 for a poll
    pub area: i64,
    pub units: Vec<i64>,
    /// who was to cast the key's ballot when the roll froze (co-owners: none yet)
    pub voter: Option<i64>,
}

pub async fn chain(state: &State, user: &CurrentUser, id: i64) -> AppResult<Chain> {
    let (v, _) = visible(state, user, id).await?;
    if status_of(&v) == VoteStatus::Draft {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    let (_, ballots) = verify(state, &v).await?;
    let revealed = status_of(&v) == VoteStatus::Closed;
    Ok(Chain {
        vote_id: v.id,
        rules: v.rules_text.clone().unwrap_or_default(),
        head_hash: v.head_hash.clone().unwrap_or_default(),
        revealed,
        ballots: ballots
            .iter()
            .map(|b| {
                let r = record_of(b);
                ChainEntry {
                    seq: r.seq,
                    key_no: r.key_no.filter(|_| revealed),
                    area: revealed.then_some(r.area),
                    choices: revealed.then_some(r.choices),
                    channel: revealed.then_some(r.channel),
                    receipt_hash: r.receipt_hash,
                    cast_at: revealed.then_some(r.cast_at),
                    prev_hash: b.prev_hash.clone(),
                    hash: b.hash.clone(),
                }
            })
            .collect(),
        roll: if revealed { Some(frozen_roll(state, v.id).await?) } else { None },
    })
}

/// The roll as it froze at opening (the voter a key had then: its single
/// owner, none for co-owners who had yet to designate), in key order.
pub async fn frozen_roll(state: &State, id: i64) -> AppResult<Vec<RollKey>> {
    let roll = vote_roll::Entity::find()
        .filter(vote_roll::Column::VoteId.eq(id))
        .order_by_asc(vote_roll::Column::KeyNo)
        .all(&state.db)
        .await?;
    let mut owners: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for o in vote_roll_owner::Entity::find().filter(vote_roll_owner::Column::VoteId.eq(id)).all(&state.db).await? {
        owners.entry(o.key_no).or_default().push(o.user_id);
    }
    Ok(roll
        .into_iter()
        .map(|r| RollKey {
            key_no: r.key_no,
            area: r.area,
            units: parse_list(&r.units),
            voter: match owners.get(&r.key_no) {
                Some(o) => dv::designated_voter(o, &[]),
                None => r.voter_user_id,
            },
        })
        .collect())
}
