//! Prometheus metrics (`GET /metrics` on the admin listener) and the access
//! log (one line per request, log target `isoproxy::access`).
//!
//! Counters live in one process-wide registry and move where their event
//! happens (edge, origin fetcher, scheduler, reloader); gauges that describe
//! the live deployment (`isoproxy_isolates_alive`) are set at scrape time.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::deployment::Deployment;

/// Every metric isoproxy exports.
pub struct Metrics {
    registry: Registry,
    /// `isoproxy_requests_total{worker,route,outcome,status_class}`.
    pub requests: IntCounterVec,
    /// `isoproxy_js_cpu_seconds{worker}`: JS CPU time per request.
    pub js_cpu: HistogramVec,
    /// `isoproxy_isolates_alive{worker}` (set at scrape time).
    pub isolates_alive: IntGaugeVec,
    /// `isoproxy_reloads_total{result}`: ok | failed.
    pub reloads: IntCounterVec,
    /// `isoproxy_scheduled_runs_total{worker,outcome}`: ok | exception |
    /// skipped | skipped_lease | lease_error.
    pub scheduled_runs: IntCounterVec,
    /// `isoproxy_subrequests_total{worker}`: `fetch()` calls that reached the fetcher.
    pub subrequests: IntCounterVec,
    /// `isoproxy_passthrough_total{path}`: workers' requests to their
    /// route's origin, by how they went: `in_task` (the request's pass, sent
    /// by the task serving the client) or `subrequest` (through the fetcher).
    pub passthrough: IntCounterVec,
    /// `isoproxy_origin_errors_total{kind}`: connect | timeout | network | other.
    pub origin_errors: IntCounterVec,
    /// `isoproxy_origin_retries_total{reason}`: pooled_connection_closed.
    pub origin_retries: IntCounterVec,
    /// `isoproxy_isolate_events_total{worker,event}`: created | cpu_limit | memory_limit | retired | heavy | idle | internal_error.
    pub isolate_events: IntCounterVec,
    /// `isoproxy_egress_refused_total{worker,reason}`: subrequests the egress policy refused.
    pub egress_refused: IntCounterVec,
    /// `isoproxy_client_errors_total{listener,kind}`: clients cut off or
    /// refused before or while sending a request (see [`Metrics::client_error`]).
    pub client_errors: IntCounterVec,
    /// `isoproxy_client_connections{listener}`: connections open now.
    pub client_connections: IntGaugeVec,
    /// `isoproxy_op_panics_total`: Rust panics caught at the V8 boundary
    /// (`plugin_runtime::op_panics`, read at scrape time).
    pub op_panics: IntCounter,
    /// `isoproxy_dns_lookups_total{result}`: hit | miss | error (`dns.rs`).
    pub dns_lookups: IntCounterVec,
    /// `isoproxy_overloaded_total{worker}`: worker requests refused with
    /// 503 because the queue in front of their isolate thread was full.
    pub overloaded: IntCounterVec,
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry.register(Box::new(c.clone())).expect("unique metric");
    c
}

impl Metrics {
    fn new() -> Metrics {
        let registry = Registry::new();
        let requests = counter(
            &registry,
            "isoproxy_requests_total",
            "Requests served, by worker (- for none), route pattern, outcome and status class.",
            &["worker", "route", "outcome", "status_class"],
        );
        let js_cpu = HistogramVec::new(
            HistogramOpts::new("isoproxy_js_cpu_seconds", "JavaScript CPU time per worker request.").buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ]),
            &["worker"],
        )
        .expect("valid metric");
        registry.register(Box::new(js_cpu.clone())).expect("unique metric");
        let isolates_alive = IntGaugeVec::new(
            Opts::new(
                "isoproxy_isolates_alive",
                "Isolates alive for each worker of the live deployment.",
            ),
            &["worker"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(isolates_alive.clone()))
            .expect("unique metric");
        let reloads = counter(
            &registry,
            "isoproxy_reloads_total",
            "Configuration reloads, by result (ok, failed).",
            &["result"],
        );
        let scheduled_runs = counter(
            &registry,
            "isoproxy_scheduled_runs_total",
            "Scheduled (cron) runs, by worker and outcome (ok, exception, skipped, skipped_lease, lease_error).",
            &["worker", "outcome"],
        );
        let subrequests = counter(
            &registry,
            "isoproxy_subrequests_total",
            "Subrequests (fetch() calls) made by workers.",
            &["worker"],
        );
        let passthrough = counter(
            &registry,
            "isoproxy_passthrough_total",
            "Workers' requests to their route's origin, by path: in_task (sent by the task serving \
             the client) or subrequest (a subrequest through the fetcher).",
            &["path"],
        );
        let origin_errors = counter(
            &registry,
            "isoproxy_origin_errors_total",
            "Failed exchanges with origins (plain routes and subrequests), by kind.",
            &["kind"],
        );
        let origin_retries = counter(
            &registry,
            "isoproxy_origin_retries_total",
            "Requests to origins sent again on another connection, by reason: \
             pooled_connection_closed (the origin had closed a pooled connection before the response).",
            &["reason"],
        );
        let isolate_events = counter(
            &registry,
            "isoproxy_isolate_events_total",
            "Isolates created, and dropped by cause (cpu_limit, memory_limit, retired, heavy, idle, internal_error).",
            &["worker", "event"],
        );
        let egress_refused = counter(
            &registry,
            "isoproxy_egress_refused_total",
            "Subrequests refused by the egress policy, by worker and reason \
             (loopback, unspecified, private, link_local, reserved, self, admin, denied).",
            &["worker", "reason"],
        );
        let client_errors = counter(
            &registry,
            "isoproxy_client_errors_total",
            "Clients cut off or refused, by listener (proxy, admin) and kind (header_timeout, \
             header_too_large, too_many_headers, body_timeout, send_timeout, connection_limit, unauthorized, \
             misdirected, cross_site).",
            &["listener", "kind"],
        );
        let client_connections = IntGaugeVec::new(
            Opts::new("isoproxy_client_connections", "Client connections open, by listener."),
            &["listener"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(client_connections.clone()))
            .expect("unique metric");
        let op_panics = IntCounter::new(
            "isoproxy_op_panics_total",
            "Rust panics caught in native code called by scripts (each a runtime bug, contained).",
        )
        .expect("valid metric");
        registry.register(Box::new(op_panics.clone())).expect("unique metric");
        let dns_lookups = counter(
            &registry,
            "isoproxy_dns_lookups_total",
            "Host names of origins and subrequests resolved, by result (hit: from the cache within \
             the answer's TTL, miss: asked DNS or /etc/hosts, error).",
            &["result"],
        );
        let overloaded = counter(
            &registry,
            "isoproxy_overloaded_total",
            "Worker requests refused with 503 because the queue in front of their isolate thread was full.",
            &["worker"],
        );
        // Make the always-present series visible from the first scrape.
        for r in ["ok", "failed"] {
            reloads.with_label_values(&[r]);
        }
        for r in ["hit", "miss", "error"] {
            dns_lookups.with_label_values(&[r]);
        }
        Metrics {
            registry,
            requests,
            js_cpu,
            isolates_alive,
            overloaded,
            reloads,
            scheduled_runs,
            subrequests,
            passthrough,
            origin_errors,
            origin_retries,
            isolate_events,
            egress_refused,
            client_errors,
            client_connections,
            op_panics,
            dns_lookups,
        }
    }

    /// Counts a client cut off or refused on `listener` (`proxy` or
    /// `admin`): `kind` is `header_timeout`, `header_too_large`,
    /// `too_many_headers`, `body_timeout`, `send_timeout`,
    /// `connection_limit`, `unauthorized`, `misdirected` or `cross_site`.
    pub fn client_error(&self, listener: &str, kind: &str) {
        self.client_errors.with_label_values(&[listener, kind]).inc();
    }

    /// Counts one finished request.
    pub fn request(&self, worker: &str, route: &str, outcome: &str, status: u16, cpu: Option<Duration>) {
        let class = match status {
            100..=599 => ["1xx", "2xx", "3xx", "4xx", "5xx"][(status / 100 - 1) as usize],
            _ => "none",
        };
        self.requests.with_label_values(&[worker, route, outcome, class]).inc();
        if let Some(cpu) = cpu {
            self.js_cpu.with_label_values(&[worker]).observe(cpu.as_secs_f64());
        }
    }

    /// Counts a failed origin exchange.
    pub fn origin_error(&self, kind: &str) {
        self.origin_errors.with_label_values(&[kind]).inc();
    }

    /// A worker's request to an origin went again on another connection.
    pub fn origin_retry(&self) {
        self.origin_retries
            .with_label_values(&["pooled_connection_closed"])
            .inc();
    }

    /// The Prometheus text exposition, with gauges refreshed from `deployment`.
    pub fn render(&self, deployment: &Deployment) -> String {
        self.isolates_alive.reset();
        for (name, code) in &deployment.workers {
            self.isolates_alive
                .with_label_values(&[name.as_str()])
                .set(code.isolates() as i64);
        }
        let panics = plugin_runtime::op_panics();
        self.op_panics.inc_by(panics.saturating_sub(self.op_panics.get()));
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            log::error!("metrics: cannot encode: {e}");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

static ACCESS_LOG: AtomicBool = AtomicBool::new(true);

/// Turns the access log on or off (`[server] access_log`).
pub fn set_access_log(on: bool) {
    ACCESS_LOG.store(on, Ordering::Relaxed);
}

/// One request, as the access log writes it.
pub struct AccessEntry<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub worker: &'a str,
    pub outcome: &'a str,
    pub duration: Duration,
    pub cpu: Option<Duration>,
    pub bytes: usize,
}

/// Writes the access-log line for one request, if the access log is on:
///
/// `METHOD HOST PATH STATUS WORKER OUTCOME DURATION_MS CPU_MS BYTES`
///
/// e.g. `GET example.com /a?b=1 200 hello answered 1.234ms cpu=0.210ms 12B`.
/// WORKER and CPU are `-` for requests that ran no JavaScript; STATUS is
/// 0 when no response was written; PATH includes the query string.
pub fn access_log(e: &AccessEntry<'_>) {
    // Nothing is formatted for a line the log level drops.
    if !ACCESS_LOG.load(Ordering::Relaxed) || !log::log_enabled!(target: "isoproxy::access", log::Level::Info) {
        return;
    }
    log::info!(
        target: "isoproxy::access",
        "{} {} {} {} {} {} {:.3}ms {} {}B",
        e.method,
        if e.host.is_empty() { "-" } else { e.host },
        e.path,
        e.status,
        e.worker,
        e.outcome,
        e.duration.as_secs_f64() * 1000.0,
        CpuField(e.cpu),
        e.bytes
    );
}

/// The access log's `cpu=` field, formatted only into the line.
struct CpuField(Option<Duration>);

impl std::fmt::Display for CpuField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(c) => write!(f, "cpu={:.3}ms", c.as_secs_f64() * 1000.0),
            None => f.write_str("cpu=-"),
        }
    }
}
