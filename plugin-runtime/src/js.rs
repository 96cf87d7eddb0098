//! The runtime's own JavaScript: the Web APIs, run in order in every new
//! isolate. Each file evaluates to a function `(globalThis, internals)`.

/// `(name, source)` in evaluation order.
pub(crate) const BOOTSTRAP: &[(&str, &str)] = &[
    ("00_core.js", include_str!("../js/00_core.js")),
    ("10_webidl_events.js", include_str!("../js/10_webidl_events.js")),
    ("11_headers.js", include_str!("../js/11_headers.js")),
    ("12_url.js", include_str!("../js/12_url.js")),
    ("13_encoding.js", include_str!("../js/13_encoding.js")),
    ("20_streams.js", include_str!("../js/20_streams.js")),
    ("30_fetch.js", include_str!("../js/30_fetch.js")),
    ("40_misc.js", include_str!("../js/40_misc.js")),
    ("41_subtle.js", include_str!("../js/41_subtle.js")),
    ("90_dispatch.js", include_str!("../js/90_dispatch.js")),
];
