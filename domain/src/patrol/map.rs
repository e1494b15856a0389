//! Drawing a patrol: the projected track and checkpoints (`TrackMap`), map
//! tiles under it, the staff live board, track segments at gaps and their
//! simplification.

use super::*;

/// A plain projected drawing (no map tiles needed): SVG path data per
/// track segment and the checkpoints, in a `width` × `height` box.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackMap {
    pub width: f64,
    pub height: f64,
    pub segments: Vec<String>,
    /// (x, y, radius in px, name, visited)
    pub checkpoints: Vec<(f64, f64, f64, String, bool)>,
    /// Metres per 100 px, for the scale bar.
    pub metres_per_100px: f64,
    /// The projection: centre (lat, lng), cos(lat) and px per metre, so a
    /// page can place positions that arrive later the same way.
    pub centre: (f64, f64),
    pub k: f64,
    pub scale: f64,
    /// Grid outlines: SVG path data, closed.
    #[serde(default)]
    pub outlines: Vec<String>,
    /// Map tiles under the sketch, when a tile source is configured.
    #[serde(default)]
    pub tiles: Vec<Tile>,
    /// The tile source's attribution (shown under the map).
    #[serde(default)]
    pub attribution: String,
}

/// One map tile placed in the box.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tile {
    pub href: String,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// A configured slippy-map tile source: a URL template with `{z}`, `{x}`,
/// `{y}` and optionally `{s}` (a subdomain), and the datum its tiles are
/// drawn in. 天地图 is CGCS2000 (≈ WGS-84: no conversion); Amap and Tencent
/// draw in GCJ-02, so their tile grid is placed through the conversion.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TileSource {
    pub template: String,
    pub gcj02: bool,
    pub subdomains: String,
    pub attribution: String,
}

impl TileSource {
    pub fn url(&self, z: u32, x: i64, y: i64) -> String {
        let subs: Vec<char> = self.subdomains.chars().collect();
        let s = if subs.is_empty() {
            String::new()
        } else {
            subs[((x + y).unsigned_abs() as usize) % subs.len()].to_string()
        };
        self.template
            .replace("{z}", &z.to_string())
            .replace("{x}", &x.to_string())
            .replace("{y}", &y.to_string())
            .replace("{s}", &s)
    }
}

/// Web Mercator tile containing a point at zoom `z` (fractional).
fn tile_xy(lat: f64, lng: f64, z: u32) -> (f64, f64) {
    let n = (1u64 << z) as f64;
    let lat = lat.clamp(-85.0511, 85.0511).to_radians();
    let x = (lng + 180.0) / 360.0 * n;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    (x, y)
}

/// The north-west corner of a tile (lat, lng).
fn tile_corner(x: i64, y: i64, z: u32) -> (f64, f64) {
    let n = (1u64 << z) as f64;
    let lng = x as f64 / n * 360.0 - 180.0;
    let lat = (std::f64::consts::PI * (1.0 - 2.0 * y as f64 / n)).sinh().atan().to_degrees();
    (lat, lng)
}

/// At most this many tiles under one sketch.
pub const MAX_TILES: usize = 48;

impl TrackMap {
    /// The WGS-84 point at a place in the box (the inverse of `project`).
    pub fn unproject(&self, x: f64, y: f64) -> (f64, f64) {
        if self.scale <= 0.0 || self.k <= 0.0 {
            return self.centre;
        }
        let lng = self.centre.1 + (x - self.width / 2.0) / (self.k * 111_320.0 * self.scale);
        let lat = self.centre.0 - (y - self.height / 2.0) / (110_574.0 * self.scale);
        (lat, lng)
    }

    /// Lays the source's tiles under the sketch at the zoom whose tiles come
    /// closest to 256 px, each tile's corners placed by the same projection
    /// (through GCJ-02 → WGS-84 for Amap/Tencent tiles).
    pub fn add_tiles(&mut self, source: &TileSource) {
        if self.scale <= 0.0 {
            return;
        }
        let to_tile_datum =
            |lat: f64, lng: f64| if source.gcj02 { crate::geo::wgs84_to_gcj02(lat, lng) } else { (lat, lng) };
        let from_tile_datum =
            |lat: f64, lng: f64| if source.gcj02 { crate::geo::gcj02_to_wgs84(lat, lng) } else { (lat, lng) };
        let ideal = (40_075_016.686 * self.k * self.scale / 256.0).log2().round();
        let mut z = ideal.clamp(3.0, 19.0) as u32;
        let (nw, se) = (self.unproject(0.0, 0.0), self.unproject(self.width, self.height));
        let (a, b) = (to_tile_datum(nw.0, nw.1), to_tile_datum(se.0, se.1));
        let (x0, y0, x1, y1) = loop {
            let (ax, ay) = tile_xy(a.0, a.1, z);
            let (bx, by) = tile_xy(b.0, b.1, z);
            let (x0, y0, x1, y1) = (ax.floor() as i64, ay.floor() as i64, bx.floor() as i64, by.floor() as i64);
            if ((x1 - x0 + 1) * (y1 - y0 + 1)) as usize <= MAX_TILES || z <= 3 {
                break (x0, y0, x1, y1);
            }
            z -= 1;
        };
        let round = |v: f64| (v * 10.0).round() / 10.0;
        for ty in y0..=y1 {
            for tx in x0..=x1 {
                let (la, lo) = tile_corner(tx, ty, z);
                let (lb, lob) = tile_corner(tx + 1, ty + 1, z);
                let p = from_tile_datum(la, lo);
                let q = from_tile_datum(lb, lob);
                let (px, py) = self.project(p.0, p.1);
                let (qx, qy) = self.project(q.0, q.1);
                self.tiles.push(Tile {
                    href: source.url(z, tx, ty),
                    x: round(px),
                    y: round(py),
                    w: round(qx - px),
                    h: round(qy - py),
                });
            }
        }
        self.attribution = source.attribution.clone();
    }
}

impl TrackMap {
    /// Where a WGS-84 point falls in the box.
    pub fn project(&self, lat: f64, lng: f64) -> (f64, f64) {
        let x = self.width / 2.0 + (lng - self.centre.1) * self.k * 111_320.0 * self.scale;
        let y = self.height / 2.0 - (lat - self.centre.0) * 110_574.0 * self.scale;
        ((x * 10.0).round() / 10.0, (y * 10.0).round() / 10.0)
    }
}

impl TrackMap {
    /// Where a point falls, kept `margin` px inside the box: a worker
    /// outside the sketch is pinned to its edge rather than lost.
    pub fn project_pinned(&self, lat: f64, lng: f64, margin: f64) -> (f64, f64) {
        let (x, y) = self.project(lat, lng);
        (x.clamp(margin, (self.width - margin).max(margin)), y.clamp(margin, (self.height - margin).max(margin)))
    }
}

/// A worker's newest position, as the server publishes it to the staff's
/// live board (event `position` on the grid's topic) and the board reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LivePosition {
    pub patrol: i64,
    pub lat: f64,
    pub lng: f64,
    /// Accuracy in metres.
    pub acc: f64,
    /// Beijing time of the fix, "14:05:09".
    pub at: String,
}

/// A patrol that started, paused, resumed or ended (event `patrol`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    pub patrol: i64,
    pub state: super::PatrolState,
}

/// The staff's live board.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveBoard {
    pub rows: Vec<PatrolRow>,
    /// Grids whose live positions the page subscribes to.
    pub grids: Vec<i64>,
    /// (patrol, x, y, worker) of the patrols under way.
    pub dots: Vec<(i64, f64, f64, String)>,
    pub map: TrackMap,
}

/// A point of a track: WGS-84 and Unix seconds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    pub lat: f64,
    pub lng: f64,
    pub at: i64,
}

/// Splits a track where no fix came for more than `max_gap_s` seconds.
pub fn segments(points: &[TrackPoint], max_gap_s: i64) -> Vec<Vec<TrackPoint>> {
    let mut out: Vec<Vec<TrackPoint>> = vec![];
    for p in points {
        match out.last_mut() {
            Some(seg) if seg.last().is_some_and(|l| p.at - l.at <= max_gap_s) => seg.push(*p),
            _ => out.push(vec![*p]),
        }
    }
    out
}

/// Douglas–Peucker simplification for display (the raw points stay):
/// keeps the ends and every point farther than `tolerance_m` from the line
/// kept around it.
pub fn simplify(points: &[TrackPoint], tolerance_m: f64) -> Vec<TrackPoint> {
    if points.len() < 3 {
        return points.to_vec();
    }
    let lat0 = points[0].lat.to_radians().cos();
    let xy = |p: &TrackPoint| (p.lng * lat0 * 111_320.0, p.lat * 110_574.0);
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    let mut stack = vec![(0usize, points.len() - 1)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (ax, ay) = xy(&points[a]);
        let (bx, by) = xy(&points[b]);
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = dx * dx + dy * dy;
        let mut worst = (0.0f64, a);
        for (i, p) in points.iter().enumerate().take(b).skip(a + 1) {
            let (px, py) = xy(p);
            let d = if len2 == 0.0 {
                ((px - ax).powi(2) + (py - ay).powi(2)).sqrt()
            } else {
                let t = (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0);
                ((px - ax - t * dx).powi(2) + (py - ay - t * dy).powi(2)).sqrt()
            };
            if d > worst.0 {
                worst = (d, i);
            }
        }
        if worst.0 > tolerance_m {
            keep[worst.1] = true;
            stack.push((a, worst.1));
            stack.push((worst.1, b));
        }
    }
    points.iter().zip(keep).filter(|(_, k)| *k).map(|(p, _)| *p).collect()
}

/// Projects segments and checkpoints into a `width`-wide box
/// (equirectangular about the middle, north up, 16 px margin).
pub fn track_map(
    segs: &[Vec<TrackPoint>],
    checkpoints: &[(CheckpointView, bool)],
    outlines: &[Vec<(f64, f64)>],
    width: f64,
) -> TrackMap {
    let all: Vec<(f64, f64)> = segs
        .iter()
        .flatten()
        .map(|p| (p.lat, p.lng))
        .chain(checkpoints.iter().map(|(c, _)| (c.lat, c.lng)))
        .chain(outlines.iter().flatten().copied())
        .collect();
    if all.is_empty() {
        return TrackMap { width, height: width * 0.6, ..Default::default() };
    }
    let (mut s, mut n, mut w, mut e) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (lat, lng) in &all {
        s = s.min(*lat);
        n = n.max(*lat);
        w = w.min(*lng);
        e = e.max(*lng);
    }
    let k = ((s + n) / 2.0).to_radians().cos();
    // metres across, with room for the checkpoints' circles, at least 200 m
    // so that one point does not fill the box
    let room = 2.0 * checkpoints.iter().map(|(c, _)| c.radius_m as f64).fold(0.0, f64::max);
    let mx = ((e - w) * k * 111_320.0 + room).max(200.0);
    let my = ((n - s) * 110_574.0 + room).max(200.0);
    let margin = 16.0;
    let scale = (width - 2.0 * margin) / mx; // px per metre
    let height = (my * scale + 2.0 * margin).clamp(160.0, width * 1.5);
    let scale = scale.min((height - 2.0 * margin) / my);
    let (cx, cy) = ((w + e) / 2.0, (s + n) / 2.0);
    let mut map = TrackMap {
        width,
        height: height.round(),
        segments: vec![],
        checkpoints: vec![],
        metres_per_100px: (100.0 / scale).round(),
        centre: (cy, cx),
        k,
        scale,
        ..Default::default()
    };
    let px = |lat: f64, lng: f64| map.project(lat, lng);
    let outlines = outlines
        .iter()
        .filter(|ring| ring.len() >= 3)
        .map(|ring| {
            let mut d = ring
                .iter()
                .enumerate()
                .map(|(i, (lat, lng))| {
                    let (x, y) = px(*lat, *lng);
                    format!("{}{x} {y}", if i == 0 { "M" } else { " L" })
                })
                .collect::<String>();
            d.push_str(" Z");
            d
        })
        .collect();
    let segments = segs
        .iter()
        .filter(|seg| !seg.is_empty())
        .map(|seg| {
            seg.iter()
                .enumerate()
                .map(|(i, p)| {
                    let (x, y) = px(p.lat, p.lng);
                    format!("{}{x} {y}", if i == 0 { "M" } else { " L" })
                })
                .collect::<String>()
        })
        .collect();
    let checkpoints = checkpoints
        .iter()
        .map(|(c, visited)| {
            let (x, y) = px(c.lat, c.lng);
            (x, y, (c.radius_m as f64 * scale).max(4.0), c.name.clone(), *visited)
        })
        .collect();
    map.segments = segments;
    map.checkpoints = checkpoints;
    map.outlines = outlines;
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(lat: f64, lng: f64, at: i64) -> TrackPoint {
        TrackPoint { lat, lng, at }
    }

    #[test]
    fn tracks_split_at_gaps_and_simplify_without_losing_corners() {
        let pts: Vec<TrackPoint> = (0..10).map(|i| tp(39.9 + i as f64 * 0.0001, 116.4, i * 5)).collect();
        let mut with_gap = pts.clone();
        with_gap.push(tp(39.91, 116.41, 1000));
        assert_eq!(segments(&with_gap, 60).iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 1]);
        // a straight line keeps its ends only
        assert_eq!(simplify(&pts, 1.0).len(), 2);
        // an L keeps its corner
        let mut l = pts.clone();
        l.extend((1..10).map(|i| tp(39.9009, 116.4 + i as f64 * 0.0001, 50 + i * 5)));
        let s = simplify(&l, 1.0);
        assert_eq!(s.len(), 3);
        assert_eq!(s[1], l[9]);
        let map = track_map(&[s], &[], &[], 360.0);
        assert!(map.segments[0].starts_with('M') && map.segments[0].matches('L').count() == 2);
        assert!(map.width == 360.0 && map.height >= 160.0);
    }

    #[test]
    fn grid_outlines_fit_in_the_box_and_tiles_line_up_with_the_projection() {
        // a 1 km square grid around a short track near 天安门
        let ring = vec![(39.90, 116.39), (39.90, 116.40), (39.91, 116.40), (39.91, 116.39)];
        let track = vec![tp(39.905, 116.395, 0), tp(39.906, 116.396, 5)];
        let map = track_map(&[track], &[], std::slice::from_ref(&ring), 640.0);
        assert_eq!(map.outlines.len(), 1);
        assert!(map.outlines[0].starts_with('M') && map.outlines[0].ends_with(" Z"));
        for (lat, lng) in &ring {
            let (x, y) = map.project(*lat, *lng);
            assert!((0.0..=map.width).contains(&x) && (0.0..=map.height).contains(&y), "{x} {y}");
            let (la, lo) = map.unproject(x, y);
            assert!(crate::geo::distance_m(la, lo, *lat, *lng) < 0.5);
        }
        // WGS-84 tiles (天地图): about 256 px each, covering the box, the
        // tile holding a point placed where the projection puts the point
        let src = TileSource {
            template: "https://t{s}.tianditu.gov.cn/vec_w/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY".into(),
            gcj02: false,
            subdomains: "01234567".into(),
            attribution: "天地图".into(),
        };
        let mut m = map.clone();
        m.add_tiles(&src);
        assert!(!m.tiles.is_empty() && m.tiles.len() <= MAX_TILES);
        assert_eq!(m.attribution, "天地图");
        for t in &m.tiles {
            assert!(t.w > 100.0 && t.w < 600.0 && (t.h - t.w).abs() < t.w * 0.05, "{t:?}");
        }
        let covers = |m: &TrackMap, x: f64, y: f64| {
            m.tiles.iter().any(|t| x >= t.x && x <= t.x + t.w && y >= t.y && y <= t.y + t.h)
        };
        assert!(covers(&m, 0.0, 0.0) && covers(&m, m.width, m.height));
        let (z, tx, ty) = {
            let t = &m.tiles[0];
            let z: u32 = t.href.split("TILEMATRIX=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
            (
                z,
                t.href.split("TILECOL=").nth(1).unwrap().split('&').next().unwrap().parse::<i64>().unwrap(),
                t.href.split("TILEROW=").nth(1).unwrap().split('&').next().unwrap().parse::<i64>().unwrap(),
            )
        };
        let (lat, lng) = tile_corner(tx, ty, z);
        let (x, y) = m.project(lat, lng);
        assert!((x - m.tiles[0].x).abs() < 0.2 && (y - m.tiles[0].y).abs() < 0.2);
        assert!(m.tiles[0].href.starts_with("https://t") && !m.tiles[0].href.contains("{s}"));
        // GCJ-02 tiles (Amap) are shifted by the conversion: hundreds of metres in Beijing
        let mut g = map.clone();
        g.add_tiles(&TileSource { gcj02: true, subdomains: "1234".into(), ..src.clone() });
        let shift_px = (g.tiles[0].x - m.tiles[0].x).abs() + (g.tiles[0].y - m.tiles[0].y).abs();
        assert!(g.tiles.len() == m.tiles.len() || shift_px > 1.0);
        let a = &g.tiles[0];
        let z2: u32 = a.href.split("TILEMATRIX=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
        let col: i64 = a.href.split("TILECOL=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
        let row: i64 = a.href.split("TILEROW=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
        let (glat, glng) = tile_corner(col, row, z2);
        let (wlat, wlng) = crate::geo::gcj02_to_wgs84(glat, glng);
        let (x, y) = g.project(wlat, wlng);
        assert!((x - a.x).abs() < 0.2 && (y - a.y).abs() < 0.2);
        assert!(crate::geo::distance_m(glat, glng, wlat, wlng) > 100.0);
    }
}
