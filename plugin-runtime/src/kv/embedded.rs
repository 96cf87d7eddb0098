//! The embedded KV store: one redb file (`kv.redb` in the data directory),
//! copy-on-write B-trees committed with an fsync (redb's default
//! `Durability::Immediate`), so a put acknowledged to the script survives a
//! crash or `kill -9`. One table; a row's key is `namespace \0 key` (ids
//! never hold a NUL: [`super::valid_namespace_id`]), so a namespace's rows
//! are contiguous and in the keys' byte order. A row's value is
//! `expiration u64 LE (0: none) | metadata length u32 LE | metadata | value`.
//! Expired rows are skipped on read and deleted afterwards (lazily).
//! Every call runs on the runtime's blocking pool.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{KvError, KvFuture, KvList, KvListKey, KvStore, KvValue, ListQuery, cursor_for, expired, now_s};

const TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kv");

/// The file in the data directory.
pub const FILE_NAME: &str = "kv.redb";

/// The embedded store.
pub struct EmbeddedStore {
    db: Arc<Database>,
}

fn unavailable(e: impl std::fmt::Display) -> KvError {
    KvError::Unavailable(e.to_string())
}

fn row_key(namespace: &str, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(namespace.len() + 1 + key.len());
    k.extend_from_slice(namespace.as_bytes());
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k
}

fn encode(v: &KvValue) -> Vec<u8> {
    let meta = v.metadata.as_deref().unwrap_or("").as_bytes();
    let mut out = Vec::with_capacity(12 + meta.len() + v.value.len());
    out.extend_from_slice(&v.expiration.unwrap_or(0).to_le_bytes());
    // (Metadata is at most MAX_METADATA_BYTES: checked by the op.)
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(meta);
    out.extend_from_slice(&v.value);
    out
}

/// (expiration, metadata, value offset) of a stored row.
fn decode_head(row: &[u8]) -> Option<(Option<u64>, Option<String>, usize)> {
    let exp = u64::from_le_bytes(row.get(0..8)?.try_into().ok()?);
    let mlen = u32::from_le_bytes(row.get(8..12)?.try_into().ok()?) as usize;
    let meta = row.get(12..12 + mlen)?;
    let meta = (mlen > 0).then(|| String::from_utf8_lossy(meta).into_owned());
    Some(((exp != 0).then_some(exp), meta, 12 + mlen))
}

fn decode(row: &[u8]) -> Option<KvValue> {
    let (expiration, metadata, at) = decode_head(row)?;
    Some(KvValue {
        value: Bytes::copy_from_slice(row.get(at..)?),
        metadata,
        expiration,
    })
}

impl EmbeddedStore {
    /// Opens (or creates) `data_dir/kv.redb`, creating the directory. Fails
    /// if another process has the file open.
    pub fn open(data_dir: &Path) -> Result<EmbeddedStore, KvError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| KvError::Config(format!("cannot create {}: {e}", data_dir.display())))?;
        let path = data_dir.join(FILE_NAME);
        let db =
            Database::create(&path).map_err(|e| KvError::Config(format!("cannot open {}: {e}", path.display())))?;
        // The table exists from now on, so readers never find it missing.
        let txn = db.begin_write().map_err(unavailable)?;
        txn.open_table(TABLE).map_err(unavailable)?;
        txn.commit().map_err(unavailable)?;
        Ok(EmbeddedStore { db: Arc::new(db) })
    }

    fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, KvError> + Send + 'static,
    ) -> KvFuture<T> {
        let db = self.db.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || f(&db))
                .await
                .map_err(|e| KvError::Unavailable(format!("the store's task failed: {e}")))?
        })
    }
}

/// Deletes rows that were found expired, unless they were replaced meanwhile.
fn purge(db: &Database, rows: &[Vec<u8>]) -> Result<(), KvError> {
    if rows.is_empty() {
        return Ok(());
    }
    let now = now_s();
    let txn = db.begin_write().map_err(unavailable)?;
    {
        let mut table = txn.open_table(TABLE).map_err(unavailable)?;
        for k in rows {
            let gone = match table.get(k.as_slice()).map_err(unavailable)? {
                Some(row) => decode_head(row.value()).is_none_or(|(exp, _, _)| expired(exp, now)),
                None => false,
            };
            if gone {
                table.remove(k.as_slice()).map_err(unavailable)?;
            }
        }
    }
    txn.commit().map_err(unavailable)
}

fn get_rows(db: &Database, namespace: &str, keys: &[String]) -> Result<Vec<Option<KvValue>>, KvError> {
    let now = now_s();
    let mut stale = Vec::new();
    let out = {
        let txn = db.begin_read().map_err(unavailable)?;
        let table = txn.open_table(TABLE).map_err(unavailable)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let rk = row_key(namespace, key);
            let found = table.get(rk.as_slice()).map_err(unavailable)?;
            let value = found.and_then(|row| decode(row.value()));
            match value {
                Some(v) if expired(v.expiration, now) => {
                    stale.push(rk);
                    out.push(None);
                }
                v => out.push(v),
            }
        }
        out
    };
    purge(db, &stale)?;
    Ok(out)
}

fn list_rows(db: &Database, namespace: &str, query: &ListQuery) -> Result<KvList, KvError> {
    let now = now_s();
    let base = row_key(namespace, &query.prefix);
    let start = match &query.cursor {
        Some(c) => {
            let after = super::key_of_cursor(c)?;
            // Strictly after the cursor's key: that key plus a NUL byte is
            // the next possible key.
            let mut k = row_key(namespace, &after);
            k.push(0);
            k.max(base.clone())
        }
        None => base.clone(),
    };
    let mut keys = Vec::new();
    let mut stale = Vec::new();
    let mut more = false;
    {
        let txn = db.begin_read().map_err(unavailable)?;
        let table = txn.open_table(TABLE).map_err(unavailable)?;
        let range = table.range::<&[u8]>(start.as_slice()..).map_err(unavailable)?;
        let skip = namespace.len() + 1;
        for item in range {
            let (k, v) = item.map_err(unavailable)?;
            let k = k.value();
            if !k.starts_with(&base) {
                break;
            }
            let Some((expiration, metadata, _)) = decode_head(v.value()) else {
                continue;
            };
            if expired(expiration, now) {
                stale.push(k.to_vec());
                continue;
            }
            if keys.len() == query.limit {
                more = true;
                break;
            }
            keys.push(KvListKey {
                name: String::from_utf8_lossy(&k[skip..]).into_owned(),
                expiration,
                metadata,
            });
        }
    }
    purge(db, &stale)?;
    let cursor = if more {
        keys.last().map(|k| cursor_for(&k.name))
    } else {
        None
    };
    Ok(KvList { keys, cursor })
}

impl KvStore for EmbeddedStore {
    fn get(&self, namespace: &str, key: &str) -> KvFuture<Option<KvValue>> {
        let (ns, key) = (namespace.to_owned(), key.to_owned());
        self.blocking(move |db| Ok(get_rows(db, &ns, &[key])?.pop().flatten()))
    }

    fn get_many(&self, namespace: &str, keys: Vec<String>) -> KvFuture<Vec<Option<KvValue>>> {
        let ns = namespace.to_owned();
        self.blocking(move |db| get_rows(db, &ns, &keys))
    }

    fn put(&self, namespace: &str, key: &str, value: KvValue) -> KvFuture<()> {
        let rk = row_key(namespace, key);
        self.blocking(move |db| {
            let row = encode(&value);
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut table = txn.open_table(TABLE).map_err(unavailable)?;
                table.insert(rk.as_slice(), row.as_slice()).map_err(unavailable)?;
            }
            // Durability::Immediate (the default): fsync'd when this returns.
            txn.commit().map_err(unavailable)
        })
    }

    fn delete(&self, namespace: &str, key: &str) -> KvFuture<()> {
        let rk = row_key(namespace, key);
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut table = txn.open_table(TABLE).map_err(unavailable)?;
                table.remove(rk.as_slice()).map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)
        })
    }

    fn list(&self, namespace: &str, query: ListQuery) -> KvFuture<KvList> {
        let ns = namespace.to_owned();
        self.blocking(move |db| list_rows(db, &ns, &query))
    }
}
