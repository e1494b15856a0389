//! Demo data: one street with two communities, grids, buildings, units,
//! households, demo users for every role and a few announcements. Loaded
//! only into an empty database.

use chrono::Utc;
use domain::{OrgLevel, OrgPath, Role};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::{
    auth::hash_password,
    entities::{announcement, building, dwelling, household, org_unit, residence, user, user_role},
    error::AppResult,
    State,
};

pub const DEMO_PASSWORD: &str = "demo1234";

/// (phone, name, role, org name, password?)
pub const DEMO_USERS: &[(&str, &str, Role, &str, bool)] = &[
    ("13900000001", "王芳", Role::Admin, "幸福街道", true),
    ("13900000002", "李敏", Role::Staff, "阳光社区", true),
    ("13900000003", "赵磊", Role::Staff, "和谐社区", true),
    ("13700000001", "张伟", Role::GridWorker, "阳光社区第一网格", false),
    ("13700000002", "刘洋", Role::GridWorker, "和谐社区第一网格", false),
    ("13800000001", "陈静", Role::Resident, "阳光社区", false),
    ("13800000002", "周强", Role::Resident, "和谐社区", false),
];

pub async fn seed_if_empty(state: &State) -> AppResult<bool> {
    if org_unit::Entity::find().count(&state.db).await? > 0 {
        return Ok(false);
    }
    seed(state).await?;
    Ok(true)
}

async fn org(
    state: &State,
    parent: Option<&org_unit::Model>,
    level: OrgLevel,
    name: &str,
) -> AppResult<org_unit::Model> {
    let now = Utc::now();
    let row = org_unit::ActiveModel {
        parent_id: Set(parent.map(|p| p.id)),
        level: Set(level),
        name: Set(name.into()),
        // real path is known only after the id: insert with a unique placeholder, then fix
        path: Set(format!("pending:{}", uuid::Uuid::new_v4())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    let path = match parent.and_then(|p| OrgPath::parse(&p.path)) {
        Some(pp) => pp.child(row.id),
        None => OrgPath::root(row.id),
    };
    let mut am: org_unit::ActiveModel = row.into();
    am.path = Set(path.as_str().into());
    Ok(am.update(&state.db).await?)
}

async fn seed(state: &State) -> AppResult<()> {
    let now = Utc::now();
    let city = org(state, None, OrgLevel::City, "示例市").await?;
    let district = org(state, Some(&city), OrgLevel::District, "示例区").await?;
    let street = org(state, Some(&district), OrgLevel::Street, "幸福街道").await?;
    let mut orgs = vec![street.clone()];
    let mut first_dwelling = std::collections::HashMap::new();
    for (ci, cname) in ["阳光社区", "和谐社区"].iter().enumerate() {
        let community = org(state, Some(&street), OrgLevel::Community, cname).await?;
        // the numbers residents call (首页); the first community's property
        // service takes home-repair requests
        let mut am: org_unit::ActiveModel = community.into();
        am.office_phone = Set(Some(["0571-8888 1201", "0571-8888 1202"][ci].into()));
        am.property_name = Set(Some(["阳光物业服务中心", "和谐物业"][ci].into()));
        am.property_phone = Set(Some(["0571-8666 2301", "0571-8666 2302"][ci].into()));
        am.property_repairs = Set(ci == 0);
        let community = am.update(&state.db).await?;
        orgs.push(community.clone());
        for gi in 1..=2 {
            let gname = format!("{cname}第{}网格", ["一", "二"][gi - 1]);
            let grid = org(state, Some(&community), OrgLevel::Grid, &gname).await?;
            orgs.push(grid.clone());
            for bi in 1..=2 {
                let bno = (gi - 1) * 2 + bi;
                let b = building::ActiveModel {
                    community_id: Set(community.id),
                    grid_id: Set(grid.id),
                    name: Set(format!("{bno}号楼")),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&state.db)
                .await?;
                for entrance in 1..=2 {
                    for floor in 1..=3 {
                        for room in 1..=2 {
                            let area = 8_000 + (ci as i64 * 700) + (floor * 150) + (room * 1_234);
                            let d = dwelling::ActiveModel {
                                building_id: Set(b.id),
                                entrance: Set(format!("{entrance}单元")),
                                room: Set(format!("{floor}0{room}")),
                                area_centi_m2: Set(Some(area * 100 / 100)),
                                created_at: Set(now),
                                ..Default::default()
                            }
                            .insert(&state.db)
                            .await?;
                            first_dwelling.entry(community.id).or_insert(d.id);
                            household::ActiveModel {
                                dwelling_id: Set(d.id),
                                head_name: Set(None),
                                members: Set(((floor + room) % 4 + 1) as i32),
                                created_at: Set(now),
                                ..Default::default()
                            }
                            .insert(&state.db)
                            .await?;
                        }
                    }
                }
            }
        }
    }
    let pw = hash_password(DEMO_PASSWORD)?;
    let mut staff_ids = std::collections::HashMap::new();
    for (phone, name, role, org_name, has_pw) in DEMO_USERS {
        let scope = orgs
            .iter()
            .find(|o| o.name == *org_name)
            .ok_or_else(|| crate::AppError::internal(anyhow::anyhow!("demo org {org_name}")))?;
        let u = user::ActiveModel {
            phone: Set((*phone).into()),
            name: Set((*name).into()),
            password_hash: Set(has_pw.then(|| pw.clone())),
            wechat_openid: Set(None),
            lang: Set(domain::i18n::Lang::Zh),
            failed_logins: Set(0),
            locked_until: Set(None),
            active: Set(true),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&state.db)
        .await?;
        user_role::ActiveModel {
            user_id: Set(u.id),
            role: Set(*role),
            org_unit_id: Set(scope.id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&state.db)
        .await?;
        if *role == Role::Resident {
            if let Some(d) = first_dwelling.get(&scope.id) {
                residence::ActiveModel {
                    user_id: Set(u.id),
                    dwelling_id: Set(*d),
                    relation: Set("owner".into()),
                    area_centi_m2: Set(None),
                    status: Set(domain::residence::ResidenceStatus::Approved),
                    reason: Set(None),
                    reviewed_by: Set(None),
                    reviewed_at: Set(Some(now)),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&state.db)
                .await?;
            }
        }
        if matches!(role, Role::Staff | Role::Admin) {
            staff_ids.insert(*org_name, u.id);
        }
    }
    let notices = [
        ("幸福街道", "冬季用火用电安全提示", "天气转冷,请各位居民注意用火用电安全:不私拉电线,不在楼道内给电动车充电,离家时关闭燃气阀门。\n\n如发现安全隐患,请联系所在社区或网格员。", true),
        ("阳光社区", "本周六上午社区义诊活动", "本周六上午9:00—11:30,社区卫生服务中心医生将在阳光社区党群服务中心一楼开展义诊,提供量血压、测血糖和健康咨询。\n\n请携带医保卡。", false),
        ("阳光社区", "3号楼二次供水设施清洗停水通知", "因二次供水设施清洗,3号楼将于周三9:00—15:00停水,请提前做好储水准备。给您带来不便,敬请谅解。", false),
        ("和谐社区", "和谐社区议事会召开通知", "和谐社区将于下周二晚7点召开居民议事会,讨论小区停车位划线方案,欢迎居民代表参加。", false),
    ];
    for (org_name, title, body, pinned) in notices {
        let Some(target) = orgs.iter().find(|o| o.name == org_name) else { continue };
        let author = if org_name == "和谐社区" {
            staff_ids.get("和谐社区")
        } else if org_name == "阳光社区" {
            staff_ids.get("阳光社区")
        } else {
            staff_ids.get("幸福街道")
        };
        let Some(author) = author else { continue };
        announcement::ActiveModel {
            org_unit_id: Set(target.id),
            title: Set(title.into()),
            body: Set(body.into()),
            pinned: Set(pinned),
            author_id: Set(*author),
            published_at: Set(now),
            ..Default::default()
        }
        .insert(&state.db)
        .await?;
    }
    seed_appointments(state, &orgs, &staff_ids).await?;
    // this half-year's property fees and last month's water, so residents have bills to pay
    for (community, price) in [("阳光社区", "1.85"), ("和谐社区", "2.10")] {
        if let (Some(c), Some(by)) = (orgs.iter().find(|o| o.name == community), staff_ids.get(community)) {
            let period = domain::bills::Period::parse("2026-H2")?;
            crate::bills::generate_for(state, c, *by, &period, domain::money::Fen::parse_positive_yuan(price)?).await?;
            crate::bills::demo_water(state, c, *by, &domain::bills::Period::parse("2026-10")?).await?;
        }
    }
    seed_votes(state, &orgs, &staff_ids).await?;
    seed_points(state, &orgs, &staff_ids).await?;
    seed_volunteer(state, &orgs, &staff_ids).await?;
    seed_topics(state, &orgs, &staff_ids).await?;
    seed_patrol(state, &orgs, &staff_ids).await?;
    if let Some(c) = orgs.iter().find(|o| o.name == "阳光社区") {
        crate::incidents::seed_demo(state, c.id).await?;
    }
    tracing::info!("demo data loaded");
    Ok(())
}

/// A patrol route in 阳光社区第一网格 and a patrol its grid worker walked this morning.
async fn seed_patrol(
    state: &State,
    orgs: &[org_unit::Model],
    staff_ids: &std::collections::HashMap<&str, i64>,
) -> AppResult<()> {
    let (Some(grid), Some(by)) = (orgs.iter().find(|o| o.name == "阳光社区第一网格"), staff_ids.get("阳光社区"))
    else {
        return Ok(());
    };
    let Some(worker) = user::Entity::find().filter(user::Column::Phone.eq("13700000001")).one(&state.db).await? else {
        return Ok(());
    };
    crate::patrol::seed_demo(state, worker.id, grid.id, *by).await
}

/// Points-mall items in 阳光社区 and some volunteer points for its demo resident.
async fn seed_points(
    state: &State,
    orgs: &[org_unit::Model],
    staff_ids: &std::collections::HashMap<&str, i64>,
) -> AppResult<()> {
    let (Some(c), Some(by)) = (orgs.iter().find(|o| o.name == "阳光社区"), staff_ids.get("阳光社区")) else {
        return Ok(());
    };
    let now = Utc::now();
    for (name, description, cost, stock) in [
        ("环保购物袋", "可折叠,可重复使用", 20, 30),
        ("洗衣液 2kg", "社区超市提供", 50, 10),
        ("理发券", "社区便民理发点使用一次", 80, 5),
    ] {
        crate::entities::mall_item::ActiveModel {
            community_id: Set(c.id),
            name: Set(name.into()),
            description: Set(description.into()),
            cost: Set(cost),
            stock: Set(stock),
            active: Set(true),
            created_by: Set(*by),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&state.db)
        .await?;
    }
    Ok(())
}

/// A topic in 阳光社区 that led to its demo poll (linked), and a resident's
/// proposal waiting for review.
async fn seed_topics(
    state: &State,
    orgs: &[org_unit::Model],
    staff_ids: &std::collections::HashMap<&str, i64>,
) -> AppResult<()> {
    use crate::entities::{topic, vote};
    let (Some(c), Some(by)) = (orgs.iter().find(|o| o.name == "阳光社区"), staff_ids.get("阳光社区")) else {
        return Ok(());
    };
    let poll = vote::Entity::find()
        .filter(vote::Column::CommunityId.eq(c.id))
        .filter(vote::Column::Title.contains("周末便民集市"))
        .one(&state.db)
        .await?;
    let now = Utc::now();
    let resident = user::Entity::find().filter(user::Column::Phone.eq("13800000001")).one(&state.db).await?;
    for (title, body, proposer, published) in [
        (
            "周末便民集市怎么办",
            "不少居民希望在小区内定期举办便民集市,提供蔬菜水果、修鞋配钥匙、磨刀理发等服务。\n\n社区初步联系了 12 家商户,场地拟设在中心广场,时间每月一次。请大家就时间、摊位种类和秩序管理发表意见;具体日期另行投票决定。",
            *by,
            true,
        ),
        ("3号楼门口增设非机动车棚", "3号楼门口电动车乱停,建议增设车棚并安装充电设施。", resident.as_ref().map(|u| u.id).unwrap_or(*by), false),
    ] {
        topic::ActiveModel {
            community_id: Set(c.id),
            title: Set(title.into()),
            body: Set(body.into()),
            status: Set(if published { domain::topics::TopicStatus::Published } else { domain::topics::TopicStatus::Pending }),
            proposed_by: Set(proposer),
            reviewed_by: Set(published.then_some(*by)),
            review_note: Set(None),
            answer_days: Set(7),
            published_at: Set(published.then_some(now)),
            answer_due_at: Set(published.then_some(now + chrono::Duration::days(7))),
            answered_at: Set(None),
            vote_id: Set(if published { poll.as_ref().map(|v| v.id) } else { None }),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&state.db)
        .await?;
    }
    Ok(())
}

/// Volunteer activities in 阳光社区: one under way (its code shows now) and
/// one tomorrow with two places; nobody signed up yet.
async fn seed_volunteer(
    state: &State,
    orgs: &[org_unit::Model],
    staff_ids: &std::collections::HashMap<&str, i64>,
) -> AppResult<()> {
    let (Some(c), Some(by)) = (orgs.iter().find(|o| o.name == "阳光社区"), staff_ids.get("阳光社区")) else {
        return Ok(());
    };
    let now = Utc::now().timestamp();
    let hour = 3600;
    let (tomorrow, _) = crate::volunteer::default_times();
    let tomorrow = domain::time::parse_beijing_local(&tomorrow).unwrap_or(now + 24 * hour);
    for (title, description, place, starts, ends, capacity) in [
        (
            "社区环境清洁日",
            "清理楼道杂物和绿地垃圾,工具由社区提供。",
            "阳光社区党群服务中心门前",
            now - hour / 2,
            now + 5 * hour / 2,
            20,
        ),
        ("敬老院探访", "陪伴老人聊天、读报,协助午餐。", "幸福街道敬老院", tomorrow, tomorrow + 2 * hour, 2),
    ] {
        crate::volunteer::create_for(
            state,
            c,
            *by,
            *by,
            crate::volunteer::NewActivity {
                community_id: c.id,
                title: title.into(),
                description: description.into(),
                place: place.into(),
                starts_at: starts,
                ends_at: ends,
                capacity,
                rule: domain::volunteer::HoursRule::default(),
                geofence: None,
                organiser_phone: String::new(),
            },
        )
        .await?;
    }
    past_service(state, c, *by).await
}

/// Resident A's three hours at last week's clean-up, checked in and out and
/// confirmed by the community's staff the way an organiser does: the
/// volunteer record and the points ledger tell the same story.
async fn past_service(state: &State, c: &org_unit::Model, by: i64) -> AppResult<()> {
    use crate::entities::{
        volunteer_activity as activity, volunteer_attendance as attendance, volunteer_signup as signup,
    };
    use sea_orm::sea_query::Expr;
    let Some(u) = user::Entity::find().filter(user::Column::Phone.eq("13800000001")).one(&state.db).await? else {
        return Ok(());
    };
    let Some(staff) = user::Entity::find_by_id(by).one(&state.db).await? else { return Ok(()) };
    let now = Utc::now().timestamp();
    let id = crate::volunteer::create_for(
        state,
        c,
        by,
        by,
        crate::volunteer::NewActivity {
            community_id: c.id,
            title: "社区环境清洁志愿服务".into(),
            description: "清理楼道杂物和绿地垃圾。".into(),
            place: "阳光社区各楼栋".into(),
            starts_at: now + 3600,
            ends_at: now + 4 * 3600,
            capacity: 10,
            rule: domain::volunteer::HoursRule { points_per_hour: 20, ..Default::default() },
            geofence: None,
            organiser_phone: String::new(),
        },
    )
    .await?;
    // held a week ago, 9:00-12:00 Beijing time
    let day = (Utc::now() - chrono::Duration::days(7)).date_naive();
    let start = domain::time::beijing_at(day, chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default());
    let end = start + chrono::Duration::hours(3);
    activity::Entity::update_many()
        .col_expr(activity::Column::StartsAt, Expr::value(start))
        .col_expr(activity::Column::EndsAt, Expr::value(end))
        .col_expr(activity::Column::SignedUp, Expr::value(1))
        .filter(activity::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    signup::ActiveModel {
        activity_id: Set(id),
        user_id: Set(u.id),
        status: Set(domain::volunteer::SignupStatus::SignedUp),
        queued_at: Set(start - chrono::Duration::days(2)),
        updated_at: Set(start - chrono::Duration::days(2)),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    let a = attendance::ActiveModel {
        activity_id: Set(id),
        user_id: Set(u.id),
        check_in_at: Set(start),
        in_how: Set("qr".into()),
        check_out_at: Set(Some(end)),
        out_how: Set(Some("qr".into())),
        status: Set(domain::volunteer::AttendanceStatus::Open),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    let organiser = crate::auth::CurrentUser {
        id: staff.id,
        name: staff.name.clone(),
        phone: domain::Phone::parse(&staff.phone).map_err(crate::error::AppError::from)?,
        lang: domain::i18n::Lang::Zh,
        grants: crate::auth::load_grants(state, staff.id).await?,
        session_id: String::new(),
    };
    crate::volunteer::confirm(state, &organiser, a.id).await?;
    // a week-old "hours confirmed" message is not news: the demo starts
    // with an empty inbox (and no delivery waiting)
    let key = format!("volunteer:confirmed:{}", a.id);
    if let Some(n) = crate::entities::notification::Entity::find()
        .filter(crate::entities::notification::Column::UserId.eq(u.id))
        .filter(crate::entities::notification::Column::DedupeKey.eq(key))
        .one(&state.db)
        .await?
    {
        crate::jobs::cancel(&state.db, &format!("deliver:{}", n.id)).await?;
        crate::entities::notification::Entity::delete_by_id(n.id).exec(&state.db).await?;
    }
    Ok(())
}

/// An open poll in 阳光社区 and an owners' decision for its 1号楼, both open now.
async fn seed_votes(
    state: &State,
    orgs: &[org_unit::Model],
    staff_ids: &std::collections::HashMap<&str, i64>,
) -> AppResult<()> {
    use domain::votes::{NewVote, VoteForm};
    let (Some(c), Some(by)) = (orgs.iter().find(|o| o.name == "阳光社区"), staff_ids.get("阳光社区")) else {
        return Ok(());
    };
    let Some(b) = building::Entity::find()
        .filter(building::Column::CommunityId.eq(c.id))
        .filter(building::Column::Name.eq("1号楼"))
        .one(&state.db)
        .await?
    else {
        return Ok(());
    };
    let now = Utc::now();
    let local = |d: i64| domain::time::local_input(now + chrono::Duration::days(d));
    let (start, end) = (local(0), local(7));
    let building_id = b.id.to_string();
    let forms = [
        VoteForm {
            kind: "poll",
            title: "周末便民集市放在哪一天?",
            body: "社区计划每月举办一次便民集市(理发、磨刀、家电维修、旧衣回收)。请选择您方便的时间,结果将在居民议事会上讨论。",
            options: "每月第一个周六上午\n每月第一个周日上午\n每月最后一个周六下午",
            max_choices: "2",
            eligibility: "residents",
            live_results: true,
            starts_at: &start,
            ends_at: &end,
            ..Default::default()
        },
        VoteForm {
            kind: "owners",
            title: "1号楼加装电梯方案表决",
            body: "1号楼拟加装电梯两部,费用由各户按楼层分摊,详细方案见社区公告栏。依据民法典第二百七十八条,改建建筑物及其附属设施须经参与表决的四分之三以上业主同意。",
            matter: "7",
            building_id: &building_id,
            starts_at: &start,
            ends_at: &end,
            ..Default::default()
        },
    ];
    for f in forms {
        let new = NewVote::parse(&f, now.timestamp())?;
        let id = crate::votes::create_for(state, c, *by, new).await?;
        crate::votes::open(state, id).await?;
    }
    Ok(())
}

/// Service items with opening hours in both communities (slots follow from the hours).
async fn seed_appointments(
    state: &State,
    orgs: &[org_unit::Model],
    staff_ids: &std::collections::HashMap<&str, i64>,
) -> AppResult<()> {
    use domain::appointments::{HoursRule, ItemForm, ItemSettings};
    let all_days: Vec<String> = (1..=7).map(|d| d.to_string()).collect();
    let weekdays: Vec<String> = (1..=5).map(|d| d.to_string()).collect();
    // (community, name, guide, place, minutes, audience, quota, period, hours (days, from, to, slot, seats))
    type Hours<'a> = (&'a [String], &'a str, &'a str, &'a str, &'a str);
    type DemoItem<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str, Hours<'a>);
    let items: [DemoItem; 4] = [
        (
            "阳光社区",
            "老年人优待证办理",
            "请携带:本人身份证原件、一寸免冠照片1张。\n代办的请带代办人身份证。",
            "阳光社区党群服务中心一楼 1号窗口",
            "15",
            "household",
            "1",
            "week",
            (&weekdays, "09:00", "11:30", "30", "4"),
        ),
        (
            "阳光社区",
            "社区卫生服务站 健康体检",
            "空腹前来,请携带医保卡。\n65岁以上老人免费。",
            "阳光社区卫生服务站",
            "20",
            "verified",
            "1",
            "month",
            (&weekdays, "08:00", "10:00", "20", "3"),
        ),
        (
            "阳光社区",
            "法律咨询(律师值班)",
            "请提前准备好相关材料的复印件。",
            "阳光社区党群服务中心二楼 调解室",
            "30",
            "anyone",
            "",
            "",
            (&all_days, "14:00", "17:00", "30", "1"),
        ),
        (
            "和谐社区",
            "居住证明开具",
            "请携带:身份证、房产证或租房合同。",
            "和谐社区服务大厅",
            "10",
            "verified",
            "2",
            "month",
            (&weekdays, "09:00", "11:00", "20", "3"),
        ),
    ];
    for (community, name, guide, place, minutes, audience, quota, period, hours) in items {
        let (Some(c), Some(staff)) = (orgs.iter().find(|o| o.name == community), staff_ids.get(community)) else {
            continue;
        };
        let s = ItemSettings::parse(&ItemForm {
            name,
            guide,
            place,
            duration_minutes: minutes,
            audience,
            book_notice_hours: "1",
            cancel_notice_hours: "2",
            window_days: "7",
            quota_count: quota,
            quota_period: period,
            no_show_limit: "3",
            offer_minutes: "30",
        })?;
        let item = crate::appointments::insert_item(&state.db, c.id, *staff, s).await?;
        let (days, from, to, slot, seats) = hours;
        crate::appointments::insert_hours(&state.db, item, &HoursRule::parse(days, from, to, slot, seats)?).await?;
    }
    Ok(())
}
