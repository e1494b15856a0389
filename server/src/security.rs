//! Browser-facing protections: the security headers of every response (a
//! Content-Security-Policy that lets our own scripts, WASM and styles run and
//! nothing else: inline scripts only by the page's nonce or, in the few
//! self-contained pages, by hash) and the cross-site check of requests that change something.
//!
//! CSRF: the session cookies are `SameSite=Lax`, so other sites' forms never
//! carry them in a POST; on top of that, any POST/PUT/PATCH/DELETE that a
//! browser marks as coming from another site (`Origin` not ours, or
//! `Sec-Fetch-Site: cross-site|same-site` without `Origin`) is refused with
//! `cross_site`, unless it carries a Bearer token (which a browser never adds
//! on its own). The machine endpoints (payment notifications, OsmAnd,
//! Open311) never rely on the cookie: for them a cross-site request is served
//! with its cookies removed, as an anonymous caller.

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        header::{self, HeaderValue},
        Method,
    },
    middleware::Next,
    web, Error, HttpRequest, HttpResponse,
};
use base64::Engine;
use domain::ErrorCode;
use sha2::{Digest, Sha256};

/// What the headers say, fixed at start-up.
#[derive(Clone, Debug)]
pub struct Policy {
    /// the policy without a nonce (responses that are not pages)
    plain: String,
    /// the page policy around its nonce, built once: `{head}'nonce-…'{tail}`
    head: String,
    tail: String,
    /// `scheme://host[:port]` of PUBLIC_URL
    pub public_origin: String,
    pub https: bool,
}

/// `'sha256-…'` of an inline script or style, as CSP writes it.
pub fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

/// The directives every policy shares; `scripts`, `styles` and `images` are
/// the sources added to `'self'` for each.
fn policy(scripts: &[String], styles: &[String], images: &[String]) -> String {
    let join = |extra: &[String]| {
        let mut v = vec!["'self'".to_string()];
        v.extend(extra.iter().cloned());
        v.join(" ")
    };
    format!(
        "default-src 'self'; script-src {} 'wasm-unsafe-eval'; style-src {}; img-src {} data: blob:; \
         connect-src 'self'; font-src 'self'; media-src 'self' blob:; worker-src 'self'; manifest-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        join(scripts),
        join(styles),
        join(images)
    )
}

/// The policy of a self-contained HTML document (the sandbox cashier, the
/// WeChat Pay bridge, the offline page): its own inline `<script>` and
/// `<style>` blocks are allowed by hash, nothing else inline.
pub fn csp_for_document(html: &str) -> String {
    let blocks = |open: &str, close: &str| -> Vec<String> {
        let mut found = Vec::new();
        let mut rest = html;
        while let Some(start) = rest.find(open) {
            let after = &rest[start + open.len()..];
            let Some(gt) = after.find('>') else { break };
            let attrs = &after[..gt];
            let body = &after[gt + 1..];
            let Some(end) = body.find(close) else { break };
            if !attrs.contains("src=") {
                found.push(csp_hash(&body[..end]));
            }
            rest = &body[end + close.len()..];
        }
        found
    };
    policy(&blocks("<script", "</script>"), &blocks("<style", "</style>"), &[])
}

impl Policy {
    pub fn new(config: &backend::Config) -> Policy {
        let images = config.map_tiles.as_ref().map(tile_origins).unwrap_or_default();
        let public_origin =
            url::Url::parse(&config.public_url).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
        const MARK: &str = "\u{0}";
        let marked = policy(&[MARK.to_string()], &[], &images);
        let (head, tail) = marked.split_once(MARK).unwrap_or((&marked, ""));
        Policy {
            plain: policy(&[], &[], &images),
            head: head.to_string(),
            tail: tail.to_string(),
            public_origin,
            https: config.https(),
        }
    }

    /// The policy of our pages: scripts from our origin, inline ones only
    /// with this response's nonce (our boot script, leptos' resource data).
    pub fn csp(&self, nonce: Option<&str>) -> String {
        match nonce {
            Some(n) => format!("{}'nonce-{n}'{}", self.head, self.tail),
            None => self.plain.clone(),
        }
    }
}

/// The origins map tiles come from: the template with each subdomain put in.
fn tile_origins(t: &domain::patrol::TileSource) -> Vec<String> {
    let subs: Vec<String> =
        if t.subdomains.is_empty() { vec![String::new()] } else { t.subdomains.chars().map(String::from).collect() };
    let mut origins: Vec<String> = subs
        .iter()
        .filter_map(|s| {
            let u = t.template.replace("{s}", s).replace("{z}", "0").replace("{x}", "0").replace("{y}", "0");
            url::Url::parse(&u).ok().map(|u| u.origin().ascii_serialization())
        })
        .filter(|o| o != "null")
        .collect();
    origins.sort();
    origins.dedup();
    origins
}

/// Paths called by machines with their own credentials, never by the cookie.
fn machine_path(path: &str) -> bool {
    path.starts_with("/api/v1/payments/notify/")
        || path == "/osmand"
        || path == "/api/v1/osmand"
        || path.starts_with("/open311/")
}

/// `host[:port]` of an origin or URL, lower-cased.
fn authority(origin: &str) -> Option<String> {
    let u = url::Url::parse(origin).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// Whether a browser says this request comes from another site.
pub fn cross_site(req: &ServiceRequest, public_origin: &str) -> bool {
    let headers = req.headers();
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        if origin == public_origin {
            return false;
        }
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(|h| h.to_ascii_lowercase());
        return match (authority(origin), host) {
            (Some(a), Some(h)) => a != h,
            _ => true,
        };
    }
    matches!(headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()), Some("cross-site") | Some("same-site"))
}

fn unsafe_method(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// A refusal before any handler ran (or by an extractor that could not read
/// the request): a short page with a way back for a browser navigation,
/// JSON (`{error, message}`) otherwise; in the caller's language.
pub fn refusal(req: &HttpRequest, code: ErrorCode) -> HttpResponse {
    if req.path().starts_with("/open311/") {
        return crate::open311::refusal(req, code);
    }
    // the language cookie first, then Accept-Language: as every page decides
    let english = app::session::ssr::lang_of(req).is_en();
    let message = code.message(english);
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.contains("text/html"))
        .unwrap_or(false);
    let status =
        actix_web::http::StatusCode::from_u16(code.http_status()).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    let mut res = HttpResponse::build(status);
    if code == ErrorCode::Unavailable {
        res.insert_header((header::RETRY_AFTER, "5"));
    }
    if wants_html {
        let (lang, back, home) =
            if english { ("en", "Go back", "Home") } else { ("zh-CN", "返回上一页", "返回首页") };
        // the referring page of our own site, so what was typed is still there
        let previous = req
            .headers()
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| url::Url::parse(r).ok())
            .filter(|_| code != ErrorCode::CrossSite)
            .map(|u| {
                let mut p = u.path().to_string();
                if let Some(q) = u.query() {
                    p.push('?');
                    p.push_str(q);
                }
                p.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;")
            });
        let back = previous.map(|p| format!("<a href=\"{p}\">{back}</a> · ")).unwrap_or_default();
        res.content_type("text/html; charset=utf-8").body(format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{message}</title></head>\
             <body><main><h1>{message}</h1><p>{back}<a href=\"/\">{home}</a></p></main></body></html>"
        ))
    } else {
        res.json(crate::openapi::ErrorBody::of(code, english))
    }
}

/// A 303 to one of our own paths. A path segment taken from the request may
/// hold anything once decoded (a control character makes an invalid header,
/// a 500): every byte outside visible ASCII is percent-encoded again.
pub fn see_other(to: &str) -> HttpResponse {
    let mut location = String::with_capacity(to.len());
    for b in to.bytes() {
        if (0x21..0x7f).contains(&b) {
            location.push(b as char);
        } else {
            location.push_str(&format!("%{b:02X}"));
        }
    }
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// What an extractor's failure becomes: a path segment that is not what the
/// route takes (an id beyond i64, say) names nothing there, so `not_found`; a
/// body over the limit `too_large`; any other unreadable query, form or JSON
/// `invalid_input`. Always our error shape, never actix's plain text.
pub fn extractor_configs(cfg: &mut web::ServiceConfig) {
    use actix_web::error::{InternalError, JsonPayloadError, UrlencodedError};
    fn refuse(err: impl std::fmt::Debug + std::fmt::Display + 'static, req: &HttpRequest, code: ErrorCode) -> Error {
        InternalError::from_response(err, refusal(req, code)).into()
    }
    cfg.app_data(web::PathConfig::default().error_handler(|e, req| refuse(e, req, ErrorCode::NotFound)))
        .app_data(web::QueryConfig::default().error_handler(|e, req| refuse(e, req, ErrorCode::InvalidInput)))
        .app_data(web::FormConfig::default().limit(256 * 1024).error_handler(|e, req| {
            let code = match e {
                UrlencodedError::Overflow { .. } => ErrorCode::TooLarge,
                _ => ErrorCode::InvalidInput,
            };
            refuse(e, req, code)
        }))
        .app_data(web::JsonConfig::default().limit(256 * 1024).error_handler(|e, req| {
            let code = match e {
                JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => ErrorCode::TooLarge,
                _ => ErrorCode::InvalidInput,
            };
            refuse(e, req, code)
        }));
}

/// The largest body a path takes: photos and spreadsheets where they are
/// uploaded, GPS batches, and 256 KiB for everything else (forms, JSON,
/// server functions). Bodies without a length are held to the same limits
/// by the extractors as they are read.
pub fn body_limit(path: &str) -> usize {
    const MIB: usize = 1024 * 1024;
    if path == "/incidents/report" || (path.starts_with("/incidents/") && path.ends_with("/step")) {
        domain::incidents::MAX_PHOTOS * domain::incidents::MAX_PHOTO_BYTES + MIB
    } else if path == "/staff/import" || path == "/staff/bills/import" {
        backend::import::MAX_BYTES + MIB
    } else if path == "/api/v1/patrol/batch" || path == "/api/v1/osmand" || path == "/osmand" {
        MIB
    } else {
        256 * 1024
    }
}

/// Bodies sent without a length (chunked) up to this limit are read here,
/// before the handler, and held to it; larger uploads (photos, spreadsheets)
/// are held to theirs by their own readers as they stream.
const READ_AHEAD_LIMIT: usize = 1024 * 1024;

/// Refuses a body over `body_limit` with `too_large` (413) instead of
/// whatever the handler would make of it: by its declared length, or, sent
/// without one (chunked), by reading it up to the limit (a server function
/// reads a body to its end, however long: 2 MiB chunked was taken whole).
pub async fn limit_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    use actix_web::HttpMessage;
    use futures_util::StreamExt;
    let limit = body_limit(req.path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(len) if len > limit as u64 => {
            let res = refusal(req.request(), ErrorCode::TooLarge);
            return Ok(req.into_response(res).map_into_right_body());
        }
        None if limit <= READ_AHEAD_LIMIT && req.headers().contains_key(header::TRANSFER_ENCODING) => {
            let mut payload = req.take_payload();
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk?;
                if body.len() + chunk.len() > limit {
                    let res = refusal(req.request(), ErrorCode::TooLarge);
                    return Ok(req.into_response(res).map_into_right_body());
                }
                body.extend_from_slice(&chunk);
            }
            req.set_payload(actix_web::dev::Payload::from(body.freeze()));
        }
        _ => {}
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The cross-site check (see the module comment). Runs before `authenticate`.
pub async fn same_origin(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let checked = unsafe_method(req.method()) && !req.headers().contains_key(header::AUTHORIZATION);
    if checked {
        let policy = req.app_data::<web::Data<Policy>>().cloned();
        if cross_site(&req, policy.as_ref().map(|p| p.public_origin.as_str()).unwrap_or_default()) {
            if machine_path(req.path()) {
                req.headers_mut().remove(header::COOKIE);
            } else {
                tracing::warn!(path = %req.path(), "cross-site request refused");
                let res = refusal(req.request(), ErrorCode::CrossSite);
                return Ok(req.into_response(res).map_into_right_body());
            }
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Security and cache headers of every response. HTML is never cached
/// (WeChat's web view over-caches; a stale page must never pair old JS glue
/// with new WASM); hashed assets set their own. A response that brings its
/// own Content-Security-Policy keeps it.
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let policy = req.app_data::<web::Data<Policy>>().cloned();
    let mut res = next.call(req).await?;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.starts_with("text/html"))
        .unwrap_or(false);
    let h = res.headers_mut();
    if is_html {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let nonce = h.remove(app::session::ssr::NONCE_HEADER).next().and_then(|v| v.to_str().ok().map(String::from));
    if let Some(p) = policy {
        if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
            if let Ok(v) = HeaderValue::from_str(&p.csp(nonce.as_deref())) {
                h.insert(header::CONTENT_SECURITY_POLICY, v);
            }
        }
        if p.https {
            h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
        }
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    h.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("geolocation=(self), camera=(self), microphone=(), payment=(), usb=()"),
    );
    Ok(res)
}

/// A server function that fails answers 500 with `ServerError|<code>` (the
/// leptos encoding). For a user's error that is wrong: a client that posts
/// the form without asking for HTML (a script, an app, a test) would read
/// `invalid_credentials` or `not_logged_in` as a server fault. The status
/// becomes the code's own (401, 403, 409, 429, …); only an internal error
/// stays 500. The WASM client reads any 4xx/5xx as the error, so it is
/// unaffected.
pub async fn server_fn_status(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, Error> {
    use actix_web::http::StatusCode;
    let res = next.call(req).await?;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR || !res.headers().contains_key("serverfnerror") {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes = actix_web::body::to_bytes_limited(body, 64 * 1024)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("server function error too long"))?
        .map_err(|_| actix_web::error::ErrorInternalServerError("server function error unreadable"))?;
    let text = std::str::from_utf8(&bytes).unwrap_or_default();
    let status = if ["Args|", "MissingArg|", "Deserialization|"].iter().any(|p| text.starts_with(p)) {
        // the form's fields do not fit the function: the client's mistake
        StatusCode::BAD_REQUEST
    } else {
        text.strip_prefix("ServerError|")
            .and_then(|c| ErrorCode::parse(c.trim()))
            .and_then(|c| StatusCode::from_u16(c.http_status()).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    };
    let mut res = head.set_body(actix_web::body::BoxBody::new(bytes));
    *res.status_mut() = status;
    Ok(ServiceResponse::new(req, res))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_policy_allows_its_own_blocks_by_hash() {
        let html = "<style>b{}</style><script>x()</script><script src=\"/a.js\"></script>";
        let csp = csp_for_document(html);
        assert!(csp.contains(&csp_hash("b{}")), "{csp}");
        assert!(csp.contains(&csp_hash("x()")), "{csp}");
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("script-src 'self' 'sha256-"));
    }

    #[test]
    fn tile_origins_expand_subdomains() {
        let t = domain::patrol::TileSource {
            template: "https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}".into(),
            gcj02: false,
            subdomains: "01".into(),
            attribution: String::new(),
        };
        assert_eq!(tile_origins(&t), vec!["https://t0.tianditu.gov.cn", "https://t1.tianditu.gov.cn"]);
    }

    #[test]
    fn hashes_are_base64_sha256() {
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(csp_hash("alert(1)"), "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='");
    }
}
