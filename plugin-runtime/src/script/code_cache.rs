//! V8 code caches: of the runtime's own JavaScript files that run after
//! the startup snapshot is restored (`js::LAZY`, `js::NODE`, `js::KV`; all of them
//! when the snapshot is off), process-wide, and of each worker version's
//! modules ([`ModuleCaches`], held by its `WorkerCode`).
//!
//! The first isolate to run a file (or a version's modules) compiles it
//! from source and, once it has run, asks V8 for a code cache: bytecode for
//! the top level and every function that ran. Later isolates (on any
//! isolate thread) compile from that cache instead of parsing the source
//! again. For the runtime's files the first isolate has a cache too, made
//! at build time ([`built`]: the top level, compiled in an isolate restored
//! from the same snapshot); it still produces the fuller one once the file
//! has run. V8 checks the cache against the source and its own version and
//! flags, and rejects a stale one; a rejected cache is dropped and rebuilt.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

static ENABLED: AtomicBool = AtomicBool::new(true);
static CONSUMED: AtomicU64 = AtomicU64::new(0);
static REJECTED: AtomicU64 = AtomicU64::new(0);
static PRODUCED: AtomicU64 = AtomicU64::new(0);
static MODULES_CONSUMED: AtomicU64 = AtomicU64::new(0);
static MODULES_REJECTED: AtomicU64 = AtomicU64::new(0);
static MODULES_PRODUCED: AtomicU64 = AtomicU64::new(0);

/// How the bootstrap code cache has been used in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeCacheStats {
    /// Bootstrap scripts compiled from the cache.
    pub consumed: u64,
    /// Caches V8 refused (stale); each is rebuilt.
    pub rejected: u64,
    /// Caches made from a freshly compiled script.
    pub produced: u64,
    /// Worker modules compiled from their version's cache.
    pub modules_consumed: u64,
    /// Worker module caches V8 refused (stale); each is rebuilt.
    pub modules_rejected: u64,
    /// Worker module caches made.
    pub modules_produced: u64,
}

/// The counters since the process started.
pub fn stats() -> CodeCacheStats {
    CodeCacheStats {
        consumed: CONSUMED.load(Ordering::Relaxed),
        rejected: REJECTED.load(Ordering::Relaxed),
        produced: PRODUCED.load(Ordering::Relaxed),
        modules_consumed: MODULES_CONSUMED.load(Ordering::Relaxed),
        modules_rejected: MODULES_REJECTED.load(Ordering::Relaxed),
        modules_produced: MODULES_PRODUCED.load(Ordering::Relaxed),
    }
}
/// Bootstrap file name -> its code cache.
type Caches = HashMap<&'static str, Arc<[u8]>>;
static CACHE: Mutex<Option<Caches>> = Mutex::new(None);

/// Turns the code caches on or off (off also forgets the bootstrap's). On
/// by default; the startup benchmark turns them off to measure the baseline.
#[doc(hidden)]
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
    if !on {
        *CACHE.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

fn cached(name: &'static str) -> Option<Arc<[u8]>> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()?
        .get(name)
        .cloned()
}

/// The code caches build.rs made of the runtime's files that load after
/// the restore (see `lazy_caches` there): name length (u16 LE), name, ran
/// (u8: 1 if made after the file ran), cache length (u32 LE), cache.
static BUILT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/lazy_caches.bin"));

/// The build-time code cache of `name`, and whether it was made after the
/// file ran (then it is as full as the one the process would make after
/// its first use), while caches and the startup snapshot are on (V8
/// refuses a cache made with another read-only heap than the isolate's:
/// the snapshot's).
fn built(name: &str) -> Option<(&'static [u8], bool)> {
    if !ENABLED.load(Ordering::Relaxed) || !crate::script::snapshot::enabled() {
        return None;
    }
    let mut rest = BUILT;
    while let [a, b, tail @ ..] = rest {
        let name_len = usize::from(u16::from_le_bytes([*a, *b]));
        let (entry_name, tail) = tail.split_at_checked(name_len)?;
        let (ran, tail) = tail.split_first()?;
        let (len, tail) = tail.split_first_chunk::<4>()?;
        let (cache, tail) = tail.split_at_checked(usize::try_from(u32::from_le_bytes(*len)).ok()?)?;
        if entry_name == name.as_bytes() {
            return Some((cache, *ran == 1));
        }
        rest = tail;
    }
    None
}

fn forget(name: &'static str) {
    if let Some(map) = CACHE.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
        map.remove(name);
    }
}

/// A compiled bootstrap script, and whether a code cache should be made
/// from it once it has run.
pub(crate) struct Compiled<'s> {
    pub script: v8::Local<'s, v8::Script>,
    pub produce: bool,
}

/// Compiles bootstrap file `name`, from the code cache when there is one.
pub(crate) fn compile<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    name: &'static str,
    source: v8::Local<'s, v8::String>,
    origin: &v8::ScriptOrigin<'s>,
) -> Option<Compiled<'s>> {
    let runtime = cached(name);
    let from_build = if runtime.is_none() { built(name) } else { None };
    if let Some(bytes) = runtime.as_deref().or(from_build.map(|(cache, _)| cache)) {
        let data = v8::script_compiler::CachedData::new(bytes);
        let mut src = v8::script_compiler::Source::new_with_cached_data(source, Some(origin), data);
        let script = v8::script_compiler::compile(
            scope,
            &mut src,
            v8::script_compiler::CompileOptions::ConsumeCodeCache,
            v8::script_compiler::NoCacheReason::NoReason,
        )?;
        let rejected = src.get_cached_data().is_some_and(|c| c.rejected());
        if rejected {
            REJECTED.fetch_add(1, Ordering::Relaxed);
            log::debug!("code cache for {name} rejected by V8; rebuilding it");
            forget(name);
        } else {
            CONSUMED.fetch_add(1, Ordering::Relaxed);
        }
        // A build-time cache of the top level only (the file could not run
        // in build.rs): once the file has run, the fuller cache is made for
        // later isolates.
        let top_level_only = from_build.is_some_and(|(_, ran)| !ran);
        return Some(Compiled {
            script,
            produce: (rejected || top_level_only) && ENABLED.load(Ordering::Relaxed),
        });
    }
    let mut src = v8::script_compiler::Source::new(source, Some(origin));
    let script = v8::script_compiler::compile(
        scope,
        &mut src,
        v8::script_compiler::CompileOptions::NoCompileOptions,
        v8::script_compiler::NoCacheReason::NoReason,
    )?;
    Some(Compiled {
        script,
        produce: ENABLED.load(Ordering::Relaxed),
    })
}

/// Stores a code cache of `script`, which has run: it then holds bytecode
/// for the functions the bootstrap called, not only the top level.
pub(crate) fn produce(scope: &mut v8::PinScope<'_, '_>, name: &'static str, script: v8::Local<'_, v8::Script>) {
    let unbound = script.get_unbound_script(scope);
    let Some(data) = unbound.create_code_cache() else {
        return;
    };
    let bytes: Arc<[u8]> = Arc::from(&data[..]);
    PRODUCED.fetch_add(1, Ordering::Relaxed);
    CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashMap::new)
        .entry(name)
        .or_insert(bytes);
}

/// The code caches of one worker version's modules, by module path: made by
/// the version's first isolate (at load, the validation isolate), used by
/// every later one; made again, once, from the first isolate that served a
/// client request ([`ModuleCaches::produce_served`]).
#[derive(Debug, Default)]
pub(crate) struct ModuleCaches(Mutex<HashMap<std::path::PathBuf, Arc<[u8]>>>, AtomicBool);

impl ModuleCaches {
    fn get(&self, path: &std::path::Path) -> Option<Arc<[u8]>> {
        if !ENABLED.load(Ordering::Relaxed) {
            return None;
        }
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(path).cloned()
    }

    /// Whether the caches still lack what a served request compiles (see
    /// [`Self::produce_served`]).
    pub(crate) fn wants_served(&self) -> bool {
        ENABLED.load(Ordering::Relaxed) && !self.1.load(Ordering::Relaxed)
    }

    /// Replaces the caches with ones made from `modules` of an isolate
    /// that has served a client request: they hold bytecode for every
    /// function that request ran too (the handler and what it calls, which
    /// V8 compiles lazily, on each isolate's first request otherwise). Once
    /// per version: the first isolate to get here makes them.
    /// Returns the caches' total size before and after (bytes), `None` if
    /// another isolate made them.
    pub(crate) fn produce_served(
        &self,
        scope: &mut v8::PinScope<'_, '_>,
        modules: &[(std::path::PathBuf, v8::Local<'_, v8::Module>)],
    ) -> Option<(usize, usize)> {
        if self.1.swap(true, Ordering::Relaxed) {
            return None;
        }
        let (mut before, mut after) = (0, 0);
        for (path, module) in modules {
            let Some(data) = module.get_unbound_module_script(scope).create_code_cache() else {
                continue;
            };
            MODULES_PRODUCED.fetch_add(1, Ordering::Relaxed);
            after += data.len();
            let old = self
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(path.clone(), Arc::from(&data[..]));
            before += old.map_or(0, |o| o.len());
        }
        Some((before, after))
    }

    /// Compiles module `path`, from its cache when there is one; the flag
    /// says whether a cache should be made of it once it has run.
    pub(crate) fn compile<'s>(
        &self,
        scope: &mut v8::PinScope<'s, '_>,
        path: &std::path::Path,
        source: v8::Local<'s, v8::String>,
        origin: &v8::ScriptOrigin<'s>,
    ) -> Option<(v8::Local<'s, v8::Module>, bool)> {
        let Some(bytes) = self.get(path) else {
            let mut src = v8::script_compiler::Source::new(source, Some(origin));
            let module = v8::script_compiler::compile_module(scope, &mut src)?;
            return Some((module, ENABLED.load(Ordering::Relaxed)));
        };
        let data = v8::script_compiler::CachedData::new(&bytes);
        let mut src = v8::script_compiler::Source::new_with_cached_data(source, Some(origin), data);
        let module = v8::script_compiler::compile_module2(
            scope,
            &mut src,
            v8::script_compiler::CompileOptions::ConsumeCodeCache,
            v8::script_compiler::NoCacheReason::NoReason,
        )?;
        let rejected = src.get_cached_data().is_some_and(|c| c.rejected());
        if rejected {
            MODULES_REJECTED.fetch_add(1, Ordering::Relaxed);
            log::debug!("code cache for module {} rejected by V8; rebuilding it", path.display());
            self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(path);
        } else {
            MODULES_CONSUMED.fetch_add(1, Ordering::Relaxed);
        }
        Some((module, rejected))
    }

    /// Stores a code cache of `module`, which has been evaluated (so it
    /// holds bytecode for the functions its top level ran).
    pub(crate) fn produce(
        &self,
        scope: &mut v8::PinScope<'_, '_>,
        path: &std::path::Path,
        module: v8::Local<'_, v8::Module>,
    ) {
        let Some(data) = module.get_unbound_module_script(scope).create_code_cache() else {
            return;
        };
        MODULES_PRODUCED.fetch_add(1, Ordering::Relaxed);
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(path.to_path_buf())
            .or_insert_with(|| Arc::from(&data[..]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::js;

    /// Every file that loads after the restore has a build-time cache, and
    /// an isolate restored from the snapshot accepts it: made in another
    /// process (the build script's) with the same flags and read-only heap.
    /// A rejected one would cost the process's first use of the file a
    /// parse (about 1.5 ms for the streams).
    ///
    /// The streams' cache was made after the file ran in build.rs: it holds
    /// what its top level ran, and the process makes no other after its
    /// first use (a worker passing `res.body` on loads the streams on its
    /// first request: its first in a new process cost 0.5 ms more).
    #[test]
    fn every_lazily_loaded_file_has_a_build_time_cache_v8_accepts() {
        crate::script::platform::platform();
        let (mut isolate, restored) = crate::script::snapshot::new_isolate(v8::CreateParams::default());
        assert!(restored);
        v8::scope!(let scope, &mut isolate);
        let context = v8::Context::new(scope, Default::default());
        let scope = &mut v8::ContextScope::new(scope, context);
        for file in js::LAZY.iter().chain(js::KV).chain(js::NODE) {
            let (bytes, ran) = built(file.name).unwrap_or_else(|| panic!("no build-time cache for {}", file.name));
            if file.name == "20_streams.js" {
                assert!(ran, "the streams ran in build.rs");
            }
            let source = file.source(scope).unwrap();
            let origin = crate::script::isolate::script_origin(scope, &format!("internal:{}", file.name), false);
            let data = v8::script_compiler::CachedData::new(bytes);
            let mut src = v8::script_compiler::Source::new_with_cached_data(source, Some(&origin), data);
            let script = v8::script_compiler::compile(
                scope,
                &mut src,
                v8::script_compiler::CompileOptions::ConsumeCodeCache,
                v8::script_compiler::NoCacheReason::NoReason,
            );
            assert!(script.is_some(), "{} compiles", file.name);
            assert!(
                src.get_cached_data().is_some_and(|c| !c.rejected()),
                "V8 rejected the build-time cache of {}",
                file.name
            );
        }
        assert!(built("no-such-file.js").is_none());
    }
}
