//! V8 is initialised once per process, before any isolate thread starts.

use std::sync::OnceLock;

static PLATFORM: OnceLock<v8::SharedRef<v8::Platform>> = OnceLock::new();

/// Initialises V8 (idempotent) and returns the process-wide platform.
pub(crate) fn platform() -> &'static v8::SharedRef<v8::Platform> {
    PLATFORM.get_or_init(|| {
        // The flags the build-time snapshot was made with (snapshot_make.rs).
        v8::V8::set_flags_from_string(crate::script::snapshot_make::V8_FLAGS);
        // `ISOPROXY_V8_PERF=1` (profiling only): V8 writes /tmp/perf-PID.map
        // so `perf report` names JIT-compiled JS frames. Not
        // `--interpreted-frames-native-stack`: isolates made from our startup
        // snapshot crash in their first call with it (interpreted frames show
        // as the interpreter's trampoline instead).
        if std::env::var_os("ISOPROXY_V8_PERF").is_some_and(|v| v == "1") {
            v8::V8::set_flags_from_string("--perf-basic-prof");
        }
        let platform = v8::new_default_platform(0, false).make_shared();
        v8::V8::initialize_platform(platform.clone());
        v8::V8::initialize();
        platform
    })
}
