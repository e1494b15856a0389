//! The staff's side of patrols in the browser, as islands of the worker's
//! WASM module (like the recorder): the live board, where each worker's dot
//! moves as positions arrive over server-sent events, and the replay of a
//! finished track. Both pages are complete without them (the board as the
//! server drew it, the whole track); the islands only keep the board
//! current and add the replay.
//!
//! The board reads the events in the types the server publishes them
//! (`domain::patrol::{LivePosition, LiveState}`) and places dots with the
//! server's projection (`TrackMap::project_pinned`): no second copy of
//! either.

#[cfg(feature = "worker")]
mod client;

use crate::i18n::{t, Lang};
use domain::patrol::TrackMap;
use leptos::prelude::*;

/// Under the live board: what the dots are, and (kept current by the
/// client) whether the stream is open. `map` is the board's projection,
/// `topics` the grids' event topics.
#[cfg_attr(any(feature = "ssr", feature = "worker"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "worker")), component)]
pub fn LiveWatch(map: TrackMap, topics: String, lang: Lang) -> impl IntoView {
    #[cfg(feature = "worker")]
    client::watch(map, topics, lang);
    #[cfg(not(feature = "worker"))]
    let _ = (map, topics);
    view! {
        <p class="meta" id="live-status" aria-live="polite">
            {t(
                lang,
                "蓝点为巡逻中网格员的最新位置,自动更新。",
                "Blue dots: the latest positions of workers on patrol, updated live.",
            )}
        </p>
    }
}

/// The replay controls under a track: a play button and a slider that move
/// a marker along the drawn track in time order, with the time it was there
/// (Beijing). Hidden until the client runs. `points` are the drawn track's
/// (x, y, Unix seconds).
#[cfg_attr(any(feature = "ssr", feature = "worker"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "worker")), component)]
pub fn Replay(points: Vec<(f64, f64, i64)>, lang: Lang) -> impl IntoView {
    #[cfg(feature = "worker")]
    client::replay(points);
    #[cfg(not(feature = "worker"))]
    let _ = points;
    view! {
        <div class="replay-controls" hidden>
            <button type="button" class="play">
                {t(lang, "回放", "Replay")}
            </button>
            <input type="range" min="0" max="1000" value="1000" aria-label=t(lang, "回放进度", "Replay position") />
            <output aria-live="off"></output>
        </div>
    }
}

/// Where the replay's marker is at `v` of 1000 along the patrol's time:
/// (x, y, Unix seconds), between the two points around that time.
pub fn replay_at(points: &[(f64, f64, i64)], v: f64) -> Option<(f64, f64, i64)> {
    let (first, last) = (points.first()?, points.last()?);
    if points.len() < 2 {
        return Some(*first);
    }
    let t = first.2 as f64 + (last.2 - first.2) as f64 * (v / 1000.0).clamp(0.0, 1.0);
    let i = points.iter().position(|p| p.2 as f64 >= t).unwrap_or(points.len() - 1).clamp(1, points.len() - 1);
    let (a, b) = (points[i - 1], points[i]);
    let f = if b.2 > a.2 { ((t - a.2 as f64) / (b.2 - a.2) as f64).clamp(0.0, 1.0) } else { 1.0 };
    Some((a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, t.round() as i64))
}

#[cfg(test)]
mod tests {
    use super::replay_at;

    #[test]
    fn the_replay_marker_moves_along_the_track_in_time() {
        let pts = [(0.0, 0.0, 100), (10.0, 0.0, 110), (10.0, 20.0, 130)];
        assert_eq!(replay_at(&pts, 0.0), Some((0.0, 0.0, 100)));
        assert_eq!(replay_at(&pts, 1000.0), Some((10.0, 20.0, 130)));
        // a sixth of the time: halfway along the first leg
        assert_eq!(replay_at(&pts, 1000.0 / 6.0), Some((5.0, 0.0, 105)));
        assert_eq!(replay_at(&pts, 2000.0), Some((10.0, 20.0, 130)));
        assert_eq!(replay_at(&[], 10.0), None);
        assert_eq!(replay_at(&[(1.0, 2.0, 5)], 500.0), Some((1.0, 2.0, 5)));
    }
}
