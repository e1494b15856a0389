//! Security basics: the headers and Content-Security-Policy of every page, the
//! cross-site check of state-changing requests, and upload limits. (Forged
//! JWTs are refused in auth.rs.)

use crate::helpers::*;
use crate::pages::{browser, location, path};
use server::security::csp_hash;

/// The inline `<script>` blocks (without `src`) of a page: (attributes, text).
fn inline_scripts(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<script") {
        let after = &rest[i + 7..];
        let gt = after.find('>').expect("script tag closed");
        let body = &after[gt + 1..];
        let end = body.find("</script>").expect("script closed");
        if !after[..gt].contains("src=") {
            found.push((after[..gt].to_string(), body[..end].to_string()));
        }
        rest = &body[end..];
    }
    found
}

/// The nonce a policy allows, if any.
fn nonce_of(csp: &str) -> Option<String> {
    let i = csp.find("'nonce-")?;
    Some(csp[i + 7..].split('\'').next()?.to_string())
}

/// A site root whose manifest names built assets, so pages carry the boot script.
fn site_with_assets() -> (std::path::PathBuf, app::Assets) {
    let dir = std::env::temp_dir().join(format!("zhsq-site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(
        dir.join("pkg/assets.json"),
        r#"{"js":"app-0123abcd.js","wasm":"app-0123abcd.wasm","css":"app-0123abcd.css"}"#,
    )
    .unwrap();
    std::fs::copy("../public/offline.html", dir.join("offline.html")).unwrap();
    let assets = app::Assets {
        js: Some("app-0123abcd.js".into()),
        wasm: Some("app-0123abcd.wasm".into()),
        css: Some("app-0123abcd.css".into()),
        ..app::Assets::default()
    };
    (dir, assets)
}

async fn login(b: &crate::pages::Browser<'_>, who: &str) {
    if who.starts_with("139") {
        b.password_login(who).await;
    } else {
        b.code_login(who).await;
    }
}

fn check_page(who: &str, page: &str, csp: &str, html: &str) {
    let nonce = nonce_of(csp);
    for (attrs, text) in inline_scripts(html) {
        let by_nonce = nonce.as_ref().is_some_and(|n| attrs.contains(&format!("nonce=\"{n}\"")));
        assert!(
            by_nonce || csp.contains(&csp_hash(&text)),
            "{who} {page}: an inline script the policy does not allow: <script{attrs}>{text}"
        );
    }
    assert!(!html.contains(" style=\""), "{who} {page}: a style attribute, which the policy refuses");
    assert!(!html.contains(" onclick="), "{who} {page}: an inline handler, which the policy refuses");
}

#[tokio::test]
async fn every_main_page_runs_under_a_policy_that_allows_only_our_code() {
    let (site, assets) = site_with_assets();
    let app = spawn_app_with(&[("SITE_ROOT", site.to_str().unwrap())]).await;
    let boot = assets.boot_script().unwrap();

    let r = app.client.get(app.url("/login")).send().await.unwrap();
    let h = r.headers().clone();
    let r2 = app.client.get(app.url("/login")).send().await.unwrap();
    let other = r2.headers()["content-security-policy"].to_str().unwrap().to_string();
    let csp = h["content-security-policy"].to_str().unwrap().to_string();
    for directive in [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "'wasm-unsafe-eval'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'") && !csp.contains('*'), "{csp}");
    let nonce = nonce_of(&csp).expect("the page has a nonce");
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(csp.contains(&format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'")), "{csp}");
    assert!(r.headers().get("x-csp-nonce").is_none(), "the internal header is dropped");
    assert!(csp.contains("style-src 'self';"), "{csp}");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["cross-origin-opener-policy"], "same-origin");
    assert!(h["permissions-policy"].to_str().unwrap().contains("microphone=()"));
    assert!(h.get("strict-transport-security").is_none(), "HSTS only over https");
    assert_ne!(nonce_of(&other), Some(nonce.clone()), "a new nonce for every response");
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("<script type=\"module\" nonce=\"{nonce}\">{boot}</script>")), "{html}");
    check_page("anonymous", "/login", &csp, &html);

    let pages: [(&str, &[&str]); 4] = [
        (
            RESIDENT_A,
            &[
                "/",
                "/announcements",
                "/me",
                "/residence",
                "/inbox",
                "/inbox/settings",
                "/appointments",
                "/appointments/mine",
                "/bills",
                "/points",
                "/incidents",
                "/topics",
                "/volunteer",
                "/votes",
            ],
        ),
        (
            STAFF_A,
            &[
                "/staff",
                "/staff/residences",
                "/staff/import",
                "/staff/appointments",
                "/staff/bills",
                "/staff/bills/import",
                "/staff/points",
                "/staff/patrol",
                "/staff/patrol/patrols",
                "/staff/incidents",
                "/staff/figures",
                "/staff/topics",
                "/staff/volunteer",
                "/staff/votes",
            ],
        ),
        (WORKER_A, &["/patrol", "/incidents"]),
        (ADMIN, &["/staff", "/staff/figures"]),
    ];
    for (who, list) in pages {
        let b = browser(&app).await;
        login(&b, who).await;
        for page in list {
            let r = b.client().get(app.url(page)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{who} {page}");
            let page_csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
            let without = |c: &str| c.replace(&nonce_of(c).unwrap_or_default(), "");
            assert_eq!(without(&page_csp), without(&csp), "{who} {page}: one policy for every page");
            let html = r.text().await.unwrap();
            check_page(who, page, &page_csp, &html);
        }
        if who == RESIDENT_A {
            // The vote results draw their bars without style attributes.
            let (_, list) = b.page("/votes").await;
            let ids: Vec<String> = list
                .match_indices("href=\"/votes/")
                .filter_map(|(i, _)| {
                    let rest = &list[i + 13..];
                    let id: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                    (!id.is_empty()).then_some(id)
                })
                .collect();
            assert!(!ids.is_empty(), "the demo has votes");
            for id in ids {
                let r = b.client().get(app.url(&format!("/votes/{id}"))).send().await.unwrap();
                assert_eq!(r.status(), 200);
                let page_csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
                check_page(RESIDENT_A, &format!("/votes/{id}"), &page_csp, &r.text().await.unwrap());
            }
        }
    }

    // The offline page brings its own inline style and script, allowed by hash.
    let r = app.client.get(app.url("/offline.html")).send().await.unwrap();
    let own = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    let html = r.text().await.unwrap();
    let scripts = inline_scripts(&html);
    assert_eq!(scripts.len(), 1);
    assert!(own.contains(&csp_hash(&scripts[0].1)), "{own}");
    assert!(!own.contains("unsafe-inline"));
    check_page("anonymous", "/offline.html", &own, &html);
    let _ = std::fs::remove_dir_all(site);
}

#[tokio::test]
async fn map_tiles_are_the_only_other_images_allowed() {
    let app = spawn_app_with(&[
        ("MAP_TILE_URL", "https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=KEY"),
        ("MAP_TILE_SUBDOMAINS", "01"),
        ("MAP_TILE_CRS", "wgs84"),
    ])
    .await;
    let r = app.client.get(app.url("/login")).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("img-src 'self' https://t0.tianditu.gov.cn https://t1.tianditu.gov.cn data: blob:;"), "{csp}");
    assert!(csp.contains("connect-src 'self';"), "tiles are images, not fetched: {csp}");
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let b = browser(&app).await;
    b.code_login(RESIDENT_A).await;
    let logout = app.url(path::<app::auth::Logout>());

    // Another site's form: refused, in Chinese (a page) or as JSON.
    let r = b
        .client()
        .post(&logout)
        .header("Origin", "https://evil.example")
        .header("Accept", "text/html")
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("该请求来自其他网站,已被拒绝"), "{html}");
    let r = b
        .client()
        .post(&logout)
        .header("Origin", "https://evil.example")
        .header("Accept-Language", "en")
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["error"], "cross_site");
    assert!(j["message"].as_str().unwrap().contains("another site"));
    // A browser that sends no Origin still says where the request came from.
    for site in ["cross-site", "same-site"] {
        let r = b.client().post(&logout).header("Sec-Fetch-Site", site).form(&[("x", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 403, "Sec-Fetch-Site: {site}");
    }
    let r = b.client().post(&logout).header("Origin", "null").form(&[("x", "1")]).send().await.unwrap();
    assert_eq!(r.status(), 403, "an opaque origin");
    // Still logged in: none of those reached the server function.
    let r = b.client().get(app.url("/me")).send().await.unwrap();
    assert_eq!(r.status(), 200, "the session survived");

    // Reading is not refused (a link from another site must open the page).
    let r = b.client().get(app.url("/me")).header("Sec-Fetch-Site", "cross-site").send().await.unwrap();
    assert_eq!(r.status(), 200);

    // A Bearer caller is not a browser form: the check does not apply.
    let t = app.login_code(RESIDENT_B).await;
    let r = app
        .client
        .post(app.url("/api/v1/inbox/read-all"))
        .bearer_auth(&t.access_token)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 403, "a Bearer call is not refused as cross-site");

    // Machine endpoints answer as usual, with the cookie removed.
    let r = b
        .client()
        .post(app.url("/open311/v2/requests.json"))
        .header("Origin", "https://evil.example")
        .form(&[("service_code", "x")])
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(!body.contains("cross_site"), "Open311 has its own keys: {body}");

    // Our own pages post with our origin: accepted; the logout happens.
    let r = b.client().post(&logout).header("Origin", app.address.clone()).form(&[("x", "1")]).send().await.unwrap();
    assert!(r.status().is_redirection() || r.status().is_success(), "{}", r.status());
    let r = b.client().get(app.url("/me")).send().await.unwrap();
    assert_eq!(r.status(), 302, "logged out");
    assert!(location(&r).starts_with("/login"));
}

#[tokio::test]
async fn uploads_and_bodies_have_limits() {
    let app = spawn_app().await;
    let b = browser(&app).await;
    b.password_login(STAFF_A).await;
    let community = app.org_id("阳光社区").await.to_string();

    // A spreadsheet over the import limit: refused in words, not stored.
    let big = vec![b'a'; backend::import::MAX_BYTES + 1];
    let form = reqwest::multipart::Form::new()
        .text("community_id", community.clone())
        .part("file", reqwest::multipart::Part::bytes(big).file_name("big.csv"));
    let r = b.client().post(app.url("/staff/import")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("error=invalid_file"), "{}", location(&r));

    // A photo over 10 MiB: refused before anything is filed.
    let w = browser(&app).await;
    w.code_login(WORKER_A).await;
    let photo = vec![0xffu8; domain::incidents::MAX_PHOTO_BYTES + 1];
    let form = reqwest::multipart::Form::new()
        .text("form_id", uuid::Uuid::new_v4().to_string())
        .text("community_id", community.clone())
        .text("category", "other")
        .text("description", "楼道灯坏了")
        .part("photo", reqwest::multipart::Part::bytes(photo).file_name("p.jpg").mime_str("image/jpeg").unwrap());
    let r = w.client().post(app.url("/incidents/report")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("error=invalid_photo"), "{}", location(&r));

    // A GPS batch over 1 MiB.
    let body = vec![b' '; 1024 * 1024 + 1];
    let r = w
        .client()
        .post(app.url("/api/v1/patrol/batch"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    // JSON and form bodies over 256 KiB.
    let r = app
        .client
        .post(app.url("/api/v1/auth/code"))
        .header("Content-Type", "application/json")
        .body(format!("{{\"phone\":\"{}\"}}", "1".repeat(300 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["error"], "too_large");
    // A browser form over the limit: a page that says so in Chinese and
    // leads back to the form it came from.
    let r = b
        .client()
        .post(app.url(path::<app::auth::SetPreferences>()))
        .header("Accept", "text/html")
        .header("Referer", app.url("/me?tab=prefs"))
        .form(&[("lang", "x".repeat(2 * 1024 * 1024))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413, "a 2 MiB form");
    let html = r.text().await.unwrap();
    assert!(html.contains("提交的内容过大"), "{html}");
    assert!(html.contains(r#"href="/me?tab=prefs""#), "{html}");
    // The same without a length (chunked): a server function used to read it
    // whole. Now 413 for the long one, and a short one is read as before.
    let chunked = |body: String| {
        let chunks: Vec<Result<String, std::io::Error>> =
            body.into_bytes().chunks(64 * 1024).map(|c| Ok(String::from_utf8(c.to_vec()).unwrap())).collect();
        reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
    };
    let prefs = path::<app::auth::SetPreferences>();
    let form = || {
        b.client()
            .post(app.url(prefs))
            .header("Accept", "text/html")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Referer", app.url("/me?tab=prefs"))
    };
    let r = form().body(chunked(format!("lang={}", "x".repeat(2 * 1024 * 1024)))).send().await.unwrap();
    assert_eq!(r.status(), 413, "a 2 MiB form, chunked");
    assert!(r.text().await.unwrap().contains("提交的内容过大"));
    let r = form().body(chunked("lang=en".into())).send().await.unwrap();
    let plain = form().body("lang=en").send().await.unwrap();
    assert_eq!((r.status(), location(&r)), (plain.status(), location(&plain)), "a short chunked form is read as usual");
    assert!(r.status().is_redirection() && !location(&r).contains("error="), "{}", location(&r));
    let r = app
        .client
        .post(app.url("/api/v1/patrol/batch"))
        .header("Content-Type", "application/json")
        .body(chunked(" ".repeat(1024 * 1024 + 1)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413, "a GPS batch over 1 MiB, chunked");
    // The staff member is still logged in and nothing changed.
    let (status, _) = b.page("/staff").await;
    assert_eq!(status, 200);
}
