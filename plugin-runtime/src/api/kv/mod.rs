//! Workers KV: the [`KvStore`] trait, its two backends (an embedded redb
//! file, [`embedded`], and Redis for fleets, [`redis`]), the process's one
//! store ([`install`]) and the ops behind `env.NAME` ([`ops`]).
//!
//! Every store call runs on the store's own runtime (a small tokio runtime
//! made by [`Kv::start`]): Redis I/O on its thread, embedded (blocking) I/O
//! on its blocking pool. An isolate thread only awaits the result, so a
//! slow store never holds an isolate thread or a proxy thread's poll.

pub(crate) mod embedded;
pub(crate) mod ops;
pub(crate) mod redis;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

/// Longest key, in UTF-8 bytes (as Workers).
pub const MAX_KEY_BYTES: usize = 512;
/// Largest value, in bytes (25 MiB, as Workers).
pub const MAX_VALUE_BYTES: usize = 25 * 1024 * 1024;
/// Longest metadata, serialised as JSON, in bytes (as Workers).
pub const MAX_METADATA_BYTES: usize = 1024;
/// Shortest `expirationTtl`, and how far ahead an `expiration` must be, in seconds.
pub const MIN_EXPIRATION_TTL: u64 = 60;
/// Most keys one `list()` returns (and its default).
pub const MAX_LIST_KEYS: usize = 1000;
/// Most keys one bulk `get()` asks for.
pub const MAX_BULK_KEYS: usize = 100;
/// KV operations allowed per request (Workers' limit).
pub const MAX_OPS_PER_REQUEST: u32 = 1000;
/// A value put as a `ReadableStream` goes to the store in pieces of this
/// size, each written as it fills ([`KvStore::stage`]), so a stream put
/// holds about one piece in the process, not the whole value.
pub const PIECE_BYTES: usize = 1024 * 1024;
/// Bound on one store operation, from the op's point of view (a Redis that
/// stopped answering, a disk that hangs): past it the op fails with
/// `KvError::Unavailable` and the script gets `KV ... failed: 503`.
pub const OP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A stored value with what was stored along with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvValue {
    /// The value's bytes.
    pub value: Bytes,
    /// The metadata as JSON text, if any was stored.
    pub metadata: Option<String>,
    /// When it expires, in seconds since the epoch.
    pub expiration: Option<u64>,
}

/// One key of a `list()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvListKey {
    /// The key.
    pub name: String,
    /// When it expires, in seconds since the epoch.
    pub expiration: Option<u64>,
    /// Its metadata as JSON text.
    pub metadata: Option<String>,
}

/// A page of keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KvList {
    /// Keys in lexicographic byte order.
    pub keys: Vec<KvListKey>,
    /// Where the next page starts; `None` when this page was the last.
    pub cursor: Option<String>,
}

/// A value whose pieces were staged ([`KvStore::stage`]) under `id`,
/// ready to be committed as a key's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The upload's id (random: unique across a fleet sharing a store).
    pub id: u64,
    /// Pieces staged, numbered `0..pieces`.
    pub pieces: u32,
    /// The metadata as JSON text, if any.
    pub metadata: Option<String>,
    /// When it expires, in seconds since the epoch.
    pub expiration: Option<u64>,
}

/// A fresh upload id: random, so instances sharing a Redis never collide.
pub fn upload_id() -> u64 {
    let mut b = [0u8; 8];
    // (On the off chance the OS has no randomness: time and a counter.)
    if getrandom::fill(&mut b).is_err() {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        return t
            ^ N.fetch_add(1, std::sync::atomic::Ordering::Relaxed).rotate_left(48)
            ^ u64::from(std::process::id());
    }
    u64::from_le_bytes(b)
}

/// What a `list()` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Only keys starting with this.
    pub prefix: String,
    /// At most this many keys (1..=[`MAX_LIST_KEYS`]).
    pub limit: usize,
    /// A cursor from the previous page.
    pub cursor: Option<String>,
}

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KvError {
    /// The store could not be reached or refused the operation (Redis
    /// down, a disk error). The operation may be retried.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A list cursor this store did not make.
    #[error("invalid cursor")]
    BadCursor,
    /// The store was opened from a configuration that cannot work.
    #[error("{0}")]
    Config(String),
}

/// A store operation in flight.
pub type KvFuture<T> = Pin<Box<dyn Future<Output = Result<T, KvError>> + Send + 'static>>;

/// A Workers KV store: namespaces of keys, each key a value with optional
/// metadata and expiry. Expired keys are never returned. Keys are listed in
/// lexicographic order of their UTF-8 bytes. Every method runs on the
/// store's runtime ([`Kv`]); an implementation may block only inside
/// `spawn_blocking`.
pub trait KvStore: Send + Sync + 'static {
    /// The value of `key` in `namespace` with its metadata, or `None`.
    fn get(&self, namespace: &str, key: &str) -> KvFuture<Option<KvValue>>;
    /// The values of `keys`, in order (`None` for missing ones).
    fn get_many(&self, namespace: &str, keys: Vec<String>) -> KvFuture<Vec<Option<KvValue>>>;
    /// Stores `value` under `key`, replacing what was there. Acknowledged
    /// (the future resolves `Ok`) only once it is durable in the store.
    fn put(&self, namespace: &str, key: &str, value: KvValue) -> KvFuture<()>;
    /// Removes `key` (no error if it is absent).
    fn delete(&self, namespace: &str, key: &str) -> KvFuture<()>;
    /// A page of keys after the query's cursor.
    fn list(&self, namespace: &str, query: ListQuery) -> KvFuture<KvList>;
    /// Stores piece `index` of upload `upload` where no reader sees it
    /// (pieces come in order, from 0).
    fn stage(&self, upload: u64, index: u32, piece: Bytes) -> KvFuture<()>;
    /// Makes the staged pieces of `upload` the value of `key`, replacing
    /// the old value, in one atomic step: a reader sees the old value or
    /// the whole new one. Acknowledged only once durable.
    fn commit(&self, namespace: &str, key: &str, upload: Upload) -> KvFuture<()>;
    /// Drops the staged pieces of an upload that will not be committed.
    fn discard(&self, upload: u64) -> KvFuture<()>;
}

/// Seconds since the epoch, now.
pub fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Whether an entry expiring at `expiration` is gone at `now`.
pub(crate) fn expired(expiration: Option<u64>, now: u64) -> bool {
    expiration.is_some_and(|e| e <= now)
}

/// A cursor for the page after `last`: its key in hex (opaque to scripts,
/// bounded: at most 1024 characters).
pub(crate) fn cursor_for(last: &str) -> String {
    let mut out = String::with_capacity(last.len() * 2);
    for b in last.bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The key a cursor names (the last key of the page it ended).
pub(crate) fn key_of_cursor(cursor: &str) -> Result<String, KvError> {
    if !cursor.len().is_multiple_of(2) || cursor.len() > 2 * MAX_KEY_BYTES {
        return Err(KvError::BadCursor);
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| KvError::BadCursor)?;
    String::from_utf8(bytes).map_err(|_| KvError::BadCursor)
}

/// Where the process's KV data lives (`[storage] kv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvBackend {
    /// A redb file, `kv.redb`, in this directory (created if missing).
    Embedded {
        /// The data directory.
        data_dir: PathBuf,
    },
    /// A Redis server, by its `redis://` URL.
    Redis {
        /// The URL (may carry a password: never logged whole).
        url: String,
    },
}

/// The process's KV store and the runtime its operations run on.
pub struct Kv {
    store: Arc<dyn KvStore>,
    rt: tokio::runtime::Handle,
    backend: KvBackend,
    // Owns the runtime's threads (never dropped while the process runs).
    _rt: Arc<tokio::runtime::Runtime>,
}

impl Kv {
    /// Opens `backend` with its own runtime: one I/O thread, blocking work
    /// on its pool. The embedded file is opened (and created) now; Redis is
    /// connected on first use and reconnected after failures.
    pub fn start(backend: &KvBackend) -> Result<Kv, KvError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(8)
            .thread_name("isoproxy-kv")
            .enable_all()
            .build()
            .map_err(|e| KvError::Config(format!("cannot start the KV runtime: {e}")))?;
        let store: Arc<dyn KvStore> = match backend {
            KvBackend::Embedded { data_dir } => Arc::new(embedded::EmbeddedStore::open(data_dir)?),
            KvBackend::Redis { url } => {
                let _guard = rt.enter();
                Arc::new(redis::RedisStore::new(url)?)
            }
        };
        Ok(Kv {
            store,
            rt: rt.handle().clone(),
            backend: backend.clone(),
            _rt: Arc::new(rt),
        })
    }

    /// Runs `op` on the store's runtime and waits for it from any thread.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&dyn KvStore) -> KvFuture<T>,
    ) -> impl Future<Output = Result<T, KvError>> + 'static {
        let fut = op(&*self.store);
        // The bound runs on the store's runtime, so the task ends (and lets
        // go of what it holds) even if nobody awaits it any more.
        let task = self.rt.spawn(async move {
            match tokio::time::timeout(OP_TIMEOUT, fut).await {
                Ok(r) => r,
                Err(_) => Err(KvError::Unavailable(format!(
                    "no answer within {} s",
                    OP_TIMEOUT.as_secs()
                ))),
            }
        });
        async move {
            match task.await {
                Ok(r) => r,
                Err(e) => Err(KvError::Unavailable(format!("the store's task failed: {e}"))),
            }
        }
    }

    /// The store itself (for the embedder's own checks and tests).
    pub fn store(&self) -> Arc<dyn KvStore> {
        self.store.clone()
    }
}

/// The process's store, once opened.
static KV: OnceLock<Arc<Kv>> = OnceLock::new();
/// Serialises [`install`] (opening a file twice would fail on its lock).
static OPENING: Mutex<()> = Mutex::new(());

/// Opens the process's KV store from `backend` unless it is open already.
/// The backend is fixed for the life of the process (`[storage]` changes
/// need a restart): asking for a different one is an error.
pub fn install(backend: &KvBackend) -> Result<Arc<Kv>, KvError> {
    let _one = OPENING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(kv) = KV.get() {
        if &kv.backend != backend {
            return Err(KvError::Config(
                "[storage] changed; KV storage changes take effect on restart".into(),
            ));
        }
        return Ok(kv.clone());
    }
    let kv = Arc::new(Kv::start(backend)?);
    let _ = KV.set(kv.clone());
    Ok(kv)
}

/// Whether [`install`] has opened the process's store.
pub fn is_installed() -> bool {
    KV.get().is_some()
}

/// The process's store, if [`install`] opened one.
pub(crate) fn installed() -> Option<Arc<Kv>> {
    KV.get().cloned()
}

/// A worker's binding of a KV namespace: `env.BINDING` is namespace `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvBinding {
    /// The `env` property.
    pub binding: String,
    /// The namespace id (the store's namespace).
    pub id: String,
}

/// Whether `id` may name a namespace: 1 to 64 ASCII letters, digits, `-`,
/// `_` or `.` (the stores use it in key prefixes and file keys).
pub fn valid_namespace_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests;
