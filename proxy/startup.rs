//! Start-up: the workers load while Pingora starts its services.
//!
//! `main` starts Pingora as soon as the workers are loading (unless it takes
//! the listening sockets over from a running isoproxy, `--upgrade`). Every
//! service waits for [`Startup::ready`] before it binds, accepts or runs
//! (`WarmFirst` for the proxy listeners, [`AfterStartup`] for the admin
//! listener; the cron service waits itself), so nothing is served before every worker
//! loaded, and a worker that fails to load still ends the process with exit
//! status 1 before anything listens.
//!
//! Meanwhile the proxy threads are not idle: each light worker's isolate is
//! made on every proxy thread as soon as that worker has loaded
//! ([`Startup::loaded`], called by the loading threads), while the other
//! workers still load: the warm-up overlaps the loading instead of
//! following it.

use std::sync::{Arc, Condvar, Mutex};

use async_trait::async_trait;
use pingora::server::ListenFds;
use pingora::server::ShutdownWatch;
use pingora::services::Service as ServiceTrait;
use plugin_runtime::WorkerCode;

use crate::edge::AppState;

/// Whether start-up is over, and what the early warm-up has seen so far.
pub struct Startup {
    /// The configured workers: name, `cpu_ms`, `memory_mb` (the limits a
    /// proxy thread prepares a blank isolate for while the worker loads).
    configured: Vec<(String, u64, usize)>,
    early: Mutex<Early>,
    /// Wakes [`Startup::wait`] when `Early::over` is set.
    over_cond: Condvar,
    /// The same flag for [`Startup::ready`] (async waiters).
    over_watch: tokio::sync::watch::Sender<bool>,
}

#[derive(Default)]
struct Early {
    /// Set by the first service to find its proxy threads.
    state: Option<Arc<AppState>>,
    threads: Vec<tokio::runtime::Handle>,
    loaded: Vec<Arc<WorkerCode>>,
    /// Start-up is over (the deployment is stored): services may start,
    /// and warm what is left themselves.
    over: bool,
}

impl Startup {
    pub fn new(config: &crate::config::Config) -> Arc<Startup> {
        let configured = config
            .workers
            .iter()
            .map(|w| {
                let limits = w.effective_limits(&config.runtime);
                (w.name.clone(), limits.cpu_ms, limits.memory_mb as usize)
            })
            .collect();
        Arc::new(Startup {
            configured,
            early: Mutex::default(),
            over_cond: Condvar::new(),
            over_watch: tokio::sync::watch::Sender::new(false),
        })
    }

    fn early(&self) -> std::sync::MutexGuard<'_, Early> {
        self.early.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A worker has loaded (called on a loading thread): its isolate is made
    /// on every proxy thread found so far.
    pub fn loaded(&self, code: &Arc<WorkerCode>) {
        let mut early = self.early();
        if early.over {
            return;
        }
        early.loaded.push(code.clone());
        if let Some(state) = &early.state {
            // Fire and forget: the service waits for its whole deployment
            // after start-up (`WarmFirst`), and finds these made.
            let _ = state.runtime.warm_proxy_threads(&early.threads, &[code]);
        }
    }

    /// A service found its proxy threads: the workers loaded so far get
    /// their isolates there now, later ones as they load; meanwhile each
    /// thread makes a blank isolate ahead for the next of them
    /// (`Runtime::expect_on_proxy_threads`).
    pub fn threads_found(&self, state: &Arc<AppState>, threads: &[tokio::runtime::Handle]) {
        let mut early = self.early();
        if early.over || threads.is_empty() {
            return;
        }
        early.state.get_or_insert_with(|| state.clone());
        let loaded: Vec<&Arc<WorkerCode>> = early.loaded.iter().collect();
        let _ = state.runtime.warm_proxy_threads(threads, &loaded);
        let to_load: Vec<(u64, usize)> = self
            .configured
            .iter()
            .filter(|(name, ..)| !early.loaded.iter().any(|code| code.name() == name))
            .map(|&(_, cpu_ms, memory_mb)| (cpu_ms, memory_mb))
            .collect();
        state.runtime.expect_on_proxy_threads(threads, &to_load);
        early.threads.extend(threads.iter().cloned());
    }

    /// Every worker loaded and the deployment is stored: services start.
    pub fn open(&self) {
        *self.early() = Early {
            over: true,
            ..Early::default()
        };
        self.over_cond.notify_all();
        self.over_watch.send_replace(true);
    }

    /// Whether start-up is over ([`Startup::open`]).
    pub fn is_over(&self) -> bool {
        self.early().over
    }

    /// Waits until start-up is over ([`Startup::open`]).
    pub async fn ready(&self) {
        let mut over = self.over_watch.subscribe();
        // Only fails when the sender is gone, and `self` holds it.
        let _ = over.wait_for(|o| *o).await;
    }

    /// [`Startup::ready`] for a thread outside any runtime.
    pub fn wait(&self) {
        let mut early = self.early();
        while !early.over {
            early = self.over_cond.wait(early).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A service that starts only once start-up is over (the admin listener).
pub struct AfterStartup<S> {
    inner: S,
    startup: Arc<Startup>,
}

impl<S> AfterStartup<S> {
    pub fn new(inner: S, startup: Arc<Startup>) -> Self {
        AfterStartup { inner, startup }
    }
}

#[async_trait]
impl<S: ServiceTrait + Send + Sync + 'static> ServiceTrait for AfterStartup<S> {
    async fn start_service(&mut self, fds: Option<ListenFds>, shutdown: ShutdownWatch, listeners_per_fd: usize) {
        let mut stopping = shutdown.clone();
        tokio::select! {
            () = self.startup.ready() => {}
            // Stopped while the workers load: never started.
            _ = stopping.changed() => return,
        }
        self.inner.start_service(fds, shutdown, listeners_per_fd).await
    }

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn threads(&self) -> Option<usize> {
        self.inner.threads()
    }

    fn runtime_opts_override(&self, global: &pingora::server::RuntimeOpts) -> Option<pingora::server::RuntimeOpts> {
        self.inner.runtime_opts_override(global)
    }

    fn listen_addresses(&self) -> Option<Vec<String>> {
        self.inner.listen_addresses()
    }
}
