//! A patrol's track for other programs: GPX 1.1 and GeoJSON.

use super::*;
use domain::text::escape_xml;

pub(super) fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// GPX 1.1: checkpoints as waypoints, one track, a new segment at every
/// gap or pause; accuracy, speed and battery in our namespaced extensions.
pub async fn gpx(state: &State, user: &CurrentUser, id: i64) -> AppResult<String> {
    use std::fmt::Write;
    let t = track(state, user, id).await?;
    let mut out = String::with_capacity(256 + t.points.len() * 200);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<gpx version=\"1.1\" creator=\"智慧社区 zhsq\" xmlns=\"http://www.topografix.com/GPX/1/1\" xmlns:zhsq=\"https://zhsq.invalid/gpx/1\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd\">\n");
    let _ = writeln!(
        out,
        "  <metadata><name>{}</name><time>{}</time></metadata>",
        escape_xml(&format!("巡逻 #{}", t.p.id)),
        iso(t.p.started_at)
    );
    for c in &t.checkpoints {
        let _ = writeln!(
            out,
            "  <wpt lat=\"{:.7}\" lon=\"{:.7}\"><name>{}</name><desc>{}</desc><sym>Flag</sym></wpt>",
            c.lat,
            c.lng,
            escape_xml(&c.name),
            escape_xml(&format!("radius {} m", c.radius_m))
        );
    }
    let _ = writeln!(out, "  <trk><name>{}</name>", escape_xml(&format!("巡逻 #{}", t.p.id)));
    for seg in split_idx(&t) {
        out.push_str("    <trkseg>\n");
        for i in seg {
            let m = &t.points[i];
            let _ = write!(out, "      <trkpt lat=\"{:.7}\" lon=\"{:.7}\">", m.lat, m.lng);
            if let Some(e) = m.altitude {
                let _ = write!(out, "<ele>{e:.1}</ele>");
            }
            let _ =
                write!(out, "<time>{}</time><extensions><zhsq:accuracy>{:.1}</zhsq:accuracy>", iso(m.at), m.accuracy_m);
            if let Some(s) = m.speed_mps {
                let _ = write!(out, "<zhsq:speed>{s:.2}</zhsq:speed>");
            }
            if let Some(b) = m.battery {
                let _ = write!(out, "<zhsq:battery>{b}</zhsq:battery>");
            }
            out.push_str("</extensions></trkpt>\n");
        }
        out.push_str("    </trkseg>\n");
    }
    out.push_str("  </trk>\n</gpx>\n");
    Ok(out)
}

/// GeoJSON: the track as a MultiLineString (one line per segment) and the
/// checkpoints as Points with their check-in result. WGS-84, [lng, lat].
pub async fn geojson(state: &State, user: &CurrentUser, id: i64) -> AppResult<serde_json::Value> {
    use serde_json::json;
    let t = track(state, user, id).await?;
    let en = user.lang == "en";
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
