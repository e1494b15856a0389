//! Built assets: hashed files under /pkg (immutable, precompressed brotli and
//! gzip served when the browser takes them) and the files of public/ (icons,
//! manifest, service worker, offline page).

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use std::path::{Path, PathBuf};

/// `pkg/assets.json`, written by script/build: the hashed names of this build.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Manifest {
    pub js: Option<String>,
    pub wasm: Option<String>,
    pub css: Option<String>,
    /// The grid worker's module (the patrol recorder's island).
    #[serde(default)]
    pub worker_js: Option<String>,
    #[serde(default)]
    pub worker_wasm: Option<String>,
    #[serde(skip)]
    pub pkg_dir: PathBuf,
}

impl Manifest {
    pub fn load(site_root: &Path) -> Manifest {
        let pkg_dir = site_root.join("pkg");
        let mut m: Manifest = std::fs::read(pkg_dir.join("assets.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        m.pkg_dir = pkg_dir;
        m
    }
}

pub fn pkg_service() -> actix_web::Resource {
    web::resource("/pkg/{file:.*}").route(web::get().to(pkg_file))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

async fn pkg_file(req: HttpRequest, file: web::Path<String>, manifest: web::Data<Manifest>) -> HttpResponse {
    let name = file.into_inner();
    if name.contains("..") || name.starts_with('.') || name.starts_with('/') {
        return HttpResponse::NotFound().finish();
    }
    let accept = req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let path = manifest.pkg_dir.join(&name);
    let variants: [(&str, Option<&str>); 3] = [("br", Some("br")), ("gz", Some("gzip")), ("", None)];
    for (ext, enc) in variants {
        if let Some(e) = enc {
            if !accept.contains(e) {
                continue;
            }
        }
        let p = if ext.is_empty() { path.clone() } else { PathBuf::from(format!("{}.{ext}", path.display())) };
        if let Ok(bytes) = tokio::fs::read(&p).await {
            let mut res = HttpResponse::Ok();
            res.insert_header((header::CONTENT_TYPE, content_type(&name)))
                .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
                .insert_header((header::VARY, "Accept-Encoding"));
            if let Some(e) = enc {
                res.insert_header((header::CONTENT_ENCODING, e));
            }
            return res.body(bytes);
        }
    }
    HttpResponse::NotFound().finish()
}

/// Files of public/ at fixed paths. The service worker and manifest must be
/// revalidated on every load so an update is seen at once.
pub fn public_files(cfg: &mut web::ServiceConfig, site_root: PathBuf) {
    for (path, ctype, cache) in [
        ("/sw.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/push.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/volunteer.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/incident.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/manifest.webmanifest", "application/manifest+json", "no-cache"),
        ("/offline.html", "text/html; charset=utf-8", "no-cache"),
        ("/favicon.ico", "image/x-icon", "public, max-age=86400"),
        ("/icons/icon-192.png", "image/png", "public, max-age=86400"),
        ("/icons/icon-512.png", "image/png", "public, max-age=86400"),
        ("/icons/maskable-512.png", "image/png", "public, max-age=86400"),
    ] {
        let file = site_root.join(path.trim_start_matches('/'));
        cfg.route(
            path,
            web::get().to(move || {
                let file = file.clone();
                async move {
                    match tokio::fs::read(&file).await {
                        Ok(b) => {
                            let mut res = HttpResponse::Ok();
                            res.insert_header((header::CONTENT_TYPE, ctype))
                                .insert_header((header::CACHE_CONTROL, cache));
                            if ctype.starts_with("text/html") {
                                let csp = crate::security::csp_for_document(&String::from_utf8_lossy(&b));
                                res.insert_header((header::CONTENT_SECURITY_POLICY, csp));
                            }
                            res.body(b)
                        }
                        Err(_) => HttpResponse::NotFound().finish(),
                    }
                }
            }),
        );
    }
}
