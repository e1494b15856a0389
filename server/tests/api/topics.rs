//! 议事协商 (rules.md §4): proposals published only after staff review,
//! threaded comments with official answers, three reports hide a comment
//! until staff review it, participation points under a daily cap (also when
//! earned concurrently), each at most once.

use crate::appointments::current;
use crate::helpers::*;
use crate::points::dwellings;
use crate::votes::resident;
use backend::auth::CurrentUser;
use backend::entities::{participation_day, points_entry, topic_comment};
use backend::topics::{self, CommentPointsJob};
use domain::topics::{CommentStatus, TopicStatus, DAILY_CAP};
use domain::ErrorCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

async fn people(app: &TestApp, n: usize, prefix: &str) -> Vec<CurrentUser> {
    let homes = dwellings(app, 20).await;
    let mut out = vec![];
    for i in 0..n {
        out.push(resident(app, &format!("{prefix}{i:04}"), homes[i % homes.len()].id, "family_member").await);
    }
    out
}

async fn participation(app: &TestApp, user: i64) -> i64 {
    points_entry::Entity::find()
        .filter(points_entry::Column::UserId.eq(user))
        .filter(points_entry::Column::Kind.eq("participation"))
        .all(&app.state.db)
        .await
        .unwrap()
        .iter()
        .map(|e| e.points)
        .sum()
}

#[tokio::test]
async fn proposals_are_published_after_review_and_discussed_in_threads() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let community = app.org_id("阳光社区").await;
    let ps = people(&app, 2, "1361000").await;
    let (proposer, neighbour) = (&ps[0], &ps[1]);
    let id =
        topics::propose(&app.state, proposer, community, "小区增设充电桩", "楼下电动车无处充电。", 7).await.unwrap();
    // nobody else sees a proposal before review
    assert_eq!(topics::page(&app.state, neighbour, id).await.unwrap_err().code, ErrorCode::NotFound);
    assert!(topics::list_for(&app.state, neighbour).await.unwrap().iter().all(|t| t.id != id));
    assert_eq!(topics::page(&app.state, proposer, id).await.unwrap().topic.status, TopicStatus::Pending);
    assert_eq!(
        topics::comment(&app.state, proposer, id, None, "先顶", false).await.unwrap_err().code,
        ErrorCode::TopicNotOpen
    );
    // residents of another community cannot propose here; residents cannot review
    let other = current(&app, RESIDENT_B).await;
    assert_eq!(
        topics::propose(&app.state, &other, community, "x", "y", 7).await.unwrap_err().code,
        ErrorCode::NotFound
    );
    assert_eq!(topics::review(&app.state, proposer, id, true, 7, "").await.unwrap_err().code, ErrorCode::Forbidden);
    assert_eq!(
        topics::review(&app.state, &staff, id, false, 7, " ").await.unwrap_err().code,
        ErrorCode::ReasonRequired
    );
    assert_eq!(
        topics::staff_list(&app.state, &staff).await.unwrap()[0].status,
        TopicStatus::Pending,
        "proposals first"
    );
    topics::review(&app.state, &staff, id, true, 5, "").await.unwrap();
    assert_eq!(topics::review(&app.state, &staff, id, true, 5, "").await.unwrap_err().code, ErrorCode::AlreadyDecided);
    let t = topics::page(&app.state, neighbour, id).await.unwrap().topic;
    assert_eq!(t.status, TopicStatus::Published);
    assert!(t.by_resident && t.answer_due_at.is_some() && t.answered_at.is_none() && !t.overdue);

    // a thread: a comment, a reply, a reply to the reply, another comment
    let a = topics::comment(&app.state, neighbour, id, None, "赞成,建议装在车棚", false).await.unwrap();
    let b = topics::comment(&app.state, proposer, id, None, "需要物业确认电容量", false).await.unwrap();
    let a1 = topics::comment(&app.state, proposer, id, Some(a), "车棚有电源", false).await.unwrap();
    let a2 = topics::comment(&app.state, neighbour, id, Some(a1), "好", false).await.unwrap();
    assert_eq!(
        topics::comment(&app.state, neighbour, id, None, "  ", false).await.unwrap_err().code,
        ErrorCode::InvalidComment
    );
    assert_eq!(
        topics::comment(&app.state, neighbour, id, None, "官方?", true).await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    let official = topics::comment(&app.state, &staff, id, Some(b), "已联系供电所,下周答复", true).await.unwrap();
    let p = topics::page(&app.state, neighbour, id).await.unwrap();
    let order: Vec<(i64, usize)> = p.comments.iter().map(|c| (c.id, c.depth)).collect();
    assert_eq!(order, vec![(a, 0), (a1, 1), (a2, 2), (b, 0), (official, 1)]);
    assert!(p.comments.iter().find(|c| c.id == official).unwrap().official);
    assert!(p.topic.answered_at.is_some(), "the official answer stamps the topic");
    // closed: no more comments
    topics::close(&app.state, &staff, id).await.unwrap();
    assert_eq!(
        topics::comment(&app.state, neighbour, id, None, "晚了", false).await.unwrap_err().code,
        ErrorCode::TopicNotOpen
    );
}

#[tokio::test]
async fn three_reports_hide_a_comment_until_staff_review_it() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let community = app.org_id("阳光社区").await;
    let id = topics::propose(&app.state, &staff, community, "楼道堆物整治", "材料", 7).await.unwrap();
    let ps = people(&app, 5, "1362000").await;
    let author = &ps[0];
    let c = topics::comment(&app.state, author, id, None, "有争议的评论", false).await.unwrap();
    assert_eq!(topics::report(&app.state, author, c, "").await.unwrap_err().code, ErrorCode::Forbidden);
    // two reports, one of them twice at once: still visible
    let twice = futures_util::future::join_all((0..3).map(|_| topics::report(&app.state, &ps[1], c, "广告"))).await;
    assert!(twice.iter().all(|r| matches!(r, Ok(false))));
    topics::report(&app.state, &ps[2], c, "").await.unwrap();
    let row = topic_comment::Entity::find_by_id(c).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!((row.reports, row.status.as_str()), (2, "visible"));
    // the third and fourth at once: hidden, counted exactly
    let r = futures_util::future::join_all([&ps[3], &ps[4]].map(|p| topics::report(&app.state, p, c, ""))).await;
    assert!(r.iter().all(|x| x.is_ok()));
    let row = topic_comment::Entity::find_by_id(c).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!((row.reports, row.status.as_str()), (4, "hidden"));
    let neighbour_view = topics::page(&app.state, &ps[1], id).await.unwrap();
    let cv = neighbour_view.comments.iter().find(|x| x.id == c).unwrap();
    assert_eq!((cv.status, cv.body.as_str()), (CommentStatus::Hidden, ""));
    let author_view = topics::page(&app.state, author, id).await.unwrap();
    assert_eq!(author_view.comments.iter().find(|x| x.id == c).unwrap().body, "有争议的评论");
    assert_eq!(topics::moderation_queue(&app.state, &staff).await.unwrap().len(), 1);
    assert_eq!(topics::moderate(&app.state, author, c, true).await.unwrap_err().code, ErrorCode::Forbidden);
    // kept: visible again, and reports no longer hide it
    topics::moderate(&app.state, &staff, c, true).await.unwrap();
    let more = people(&app, 3, "1363000").await;
    for p in &more {
        topics::report(&app.state, p, c, "").await.unwrap();
    }
    let row = topic_comment::Entity::find_by_id(c).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(row.status, "visible");
    assert!(topics::moderation_queue(&app.state, &staff).await.unwrap().is_empty());

    // a removed comment never earns its points; a standing one does, once
    let bad = topics::comment(&app.state, author, id, None, "广告链接", false).await.unwrap();
    topics::moderate(&app.state, &staff, bad, false).await.unwrap();
    topics::comment_points_job(&app.state, CommentPointsJob { comment: bad }).await.unwrap();
    assert_eq!(participation(&app, author.id).await, 0);
    for _ in 0..2 {
        topics::comment_points_job(&app.state, CommentPointsJob { comment: c }).await.unwrap();
    }
    assert_eq!(participation(&app, author.id).await, domain::topics::COMMENT_POINTS);
}

#[tokio::test]
async fn participation_points_stop_at_the_daily_cap_even_when_earned_at_once() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let community = app.org_id("阳光社区").await;
    let mut ids = vec![];
    for i in 0..15 {
        ids.push(topics::propose(&app.state, &staff, community, &format!("议题{i}"), "材料", 7).await.unwrap());
    }
    let p = &people(&app, 1, "1364000").await[0];
    let got = futures_util::future::join_all(ids.iter().map(|t| topics::mark_read(&app.state, p, *t))).await;
    let given: i64 = got.into_iter().map(|g| g.unwrap()).sum();
    assert_eq!(given, DAILY_CAP);
    assert_eq!(participation(&app, p.id).await, DAILY_CAP);
    let days = participation_day::Entity::find()
        .filter(participation_day::Column::UserId.eq(p.id))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(days.iter().map(|d| d.points).sum::<i64>(), DAILY_CAP);
    // reading again gives nothing; the ledger explains every point
    assert_eq!(topics::mark_read(&app.state, p, ids[0]).await.unwrap(), 0);
    assert_eq!(backend::points::balance(&app.state.db, p.id).await.unwrap(), DAILY_CAP);

    // a meeting recorded for a fresh person: 5 points, once
    let q = &people(&app, 1, "1365000").await[0];
    assert_eq!(topics::record_meeting(&app.state, &staff, ids[0], "13650000000, 13650000000").await.unwrap(), 1);
    assert_eq!(topics::record_meeting(&app.state, &staff, ids[0], "13650000000").await.unwrap(), 0);
    assert_eq!(participation(&app, q.id).await, domain::topics::MEETING_POINTS);
    assert_eq!(
        topics::record_meeting(&app.state, &staff, ids[0], "12345").await.unwrap_err().code,
        ErrorCode::InvalidPhone
    );
}

#[tokio::test]
async fn a_refused_reply_comes_back_with_its_text_on_a_plain_page() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let community = app.org_id("阳光社区").await;
    let id = topics::propose(&app.state, &staff, community, "垃圾分类投放点调整", "材料", 7).await.unwrap();
    let c = topics::comment(&app.state, &staff, id, None, "欢迎发表意见", false).await.unwrap();
    let resident = crate::pages::browser(&app).await;
    resident.code_login(RESIDENT_A).await;
    let long = "很长的回复".repeat(201);
    let r = resident
        .form(
            crate::pages::path::<app::topics::PostComment>(),
            &format!("/topics/{id}"),
            &[("id", &id.to_string()), ("parent", &c.to_string()), ("body", &long)],
        )
        .await;
    let to = crate::pages::location(&r);
    assert!(to.contains("error=invalid_comment"), "{to}");
    let (status, html) = resident.page(&to).await;
    assert_eq!(status, 200);
    assert!(html.contains("评论内容须为1到1000个字"), "the reason in words");
    assert!(html.contains(&long), "the reply typed is still there");
}
