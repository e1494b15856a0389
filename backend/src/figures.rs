//! Evaluation figures (考核指标: 办结率, 到位率, 更新频率, 满意度) over a
//! period for the communities, grids and grid workers in a staff member's
//! scope. This module only collects `domain::figures::Item`s from the
//! records — incidents and their append-only events, patrol plans and the
//! append-only check-ins — and `domain::figures` does every count, so the
//! table, the drill-down and the exports agree item by item.

use chrono::{DateTime, Utc};
use domain::time::beijing_time;
use domain::{
    figures::{self, Drill, Figures, FiguresReport, Item, Metric, Period, Subject, SubjectInfo},
    geo::Evidence,
    incidents::Action,
    ErrorCode, OrgLevel, Role,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::{
    auth::CurrentUser,
    entities::{checkpoint, incident, incident_event, patrol, patrol_checkin, patrol_plan, patrol_route, user_role},
    error::AppResult,
    State,
};

/// Steps by a grid worker that count as an information update.
const UPDATE_ACTIONS: [Action; 5] =
    [Action::Report, Action::Start, Action::Handle, Action::Note, Action::RequestExtension];

/// Today in Beijing.
pub fn today() -> chrono::NaiveDate {
    domain::time::beijing_date(Utc::now())
}

/// What a staff member's figures cover.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// (id, name)
    pub communities: Vec<(i64, String)>,
    /// (id, name, community)
    pub grids: Vec<(i64, String, i64)>,
    /// (user, name, grids)
    pub workers: Vec<(i64, String, Vec<i64>)>,
}

impl Scope {
    fn community_of_grid(&self, grid: i64) -> Option<i64> {
        self.grids.iter().find(|g| g.0 == grid).map(|g| g.2)
    }

    pub fn name(&self, s: Subject) -> String {
        match s {
            Subject::Community(id) => self.communities.iter().find(|c| c.0 == id).map(|c| c.1.clone()),
            Subject::Grid(id) => self.grids.iter().find(|g| g.0 == id).map(|g| g.1.clone()),
            Subject::Worker(id) => self.workers.iter().find(|w| w.0 == id).map(|w| w.1.clone()),
            Subject::Ungridded(id) => self.communities.iter().find(|c| c.0 == id).map(|c| c.1.clone()),
        }
        .unwrap_or_default()
    }

    /// Every subject with its worker-days over `days` days: communities,
    /// then their grids, then the grids' workers.
    pub fn subjects(&self, days: u32, en: bool) -> Vec<SubjectInfo> {
        let mut out = vec![];
        for (c, name) in &self.communities {
            let workers: HashSet<i64> = self
                .workers
                .iter()
                .filter(|w| w.2.iter().any(|g| self.community_of_grid(*g) == Some(*c)))
                .map(|w| w.0)
                .collect();
            out.push(SubjectInfo {
                subject: Subject::Community(*c),
                name: name.clone(),
                parent: String::new(),
                worker_days: days * workers.len() as u32,
            });
        }
        for (g, name, c) in &self.grids {
            let n = self.workers.iter().filter(|w| w.2.contains(g)).count() as u32;
            out.push(SubjectInfo {
                subject: Subject::Grid(*g),
                name: name.clone(),
                parent: self.name(Subject::Community(*c)),
                worker_days: days * n,
            });
        }
        // what is in none of a community's grids, beside them
        for (c, name) in &self.communities {
            out.push(SubjectInfo {
                subject: Subject::Ungridded(*c),
                name: if en { "(outside any grid)" } else { "(未划入网格)" }.to_string(),
                parent: name.clone(),
                worker_days: 0,
            });
        }
        for (w, name, grids) in &self.workers {
            out.push(SubjectInfo {
                subject: Subject::Worker(*w),
                name: name.clone(),
                parent: grids.iter().map(|g| self.name(Subject::Grid(*g))).collect::<Vec<_>>().join("、"),
                worker_days: days,
            });
        }
        out
    }
}

/// The communities, grids and grid workers under the staff member's grants.
pub async fn scope(state: &State, staff: &CurrentUser) -> AppResult<Scope> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let mut s = Scope::default();
    for g in staff.grants.iter().filter(|g| g.role.is_staff()) {
        for n in crate::org::subtree(state, &g.org_path).await? {
            match n.level {
                OrgLevel::Community if !s.communities.iter().any(|c| c.0 == n.id) => s.communities.push((n.id, n.name)),
                OrgLevel::Grid if !s.grids.iter().any(|x| x.0 == n.id) => {
                    // the community is the grid's parent in the path
                    let ids = n.path.ids();
                    if let Some(c) = ids.len().checked_sub(2).and_then(|i| ids.get(i)) {
                        s.grids.push((n.id, n.name, *c));
                    }
                }
                _ => {}
            }
        }
    }
    let grid_ids: Vec<i64> = s.grids.iter().map(|g| g.0).collect();
    let roles = user_role::Entity::find()
        .filter(user_role::Column::Role.eq(Role::GridWorker))
        .filter(user_role::Column::OrgUnitId.is_in(grid_ids))
        .order_by_asc(user_role::Column::UserId)
        .all(&state.db)
        .await?;
    let names =
        crate::support::people::names(state, roles.iter().map(|r| r.user_id), crate::support::people::english(staff))
            .await?;
    for r in roles {
        match s.workers.iter_mut().find(|w| w.0 == r.user_id) {
            Some(w) => w.2.push(r.org_unit_id),
            None => {
                s.workers.push((r.user_id, names.get(&r.user_id).cloned().unwrap_or_default(), vec![r.org_unit_id]))
            }
        }
    }
    Ok(s)
}

fn short(text: &str, n: usize) -> String {
    let t: String = text.chars().take(n).collect();
    if text.chars().count() > n {
        format!("{t}…")
    } else {
        t
    }
}

fn incident_title(i: &incident::Model, en: bool) -> String {
    let cat = i.category.name(en);
    format!("#{} {cat} · {}", i.id, short(&i.description, 24))
}

/// Every item behind the figures of `scope` over `period`, as of `now`.
pub async fn items(
    state: &State,
    scope: &Scope,
    period: &Period,
    now: DateTime<Utc>,
    en: bool,
) -> AppResult<Vec<Item>> {
    let (start, end) = period.bounds();
    let communities: Vec<i64> = scope.communities.iter().map(|c| c.0).collect();
    let workers: HashSet<i64> = scope.workers.iter().map(|w| w.0).collect();
    let mut out: Vec<Item> = vec![];

    // ---- 办结率: each case with a deadline counts once, in the period of
    // its close when it was closed within the deadline (so closing a case
    // moves today's figure at once), else in the period of its deadline once
    // that has passed
    let due = incident::Entity::find()
        .filter(incident::Column::CommunityId.is_in(communities.clone()))
        .filter(incident::Column::Deadline.is_not_null())
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(incident::Column::Deadline.gte(start))
                        .add(incident::Column::Deadline.lt(end)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(incident::Column::ClosedAt.gte(start))
                        .add(incident::Column::ClosedAt.lt(end)),
                ),
        )
        .order_by_asc(incident::Column::Deadline)
        .all(&state.db)
        .await?;
    let mut steps: HashMap<i64, Vec<incident_event::Model>> = HashMap::new();
    for e in incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.is_in(due.iter().map(|i| i.id).collect::<Vec<_>>()))
        .filter(incident_event::Column::Action.is_in([Action::Handle, Action::Close]))
        .order_by_asc(incident_event::Column::Id)
        .all(&state.db)
        .await?
    {
        steps.entry(e.incident_id).or_default().push(e);
    }
    for i in &due {
        let Some(deadline) = i.deadline else { continue };
        let evs = steps.get(&i.id).map(Vec::as_slice).unwrap_or(&[]);
        let close = evs.iter().find(|e| e.action == Action::Close);
        // the handling that was verified: the last one before the close
        let handled = close.and_then(|c| evs.iter().rfind(|e| e.action == Action::Handle && e.id < c.id));
        let on_time = close.is_some() && handled.is_some_and(|h| h.at <= deadline);
        // closed by the deadline: the outcome is known at the close, and is
        // counted then; otherwise the deadline decides, once it has passed
        let counted_at = match close {
            Some(c) if c.at <= deadline => c.at,
            _ => deadline,
        };
        if counted_at < start || counted_at >= end || counted_at > now {
            continue;
        }
        let d = beijing_time(deadline);
        let detail = match (close, handled) {
            (Some(c), Some(h)) if on_time => {
                if en {
                    format!(
                        "deadline {d}; handled {}, closed {} (counted when it closed)",
                        beijing_time(h.at),
                        beijing_time(c.at)
                    )
                } else {
                    format!("期限 {d};{} 处置完成,{} 结案(按结案时间计入)", beijing_time(h.at), beijing_time(c.at))
                }
            }
            (Some(c), Some(h)) => {
                if en {
                    format!(
                        "deadline {d}; handled {} — after the deadline; closed {}",
                        beijing_time(h.at),
                        beijing_time(c.at)
                    )
                } else {
                    format!("期限 {d};{} 才处置完成(逾期),{} 结案", beijing_time(h.at), beijing_time(c.at))
                }
            }
            (Some(c), None) => {
                if en {
                    format!("deadline {d}; closed {} without a recorded handling", beijing_time(c.at))
                } else {
                    format!("期限 {d};{} 结案,无处置记录", beijing_time(c.at))
                }
            }
            (None, _) => {
                let status = i.status.text(en);
                if en {
                    format!("deadline {d} passed; not closed (now: {status})")
                } else {
                    format!("期限 {d} 已过,尚未办结(当前:{status})")
                }
            }
        };
        out.push(Item {
            metric: Metric::Closure,
            community: i.community_id,
            grid: i.grid_id,
            worker: i.assignee_id.filter(|a| workers.contains(a)),
            score: u32::from(on_time),
            at: d,
            title: incident_title(i, en),
            detail,
            link: Some(format!("/incidents/{}", i.id)),
        });
    }

    // ---- 更新频率 and 满意度: events in the period
    let mut actions: Vec<&str> = UPDATE_ACTIONS.iter().map(|a| a.as_str()).collect();
    actions.push(Action::Rate.as_str());
    let in_scope = sea_orm::sea_query::Query::select()
        .column(incident::Column::Id)
        .from(incident::Entity)
        .and_where(incident::Column::CommunityId.is_in(communities.clone()))
        .to_owned();
    let events = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.in_subquery(in_scope))
        .filter(incident_event::Column::At.gte(start))
        .filter(incident_event::Column::At.lt(end))
        .filter(incident_event::Column::Action.is_in(actions))
        .order_by_asc(incident_event::Column::At)
        .order_by_asc(incident_event::Column::Id)
        .all(&state.db)
        .await?;
    let mut ids: Vec<i64> = events.iter().map(|e| e.incident_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let incidents: HashMap<i64, incident::Model> = incident::Entity::find()
        .filter(incident::Column::Id.is_in(ids))
        .filter(incident::Column::CommunityId.is_in(communities))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    for e in &events {
        let Some(i) = incidents.get(&e.incident_id) else { continue };
        let action = e.action;
        if action == Action::Rate {
            let Some(stars) = i.rating else { continue };
            let comment = i.rating_comment.as_deref().map(|c| short(c, 40)).unwrap_or_default();
            out.push(Item {
                metric: Metric::Satisfaction,
                community: i.community_id,
                grid: i.grid_id,
                worker: i.assignee_id.filter(|a| workers.contains(a)),
                score: stars.clamp(1, 5) as u32,
                at: beijing_time(e.at),
                title: incident_title(i, en),
                detail: format!(
                    "{}{}{comment}",
                    "★".repeat(stars.clamp(1, 5) as usize),
                    if comment.is_empty() { "" } else { " " }
                ),
                link: Some(format!("/incidents/{}", i.id)),
            });
        } else if let Some(actor) = e.actor_id.filter(|a| workers.contains(a)) {
            out.push(Item {
                metric: Metric::Updates,
                community: i.community_id,
                grid: i.grid_id,
                worker: Some(actor),
                score: 1,
                at: beijing_time(e.at),
                title: incident_title(i, en),
                detail: action.text(en).to_string(),
                link: Some(format!("/incidents/{}", i.id)),
            });
        }
    }

    // ---- 到位率: visits the patrol plans required
    let grid_ids: Vec<i64> = scope.grids.iter().map(|g| g.0).collect();
    let routes: HashMap<i64, patrol_route::Model> = patrol_route::Entity::find()
        .filter(patrol_route::Column::GridId.is_in(grid_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let plans = patrol_plan::Entity::find()
        .filter(patrol_plan::Column::RouteId.is_in(routes.keys().copied().collect::<Vec<_>>()))
        .order_by_asc(patrol_plan::Column::Id)
        .all(&state.db)
        .await?;
    let mut cps: BTreeMap<i64, Vec<checkpoint::Model>> = BTreeMap::new();
    for c in checkpoint::Entity::find()
        .filter(checkpoint::Column::RouteId.is_in(plans.iter().map(|p| p.route_id).collect::<Vec<_>>()))
        .order_by_asc(checkpoint::Column::Seq)
        .all(&state.db)
        .await?
    {
        cps.entry(c.route_id).or_default().push(c);
    }
    let cp_ids: Vec<i64> = cps.values().flatten().map(|c| c.id).collect();
    let checkins = if plans.is_empty() {
        vec![]
    } else {
        patrol_checkin::Entity::find()
            .filter(patrol_checkin::Column::CheckpointId.is_in(cp_ids))
            .filter(patrol_checkin::Column::At.gte(start))
            .filter(patrol_checkin::Column::At.lt(end))
            .order_by_asc(patrol_checkin::Column::At)
            .all(&state.db)
            .await?
    };
    let patrol_worker: HashMap<i64, i64> = patrol::Entity::find()
        .filter(patrol::Column::Id.is_in(checkins.iter().map(|c| c.patrol_id).collect::<HashSet<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.worker_id))
        .collect();
    // (checkpoint, worker) → their check-ins in time order
    let mut by_visit: HashMap<(i64, i64), Vec<&patrol_checkin::Model>> = HashMap::new();
    for k in &checkins {
        if let Some(w) = patrol_worker.get(&k.patrol_id) {
            by_visit.entry((k.checkpoint_id, *w)).or_default().push(k);
        }
    }
    for p in &plans {
        let Some(route) = routes.get(&p.route_id) else { continue };
        let Some(community) = scope.community_of_grid(route.grid_id) else { continue };
        let rule = crate::patrol::rule_of(p);
        for day in rule.required_days(period, now, p.ended_at) {
            let (from, to) = rule.window(day);
            let window = format!(
                "{} {}–{}",
                day.format("%Y-%m-%d"),
                figures::clock_text(rule.start_min),
                figures::clock_text(rule.end_min)
            );
            for c in cps.get(&p.route_id).into_iter().flatten().filter(|c| c.created_at <= to) {
                let mine: Vec<&patrol_checkin::Model> = by_visit
                    .get(&(c.id, p.worker_id))
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|k| k.at >= from && k.at < to)
                    .collect();
                let accepted = mine.iter().find(|k| k.accepted);
                let (score, detail, link) = match (accepted, mine.first()) {
                    (Some(k), _) => (
                        1,
                        if en {
                            format!("accepted check-in at {}", beijing_time(k.at))
                        } else {
                            format!("{} 有效签到", beijing_time(k.at))
                        },
                        Some(format!("/patrols/{}", k.patrol_id)),
                    ),
                    (None, Some(k)) => {
                        let why: Vec<String> = serde_json::from_str::<Vec<Evidence>>(&k.evidence)
                            .unwrap_or_default()
                            .iter()
                            .filter(|e| e.is_flag())
                            .map(|e| e.text(en))
                            .collect();
                        (
                            0,
                            if en {
                                format!("only flagged check-ins ({}): {}", beijing_time(k.at), why.join("; "))
                            } else {
                                format!("仅有存疑签到({}):{}", beijing_time(k.at), why.join(";"))
                            },
                            Some(format!("/patrols/{}", k.patrol_id)),
                        )
                    }
                    (None, None) => {
                        (0, if en { "no check-in in the window".into() } else { "时段内未签到".into() }, None)
                    }
                };
                out.push(Item {
                    metric: Metric::Presence,
                    community,
                    grid: Some(route.grid_id),
                    worker: Some(p.worker_id),
                    score,
                    at: window.clone(),
                    title: format!("{} · {}", route.name, c.name),
                    detail,
                    link,
                });
            }
        }
    }
    Ok(out)
}

/// The items in the staff member's scope over the period and every
/// subject's figures from them.
async fn compute(
    state: &State,
    staff: &CurrentUser,
    period: &Period,
    en: bool,
) -> AppResult<(Scope, Vec<Item>, Vec<Figures>)> {
    let scope = scope(state, staff).await?;
    let now = Utc::now();
    let items = items(state, &scope, period, now, en).await?;
    let subjects = scope.subjects(period.days_until(domain::time::beijing_date(now)), en);
    let mut rows = figures::tabulate(&items, &subjects);
    // a community's row for items in no grid is shown only when it has any
    rows.retain(|r| {
        !matches!(r.subject, Subject::Ungridded(_)) || r.closure.den + r.presence.den + r.updates + r.ratings > 0
    });
    Ok((scope, items, rows))
}

/// The figures page: every subject's figures over the period, and the
/// items behind one figure when asked.
pub async fn report(
    state: &State,
    staff: &CurrentUser,
    period: Period,
    drill: Option<(Subject, Metric)>,
    en: bool,
) -> AppResult<FiguresReport> {
    let (_, items, rows) = compute(state, staff, &period, en).await?;
    let drill = match drill {
        Some((subject, metric)) => {
            let row: &Figures = rows.iter().find(|r| r.subject == subject).ok_or(ErrorCode::NotFound)?;
            Some(Drill {
                subject,
                name: row.name.clone(),
                metric,
                figure: row.text(metric),
                basis: row.basis(metric, en),
                items: figures::drill(&items, subject, metric).into_iter().cloned().collect(),
            })
        }
        None => None,
    };
    Ok(FiguresReport { period, rows, drill })
}

/// The exports: the table (a header and a row per subject) and every item.
pub async fn export(
    state: &State,
    staff: &CurrentUser,
    period: Period,
    en: bool,
) -> AppResult<(Vec<Vec<String>>, Vec<Vec<String>>)> {
    let (scope, items, rows) = compute(state, staff, &period, en).await?;
    let names = |s: Subject| scope.name(s);
    Ok((figures::table_rows(&rows, en), figures::item_rows(&items, &names, en)))
}
