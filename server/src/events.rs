//! `GET /api/v1/events`: server-sent events for the signed-in user.
//!
//! Every connection listens to its user's topic (inbox items, unread count)
//! and, on request (`?topics=org:12,org:15`), to org units the user may see
//! (announcements now; patrol positions, turnout and queues as those
//! features arrive). Events come through the bus, so with Redis an event
//! raised on any instance reaches connections on every instance.
//!
//! Reconnecting clients send `Last-Event-ID` (EventSource does it by itself)
//! and receive what they missed; when that is no longer kept they get a
//! `reset` event with the current unread count and reload what they show.

use actix_web::get;
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use backend::{
    events::{Event, Replay, Topic},
    State,
};
use bytes::Bytes;
use domain::ErrorCode;
use futures_util::StreamExt;
use serde::Deserialize;
use std::{collections::HashSet, sync::Arc, time::Duration};
use tokio_stream::{
    wrappers::{errors::BroadcastStreamRecvError, BroadcastStream},
    StreamMap,
};

use crate::api::{api_err, code_err, user, ApiError};

/// Comment lines keep proxies and phones from closing an idle connection.
const KEEP_ALIVE: Duration = Duration::from_secs(20);
/// Connections end after this long; the browser reconnects at once with its
/// Last-Event-ID (so a revoked session cannot listen forever).
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// How often a stream checks that its login is still live, besides ending at
/// once on the `session.revoked` event its logout publishes.
const RECHECK: Duration = Duration::from_secs(5 * 60);

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Comma-separated `org:<id>` topics.
    #[serde(default)]
    topics: Option<String>,
    /// For clients that cannot set the header.
    #[serde(default)]
    last_event_id: Option<String>,
}

/// Parses `org:12,patrols:15` into topics; anything else is an error.
fn parse_topics(s: &str) -> Option<Vec<Topic>> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let p = p.trim();
            if let Some(n) = p.strip_prefix("org:") {
                n.parse::<i64>().ok().map(Topic::Org)
            } else if let Some(n) = p.strip_prefix("patrols:") {
                n.parse::<i64>().ok().map(Topic::Patrols)
            } else {
                None
            }
        })
        .collect::<Option<Vec<_>>>()
        .filter(|v| v.len() <= 20)
}

fn frame(ev: &Event) -> Bytes {
    // data is one line of JSON, so a single data: field suffices
    Bytes::from(format!("id: {}\nevent: {}\ndata: {}\n\n", ev.id, ev.kind, ev.data))
}

fn named(kind: &str, id: Option<&str>, data: &serde_json::Value) -> Bytes {
    match id {
        Some(id) => Bytes::from(format!("id: {id}\nevent: {kind}\ndata: {data}\n\n")),
        None => Bytes::from(format!("event: {kind}\ndata: {data}\n\n")),
    }
}

#[utoipa::path(get, tag = "inbox", summary = "Server-sent events: inbox items, live patrol positions (`topics=org:ID,patrols:ID`)", params(EventsQuery, ("Last-Event-ID" = Option<String>, Header)), responses((status = 200, description = "an event stream (resumes from Last-Event-ID)", body = String, content_type = "text/event-stream"), crate::openapi::Refused))]
#[get("/events")]
pub async fn events_stream(
    req: HttpRequest,
    state: web::Data<State>,
    q: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let mut topics = vec![Topic::User(u.id)];
    if let Some(t) = q.topics.as_deref() {
        let asked = parse_topics(t).ok_or_else(|| code_err(&req, ErrorCode::InvalidInput))?;
        if asked.iter().any(|t| matches!(t, Topic::Org(_))) {
            let visible = backend::org::visible_ids(&state, &u).await.map_err(api_err(&req))?;
            if asked.iter().any(|t| matches!(t, Topic::Org(id) if !visible.contains(id))) {
                return Err(code_err(&req, ErrorCode::NotFound));
            }
        }
        for t in &asked {
            if let Topic::Patrols(grid) = t {
                // workers' positions are personal data: staff over the grid only
                if !backend::patrol::may_watch(&state, &u, *grid).await.map_err(api_err(&req))? {
                    return Err(code_err(&req, ErrorCode::NotFound));
                }
            }
        }
        topics.extend(asked);
    }
    let last_id = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| q.last_event_id.clone())
        .filter(|s| !s.is_empty() && s.len() < 64);

    // Subscribe before looking back, so nothing falls between the two.
    let bus = state.bus.clone();
    let mut live: StreamMap<String, BroadcastStream<Arc<Event>>> = StreamMap::new();
    for t in &topics {
        live.insert(t.key(), BroadcastStream::new(bus.hub().subscribe(t)));
    }
    let unread = backend::notify::unread(&state, u.id).await.map_err(api_err(&req))?;
    let mut first: Vec<Bytes> = vec![Bytes::from_static(b"retry: 3000\n\n")];
    let mut replayed: HashSet<String> = HashSet::new();
    match last_id {
        None => {
            let head = bus.head().await.map_err(api_err(&req))?;
            first.push(named("hello", Some(&head), &serde_json::json!({ "unread": unread })));
        }
        Some(after) => match bus.replay(&topics, &after).await.map_err(api_err(&req))? {
            Replay::Events(events) => {
                for ev in events.iter().filter(|ev| ev.kind != backend::auth::SESSION_REVOKED_EVENT) {
                    replayed.insert(ev.id.clone());
                    first.push(frame(ev));
                }
            }
            Replay::TooOld => {
                let head = bus.head().await.map_err(api_err(&req))?;
                first.push(named("reset", Some(&head), &serde_json::json!({ "unread": unread })));
            }
        },
    }
    let state2 = state.clone();
    let user_id = u.id;
    let session_id = u.session_id.clone();
    // the revocation notice is for this stream, never for the page
    let ends_this_login = move |ev: &Event| {
        ev.kind == backend::auth::SESSION_REVOKED_EVENT
            && serde_json::from_str::<serde_json::Value>(&ev.data)
                .ok()
                .is_some_and(|d| d["sid"].as_str() == Some(session_id.as_str()))
    };
    let session_id = u.session_id.clone();
    let body = async_stream::stream! {
        for b in first {
            yield Ok::<Bytes, actix_web::Error>(b);
        }
        let mut ping = tokio::time::interval(KEEP_ALIVE);
        ping.tick().await;
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.tick().await;
        let end = tokio::time::sleep(MAX_LIFETIME);
        tokio::pin!(end);
        loop {
            tokio::select! {
                item = live.next() => match item {
                    Some((_, Ok(ev))) => {
                        if ev.kind == backend::auth::SESSION_REVOKED_EVENT {
                            if ends_this_login(&ev) {
                                break;
                            }
                            continue;
                        }
                        if !replayed.is_empty() && replayed.remove(&ev.id) {
                            continue;
                        }
                        yield Ok(frame(&ev));
                    }
                    Some((_, Err(BroadcastStreamRecvError::Lagged(_)))) => {
                        // too slow to keep up: tell the page to reload what it shows
                        let unread = backend::notify::unread(&state2, user_id).await.unwrap_or(0);
                        let head = state2.bus.head().await.ok();
                        yield Ok(named("reset", head.as_deref(), &serde_json::json!({ "unread": unread })));
                    }
                    None => break,
                },
                _ = ping.tick() => yield Ok(Bytes::from_static(b": ping\n\n")),
                _ = recheck.tick() => {
                    // a database hiccup is not a logout: only a clear "no" ends the stream
                    if let Ok(false) = backend::auth::login_is_live(&state2, user_id, &session_id).await {
                        break;
                    }
                }
                _ = &mut end => break,
            }
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // not compressed: Compress would buffer the stream
        .insert_header((header::CONTENT_ENCODING, "identity"))
        // nginx: pass each event on at once
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::parse_topics;
    use backend::events::Topic;

    #[test]
    fn topics_are_org_ids_only() {
        assert_eq!(parse_topics("org:1,org:22"), Some(vec![Topic::Org(1), Topic::Org(22)]));
        assert_eq!(parse_topics("patrols:3"), Some(vec![Topic::Patrols(3)]));
        assert_eq!(parse_topics(""), Some(vec![]));
        assert_eq!(parse_topics("user:3"), None);
        assert_eq!(parse_topics("org:x"), None);
    }
}
