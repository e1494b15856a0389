//! 投票: owners' decisions under Art. 278 (owner keys, frozen roll, quorum
//! gap, paper ballots confirmed by a second staff member, the decision), the
//! ballot chain and receipts, one ballot per key under concurrency, and a
//! poll run entirely with plain forms.

use crate::appointments::current;
use crate::helpers::*;
use crate::pages::{browser, location, path};
use backend::auth::CurrentUser;
use backend::entities::{ballot, building, dwelling, residence, user, user_role, vote};
use chrono::Utc;
use domain::votes::{MyStanding, NewVote, VoteForm, VoteStatus, Weight};
use domain::ErrorCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

/// A verified resident of `dwelling` (registered, resident role at the community).
pub async fn resident(app: &TestApp, phone: &str, dwelling_id: i64, relation: &str) -> CurrentUser {
    let db = &app.state.db;
    let u = match user::Entity::find().filter(user::Column::Phone.eq(phone)).one(db).await.unwrap() {
        Some(u) => u,
        None => backend::auth::new_user(phone, &format!("业主{}", &phone[7..])).insert(db).await.unwrap(),
    };
    let d = dwelling::Entity::find_by_id(dwelling_id).one(db).await.unwrap().unwrap();
    let b = building::Entity::find_by_id(d.building_id).one(db).await.unwrap().unwrap();
    let now = Utc::now();
    let has_role = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(u.id))
        .filter(user_role::Column::OrgUnitId.eq(b.community_id))
        .count(db)
        .await
        .unwrap();
    if has_role == 0 {
        user_role::ActiveModel {
            user_id: Set(u.id),
            role: Set(domain::Role::Resident),
            org_unit_id: Set(b.community_id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    residence::ActiveModel {
        user_id: Set(u.id),
        dwelling_id: Set(dwelling_id),
        relation: Set(relation.into()),
        area_centi_m2: Set(None),
        status: Set(domain::residence::ResidenceStatus::Approved),
        reason: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(Some(now)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    current(app, phone).await
}

/// The dwellings of 阳光社区's 1号楼 in id order (12 of them).
async fn building_one(app: &TestApp) -> (i64, Vec<dwelling::Model>) {
    let community = app.org_id("阳光社区").await;
    let b = building::Entity::find()
        .filter(building::Column::CommunityId.eq(community))
        .filter(building::Column::Name.eq("1号楼"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let ds = dwelling::Entity::find()
        .filter(dwelling::Column::BuildingId.eq(b.id))
        .order_by_asc(dwelling::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap();
    (b.id, ds)
}

fn owners_vote(building: i64, matter: &str) -> NewVote {
    let now = Utc::now().timestamp();
    let local = |t: i64| {
        chrono::DateTime::from_timestamp(t + 8 * 3600, 0).unwrap().naive_utc().format("%Y-%m-%dT%H:%M").to_string()
    };
    // starts in an hour: staff open it by hand in these tests
    let (start, end) = (local(now + 3600), local(now + 3 * 86_400));
    let b = building.to_string();
    NewVote::parse(
        &VoteForm {
            kind: "owners",
            title: "续聘物业服务企业",
            body: "现物业合同年底到期,拟续聘三年。",
            matter,
            building_id: &b,
            starts_at: &start,
            ends_at: &end,
            ..Default::default()
        },
        now,
    )
    .unwrap()
}

#[tokio::test]
async fn an_owners_decision_follows_article_278() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let staff = current(&app, STAFF_A).await;
    let admin = current(&app, ADMIN).await;
    let community = app.org_id("阳光社区").await;
    let (bid, d) = building_one(&app).await;
    assert_eq!(d.len(), 12);
    // 101 of 1单元 belongs to resident A (demo); co-owners; a two-unit owner;
    // six single owners; the developer still holds the last two units
    let a = current(&app, RESIDENT_A).await;
    let o1 = resident(&app, "13600000001", d[1].id, "owner").await;
    let o2 = resident(&app, "13600000002", d[1].id, "co_owner").await;
    let o3 = resident(&app, "13600000003", d[2].id, "owner").await;
    resident(&app, "13600000003", d[3].id, "owner").await;
    let mut single = vec![];
    for (i, unit) in d[4..10].iter().enumerate() {
        single.push(resident(&app, &format!("1360000001{i}"), unit.id, "owner").await);
    }
    for unit in &d[10..12] {
        let mut m: dwelling::ActiveModel = unit.clone().into();
        m.developer_held = Set(true);
        m.update(db).await.unwrap();
    }
    // a unit without any area cannot be on a roll: fixed before opening
    let mut m: dwelling::ActiveModel = d[9].clone().into();
    m.area_centi_m2 = Set(None);
    m.update(db).await.unwrap();
    let id = backend::votes::create(&app.state, &staff, community, owners_vote(bid, "4")).await.unwrap();
    let e = backend::votes::open_now(&app.state, &staff, id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::RollIncomplete);
    let mut m: dwelling::ActiveModel = d[9].clone().into();
    m.area_centi_m2 = Set(None);
    m.contract_area_centi_m2 = Set(d[9].area_centi_m2);
    m.update(db).await.unwrap();
    // staff of the other community cannot touch it
    let other = current(&app, STAFF_B).await;
    assert_eq!(backend::votes::open_now(&app.state, &other, id).await.unwrap_err().code, ErrorCode::Forbidden);
    backend::votes::open_now(&app.state, &staff, id).await.unwrap();

    // the frozen roll: 12 units, 10 keys, every hundredth of a m²
    let v = backend::votes::view(&app.state, &a, id).await.unwrap();
    let total_area: i64 = d.iter().map(|x| x.area_centi_m2.unwrap()).sum();
    assert_eq!(v.total, Weight { area: total_area, count: 10 });
    assert_eq!(v.status, VoteStatus::Open);
    assert!(v.results.is_empty(), "owners' results only after closing");
    // a person verified after the roll froze is not on it
    let late = resident(&app, "13600000099", d[4].id, "co_owner").await;
    assert_eq!(backend::votes::standing(&app.state, &late, id).await.unwrap(), MyStanding::NotOnRoll);
    assert_eq!(
        backend::votes::cast(&app.state, &late, id, &["1".into()]).await.unwrap_err().code,
        ErrorCode::NotOnRoll
    );

    // co-owners: no ballot until both designate the same person
    assert!(matches!(
        backend::votes::standing(&app.state, &o1, id).await.unwrap(),
        MyStanding::NeedsDesignation { .. }
    ));
    assert_eq!(
        backend::votes::cast(&app.state, &o1, id, &["1".into()]).await.unwrap_err().code,
        ErrorCode::NeedsDesignation
    );
    assert_eq!(backend::votes::designate(&app.state, &o1, id, o2.id).await.unwrap(), None);
    assert_eq!(backend::votes::designate(&app.state, &o2, id, o2.id).await.unwrap(), Some(o2.id));
    assert!(matches!(backend::votes::standing(&app.state, &o1, id).await.unwrap(), MyStanding::OtherVoter { .. }));

    // the same voter ten times at once: one ballot
    let yes = vec!["1".to_string()];
    let tries = futures_util::future::join_all((0..10).map(|_| backend::votes::cast(&app.state, &a, id, &yes))).await;
    assert_eq!(tries.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(tries.iter().filter_map(|r| r.as_ref().err()).all(|e| e.code == ErrorCode::AlreadyVoted));
    let receipt_a = tries.into_iter().find_map(|r| r.ok()).unwrap();
    assert_eq!(ballot::Entity::find().filter(ballot::Column::VoteId.eq(id)).count(db).await.unwrap(), 1);

    // yes: A, the co-owners, the two-unit owner, two singles; no: one; abstain: one
    backend::votes::cast(&app.state, &o2, id, &["1".into()]).await.unwrap();
    backend::votes::cast(&app.state, &o3, id, &["1".into()]).await.unwrap();
    backend::votes::cast(&app.state, &single[0], id, &["1".into()]).await.unwrap();
    backend::votes::cast(&app.state, &single[1], id, &["1".into()]).await.unwrap();
    backend::votes::cast(&app.state, &single[2], id, &["2".into()]).await.unwrap();
    backend::votes::cast(&app.state, &single[3], id, &["3".into()]).await.unwrap();
    assert_eq!(
        backend::votes::cast(&app.state, &single[4], id, &["1".into(), "2".into()]).await.unwrap_err().code,
        ErrorCode::InvalidChoice
    );
    // 7 of 10 owners, but only 80,908 of the 121,812 (×0.01 m²) needed area: 300 short
    let v = backend::votes::view(&app.state, &a, id).await.unwrap();
    assert_eq!(v.participated.count, 7);
    assert_eq!(v.gap, Weight { area: (2 * total_area + 2) / 3 - v.participated.area, count: 0 });
    assert!(v.gap.area > 0);

    // a paper ballot for d[8]'s owner: entered by one, confirmed by another
    let key8 = {
        let roll = backend::votes::staff_view(&app.state, &staff, id).await.unwrap().roll;
        roll.iter().find(|r| r.owners == vec![single[4].name.clone()]).unwrap().key_no
    };
    let paper =
        backend::votes::enter_paper(&app.state, &staff, id, key8, &["1".into()], "纸质选票 0017").await.unwrap();
    assert_eq!(
        backend::votes::enter_paper(&app.state, &admin, id, key8, &["2".into()], "").await.unwrap_err().code,
        ErrorCode::Conflict,
        "one pending paper ballot per key"
    );
    assert_eq!(
        backend::votes::decide_paper(&app.state, &staff, paper, true).await.unwrap_err().code,
        ErrorCode::SameStaff
    );
    // the database refuses it too
    let same = db
        .execute_unprepared(&format!(
            "UPDATE paper_ballots SET status = 'rejected', decided_by = entered_by WHERE id = {paper}"
        ))
        .await;
    assert!(same.is_err(), "CHECK decided_by <> entered_by");
    backend::votes::decide_paper(&app.state, &admin, paper, true).await.unwrap();
    assert_eq!(
        backend::votes::decide_paper(&app.state, &admin, paper, true).await.unwrap_err().code,
        ErrorCode::AlreadyDecided
    );
    // the owner cannot vote again online: the paper ballot is theirs
    assert_eq!(
        backend::votes::cast(&app.state, &single[4], id, &["2".into()]).await.unwrap_err().code,
        ErrorCode::AlreadyVoted
    );
    let v = backend::votes::view(&app.state, &a, id).await.unwrap();
    assert_eq!(v.participated.count, 8);
    assert_eq!(v.gap, Weight::default(), "quorum reached");

    // ballots are append-only
    assert!(db.execute_unprepared("UPDATE ballots SET choices = '2'").await.is_err());
    assert!(db.execute_unprepared("DELETE FROM ballots").await.is_err());

    // while voting is open the chain shows that nothing changed, never who chose what
    let open_chain = backend::votes::chain(&app.state, &a, id).await.unwrap();
    assert!(!open_chain.revealed && open_chain.roll.is_none());
    assert_eq!(open_chain.ballots.len(), 8);
    assert!(open_chain.ballots.iter().all(|b| b.key_no.is_none()
        && b.choices.is_none()
        && b.area.is_none()
        && b.cast_at.is_none()
        && b.channel.is_none()));
    let token = crate::appointments::token_of(&app, RESIDENT_A).await;
    let json: serde_json::Value =
        app.get_bearer(&format!("/api/v1/votes/{id}/chain"), &token).await.json().await.unwrap();
    assert!(json["ballots"].as_array().unwrap().iter().all(|b| b["choices"].is_null() && b["key_no"].is_null()));

    backend::votes::close_now(&app.state, &staff, id).await.unwrap();
    assert_eq!(
        backend::votes::cast(&app.state, &single[5], id, &["1".into()]).await.unwrap_err().code,
        ErrorCode::VoteNotOpen
    );
    let v = backend::votes::view(&app.state, &a, id).await.unwrap();
    let dec = v.decision.unwrap();
    assert!(dec.quorum_area && dec.quorum_count && dec.majority_area && dec.majority_count && dec.passed);
    assert_eq!(v.results[0].count, 6, "yes: A, co-owners, two-unit owner, two singles, the 8th");
    assert_eq!(v.results[1].count, 1);
    assert_eq!(v.results[2].count, 1);
    let yes_area = d[0].area_centi_m2.unwrap()
        + d[1].area_centi_m2.unwrap()
        + d[2].area_centi_m2.unwrap()
        + d[3].area_centi_m2.unwrap()
        + d[4].area_centi_m2.unwrap()
        + d[5].area_centi_m2.unwrap()
        + d[8].area_centi_m2.unwrap();
    assert_eq!(v.results[0].area, yes_area);
    assert!(v.objection_until.is_some());
    // the same ballots would also carry a special matter: 6 of 8 owners is exactly three quarters
    assert_eq!(4 * v.results[0].count, 3 * v.participated.count);
    assert!(
        domain::votes::decide(
            domain::votes::Matter::RaiseFund,
            &domain::votes::OwnerTally {
                total: v.total,
                participated: v.participated,
                yes: v.results[0],
                no: v.results[1],
                abstain: v.results[2]
            },
            false
        )
        .passed
    );

    // the receipt checks out, and the published chain recomputes from its rules
    let r = backend::votes::receipt(&app.state, &receipt_a).await.unwrap();
    assert!(r.chain_ok);
    assert_eq!((r.seq, r.ballots, r.choices.clone()), (1, 8, vec!["同意".to_string()]));
    assert_eq!(backend::votes::receipt(&app.state, "2222-2222-2222").await.unwrap_err().code, ErrorCode::NotFound);
    let chain = backend::votes::chain(&app.state, &a, id).await.unwrap();
    let mut head = domain::votes::sha256_hex(&[[0u8; 32].as_slice(), chain.rules.as_bytes()].concat());
    assert!(chain.rules.contains("matter=4\n") && chain.rules.contains("total_count=10\n"));
    for b in &chain.ballots {
        assert_eq!(b.prev_hash, head);
        let rec = domain::votes::BallotRecord {
            vote_id: id,
            seq: b.seq,
            key_no: b.key_no,
            area: b.area.unwrap(),
            choices: b.choices.clone().unwrap(),
            channel: b.channel.clone().unwrap(),
            receipt_hash: b.receipt_hash.clone(),
            cast_at: b.cast_at.clone().unwrap(),
        };
        head = domain::votes::chain_next(&head, &rec).unwrap();
        assert_eq!(head, b.hash);
    }
    assert_eq!(head, chain.head_hash);
    assert_eq!(chain.ballots.iter().filter(|b| b.channel.as_deref() == Some("paper")).count(), 1);
    // the roll is published at closing, and hashes to the rules' roll line
    let roll = chain.roll.as_ref().expect("the roll, after closing");
    assert_eq!(roll.len(), 10);
    let rows: Vec<(i64, i64, Vec<i64>, Option<i64>)> =
        roll.iter().map(|k| (k.key_no, k.area, k.units.clone(), k.voter)).collect();
    let roll_hash = domain::votes::sha256_hex(domain::votes::roll_bytes(&rows).as_bytes());
    assert!(chain.rules.contains(&format!("roll={roll_hash}\n")), "{}", chain.rules);
    // the rows say the same as the counters
    let row = vote::Entity::find_by_id(id).one(db).await.unwrap().unwrap();
    assert_eq!(row.ballot_count, 8);
}

#[tokio::test]
async fn one_ballot_per_voter_through_the_api_and_a_busy_chain_holds() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let community = app.org_id("阳光社区").await;
    let (bid, d) = building_one(&app).await;
    let mut voters = vec![current(&app, RESIDENT_A).await];
    for (i, unit) in d[1..12].iter().enumerate() {
        voters.push(resident(&app, &format!("135000000{i:02}"), unit.id, "owner").await);
    }
    let id = backend::votes::create(&app.state, &staff, community, owners_vote(bid, "6")).await.unwrap();
    backend::votes::open_now(&app.state, &staff, id).await.unwrap();
    // resident A: 20 identical requests at once → one 201, the rest 409
    let token = crate::appointments::token_of(&app, RESIDENT_A).await;
    let client = reqwest::Client::new();
    let url = app.url(&format!("/api/v1/votes/{id}/ballots"));
    let answers = futures_util::future::join_all(
        (0..20).map(|_| client.post(&url).bearer_auth(&token).json(&serde_json::json!({ "choices": [1] })).send()),
    )
    .await;
    let codes: Vec<u16> = answers.iter().map(|r| r.as_ref().unwrap().status().as_u16()).collect();
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 409).count(), 19, "{codes:?}");
    // a day before the end the job reminds those who have not voted (once a day, not resident A)
    let job = backend::jobs::find(&app.state.db, &format!("vote:remind:{id}")).await.unwrap().unwrap();
    let row = vote::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(job.run_at, row.ends_at - chrono::Duration::hours(24));
    for _ in 0..2 {
        backend::votes::remind_job(&app.state, backend::votes::VoteJob { vote_id: id }).await.unwrap();
    }
    let reminded = |uid: i64| {
        backend::entities::notification::Entity::find()
            .filter(backend::entities::notification::Column::UserId.eq(uid))
            .filter(backend::entities::notification::Column::Link.eq(format!("/votes/{id}")))
            .count(&app.state.db)
    };
    assert_eq!(reminded(voters[0].id).await.unwrap(), 0, "A has voted");
    assert_eq!(reminded(voters[1].id).await.unwrap(), 1, "one reminder a day");
    // the other eleven owners at once: every ballot lands, in one unbroken chain
    let yes = vec!["1".to_string()];
    let all =
        futures_util::future::join_all(voters[1..].iter().map(|u| backend::votes::cast(&app.state, u, id, &yes))).await;
    assert!(all.iter().all(|r| r.is_ok()), "{:?}", all.iter().filter_map(|r| r.as_ref().err()).collect::<Vec<_>>());
    let r = backend::votes::receipt(&app.state, all[5].as_ref().unwrap()).await.unwrap();
    assert!(r.chain_ok);
    assert_eq!(r.ballots, 12);
    let seqs: Vec<i64> = ballot::Entity::find()
        .filter(ballot::Column::VoteId.eq(id))
        .order_by_asc(ballot::Column::Seq)
        .all(&app.state.db)
        .await
        .unwrap()
        .iter()
        .map(|b| b.seq)
        .collect();
    assert_eq!(seqs, (1..=12).collect::<Vec<_>>());
    // every owner has voted (the counters are at the roll's total): a repeat,
    // online or through the API, is already_voted, never a failed CHECK
    assert_eq!(backend::votes::cast(&app.state, &voters[3], id, &yes).await.unwrap_err().code, ErrorCode::AlreadyVoted);
    let again =
        client.post(&url).bearer_auth(&token).json(&serde_json::json!({ "choices": [2] })).send().await.unwrap();
    assert_eq!(again.status(), 409);
    let v: serde_json::Value = again.json().await.unwrap();
    assert_eq!(v["error"], "already_voted");
    // a special matter with everyone agreeing passes
    let dec = backend::votes::close(&app.state, id).await.unwrap().unwrap();
    assert!(dec.passed);
    // the API answers in JSON, outsiders get 404
    let r = client.get(app.url(&format!("/api/v1/votes/{id}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["vote"]["status"], "closed");
    assert_eq!(body["standing"]["Voted"]["seq"], 1);
    let b = crate::appointments::token_of(&app, RESIDENT_B).await;
    let r = client.get(app.url(&format!("/api/v1/votes/{id}"))).bearer_auth(&b).send().await.unwrap();
    assert_eq!(r.status(), 404, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_poll_runs_on_plain_forms() {
    let app = spawn_app().await;
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let community = app.org_id("阳光社区").await.to_string();
    let (_, d) = building_one(&app).await;
    resident(&app, "13500000100", d[5].id, "tenant").await;
    let create = path::<app::votes::CreateVote>();
    // one option only: refused in words, everything typed kept
    let r = staff
        .form(
            create,
            "/staff/votes",
            &[
                ("community_id", &community),
                ("kind", "poll"),
                ("title", "小区停车位划线方案"),
                ("body", "请选择您支持的方案。"),
                ("options", "方案一"),
                ("max_choices", "2"),
                ("eligibility", "residents"),
                ("secret", "1"),
                ("live_results", "1"),
                ("starts_at", "2026-01-01T09:00"),
                ("ends_at", "2099-01-01T09:00"),
            ],
        )
        .await;
    let to = location(&r);
    assert!(to.starts_with("/staff/votes?error=invalid_time"), "{to}");
    let (_, html) = staff.page(&to).await;
    assert!(html.contains("value=\"小区停车位划线方案\"") && html.contains("方案一"), "kept");
    let (start, end) = backend::votes::default_window();
    let fields = |options: &str| -> Vec<(&'static str, String)> {
        vec![
            ("community_id", community.clone()),
            ("kind", "poll".to_string()),
            ("title", "小区停车位划线方案".to_string()),
            ("body", "请选择您支持的方案。".to_string()),
            ("options", options.to_string()),
            ("max_choices", "2".to_string()),
            ("eligibility", "residents".to_string()),
            ("secret", "1".to_string()),
            ("live_results", "1".to_string()),
            ("starts_at", start.clone()),
            ("ends_at", end.clone()),
        ]
    };
    let one = fields("方案一");
    let one: Vec<(&str, &str)> = one.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = staff.form(create, "/staff/votes", &one).await;
    let to = location(&r);
    assert!(to.starts_with("/staff/votes?error=invalid_choice"), "{to}");
    let three = fields("方案一:地面划线\n方案二:地下车位\n方案三:维持现状");
    let three: Vec<(&str, &str)> = three.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = staff.form(create, "/staff/votes", &three).await;
    let to = location(&r);
    assert!(to.starts_with("/staff/votes/") && to.ends_with("?created=1"), "{to}");
    let id: i64 = to["/staff/votes/".len()..to.len() - "?created=1".len()].parse().unwrap();
    // the start time has come: the vote.open job opens it by itself
    let mut opened = false;
    for _ in 0..50 {
        let row = vote::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
        if row.status == "open" {
            opened = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(opened, "opened by the job");

    // resident A chooses two options with a plain form
    let a = browser(&app).await;
    a.code_login(RESIDENT_A).await;
    let (status, html) = a.page(&format!("/votes/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("type=\"checkbox\" name=\"choice\""), "{html}");
    assert!(html.contains("下一步:核对选择"), "the ballot form leads to a review step: {html}");
    // the review step: the choices and what they mean, then the confirm
    let (_, html) = a.page(&format!("/votes/{id}?review=1&choice=1&choice=3")).await;
    assert!(
        html.contains("请核对您的选择") && html.contains("确认提交选票") && html.contains("name=\"confirm\""),
        "{html}"
    );
    assert!(html.contains("方案一:地面划线、方案三:维持现状"), "{html}");
    let (_, html) = a.page(&format!("/votes/{id}?review=1&choice=1&choice=2&choice=3")).await;
    assert!(
        html.contains("请选择有效的选项") && !html.contains("确认提交选票"),
        "too many: back to the choices: {html}"
    );
    let url = app.url(&format!("/votes/{id}/ballot"));
    // a ballot posted without the confirm is not cast: it is shown for review
    let r = a.client().post(&url).form(&[("choice", "1"), ("choice", "3")]).send().await.unwrap();
    assert_eq!(location(&r), format!("/votes/{id}?review=1&choice=1&choice=3#ballot"));
    assert_eq!(ballot::Entity::find().filter(ballot::Column::VoteId.eq(id)).count(&app.state.db).await.unwrap(), 0);
    let r = a
        .client()
        .post(&url)
        .form(&[("choice", "1"), ("choice", "2"), ("choice", "3"), ("confirm", "1")])
        .send()
        .await
        .unwrap();
    let to = location(&r);
    assert!(to.contains("error=invalid_choice") && to.contains("sel=1,2,3"), "{to}");
    let r = a.client().post(&url).form(&[("choice", "1"), ("choice", "3"), ("confirm", "1")]).send().await.unwrap();
    let to = location(&r);
    assert!(to.starts_with(&format!("/votes/{id}?receipt=")) && to.ends_with("#receipt"), "{to}");
    let code = to.split("receipt=").nth(1).unwrap().trim_end_matches("#receipt").to_string();
    let (_, html) = a.page(&to).await;
    assert!(html.contains(&code) && html.contains("您已投票"), "the receipt is shown once");
    // secret: the ballot row carries no key, the page later has no receipt to show
    let b = ballot::Entity::find().filter(ballot::Column::VoteId.eq(id)).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!((b.key_no, b.choices.as_str()), (None, "1,3"));
    let r = a.client().post(&url).form(&[("choice", "2"), ("confirm", "1")]).send().await.unwrap();
    assert!(location(&r).contains("error=already_voted"));
    let (_, html) = a.page(&format!("/votes/{id}?error=already_voted")).await;
    assert!(html.contains("已经投过票"), "in words");
    // live results: visible while open
    let (_, html) = a.page(&format!("/votes/{id}")).await;
    assert!(html.contains("实时结果"));
    // anyone checks the receipt
    let anon = browser(&app).await;
    let (status, html) = anon.page(&format!("/votes/receipt?code={code}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("您的选票已计入"), "{html}");
    assert!(
        !html.contains("方案一:地面划线、方案三:维持现状"),
        "a secret ballot's receipt cannot prove how it was cast"
    );
    assert!(html.contains("不显示选择"));
    assert_eq!(b.cast_at.len(), 10, "a secret ballot carries its day only: {}", b.cast_at);
    // resident B (the other community) does not see it
    let other = browser(&app).await;
    other.code_login(RESIDENT_B).await;
    let (status, html) = other.page(&format!("/votes/{id}")).await;
    assert!(html.contains("内容不存在"), "{html}");
    assert_eq!(status, 404);
    // staff see the turnout and close it; a secret poll's roll does not say who has voted while open
    let (_, html) = staff.page(&format!("/staff/votes/{id}")).await;
    assert!(html.contains("选票链校验通过"), "{html}");
    assert!(html.contains("不逐户显示谁已投票") && !html.contains("<td>✓</td>"), "{html}");
    let staff_user = crate::appointments::current(&app, STAFF_A).await;
    let sv = backend::votes::staff_view(&app.state, &staff_user, id).await.unwrap();
    assert!(sv.participation_hidden && sv.roll.iter().all(|r| !r.voted));
    let r = staff
        .form(
            path::<app::votes::VoteAction>(),
            &format!("/staff/votes/{id}"),
            &[("id", &id.to_string()), ("action", "close")],
        )
        .await;
    assert!(location(&r).ends_with("done=closed"));
    let (_, html) = a.page(&format!("/votes/{id}")).await;
    assert!(html.contains("投票结果"));
}
