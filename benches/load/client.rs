//! The load generator: HTTP/1.1 keep-alive connections (hyper's client
//! connection, one request in flight per connection), every answer checked.
//! Two shapes of load:
//! - closed loop (`closed`): each connection sends its next request as soon
//!   as the previous answer is read; measures throughput;
//! - open loop (`open`): requests are scheduled at a fixed rate and latency
//!   runs from the *scheduled* send time whenever the connection was still
//!   busy with its previous request then, so a stall shows in full (no
//!   coordinated omission) instead of slowing the load down. When the
//!   connection was idle at its slot, latency runs from the actual send:
//!   tokio's timer wakes a task up to a millisecond after its deadline, and
//!   that lag is the load generator's, not the server's (counted from the
//!   slot it made every p50 about 1 ms and every p99 noise).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use tokio::net::TcpStream;

use crate::origin;
use crate::servers::cpu_seconds;

/// One request may take at most this long before it counts as an error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What an answer must be.
#[derive(Clone)]
pub enum Expect {
    /// Status 200, exactly this body, and this header if given.
    Ok {
        body: Bytes,
        header: Option<(&'static str, &'static str)>,
    },
    /// Any 5xx status (a worker stopped at its CPU limit); the body is read, not checked.
    ServerError,
}

/// Where a request goes and what it must get back.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub host: String,
    pub path: &'static str,
    pub expect: Expect,
}

/// The measured part of one load run (or of several, merged).
#[derive(Default)]
pub struct LoadResult {
    /// Latency of each counted request, sorted: closed loop, requests
    /// completed in the window; open loop, requests scheduled in it (from
    /// the scheduled send time).
    pub latencies_us: Vec<u32>,
    /// Length of the measured window(s).
    pub seconds: f64,
    /// Failed requests, warm-up included.
    pub errors: u64,
    /// Connections reopened after the server closed one.
    pub reconnects: u64,
    /// Connections the origin accepted during the run (warm-up included).
    pub origin_connections: u64,
    /// The server's CPU time (all its threads) over the window(s).
    pub cpu_seconds: Option<f64>,
    pub first_error: Option<String>,
    /// Open loop: the latest a request was sent after its scheduled time
    /// (the connection was still busy, or the load generator fell behind).
    pub max_send_lag_us: u64,
    /// Windows cut short by the request cap.
    pub capped: bool,
    /// Windows merged into this result.
    pub windows: usize,
}

impl LoadResult {
    pub fn requests(&self) -> u64 {
        self.latencies_us.len() as u64
    }
    pub fn rps(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests() as f64 / self.seconds
        } else {
            0.0
        }
    }
    pub fn p50_us(&self) -> f64 {
        percentile_us(&self.latencies_us, 0.50)
    }
    pub fn p99_us(&self) -> f64 {
        percentile_us(&self.latencies_us, 0.99)
    }
    /// The server's CPU over the window, as a fraction of one core.
    pub fn cpu(&self) -> Option<f64> {
        let cpu = self.cpu_seconds?;
        (self.seconds > 0.0).then(|| cpu / self.seconds)
    }
    /// The server's CPU time per counted request, in microseconds.
    pub fn cpu_us_per_request(&self) -> Option<f64> {
        let cpu = self.cpu_seconds?;
        (self.requests() > 0).then(|| cpu / self.requests() as f64 * 1e6)
    }
    /// Adds another window's measurements (LOAD_ROUNDS).
    pub fn merge(&mut self, other: LoadResult) {
        if self.windows == 0 {
            *self = other;
            return;
        }
        self.windows += other.windows;
        self.latencies_us.extend_from_slice(&other.latencies_us);
        self.latencies_us.sort_unstable();
        self.seconds += other.seconds;
        self.errors += other.errors;
        self.reconnects += other.reconnects;
        self.origin_connections += other.origin_connections;
        self.cpu_seconds = match (self.cpu_seconds, other.cpu_seconds) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.max_send_lag_us = self.max_send_lag_us.max(other.max_send_lag_us);
        self.capped |= other.capped;
    }
}

/// The shape of one run.
pub struct Load {
    pub connections: usize,
    pub warmup: Duration,
    pub seconds: Duration,
    /// Closed loop: stop counting after this many requests.
    pub max_requests: u64,
    /// `Some(r)`: open loop at r requests per second over all connections.
    pub rate: Option<f64>,
}

#[derive(Default)]
struct ConnStats {
    latencies_us: Vec<u32>,
    errors: u64,
    reconnects: u64,
    first_error: Option<String>,
    max_send_lag_us: u64,
}

impl ConnStats {
    fn error(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Empty<Bytes>>, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// One request on `sender`. Err carries the reason and whether the
/// connection is unusable afterwards.
async fn one_request(sender: &mut SendRequest<Empty<Bytes>>, target: &Target) -> Result<(), (String, bool)> {
    sender
        .ready()
        .await
        .map_err(|e| (format!("connection not ready: {e}"), true))?;
    let req = Request::builder()
        .method("GET")
        .uri(target.path)
        .header("host", target.host.as_str())
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| (format!("send: {e}"), true))?;
    let status = resp.status();
    let header_ok = match &target.expect {
        Expect::Ok {
            header: Some((k, v)), ..
        } => resp.headers().get(*k).is_some_and(|h| h.as_bytes() == v.as_bytes()),
        _ => true,
    };
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| (format!("body: {e}"), true))?
        .to_bytes();
    let text = || String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    match &target.expect {
        Expect::ServerError if status.is_server_error() => Ok(()),
        Expect::ServerError => Err((format!("status {status} (expected 5xx): {:?}", text()), false)),
        Expect::Ok { .. } if status != 200 => Err((format!("status {status}: {:?}", text()), false)),
        Expect::Ok { body: want, .. } if body != *want => {
            Err((format!("unexpected body ({} bytes): {:?}", body.len(), text()), false))
        }
        Expect::Ok {
            header: Some((k, v)), ..
        } if !header_ok => Err((format!("missing header {k}: {v}"), false)),
        Expect::Ok { .. } => Ok(()),
    }
}

/// One request on a fresh connection (readiness probes, cold start).
pub async fn probe(target: &Target) -> Result<(), String> {
    let mut sender = connect(target.addr).await?;
    match tokio::time::timeout(REQUEST_TIMEOUT, one_request(&mut sender, target)).await {
        Ok(r) => r.map_err(|(e, _)| e),
        Err(_) => Err("timeout".into()),
    }
}

/// One connection of a run: requests back to back (closed loop) or at the
/// scheduled times `first + k * interval` (open loop) until `end`.
async fn drive(
    target: Arc<Target>,
    measure_from: Instant,
    end: Instant,
    counted: Arc<AtomicU64>,
    max_requests: u64,
    schedule: Option<(Instant, Duration)>,
) -> ConnStats {
    let mut stats = ConnStats {
        latencies_us: Vec::with_capacity(16 * 1024),
        ..Default::default()
    };
    let mut sender: Option<SendRequest<Empty<Bytes>>> = None;
    let mut opened = 0u64;
    let mut slot = 0u32;
    // When this connection's previous request ended (open loop).
    let mut idle_since: Option<Instant> = None;
    loop {
        // When this request is due (open loop) or now (closed loop).
        let due = match schedule {
            Some((first, interval)) => {
                let due = first + interval * slot;
                slot += 1;
                if due >= end {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                due
            }
            None => {
                let now = Instant::now();
                if now >= end || counted.load(Ordering::Relaxed) >= max_requests {
                    break;
                }
                now
            }
        };
        if sender.is_none() {
            match connect(target.addr).await {
                Ok(s) => {
                    opened += 1;
                    sender = Some(s);
                }
                Err(e) => {
                    stats.error(e);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let started = Instant::now();
        if schedule.is_some() {
            let lag = started.saturating_duration_since(due).as_micros() as u64;
            stats.max_send_lag_us = stats.max_send_lag_us.max(lag);
        }
        // Open loop: from the slot if the connection was still busy at it
        // (a stall counts in full), else from the send (the timer's lag
        // past an idle slot is not the server's).
        let from = match idle_since {
            Some(idle) if schedule.is_some() && idle <= due => started,
            _ => due,
        };
        let result = tokio::time::timeout(REQUEST_TIMEOUT, one_request(sender.as_mut().unwrap(), &target)).await;
        let done = Instant::now();
        idle_since = Some(done);
        // Closed loop: requests completing in the window; open loop: requests scheduled in it.
        let at = if schedule.is_some() { due } else { done };
        let in_window = at >= measure_from && at <= end;
        match result {
            Ok(Ok(())) => {
                if in_window {
                    let latency = done.saturating_duration_since(from);
                    stats
                        .latencies_us
                        .push(latency.as_micros().min(u32::MAX as u128) as u32);
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(Err((e, broken))) => {
                stats.error(e);
                if broken {
                    sender = None;
                }
            }
            Err(_) => {
                stats.error(format!("timeout after {REQUEST_TIMEOUT:?}"));
                sender = None;
            }
        }
    }
    stats.reconnects = opened.saturating_sub(1);
    stats
}

pub fn percentile_us(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[rank - 1] as f64
}

/// Puts `load` on `target`, sampling the CPU time of process `pid` over the
/// measured window.
pub async fn run(target: &Target, load: &Load, pid: Option<u32>) -> LoadResult {
    let target = Arc::new(target.clone());
    let counted = Arc::new(AtomicU64::new(0));
    let origin_before = origin::connections();
    let start = Instant::now() + Duration::from_millis(5);
    let measure_from = start + load.warmup;
    let end = measure_from + load.seconds;

    let cpu_task = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        let (t0, c0) = (Instant::now(), pid.and_then(cpu_seconds));
        tokio::time::sleep_until(end.into()).await;
        let (t1, c1) = (Instant::now(), pid.and_then(cpu_seconds));
        // Scaled to the nominal window (the samples may be a little late).
        Some((c1? - c0?) * (end - measure_from).as_secs_f64() / (t1 - t0).as_secs_f64())
    });

    let n = load.connections.max(1);
    let tasks: Vec<_> = (0..n)
        .map(|k| {
            // Open loop: connection k takes slots k, k + n, k + 2n, ... of the schedule.
            let schedule = load.rate.map(|rate| {
                let interval = Duration::from_secs_f64(1.0 / rate);
                (start + interval * k as u32, interval * n as u32)
            });
            tokio::spawn(drive(
                target.clone(),
                measure_from,
                end,
                counted.clone(),
                if load.rate.is_some() {
                    u64::MAX
                } else {
                    load.max_requests
                },
                schedule,
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut result = LoadResult {
        windows: 1,
        ..Default::default()
    };
    for task in tasks {
        let stats = task.await.expect("load task panicked");
        latencies.extend_from_slice(&stats.latencies_us);
        result.errors += stats.errors;
        result.reconnects += stats.reconnects;
        result.max_send_lag_us = result.max_send_lag_us.max(stats.max_send_lag_us);
        if result.first_error.is_none() {
            result.first_error = stats.first_error;
        }
    }
    // A closed-loop window is cut short if the request cap was reached first.
    let finished = if load.rate.is_some() {
        end
    } else {
        Instant::now().min(end)
    };
    result.seconds = finished.saturating_duration_since(measure_from).as_secs_f64();
    result.capped = finished < end;
    result.cpu_seconds = if result.capped {
        cpu_task.abort();
        None
    } else {
        cpu_task.await.ok().flatten()
    };
    latencies.sort_unstable();
    result.latencies_us = latencies;
    result.origin_connections = origin::connections() - origin_before;
    result
}

/// One request to each target in turn on one keep-alive connection (the
/// targets share an address); the latency of each, in microseconds.
pub async fn one_by_one(targets: &[Target]) -> Result<Vec<u32>, String> {
    let Some(first) = targets.first() else {
        return Ok(Vec::new());
    };
    let mut sender = connect(first.addr).await?;
    let mut latencies = Vec::with_capacity(targets.len());
    for target in targets {
        let started = Instant::now();
        match tokio::time::timeout(REQUEST_TIMEOUT, one_request(&mut sender, target)).await {
            Ok(Ok(())) => latencies.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32),
            Ok(Err((e, _))) => return Err(format!("{}: {e}", target.host)),
            Err(_) => return Err(format!("{}: timeout", target.host)),
        }
    }
    Ok(latencies)
}
