//! Process signals, one function per meaning. Pingora keeps its own:
//! SIGTERM (graceful stop), SIGINT (fast stop), SIGQUIT (socket hand-over
//! to a new binary). SIGHUP is ours: reload. Pingora installs no SIGHUP
//! handler, and by default SIGHUP kills a process, so this watcher (given to
//! Pingora as its shutdown-signal watcher) handles all four.

use std::sync::Arc;

use async_trait::async_trait;
use pingora::server::{ShutdownSignal, ShutdownSignalWatch};
use tokio::signal::unix::{SignalKind, signal};

use crate::reload::Reloader;

/// Watches the process's signals for Pingora's server thread.
pub struct Signals {
    /// Where SIGHUP goes.
    pub reloader: Arc<Reloader>,
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
                _ = quit.recv() => return upgrade(),
                _ = term.recv() => return shutdown(),
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

fn fast_shutdown() -> ShutdownSignal {
    log::info!("SIGINT: stopping now");
    ShutdownSignal::FastShutdown
}

fn reload(reloader: &Reloader) {
    log::info!("SIGHUP: reloading the configuration and scripts");
    reloader.request();
}
