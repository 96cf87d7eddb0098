//! Light workers warmed on every proxy thread before the listeners accept.
//!
//! With `runtime.js_on_proxy_threads`, each Pingora proxy thread is its own
//! current-thread runtime with its own isolates. Pingora has no per-thread
//! start hook, so [`WarmFirst`] wraps a listening service: when the service
//! starts (in a task on one of its threads, before it binds or accepts), it
//! finds the service's threads, makes each known to the runtime
//! (`Runtime::adopt_proxy_thread`: a reload warms new versions there too),
//! and has every thread create its isolate for each light worker. Each
//! thread creates them one per poll (`plugin_runtime`'s `proxy_thread::warm`).
//! At start-up the service starts while the workers still load: its threads
//! make each light worker's isolate as soon as that worker has loaded
//! (`startup.rs`), and it binds only once every worker loaded.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pingora::apps::ServerApp;
use pingora::server::ListenFds;
use pingora::server::ShutdownWatch;
use pingora::services::Service as ServiceTrait;
use pingora::services::listening::Service;

use crate::edge::AppState;
use crate::startup::Startup;

/// How long a service waits for its threads' isolates before it accepts
/// anyway (the rest keep being created; a request that comes first makes
/// its own).
const WARM_TIMEOUT: Duration = Duration::from_secs(10);

/// Spawns tried per thread to find every thread of a service (Pingora hands
/// out its threads' handles at random; a task reports where it ran).
const FIND_TRIES_PER_THREAD: usize = 32;

/// A listening service whose threads warm the light workers first.
pub struct WarmFirst<A> {
    inner: Service<A>,
    state: Arc<AppState>,
    /// The service's thread count (`server.threads`).
    threads: usize,
    startup: Arc<Startup>,
}

impl<A> WarmFirst<A> {
    pub fn new(inner: Service<A>, state: Arc<AppState>, threads: usize, startup: Arc<Startup>) -> Self {
        WarmFirst {
            inner,
            state,
            threads,
            startup,
        }
    }
}

impl<A: ServerApp + Send + Sync + 'static> WarmFirst<A> {
    /// Finds this service's threads (called on one of them), has them make
    /// the light workers' isolates as the workers load ([`Startup`]), waits
    /// for start-up to be over, then warms what the deployment still lacks
    /// on each; returns once they are ready or after [`WARM_TIMEOUT`].
    /// `false` if the server stopped before start-up was over.
    async fn warm(&self, shutdown: &ShutdownWatch) -> bool {
        let runtime = &self.state.runtime;
        let mut seen = HashSet::new();
        let mut handles = Vec::new();
        for _ in 0..self.threads.max(1) * FIND_TRIES_PER_THREAD {
            if seen.len() >= self.threads {
                break;
            }
            let state = self.state.clone();
            let found = pingora_runtime::current_handle()
                .spawn(async move {
                    let id = state.runtime.adopt_proxy_thread()?;
                    Some((id, tokio::runtime::Handle::current()))
                })
                .await;
            if let Ok(Some((id, handle))) = found
                && seen.insert(id)
            {
                handles.push(handle);
            }
        }
        self.startup.threads_found(&self.state, &handles);
        let mut stopping = shutdown.clone();
        tokio::select! {
            () = self.startup.ready() => {}
            _ = stopping.changed() => return false,
        }
        if handles.is_empty() {
            return true;
        }
        let deployment = self.state.deployment.load_full();
        let workers: Vec<_> = deployment.workers.values().collect();
        let warming = runtime.warm_proxy_threads(&handles, &workers);
        if warming.is_empty() {
            runtime.expect_nothing_on(&handles, &workers);
            return true;
        }
        let (asked, threads, started) = (warming.len(), handles.len(), std::time::Instant::now());
        // The isolates are made on these threads, this one included: wait
        // off it.
        let ready = tokio::task::spawn_blocking(move || warming.wait(WARM_TIMEOUT))
            .await
            .unwrap_or(0);
        // A blank isolate made ahead that no worker took goes.
        runtime.expect_nothing_on(&handles, &workers);
        if ready < asked {
            log::warn!(
                "{} proxy threads: {ready} of {asked} worker isolates ready after {WARM_TIMEOUT:?}; the rest are still being created",
                self.inner.name()
            );
        } else {
            log::info!(
                "{} proxy threads: {asked} worker isolates on {threads} threads ready in {:?}",
                self.inner.name(),
                started.elapsed()
            );
        }
        true
    }
}

#[async_trait]
impl<A: ServerApp + Send + Sync + 'static> ServiceTrait for WarmFirst<A> {
    async fn start_service(&mut self, fds: Option<ListenFds>, shutdown: ShutdownWatch, listeners_per_fd: usize) {
        if !self.warm(&shutdown).await {
            return;
        }
        ServiceTrait::start_service(&mut self.inner, fds, shutdown, listeners_per_fd).await
    }

    fn name(&self) -> &str {
        ServiceTrait::name(&self.inner)
    }

    fn threads(&self) -> Option<usize> {
        ServiceTrait::threads(&self.inner)
    }

    fn runtime_opts_override(&self, global: &pingora::server::RuntimeOpts) -> Option<pingora::server::RuntimeOpts> {
        ServiceTrait::runtime_opts_override(&self.inner, global)
    }

    fn listen_addresses(&self) -> Option<Vec<String>> {
        ServiceTrait::listen_addresses(&self.inner)
    }
}
