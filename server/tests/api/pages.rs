//! The server-rendered pages and their plain HTML forms, as a browser without
//! JavaScript uses them.

use crate::helpers::*;
use leptos::server_fn::ServerFn;
use sea_orm::EntityTrait;

pub fn path<T: ServerFn>() -> &'static str {
    T::PATH
}

impl TestApp {
    pub async fn form(&self, action: &str, referer: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        post_form(&self.client, self, action, referer, fields).await
    }

    pub async fn page(&self, path: &str) -> (u16, String) {
        get_page(&self.client, self, path).await
    }

    /// Logs in the cookie client with a code, the way the login page does.
    pub async fn browser_login(&self, phone: &str) {
        let r = self.form(path::<app::auth::RequestCode>(), "/login", &[("phone", phone), ("next", "/")]).await;
        assert_eq!(r.status(), 302);
        let code = self.last_code(phone);
        let r = self
            .form(path::<app::auth::LoginWithCode>(), "/login", &[("phone", phone), ("code", &code), ("next", "/")])
            .await;
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["location"], "/");
    }
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_login() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert!(location(&r).starts_with("/login"), "{}", location(&r));
    let (status, html) = app.page("/login").await;
    assert_eq!(status, 200);
    assert!(html.contains("获取验证码"));
    assert!(html.contains(r#"lang="zh-CN""#));
}

#[tokio::test]
async fn html_is_never_cached() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}

#[tokio::test]
async fn english_follows_accept_language() {
    let app = spawn_app().await;
    let html = app
        .client
        .get(app.url("/login"))
        .header("Accept-Language", "en-GB,en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Send code"), "{html}");
    assert!(html.contains(r#"lang="en""#));
}

#[tokio::test]
async fn wechat_browser_gets_a_one_line_hint() {
    let app = spawn_app().await;
    let ua = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/116 Mobile MicroMessenger/8.0.49";
    let html = app.client.get(app.url("/login")).header("User-Agent", ua).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("wechat-hint"));
    let wecom = format!("{ua} wxwork/4.1");
    let html =
        app.client.get(app.url("/login")).header("User-Agent", wecom).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("wechat-hint"));
}

#[tokio::test]
async fn login_and_read_an_announcement_without_javascript() {
    let app = spawn_app().await;
    app.browser_login(RESIDENT_A).await;
    let (status, html) = app.page("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("陈静"));
    assert!(html.contains("本周六上午社区义诊活动"));
    assert!(!html.contains(RESIDENT_A), "the page must not carry the full phone number");
    let (_, list) = app.page("/announcements").await;
    let id_start = list.find("/announcements/").unwrap() + "/announcements/".len();
    let id: String = list[id_start..].chars().take_while(|c| c.is_ascii_digit()).collect();
    let (status, detail) = app.page(&format!("/announcements/{id}")).await;
    assert_eq!(status, 200);
    assert!(detail.contains("notice-body"));
}

#[tokio::test]
async fn a_wrong_code_keeps_the_phone_and_says_why() {
    let app = spawn_app().await;
    let r = app.form(path::<app::auth::RequestCode>(), "/login", &[("phone", RESIDENT_A), ("next", "/")]).await;
    assert_eq!(r.status(), 302);
    let good = app.last_code(RESIDENT_A);
    let wrong = if good == "000000" { "111111" } else { "000000" };
    let r = app
        .form(path::<app::auth::LoginWithCode>(), "/login", &[("phone", RESIDENT_A), ("code", wrong), ("next", "/")])
        .await;
    assert_eq!(r.status(), 302);
    let to = location(&r);
    assert!(to.contains("error=invalid_code"), "{to}");
    let (_, html) = app.page(&to).await;
    assert!(html.contains("验证码不正确"));
    assert!(html.contains(&format!(r#"value="{RESIDENT_A}""#)), "phone kept");
}

#[tokio::test]
async fn staff_publish_through_the_console_form_and_errors_keep_the_draft() {
    let app = spawn_app().await;
    let r = app
        .form(
            path::<app::auth::LoginWithPassword>(),
            "/login/password",
            &[("phone", STAFF_A), ("password", PASSWORD), ("next", "/staff")],
        )
        .await;
    assert_eq!(location(&r), "/staff");
    let (status, console) = app.page("/staff").await;
    assert_eq!(status, 200);
    assert!(console.contains("发布公告"));
    let sunshine = app.org_id("阳光社区").await.to_string();
    // empty title: back to the form with the reason and everything typed
    let body = "明天上午9点停电检修,请提前做好准备。";
    let r = app
        .form(
            path::<app::announcements::PublishAnnouncement>(),
            "/staff",
            &[("org_unit_id", &sunshine), ("title", " "), ("body", body)],
        )
        .await;
    let to = location(&r);
    assert!(to.starts_with("/staff?") && to.contains("error=invalid_title"), "{to}");
    let (_, html) = app.page(&to).await;
    assert!(html.contains("标题不能为空"));
    assert!(html.contains(body), "draft kept");
    // now properly
    let r = app
        .form(
            path::<app::announcements::PublishAnnouncement>(),
            "/staff",
            &[("org_unit_id", &sunshine), ("title", "停电检修通知"), ("body", body)],
        )
        .await;
    assert!(location(&r).starts_with("/staff?published="), "{}", location(&r));
    // a resident of the community sees it
    let resident = TestAppClient::new(&app).await;
    let (_, html) = resident.page("/announcements").await;
    assert!(html.contains("停电检修通知"));
}

#[tokio::test]
async fn residents_cannot_open_the_console_or_publish() {
    let app = spawn_app().await;
    app.browser_login(RESIDENT_A).await;
    let sunshine = app.org_id("阳光社区").await.to_string();
    let r = app
        .form(
            path::<app::announcements::PublishAnnouncement>(),
            "/staff",
            &[("org_unit_id", &sunshine), ("title", "越权"), ("body", "x")],
        )
        .await;
    assert!(location(&r).contains("error=forbidden"), "{}", location(&r));
    let (_, html) = app.page("/staff").await;
    assert!(html.contains("没有权限"));
}

#[tokio::test]
async fn logout_ends_the_cookie_session() {
    let app = spawn_app().await;
    app.browser_login(RESIDENT_A).await;
    let r = app.form(path::<app::auth::Logout>(), "/me", &[]).await;
    assert_eq!(location(&r), "/login");
    let r = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 302);
}

#[tokio::test]
async fn an_expired_access_cookie_is_renewed_from_the_refresh_cookie() {
    let app = spawn_app_with(&[("ACCESS_TOKEN_TTL_SECONDS", "10")]).await;
    app.browser_login(RESIDENT_A).await;
    tokio::time::sleep(std::time::Duration::from_secs(16)).await;
    let r = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200, "renewed silently");
    assert!(r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("zhsq_at=")));
}

#[tokio::test]
async fn large_text_and_language_preferences_stick() {
    let app = spawn_app_with(&[("CODE_RESEND_SECONDS", "0")]).await;
    app.browser_login(RESIDENT_A).await;
    let r = app.form(path::<app::auth::SetPreferences>(), "/me", &[("large_text", "1")]).await;
    assert_eq!(location(&r), "/me");
    let (_, html) = app.page("/me").await;
    assert!(html.contains(r#"class="large-text""#));
    app.form(path::<app::auth::SetPreferences>(), "/me", &[("lang", "en")]).await;
    let (_, html) = app.page("/me").await;
    assert!(html.contains("Log out"));
    // the choice follows the user to another browser
    let other = browser(&app).await;
    other.code_login(RESIDENT_A).await;
    let (_, html) = other.page("/me").await;
    assert!(html.contains("Log out"), "English on the new device too");
}

#[tokio::test]
async fn dev_codes_page_is_off_outside_dev_mode() {
    let app = spawn_app_with(&[("DEV_MODE", "false"), ("PAYMENT_PROVIDER", "sandbox"), ("CODE_SENDER", "dev")]).await;
    let (status, _) = app.page("/dev/codes").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn pages_of_records_that_are_missing_or_not_yours_answer_404() {
    let app = spawn_app().await;
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let resident = browser(&app).await;
    resident.code_login(RESIDENT_A).await;
    let missing = 987_654_321;
    for (who, path) in [
        (&resident, format!("/incidents/{missing}")),
        (&staff, format!("/patrols/{missing}")),
        (&resident, format!("/votes/{missing}")),
        (&resident, format!("/topics/{missing}")),
        (&staff, format!("/volunteer/{missing}/organise")),
        (&resident, format!("/appointments/bookings/{missing}")),
        (&resident, format!("/appointments/items/{missing}")),
        (&resident, "/pay/orders/ZH000000000000000000".to_string()),
        (&resident, "/pay/orders/ZH000000000000000000/receipt".to_string()),
        (&staff, format!("/staff/votes/{missing}")),
        (&staff, format!("/staff/appointments/items/{missing}")),
        (&staff, format!("/staff/patrol/routes/{missing}/sheet")),
    ] {
        let (status, html) = who.page(&path).await;
        assert_eq!(status, 404, "{path}: {}", html.chars().take(300).collect::<String>());
        assert!(html.contains("</html>"), "{path}: still a whole page with the way back");
    }
    // a record of the other community: the same answer
    let other = browser(&app).await;
    other.password_login(STAFF_B).await;
    let route = backend::entities::patrol_route::Entity::find().one(&app.state.db).await.unwrap().unwrap();
    let (status, _) = other.page(&format!("/staff/patrol/routes/{}/sheet", route.id)).await;
    assert_eq!(status, 404, "another community's route");
    let (status, _) = staff.page(&format!("/staff/patrol/routes/{}/sheet", route.id)).await;
    assert_eq!(status, 200, "its own");
}

#[tokio::test]
async fn a_code_asked_for_too_soon_says_how_long_and_keeps_the_code_field() {
    let app = spawn_app().await;
    let r = app.form(path::<app::auth::RequestCode>(), "/login", &[("phone", RESIDENT_A), ("next", "/")]).await;
    assert_eq!(r.status(), 302);
    let r = app.form(path::<app::auth::RequestCode>(), "/login", &[("phone", RESIDENT_A), ("next", "/")]).await;
    let to = location(&r);
    assert!(to.contains("error=rate_limited") && to.contains("sent=1") && to.contains("wait=60"), "{to}");
    let (_, html) = app.page(&to).await;
    assert!(html.contains("请等 60 秒后再点") && html.contains("如果已经收到验证码"), "{html}");
    assert!(html.contains(r#"name="code""#), "the field for the code already received");
    // a count-down the client runs, which enables the resend button at 0
    assert!(html.contains(r#"data-countdown="60""#) && html.contains(r#"data-enables="resend""#), "{html}");
    assert!(html.contains("60 秒后可以重新获取"), "{html}");
    // and that code still logs in
    let code = app.last_code(RESIDENT_A);
    let r = app
        .form(path::<app::auth::LoginWithCode>(), &to, &[("phone", RESIDENT_A), ("code", &code), ("next", "/")])
        .await;
    assert_eq!(location(&r), "/");
}

#[tokio::test]
async fn server_function_forms_from_scripts_answer_the_errors_status_not_500() {
    let app = spawn_app().await;
    let post = |action: &'static str, fields: Vec<(&'static str, &'static str)>| {
        let url = app.url(action);
        async move {
            let r = reqwest::Client::new().post(url).form(&fields).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, body) = post(
        path::<app::auth::LoginWithPassword>(),
        vec![("phone", STAFF_A), ("password", "wrong"), ("next", "/staff")],
    )
    .await;
    assert_eq!((status, body.contains("invalid_credentials")), (401, true), "{body}");
    let (status, body) = post(path::<app::inbox::MarkAllRead>(), vec![]).await;
    assert_eq!((status, body.contains("not_logged_in")), (401, true), "{body}");
}

#[tokio::test]
async fn simulations_named_outside_dev_mode_are_announced_on_every_page() {
    let app = spawn_app_with(&[("DEV_MODE", "false"), ("PAYMENT_PROVIDER", "sandbox"), ("CODE_SENDER", "dev")]).await;
    for path in ["/login", "/receipts/check"] {
        let (status, html) = app.page(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("class=\"sim-banner\""), "{path}: the banner");
        assert!(html.contains("缴费是模拟的") && html.contains("验证码不发短信"), "{path}: {html}");
    }
    app.browser_login(RESIDENT_A).await;
    let (_, html) = app.page("/bills").await;
    assert!(html.contains("缴费是模拟的"), "logged in too");
    // development shows no banner
    let dev = spawn_app().await;
    let (_, html) = dev.page("/login").await;
    assert!(!html.contains("sim-banner"));
}

/// A second browser (its own cookie jar) logged in as resident A.
struct TestAppClient<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
}

impl<'a> TestAppClient<'a> {
    async fn new(app: &'a TestApp) -> TestAppClient<'a> {
        let t = app.login_code(RESIDENT_A).await;
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let url: reqwest::Url = app.address.parse().unwrap();
        jar.add_cookie_str(&format!("zhsq_at={}; Path=/", t.access_token), &url);
        let client = reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestAppClient { app, client }
    }
    pub async fn page(&self, path: &str) -> (u16, String) {
        let r = self.client.get(self.app.url(path)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

/// Another browser with its own cookies.
pub async fn browser(app: &TestApp) -> Browser<'_> {
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    Browser { app, client }
}

pub struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
}

impl Browser<'_> {
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
    pub async fn code_login(&self, phone: &str) {
        let r = self.form(path::<app::auth::RequestCode>(), "/login", &[("phone", phone), ("next", "/")]).await;
        assert_eq!(r.status(), 302);
        let code = self.app.last_code(phone);
        let r = self
            .form(path::<app::auth::LoginWithCode>(), "/login", &[("phone", phone), ("code", &code), ("next", "/")])
            .await;
        assert_eq!(location(&r), "/");
    }
    pub async fn form(&self, action: &str, referer: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        post_form(&self.client, self.app, action, referer, fields).await
    }
    pub async fn page(&self, path: &str) -> (u16, String) {
        get_page(&self.client, self.app, path).await
    }
    pub async fn password_login(&self, phone: &str) {
        let r = self
            .form(
                path::<app::auth::LoginWithPassword>(),
                "/login/password",
                &[("phone", phone), ("password", PASSWORD), ("next", "/staff")],
            )
            .await;
        assert_eq!(location(&r), "/staff");
    }
}

#[tokio::test]
async fn server_functions_refuse_staff_of_another_community() {
    let app = spawn_app().await;
    let staff_b = browser(&app).await;
    staff_b.password_login(STAFF_B).await;
    let sunshine = app.org_id("阳光社区").await.to_string();
    let r = staff_b
        .form(
            path::<app::announcements::PublishAnnouncement>(),
            "/staff",
            &[("org_unit_id", &sunshine), ("title", "越权发布"), ("body", "x")],
        )
        .await;
    assert!(location(&r).contains("error=forbidden"), "{}", location(&r));
    // the publish form only offers their own community
    let (_, html) = staff_b.page("/staff").await;
    assert!(html.contains("和谐社区") && !html.contains(&format!(r#"<option value="{sunshine}""#)));
    // an announcement of 阳光社区 is not found for them
    let staff_a = app.login_password(STAFF_A).await;
    let id = app
        .post_bearer(
            "/api/v1/announcements",
            &staff_a.access_token,
            serde_json::json!({"org_unit_id": sunshine.parse::<i64>().unwrap(), "title": "阳光内部", "body": "x"}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .clone();
    let (status, html) = staff_b.page(&format!("/announcements/{id}")).await;
    assert_eq!(status, 404);
    assert!(html.contains("内容不存在"));
    // a residence request in 阳光社区 cannot be decided by them
    let r = staff_b
        .form(path::<app::residence::DecideResidence>(), "/staff/residences", &[("id", "1"), ("decision", "approve")])
        .await;
    assert!(location(&r).contains("error=not_found"), "{}", location(&r));
}

/// A plain HTML form post, as a browser sends it (Accept: text/html, Referer).
async fn post_form(
    client: &reqwest::Client,
    app: &TestApp,
    action: &str,
    referer: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(app.url(action))
        .header("Accept", "text/html,application/xhtml+xml")
        .header("Referer", app.url(referer))
        .form(fields)
        .send()
        .await
        .expect("form post")
}

async fn get_page(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.expect("page");
    (r.status().as_u16(), r.text().await.expect("body"))
}

#[tokio::test]
async fn a_first_login_is_named_in_the_readers_words_until_the_person_gives_a_name() {
    let app = spawn_app_with(&[("CODE_RESEND_SECONDS", "0")]).await;
    app.browser_login("13912340042").await;
    let (_, html) = app.page("/me").await;
    assert!(html.contains("居民0042"), "{html}");
    app.form(path::<app::auth::SetPreferences>(), "/me", &[("lang", "en")]).await;
    let (_, html) = app.page("/me").await;
    assert!(html.contains("Resident 0042") && !html.contains("居民0042"));
    // a name that is no name is refused with the reason, and what was typed comes back
    for bad in ["   ", "§person|n=1", &"长".repeat(31)] {
        let r = app.form(path::<app::auth::SetMyName>(), "/me", &[("name", bad)]).await;
        assert!(location(&r).starts_with("/me?error=invalid_name"), "{bad}: {}", location(&r));
    }
    let r = app.form(path::<app::auth::SetMyName>(), "/me", &[("name", " 陈阿姨 ")]).await;
    assert_eq!(location(&r), "/me?saved=name#name");
    let (_, html) = app.page("/me?saved=name").await;
    assert!(html.contains("<h2>陈阿姨</h2>"), "{html}");
    assert!(html.contains("Your name is saved"));
}

#[tokio::test]
async fn the_answer_to_a_page_post_takes_the_draft_cookie_away_and_nothing_else_does() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let action = app.url(path::<app::auth::SetPreferences>());
    let cleared = |r: &reqwest::Response| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("zhsq_draft=;") && c.to_str().unwrap().contains("Max-Age=0"))
    };
    // a form the browser posts (navigation): answered, so the client drops its draft
    let r = client
        .post(&action)
        .header("Cookie", "zhsq_draft=1796423639867")
        .header("Origin", app.address.as_str())
        .header("Sec-Fetch-Mode", "navigate")
        .form(&[("large_text", "1")])
        .send()
        .await
        .unwrap();
    assert!(cleared(&r));
    // a post a script makes, and a page opened, leave it
    let r = client
        .post(&action)
        .header("Cookie", "zhsq_draft=1796423639867")
        .header("Origin", app.address.as_str())
        .header("Sec-Fetch-Mode", "cors")
        .form(&[("large_text", "1")])
        .send()
        .await
        .unwrap();
    assert!(!cleared(&r));
    let r = client.get(app.url("/login")).header("Cookie", "zhsq_draft=1796423639867").send().await.unwrap();
    assert!(!cleared(&r));
    // without a draft, nothing to take away
    let r =
        client.post(&action).header("Origin", app.address.as_str()).form(&[("large_text", "1")]).send().await.unwrap();
    assert!(!cleared(&r));
}
