//! The Redis KV store, for fleets: every instance pointed at one server sees
//! the others' writes. Per namespace `NS`, key `K`:
//!
//! - `isoproxy:kv:NS:v:K`, a hash: `v` the value, `m` the metadata JSON,
//!   `e` the expiration (seconds since the epoch), with the same expiry as
//!   a Redis TTL (`EXPIREAT`), so Redis drops it on time by itself;
//! - `isoproxy:kv:NS:i`, a sorted set of the namespace's keys, all scored
//!   0, so `ZRANGEBYLEX` walks them in byte order for `list()`.
//!
//! A put or delete changes both in one `MULTI`/`EXEC`; `list()` is one Lua
//! script that skips (and removes from the index) keys whose hash expired.
//! Namespace ids hold no `:` ([`super::valid_namespace_id`]), so prefixes
//! never overlap. One multiplexed connection (redis' `ConnectionManager`):
//! connected on first use, reconnected after a failure; while the server is
//! away each operation fails at once or after the response timeout.

use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{KvError, KvFuture, KvList, KvListKey, KvStore, KvValue, ListQuery, cursor_for, expired, now_s};

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

/// `list()`: KEYS[1] the index; ARGV: value-key prefix, min, max (ZRANGEBYLEX
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
    elseif r[1] and tonumber(r[1]) <= now then
      redis.call('DEL', vk)
      redis.call('ZREM', idx, name)
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
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| KvError::Config(format!("Redis: {e}")))?;
        Ok(RedisStore { conn })
    }
}

type Row = (Option<Vec<u8>>, Option<String>, Option<u64>);

fn value_of(row: Row, now: u64) -> Option<KvValue> {
    let (v, m, e) = row;
    let v = v?;
    if expired(e, now) {
        return None;
    }
    Some(KvValue {
        value: Bytes::from(v),
        metadata: m.filter(|m| !m.is_empty()),
        expiration: e,
    })
}

impl KvStore for RedisStore {
    fn get(&self, namespace: &str, key: &str) -> KvFuture<Option<KvValue>> {
        let mut conn = self.conn.clone();
        let vk = value_key(namespace, key);
        Box::pin(async move {
            let row: Row = redis::cmd("HMGET")
                .arg(&vk)
                .arg("v")
                .arg("m")
                .arg("e")
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            Ok(value_of(row, now_s()))
        })
    }

    fn get_many(&self, namespace: &str, keys: Vec<String>) -> KvFuture<Vec<Option<KvValue>>> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        for key in &keys {
            pipe.cmd("HMGET")
                .arg(value_key(namespace, key))
                .arg("v")
                .arg("m")
                .arg("e");
        }
        Box::pin(async move {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let rows: Vec<Row> = pipe.query_async(&mut conn).await.map_err(unavailable)?;
            let now = now_s();
            Ok(rows.into_iter().map(|r| value_of(r, now)).collect())
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
            .ignore();
        Box::pin(async move {
            let () = pipe.query_async(&mut conn).await.map_err(unavailable)?;
            Ok(())
        })
    }

    fn list(&self, namespace: &str, query: ListQuery) -> KvFuture<KvList> {
        let mut conn = self.conn.clone();
        let index = index_key(namespace);
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
                .arg(1)
                .arg(&index)
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
}
