//! A worker's script and its isolate: V8's platform, the startup snapshot
//! of the bootstrap JS, isolate creation, the worker's module graph
//! (packages, files, compatibility flags) and code caches.

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
