//! A worker as configured ([`WorkerSpec`]) and as loaded and validated
//! ([`WorkerCode`]): every module of its graph read once, so isolates are
//! created from one consistent version of the script.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::compat::CompatFlags;

/// A worker as the embedder configured it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerSpec {
    /// The worker's name (log lines, metrics).
    pub name: String,
    /// The main ES module.
    pub main: PathBuf,
    /// `env` bindings: a JSON object (vars as given, secrets as strings).
    pub env: serde_json::Map<String, serde_json::Value>,
    /// Names of `env` entries that are secrets: never logged.
    pub secret_names: Vec<String>,
    /// `compatibility_date` from the config, if any.
    pub compatibility_date: Option<String>,
    /// `compatibility_flags` from the config.
    pub compatibility_flags: Vec<String>,
    /// V8 heap limit per isolate, in MiB.
    pub memory_mb: usize,
    /// CPU time a request's JS may use, in ms.
    pub cpu_ms: u64,
    /// CPU time a `scheduled` run's JS may use, in ms.
    pub scheduled_cpu_ms: u64,
    /// Seconds a request may wait for the response to start.
    pub request_timeout_s: u64,
    /// `fetch()` calls allowed per request.
    pub subrequests: u32,
}

/// A validated worker: its module graph read and compiled once.
#[derive(Debug)]
pub struct WorkerCode {
    /// Unique per loaded version; isolates are keyed by it.
    pub(crate) id: u64,
    /// The configuration it was loaded from.
    pub spec: WorkerSpec,
    /// Its compatibility date and flags, resolved.
    pub compat: CompatFlags,
    /// `compat` serialised for the bootstrap JS (`internals.compat`).
    pub(crate) compat_json: String,
    /// Every module of the graph: absolute path -> source text.
    pub(crate) modules: BTreeMap<PathBuf, Arc<str>>,
    /// The main module's absolute path (a key of `modules`).
    pub(crate) main: PathBuf,
    /// Content hash of all modules, shown as the script version.
    pub version: String,
    /// The env bindings serialised once, parsed by each new isolate.
    pub(crate) env_json: String,
    /// Isolates alive for this version, across threads.
    pub(crate) isolates: AtomicUsize,
    /// Requests dispatched to this version.
    pub(crate) requests: AtomicU64,
    /// When this version was loaded.
    pub loaded_at: std::time::SystemTime,
    /// The last failure of a request or scheduled run, one line.
    last_error: std::sync::Mutex<Option<String>>,
}

static NEXT_WORKER_ID: AtomicU64 = AtomicU64::new(1);

impl WorkerCode {
    pub(crate) fn new(
        spec: WorkerSpec,
        compat: CompatFlags,
        main: PathBuf,
        modules: BTreeMap<PathBuf, Arc<str>>,
    ) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for (path, src) in &modules {
            path.hash(&mut hasher);
            src.hash(&mut hasher);
        }
        let version = format!("{:016x}", hasher.finish());
        let env_json = serde_json::Value::Object(spec.env.clone()).to_string();
        WorkerCode {
            id: NEXT_WORKER_ID.fetch_add(1, Ordering::Relaxed),
            spec,
            compat_json: compat.to_json(),
            compat,
            modules,
            main,
            version,
            env_json,
            isolates: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            loaded_at: std::time::SystemTime::now(),
            last_error: Default::default(),
        }
    }

    /// The worker's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// True when `other` is the same scripts with the same settings, so a
    /// reload can keep this version (and its warm isolates).
    pub fn same_as(&self, other: &WorkerCode) -> bool {
        self.version == other.version && self.spec == other.spec && self.modules == other.modules
    }

    /// The last failure of a request or scheduled run of this version.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn set_last_error(&self, error: &str) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(error.to_string());
    }

    /// Isolates of this version alive now.
    pub fn isolates(&self) -> usize {
        self.isolates.load(Ordering::Relaxed)
    }

    /// Requests this version has been given.
    pub fn requests_served(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The paths of every module in the graph, main first.
    pub fn module_paths(&self) -> Vec<&Path> {
        let mut out = vec![self.main.as_path()];
        out.extend(
            self.modules
                .keys()
                .map(PathBuf::as_path)
                .filter(|p| *p != self.main && !is_builtin(p)),
        );
        out
    }
}

/// Whether a module-graph key is a built-in module (`node:buffer`), not a file.
pub(crate) fn is_builtin(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.starts_with("node:"))
}

/// Resolves an import specifier against the importing module's path.
/// Only relative specifiers (`./x.js`, `../lib/y.mjs`) and absolute paths
/// name files; anything else is not a module we can load.
pub(crate) fn resolve_specifier(referrer: &Path, specifier: &str) -> Option<PathBuf> {
    let spec = specifier.strip_prefix("file://").unwrap_or(specifier);
    let joined = if spec.starts_with("./") || spec.starts_with("../") {
        referrer.parent()?.join(spec)
    } else if spec.starts_with('/') {
        PathBuf::from(spec)
    } else {
        return None;
    };
    Some(normalize(&joined))
}

/// Lexically normalises `.` and `..` (no symlink resolution: the config's
/// paths are what the user sees in errors).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}
