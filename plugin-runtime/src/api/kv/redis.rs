//! The Redis KV store, for fleets: every instance pointed at one server sees
//! the others' writes. Per namespace `NS`, key `K`:
//!
//! - `isoproxy:kv:NS:v:K`, a hash: `v` the value, `m` the metadata JSON,
//!   `e` the expiration (seconds since the epoch), with the same expiry as
//!   a Redis TTL (`EXPIREAT`), so Redis drops it on time by itself;
//! - `isoproxy:kv:NS:i`, a sorted set of the namespace's keys, all scored
//!   0, so `ZRANGEBYLEX` walks them in byte order for `list()`.
//! - `isoproxy:kv:NS:x`, a sorted set of the keys that expire, scored by
//!   their expiration: every put and delete also sweeps (a bounded
//!   [`SWEEP`] per call) the names whose time passed out of both sets, so a
//!   namespace that is never listed does not keep the names of keys Redis
//!   expired.
//!
//! A put or delete changes both in one `MULTI`/`EXEC`; `list()` is one Lua
//! script that skips (and removes from the index) keys whose hash expired.
//! A value put as a stream arrives in pieces: each is written as it comes
//! into `isoproxy:kv-upload:ID` (a hash, field `0`, `1`, ...; an hour's TTL in
//! case the instance dies), and the put ends with one Lua script that checks
//! every piece is there, `RENAME`s the upload over the key's hash (the old
//! value goes in the same step) and adds `n` (the piece count), `m`, `e`
//! and the index entry. Readers take a key's hash whole (`HGETALL`), so
//! they see the old value or the new one, never a mix.
//! Namespace ids hold no `:` ([`super::valid_namespace_id`]), so prefixes
//! never overlap. One multiplexed connection (redis' `ConnectionManager`):
//! connected on first use, reconnected after a failure; while the server is
//! away each operation fails at once or after the response timeout.
//!
//! Timeouts: connecting 2 s, each command's answer 5 s ([`RESPONSE_TIMEOUT`];
//! a paused or overloaded server), reconnection retried twice with at most
//! 500 ms between tries; and any whole operation 10 s ([`super::OP_TIMEOUT`]).

use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{KvError, KvFuture, KvList, KvListKey, KvStore, KvValue, ListQuery, Upload, cursor_for, expired, now_s};

/// Bound on connecting (TCP and the handshake).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Bound on each command's answer.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an upload's staged pieces live if their put never ends.
const UPLOAD_TTL_S: u64 = 3600;

/// Commits an upload: KEYS[1] the upload, KEYS[2] the key's hash, KEYS[3]
/// the index, KEYS[4] the expiry set; ARGV: piece count, key name,
/// metadata ('' none), expiration ('' none).
const COMMIT_SCRIPT: &str = r#"
if redis.call('HLEN', KEYS[1]) ~= tonumber(ARGV[1]) then
  return redis.error_reply('upload incomplete')
end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('PERSIST', KEYS[2])
redis.call('HSET', KEYS[2], 'n', ARGV[1])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], 'm', ARGV[3]) end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], 'e', ARGV[4])
  redis.call('EXPIREAT', KEYS[2], ARGV[4])
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
else
  redis.call('ZREM', KEYS[4], ARGV[2])
end
redis.call('ZADD', KEYS[3], 0, ARGV[2])
return 1
"#;

fn upload_key(upload: u64) -> String {
    format!("isoproxy:kv-upload:{upload:016x}")
}

/// The Redis store.
pub struct RedisStore {
    conn: ConnectionManager,
}

fn unavailable(e: redis::RedisError) -> KvError {
    KvError::Unavailable(format!("redis: {e}"))
}

fn value_key(namespace: &str, key: &str) -> Vec<u8> {
    let mut k = format!("isoproxy:kv:{namespace}:v:").into_bytes();
    k.extend_from_slice(key.as_bytes());
    k
}

fn index_key(namespace: &str) -> String {
    format!("isoproxy:kv:{namespace}:i")
}

fn expiry_key(namespace: &str) -> String {
    format!("isoproxy:kv:{namespace}:x")
}

/// Most expired names one put or delete sweeps out of the index.
const SWEEP: u32 = 128;

/// KEYS[1] the index, KEYS[2] the expiry set; ARGV: now, most names.
/// Names whose latest put expires at or before now leave both sets (their
/// hash is gone: Redis expired it at that time).
const SWEEP_SCRIPT: &str = r#"
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #gone > 0 then
  redis.call('ZREM', KEYS[1], unpack(gone))
  redis.call('ZREM', KEYS[2], unpack(gone))
end
return #gone
"#;

/// Adds the sweep of `namespace` to `pipe`.
fn sweep(pipe: &mut redis::Pipeline, namespace: &str) {
    pipe.cmd("EVAL")
        .arg(SWEEP_SCRIPT)
        .arg(2)
        .arg(index_key(namespace))
        .arg(expiry_key(namespace))
        .arg(now_s())
        .arg(SWEEP)
        .ignore();
}

/// `list()`: KEYS[1] the index, KEYS[2] the expiry set; ARGV: value-key prefix, min, max (ZRANGEBYLEX
/// bounds), limit, now. Returns name, expiration ('' if none), metadata
/// ('' if none) for up to limit + 1 live keys (the extra one says there is
/// a next page); keys whose hash is gone or expired leave the index.
const LIST_SCRIPT: &str = r#"
local idx, prefix, min, max = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local limit, now = tonumber(ARGV[4]), tonumber(ARGV[5])
local out, found = {}, 0
while found <= limit do
  local batch = redis.call('ZRANGEBYLEX', idx, min, max, 'LIMIT', 0, limit + 1 - found)
  if #batch == 0 then break end
  for _, name in ipairs(batch) do
    min = '(' .. name
    local vk = prefix .. name
    local r = redis.call('HMGET', vk, 'e', 'm')
    if redis.call('EXISTS', vk) == 0 then
      redis.call('ZREM', idx, name)
      redis.call('ZREM', KEYS[2], name)
    elseif r[1] and tonumber(r[1]) <= now then
      redis.call('DEL', vk)
      redis.call('ZREM', idx, name)
      redis.call('ZREM', KEYS[2], name)
    else
      found = found + 1
      out[#out + 1] = name
      out[#out + 1] = r[1] or ''
      out[#out + 1] = r[2] or ''
      if found > limit then break end
    end
  end
end
return out
"#;

impl RedisStore {
    /// A store for the server at `url` (`redis://HOST:PORT/DB`); nothing is
    /// connected yet. Must be called inside the KV runtime.
    pub fn new(url: &str) -> Result<RedisStore, KvError> {
        let client = redis::Client::open(url).map_err(|e| KvError::Config(format!("invalid Redis URL: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| KvError::Config(format!("Redis: {e}")))?;
        Ok(RedisStore { conn })
    }
}

/// A key's hash, as `HGETALL` gives it.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// The value in a key's hash (`v`, or pieces `0..n`), unless it expired.
fn value_of(fields: Fields, now: u64) -> Result<Option<KvValue>, KvError> {
    if fields.is_empty() {
        return Ok(None);
    }
    let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    let (mut value, mut metadata, mut expiration, mut count) = (None, None, None, None);
    let mut pieces = Vec::new();
    for (f, v) in fields {
        match f.as_slice() {
            b"v" => value = Some(v),
            b"m" => metadata = Some(text(&v)).filter(|m| !m.is_empty()),
            b"e" => expiration = text(&v).parse::<u64>().ok(),
            b"n" => count = text(&v).parse::<usize>().ok(),
            f => {
                if let Ok(i) = text(f).parse::<usize>() {
                    pieces.push((i, v));
                }
            }
        }
    }
    if expired(expiration, now) {
        return Ok(None);
    }
    let value = match (value, count) {
        (Some(v), _) => v,
        (None, Some(n)) => {
            pieces.sort_by_key(|(i, _)| *i);
            if pieces.len() != n || pieces.iter().enumerate().any(|(j, (i, _))| *i != j) {
                return Err(KvError::Unavailable("a value's pieces are missing".into()));
            }
            let mut out = Vec::with_capacity(pieces.iter().map(|(_, p)| p.len()).sum());
            for (_, p) in pieces {
                out.extend_from_slice(&p);
            }
            out
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(KvValue {
        value: Bytes::from(value),
        metadata,
        expiration,
    }))
}

impl KvStore for RedisStore {
    fn get(&self, namespace: &str, key: &str) -> KvFuture<Option<KvValue>> {
        let mut conn = self.conn.clone();
        let vk = value_key(namespace, key);
        Box::pin(async move {
            let fields: Fields = redis::cmd("HGETALL")
                .arg(&vk)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            value_of(fields, now_s())
        })
    }

    fn get_many(&self, namespace: &str, keys: Vec<String>) -> KvFuture<Vec<Option<KvValue>>> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        for key in &keys {
            pipe.cmd("HGETALL").arg(value_key(namespace, key));
        }
        Box::pin(async move {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let rows: Vec<Fields> = pipe.query_async(&mut conn).await.map_err(unavailable)?;
            let now = now_s();
            rows.into_iter().map(|r| value_of(r, now)).collect()
        })
    }

    fn put(&self, namespace: &str, key: &str, value: KvValue) -> KvFuture<()> {
        let mut conn = self.conn.clone();
        let vk = value_key(namespace, key);
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("DEL").arg(&vk).ignore();
        let hset = pipe.cmd("HSET").arg(&vk).arg("v").arg(value.value.as_ref());
        if let Some(m) = &value.metadata {
            hset.arg("m").arg(m);
        }
        if let Some(e) = value.expiration {
            hset.arg("e").arg(e);
        }
        hset.ignore();
        if let Some(e) = value.expiration {
            pipe.cmd("EXPIREAT").arg(&vk).arg(e).ignore();
        }
        pipe.cmd("ZADD")
            .arg(index_key(namespace))
            .arg(0)
            .arg(key.as_bytes())
            .ignore();
        match value.expiration {
            Some(e) => pipe.cmd("ZADD").arg(expiry_key(namespace)).arg(e).arg(key.as_bytes()),
            None => pipe.cmd("ZREM").arg(expiry_key(namespace)).arg(key.as_bytes()),
        }
        .ignore();
        sweep(&mut pipe, namespace);
        Box::pin(async move {
            let () = pipe.query_async(&mut conn).await.map_err(unavailable)?;
            Ok(())
        })
    }

    fn delete(&self, namespace: &str, key: &str) -> KvFuture<()> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("DEL")
            .arg(value_key(namespace, key))
            .ignore()
            .cmd("ZREM")
            .arg(index_key(namespace))
            .arg(key.as_bytes())
            .ignore()
            .cmd("ZREM")
            .arg(expiry_key(namespace))
            .arg(key.as_bytes())
            .ignore();
        sweep(&mut pipe, namespace);
        Box::pin(async move {
            let () = pipe.query_async(&mut conn).await.map_err(unavailable)?;
            Ok(())
        })
    }

    fn list(&self, namespace: &str, query: ListQuery) -> KvFuture<KvList> {
        let mut conn = self.conn.clone();
        let index = index_key(namespace);
        let expiry = expiry_key(namespace);
        let prefix = value_key(namespace, "");
        Box::pin(async move {
            let after = query.cursor.as_deref().map(super::key_of_cursor).transpose()?;
            let min: Vec<u8> = match after {
                Some(a) if a.as_str() >= query.prefix.as_str() => [b"(", a.as_bytes()].concat(),
                _ => [b"[", query.prefix.as_bytes()].concat(),
            };
            // No UTF-8 key holds a 0xFF byte: prefix + 0xFF is above every
            // key that starts with the prefix.
            let max: Vec<u8> = if query.prefix.is_empty() {
                b"+".to_vec()
            } else {
                [b"[", query.prefix.as_bytes(), &[0xff]].concat()
            };
            let flat: Vec<Vec<u8>> = redis::cmd("EVAL")
                .arg(LIST_SCRIPT)
                .arg(2)
                .arg(&index)
                .arg(&expiry)
                .arg(&prefix)
                .arg(min)
                .arg(max)
                .arg(query.limit)
                .arg(now_s())
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            let mut keys = Vec::with_capacity(flat.len() / 3);
            for row in flat.chunks_exact(3) {
                let name = String::from_utf8_lossy(&row[0]).into_owned();
                let expiration = std::str::from_utf8(&row[1]).ok().and_then(|s| s.parse().ok());
                let metadata = (!row[2].is_empty()).then(|| String::from_utf8_lossy(&row[2]).into_owned());
                keys.push(KvListKey {
                    name,
                    expiration,
                    metadata,
                });
            }
            let more = keys.len() > query.limit;
            keys.truncate(query.limit);
            let cursor = if more {
                keys.last().map(|k| cursor_for(&k.name))
            } else {
                None
            };
            Ok(KvList { keys, cursor })
        })
    }

    fn stage(&self, upload: u64, index: u32, piece: Bytes) -> KvFuture<()> {
        let mut conn = self.conn.clone();
        let up = upload_key(upload);
        let mut pipe = redis::pipe();
        pipe.cmd("HSET")
            .arg(&up)
            .arg(index)
            .arg(piece.as_ref())
            .ignore()
            .cmd("EXPIRE")
            .arg(&up)
            .arg(UPLOAD_TTL_S)
            .ignore();
        drop(piece);
        Box::pin(async move {
            let () = pipe.query_async(&mut conn).await.map_err(unavailable)?;
            Ok(())
        })
    }

    fn commit(&self, namespace: &str, key: &str, upload: Upload) -> KvFuture<()> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(COMMIT_SCRIPT)
            .arg(4)
            .arg(upload_key(upload.id))
            .arg(value_key(namespace, key))
            .arg(index_key(namespace))
            .arg(expiry_key(namespace))
            .arg(upload.pieces)
            .arg(key.as_bytes())
            .arg(upload.metadata.as_deref().unwrap_or(""))
            .arg(upload.expiration.map(|e| e.to_string()).unwrap_or_default());
        Box::pin(async move {
            let _: i64 = cmd.query_async(&mut conn).await.map_err(unavailable)?;
            Ok(())
        })
    }

    fn discard(&self, upload: u64) -> KvFuture<()> {
        let mut conn = self.conn.clone();
        let up = upload_key(upload);
        Box::pin(async move {
            let _: i64 = redis::cmd("DEL")
                .arg(&up)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }
}
