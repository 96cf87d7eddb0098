//! The admin listener: health, Prometheus metrics, workers and the manual
//! cron trigger (DESIGN.md §3).

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

impl Admin {
    /// `POST /__scheduled?worker=NAME&cron=EXPR`: runs the handler now and
    /// answers when it finishes.
    async fn trigger_scheduled(&self, query: &str) -> Response<Vec<u8>> {
        let mut worker = None;
        let mut cron = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "worker" => worker = Some(v.into_owned()),
                "cron" => cron = Some(v.into_owned()),
                _ => {}
            }
        }
        let bad = |msg: String| json(StatusCode::BAD_REQUEST, &serde_json::json!({ "error": msg }));
        let Some(name) = worker else {
            return bad("missing ?worker=NAME".into());
        };
        let cron = cron.unwrap_or_else(|| "* * * * *".to_string());
        if let Err(e) = crate::cron::CronSchedule::parse(&cron) {
            return bad(e.to_string());
        }
        let deployment = self.state.deployment.load_full();
        let Some(code) = deployment.workers.get(&name).cloned() else {
            return json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({ "error": format!("no worker named {name:?}") }),
            );
        };
        let now = crate::scheduler::now_ms();
        match crate::scheduler::run_scheduled(&self.state, &code, &cron, now).await {
            Ok(()) => json(StatusCode::OK, &serde_json::json!({ "outcome": "ok" })),
            Err(e) => json(
                StatusCode::OK,
                &serde_json::json!({ "outcome": "exception", "error": e.to_string() }),
            ),
        }
    }
}

#[async_trait]
impl ServeHttp for Admin {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let req = session.req_header();
        let path = req.uri.path().to_string();
        let method = req.method.clone();
        match (method.as_str(), path.as_str()) {
            ("GET" | "HEAD", "/healthz") => text(StatusCode::OK, "ok\n"),
            ("GET" | "HEAD", "/metrics") => {
                let body = crate::metrics::metrics().render(&self.state.deployment.load_full());
                Response::builder()
                    .status(StatusCode::OK)
                    .header(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)
                    .header(header::CONTENT_LENGTH, body.len())
                    .body(body.into_bytes())
                    .expect("static response parts are valid")
            }
            ("GET" | "HEAD", "/workers") => {
                let deployment = self.state.deployment.load_full();
                let workers: Vec<_> = deployment
                    .workers
                    .values()
                    .map(|w| {
                        serde_json::json!({
                            "name": w.name(),
                            "version": w.version,
                            "loaded_at": crate::deployment::rfc3339_time(w.loaded_at),
                            "isolates": w.isolates(),
                            "requests": w.requests_served(),
                            "last_error": w.last_error(),
                        })
                    })
                    .collect();
                let reloads = serde_json::json!({
                    "ok": self.reloader.ok.load(std::sync::atomic::Ordering::Relaxed),
                    "failed": self.reloader.failed.load(std::sync::atomic::Ordering::Relaxed),
                });
                json(
                    StatusCode::OK,
                    &serde_json::json!({ "workers": workers, "reloads": reloads }),
                )
            }
            ("POST", "/__scheduled") => self.trigger_scheduled(req.uri.query().unwrap_or("")).await,
            _ => text(StatusCode::NOT_FOUND, "not found\n"),
        }
    }
}
