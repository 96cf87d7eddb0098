//! One V8 isolate running one worker: creation (bootstrap JS, the worker's
//! module graph, `env`), and running a slice of its JS under the request's
//! CPU budget ([`WorkerIsolate::guarded`]). A request's steps (dispatch,
//! completions, cancel, done) are in `io/request.rs`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::error::ScriptError;
use crate::io::context::{Completion, IsolateState, Limit, SharedState};
use crate::io::limits::{
    CpuWatch, HeapGuard, MemoryBudget, array_buffer_allocator, gc_epilogue, near_heap_limit, thread_cpu,
};
use crate::jsg::ops;
use crate::script::compat::{CompatFlags, builtin_module};
use crate::script::js::JsFile;
use crate::script::worker::{ModuleGraph, ModuleRoot, WorkerCode, is_builtin, normalize, resolve_specifier};
use crate::script::{code_cache, js};

/// A worker's isolate with its context and entry points.
pub(crate) struct WorkerIsolate {
    pub code: Arc<WorkerCode>,
    pub(crate) handler: Option<v8::Global<v8::Value>>,
    pub(crate) env: Option<v8::Global<v8::Value>>,
    pub(crate) dispatch: Option<v8::Global<v8::Function>>,
    pub(crate) dispatch_scheduled: Option<v8::Global<v8::Function>>,
    /// `internals.unhandledRejection(promise, reason)`: fires the global
    /// `unhandledrejection` event; true when nobody prevented its default.
    pub(crate) unhandled_rejection: Option<v8::Global<v8::Function>>,
    pub(crate) context: Option<v8::Global<v8::Context>>,
    pub state: SharedState,
    /// Whether this thread has entered the isolate right now. Isolates are
    /// entered only while we run them (never nested), so any of a thread's
    /// isolates can be disposed in any order — V8's entry stack only
    /// allows disposing the most recently entered one.
    pub(crate) entered: bool,
    /// The limit that broke this isolate; the thread discards it.
    pub poisoned: Option<Limit>,
    /// When a request was last handed to it (a proxy thread drops it
    /// after `runtime.idle_isolate_timeout_s` without one).
    pub last_used: std::time::Instant,
    pub(crate) watch: Arc<CpuWatch>,
    pub(crate) handle: v8::IsolateHandle,
    pub(crate) isolate: v8::OwnedIsolate,
    /// Whether the isolate was made from the startup snapshot (else it
    /// runs the bootstrap itself).
    pub(crate) from_snapshot: bool,
    /// The first client request this isolate ran, and the CPU its slices
    /// may still use without counting towards making the worker heavy
    /// (see [`Self::guarded`]).
    first_request: Option<u32>,
    warm_up_credit: Duration,
    /// The worker's modules, kept until its first client request is over
    /// if the version's code caches still lack what a request compiles
    /// ([`ModuleCaches::produce_served`]).
    served_cache: Option<Vec<(std::path::PathBuf, v8::Global<v8::Module>)>>,
    /// Read by the near-heap-limit callback: must outlive `isolate` (fields
    /// drop in declaration order).
    _heap_guard: Box<HeapGuard>,
}

impl Drop for WorkerIsolate {
    fn drop(&mut self) {
        // OwnedIsolate's drop exits the isolate, so it must be entered (and
        // current) at that point; globals are released while it is alive.
        self.enter();
        self.served_cache.take();
        self.handler.take();
        self.env.take();
        self.dispatch.take();
        self.dispatch_scheduled.take();
        self.unhandled_rejection.take();
        self.context.take();
        let mut st = self.state.borrow_mut();
        for (_, task) in st.tasks.drain() {
            task.stop();
        }
        st.rejections.clear();
        st.lazy_value = None;
        st.promises.clear();
        st.requests.clear();
        drop(st);
        crate::jsg::headers::release_all(&mut self.isolate);
    }
}

fn log_uncaught(code: &WorkerCode, text: &str) {
    // The script chose this text: one escaped log line, whatever it holds,
    // with the worker's secrets masked.
    let redacted = code.redact(text);
    let text = crate::jsg::wire::escape_log(&redacted, 16 * 1024);
    log::warn!(target: "isoproxy::worker", "worker {}: Uncaught (in promise) {text}", code.name());
}

/// Where `import` resolution looks during instantiation (V8's resolve
/// callback is a plain function, so its table is thread-local).
struct ModuleTable {
    compat: CompatFlags,
    by_hash: HashMap<i32, PathBuf>,
    by_path: HashMap<PathBuf, v8::Global<v8::Module>>,
    /// Each module's imports as the module graph resolved them.
    imports: Arc<BTreeMap<PathBuf, BTreeMap<String, PathBuf>>>,
    /// Built-in modules' exports, by the module's identity hash.
    builtins: HashMap<i32, v8::Global<v8::Object>>,
}

thread_local! {
    /// Set when a slice on this thread marked its version heavy: a proxy
    /// thread's host then drops its isolates of heavy versions as soon as
    /// they are idle (`proxy_thread.rs`), rather than at the next sweep.
    pub(crate) static TURNED_HEAVY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// An isolate of this thread has a code cache to make
    /// ([`WorkerIsolate::produce_served_cache`]); the thread's host does it
    /// between requests ([`Host::produce_due_caches`]).
    pub(crate) static CACHE_DUE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

thread_local! {
    static MODULES: RefCell<Option<ModuleTable>> = const { RefCell::new(None) };
}

/// The CPU a worker's top level may take (modules evaluated, microtasks
/// run) before the worker counts as heavy. Every new isolate of a worker
/// runs its top level on the thread that makes it: a proxy thread's
/// other workers wait for that, at a reload, after an idle isolate was
/// dropped, on a new proxy thread. With the isolate itself (1-2 ms),
/// a top level under this keeps that wait to a few milliseconds.
pub(crate) const HEAVY_TOP_LEVEL: Duration = Duration::from_millis(5);

/// Judges a worker by the CPU its top level took in a new isolate (the
/// check isolate when it loads, then every isolate made for it): over
/// [`HEAVY_TOP_LEVEL`] its version is heavy, so its isolates are made and
/// its requests served on the isolate thread kept for heavy workers, not
/// on the proxy threads (`TURNED_HEAVY`: a proxy thread then drops the
/// isolate it just made once that isolate is idle).
fn note_top_level(code: &WorkerCode, cpu: Duration) {
    if cpu > HEAVY_TOP_LEVEL && turn_heavy(code) {
        log::warn!(
            target: "isoproxy::worker",
            "worker {}: its top level used {} ms of CPU (over {} ms), which each new isolate of it \
             would hold its thread for; its isolates and requests are on the isolate thread kept for heavy workers",
            code.name(),
            cpu.as_millis(),
            HEAVY_TOP_LEVEL.as_millis()
        );
    }
}

/// Marks `code`'s version heavy (the rule is in `Runtime::place`) and
/// tells this thread (`TURNED_HEAVY`: a proxy thread then drops its
/// isolates of heavy versions once their requests are done). `true` the
/// first time, for the caller to log why.
fn turn_heavy(code: &WorkerCode) -> bool {
    TURNED_HEAVY.set(true);
    !code.heavy.swap(true, Ordering::Relaxed)
}

fn resolve_module<'s>(
    context: v8::Local<'s, v8::Context>,
    specifier: v8::Local<'s, v8::String>,
    _attributes: v8::Local<'s, v8::FixedArray>,
    referrer: v8::Local<'s, v8::Module>,
) -> Option<v8::Local<'s, v8::Module>> {
    // SAFETY: V8 calls this during instantiate_module on this thread with a live context.
    v8::callback_scope!(unsafe scope, context);
    // Behind the panic guard: a panic fails the import (an Error), no more.
    match crate::jsg::guard::catch(|| resolve_in(scope, specifier, referrer)) {
        Ok(found) => found,
        Err(payload) => {
            crate::jsg::guard::record(&crate::jsg::guard::worker_name(scope), "module resolution", &*payload);
            let msg = v8::String::new(scope, "internal error in module resolution")?;
            let exc = v8::Exception::error(scope, msg);
            scope.throw_exception(exc);
            None
        }
    }
}

fn resolve_in<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    specifier: v8::Local<'s, v8::String>,
    referrer: v8::Local<'s, v8::Module>,
) -> Option<v8::Local<'s, v8::Module>> {
    let spec = specifier.to_rust_string_lossy(scope);
    let hash = referrer.get_identity_hash().get();
    let found = MODULES.with(|m| {
        let table = m.borrow();
        let table = table.as_ref()?;
        let path = match builtin_module(&table.compat, &spec) {
            Some(name) => PathBuf::from(name),
            None => {
                let referrer = table.by_hash.get(&hash)?;
                match table.imports.get(referrer).and_then(|i| i.get(&spec)) {
                    Some(dep) => dep.clone(),
                    None => resolve_specifier(referrer, &spec)?,
                }
            }
        };
        table.by_path.get(&path).map(|g| v8::Local::new(scope, g))
    });
    if found.is_none() {
        let text = format!("Cannot resolve module \"{}\"", crate::jsg::wire::excerpt(&spec));
        let msg = v8::String::new(scope, &text).unwrap_or_else(|| v8::String::empty(scope));
        let exc = v8::Exception::error(scope, msg);
        scope.throw_exception(exc);
    }
    found
}

/// The enumerable own string keys of a built-in module's exports object.
fn export_names<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    exports: v8::Local<'s, v8::Object>,
) -> Vec<v8::Local<'s, v8::String>> {
    let args = v8::GetPropertyNamesArgs {
        mode: v8::KeyCollectionMode::OwnOnly,
        property_filter: v8::PropertyFilter::ONLY_ENUMERABLE | v8::PropertyFilter::SKIP_SYMBOLS,
        index_filter: v8::IndexFilter::SkipIndices,
        key_conversion: v8::KeyConversionMode::ConvertToString,
    };
    let Some(names) = exports.get_own_property_names(scope, args) else {
        return Vec::new();
    };
    (0..names.length())
        .filter_map(|i| names.get_index(scope, i))
        .filter_map(|k| v8::Local::<v8::String>::try_from(k).ok())
        .filter(|k| k.to_rust_string_lossy(scope) != "default")
        .collect()
}

/// Evaluates a built-in module: its exports are the properties of the
/// object the bootstrap built for it, and `default` is that object.
fn evaluate_builtin<'s>(
    context: v8::Local<'s, v8::Context>,
    module: v8::Local<'s, v8::Module>,
) -> Option<v8::Local<'s, v8::Value>> {
    // SAFETY: V8 calls this during module evaluation on this thread with a live context.
    v8::callback_scope!(unsafe scope, context);
    match crate::jsg::guard::catch(|| evaluate_builtin_in(scope, module)) {
        Ok(v) => v,
        Err(payload) => {
            crate::jsg::guard::record(&crate::jsg::guard::worker_name(scope), "a built-in module", &*payload);
            None
        }
    }
}

fn evaluate_builtin_in<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    module: v8::Local<'s, v8::Module>,
) -> Option<v8::Local<'s, v8::Value>> {
    let hash = module.get_identity_hash().get();
    let exports = MODULES.with(|m| {
        let table = m.borrow();
        table.as_ref()?.builtins.get(&hash).map(|g| v8::Local::new(scope, g))
    })?;
    for name in export_names(scope, exports) {
        let value = exports.get(scope, name.into())?;
        module.set_synthetic_module_export(scope, name, value)?;
    }
    let default = v8::String::new(scope, "default")?;
    module.set_synthetic_module_export(scope, default, exports.into())?;
    Some(v8::undefined(scope).into())
}

/// Runs bootstrap file `file` (compiled from the code cache when there is
/// one) with `(globalThis, internals)`; false, with an exception pending,
/// if it threw. Used by `ops.loadBootstrap` and [`bootstrap`].
pub(crate) fn run_bootstrap_file(
    scope: &mut v8::PinScope,
    file: &'static JsFile,
    internals: v8::Local<v8::Value>,
) -> bool {
    let Some(source) = file.source(scope) else {
        return false;
    };
    let origin = script_origin(scope, &format!("internal:{}", file.name), false);
    // On failure an exception is pending and reaches the caller.
    let Some(compiled) = code_cache::compile(scope, file.name, source, &origin) else {
        return false;
    };
    let global = scope.get_current_context().global(scope);
    let ran = compiled
        .script
        .run(scope)
        .and_then(|f| v8::Local::<v8::Function>::try_from(f).ok())
        .and_then(|f| f.call(scope, global.into(), &[global.into(), internals]));
    if ran.is_some() && compiled.produce {
        code_cache::produce(scope, file.name, compiled.script);
    }
    ran.is_some()
}

/// Runs the bootstrap ([`js::BOOTSTRAP`]) in the current context, from the
/// code cache, and returns its `internals` (with the ops); `None`, with the
/// exception pending, if a file threw. What an isolate runs itself when the
/// startup snapshot is off (the startup benchmark's baseline); the snapshot
/// holds the same, made at build time (build.rs).
pub(crate) fn bootstrap<'s>(scope: &mut v8::PinScope<'s, '_>) -> Option<v8::Local<'s, v8::Object>> {
    let internals = v8::Object::new(scope);
    let ops_obj = ops::build(scope);
    let key = v8::String::new(scope, "ops")?;
    internals.set(scope, key.into(), ops_obj.into());
    for file in js::BOOTSTRAP {
        if !run_bootstrap_file(scope, file, internals.into()) {
            return None;
        }
    }
    Some(internals)
}

/// Gives `value` and every object under it a null prototype (`internals.compat`:
/// the bootstrap reads it without ever reaching `Object.prototype`).
fn null_prototypes(scope: &mut v8::PinScope<'_, '_>, value: v8::Local<v8::Value>, depth: u32) {
    let Ok(obj) = v8::Local::<v8::Object>::try_from(value) else {
        return;
    };
    if depth > 8 {
        return;
    }
    let null = v8::null(scope).into();
    obj.set_prototype(scope, null);
    let Some(keys) = obj.get_own_property_names(scope, v8::GetPropertyNamesArgs::default()) else {
        return;
    };
    for i in 0..keys.length() {
        if let Some(key) = keys.get_index(scope, i)
            && let Some(v) = obj.get(scope, key)
        {
            null_prototypes(scope, v, depth + 1);
        }
    }
}

pub(crate) fn script_origin<'s>(scope: &mut v8::PinScope<'s, '_>, name: &str, is_module: bool) -> v8::ScriptOrigin<'s> {
    let name = v8::String::new(scope, name).unwrap();
    v8::ScriptOrigin::new(scope, name.into(), 0, 0, false, 0, None, false, false, is_module, None)
}

/// `file:line:column: message` for the exception a TryCatch holds.
pub(crate) fn describe_exception(
    tc: &mut v8::PinScope<'_, '_>,
    exception: Option<v8::Local<v8::Value>>,
    message: Option<v8::Local<v8::Message>>,
) -> ScriptError {
    let message_text = exception
        .map(|e| e.to_rust_string_lossy(tc))
        .unwrap_or_else(|| "execution terminated".into());
    let location = match message {
        Some(m) => {
            let file = m
                .get_script_resource_name(tc)
                .map(|n| n.to_rust_string_lossy(tc))
                .unwrap_or_default();
            let line = m.get_line_number(tc).unwrap_or(0);
            let col = m.get_start_column() + 1;
            format!("{file}:{line}:{col}")
        }
        None => "<unknown>".into(),
    };
    ScriptError::Compile {
        location,
        message: message_text,
    }
}

/// The [`ScriptError`] for what a `TryCatch` scope caught.
macro_rules! caught {
    ($tc:expr) => {{
        let (e, m) = ($tc.exception(), $tc.message());
        describe_exception($tc, e, m)
    }};
}

/// The exception's stack (or its string form when it has none).
pub(crate) fn exception_stack(scope: &mut v8::PinScope<'_, '_>, exc: v8::Local<v8::Value>) -> String {
    if let Ok(obj) = v8::Local::<v8::Object>::try_from(exc) {
        let key = v8::String::new(scope, "stack").unwrap();
        if let Some(stack) = obj.get(scope, key.into())
            && stack.is_string()
        {
            return stack.to_rust_string_lossy(scope);
        }
    }
    exc.to_rust_string_lossy(scope)
}

/// The largest script (all modules together) a worker may have.
const MAX_SCRIPT_BYTES: usize = 10 << 20;

/// A module reached through a bare specifier whose file Node would load
/// as CommonJS: checked by its syntax once compiled.
struct CommonJsCheck {
    package: String,
    specifier: String,
    /// `file:line:column` of the import.
    location: String,
}

/// Reads the module graph rooted at `main`: every import, once. Relative
/// and absolute specifiers name files; bare ones (`"hono"`) are packages
/// in the project's `node_modules` (`packages.rs`). Compiles each module
/// in `scope`'s context to find its imports (nothing runs), so syntax
/// errors surface here with `file:line:column`: loading does it in the
/// isolate that then checks the worker (`WorkerIsolate::create_reading`).
pub(crate) fn read_module_graph(
    scope: &mut v8::PinScope<'_, '_>,
    main: &Path,
    root: &ModuleRoot,
    compat: &CompatFlags,
) -> Result<ModuleGraph, ScriptError> {
    let mut graph = ModuleGraph::default();
    let mut packages: Option<crate::script::packages::Packages> = None;
    let mut total = 0usize;
    let mut queue = vec![(main.to_path_buf(), None::<String>, None::<CommonJsCheck>)];
    while let Some((path, importer, commonjs)) = queue.pop() {
        if graph.modules.contains_key(&path) {
            continue;
        }
        if is_builtin(&path) {
            // Built in: nothing to read; `init` makes it from the bootstrap's exports.
            graph.modules.insert(path, Arc::from(""));
            continue;
        }
        // Bounded by what is left of the worker's budget, so a 2 GiB file is
        // refused from its size; a FIFO is refused instead of hanging the load.
        let left = MAX_SCRIPT_BYTES.saturating_sub(total) as u64;
        let src = crate::script::files::read_bounded_string(&path, left).map_err(|e| ScriptError::Read {
            path: match &importer {
                Some(by) => format!("{} (imported by {by})", path.display()),
                None => path.display().to_string(),
            },
            reason: if e.kind() == std::io::ErrorKind::FileTooLarge {
                format!("the script is larger than the {} MiB limit", MAX_SCRIPT_BYTES >> 20)
            } else {
                e.to_string()
            },
        })?;
        let name = path.display().to_string();
        v8::tc_scope!(let tc, scope);
        let source = v8::String::new(tc, &src).ok_or_else(|| ScriptError::Read {
            path: name.clone(),
            reason: "script too large".into(),
        })?;
        let origin = script_origin(tc, &name, true);
        let mut module_source = v8::script_compiler::Source::new(source, Some(&origin));
        let Some(module) = v8::script_compiler::compile_module(tc, &mut module_source) else {
            return Err(caught!(tc));
        };
        if let Some(check) = commonjs
            && is_commonjs(tc, &src, &name)
        {
            return Err(ScriptError::Compile {
                location: check.location,
                message: format!(
                    "cannot import \"{}\": package \"{}\" is CommonJS ({} has no import or export: it uses require/module.exports), which isoproxy does not load; bundle the worker with wrangler or use an ES-module build of the package",
                    check.specifier,
                    check.package,
                    path.display()
                ),
            });
        }
        let requests = module.get_module_requests();
        let mut imports = BTreeMap::new();
        for i in 0..requests.length() {
            let req = requests.get(tc, i).unwrap();
            let req = v8::Local::<v8::ModuleRequest>::try_from(req).unwrap();
            let spec = req.get_specifier().to_rust_string_lossy(tc);
            let loc = module.source_offset_to_location(req.get_source_offset());
            let location = format!("{name}:{}:{}", loc.get_line_number() + 1, loc.get_column_number() + 1);
            if let Some(name) = builtin_module(compat, &spec) {
                queue.push((PathBuf::from(name), None, None));
                continue;
            }
            if spec.starts_with("node:") || spec.starts_with("cloudflare:") {
                return Err(ScriptError::Compile {
                    location,
                    message: format!("No such module \"{spec}\"."),
                });
            }
            let mut check = None;
            let dep = if crate::script::packages::is_bare(&spec) {
                let found = packages
                    .get_or_insert_with(|| crate::script::packages::Packages::new(root))
                    .resolve(&path, &spec)
                    .map_err(|reason| ScriptError::Compile {
                        location: location.clone(),
                        message: if crate::script::compat::NODE_MODULES.contains(&spec.as_str()) {
                            format!(
                                "cannot import \"{spec}\": a Node.js built-in by its bare name needs nodejs_compat_v2 (or import \"node:{spec}\" with nodejs_compat), and no package \"{spec}\" is in node_modules"
                            )
                        } else {
                            format!("cannot import \"{spec}\": {reason}")
                        },
                    })?;
                if found.maybe_commonjs {
                    check = Some(CommonJsCheck {
                        package: found.package.unwrap_or_else(|| spec.clone()),
                        specifier: spec.clone(),
                        location: location.clone(),
                    });
                }
                normalize(&found.path)
            } else {
                resolve_specifier(&path, &spec).ok_or_else(|| ScriptError::Compile {
                    location: location.clone(),
                    message: format!(
                        "cannot import \"{spec}\": only files (\"./x.js\") and packages in node_modules (\"hono\") can be imported"
                    ),
                })?
            };
            // Nothing outside the worker's root is read (worker.rs ModuleRoot).
            if let Err(message) = root.admits(&dep) {
                return Err(ScriptError::Compile {
                    location,
                    message: format!("cannot import \"{spec}\": {message}"),
                });
            }
            imports.insert(spec, dep.clone());
            queue.push((dep, Some(name.clone()), check));
        }
        total += src.len();
        if total > MAX_SCRIPT_BYTES {
            return Err(ScriptError::Shape {
                path: main.display().to_string(),
                reason: format!("the script is larger than the {} MiB limit", MAX_SCRIPT_BYTES >> 20),
            });
        }
        if !imports.is_empty() {
            graph.imports.insert(path.clone(), imports);
        }
        graph.modules.insert(path, Arc::from(src));
    }
    Ok(graph)
}

/// Whether `src` compiles as the body of a CommonJS module wrapper (a
/// function of `exports, require, module, __filename, __dirname`): then it
/// has no `import`, `export`, `import.meta` or top-level `await`, and a
/// file Node would load as CommonJS is CommonJS. This is Node's own test
/// for ambiguous files (`--experimental-detect-module`).
fn is_commonjs(scope: &mut v8::PinScope<'_, '_>, src: &str, name: &str) -> bool {
    let wrapped = format!("(function (exports, require, module, __filename, __dirname) {{{src}\n}})");
    v8::tc_scope!(let tc, scope);
    let Some(source) = v8::String::new(tc, &wrapped) else {
        return false;
    };
    let origin = script_origin(tc, name, false);
    let mut script = v8::script_compiler::Source::new(source, Some(&origin));
    v8::script_compiler::compile_unbound_script(
        tc,
        &mut script,
        v8::script_compiler::CompileOptions::NoCompileOptions,
        v8::script_compiler::NoCacheReason::NoReason,
    )
    .is_some()
}

/// [`near_heap_limit`] behind the panic guard: if it panicked, the heap
/// still gets the room V8 needs to unwind rather than abort the process.
extern "C" fn near_heap_limit_guarded(data: *mut std::ffi::c_void, current: usize, initial: usize) -> usize {
    crate::jsg::guard::catch(|| near_heap_limit(data, current, initial)).unwrap_or_else(|payload| {
        crate::jsg::guard::record("-", "the near-heap-limit callback", &*payload);
        current.saturating_add(current / 2).saturating_add(32 << 20)
    })
}

/// An isolate made ahead of the worker that will run in it: restored from
/// the startup snapshot, with its callbacks, memory budget and an empty
/// context, and nothing of any worker. That is everything of a new isolate
/// but the worker's part (modules, top level, env), and most of its cost
/// (`v8::Isolate::new` and `Context::new`); it depends only on the heap
/// limit. A proxy thread waiting at start-up for its workers to load makes
/// one ahead (`Host::refill_blank`), so a worker that loads then takes
/// only the rest ([`WorkerIsolate::create_in`]).
///
/// Not entered between uses; it is entered again to be finished or dropped.
pub(crate) struct Blank(Option<BlankParts>);

struct BlankParts {
    /// Released while the isolate lives (declared before it).
    context: v8::Global<v8::Context>,
    isolate: v8::OwnedIsolate,
    handle: v8::IsolateHandle,
    heap_exceeded: Arc<AtomicBool>,
    budget: Arc<MemoryBudget>,
    /// Read by the near-heap-limit callback: outlives `isolate`.
    heap_guard: Box<HeapGuard>,
    from_snapshot: bool,
    memory_mb: usize,
}

impl Blank {
    /// A blank isolate whose heap limit is `memory_mb` MiB (at least 16).
    pub(crate) fn new(memory_mb: usize) -> Blank {
        crate::script::platform::platform();
        let memory = memory_mb.max(16) << 20;
        let heap_exceeded = Arc::new(AtomicBool::new(false));
        let (allocator, budget) = array_buffer_allocator(memory, heap_exceeded.clone());
        let params = v8::CreateParams::default()
            .heap_limits(0, memory)
            .array_buffer_allocator(allocator.make_shared());
        // V8 sizes the young generation from the heap limit: 12 MiB for
        // the default 128 MiB. Each request's garbage then walks through
        // up to 4 MiB of fresh memory before a scavenge reuses any, out
        // of the caches the proxy's own work runs in (a third of that
        // measured 1.5-2 us less CPU per pass-through request, and it
        // bounds a busy isolate's young memory).
        let young = params.max_young_generation_size_in_bytes().min(MAX_YOUNG_GENERATION);
        let params = params.set_max_young_generation_size_in_bytes(young);
        let (mut isolate, from_snapshot) = crate::script::snapshot::new_isolate(params);
        budget.watch(isolate.thread_safe_handle());
        // Nothing may block an isolate thread: `Atomics.wait` throws, as on Workers.
        isolate.set_allow_atomics_wait(false);
        isolate.set_allow_wasm_code_generation_callback(refuse_wasm_code_generation);
        // The budget outlives the isolate (its allocator holds it too).
        isolate.add_gc_epilogue_callback(
            gc_epilogue_guarded,
            Arc::as_ptr(&budget) as *mut std::ffi::c_void,
            v8::GCType::kGCTypeAll,
        );
        isolate.set_microtasks_policy(v8::MicrotasksPolicy::Explicit);
        isolate.set_promise_reject_callback(crate::script::rejections::promise_reject_callback);
        let handle = isolate.thread_safe_handle();
        let heap_guard = Box::new(HeapGuard {
            handle: handle.clone(),
            exceeded: heap_exceeded.clone(),
        });
        isolate.add_near_heap_limit_callback(
            near_heap_limit_guarded,
            &*heap_guard as *const HeapGuard as *mut std::ffi::c_void,
        );
        let context = {
            v8::scope!(let scope, &mut isolate);
            let context = v8::Context::new(scope, Default::default());
            v8::Global::new(scope, context)
        };
        // SAFETY: `v8::Isolate::new` entered it on this thread and nothing
        // entered another isolate since, so it is the current one.
        unsafe { isolate.exit() };
        Blank(Some(BlankParts {
            context,
            isolate,
            handle,
            heap_exceeded,
            budget,
            heap_guard,
            from_snapshot,
            memory_mb,
        }))
    }

    /// The heap limit it was made for, in MiB (as asked, before the
    /// minimum of 16).
    pub(crate) fn memory_mb(&self) -> usize {
        self.0.as_ref().map_or(0, |p| p.memory_mb)
    }

    /// Its parts, the isolate entered again (current on this thread, as
    /// the new [`WorkerIsolate`] expects).
    fn enter(mut self) -> BlankParts {
        let parts = self.0.take().expect("a blank is used once");
        // SAFETY: isolates are entered only around their use on this
        // thread (never nested), so no other isolate is entered now.
        unsafe { parts.isolate.enter() };
        parts
    }
}

impl Drop for Blank {
    fn drop(&mut self) {
        if let Some(parts) = self.0.take() {
            // SAFETY: as in `enter`: OwnedIsolate's drop exits the
            // isolate, so it must be the current one then.
            unsafe { parts.isolate.enter() };
            let BlankParts {
                context,
                isolate,
                heap_guard,
                ..
            } = parts;
            // The context's handle before its isolate, the isolate before
            // the guard its callback points at.
            drop(context);
            drop(isolate);
            drop(heap_guard);
        }
    }
}

/// What a new isolate needs from its thread.
pub(crate) struct ThreadLink {
    pub key: u64,
    pub completions: mpsc::UnboundedSender<Completion>,
    pub inflight: Arc<AtomicUsize>,
    pub watch: Arc<CpuWatch>,
}

/// V8 asks this before compiling WebAssembly from bytes at run time:
/// refused, as on Workers (`WebAssembly.Module(): Wasm code generation
/// disallowed by embedder`, a `CompileError`).
unsafe extern "C" fn refuse_wasm_code_generation(
    _context: v8::Local<v8::Context>,
    _source: v8::Local<v8::String>,
) -> bool {
    false
}

/// [`gc_epilogue`] behind the panic guard (a panic there would abort).
unsafe extern "C" fn gc_epilogue_guarded(
    isolate: v8::UnsafeRawIsolatePtr,
    gc_type: v8::GCType,
    flags: v8::GCCallbackFlags,
    data: *mut std::ffi::c_void,
) {
    // SAFETY: the arguments are V8's, passed on unchanged to the callback
    // they were registered for.
    let ran = crate::jsg::guard::catch(|| unsafe { gc_epilogue(isolate, gc_type, flags, data) });
    if let Err(payload) = ran {
        crate::jsg::guard::record("-", "the GC epilogue callback", &*payload);
    }
}

/// Module sources from this size on (all modules together) are
/// collected after `create_reading` read them, before they are compiled
/// again to run.
const COLLECT_AFTER_READING: usize = 1 << 20;

/// The most an isolate's young generation may hold (two semi-spaces and
/// the young large-object space: 1 MiB each), whatever its heap limit.
const MAX_YOUNG_GENERATION: usize = 3 << 20;

/// CPU a script's top level may use when its isolate starts.
const STARTUP_CPU: Duration = Duration::from_secs(1);

impl WorkerIsolate {
    /// Creates an isolate for `code`: bootstrap, modules, top level, env.
    pub(crate) fn create(code: Arc<WorkerCode>, link: ThreadLink) -> Result<WorkerIsolate, ScriptError> {
        Self::create_in(Blank::new(code.spec.memory_mb), code, link)
    }

    /// [`WorkerIsolate::create`] for a worker whose code is made in the new
    /// isolate: `code` gets a scope in the isolate's context before
    /// anything runs there, and may compile in it (nothing it compiles
    /// runs). Loading reads a worker's module graph this way, in the
    /// isolate that then checks the worker, instead of in a scratch
    /// isolate of its own (whose creation cost as much as this one's).
    /// The isolate's memory limit is `memory_mb` (at least 16) from the
    /// start, for that compilation too.
    pub(crate) fn create_reading(
        memory_mb: usize,
        link: ThreadLink,
        code: impl FnOnce(&mut v8::PinScope<'_, '_>) -> Result<Arc<WorkerCode>, ScriptError>,
    ) -> Result<WorkerIsolate, ScriptError> {
        Self::finish(Blank::new(memory_mb), link, code, true)
    }

    /// [`WorkerIsolate::create`] in `blank`, made ahead of the worker with
    /// the heap limit of its `memory_mb` (see [`Blank`]).
    pub(crate) fn create_in(
        blank: Blank,
        code: Arc<WorkerCode>,
        link: ThreadLink,
    ) -> Result<WorkerIsolate, ScriptError> {
        Self::finish(blank, link, |_| Ok(code), false)
    }

    /// Makes the worker's part of an isolate in `blank`: `code` first (it
    /// may compile in the context), then the bootstrap's per-worker setup,
    /// the modules, the top level and env. `read` says whether `code`
    /// compiles the sources (then a large script's are collected after it).
    fn finish(
        blank: Blank,
        link: ThreadLink,
        code: impl FnOnce(&mut v8::PinScope<'_, '_>) -> Result<Arc<WorkerCode>, ScriptError>,
        read: bool,
    ) -> Result<WorkerIsolate, ScriptError> {
        let BlankParts {
            context,
            mut isolate,
            handle,
            heap_exceeded,
            budget,
            heap_guard,
            from_snapshot,
            ..
        } = blank.enter();
        // The context the worker runs in; `code` may compile in it first.
        let code = {
            v8::scope!(let scope, &mut isolate);
            let local = v8::Local::new(scope, &context);
            let scope = &mut v8::ContextScope::new(scope, local);
            code(scope)
        };
        let code = match code {
            Ok(code) => code,
            Err(e) => {
                // The context's handle before its isolate, the isolate
                // before the guard its callback points at.
                drop(context);
                drop(isolate);
                drop(heap_guard);
                return Err(e);
            }
        };
        // What `code` compiled is garbage now, but a large script's copy of
        // its sources would count against the limit beside the copy the
        // modules are compiled from below (a 7.7 MB script no longer
        // loaded under a 16 MiB limit): collected first. Isolates made
        // from known code read nothing and skip this full collection.
        if read && code.modules.values().map(|src| src.len()).sum::<usize>() >= COLLECT_AFTER_READING {
            isolate.low_memory_notification();
        }
        let state: SharedState = Rc::new(RefCell::new(IsolateState {
            key: link.key,
            worker: Arc::from(code.spec.name.as_str()),
            code: Arc::downgrade(&code),
            subrequest_limit: code.spec.subrequests,
            serving: false,
            completions: link.completions,
            inflight: link.inflight,
            next_id: 0,
            promises: HashMap::new(),
            cpu_fired: Arc::new(AtomicBool::new(false)),
            heap_exceeded,
            slice_started: None,
            slice_one_off: Duration::ZERO,
            slice_request: None,
            ended_in_slice: None,
            strain: Default::default(),
            bodies: HashMap::new(),
            sockets: HashMap::new(),
            ws_servers: HashMap::new(),
            sinks: HashMap::new(),
            sink_streams: HashMap::new(),
            requests: HashMap::new(),
            decoders: HashMap::new(),
            rejections: Vec::new(),
            codecs: HashMap::new(),
            html_rewriters: HashMap::new(),
            digests: HashMap::new(),
            kv_buffers: HashMap::new(),
            tasks: HashMap::new(),
            sink_owners: HashMap::new(),
            memory: budget,
            lazy_value: None,
        }));
        isolate.set_slot(state.clone());
        let fired = state.borrow().cpu_fired.clone();
        let mut me = WorkerIsolate {
            code,
            handler: None,
            env: None,
            dispatch: None,
            dispatch_scheduled: None,
            unhandled_rejection: None,
            context: None,
            state,
            entered: true,
            poisoned: None,
            last_used: std::time::Instant::now(),
            watch: link.watch,
            handle,
            isolate,
            from_snapshot,
            first_request: None,
            served_cache: None,
            warm_up_credit: Self::WARM_UP_CREDIT,
            _heap_guard: heap_guard,
        };
        // The top level runs under its own CPU limit.
        me.watch.start(STARTUP_CPU, me.handle.clone(), fired.clone());
        let init = me.init(context);
        me.watch.stop();
        if fired.load(Ordering::Relaxed) || me.state.borrow().heap_exceeded.load(Ordering::Relaxed) {
            let what = if fired.load(Ordering::Relaxed) {
                "CPU time (1 s)"
            } else {
                "memory"
            };
            me.isolate.cancel_terminate_execution();
            return Err(ScriptError::Shape {
                path: me.code.main.display().to_string(),
                reason: format!("the script's top level exceeded its {what} limit at startup"),
            });
        }
        init?;
        me.state.borrow_mut().serving = true;
        me.exit();
        Ok(me)
    }

    /// V8's view of this isolate's memory, for the debug log: the heap's
    /// committed and used bytes, V8's own malloc'd bytes, external memory,
    /// then each space in use (`name committed/physical/used`, KiB).
    pub(crate) fn heap_summary(&mut self) -> String {
        self.enter();
        let stats = self.isolate.get_heap_statistics();
        let mut spaces = String::new();
        for i in 0..self.isolate.number_of_heap_spaces() {
            if let Some(s) = self.isolate.get_heap_space_statistics(i)
                && s.space_size() > 0
            {
                spaces.push_str(&format!(
                    "; {} {}/{}/{}",
                    s.space_name().to_string_lossy(),
                    s.space_size() >> 10,
                    s.physical_space_size() >> 10,
                    s.space_used_size() >> 10
                ));
            }
        }
        self.exit();
        format!(
            "heap {} KiB committed, {} KiB physical, {} KiB used; malloced {} KiB; external {} KiB{spaces}",
            stats.total_heap_size() >> 10,
            stats.total_physical_size() >> 10,
            stats.used_heap_size() >> 10,
            stats.malloced_memory() >> 10,
            stats.external_memory() >> 10
        )
    }

    pub(crate) fn enter(&mut self) {
        if !self.entered {
            // SAFETY: this thread runs one isolate at a time and enters it only
            // around that use (see `entered`), so entering cannot interleave
            // with another isolate's entry on this thread.
            unsafe { self.isolate.enter() };
            self.entered = true;
        }
    }

    pub(crate) fn exit(&mut self) {
        if self.entered {
            // SAFETY: we entered this isolate (above or at creation) and nothing
            // entered another isolate since, so it is the current one.
            unsafe { self.isolate.exit() };
            self.entered = false;
        }
    }

    /// Runs the bootstrap (or restores it), the worker's modules and top
    /// level in `context` (made by `create_reading`, nothing run in it yet).
    fn init(&mut self, context: v8::Global<v8::Context>) -> Result<(), ScriptError> {
        let code = self.code.clone();
        let main_name = code.main.display().to_string();
        v8::scope!(let scope, &mut self.isolate);
        let context = v8::Local::new(scope, context);
        let scope = &mut v8::ContextScope::new(scope, context);
        v8::tc_scope!(let tc, scope);

        // 1. The runtime's own JavaScript (Web APIs): restored from the
        // startup snapshot, or run here when it is off.
        let internals = if self.from_snapshot {
            crate::script::snapshot::internals(tc).ok_or_else(|| ScriptError::Shape {
                path: main_name.clone(),
                reason: "the startup snapshot holds no bootstrap (internal error)".into(),
            })?
        } else {
            match bootstrap(tc) {
                Some(internals) => internals,
                None => return Err(caught!(tc)),
            }
        };
        // Then the per-isolate state the bootstrap's natives reach.
        let key = v8::String::new(tc, "lazyValue").unwrap();
        let lazy_value = internals
            .get(tc, key.into())
            .and_then(|f| v8::Local::<v8::Function>::try_from(f).ok())
            .expect("bootstrap defines lazyValue");
        self.state.borrow_mut().lazy_value = Some(v8::Global::new(tc, lazy_value));
        // Then what depends on this worker.
        let compat_src = v8::String::new(tc, &code.compat_json).unwrap();
        let compat = v8::json::parse(tc, compat_src).expect("compat is valid JSON");
        null_prototypes(tc, compat, 0);
        let key = v8::String::new(tc, "compat").unwrap();
        internals.set(tc, key.into(), compat);
        // The bindings, for `process.env` (built before the modules run).
        let env_src = v8::String::new(tc, &code.env_json).unwrap();
        let env = v8::json::parse(tc, env_src).expect("env is valid JSON");
        let key = v8::String::new(tc, "env").unwrap();
        internals.set(tc, key.into(), env);
        // KV namespaces: `env.BINDING` objects, by binding index (36_kv.js).
        if !code.spec.kv_namespaces.is_empty() {
            for file in js::KV {
                if !run_bootstrap_file(tc, file, internals.into()) {
                    return Err(caught!(tc));
                }
            }
            let mut names = Vec::with_capacity(code.spec.kv_namespaces.len());
            for b in &code.spec.kv_namespaces {
                names.push(v8::String::new(tc, &b.binding).unwrap().into());
            }
            let names = v8::Array::new_with_elements(tc, &names);
            let key = v8::String::new(tc, "kvBind").unwrap();
            let bind = internals
                .get(tc, key.into())
                .and_then(|f| v8::Local::<v8::Function>::try_from(f).ok())
                .expect("bootstrap defines kvBind");
            if bind.call(tc, internals.into(), &[env, names.into()]).is_none() {
                return Err(caught!(tc));
            }
        }
        // Node.js modules run at startup only when the module graph imports
        // one; otherwise their globals (`Buffer`, `process`) load on first
        // use (95_lazy.js), so workers that never touch them stay small.
        let node_now = code.compat.node_modules() && code.modules.keys().any(|p| is_builtin(p));
        if code.compat.node_modules() && !node_now {
            let key = v8::String::new(tc, "nodeDeferred").unwrap();
            let yes = v8::Boolean::new(tc, true);
            internals.set(tc, key.into(), yes.into());
        }
        let key = v8::String::new(tc, "initWorker").unwrap();
        let init_worker = internals
            .get(tc, key.into())
            .and_then(|f| v8::Local::<v8::Function>::try_from(f).ok())
            .expect("bootstrap defines initWorker");
        if init_worker.call(tc, internals.into(), &[]).is_none() {
            return Err(caught!(tc));
        }
        let node: &[JsFile] = if node_now { js::NODE } else { &[] };
        for file in node {
            if !run_bootstrap_file(tc, file, internals.into()) {
                return Err(caught!(tc));
            }
        }
        if ops::raw_ops_exposed() {
            // Tests of the op layer only (`expose_raw_ops_for_tests`).
            let key = v8::String::new(tc, "ops").unwrap();
            let ops_obj = internals
                .get(tc, key.into())
                .and_then(|o| v8::Local::<v8::Object>::try_from(o).ok())
                .expect("internals.ops");
            ops::install_test_ops(tc, ops_obj);
            let key = v8::String::new(tc, "__isoproxyRawOps").unwrap();
            context.global(tc).set(tc, key.into(), ops_obj.into());
        }

        // 2. The worker's modules.
        let mut table = ModuleTable {
            compat: code.compat.clone(),
            by_hash: HashMap::new(),
            by_path: HashMap::new(),
            imports: code.imports.clone(),
            builtins: HashMap::new(),
        };
        let node_key = v8::String::new(tc, "node").unwrap();
        let node_exports = internals
            .get(tc, node_key.into())
            .and_then(|v| v8::Local::<v8::Object>::try_from(v).ok());
        let mut main_module = None;
        let mut to_cache = Vec::new();
        for (path, src) in &code.modules {
            let name = path.display().to_string();
            if is_builtin(path) {
                let short = name.trim_start_matches("node:");
                let key = v8::String::new(tc, short).unwrap();
                let exports = node_exports
                    .and_then(|n| n.get(tc, key.into()))
                    .and_then(|v| v8::Local::<v8::Object>::try_from(v).ok())
                    .ok_or_else(|| ScriptError::Compile {
                        location: code.main.display().to_string(),
                        message: format!("No such module \"{name}\"."),
                    })?;
                let mut names = export_names(tc, exports);
                names.push(v8::String::new(tc, "default").unwrap());
                let module_name = v8::String::new(tc, &name).unwrap();
                let module = v8::Module::create_synthetic_module(tc, module_name, &names, evaluate_builtin);
                let hash = module.get_identity_hash().get();
                table.builtins.insert(hash, v8::Global::new(tc, exports));
                table.by_hash.insert(hash, path.clone());
                table.by_path.insert(path.clone(), v8::Global::new(tc, module));
                continue;
            }
            let source = v8::String::new(tc, src).unwrap();
            let origin = script_origin(tc, &name, true);
            // From this version's code cache after its first isolate.
            let Some((module, produce)) = code.module_caches.compile(tc, path, source, &origin) else {
                return Err(caught!(tc));
            };
            if produce {
                to_cache.push((path, module));
            }
            table.by_hash.insert(module.get_identity_hash().get(), path.clone());
            table.by_path.insert(path.clone(), v8::Global::new(tc, module));
            if *path == code.main {
                main_module = Some(module);
            }
        }
        let module = main_module.expect("main module is part of its graph");
        MODULES.with(|m| *m.borrow_mut() = Some(table));
        let instantiated = module.instantiate_module(tc, resolve_module);
        if instantiated != Some(true) {
            MODULES.with(|m| m.borrow_mut().take());
            return Err(caught!(tc));
        }
        // Built-in modules read their exports from the table as they evaluate.
        let top_started = thread_cpu();
        let evaluation = module.evaluate(tc);
        let mut table = MODULES.with(|m| m.borrow_mut().take());
        let Some(evaluation) = evaluation else {
            return Err(caught!(tc));
        };
        tc.perform_microtask_checkpoint();
        // Less what lazily loaded bootstrap files took (the isolate's
        // one-off work, as for a request's slice).
        let one_off = std::mem::take(&mut self.state.borrow_mut().slice_one_off);
        note_top_level(&code, thread_cpu().saturating_sub(top_started).saturating_sub(one_off));
        if let Ok(promise) = v8::Local::<v8::Promise>::try_from(evaluation) {
            match promise.state() {
                v8::PromiseState::Rejected => {
                    let exc = promise.result(tc);
                    return Err(ScriptError::Compile {
                        location: main_name,
                        message: exception_stack(tc, exc),
                    });
                }
                v8::PromiseState::Pending => {
                    return Err(ScriptError::Shape {
                        path: main_name,
                        reason: "top-level await did not settle during startup".into(),
                    });
                }
                v8::PromiseState::Fulfilled => {}
            }
        }
        for (path, module) in to_cache {
            code.module_caches.produce(tc, path, module);
        }
        if code.module_caches.wants_served() {
            self.served_cache = Some(
                code.modules
                    .iter()
                    .filter(|(path, _)| !is_builtin(path))
                    .filter_map(|(path, _)| Some((path.clone(), table.as_mut()?.by_path.remove(path)?)))
                    .collect(),
            );
        }

        // 3. The handler object and env.
        let namespace = v8::Local::<v8::Object>::try_from(module.get_module_namespace()).unwrap();
        let default_key = v8::String::new(tc, "default").unwrap();
        let handler = namespace
            .get(tc, default_key.into())
            .unwrap_or_else(|| v8::undefined(tc).into());
        let check_key = v8::String::new(tc, "checkHandler").unwrap();
        let check = internals
            .get(tc, check_key.into())
            .and_then(|f| v8::Local::<v8::Function>::try_from(f).ok())
            .expect("bootstrap defines checkHandler");
        // The handler object to call: the default export, or for
        // service-worker syntax one that dispatches to `addEventListener`s.
        let verdict = check.call(tc, internals.into(), &[handler]);
        let handler = match verdict {
            Some(v) if v.is_string() => {
                return Err(ScriptError::Shape {
                    path: main_name,
                    reason: v.to_rust_string_lossy(tc),
                });
            }
            Some(h) => h,
            None => return Err(caught!(tc)),
        };
        let dispatch_key = v8::String::new(tc, "dispatchFetch").unwrap();
        let dispatch = internals
            .get(tc, dispatch_key.into())
            .and_then(|f| v8::Local::<v8::Function>::try_from(f).ok())
            .expect("bootstrap defines dispatchFetch");

        self.handler = Some(v8::Global::new(tc, handler));
        self.env = Some(v8::Global::new(tc, env));
        self.dispatch = Some(v8::Global::new(tc, dispatch));
        let scheduled_key = v8::String::new(tc, "dispatchScheduled").unwrap();
        let scheduled = internals
            .get(tc, scheduled_key.into())
            .and_then(|f| v8::Local::<v8::Function>::try_from(f).ok())
            .expect("bootstrap defines dispatchScheduled");
        self.dispatch_scheduled = Some(v8::Global::new(tc, scheduled));
        let rejection_key = v8::String::new(tc, "unhandledRejection").unwrap();
        let on_rejection = internals
            .get(tc, rejection_key.into())
            .and_then(|f| v8::Local::<v8::Function>::try_from(f).ok())
            .expect("bootstrap defines unhandledRejection");
        self.unhandled_rejection = Some(v8::Global::new(tc, on_rejection));
        self.context = Some(v8::Global::new(tc, context));
        Ok(())
    }

    /// The thread-local key completions and signals address this isolate by.
    pub(crate) fn key(&self) -> u64 {
        self.state.borrow().key
    }

    /// A slice shorter than this in wall time is charged its wall time (see
    /// [`Self::guarded`]); a longer one its thread CPU time.
    const SHORT_SLICE: Duration = Duration::from_micros(250);

    /// The CPU an isolate's first client request may use, over
    /// `HEAVY_SLICE`, before its worker counts as heavy: a light worker's
    /// whole limit (`cpu_ms` 50), over three times what the first request
    /// of a pass-through worker took here.
    const WARM_UP_CREDIT: Duration = Duration::from_millis(50);

    /// Runs `f` inside the isolate, under the CPU budget left to request
    /// `req`, and accounts the CPU it used to that request. A limit hit
    /// fails the request and poisons the isolate (the thread discards it).
    pub(crate) fn guarded(&mut self, req: Option<u32>, f: impl FnOnce(&mut Self)) {
        let (budget, for_client) = {
            let st = self.state.borrow();
            match req.and_then(|r| st.requests.get(&r)) {
                Some(ctx) => (ctx.cpu_limit.saturating_sub(ctx.cpu_used), !ctx.scheduled),
                None => (Duration::from_millis(self.code.spec.cpu_ms), false),
            }
        };
        let fired = self.state.borrow().cpu_fired.clone();
        self.watch.start(budget, self.handle.clone(), fired.clone());
        let started = thread_cpu();
        let wall_started = std::time::Instant::now();
        {
            let mut st = self.state.borrow_mut();
            st.slice_started = Some(wall_started);
            st.slice_request = req.filter(|_| for_client);
        }
        self.enter();
        // No panic may take the isolate thread down: one caught here fails
        // this request and discards the isolate (its state can't be trusted).
        let ran = crate::jsg::guard::catch(|| {
            f(self);
            self.report_rejections();
            self.pump();
        });
        self.exit();
        {
            let mut st = self.state.borrow_mut();
            st.slice_started = None;
            st.slice_request = None;
        }
        // A short slice is charged its wall time, an upper bound of its CPU
        // time (one thread): that saves reading the thread's CPU clock again,
        // a system call of about 250 ns, twice per pass. A slice that was
        // preempted is charged for the wait too, at most SHORT_SLICE.
        let wall = wall_started.elapsed();
        let used = if wall < Self::SHORT_SLICE {
            wall
        } else {
            thread_cpu().saturating_sub(started)
        };
        self.watch.stop();
        if let Some(r) = req
            && let Some(ctx) = self.state.borrow_mut().requests.get_mut(&r)
        {
            ctx.cpu_used += used;
        }
        // Whether the worker is too heavy to share a thread is judged on its
        // own work, not on the isolate's one-off costs, which made light
        // workers heavy at random: a lazily loaded bootstrap file (the
        // streams, on the first `res.body`) compiles and runs once, and the
        // first client request of an isolate compiles every runtime
        // function it touches (a hello worker's took 3-6 ms of CPU, a
        // pass-through worker's 14 ms). The first is left out, the second
        // is credited up to WARM_UP_CREDIT. The CPU limit holds all the same.
        let one_off = std::mem::take(&mut self.state.borrow_mut().slice_one_off);
        let mut judged = used.saturating_sub(one_off);
        if let Some(r) = req
            && for_client
            && *self.first_request.get_or_insert(r) == r
        {
            let credit = judged.min(self.warm_up_credit);
            self.warm_up_credit -= credit;
            judged -= credit;
        }
        let strained = for_client && {
            let mut st = self.state.borrow_mut();
            match st.ended_in_slice.take() {
                Some(longest) => st.strain.note(longest.max(judged)),
                None => {
                    if let Some(ctx) = req.and_then(|r| st.requests.get_mut(&r)) {
                        ctx.longest_slice = ctx.longest_slice.max(judged);
                    }
                }
            }
            st.strain.strained()
        };
        if self.cache_due() {
            CACHE_DUE.set(true);
        }
        if for_client && (judged >= crate::io::runtime::HEAVY_SLICE || fired.load(Ordering::Relaxed)) {
            self.mark_heavy(used);
        } else if strained && turn_heavy(&self.code) {
            log::warn!(
                target: "isoproxy::worker",
                "worker {}: {}% of its recent requests ran a slice of JS over {} ms of CPU; \
                 its requests run on the isolate thread kept for heavy workers from now on",
                self.code.name(),
                self.state.borrow().strain.percent(),
                crate::io::runtime::SUSTAINED_SLICE.as_millis()
            );
        }
        let hit = if fired.load(Ordering::Relaxed) {
            Some(Limit::Cpu)
        } else if self.state.borrow().heap_exceeded.load(Ordering::Relaxed) {
            Some(Limit::Memory)
        } else {
            None
        };
        if let Some(limit) = hit {
            self.isolate.cancel_terminate_execution();
            let worker = self.code.name().to_string();
            match limit {
                Limit::Cpu if self.watch.stalled() => log::error!(
                    target: "isoproxy::worker",
                    "worker {worker}: a slice of its JS ran {} ms of wall time without finishing (blocked); isolate discarded",
                    crate::io::limits::wall_limit(budget).as_millis()
                ),
                Limit::Cpu => log::error!(
                    target: "isoproxy::worker",
                    "worker {worker}: exceeded its CPU time limit ({} ms); isolate discarded",
                    self.code.spec.cpu_ms
                ),
                Limit::Memory => log::error!(
                    target: "isoproxy::worker",
                    "worker {worker}: exceeded its memory limit ({} MiB); isolate discarded",
                    self.code.spec.memory_mb
                ),
                Limit::Internal => {}
            }
            if let Some(r) = req {
                crate::io::request::finish(&self.state, r, crate::io::request::Outcome::Failed(limit.error()));
            }
            self.poisoned = Some(limit);
        }
        if let Err(payload) = ran {
            crate::jsg::guard::record(self.code.name(), "the isolate thread", &*payload);
            if let Some(r) = req {
                crate::io::request::finish(
                    &self.state,
                    r,
                    crate::io::request::Outcome::Failed(Limit::Internal.error()),
                );
            }
            self.poisoned.get_or_insert(Limit::Internal);
        }
    }

    /// Whether this isolate's first client request is over and the
    /// version's code caches still want what it compiled.
    pub(crate) fn cache_due(&self) -> bool {
        // Not from an isolate a limit broke (its heap may be at its limit):
        // the thread discards it, and the next isolate's request makes them.
        self.served_cache.is_some()
            && self.poisoned.is_none()
            && self
                .first_request
                .is_some_and(|first| !self.state.borrow().requests.contains_key(&first))
    }

    /// Gives the version's code caches what this isolate's first client
    /// request compiled ([`ModuleCaches::produce_served`]), if it is due;
    /// the thread does it between requests (`CACHE_DUE`), off the slice
    /// that answered. Not for a version whose modules' sources add up to
    /// more than `most` bytes: V8 takes about 1 ms per 100 KB of them, and
    /// a proxy thread's other connections wait meanwhile.
    pub(crate) fn produce_served_cache(&mut self, most: Option<usize>) {
        if !self.cache_due() {
            return;
        }
        let Some(modules) = self.served_cache.take() else {
            return;
        };
        let source: usize = self.code.modules.values().map(|src| src.len()).sum();
        self.enter();
        let too_big = most.filter(|most| source > *most);
        if let Some(most) = too_big {
            log::debug!(
                "worker {}: code caches not remade on this thread ({} KiB of source, over {} KiB)",
                self.code.name(),
                source.div_ceil(1024),
                most / 1024
            );
        } else if self.code.module_caches.wants_served() {
            let started = thread_cpu();
            let context = self.context.as_ref().unwrap();
            v8::scope_with_context!(let scope, &mut self.isolate, context);
            let locals: Vec<_> = modules
                .iter()
                .map(|(p, m)| (p.clone(), v8::Local::new(scope, m)))
                .collect();
            if let Some((before, after)) = self.code.module_caches.produce_served(scope, &locals) {
                log::debug!(
                    "worker {}: code caches remade after a served request ({} -> {} KiB) in {:?}",
                    self.code.name(),
                    before.div_ceil(1024),
                    after.div_ceil(1024),
                    thread_cpu().saturating_sub(started)
                );
            }
        }
        drop(modules);
        self.exit();
    }

    /// Notes that this worker's requests are too heavy to share a thread
    /// with other workers' (the rule is in `Runtime::place`), and tells
    /// this thread (`TURNED_HEAVY`: a proxy thread then drops the isolate
    /// once its requests are done).
    fn mark_heavy(&self, slice: Duration) {
        if turn_heavy(&self.code) {
            log::warn!(
                target: "isoproxy::worker",
                "worker {}: a slice of its JS used {} ms of CPU (at its limit or over {} ms); \
                 its requests run on the isolate thread kept for heavy workers from now on",
                self.code.name(),
                slice.as_millis(),
                crate::io::runtime::HEAVY_SLICE.as_millis()
            );
        }
    }

    /// Reports the promises still rejected without a handler now that the
    /// microtask queue is empty: the global `unhandledrejection` event, then
    /// the log unless a listener called `preventDefault()`. Listeners can
    /// reject more promises, so this repeats (boundedly).
    fn report_rejections(&mut self) {
        for _ in 0..16 {
            let pending = std::mem::take(&mut self.state.borrow_mut().rejections);
            if pending.is_empty() {
                return;
            }
            let Some(context) = self.context.as_ref() else {
                // Still starting up: reported with the first request's slice.
                self.state.borrow_mut().rejections = pending;
                return;
            };
            v8::scope_with_context!(let scope, &mut self.isolate, context);
            v8::tc_scope!(let tc, scope);
            let notify = self.unhandled_rejection.as_ref().map(|f| v8::Local::new(tc, f));
            for (promise, reason) in pending {
                let promise = v8::Local::new(tc, promise);
                let reason = v8::Local::new(tc, reason);
                let undefined = v8::undefined(tc).into();
                let report = match notify {
                    Some(f) => f
                        .call(tc, undefined, &[promise.into(), reason])
                        .is_none_or(|v| v.boolean_value(tc)),
                    None => true,
                };
                if report {
                    let text = exception_stack(tc, reason);
                    log_uncaught(&self.code, &text);
                }
            }
            tc.perform_microtask_checkpoint();
        }
    }

    /// Runs V8's own queued tasks (GC finalisers, FinalizationRegistry).
    ///
    /// Not once a limit has terminated the isolate (it is discarded anyway):
    /// a terminated isolate cannot run JS tasks, and a FinalizationRegistry
    /// cleanup task then re-posts itself forever, wedging the thread.
    fn pump(&mut self) {
        let platform = crate::script::platform::platform();
        let (fired, heap) = {
            let s = self.state.borrow();
            (s.cpu_fired.clone(), s.heap_exceeded.clone())
        };
        while !fired.load(Ordering::Relaxed)
            && !heap.load(Ordering::Relaxed)
            && v8::Platform::pump_message_loop(platform, &self.isolate, false)
        {}
    }
}
