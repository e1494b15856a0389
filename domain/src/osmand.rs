//! The OsmAnd / Traccar Client HTTP protocol (`protocols.md`), so a grid
//! worker may use an existing GPS logger app as the track source. Parsing
//! only: what arrives is turned into [`Position`]s or a clear error; the
//! server decides whose device it is and whether a patrol is under way.
//!
//! Form variant (query string or form body): `id`/`deviceid`, `timestamp`
//! (Unix seconds, milliseconds above 2³¹−1, ISO-8601 or
//! `yyyy-MM-dd HH:mm:ss` UTC; missing means now), `lat`+`lon` or
//! `location=lat,lon`, `speed` in knots, `bearing`/`heading`, `altitude`,
//! `accuracy` (m), `hdop`, `batt` (%), `valid`. JSON variant: Traccar
//! Client's `{"device_id", "location": {...} | [...]}`.

use chrono::{DateTime, NaiveDateTime};
use serde::Deserialize;

/// Knots to metres per second.
pub const KNOT_MPS: f64 = 1852.0 / 3600.0;

/// One position as a logger app sent it.
#[derive(Clone, Debug, PartialEq)]
pub struct Position {
    pub device_id: String,
    /// Unix seconds by the device's clock, if it said.
    pub at: Option<i64>,
    pub lat: f64,
    pub lng: f64,
    /// Metres; `None` when the app sent neither `accuracy` nor `hdop`.
    pub accuracy_m: Option<f64>,
    pub speed_mps: Option<f64>,
    pub heading: Option<f64>,
    pub altitude: Option<f64>,
    /// Battery level in percent.
    pub battery: Option<i16>,
    /// `valid=false` (no GPS fix) or a mock location.
    pub valid: bool,
}

/// Why a request cannot be read; the text goes back in the 400 answer.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OsmError {
    #[error("missing device id (id or deviceid)")]
    MissingDevice,
    #[error("device id must be 1-64 letters, digits, '-', '_', '.' or ':'")]
    BadDevice,
    #[error("missing position (lat and lon, or location=lat,lon)")]
    MissingPosition,
    #[error("'{0}' is not a number")]
    BadNumber(&'static str),
    #[error("latitude or longitude out of range")]
    OutOfRange,
    #[error("cannot read the timestamp")]
    BadTimestamp,
    #[error("no location in the body")]
    Empty,
    #[error("at most {0} locations per request")]
    TooMany(usize),
}

/// At most this many locations in one JSON request.
pub const MAX_BATCH: usize = 1000;

/// Reads a device id as given (trimmed).
pub fn device_id(s: &str) -> Result<String, OsmError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(OsmError::MissingDevice);
    }
    if s.len() > 64 || !s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')) {
        return Err(OsmError::BadDevice);
    }
    Ok(s.to_string())
}

/// Reads a timestamp the ways Traccar's decoder does.
pub fn parse_timestamp(s: &str) -> Result<i64, OsmError> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Ok(if n > i32::MAX as i64 { n.div_euclid(1000) } else { n });
    }
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() {
            let n = f.trunc() as i64;
            return Ok(if n > i32::MAX as i64 { n.div_euclid(1000) } else { n });
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp());
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc().timestamp());
        }
    }
    Err(OsmError::BadTimestamp)
}

fn number(field: &'static str, v: &str) -> Result<f64, OsmError> {
    match v.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(OsmError::BadNumber(field)),
    }
}

fn in_range(lat: f64, lng: f64) -> Result<(), OsmError> {
    if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng) {
        Ok(())
    } else {
        Err(OsmError::OutOfRange)
    }
}

/// Parses the form variant from its key/value pairs (query or body).
/// Unknown keys are ignored; a blank optional value counts as absent.
pub fn parse_form(pairs: &[(String, String)]) -> Result<Position, OsmError> {
    let get = |k: &str| pairs.iter().find(|(key, v)| key == k && !v.trim().is_empty()).map(|(_, v)| v.as_str());
    let device = device_id(get("id").or_else(|| get("deviceid")).ok_or(OsmError::MissingDevice)?)?;
    let (lat, lng) = match (get("lat"), get("lon"), get("location")) {
        (Some(lat), Some(lon), _) => (number("lat", lat)?, number("lon", lon)?),
        (_, _, Some(loc)) => {
            let (a, b) = loc.split_once(',').ok_or(OsmError::MissingPosition)?;
            (number("location", a)?, number("location", b)?)
        }
        _ => return Err(OsmError::MissingPosition),
    };
    in_range(lat, lng)?;
    let opt = |field: &'static str| get(field).map(|v| number(field, v)).transpose();
    let accuracy_m = match opt("accuracy")? {
        Some(a) => Some(a),
        None => opt("hdop")?.map(|h| h * 5.0),
    };
    let valid = match get("valid").map(|v| v.trim().to_ascii_lowercase()) {
        Some(v) => !(v == "false" || v == "0"),
        None => true,
    };
    Ok(Position {
        device_id: device,
        at: get("timestamp").map(parse_timestamp).transpose()?,
        lat,
        lng,
        accuracy_m,
        speed_mps: crate::geo::reported_speed(opt("speed")?.map(|k| k * KNOT_MPS)),
        heading: match opt("bearing")? {
            Some(b) => Some(b),
            None => opt("heading")?,
        },
        altitude: opt("altitude")?,
        battery: opt("batt")?.map(|b| b.clamp(0.0, 100.0).round() as i16),
        valid,
    })
}

/// The JSON variant's body.
#[derive(Clone, Debug, Deserialize)]
pub struct JsonBody {
    pub device_id: Option<String>,
    pub location: Option<JsonLocations>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum JsonLocations {
    Many(Vec<JsonLocation>),
    One(Box<JsonLocation>),
}

#[derive(Clone, Debug, Deserialize)]
pub struct JsonLocation {
    pub timestamp: Option<String>,
    pub coords: JsonCoords,
    pub battery: Option<JsonBattery>,
    pub mock: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct JsonCoords {
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy: Option<f64>,
    /// Metres per second (not knots, unlike the form variant).
    pub speed: Option<f64>,
    pub heading: Option<f64>,
    pub altitude: Option<f64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct JsonBattery {
    /// 0–1
    pub level: Option<f64>,
    pub is_charging: Option<bool>,
}

/// Turns a JSON body into positions (one or a batch).
pub fn from_json(body: JsonBody) -> Result<Vec<Position>, OsmError> {
    let device = device_id(body.device_id.as_deref().ok_or(OsmError::MissingDevice)?)?;
    let locations = match body.location {
        None => return Err(OsmError::Empty),
        Some(JsonLocations::One(l)) => vec![*l],
        Some(JsonLocations::Many(v)) => v,
    };
    if locations.is_empty() {
        return Err(OsmError::Empty);
    }
    if locations.len() > MAX_BATCH {
        return Err(OsmError::TooMany(MAX_BATCH));
    }
    let nonneg = |x: Option<f64>| x.filter(|v| v.is_finite() && *v >= 0.0);
    locations
        .into_iter()
        .map(|l| {
            let c = l.coords;
            in_range(c.latitude, c.longitude)?;
            Ok(Position {
                device_id: device.clone(),
                at: l.timestamp.as_deref().map(parse_timestamp).transpose()?,
                lat: c.latitude,
                lng: c.longitude,
                accuracy_m: c.accuracy.filter(|a| a.is_finite()),
                speed_mps: crate::geo::reported_speed(c.speed),
                heading: nonneg(c.heading),
                altitude: c.altitude.filter(|a| a.is_finite()),
                battery: l
                    .battery
                    .and_then(|b| b.level)
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .map(|v| (v * 100.0).clamp(0.0, 100.0).round() as i16),
                valid: !l.mock.unwrap_or(false),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        q.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn form_variant() {
        let p = parse_form(&pairs(
            "id=123456&timestamp=1763859600&lat=39.9087&lon=116.3975&speed=10&bearing=90&altitude=50&accuracy=8&batt=77.4&foo=bar",
        ))
        .unwrap();
        assert_eq!(p.device_id, "123456");
        assert_eq!(p.at, Some(1_763_859_600));
        assert_eq!(
            (p.lat, p.lng, p.accuracy_m, p.heading, p.altitude, p.battery),
            (39.9087, 116.3975, Some(8.0), Some(90.0), Some(50.0), Some(77))
        );
        assert!((p.speed_mps.unwrap() - 5.144).abs() < 0.001, "knots to m/s");
        assert!(p.valid);
        let p =
            parse_form(&pairs("deviceid=abc&location=39.9,116.4&hdop=2&valid=false&timestamp=1763859600123")).unwrap();
        assert_eq!((p.lat, p.lng, p.accuracy_m, p.valid, p.at), (39.9, 116.4, Some(10.0), false, Some(1_763_859_600)));
        assert_eq!(parse_form(&pairs("id=a&lat=1&lon=2&timestamp=")).unwrap().at, None);
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("2147483647"), Ok(2_147_483_647));
        assert_eq!(parse_timestamp("2147483648"), Ok(2_147_483), "above 2^31-1 is milliseconds");
        assert_eq!(parse_timestamp("2026-11-23T10:00:00Z"), Ok(1_795_428_000));
        assert_eq!(parse_timestamp("2026-11-23T18:00:00+08:00"), Ok(1_795_428_000));
        assert_eq!(parse_timestamp("2026-11-23 10:00:00"), Ok(1_795_428_000));
        assert_eq!(parse_timestamp("yesterday"), Err(OsmError::BadTimestamp));
    }

    #[test]
    fn bad_forms_say_what_is_wrong() {
        assert_eq!(parse_form(&pairs("lat=1&lon=2")), Err(OsmError::MissingDevice));
        assert_eq!(parse_form(&pairs("id=a b&lat=1&lon=2")), Err(OsmError::BadDevice));
        assert_eq!(parse_form(&pairs("id=a")), Err(OsmError::MissingPosition));
        assert_eq!(parse_form(&pairs("id=a&lat=x&lon=2")), Err(OsmError::BadNumber("lat")));
        assert_eq!(parse_form(&pairs("id=a&lat=NaN&lon=2")), Err(OsmError::BadNumber("lat")));
        assert_eq!(parse_form(&pairs("id=a&lat=91&lon=2")), Err(OsmError::OutOfRange));
        assert_eq!(parse_form(&pairs("id=a&location=91")), Err(OsmError::MissingPosition));
        assert_eq!(parse_form(&pairs("id=a&lat=1&lon=2&speed=fast")), Err(OsmError::BadNumber("speed")));
        assert_eq!(parse_form(&pairs("id=a&lat=1&lon=2&timestamp=soon")), Err(OsmError::BadTimestamp));
    }

    #[test]
    fn json_variant() {
        let one: JsonBody = serde_json::from_str(
            r#"{"device_id":"dev1","location":{"timestamp":"2026-11-23T10:00:00Z","coords":{"latitude":39.9,"longitude":116.4,"accuracy":6,"speed":1.5,"heading":-1,"altitude":44},"is_moving":true,"battery":{"level":0.53,"is_charging":false},"activity":{"type":"walking"},"extras":{}}}"#,
        )
        .unwrap();
        let p = from_json(one).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(
            (p[0].at, p[0].accuracy_m, p[0].speed_mps, p[0].heading, p[0].battery),
            (Some(1_795_428_000), Some(6.0), Some(1.5), None, Some(53))
        );
        let many: JsonBody = serde_json::from_str(
            r#"{"device_id":"dev1","location":[{"coords":{"latitude":1,"longitude":2}},{"coords":{"latitude":3,"longitude":4},"mock":true}]}"#,
        )
        .unwrap();
        let p = from_json(many).unwrap();
        assert_eq!((p.len(), p[1].valid, p[0].at), (2, false, None));
        let none: JsonBody = serde_json::from_str(r#"{"location":{"coords":{"latitude":1,"longitude":2}}}"#).unwrap();
        assert_eq!(from_json(none), Err(OsmError::MissingDevice));
        let empty: JsonBody = serde_json::from_str(r#"{"device_id":"d","location":[]}"#).unwrap();
        assert_eq!(from_json(empty), Err(OsmError::Empty));
        let far: JsonBody =
            serde_json::from_str(r#"{"device_id":"d","location":{"coords":{"latitude":100,"longitude":2}}}"#).unwrap();
        assert_eq!(from_json(far), Err(OsmError::OutOfRange));
    }
}
