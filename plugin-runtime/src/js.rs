//! The runtime's own JavaScript: the Web APIs, run in order in every new
//! isolate. Each file evaluates to a function `(globalThis, internals)`.

/// `(name, source)` in evaluation order.
pub(crate) const BOOTSTRAP: &[(&str, &str)] = &[
    // First: captures the built-ins the others use (`internals.primordials`)
    // before any script can replace them.
    ("00_primordials.js", include_str!("../js/00_primordials.js")),
    ("00_core.js", include_str!("../js/00_core.js")),
    ("10_webidl_events.js", include_str!("../js/10_webidl_events.js")),
    ("11_headers.js", include_str!("../js/11_headers.js")),
    ("12_url.js", include_str!("../js/12_url.js")),
    ("13_encoding.js", include_str!("../js/13_encoding.js")),
    ("20_streams.js", include_str!("../js/20_streams.js")),
    ("25_blob_formdata.js", include_str!("../js/25_blob_formdata.js")),
    ("30_fetch.js", include_str!("../js/30_fetch.js")),
    ("40_misc.js", include_str!("../js/40_misc.js")),
    ("90_dispatch.js", include_str!("../js/90_dispatch.js")),
    ("95_lazy.js", include_str!("../js/95_lazy.js")),
];

/// APIs most scripts never touch, loaded into an isolate on first use:
/// `95_lazy.js` puts a getter on each global (or `Crypto.prototype`
/// member) they define, which runs the file once (`ops.loadBootstrap`,
/// from the code cache) and lets it replace the getters with the real
/// values. Idle isolates are smaller and start faster.
pub(crate) const LAZY: &[(&str, &str)] = &[
    ("14_urlpattern.js", include_str!("../js/14_urlpattern.js")),
    ("22_compression.js", include_str!("../js/22_compression.js")),
    ("35_cache.js", include_str!("../js/35_cache.js")),
    ("35_html_rewriter.js", include_str!("../js/35_html_rewriter.js")),
    ("41_subtle.js", include_str!("../js/41_subtle.js")),
];

/// Node.js compatibility (`nodejs_compat`, `nodejs_als`), run after
/// [`BOOTSTRAP`] only for workers that enable it. Each fills
/// `internals.node.NAME`: the exports of the built-in module `node:NAME`.
pub(crate) const NODE: &[(&str, &str)] = &[
    ("node/buffer.js", include_str!("../js/node/buffer.js")),
    ("node/events.js", include_str!("../js/node/events.js")),
    ("node/async_hooks.js", include_str!("../js/node/async_hooks.js")),
    ("node/util.js", include_str!("../js/node/util.js")),
    ("node/process.js", include_str!("../js/node/process.js")),
    ("node/path.js", include_str!("../js/node/path.js")),
    ("node/assert.js", include_str!("../js/node/assert.js")),
    ("node/misc.js", include_str!("../js/node/misc.js")),
];
