//! A worker's script and its isolate: V8's platform, the startup snapshot
//! of the bootstrap JS, isolate creation, the worker's module graph
//! (packages, files, compatibility flags) and code caches.
//!
//! May use `jsg`, `io` (the context, limits, the heavy-slice rule) and
//! `error`. `js.rs` and `snapshot_make.rs` use only `v8` (and each other):
//! build.rs compiles them too.

pub mod code_cache;
pub(crate) mod compat;
pub(crate) mod files;
pub(crate) mod isolate;
pub(crate) mod js;
pub(crate) mod lazy;
pub(crate) mod packages;
pub(crate) mod platform;
pub(crate) mod rejections;
pub mod snapshot;
pub(crate) mod snapshot_make;
pub(crate) mod worker;
