//! The 智慧社区 server binary. Everything lives in the library (`server::run`).

#[actix_web::main]
async fn main() {
    if let Err(e) = server::run().await {
        eprintln!("zhsq: {e:#}");
        std::process::exit(1);
    }
}
