//! The embedded KV store: one redb file (`kv.redb` in the data directory),
//! copy-on-write B-trees committed with an fsync (redb's default
//! `Durability::Immediate`), so a put acknowledged to the script survives a
//! crash or `kill -9`. One table; a row's key is `namespace \0 key` (ids
//! never hold a NUL: [`super::valid_namespace_id`]), so a namespace's rows
//! are contiguous and in the keys' byte order. A row's value is
//! `expiration u64 LE (0: none) | metadata length u32 LE | metadata | value`.
//! A value put as a stream is stored in pieces instead: each piece is its
//! own row of `kv_pieces`, keyed `(upload, index)`, committed as it arrives
//! without an fsync (`Durability::None`) and listed in `kv_uploads` until
//! the put ends; the put's last commit (fsync'd) writes the key's row,
//! `expiration | metadata length with bit 31 set | metadata | upload u64 LE
//! | pieces u32 LE`, drops the upload from `kv_uploads` and the old value's
//! pieces, all in one transaction. An abandoned put's pieces are dropped at
//! once, and at the next open for a put cut by a crash (whatever is still
//! in `kv_uploads` then). Expired rows are skipped on read and deleted
//! afterwards (lazily), with their pieces. Every call runs on the runtime's
//! blocking pool. The page cache is bounded ([`CACHE_BYTES`]), not redb's
//! default 1 GiB.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::{KvError, KvFuture, KvList, KvListKey, KvStore, KvValue, ListQuery, Upload, cursor_for, expired, now_s};

const TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kv");
/// Pieces of streamed values: `(upload, index)` -> bytes.
const PIECES: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("kv_pieces");
/// Uploads in progress: upload -> pieces staged so far.
const UPLOADS: TableDefinition<u64, u32> = TableDefinition::new("kv_uploads");
/// Bit 31 of the metadata length: the row's value is in pieces.
const IN_PIECES: u32 = 1 << 31;
/// redb's page cache (reads and writes); its default is 1 GiB.
pub const CACHE_BYTES: usize = 4 * 1024 * 1024;

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

/// Where a row's value is.
#[derive(Clone, Copy)]
enum Body {
    /// In the row, from this offset.
    Inline(usize),
    /// In `count` rows of [`PIECES`] under `upload`.
    Pieces { upload: u64, count: u32 },
}

/// A stored row's expiration, metadata and where its value is.
fn decode_head(row: &[u8]) -> Option<(Option<u64>, Option<String>, Body)> {
    let exp = u64::from_le_bytes(row.get(0..8)?.try_into().ok()?);
    let mword = u32::from_le_bytes(row.get(8..12)?.try_into().ok()?);
    let mlen = (mword & !IN_PIECES) as usize;
    let meta = row.get(12..12 + mlen)?;
    let meta = (mlen > 0).then(|| String::from_utf8_lossy(meta).into_owned());
    let at = 12 + mlen;
    let body = if mword & IN_PIECES != 0 {
        let upload = u64::from_le_bytes(row.get(at..at + 8)?.try_into().ok()?);
        let count = u32::from_le_bytes(row.get(at + 8..at + 12)?.try_into().ok()?);
        Body::Pieces { upload, count }
    } else {
        Body::Inline(at)
    };
    Some(((exp != 0).then_some(exp), meta, body))
}

/// The pieces of the value in `row`, if it is stored in pieces.
fn pieces_of(row: &[u8]) -> Option<(u64, u32)> {
    match decode_head(row)?.2 {
        Body::Pieces { upload, count } => Some((upload, count)),
        Body::Inline(_) => None,
    }
}

/// The row of a value stored in pieces.
fn encode_pieces(metadata: Option<&str>, expiration: Option<u64>, upload: u64, count: u32) -> Vec<u8> {
    let meta = metadata.unwrap_or("").as_bytes();
    let mut out = Vec::with_capacity(24 + meta.len());
    out.extend_from_slice(&expiration.unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&(meta.len() as u32 | IN_PIECES).to_le_bytes());
    out.extend_from_slice(meta);
    out.extend_from_slice(&upload.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out
}

/// Removes pieces `0..count` of `upload`.
fn drop_pieces(txn: &WriteTransaction, upload: u64, count: u32) -> Result<(), KvError> {
    let mut pieces = txn.open_table(PIECES).map_err(unavailable)?;
    for i in 0..count {
        pieces.remove((upload, i)).map_err(unavailable)?;
    }
    Ok(())
}

/// Writes `row` under `rk` (or removes `rk` when `row` is `None`), dropping
/// the pieces of the value it replaces.
fn replace_row(txn: &WriteTransaction, rk: &[u8], row: Option<&[u8]>) -> Result<(), KvError> {
    let old = {
        let mut table = txn.open_table(TABLE).map_err(unavailable)?;
        let old = match row {
            Some(row) => table.insert(rk, row).map_err(unavailable)?,
            None => table.remove(rk).map_err(unavailable)?,
        };
        old.and_then(|o| pieces_of(o.value()))
    };
    if let Some((upload, count)) = old {
        drop_pieces(txn, upload, count)?;
    }
    Ok(())
}

/// Reads the value of a row (its pieces, in the same read transaction).
fn read_value(txn: &redb::ReadTransaction, row: &[u8]) -> Result<Option<KvValue>, KvError> {
    let Some((expiration, metadata, body)) = decode_head(row) else {
        return Ok(None);
    };
    let value = match body {
        Body::Inline(at) => Bytes::copy_from_slice(row.get(at..).unwrap_or_default()),
        Body::Pieces { upload, count } => {
            let pieces = txn.open_table(PIECES).map_err(unavailable)?;
            let mut out = Vec::new();
            for i in 0..count {
                let piece = pieces
                    .get((upload, i))
                    .map_err(unavailable)?
                    .ok_or_else(|| KvError::Unavailable(format!("piece {i} of a value is missing")))?;
                if out.is_empty() {
                    out.reserve(piece.value().len() * count as usize);
                }
                out.extend_from_slice(piece.value());
            }
            Bytes::from(out)
        }
    };
    Ok(Some(KvValue {
        value,
        metadata,
        expiration,
    }))
}

impl EmbeddedStore {
    /// Opens (or creates) `data_dir/kv.redb`, creating the directory. Fails
    /// if another process has the file open.
    pub fn open(data_dir: &Path) -> Result<EmbeddedStore, KvError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| KvError::Config(format!("cannot create {}: {e}", data_dir.display())))?;
        let path = data_dir.join(FILE_NAME);
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| KvError::Config(format!("cannot open {}: {e}", path.display())))?;
        // The tables exist from now on, so readers never find them missing;
        // uploads a crash cut short go, with their pieces.
        let txn = db.begin_write().map_err(unavailable)?;
        txn.open_table(TABLE).map_err(unavailable)?;
        {
            let mut uploads = txn.open_table(UPLOADS).map_err(unavailable)?;
            let mut cut = Vec::new();
            for item in uploads.iter().map_err(unavailable)? {
                let (u, n) = item.map_err(unavailable)?;
                cut.push((u.value(), n.value()));
            }
            for (upload, count) in cut {
                uploads.remove(upload).map_err(unavailable)?;
                drop_pieces(&txn, upload, count)?;
            }
        }
        txn.open_table(PIECES).map_err(unavailable)?;
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
    for k in rows {
        let gone = {
            let table = txn.open_table(TABLE).map_err(unavailable)?;
            match table.get(k.as_slice()).map_err(unavailable)? {
                Some(row) => decode_head(row.value()).is_none_or(|(exp, _, _)| expired(exp, now)),
                None => false,
            }
        };
        if gone {
            replace_row(&txn, k, None)?;
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
            let value = match table.get(rk.as_slice()).map_err(unavailable)? {
                Some(row) => match decode_head(row.value()) {
                    // Expired: not read (its pieces neither).
                    Some((exp, metadata, _)) if expired(exp, now) => Some(KvValue {
                        value: Bytes::new(),
                        metadata,
                        expiration: exp,
                    }),
                    _ => read_value(&txn, row.value())?,
                },
                None => None,
            };
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
            drop(value);
            let txn = db.begin_write().map_err(unavailable)?;
            replace_row(&txn, &rk, Some(&row))?;
            // Durability::Immediate (the default): fsync'd when this returns.
            txn.commit().map_err(unavailable)
        })
    }

    fn delete(&self, namespace: &str, key: &str) -> KvFuture<()> {
        let rk = row_key(namespace, key);
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            replace_row(&txn, &rk, None)?;
            txn.commit().map_err(unavailable)
        })
    }

    fn list(&self, namespace: &str, query: ListQuery) -> KvFuture<KvList> {
        let ns = namespace.to_owned();
        self.blocking(move |db| list_rows(db, &ns, &query))
    }

    fn stage(&self, upload: u64, index: u32, piece: Bytes) -> KvFuture<()> {
        self.blocking(move |db| {
            let mut txn = db.begin_write().map_err(unavailable)?;
            // Not fsync'd: the put's last commit makes it durable (redb
            // persists earlier non-durable commits with a durable one).
            txn.set_durability(Durability::None).map_err(unavailable)?;
            {
                let mut uploads = txn.open_table(UPLOADS).map_err(unavailable)?;
                uploads.insert(upload, index + 1).map_err(unavailable)?;
                let mut pieces = txn.open_table(PIECES).map_err(unavailable)?;
                pieces.insert((upload, index), piece.as_ref()).map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)
        })
    }

    fn commit(&self, namespace: &str, key: &str, upload: Upload) -> KvFuture<()> {
        let rk = row_key(namespace, key);
        self.blocking(move |db| {
            let row = encode_pieces(upload.metadata.as_deref(), upload.expiration, upload.id, upload.pieces);
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut uploads = txn.open_table(UPLOADS).map_err(unavailable)?;
                let staged = uploads.remove(upload.id).map_err(unavailable)?.map(|n| n.value());
                if staged != Some(upload.pieces) {
                    return Err(KvError::Unavailable(format!(
                        "upload has {staged:?} pieces staged, not {}",
                        upload.pieces
                    )));
                }
            }
            replace_row(&txn, &rk, Some(&row))?;
            txn.commit().map_err(unavailable)
        })
    }

    fn discard(&self, upload: u64) -> KvFuture<()> {
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            let staged = {
                let mut uploads = txn.open_table(UPLOADS).map_err(unavailable)?;
                uploads.remove(upload).map_err(unavailable)?.map(|n| n.value())
            };
            if let Some(count) = staged {
                drop_pieces(&txn, upload, count)?;
            }
            txn.commit().map_err(unavailable)
        })
    }
}
