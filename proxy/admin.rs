//! The admin listener: health, Prometheus metrics, workers and the manual
//! cron trigger (DESIGN.md §3).
//!
//! Access rules, in order:
//!
//! 1. `GET /healthz` is always open (load balancers and the test harness).
//! 2. With `[server] admin_token`, every other request needs
//!    `Authorization: Bearer <token>` (compared in constant time), else 401
//!    with `WWW-Authenticate: Bearer`. Config validation refuses a
//!    non-loopback `admin` address without a token.
//! 3. Without a token the listener is on loopback, where the threat is a
//!    browser on this host: a web page cannot read a loopback response
//!    cross-origin, but DNS rebinding makes one look same-origin under a
//!    name the attacker controls. So requests must name the listener by
//!    an IP address or `localhost` in `Host` (else 421).
//! 4. `POST /__scheduled` changes state, so it also refuses what a browser
//!    sends cross-site: `Sec-Fetch-Site: cross-site` or `same-site`, an
//!    `Origin` other than the listener's own (403), and the content types
//!    an HTML form can post without a CORS preflight (415). Other methods
//!    get 405.

use std::sync::Arc;

use async_trait::async_trait;
use http::{Response, StatusCode, header};
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;

use crate::authority::Authority;
use crate::edge::AppState;

/// Answers admin requests.
pub struct Admin {
    /// The proxy's shared state (for `/workers` and friends).
    pub state: Arc<AppState>,
    /// Reload counters.
    pub reloader: Arc<crate::reload::Reloader>,
    /// The configured `[server] admin` address (for log lines).
    pub addr: String,
}

/// `a == b` in time that depends only on `given`'s length (public: the
/// client chose it), never on where the bytes first differ or on the
/// secret's length.
fn token_matches(given: &[u8], secret: &[u8]) -> bool {
    if secret.is_empty() {
        return false;
    }
    let mut diff = u8::from(given.len() != secret.len());
    for (i, b) in given.iter().enumerate() {
        diff |= b ^ secret[i % secret.len()];
    }
    std::hint::black_box(diff) == 0
}

/// The token of `Authorization: Bearer <token>`, if that is what was sent
/// (exactly one such header).
fn bearer_token(req: &pingora_http::RequestHeader) -> Option<&[u8]> {
    let mut values = req.headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let value = value.as_bytes();
    let space = value.iter().position(|b| *b == b' ')?;
    if !value[..space].eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = value[space..].trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// The request's `Host`, parsed, when it names this host by an IP address
/// or `localhost` (names a DNS-rebinding page could use are refused).
fn local_host(req: &pingora_http::RequestHeader) -> Result<Option<Authority>, &'static str> {
    let Some(host) = req.headers.get(header::HOST) else {
        return Ok(None);
    };
    let authority = Authority::parse(host.as_bytes()).map_err(|_| "invalid Host header")?;
    let h = authority.host();
    let is_ip = h.starts_with('[') || h.parse::<std::net::Ipv4Addr>().is_ok();
    if is_ip || h == "localhost" {
        Ok(Some(authority))
    } else {
        Err(
            "the admin listener answers only requests addressed to an IP address or localhost \
             (DNS rebinding protection); set server.admin_token to lift this",
        )
    }
}

/// Why a state-changing admin request looks like a browser's cross-site
/// request, if it does: (status, reason).
fn cross_site(req: &pingora_http::RequestHeader) -> Option<(StatusCode, &'static str)> {
    let header = |name| req.headers.get(name).map(|v| v.as_bytes());
    if let Some(site) = header("sec-fetch-site")
        && (site.eq_ignore_ascii_case(b"cross-site") || site.eq_ignore_ascii_case(b"same-site"))
    {
        return Some((StatusCode::FORBIDDEN, "cross-site request (Sec-Fetch-Site)"));
    }
    if let Some(origin) = header("origin") {
        let same = origin
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case(b"http://"))
            .and_then(|_| Authority::parse(&origin[7..]).ok())
            .zip(local_host(req).ok().flatten())
            .is_some_and(|(o, h)| o == h);
        if !same {
            return Some((StatusCode::FORBIDDEN, "cross-origin request (Origin)"));
        }
    }
    if let Some(ct) = header("content-type") {
        let essence = ct.split(|b| *b == b';').next().unwrap_or(b"").trim_ascii();
        let form = [
            &b"application/x-www-form-urlencoded"[..],
            b"multipart/form-data",
            b"text/plain",
        ];
        if form.iter().any(|f| essence.eq_ignore_ascii_case(f)) {
            return Some((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "form content type (a browser may post it cross-site); send no body or application/json",
            ));
        }
    }
    None
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
    /// Each worker's cron triggers with their last firing (from the
    /// cluster's Redis when clustered, else this instance's), and the
    /// `cluster` section of `/workers`.
    async fn triggers(
        &self,
        deployment: &crate::deployment::Deployment,
    ) -> (
        std::collections::HashMap<String, Vec<serde_json::Value>>,
        serde_json::Value,
    ) {
        let keys: Vec<(String, String)> = deployment
            .crons
            .iter()
            .map(|t| (t.worker.name().to_string(), t.schedule.expr().to_string()))
            .collect();
        let local = || -> Vec<_> { keys.iter().map(|(w, c)| self.state.scheduled.last_run(w, c)).collect() };
        let (last, cluster) = match &self.state.cluster {
            None => (local(), serde_json::Value::Null),
            Some(cluster) => match cluster.last_runs(&keys).await {
                Ok(last) => (
                    last,
                    serde_json::json!({ "instance": cluster.instance(), "error": null }),
                ),
                Err(e) => {
                    log::warn!("admin {}: /workers shows this instance's runs only: {e}", self.addr);
                    (
                        local(),
                        serde_json::json!({ "instance": cluster.instance(), "error": e.to_string() }),
                    )
                }
            },
        };
        let mut by_worker: std::collections::HashMap<String, Vec<serde_json::Value>> = Default::default();
        for ((worker, cron), last) in keys.into_iter().zip(last) {
            by_worker.entry(worker).or_default().push(serde_json::json!({
                "cron": cron,
                "last": last.map(|l| l.to_json()),
            }));
        }
        (by_worker, cluster)
    }

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
        let schedule = match crate::cron::CronSchedule::parse(&cron) {
            Ok(s) => s,
            Err(e) => return bad(e.to_string()),
        };
        let deployment = self.state.deployment.load_full();
        let Some(code) = deployment.workers.get(&name).cloned() else {
            return json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({ "error": format!("no worker named {name:?}") }),
            );
        };
        // One run per trigger at a time, as for cron firings.
        let Some(_run) = self.state.scheduled.running.try_start(&name, schedule.expr()) else {
            crate::scheduler::skipped(&self.state.scheduled, &name, &cron);
            return json(
                StatusCode::CONFLICT,
                &serde_json::json!({ "outcome": "skipped", "error": "a run of this trigger is still going" }),
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
        if matches!(method.as_str(), "GET" | "HEAD") && path == "/healthz" {
            return text(StatusCode::OK, "ok\n");
        }
        let client = session
            .client_addr()
            .map_or_else(|| "-".to_string(), ToString::to_string);
        let token = self.state.admin_token.load();
        if let Some(token) = token.as_ref() {
            let given = bearer_token(req);
            if !given.is_some_and(|g| token_matches(g, token.expose())) {
                crate::metrics::metrics().client_error("admin", "unauthorized");
                log::warn!(
                    "admin {}: {method} {path} from {client} without a valid bearer token: 401",
                    self.addr
                );
                let challenge = if given.is_some() {
                    "Bearer realm=\"isoproxy admin\", error=\"invalid_token\""
                } else {
                    "Bearer realm=\"isoproxy admin\""
                };
                let mut resp = text(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized: send Authorization: Bearer <admin_token>\n",
                );
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, http::HeaderValue::from_static(challenge));
                return resp;
            }
        } else if let Err(why) = local_host(req) {
            crate::metrics::metrics().client_error("admin", "misdirected");
            log::warn!("admin {}: {method} {path} from {client}: {why}: 421", self.addr);
            return text(
                StatusCode::MISDIRECTED_REQUEST,
                &format!("Misdirected Request: {why}\n"),
            );
        }
        match (method.as_str(), path.as_str()) {
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
                let (mut triggers, cluster) = self.triggers(&deployment).await;
                let workers: Vec<_> = deployment
                    .workers
                    .values()
                    .map(|w| {
                        serde_json::json!({
                            "triggers": triggers.remove(w.name()).unwrap_or_default(),
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
                    &serde_json::json!({ "workers": workers, "reloads": reloads, "cluster": cluster }),
                )
            }
            ("POST", "/__scheduled") => {
                if let Some((status, why)) = cross_site(req) {
                    crate::metrics::metrics().client_error("admin", "cross_site");
                    log::warn!("admin {}: POST /__scheduled from {client} refused: {why}", self.addr);
                    return json(status, &serde_json::json!({ "error": why }));
                }
                self.trigger_scheduled(req.uri.query().unwrap_or("")).await
            }
            (_, "/__scheduled") => {
                let mut resp = text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed: use POST\n");
                resp.headers_mut()
                    .insert(header::ALLOW, http::HeaderValue::from_static("POST"));
                resp
            }
            _ => text(StatusCode::NOT_FOUND, "not found\n"),
        }
    }
}
