//! `[cluster]`: instances sharing one Redis fire each cron instant once.
//!
//! Before a firing runs, the instance takes a lease named after the
//! instant: `SET isoproxy:cron:{worker}:{cron}:{scheduledTime} <instance>
//! NX PX <LEASE_TTL>`. Every instance computes the same `scheduledTime`
//! (the instant the cron names, not the moment its own clock noticed it),
//! so the first to ask wins and the others count `skipped_lease`. Because
//! the key names the instant:
//!
//! - an instance that dies holding a lease cannot block the next instant
//!   (another key); the instant it held is not run again (at most once);
//! - an instance whose clock is a few seconds behind asks for the same key
//!   a few seconds later and loses, instead of firing the instant again;
//!   one whose clock is ahead fires first. Nobody skips an instant: each
//!   keeps firing on the instants it computes and the lease dedups. The
//!   lease lives `LEASE_TTL` (5 minutes), far longer than any sane skew.
//!
//! The same script that takes the lease records the run in
//! `isoproxy:cron:last:{worker}:{cron}` (a hash: `scheduled_time`,
//! `instance`, `outcome` = running | ok | exception, `started_at`,
//! `finished_at`, `error`); the run's end updates it. A record never
//! replaces a later instant's, so a slow run finishing late does not hide a
//! newer one. `/workers` reads these hashes, so every instance shows the
//! same last firing.
//!
//! Redis unreachable (or slower than the timeouts below): the firing does
//! not run and counts `lease_error`; a fleet without its lock must not
//! fire N times. The connection is a `ConnectionManager` (multiplexed,
//! reconnects by itself); it is created on first use, on the cron
//! service's (or admin's) tokio runtime, never on an isolate thread.

use std::sync::OnceLock;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::ClusterConfig;

/// How long a lease key lives. It names one instant, so it only has to
/// outlive the clock skew between instances (and their scheduling delay).
pub const LEASE_TTL: Duration = Duration::from_secs(300);
/// Bound on connecting to Redis.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Bound on one command's answer.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Bound on a whole call, reconnection attempts included.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// Takes the lease; on success records the run as `running` in the last-run
/// hash unless that hash holds a later instant. Returns 1, or the holder.
const LEASE_SCRIPT: &str = r#"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local cur = tonumber(redis.call('HGET', KEYS[2], 'scheduled_time'))
  if not cur or cur <= tonumber(ARGV[3]) then
    redis.call('DEL', KEYS[2])
    redis.call('HSET', KEYS[2], 'scheduled_time', ARGV[3], 'instance', ARGV[1], 'outcome', 'running', 'started_at', ARGV[4])
  end
  return 1
end
return redis.call('GET', KEYS[1]) or ''
"#;

/// Records a run's end, unless the hash already holds a later instant.
const FINISH_SCRIPT: &str = r#"
local cur = tonumber(redis.call('HGET', KEYS[1], 'scheduled_time'))
if cur and cur > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'scheduled_time', ARGV[1], 'instance', ARGV[2], 'outcome', ARGV[3],
  'started_at', ARGV[4], 'finished_at', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[6]) end
return 1
"#;

/// A failed call to the cluster's Redis.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Redis answered with an error, or the connection failed.
    #[error("cluster redis {what}: {source}")]
    Redis {
        /// What was being done.
        what: &'static str,
        /// The client's error.
        #[source]
        source: redis::RedisError,
    },
    /// No answer within the call's time bound.
    #[error("cluster redis {what}: no answer within {CALL_TIMEOUT:?}")]
    Timeout {
        /// What was being done.
        what: &'static str,
    },
    /// An answer of an unexpected shape.
    #[error("cluster redis {what}: unexpected answer {answer}")]
    Answer {
        /// What was being done.
        what: &'static str,
        /// The answer, as the client printed it.
        answer: String,
    },
}

/// Who runs a firing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// This instance took the lease: run it.
    Won,
    /// Another instance holds it (named when Redis still knew it).
    HeldBy(String),
}

/// A trigger's last firing, as `/workers` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LastRun {
    /// The instant fired (ms since the epoch; the handler's
    /// `controller.scheduledTime`).
    pub scheduled_time: i64,
    /// The instance that ran it (empty without `[cluster]`; `/workers`
    /// shows null).
    pub instance: String,
    /// running | ok | exception.
    pub outcome: String,
    /// When the run started (ms since the epoch).
    pub started_at: i64,
    /// When it ended (ms since the epoch); `None` while running.
    pub finished_at: Option<i64>,
    /// The exception, for `exception`.
    pub error: Option<String>,
}

impl LastRun {
    /// The record as `/workers` JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "scheduled_time": self.scheduled_time,
            "instance": (!self.instance.is_empty()).then_some(&self.instance),
            "outcome": self.outcome,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error,
        })
    }

    fn from_hash(fields: &[(String, String)]) -> Option<LastRun> {
        let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
        Some(LastRun {
            scheduled_time: get("scheduled_time")?.parse().ok()?,
            instance: get("instance")?.to_string(),
            outcome: get("outcome")?.to_string(),
            started_at: get("started_at").and_then(|v| v.parse().ok()).unwrap_or(0),
            finished_at: get("finished_at").and_then(|v| v.parse().ok()),
            error: get("error").map(str::to_string),
        })
    }
}

/// The cluster this instance belongs to: its name and its Redis.
pub struct Cluster {
    instance: String,
    client: redis::Client,
    conn: OnceLock<ConnectionManager>,
}

/// The lease key of one firing.
pub fn lease_key(worker: &str, cron: &str, scheduled_time: i64) -> String {
    format!("isoproxy:cron:{worker}:{cron}:{scheduled_time}")
}

/// The key of a trigger's last-run hash.
pub fn last_key(worker: &str, cron: &str) -> String {
    format!("isoproxy:cron:last:{worker}:{cron}")
}

impl Cluster {
    /// The cluster of a validated `[cluster]` table. Connects on first use.
    pub fn new(config: &ClusterConfig) -> Result<Cluster, ClusterError> {
        let client =
            redis::Client::open(config.redis.as_str()).map_err(|source| ClusterError::Redis { what: "URL", source })?;
        Ok(Cluster {
            instance: config.instance(),
            client,
            conn: OnceLock::new(),
        })
    }

    /// This instance's name.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The shared connection, created lazily (it needs a tokio runtime).
    fn conn(&self) -> Result<ConnectionManager, ClusterError> {
        if let Some(conn) = self.conn.get() {
            return Ok(conn.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(self.client.clone(), config).map_err(|source| {
            ClusterError::Redis {
                what: "connect",
                source,
            }
        })?;
        // Two first uses at once: one manager wins, the other is dropped.
        Ok(self.conn.get_or_init(|| conn).clone())
    }

    async fn call<T: redis::FromRedisValue>(&self, what: &'static str, cmd: &redis::Cmd) -> Result<T, ClusterError> {
        let mut conn = self.conn()?;
        match tokio::time::timeout(CALL_TIMEOUT, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(source)) => Err(ClusterError::Redis { what, source }),
            Err(_) => Err(ClusterError::Timeout { what }),
        }
    }

    /// Takes the lease of `worker`'s `cron` firing at `scheduled_time`
    /// (and marks it running in the last-run hash); `now` is the start time.
    pub async fn take_lease(
        &self,
        worker: &str,
        cron: &str,
        scheduled_time: i64,
        now: i64,
    ) -> Result<Lease, ClusterError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(LEASE_SCRIPT)
            .arg(2)
            .arg(lease_key(worker, cron, scheduled_time))
            .arg(last_key(worker, cron))
            .arg(&self.instance)
            .arg(LEASE_TTL.as_millis() as u64)
            .arg(scheduled_time)
            .arg(now);
        match self.call::<redis::Value>("lease", &cmd).await? {
            redis::Value::Int(1) => Ok(Lease::Won),
            redis::Value::BulkString(holder) => Ok(Lease::HeldBy(String::from_utf8_lossy(&holder).into_owned())),
            redis::Value::SimpleString(holder) => Ok(Lease::HeldBy(holder)),
            other => Err(ClusterError::Answer {
                what: "lease",
                answer: format!("{other:?}"),
            }),
        }
    }

    /// Records the end of this instance's run (unless a later instant was
    /// recorded meanwhile).
    pub async fn finish(&self, worker: &str, cron: &str, run: &LastRun) -> Result<(), ClusterError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(FINISH_SCRIPT)
            .arg(1)
            .arg(last_key(worker, cron))
            .arg(run.scheduled_time)
            .arg(&run.instance)
            .arg(&run.outcome)
            .arg(run.started_at)
            .arg(run.finished_at.unwrap_or(0))
            .arg(run.error.as_deref().unwrap_or(""));
        self.call::<redis::Value>("record", &cmd).await.map(|_| ())
    }

    /// The last firing of each `(worker, cron)` trigger, in order (one
    /// round trip).
    pub async fn last_runs(&self, triggers: &[(String, String)]) -> Result<Vec<Option<LastRun>>, ClusterError> {
        if triggers.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for (worker, cron) in triggers {
            pipe.cmd("HGETALL").arg(last_key(worker, cron));
        }
        let mut conn = self.conn()?;
        let what = "read last runs";
        let hashes: Vec<Vec<(String, String)>> =
            match tokio::time::timeout(CALL_TIMEOUT, pipe.query_async(&mut conn)).await {
                Ok(Ok(v)) => v,
                Ok(Err(source)) => return Err(ClusterError::Redis { what, source }),
                Err(_) => return Err(ClusterError::Timeout { what }),
            };
        Ok(hashes.iter().map(|h| LastRun::from_hash(h)).collect())
    }
}

#[cfg(test)]
mod tests {
    //! The lease against a real `redis-server` (installed by `./dev`),
    //! with forged scheduled times: what instances with skewed clocks send.

    use super::*;
    use test_support::RedisServer as Server;

    fn cluster(server: &Server, instance: &str) -> Cluster {
        Cluster::new(&ClusterConfig {
            redis: server.url(3),
            instance: Some(instance.to_string()),
        })
        .unwrap()
    }

    const MINUTE: i64 = 60_000;
    const T0: i64 = 1_800_000_000_000 - (1_800_000_000_000 % MINUTE);

    #[tokio::test]
    async fn one_instance_per_instant_whatever_the_clocks() {
        let server = Server::start();
        let (a, b, c) = (cluster(&server, "a"), cluster(&server, "b"), cluster(&server, "c"));
        // `a`'s clock is 3 s ahead, `c`'s 4 s behind: all three compute
        // the same instant T0 and ask at different moments.
        assert_eq!(
            a.take_lease("w", "* * * * *", T0, T0 - 3_000).await.unwrap(),
            Lease::Won
        );
        assert_eq!(
            b.take_lease("w", "* * * * *", T0, T0).await.unwrap(),
            Lease::HeldBy("a".into())
        );
        assert_eq!(
            c.take_lease("w", "* * * * *", T0, T0 + 4_000).await.unwrap(),
            Lease::HeldBy("a".into())
        );
        // `a` dies holding T0's lease: the next instant is free, and the
        // late clock `c` may take it first.
        assert_eq!(
            c.take_lease("w", "* * * * *", T0 + MINUTE, T0 + MINUTE).await.unwrap(),
            Lease::Won
        );
        assert_eq!(
            b.take_lease("w", "* * * * *", T0 + MINUTE, T0 + MINUTE + 1)
                .await
                .unwrap(),
            Lease::HeldBy("c".into())
        );
        // Another trigger, and another worker, have their own leases.
        assert_eq!(b.take_lease("w", "*/5 * * * *", T0, T0).await.unwrap(), Lease::Won);
        assert_eq!(b.take_lease("v", "* * * * *", T0, T0).await.unwrap(), Lease::Won);

        // The lease expires, so the instant's key does not live forever.
        let mut conn = a.conn().unwrap();
        let ttl: i64 = redis::cmd("PTTL")
            .arg(lease_key("w", "* * * * *", T0))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 0 && ttl <= LEASE_TTL.as_millis() as i64, "{ttl}");

        // The last run is the latest instant's, even when an older run
        // ends after it started.
        let triggers = [("w".to_string(), "* * * * *".to_string())];
        let last = a.last_runs(&triggers).await.unwrap();
        let last = last[0].as_ref().unwrap();
        assert_eq!(
            (last.scheduled_time, last.instance.as_str(), last.outcome.as_str()),
            (T0 + MINUTE, "c", "running")
        );
        let late = LastRun {
            scheduled_time: T0,
            instance: "a".into(),
            outcome: "ok".into(),
            started_at: T0,
            finished_at: Some(T0 + 90_000),
            error: None,
        };
        a.finish("w", "* * * * *", &late).await.unwrap();
        let done = LastRun {
            scheduled_time: T0 + MINUTE,
            instance: "c".into(),
            outcome: "exception".into(),
            started_at: T0 + MINUTE,
            finished_at: Some(T0 + MINUTE + 5),
            error: Some("Error: boom".into()),
        };
        c.finish("w", "* * * * *", &done).await.unwrap();
        assert_eq!(b.last_runs(&triggers).await.unwrap(), vec![Some(done)]);
    }

    #[tokio::test]
    async fn redis_gone_is_an_error_not_a_firing_and_it_reconnects() {
        let mut server = Server::start();
        let a = cluster(&server, "a");
        assert_eq!(a.take_lease("w", "* * * * *", T0, T0).await.unwrap(), Lease::Won);
        let port = server.port;
        server.stop();
        let err = a.take_lease("w", "* * * * *", T0 + MINUTE, T0 + MINUTE).await;
        assert!(err.is_err(), "{err:?}");
        // A new server on the same port: the same Cluster reconnects.
        let _back = Server::start_on(port);
        let mut won = None;
        for _ in 0..100 {
            if let Ok(lease) = a.take_lease("w", "* * * * *", T0 + 2 * MINUTE, T0).await {
                won = Some(lease);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(won, Some(Lease::Won));
    }
}
