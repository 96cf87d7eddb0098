//! A [`Deployment`]: one consistent version of routes, origins and loaded
//! workers. Requests take one snapshot and finish on it; a reload builds a
//! whole new one and swaps it in.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use plugin_runtime::{Runtime, ScriptError, WorkerCode, WorkerSpec};

use crate::config::Config;
use crate::cron::CronSchedule;
use crate::egress::{EgressPolicy, Listeners, RouteOrigins};
use crate::origin::Origin;
use crate::route::Router;

/// One route, resolved: its worker (if any) and origin (if any).
#[derive(Debug)]
pub struct Route {
    /// The worker that handles it; `None` for a plain proxy route.
    pub worker: Option<Arc<WorkerCode>>,
    /// Where the route's own host goes.
    pub origin: Option<Arc<Origin>>,
}

/// One cron trigger: a worker and one of its `crons`.
pub struct Trigger {
    /// The worker whose `scheduled()` runs.
    pub worker: Arc<WorkerCode>,
    /// When.
    pub schedule: Arc<CronSchedule>,
}

/// Routes plus loaded workers.
pub struct Deployment {
    /// Every cron trigger of every worker.
    pub crons: Vec<Trigger>,
    /// Routes in precedence order.
    pub router: Router<Arc<Route>>,
    /// Every configured worker by name.
    pub workers: BTreeMap<String, Arc<WorkerCode>>,
    /// Each worker's egress policy, by worker name.
    pub egress: BTreeMap<String, Arc<EgressPolicy>>,
    /// `[runtime]`'s egress policy alone (for a worker no longer configured).
    pub default_egress: Arc<EgressPolicy>,
    /// `runtime.subrequests`: the budget of a chain that starts at a plain route.
    pub subrequests: u32,
}

/// Why a deployment could not be built from a valid config.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeploymentError {
    /// A worker's script failed to load; the error names file:line:column.
    #[error("worker \"{worker}\": {error}")]
    Script {
        /// The worker's name.
        worker: String,
        /// What is wrong with its script.
        error: ScriptError,
    },
    /// A cron expression does not parse.
    #[error("worker \"{worker}\": crons: {error}")]
    Cron {
        /// The worker's name.
        worker: String,
        /// What is wrong with the expression.
        error: crate::cron::CronError,
    },
    /// An origin URL could not be used.
    #[error("route \"{pattern}\": {reason}")]
    Origin {
        /// The route's pattern.
        pattern: String,
        /// What is wrong.
        reason: String,
    },
}

impl Deployment {
    /// No routes and no workers, `[runtime]`'s egress policy: what the
    /// process holds while start-up loads the real deployment (nothing is
    /// served until it is stored).
    pub fn empty(config: &Config) -> Deployment {
        let egress = EgressPolicy::new(
            &config.runtime.egress_allow,
            &config.runtime.egress_deny,
            Arc::new(listeners(config)),
            Arc::new(RouteOrigins::default()),
            None,
        );
        Deployment {
            crons: Vec::new(),
            router: Router::new(Vec::new()),
            workers: BTreeMap::new(),
            egress: BTreeMap::new(),
            default_egress: Arc::new(egress),
            subrequests: config.runtime.subrequests,
        }
    }

    /// Loads every worker (compiling and validating each in a scratch
    /// isolate) and resolves the routes. V8 must be initialised.
    /// Workers whose scripts and settings are unchanged from `previous`
    /// keep its loaded version, so their warm isolates keep serving.
    pub fn build(config: &Config, previous: Option<&Deployment>) -> Result<Deployment, DeploymentError> {
        Deployment::build_then(config, previous, &|_| {})
    }

    /// [`Deployment::build`], calling `loaded` on a loading thread as each
    /// worker has loaded (see `Runtime::load_workers_then`; start-up warms
    /// the proxy threads' isolates for it while the rest still load).
    pub fn build_then(
        config: &Config,
        previous: Option<&Deployment>,
        loaded: &(dyn Fn(&Arc<WorkerCode>) + Sync),
    ) -> Result<Deployment, DeploymentError> {
        // The listeners are the ones the process opened at start (a reload
        // cannot move them).
        let listeners = match previous {
            Some(p) => p.default_egress.listeners.clone(),
            None => Arc::new(listeners(config)),
        };
        let mut origins = RouteOrigins::default();
        for o in config.routes.iter().filter_map(|r| r.origin.as_ref()) {
            if let Ok(o) = Origin::parse(o.as_str()) {
                origins.add(&o.host, o.port);
            }
        }
        let origins = Arc::new(origins);
        let runtime = &config.runtime;
        let policy = |allow: &[String], deny: &[String], outbound: Option<&String>| {
            let allow: Vec<String> = runtime.egress_allow.iter().chain(allow).cloned().collect();
            let deny: Vec<String> = runtime.egress_deny.iter().chain(deny).cloned().collect();
            // Validated by the config: an http:// URL with a host.
            let outbound = outbound.and_then(|o| Origin::parse(o).ok()).map(Arc::new);
            Arc::new(EgressPolicy::new(
                &allow,
                &deny,
                listeners.clone(),
                origins.clone(),
                outbound,
            ))
        };
        let default_egress = policy(&[], &[], runtime.outbound.as_ref());
        let mut egress = BTreeMap::new();
        for w in &config.workers {
            let outbound = w.outbound.as_ref().or(runtime.outbound.as_ref());
            egress.insert(w.name.clone(), policy(&w.egress_allow, &w.egress_deny, outbound));
        }
        // Every worker's crons and spec first, then all scripts loaded at
        // once (on as many threads as there are cores); the first error in
        // the config's order is the one reported.
        let mut schedules = Vec::new();
        let mut specs = Vec::new();
        for w in &config.workers {
            let parsed: Result<Vec<_>, _> = w
                .crons
                .iter()
                .map(|expr| {
                    CronSchedule::parse(expr)
                        .map(Arc::new)
                        .map_err(|error| DeploymentError::Cron {
                            worker: w.name.clone(),
                            error,
                        })
                })
                .collect();
            schedules.push(parsed);
            let secrets = w
                .secrets
                .iter()
                .map(|(name, secret)| (name.clone(), plugin_runtime::Secret::new(secret.expose())))
                .collect();
            let limits = w.effective_limits(&config.runtime);
            specs.push(WorkerSpec {
                name: w.name.clone(),
                main: w.main.clone(),
                env: w.vars.clone(),
                secrets,
                root: w.root.clone(),
                compatibility_date: w.compatibility_date.clone(),
                compatibility_flags: w.compatibility_flags.clone(),
                memory_mb: limits.memory_mb as usize,
                cpu_ms: limits.cpu_ms,
                scheduled_cpu_ms: limits.scheduled_cpu_ms,
                request_timeout_s: limits.request_timeout_s,
                subrequests: limits.subrequests,
                kv_namespaces: w
                    .kv_namespaces
                    .iter()
                    .map(|n| plugin_runtime::kv::KvBinding {
                        binding: n.binding.clone(),
                        id: n.id.clone(),
                    })
                    .collect(),
            });
        }
        // Errors in the config's order: a worker's cron error comes after
        // the script errors of the workers before it, so those are loaded.
        if let Some(first) = schedules.iter().position(|s| s.is_err()) {
            specs.truncate(first);
        }
        // The proxy threads make light workers' isolates while these load
        // (start-up) or serve (reload): cores are left to them.
        let busy = if config.runtime.js_on_proxy_threads {
            config.server.threads
        } else {
            0
        };
        let mut loaded = Runtime::load_workers_beside(specs, busy, loaded).into_iter();
        let mut workers = BTreeMap::new();
        let mut crons = Vec::new();
        for (w, schedules) in config.workers.iter().zip(schedules) {
            let schedules = schedules?;
            let Some(code) = loaded.next() else {
                break; // (not reached: every worker before a cron error was loaded)
            };
            let code = code.map_err(|error| DeploymentError::Script {
                worker: w.name.clone(),
                error,
            })?;
            let code = match previous.and_then(|p| p.workers.get(&w.name)) {
                Some(prev) if prev.same_as(&code) => prev.clone(),
                _ => code,
            };
            for schedule in schedules {
                crons.push(Trigger {
                    worker: code.clone(),
                    schedule,
                });
            }
            workers.insert(w.name.clone(), code);
        }
        let mut routes = Vec::new();
        for r in &config.routes {
            let pattern = r.pattern.as_str().to_string();
            let origin = match &r.origin {
                Some(o) => Some(Arc::new(Origin::parse(o.as_str()).map_err(|reason| {
                    DeploymentError::Origin {
                        pattern: pattern.clone(),
                        reason,
                    }
                })?)),
                None => None,
            };
            // The config has checked that every route's worker exists.
            let worker = r.worker.as_ref().and_then(|name| workers.get(name).cloned());
            routes.push((r.pattern.clone(), Arc::new(Route { worker, origin })));
        }
        // A new resolver per deployment: a reload re-reads resolv.conf/hosts.
        crate::dns::configure(&config.dns);
        Ok(Deployment {
            crons,
            router: Router::new(routes),
            workers,
            egress,
            default_egress,
            subrequests: config.runtime.subrequests,
        })
    }

    /// `worker`'s egress policy.
    pub fn egress_for(&self, worker: &str) -> Arc<EgressPolicy> {
        self.egress.get(worker).unwrap_or(&self.default_egress).clone()
    }
}

/// The process's own listeners, from `[server]` (validated addresses).
fn listeners(config: &Config) -> Listeners {
    Listeners {
        proxy: config.server.listen.iter().filter_map(|a| a.parse().ok()).collect(),
        admin: config.server.admin.as_deref().and_then(|a| a.parse().ok()),
    }
}

/// `at` as RFC 3339 (UTC, seconds).
pub fn rfc3339_time(at: SystemTime) -> String {
    rfc3339(
        at.duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Opens the process's Workers KV store (`[storage]`) if a worker binds a
/// namespace and it is not open yet. The first open fixes the backend for
/// the life of the process: `[storage]` is restart-only (`reload.rs` warns
/// when it changes). `isoproxy --test` never opens it, so checking a
/// config beside a running instance does not contend for its file.
pub fn open_kv_store(config: &crate::config::Config) -> Result<(), plugin_runtime::kv::KvError> {
    if config.workers.iter().all(|w| w.kv_namespaces.is_empty()) || plugin_runtime::kv::is_installed() {
        return Ok(());
    }
    plugin_runtime::kv::install(&config.storage.backend()).map(|_| ())
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
