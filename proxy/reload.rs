//! Zero-downtime reload: re-read the config and every script, validate the
//! whole new deployment (compiling each worker in a scratch isolate), and
//! only then swap it in. Requests in flight keep the deployment they
//! started on; a reload that fails validation changes nothing.
//!
//! The work runs on a dedicated thread, never on Pingora's server thread.
//! Reload requests that arrive while one is running merge into one.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::config::{self, Config};
use crate::deployment::Deployment;
use crate::edge::AppState;

/// Reload bookkeeping and the trigger.
pub struct Reloader {
    conf_path: PathBuf,
    trigger: Mutex<mpsc::Sender<()>>,
    /// Reloads that were applied.
    pub ok: AtomicU64,
    /// Reloads that failed validation (nothing changed).
    pub failed: AtomicU64,
}

impl Reloader {
    /// Starts the reload thread for `state`, whose deployment was built from
    /// `running` (read from `conf_path`).
    pub fn start(
        conf_path: PathBuf,
        running: Config,
        state: Arc<AppState>,
        startup: Arc<crate::startup::Startup>,
    ) -> std::io::Result<Arc<Reloader>> {
        let (tx, rx) = mpsc::channel();
        let reloader = Arc::new(Reloader {
            conf_path,
            trigger: Mutex::new(tx),
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        });
        let worker = reloader.clone();
        std::thread::Builder::new().name("reload".into()).spawn(move || {
            let mut running = running;
            // A reload asked for while the workers load builds on what they
            // load, once it is stored.
            startup.wait();
            while rx.recv().is_ok() {
                // Requests that queued up meanwhile are served by this one reload.
                while rx.try_recv().is_ok() {}
                worker.reload_once(&mut running, &state);
            }
        })?;
        Ok(reloader)
    }

    /// Asks for a reload (returns at once).
    pub fn request(&self) {
        let _ = self.trigger.lock().unwrap_or_else(|p| p.into_inner()).send(());
    }

    fn reload_once(&self, running: &mut Config, state: &AppState) {
        let config = match config::load(&self.conf_path) {
            Ok(c) => c,
            Err(e) => return self.fail(&e.to_string()),
        };
        let old = state.deployment.load_full();
        let deployment = match Deployment::build(&config, Some(&old)) {
            Ok(d) => d,
            Err(e) => return self.fail(&format!("{}: {e}", self.conf_path.display())),
        };
        if let Err(e) = crate::deployment::open_kv_store(&config) {
            return self.fail(&format!("{}: [storage]: {e}", self.conf_path.display()));
        }
        for warning in config.warnings() {
            log::warn!("reload: {warning}");
        }
        for key in restart_only_changes(running, &config) {
            log::warn!("reload: {key} changed; it takes effect only after a restart");
        }
        let mut changes = Vec::new();
        for (name, w) in &deployment.workers {
            match old.workers.get(name) {
                Some(prev) if prev.version == w.version => {}
                Some(prev) => changes.push(format!("{name} {} -> {}", prev.version, w.version)),
                None => changes.push(format!("{name} (new) {}", w.version)),
            }
        }
        for name in old.workers.keys().filter(|n| !deployment.workers.contains_key(*n)) {
            changes.push(format!("{name} (removed)"));
        }
        if running.server.certificates != config.server.certificates {
            changes.push(format!("{} certificates reloaded", config.server.certificates.len()));
        }
        let live: Vec<_> = deployment.workers.values().collect();
        state.runtime.retain_versions(&live);
        // New versions get their first isolate before requests see them.
        let fresh: Vec<_> = deployment
            .workers
            .iter()
            .filter(|(name, w)| old.workers.get(*name).is_none_or(|prev| !Arc::ptr_eq(prev, w)))
            .map(|(_, w)| w)
            .collect();
        state.runtime.warm(&fresh).wait(std::time::Duration::from_secs(10));
        // The blank each proxy thread keeps for isolates made on demand
        // follows the light workers' heap limit.
        state.runtime.stand_blanks(&live);
        state.runtime.set_queue_limit(config.runtime.queue_limit);
        state
            .runtime
            .set_idle_isolate_timeout(crate::idle_isolate_timeout(&config.runtime));
        state.deployment.store(Arc::new(deployment));
        state.apply_server_config(&config.server);
        *running = config;
        self.ok.fetch_add(1, Ordering::Relaxed);
        crate::metrics::metrics().reloads.with_label_values(&["ok"]).inc();
        if changes.is_empty() {
            log::info!("reload ok: no worker changed");
        } else {
            log::info!("reload ok: {}", changes.join(", "));
        }
    }

    fn fail(&self, why: &str) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        crate::metrics::metrics().reloads.with_label_values(&["failed"]).inc();
        log::error!("reload failed, still serving the previous deployment: {why}");
    }
}

/// Keys that a running process cannot change: listeners and thread counts.
fn restart_only_changes(old: &Config, new: &Config) -> Vec<&'static str> {
    let mut keys = Vec::new();
    if old.server.listen != new.server.listen {
        keys.push("server.listen");
    }
    if old.server.tls_listen != new.server.tls_listen {
        keys.push("server.tls_listen");
    }
    if old.server.admin != new.server.admin {
        keys.push("server.admin");
    }
    if old.server.threads != new.server.threads {
        keys.push("server.threads");
    }
    if old.server.upgrade_sock != new.server.upgrade_sock {
        keys.push("server.upgrade_sock");
    }
    if old.runtime.isolate_threads != new.runtime.isolate_threads {
        keys.push("runtime.isolate_threads");
    }
    if old.runtime.js_on_proxy_threads != new.runtime.js_on_proxy_threads {
        keys.push("runtime.js_on_proxy_threads");
    }
    if old.cluster != new.cluster {
        keys.push("cluster");
    }
    if old.storage != new.storage && plugin_runtime::kv::is_installed() {
        keys.push("storage");
    }
    keys
}
