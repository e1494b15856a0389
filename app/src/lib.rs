//! 智慧社区 pages, components and server functions. Rendered on the server
//! (feature `ssr`) and hydrated in the browser (feature `hydrate`).
//!
//! Features live in their own modules: `auth` (login, settings),
//! `announcements` (社区公告), `dev` (development pages).

pub mod announcements;
pub mod appointments;
pub mod auth;
pub mod bills;
pub mod dev;
pub mod enhance;
pub mod figures;
pub mod home;
pub mod i18n;
pub mod import;
pub mod inbox;
pub mod incidents;
pub mod layout;
pub mod live;
pub mod patrol;
pub mod payments;
pub mod points;
pub mod residence;
pub mod session;
pub mod topics;
pub mod volunteer;
pub mod votes;

use leptos::prelude::*;
use leptos_meta::provide_meta_context;
#[cfg(feature = "ssr")]
use leptos_meta::MetaTags;
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// Hashed file names of the built assets (see script/build), read at start-up.
#[derive(Clone, Debug, Default)]
pub struct Assets {
    /// The resident's module (plain DOM: live badge, form help).
    pub js: Option<String>,
    pub wasm: Option<String>,
    pub css: Option<String>,
    /// The grid worker's module: the resident's and the islands (the patrol
    /// recorder). Loaded only by a page that has an island.
    pub worker_js: Option<String>,
    pub worker_wasm: Option<String>,
}

impl Assets {
    /// The one inline script of our own on every page: loads the WASM client,
    /// hydrates each island (`<leptos-island data-component=…>`: the
    /// client's export of that name; what Leptos' own island loader does,
    /// which cannot carry our nonce) and registers the service worker. It
    /// runs by the page's CSP nonce.
    pub fn boot_script(&self) -> Option<String> {
        let (js, wasm) = (self.js.as_ref()?, self.wasm.as_ref()?);
        // a page with an island takes the worker's module, when built
        let worker = match (&self.worker_js, &self.worker_wasm) {
            (Some(wjs), Some(wwasm)) => format!("document.querySelector('leptos-island')?['{wjs}','{wwasm}']:"),
            _ => String::new(),
        };
        Some(format!(
            "const [j,w]={worker}['{js}','{wasm}'];\
             import('/pkg/'+j).then(m=>m.default({{module_or_path:'/pkg/'+w}}).then(()=>{{m.hydrate();\
             for(const el of document.querySelectorAll('leptos-island')){{const f=m[el.dataset.component];f?f(el):console.warn('no island',el.dataset.component)}}}})).catch(e=>console.warn('hydration skipped',e));\
             if('serviceWorker' in navigator){{addEventListener('load',()=>navigator.serviceWorker.register('/sw.js').catch(()=>{{}}))}}"
        ))
    }

    /// The module a page at `path` loads: the worker's on the patrol pages
    /// (their islands: the recorder, the live board, the replay), the
    /// resident's elsewhere.
    pub fn module_for(&self, path: &str) -> Option<&String> {
        let worker_page = path == "/patrol"
            || path.starts_with("/patrol/")
            || path.starts_with("/patrols/")
            || path == "/staff/patrol/patrols";
        if worker_page && self.worker_js.is_some() {
            self.worker_js.as_ref()
        } else {
            self.js.as_ref()
        }
    }
}

/// The HTML document around the app. Language and large-text mode come from
/// the request, so the very first paint is right.
#[cfg(feature = "ssr")]
pub fn shell(assets: Assets) -> impl IntoView {
    use session::ssr::{lang_of, large_text_of, request};
    // Islands mode: only islands hydrate, so the rest of the page carries no
    // hydration markers (what leptos' HydrationScripts does with islands=true).
    if let Some(sc) = Owner::current_shared_context() {
        sc.set_is_hydrating(false);
    }
    let (lang, large, path) = match request() {
        Ok(r) => (lang_of(&r), large_text_of(&r), r.path().to_string()),
        Err(_) => (i18n::Lang::Zh, false, String::new()),
    };
    let css = assets.css.clone().map(|c| format!("/pkg/{c}"));
    let boot = assets.boot_script();
    // The per-request nonce leptos_actix provides: on our boot script and on
    // leptos' own resource scripts; the server puts it into the policy.
    let nonce = leptos::nonce::use_nonce();
    if let (Some(n), Some(res)) = (&nonce, use_context::<leptos_actix::ResponseOptions>()) {
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(n) {
            res.insert_header(actix_web::http::header::HeaderName::from_static(session::ssr::NONCE_HEADER), v);
        }
    }
    let preload_js = assets.module_for(&path).map(|j| format!("/pkg/{j}"));
    view! {
        <!DOCTYPE html>
        <html lang=lang.html_lang() class=if large { "large-text" } else { "" }>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
                <meta name="theme-color" content="#c8102e" />
                <link rel="manifest" href="/manifest.webmanifest" />
                <link rel="icon" href="/favicon.ico" sizes="any" />
                <link rel="apple-touch-icon" href="/icons/icon-192.png" />
                {css.map(|href| view! { <link rel="stylesheet" href=href /> })}
                {preload_js.map(|href| view! { <link rel="modulepreload" href=href /> })}
                <MetaTags />
                {boot.map(|b| view! { <script type="module" nonce=nonce.clone() inner_html=b></script> })}
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let session: layout::SessionResource = Resource::new(|| (), |_| session::get_session());
    provide_context(session);
    view! {
        <a class="skip" href="#main">
            "跳到正文 / Skip to content"
        </a>
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/") view=home::HomePage ssr=SsrMode::Async />
                <Route path=path!("/login") view=auth::LoginPage ssr=SsrMode::Async />
                <Route path=path!("/login/password") view=auth::PasswordLoginPage ssr=SsrMode::Async />
                <Route path=path!("/me") view=auth::MePage ssr=SsrMode::Async />
                <Route path=path!("/announcements") view=announcements::AnnouncementsPage ssr=SsrMode::Async />
                <Route path=path!("/announcements/:id") view=announcements::AnnouncementPage ssr=SsrMode::Async />
                <Route path=path!("/staff") view=announcements::StaffConsolePage ssr=SsrMode::Async />
                <Route path=path!("/residence") view=residence::ResidencePage ssr=SsrMode::Async />
                <Route path=path!("/staff/residences") view=residence::StaffResidencesPage ssr=SsrMode::Async />
                <Route path=path!("/staff/personal-data") view=residence::PersonalDataLogPage ssr=SsrMode::Async />
                <Route path=path!("/staff/import") view=import::ImportPage ssr=SsrMode::Async />
                <Route path=path!("/inbox") view=inbox::InboxPage ssr=SsrMode::Async />
                <Route path=path!("/inbox/settings") view=inbox::InboxSettingsPage ssr=SsrMode::Async />
                <Route path=path!("/appointments") view=appointments::AppointmentsPage ssr=SsrMode::Async />
                <Route path=path!("/appointments/mine") view=appointments::MyBookingsPage ssr=SsrMode::Async />
                <Route path=path!("/appointments/items/:id") view=appointments::ItemPage ssr=SsrMode::Async />
                <Route path=path!("/appointments/bookings/:id") view=appointments::BookingPage ssr=SsrMode::Async />
                <Route path=path!("/staff/appointments") view=appointments::StaffAppointmentsPage ssr=SsrMode::Async />
                <Route
                    path=path!("/staff/appointments/items/:id")
                    view=appointments::StaffItemPage
                    ssr=SsrMode::Async
                />
                <Route path=path!("/staff/appointments/queue") view=appointments::QueuePage ssr=SsrMode::Async />
                <Route path=path!("/staff/appointments/check") view=appointments::CheckPage ssr=SsrMode::Async />
                <Route path=path!("/bills") view=bills::BillsPage ssr=SsrMode::Async />
                <Route path=path!("/staff/bills") view=bills::StaffBillsPage ssr=SsrMode::Async />
                <Route path=path!("/staff/bills/import") view=bills::BillImportPage ssr=SsrMode::Async />
                <Route path=path!("/pay/orders/:no") view=payments::OrderPage ssr=SsrMode::Async />
                <Route path=path!("/pay/orders/:no/receipt") view=payments::ReceiptPage ssr=SsrMode::Async />
                <Route path=path!("/receipts/check") view=payments::ReceiptCheckPage ssr=SsrMode::Async />
                <Route path=path!("/points") view=points::PointsPage ssr=SsrMode::Async />
                <Route path=path!("/staff/points") view=points::StaffPointsPage ssr=SsrMode::Async />
                <Route path=path!("/staff/patrol") view=patrol::StaffPatrolPage ssr=SsrMode::Async />
                <Route path=path!("/staff/patrol/routes/:id/sheet") view=patrol::RouteSheetPage ssr=SsrMode::Async />
                <Route path=path!("/staff/patrol/patrols") view=patrol::StaffPatrolsPage ssr=SsrMode::Async />
                <Route path=path!("/patrol") view=patrol::WorkerPatrolPage ssr=SsrMode::Async />
                <Route path=path!("/patrol/checkpoints/:token") view=patrol::QrCheckinPage ssr=SsrMode::Async />
                <Route path=path!("/patrols/:id") view=patrol::PatrolDetailPage ssr=SsrMode::Async />
                <Route path=path!("/incidents") view=incidents::IncidentsPage ssr=SsrMode::Async />
                <Route path=path!("/incidents/:id") view=incidents::IncidentPage ssr=SsrMode::Async />
                <Route path=path!("/staff/incidents") view=incidents::StaffIncidentsPage ssr=SsrMode::Async />
                <Route path=path!("/staff/figures") view=figures::FiguresPage ssr=SsrMode::Async />
                <Route path=path!("/topics") view=topics::TopicsPage ssr=SsrMode::Async />
                <Route path=path!("/topics/:id") view=topics::TopicPageView ssr=SsrMode::Async />
                <Route path=path!("/staff/topics") view=topics::StaffTopicsPage ssr=SsrMode::Async />
                <Route path=path!("/volunteer") view=volunteer::VolunteerPage ssr=SsrMode::Async />
                <Route path=path!("/volunteer/scan") view=volunteer::ScanPage ssr=SsrMode::Async />
                <Route path=path!("/volunteer/:id/organise") view=volunteer::OrganisePage ssr=SsrMode::Async />
                <Route path=path!("/volunteer/certificate/:code") view=volunteer::CertificatePage ssr=SsrMode::Async />
                <Route path=path!("/staff/volunteer") view=volunteer::StaffVolunteerPage ssr=SsrMode::Async />
                <Route path=path!("/votes") view=votes::VotesPage ssr=SsrMode::Async />
                <Route path=path!("/votes/receipt") view=votes::VoteReceiptPage ssr=SsrMode::Async />
                <Route path=path!("/votes/:id") view=votes::VotePage ssr=SsrMode::Async />
                <Route path=path!("/staff/votes") view=votes::StaffVotesPage ssr=SsrMode::Async />
                <Route path=path!("/staff/votes/:id") view=votes::StaffVotePage ssr=SsrMode::Async />
                <Route path=path!("/dev/codes") view=dev::DevCodesPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_actix::ResponseOptions>() {
        res.set_status(actix_web::http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="content">
            <h1>"页面不存在 / Not found"</h1>
            <p>
                <a href="/">"返回首页 / Home"</a>
            </p>
        </main>
    }
}
