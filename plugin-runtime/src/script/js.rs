//! The runtime's own JavaScript: the Web APIs. Each file evaluates to a
//! function `(globalThis, internals)`. [`BOOTSTRAP`] runs once per process,
//! into the startup snapshot (`snapshot.rs`); the others run in an isolate
//! when it first needs them.
//!
//! The sources are ASCII (checked at compile time) and become V8 *external*
//! strings over the bytes in the binary: no isolate copies them into its
//! heap, and the snapshot refers to them by address (each is one of the
//! snapshot's external references) instead of holding a copy.

/// A bootstrap file: its name and its source as a static V8 string resource.
pub(crate) struct JsFile {
    pub name: &'static str,
    pub source: &'static v8::OneByteConst,
    /// Every function compiled when the file is (V8's eager compilation),
    /// not only its top level: set on the [`BOOTSTRAP`] files that serve a
    /// request, so that the startup snapshot holds their bytecode. Lazily
    /// compiled, every isolate's first request compiled them again (about
    /// 0.75 ms of CPU; the snapshot is 60 KB larger for it). `URL` too,
    /// which nearly every script uses (`new URL(request.url)`): a new
    /// isolate's first `new URL` took 0.5-0.9 ms of CPU compiling it (the
    /// snapshot is 20 KB larger, an idle isolate 0.03-0.08 MiB). Read by
    /// build.rs, which makes the snapshot.
    #[allow(dead_code)]
    pub eager: bool,
}

impl JsFile {
    /// The source as a V8 string (external: not copied).
    pub(crate) fn source<'s>(&self, scope: &v8::PinScope<'s, '_, ()>) -> Option<v8::Local<'s, v8::String>> {
        v8::String::new_from_onebyte_const(scope, self.source)
    }
}

/// `js!("NAME")`: the file `js/NAME`, which must be ASCII (a compile error
/// otherwise: write other characters as `\u` escapes).
/// `js!("NAME", eager)`: the same, compiled whole ([`JsFile::eager`]).
macro_rules! js {
    ($name:literal) => {
        js!($name, false)
    };
    ($name:literal, eager) => {
        js!($name, true)
    };
    ($name:literal, $eager:literal) => {{
        static SOURCE: v8::OneByteConst =
            v8::String::create_external_onebyte_const(include_bytes!(concat!("../../js/", $name)));
        JsFile {
            name: $name,
            source: &SOURCE,
            eager: $eager,
        }
    }};
}

/// Run in this order into the startup snapshot: what every isolate starts
/// with. Nothing here may depend on a worker (compatibility flags, env,
/// the time): that is set up after the snapshot is restored, by the hooks
/// the files register with `internals.onWorkerInit`.
pub(crate) static BOOTSTRAP: &[JsFile] = &[
    // First: captures the built-ins the others use (`internals.primordials`)
    // before any script can replace them.
    js!("00_primordials.js"),
    js!("00_core.js"),
    js!("05_memory.js"),
    js!("10_webidl_events.js"),
    // The request path: Headers, URL, Request/Response/fetch, the dispatch.
    js!("11_headers.js", eager),
    js!("12_url.js", eager),
    js!("13_encoding.js"),
    js!("19_pristine.js"),
    js!("30_fetch.js", eager),
    js!("40_misc.js"),
    js!("90_dispatch.js", eager),
    js!("95_lazy.js"),
];

/// APIs most scripts never touch, loaded into an isolate on first use:
/// `95_lazy.js` puts a getter on each global (or `Crypto.prototype`
/// member) they define, which runs the file once (`ops.loadBootstrap`,
/// from the code cache) and lets it replace the getters with the real
/// values. Idle isolates are smaller and start faster.
pub(crate) static LAZY: &[JsFile] = &[
    js!("14_urlpattern.js"),
    js!("20_streams.js"),
    js!("22_compression.js"),
    js!("25_blob_formdata.js"),
    js!("31_websocket.js"),
    js!("35_cache.js"),
    js!("35_html_rewriter.js"),
    js!("41_subtle.js"),
];

/// Workers KV (`KVNamespace`, `internals.kvBind`): run after the restore
/// only in isolates of workers that bind a KV namespace (from the
/// process-wide code cache, as [`NODE`]).
pub(crate) static KV: &[JsFile] = &[js!("36_kv.js")];

/// Node.js compatibility (`nodejs_compat`, `nodejs_als`), run after
/// [`BOOTSTRAP`] only for workers that enable it. Each fills
/// `internals.node.NAME`: the exports of the built-in module `node:NAME`.
pub(crate) static NODE: &[JsFile] = &[
    js!("node/buffer.js"),
    js!("node/events.js"),
    js!("node/async_hooks.js"),
    js!("node/util.js"),
    js!("node/process.js"),
    js!("node/path.js"),
    js!("node/assert.js"),
    js!("node/misc.js"),
];
