//! A worker as configured ([`WorkerSpec`]) and as loaded and validated
//! ([`WorkerCode`]): every module of its graph read once, so isolates are
//! created from one consistent version of the script.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::error::ScriptError;
use crate::script::compat::CompatFlags;

/// A secret `env` binding's value. `Debug` shows `<redacted>` and there is
/// no `Display`, so it cannot reach a log line or an error by accident; the
/// runtime hands it to the script's `env` and nowhere else.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value. For the script's `env` only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What replaces a secret's value in isoproxy's own log lines and errors.
const REDACTED: &str = "<redacted>";

/// Secret values shorter than this are not masked in error text: masking
/// "1" or "ab" would garble every stack trace, and such values are not
/// secret in any useful sense.
pub const MIN_REDACTED_LEN: usize = 4;

/// Runs of this many bytes of a longer secret are masked wherever they
/// appear: V8 quotes only the start of a long string (`JSON.parse` errors
/// show `"abcdefghij"...`).
const REDACT_WINDOW: usize = 8;

/// `text` with the secret values of `secrets` (of at least
/// [`MIN_REDACTED_LEN`] bytes) replaced by `<redacted>`: every whole
/// occurrence, and for longer secrets every run of [`REDACT_WINDOW`] or
/// more bytes copied from one. Linear in `text` per secret.
pub(crate) fn redact_secrets<'a>(secrets: &BTreeMap<String, Secret>, text: &'a str) -> Cow<'a, str> {
    let bytes = text.as_bytes();
    let mut covered: Vec<bool> = Vec::new();
    let mut mark = |from: usize, len: usize| {
        if covered.is_empty() {
            covered = vec![false; bytes.len()];
        }
        covered[from..from + len].iter_mut().for_each(|c| *c = true);
    };
    for secret in secrets.values() {
        let value = secret.expose();
        if value.len() < MIN_REDACTED_LEN {
            continue;
        }
        if value.len() <= REDACT_WINDOW {
            for (i, _) in text.match_indices(value) {
                mark(i, value.len());
            }
        } else {
            let windows: std::collections::HashSet<&[u8]> = value.as_bytes().windows(REDACT_WINDOW).collect();
            for (i, w) in bytes.windows(REDACT_WINDOW).enumerate() {
                if windows.contains(w) {
                    mark(i, REDACT_WINDOW);
                }
            }
        }
    }
    if covered.is_empty() {
        return Cow::Borrowed(text);
    }
    // Whole characters: one marker for each run of touched ones.
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for (i, c) in text.char_indices() {
        if covered[i..i + c.len_utf8()].iter().any(|&b| b) {
            if !in_run {
                out.push_str(REDACTED);
            }
            in_run = true;
        } else {
            in_run = false;
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The `env` bindings as JSON, secrets included: `Debug` never shows it.
pub(crate) struct EnvJson(String);

impl std::ops::Deref for EnvJson {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EnvJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<env: redacted>")
    }
}

/// A worker as the embedder configured it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerSpec {
    /// The worker's name (log lines, metrics).
    pub name: String,
    /// The main ES module.
    pub main: PathBuf,
    /// Plain `env` bindings (vars): a JSON object.
    pub env: serde_json::Map<String, serde_json::Value>,
    /// Secret `env` bindings (strings). Never in `Debug` output, logs or
    /// errors: error text that contains a value has it replaced.
    pub secrets: BTreeMap<String, Secret>,
    /// The directory every module of the worker must be under (symlinks
    /// followed). `None`: the directory of `main`.
    pub root: Option<PathBuf>,
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
    /// KV namespace bindings: `env.BINDING` is a `KVNamespace` of the
    /// process's store ([`crate::api::kv::install`]).
    pub kv_namespaces: Vec<crate::api::kv::KvBinding>,
}

/// A worker's modules as read from disk: what `import` names resolved to.
#[derive(Debug, Default)]
pub(crate) struct ModuleGraph {
    /// Every module: absolute path (or `node:NAME`) -> source text.
    pub modules: BTreeMap<PathBuf, Arc<str>>,
    /// Per importing module, each specifier it imports -> the module's path
    /// (built-in modules are not listed: the compat flags name them).
    pub imports: BTreeMap<PathBuf, BTreeMap<String, PathBuf>>,
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
    /// What each module's imports resolved to (packages included).
    pub(crate) imports: Arc<BTreeMap<PathBuf, BTreeMap<String, PathBuf>>>,
    /// The main module's absolute path (a key of `modules`).
    pub(crate) main: PathBuf,
    /// Content hash of all modules, shown as the script version.
    pub version: String,
    /// The env bindings (vars and secrets) serialised once, parsed by each
    /// new isolate.
    pub(crate) env_json: EnvJson,
    /// Isolates alive for this version, across threads.
    pub(crate) isolates: AtomicUsize,
    /// Requests dispatched to this version.
    pub(crate) requests: AtomicU64,
    /// Set once a request of this version hit its CPU limit or ran one
    /// slice of JS longer than `runtime::HEAVY_SLICE`, once most of an
    /// isolate's recent requests ran one over `runtime::SUSTAINED_SLICE`
    /// (`runtime::Strain`), or once its top level ran over
    /// `isolate::HEAVY_TOP_LEVEL`: from then on its
    /// requests are served on the isolate thread kept for heavy work (see
    /// `Runtime::place`), away from other workers.
    pub(crate) heavy: std::sync::atomic::AtomicBool,
    /// When this version was loaded.
    pub loaded_at: std::time::SystemTime,
    /// The last failure of a request or scheduled run, one line.
    last_error: std::sync::Mutex<Option<String>>,
    /// V8 code caches of the modules, made by this version's first isolate.
    pub(crate) module_caches: crate::script::code_cache::ModuleCaches,
}

static NEXT_WORKER_ID: AtomicU64 = AtomicU64::new(1);

impl WorkerCode {
    pub(crate) fn new(spec: WorkerSpec, compat: CompatFlags, main: PathBuf, graph: ModuleGraph) -> Self {
        let ModuleGraph { modules, imports } = graph;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for (path, src) in &modules {
            path.hash(&mut hasher);
            src.hash(&mut hasher);
        }
        imports.hash(&mut hasher);
        let version = format!("{:016x}", hasher.finish());
        let mut env = spec.env.clone();
        for (name, secret) in &spec.secrets {
            env.insert(name.clone(), serde_json::Value::String(secret.expose().to_string()));
        }
        let env_json = EnvJson(serde_json::Value::Object(env).to_string());
        WorkerCode {
            id: NEXT_WORKER_ID.fetch_add(1, Ordering::Relaxed),
            spec,
            compat_json: compat.to_json(),
            compat,
            modules,
            imports: Arc::new(imports),
            main,
            version,
            env_json,
            isolates: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            heavy: Default::default(),
            loaded_at: std::time::SystemTime::now(),
            last_error: Default::default(),
            module_caches: Default::default(),
        }
    }

    /// Whether this version counts as heavy (see the `heavy` field).
    pub fn is_heavy(&self) -> bool {
        self.heavy.load(Ordering::Relaxed)
    }

    /// The worker's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// True when `other` is the same scripts with the same settings, so a
    /// reload can keep this version (and its warm isolates).
    pub fn same_as(&self, other: &WorkerCode) -> bool {
        self.version == other.version
            && self.spec == other.spec
            && self.modules == other.modules
            && self.imports == other.imports
    }

    /// The last failure of a request or scheduled run of this version.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn set_last_error(&self, error: &str) {
        let error = self.redact(error).into_owned();
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
    }

    /// `text` with this worker's secret values replaced by `<redacted>`:
    /// for every log line and error the runtime writes about the worker
    /// (a V8 message can quote a string, e.g. `JSON.parse(env.TOKEN)`).
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        redact_secrets(&self.spec.secrets, text)
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

/// A load error with `secrets` replaced in its text.
pub(crate) fn redact_script_error(secrets: &BTreeMap<String, Secret>, e: ScriptError) -> ScriptError {
    let r = |s: String| redact_secrets(secrets, &s).into_owned();
    match e {
        ScriptError::Read { path, reason } => ScriptError::Read {
            path,
            reason: r(reason),
        },
        ScriptError::Compile { location, message } => ScriptError::Compile {
            location,
            message: r(message),
        },
        ScriptError::Shape { path, reason } => ScriptError::Shape {
            path,
            reason: r(reason),
        },
        other => other,
    }
}

/// The directory a worker's modules must stay under, as written and with
/// symlinks resolved.
#[derive(Debug, Clone)]
pub(crate) struct ModuleRoot {
    lexical: PathBuf,
    canonical: PathBuf,
}

impl ModuleRoot {
    /// `root` (absolute or relative to the working directory), or the
    /// directory of `main` (absolute and normalised). `main` must be inside.
    pub(crate) fn new(root: Option<&Path>, main: &Path) -> Result<ModuleRoot, ScriptError> {
        let lexical = match root {
            Some(r) => normalize(&std::path::absolute(r).unwrap_or_else(|_| r.to_path_buf())),
            None => main.parent().map(Path::to_path_buf).unwrap_or_default(),
        };
        let canonical = std::fs::canonicalize(&lexical).map_err(|e| ScriptError::Read {
            path: format!("{} (the worker's root)", lexical.display()),
            reason: e.to_string(),
        })?;
        let module_root = ModuleRoot { lexical, canonical };
        // The default root is main's own directory (main itself may be a symlink).
        if root.is_some() {
            module_root.admits(main).map_err(|reason| ScriptError::Shape {
                path: main.display().to_string(),
                reason,
            })?;
        }
        Ok(module_root)
    }

    /// Whether `path` (absolute, normalised) is under the root as written.
    pub(crate) fn contains(&self, path: &Path) -> bool {
        path.starts_with(&self.lexical)
    }

    /// Whether the module at `path` (absolute, normalised) may be loaded:
    /// it is under the root as written and, following symlinks, still is.
    /// A path that does not exist passes here; reading it then fails.
    pub(crate) fn admits(&self, path: &Path) -> Result<(), String> {
        let outside = || {
            format!(
                "{} is outside the worker's root {}; set `root` in its [[workers]] entry to allow it",
                path.display(),
                self.lexical.display()
            )
        };
        if !path.starts_with(&self.lexical) {
            return Err(outside());
        }
        match std::fs::canonicalize(path) {
            Ok(real) if !real.starts_with(&self.canonical) => Err(format!(
                "{} resolves through a symlink to {}, outside the worker's root {}",
                path.display(),
                real.display(),
                self.lexical.display()
            )),
            _ => Ok(()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(values: &[&str]) -> BTreeMap<String, Secret> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("S{i}"), Secret::new(*v)))
            .collect()
    }

    #[test]
    fn secrets_are_redacted_whole_and_in_quoted_runs() {
        let s = secrets(&["hunter2-s3cret-VALUE", "abcd", "xy"]);
        assert_eq!(redact_secrets(&s, "no secret here xy"), "no secret here xy");
        assert_eq!(redact_secrets(&s, "token=hunter2-s3cret-VALUE!"), "token=<redacted>!");
        // V8's JSON.parse message quotes only the first characters.
        assert_eq!(
            redact_secrets(&s, r#"Unexpected token 'h', "hunter2-s3"... is not valid JSON"#),
            r#"Unexpected token 'h', "<redacted>"... is not valid JSON"#
        );
        assert_eq!(redact_secrets(&s, "abcd and abc"), "<redacted> and abc");
        assert_eq!(redact_secrets(&s, "é hunter2-s3cret-VALUE é"), "é <redacted> é");
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "<redacted>");
        let spec = WorkerSpec {
            name: "w".into(),
            main: "/w.js".into(),
            env: Default::default(),
            secrets: s,
            root: None,
            compatibility_date: None,
            compatibility_flags: vec![],
            memory_mb: 1,
            cpu_ms: 1,
            scheduled_cpu_ms: 1,
            request_timeout_s: 1,
            subrequests: 1,
            kv_namespaces: Vec::new(),
        };
        let debug = format!("{spec:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        let code = WorkerCode::new(
            spec,
            CompatFlags::resolve(None, &[]).unwrap(),
            "/w.js".into(),
            ModuleGraph::default(),
        );
        assert!(code.env_json.contains("hunter2-s3cret-VALUE"));
        let debug = format!("{code:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        code.set_last_error("Error: hunter2-s3cret-VALUE");
        assert_eq!(code.last_error().as_deref(), Some("Error: <redacted>"));
    }

    #[test]
    fn module_root_refuses_paths_outside_it() {
        let dir = std::env::temp_dir().join(format!("isoproxy-root-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("w/lib")).unwrap();
        std::fs::write(dir.join("w/main.js"), "").unwrap();
        std::fs::write(dir.join("outside.js"), "").unwrap();
        std::os::unix::fs::symlink(dir.join("outside.js"), dir.join("w/link.js")).unwrap();
        let dir = dir.canonicalize().unwrap();
        let main = dir.join("w/main.js");
        let root = ModuleRoot::new(None, &main).unwrap();
        assert!(root.admits(&dir.join("w/lib/x.js")).is_ok());
        assert!(root.admits(&normalize(&dir.join("w/../outside.js"))).is_err());
        assert!(root.admits(Path::new("/etc/passwd")).is_err());
        let e = root.admits(&dir.join("w/link.js")).unwrap_err();
        assert!(e.contains("symlink"), "{e}");
        let resolved = resolve_specifier(&main, "file:///etc/passwd").unwrap();
        assert!(root.admits(&resolved).is_err());
        let wide = ModuleRoot::new(Some(&dir), &main).unwrap();
        assert!(wide.admits(&dir.join("outside.js")).is_ok());
        assert!(wide.admits(&dir.join("w/link.js")).is_ok());
        assert!(
            ModuleRoot::new(Some(&dir.join("w/lib")), &main).is_err(),
            "main outside root"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
