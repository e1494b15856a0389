//! The actix-web application: state, middleware, REST routes for external
//! clients, static assets and the Leptos pages. `main.rs` only calls `run`.

pub mod api;
pub mod appointments;
pub mod assets;
pub mod events;
pub mod figures;
pub mod incidents;
pub mod middleware;
pub mod open311;
pub mod openapi;
pub mod patrol;
pub mod payments;
pub mod security;
pub mod upload;
pub mod volunteer;
pub mod votes;
pub mod wechat;

use actix_web::{
    dev::Server,
    middleware::{Compress, Logger},
    web, App, HttpServer,
};
use backend::{Config, State};
use leptos::prelude::*;
use leptos_actix::{generate_route_list, LeptosRoutes};
use std::net::TcpListener;
use utoipa_actix_web::AppExt;

pub struct Application {
    pub port: u16,
    pub state: State,
    server: Server,
}

impl Application {
    /// Connects, migrates and binds (port 0 picks a free port, for tests).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listener =
            TcpListener::bind(config.bind).map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
        let port = listener.local_addr()?.port();
        let mut config = config;
        if let Some(base) = config.public_url.strip_suffix(":0") {
            // bound to a free port (tests): the public address is the real one
            config.public_url = format!("{base}:{port}");
        }
        let state = State::init(config).await?;
        if state.config.job_worker {
            backend::jobs::spawn_worker(state.clone());
        }
        let server = serve(listener, state.clone())?;
        Ok(Application { port, state, server })
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn into_server(self) -> Server {
        self.server
    }
}

fn serve(listener: TcpListener, state: State) -> anyhow::Result<Server> {
    let assets = assets::Manifest::load(&state.config.site_root);
    if assets.js.is_none() {
        tracing::warn!(site_root = %state.config.site_root.display(), "no built WASM client found: pages render without hydration (run script/build)");
    }
    let site_root = state.config.site_root.clone();
    let routes = generate_route_list(app::App);
    let workers = state.config.http_workers;
    let policy = security::Policy::new(&state.config);
    let openapi_json = openapi::document().to_json()?;
    let server = HttpServer::new(move || {
        let shell_assets = assets.clone();
        let ctx_state = state.clone();
        // every documented route (openapi::rest), then assets and the pages
        let (app, _) = App::new().into_utoipa_app().configure(openapi::rest).split_for_parts();
        app.app_data(web::Data::new(state.clone()))
            .app_data(web::Data::new(openapi::OpenApiJson(openapi_json.clone())))
            .app_data(web::Data::new(assets.clone()))
            .app_data(web::Data::new(policy.clone()))
            .configure(security::extractor_configs)
            .wrap(actix_web::middleware::from_fn(security::server_fn_status))
            .wrap(actix_web::middleware::from_fn(middleware::authenticate))
            .wrap(actix_web::middleware::from_fn(middleware::draft_answered))
            .wrap(actix_web::middleware::from_fn(security::same_origin))
            .wrap(actix_web::middleware::from_fn(security::limit_body))
            .wrap(actix_web::middleware::from_fn(security::headers))
            .wrap(Compress::default())
            // The path only: query strings can carry personal data.
            .wrap(
                Logger::new("%s %{method}xi %U %T")
                    .custom_request_replace("method", |req| req.method().to_string())
                    .exclude("/healthz")
                    .log_target("zhsq::access"),
            )
            .service(assets::pkg_service())
            .configure(|cfg| assets::public_files(cfg, site_root.clone()))
            .leptos_routes_with_context(
                routes.clone(),
                move || provide_context(ctx_state.clone()),
                move || app::shell(to_shell(&shell_assets)),
            )
            // nothing here: a short page with the way home, or our JSON error
            .default_service(web::to(|req: actix_web::HttpRequest| async move {
                security::refusal(&req, domain::ErrorCode::NotFound)
            }))
    })
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}

fn to_shell(m: &assets::Manifest) -> app::Assets {
    app::Assets {
        js: m.js.clone(),
        wasm: m.wasm.clone(),
        css: m.css.clone(),
        worker_js: m.worker_js.clone(),
        worker_wasm: m.worker_wasm.clone(),
    }
}

/// Start-up for the binary: logging, configuration, then serve until stopped.
pub async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn")),
        )
        .init();
    let config = Config::from_env()?;
    tracing::info!(?config, "starting");
    let public = config.public_url.clone();
    let app = Application::build(config).await?;
    tracing::info!("智慧社区 is listening on {public} (port {})", app.port);
    app.run_until_stopped().await?;
    Ok(())
}
