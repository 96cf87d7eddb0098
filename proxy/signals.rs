//! Process signals, one function per meaning. Pingora keeps its own:
//! SIGTERM (graceful stop), SIGINT (fast stop), SIGQUIT (socket hand-over
//! to a new binary). SIGHUP is ours: reload. Pingora installs no SIGHUP
//! handler, and by default SIGHUP kills a process, so this watcher (given to
//! Pingora as its shutdown-signal watcher) handles all four. While the
//! workers load (Pingora runs, nothing listens yet) SIGTERM and SIGQUIT
//! stop at once: there is nothing to drain or hand over.

use std::sync::Arc;

use async_trait::async_trait;
use pingora::server::{ShutdownSignal, ShutdownSignalWatch};
use tokio::signal::unix::{SignalKind, signal};

use crate::reload::Reloader;

/// Watches the process's signals for Pingora's server thread.
pub struct Signals {
    /// Where SIGHUP goes.
    pub reloader: Arc<Reloader>,
    /// Until start-up is over nothing listens: SIGTERM and SIGQUIT have
    /// nothing to drain or hand over, and stop at once.
    pub startup: Arc<crate::startup::Startup>,
}

#[async_trait]
impl ShutdownSignalWatch for Signals {
    async fn recv(&self) -> ShutdownSignal {
        let (Ok(mut quit), Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::quit()),
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            log::error!("cannot install signal handlers; stopping");
            return ShutdownSignal::FastShutdown;
        };
        loop {
            tokio::select! {
                _ = quit.recv() => {
                    return if self.startup.is_over() { upgrade() } else { stop_while_loading("SIGQUIT") };
                }
                _ = term.recv() => {
                    return if self.startup.is_over() { shutdown() } else { stop_while_loading("SIGTERM") };
                }
                _ = int.recv() => return fast_shutdown(),
                _ = hup.recv() => reload(&self.reloader),
            }
        }
    }
}

fn upgrade() -> ShutdownSignal {
    log::info!("SIGQUIT: handing the listening sockets to a new binary, then draining");
    ShutdownSignal::GracefulUpgrade
}

fn shutdown() -> ShutdownSignal {
    log::info!("SIGTERM: draining requests, then stopping");
    ShutdownSignal::GracefulTerminate
}

fn stop_while_loading(signal: &str) -> ShutdownSignal {
    log::info!("{signal} while the workers load (nothing listens yet): stopping now");
    ShutdownSignal::FastShutdown
}

fn fast_shutdown() -> ShutdownSignal {
    log::info!("SIGINT: stopping now");
    ShutdownSignal::FastShutdown
}

fn reload(reloader: &Reloader) {
    log::info!("SIGHUP: reloading the configuration and scripts");
    reloader.request();
}
