//! The admin listener: health now; metrics, workers and the manual cron
//! trigger build on it (DESIGN.md §3).

use std::sync::Arc;

use async_trait::async_trait;
use http::{Response, StatusCode, header};
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;

use crate::edge::AppState;

/// Answers admin requests.
pub struct Admin {
    /// The proxy's shared state (for `/workers` and friends).
    pub state: Arc<AppState>,
    /// Reload counters.
    pub reloader: Arc<crate::reload::Reloader>,
}

fn text(status: StatusCode, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .header(header::CONTENT_LENGTH, body.len())
        .body(body.as_bytes().to_vec())
        .expect("static response parts are valid")
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Vec<u8>> {
    let body = value.to_string().into_bytes();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, body.len())
        .body(body)
        .expect("static response parts are valid")
}

#[async_trait]
impl ServeHttp for Admin {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let req = session.req_header();
        let path = req.uri.path().to_string();
        let method = req.method.clone();
        match (method.as_str(), path.as_str()) {
            ("GET" | "HEAD", "/healthz") => text(StatusCode::OK, "ok\n"),
            ("GET" | "HEAD", "/workers") => {
                let deployment = self.state.deployment.load_full();
                let workers: Vec<_> = deployment
                    .workers
                    .values()
                    .map(|w| {
                        serde_json::json!({
                            "name": w.name(),
                            "version": w.version,
                            "loaded_at": deployment.loaded_at_rfc3339(),
                            "isolates": w.isolates(),
                            "requests": w.requests_served(),
                        })
                    })
                    .collect();
                let reloads = serde_json::json!({
                    "ok": self.reloader.ok.load(std::sync::atomic::Ordering::Relaxed),
                    "failed": self.reloader.failed.load(std::sync::atomic::Ordering::Relaxed),
                });
                json(StatusCode::OK, &serde_json::json!({ "workers": workers, "reloads": reloads }))
            }
            _ => text(StatusCode::NOT_FOUND, "not found\n"),
        }
    }
}
