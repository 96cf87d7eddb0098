//! The process's log: env_logger (levels and targets from `RUST_LOG`,
//! `info` by default) writing to stderr, as text or as JSON lines
//! (`[server] log_format`, live on reload: the next line uses it).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::LogFormat;

/// Whether lines are JSON objects (else env_logger's text).
static JSON: AtomicBool = AtomicBool::new(false);

/// Installs the logger; lines are text until [`set_format`] says otherwise
/// (errors before the config is read are text).
pub fn init() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|buf, record| {
            if !JSON.load(Ordering::Relaxed) {
                let ts = buf.timestamp();
                let level = buf.default_level_style(record.level());
                return writeln!(
                    buf,
                    "[{ts} {level}{:<5}{level:#} {}] {}",
                    record.level(),
                    record.target(),
                    record.args()
                );
            }
            let line = serde_json::json!({
                "ts": buf.timestamp_micros().to_string(),
                "level": record.level().as_str(),
                "target": record.target(),
                "msg": record.args().to_string(),
            });
            writeln!(buf, "{line}")
        })
        .init();
}

/// Switches the line format (start-up and every reload).
pub fn set_format(format: LogFormat) {
    JSON.store(format == LogFormat::Json, Ordering::Relaxed);
}
