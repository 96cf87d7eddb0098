//! Cron triggers: a Pingora background service that runs each worker's
//! `scheduled()` handler when one of its `crons` fires (UTC, Workers'
//! dialect; see `cron.rs`).
//!
//! Overlap rule: at most one run per trigger (worker + expression) at a
//! time. A firing that comes while the previous run of the same trigger is
//! still going is skipped and logged, so a slow handler never piles runs up.
//! Missed firings (the process was busy or stopped) are not replayed; the
//! next run is the next firing after the last check.
//!
//! With `[cluster]` (`fleet.rs`), a firing runs only on the instance that
//! takes its lease in Redis; the others count `skipped_lease`. Without
//! Redis's answer a firing does not run (`lease_error`). The lease is an
//! async call on the cron service's runtime, in the firing's own task, so
//! a slow Redis delays no other trigger and never an isolate thread.
//! Manual runs (`POST /__scheduled`) take no lease: an operator asked.
//!
//! The service reads the live deployment on every tick, so a reload that
//! adds a cron starts it and one that removes a cron stops it; a run in
//! progress finishes on the worker version it started with.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use plugin_runtime::{DispatchError, WorkerCode};

use crate::edge::AppState;
use crate::fleet::{LastRun, Lease};
use crate::origin::OriginFetcher;

/// Longest sleep between looks at the deployment (picks up reloads).
const TICK: Duration = Duration::from_millis(1000);

/// The triggers (worker + cron expression) with a run in progress, shared
/// by the cron service and `POST /__scheduled` so that both obey the
/// one-run-per-trigger rule.
#[derive(Default, Clone)]
pub struct RunningTriggers(Arc<Mutex<HashSet<(String, String)>>>);

/// A trigger's run in progress; dropping it ends the run.
pub struct TriggerRun {
    set: RunningTriggers,
    key: (String, String),
}

impl RunningTriggers {
    /// Marks `worker`'s `cron` trigger as running, or `None` when a run of
    /// it is still going.
    pub fn try_start(&self, worker: &str, cron: &str) -> Option<TriggerRun> {
        let key = (worker.to_string(), cron.to_string());
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !set.insert(key.clone()) {
            return None;
        }
        Some(TriggerRun { set: self.clone(), key })
    }
}

impl Drop for TriggerRun {
    fn drop(&mut self) {
        self.set.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.key);
    }
}

/// Counts a firing skipped because the trigger's previous run is still going.
pub fn skipped(stats: &ScheduledStats, worker: &str, cron: &str) {
    stats.skipped.fetch_add(1, Ordering::Relaxed);
    scheduled_metric(worker, "skipped");
    log::warn!("worker {worker}: \"{cron}\" fired while its previous run is still going; skipped");
}

/// Counters of scheduled runs.
#[derive(Default)]
pub struct ScheduledStats {
    /// Triggers with a run in progress (cron and manual runs alike).
    pub running: RunningTriggers,
    /// Runs whose handler (and its `waitUntil` work) finished.
    pub ok: AtomicU64,
    /// Runs that threw or whose `waitUntil` work rejected.
    pub exception: AtomicU64,
    /// Firings skipped because the trigger's previous run was still going.
    pub skipped: AtomicU64,
    /// Firings another instance of the cluster took the lease of.
    pub skipped_lease: AtomicU64,
    /// Firings not run because the cluster's Redis did not answer.
    pub lease_error: AtomicU64,
    /// Each trigger's (worker, cron) last firing run here.
    last: Mutex<HashMap<(String, String), LastRun>>,
}

impl ScheduledStats {
    fn record(&self, worker: &str, cron: &str, run: LastRun) {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((worker.to_string(), cron.to_string()), run);
    }

    /// The last firing of `worker`'s `cron` that ran on this instance.
    pub fn last_run(&self, worker: &str, cron: &str) -> Option<LastRun> {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(worker.to_string(), cron.to_string()))
            .cloned()
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn scheduled_metric(worker: &str, outcome: &str) {
    crate::metrics::metrics()
        .scheduled_runs
        .with_label_values(&[worker, outcome])
        .inc();
}

/// Runs `worker`'s scheduled handler once and logs the outcome.
pub async fn run_scheduled(
    state: &AppState,
    worker: &Arc<WorkerCode>,
    cron: &str,
    scheduled_time_ms: i64,
) -> Result<(), DispatchError> {
    let fetcher = Arc::new(OriginFetcher::new(
        worker.name(),
        String::new(),
        None,
        state.connector.clone(),
        state.deployment.load().egress_for(worker.name()),
        crate::hops::Outgoing::new(&crate::hops::Hop::default(), worker.spec.subrequests),
    ));
    let result = state
        .runtime
        .scheduled(worker, cron, scheduled_time_ms as f64, fetcher)
        .await;
    match &result {
        Ok(()) => {
            state.scheduled.ok.fetch_add(1, Ordering::Relaxed);
            scheduled_metric(worker.name(), "ok");
            log::info!("worker {}: scheduled run for \"{cron}\" ok", worker.name());
        }
        Err(e) => {
            state.scheduled.exception.fetch_add(1, Ordering::Relaxed);
            scheduled_metric(worker.name(), "exception");
            log::warn!("worker {}: scheduled run for \"{cron}\" failed: {e}", worker.name());
        }
    }
    result
}

/// Longest exception text kept in a last-run record.
const ERROR_CHARS: usize = 500;

/// One cron firing of `worker`'s `cron` at the instant `at`: takes the
/// cluster lease when there is a cluster, runs the handler, records the
/// outcome (here, and in Redis when clustered).
async fn fire_trigger(state: &AppState, worker: &Arc<WorkerCode>, cron: &str, at: i64) {
    let name = worker.name();
    let started_at = now_ms();
    if let Some(cluster) = &state.cluster {
        match cluster.take_lease(name, cron, at, started_at).await {
            Ok(Lease::Won) => {
                log::info!("worker {name}: \"{cron}\" at {at}: lease taken; running here");
            }
            Ok(Lease::HeldBy(holder)) => {
                state.scheduled.skipped_lease.fetch_add(1, Ordering::Relaxed);
                scheduled_metric(name, "skipped_lease");
                log::info!("worker {name}: \"{cron}\" at {at}: instance {holder:?} holds the lease; not run here");
                return;
            }
            Err(e) => {
                state.scheduled.lease_error.fetch_add(1, Ordering::Relaxed);
                scheduled_metric(name, "lease_error");
                log::warn!("worker {name}: \"{cron}\" at {at}: not run: no lease ({e})");
                return;
            }
        }
    }
    let mut run = LastRun {
        scheduled_time: at,
        instance: state.cluster.as_ref().map_or("", |c| c.instance()).to_string(),
        outcome: "running".to_string(),
        started_at,
        finished_at: None,
        error: None,
    };
    state.scheduled.record(name, cron, run.clone());
    let result = run_scheduled(state, worker, cron, at).await;
    run.finished_at = Some(now_ms());
    match result {
        Ok(()) => run.outcome = "ok".to_string(),
        Err(e) => {
            run.outcome = "exception".to_string();
            run.error = Some(e.to_string().chars().take(ERROR_CHARS).collect());
        }
    }
    state.scheduled.record(name, cron, run.clone());
    if let Some(cluster) = &state.cluster
        && let Err(e) = cluster.finish(name, cron, &run).await
    {
        log::warn!("worker {name}: \"{cron}\" at {at}: outcome not recorded in the cluster ({e})");
    }
}

/// The cron background service.
pub struct Scheduler {
    /// Shared proxy state (deployment, runtime, counters).
    pub state: Arc<AppState>,
    /// Cron starts once the workers loaded.
    pub startup: Arc<crate::startup::Startup>,
}

#[async_trait]
impl BackgroundService for Scheduler {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        tokio::select! {
            () = self.startup.ready() => {}
            _ = shutdown.changed() => return,
        }
        let mut last = now_ms();
        let mut running: Vec<tokio::task::JoinHandle<()>> = Vec::new();
        loop {
            let deployment = self.state.deployment.load_full();
            let next = deployment
                .crons
                .iter()
                .filter_map(|t| t.schedule.next_after_ms(last))
                .min();
            let wait = match next {
                Some(at) => Duration::from_millis((at - now_ms()).clamp(0, TICK.as_millis() as i64) as u64),
                None => TICK,
            };
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = tokio::time::sleep(wait) => {}
            }
            let now = now_ms();
            let deployment = self.state.deployment.load_full();
            running.retain(|h| !h.is_finished());
            for trigger in &deployment.crons {
                let Some(fire) = trigger.schedule.next_after_ms(last) else {
                    continue;
                };
                if fire > now {
                    continue;
                }
                let (name, expr) = (trigger.worker.name(), trigger.schedule.expr());
                let Some(run) = self.state.scheduled.running.try_start(name, expr) else {
                    skipped(&self.state.scheduled, name, expr);
                    continue;
                };
                let state = self.state.clone();
                let worker = trigger.worker.clone();
                let expr = expr.to_string();
                running.push(tokio::spawn(async move {
                    let _run = run;
                    fire_trigger(&state, &worker, &expr, fire).await;
                }));
            }
            last = now;
        }
        // Let runs in progress finish (Pingora's grace period bounds this).
        for h in running {
            let _ = h.await;
        }
    }
}
