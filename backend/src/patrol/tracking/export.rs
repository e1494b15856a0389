//! A patrol's track for other programs: GPX 1.1 and GeoJSON.

use super::*;
use crate::support::xml::Xml;

pub(super) fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// GPX 1.1: checkpoints as waypoints, one track, a new segment at every
/// gap or pause; accuracy, speed and battery in our namespaced extensions.
pub async fn gpx(state: &State, user: &CurrentUser, id: i64) -> AppResult<String> {
    let t = track(state, user, id).await?;
    let name = format!("巡逻 #{}", t.p.id);
    let mut x = Xml::indented();
    x.open(
        "gpx",
        &[
            ("version", "1.1"),
            ("creator", "智慧社区 zhsq"),
            ("xmlns", "http://www.topografix.com/GPX/1/1"),
            ("xmlns:zhsq", "https://zhsq.invalid/gpx/1"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", "http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd"),
        ],
    );
    x.open("metadata", &[]).text("name", &name).text("time", &iso(t.p.started_at)).close("metadata");
    for c in &t.checkpoints {
        let (lat, lon) = (format!("{:.7}", c.lat), format!("{:.7}", c.lng));
        x.open("wpt", &[("lat", &lat), ("lon", &lon)])
            .text("name", &c.name)
            .text("desc", &format!("radius {} m", c.radius_m))
            .text("sym", "Flag")
            .close("wpt");
    }
    x.open("trk", &[]).text("name", &name);
    for seg in split_idx(&t) {
        x.open("trkseg", &[]);
        for i in seg {
            let m = &t.points[i];
            let (lat, lon) = (format!("{:.7}", m.lat), format!("{:.7}", m.lng));
            x.open("trkpt", &[("lat", &lat), ("lon", &lon)]);
            if let Some(e) = m.altitude {
                x.text("ele", &format!("{e:.1}"));
            }
            x.text("time", &iso(m.at)).open("extensions", &[]).text("zhsq:accuracy", &format!("{:.1}", m.accuracy_m));
            if let Some(s) = m.speed_mps {
                x.text("zhsq:speed", &format!("{s:.2}"));
            }
            if let Some(b) = m.battery {
                x.text("zhsq:battery", &b.to_string());
            }
            x.close("extensions").close("trkpt");
        }
        x.close("trkseg");
    }
    x.close("trk").close("gpx");
    Ok(x.finish())
}

/// GeoJSON: the track as a MultiLineString (one line per segment) and the
/// checkpoints as Points with their check-in result. WGS-84, [lng, lat].
pub async fn geojson(state: &State, user: &CurrentUser, id: i64) -> AppResult<serde_json::Value> {
    use serde_json::json;
    let t = track(state, user, id).await?;
    let en = user.lang.is_en();
    let rows = patrol_checkin::Entity::find()
        .filter(patrol_checkin::Column::PatrolId.eq(id))
        .order_by_asc(patrol_checkin::Column::At)
        .order_by_asc(patrol_checkin::Column::Id)
        .all(&state.db)
        .await?;
    let names = checkpoint_names(state, &rows.iter().map(|c| c.checkpoint_id).collect::<Vec<_>>()).await?;
    // RFC 7946 §3.1.4: a LineString has two or more positions, so a stretch
    // of one fix (between two gaps) is a Point of its own, not a line
    let stretches = split(&t);
    let (lines, singles): (Vec<_>, Vec<_>) = stretches.iter().partition(|s| s.len() >= 2);
    let coordinates: Vec<Vec<[f64; 2]>> = lines.iter().map(|s| s.iter().map(|p| [p.lng, p.lat]).collect()).collect();
    let times: Vec<Vec<String>> = lines.iter().map(|s| s.iter().map(|p| iso(ts(p.at))).collect()).collect();
    let mut features = vec![json!({
        "type": "Feature",
        "geometry": {"type": "MultiLineString", "coordinates": coordinates},
        "properties": {"patrol": t.p.id, "state": t.p.state, "started_at": iso(t.p.started_at),
                       "ended_at": t.p.ended_at.map(iso), "times": times}
    })];
    for p in singles.iter().flat_map(|s| s.iter()) {
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p.lng, p.lat]},
            "properties": {"patrol": t.p.id, "kind": "lone_fix", "time": iso(ts(p.at))}
        }));
    }
    for c in &t.checkpoints {
        // times in UTC with their offset, as the track's
        let mine: Vec<serde_json::Value> = rows
            .iter()
            .filter(|r| r.checkpoint_id == c.id)
            .map(|r| {
                let v = checkin_view(r, &names, en);
                json!({"id": v.id, "checkpoint_id": v.checkpoint_id, "checkpoint": v.checkpoint,
                       "time": iso(r.at), "accepted": v.accepted, "evidence": v.evidence})
            })
            .collect();
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [c.lng, c.lat]},
            "properties": {"name": c.name, "radius": c.radius_m, "seq": c.seq,
                           "visited": mine.iter().any(|v| v["accepted"] == true), "checkins": mine}
        }));
    }
    Ok(json!({"type": "FeatureCollection", "features": features}))
}
