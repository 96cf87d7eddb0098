//! The [`KvStore`] contract, run against both backends (Redis through a real
//! `redis-server` on a free port). Expiry is tested with expirations already
//! past, written straight through the trait (the ops refuse those), so no
//! test sleeps or depends on timing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use test_support::RedisServer;

use bytes::Bytes;

use super::*;

fn value(v: &str, metadata: Option<&str>, expiration: Option<u64>) -> KvValue {
    KvValue {
        value: Bytes::from(v.to_owned()),
        metadata: metadata.map(str::to_owned),
        expiration,
    }
}

fn run<T>(kv: &Kv, op: impl FnOnce(&dyn KvStore) -> KvFuture<T>) -> Result<T, KvError>
where
    T: Send + 'static,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(kv.run(op))
}

fn contract(kv: &Kv) {
    let now = now_s();
    // Round trip, metadata, replacement, namespaces apart.
    run(kv, |s| s.put("a", "k1", value("one", Some(r#"{"n":1}"#), None))).unwrap();
    run(kv, |s| s.put("b", "k1", value("other", None, None))).unwrap();
    let got = run(kv, |s| s.get("a", "k1")).unwrap().unwrap();
    assert_eq!(got, value("one", Some(r#"{"n":1}"#), None));
    run(kv, |s| s.put("a", "k1", value("uno", None, Some(now + 3600)))).unwrap();
    let got = run(kv, |s| s.get("a", "k1")).unwrap().unwrap();
    assert_eq!(got, value("uno", None, Some(now + 3600)));
    assert_eq!(
        run(kv, |s| s.get("b", "k1")).unwrap().unwrap().value,
        Bytes::from("other")
    );
    assert_eq!(run(kv, |s| s.get("a", "missing")).unwrap(), None);
    // Binary values.
    let bin = KvValue {
        value: Bytes::from(vec![0u8, 255, 1, 254]),
        metadata: None,
        expiration: None,
    };
    run(kv, |s| s.put("a", "bin", bin.clone())).unwrap();
    assert_eq!(run(kv, |s| s.get("a", "bin")).unwrap(), Some(bin));
    // Expired entries: never returned, gone from lists.
    run(kv, |s| s.put("a", "old", value("stale", None, Some(now - 10)))).unwrap();
    assert_eq!(run(kv, |s| s.get("a", "old")).unwrap(), None);
    let many = run(kv, |s| s.get_many("a", vec!["k1".into(), "old".into(), "none".into()])).unwrap();
    assert_eq!(many.len(), 3);
    assert!(many[0].is_some() && many[1].is_none() && many[2].is_none());
    // Delete.
    run(kv, |s| s.delete("a", "bin")).unwrap();
    run(kv, |s| s.delete("a", "never-there")).unwrap();
    assert_eq!(run(kv, |s| s.get("a", "bin")).unwrap(), None);
    // List: byte order, prefix, pages with cursors, expired keys skipped.
    for k in ["p/b", "p/a", "p/\u{e9}", "p/Z", "q", "p/a\u{0}x"] {
        run(kv, |s| s.put("l", k, value(k, Some("[1]"), None))).unwrap();
    }
    run(kv, |s| s.put("l", "p/c", value("gone", None, Some(now - 1)))).unwrap();
    let q = |prefix: &str, limit, cursor: Option<String>| ListQuery {
        prefix: prefix.into(),
        limit,
        cursor,
    };
    let all = run(kv, |s| s.list("l", q("p/", 1000, None))).unwrap();
    let names: Vec<&str> = all.keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["p/Z", "p/a", "p/a\u{0}x", "p/b", "p/\u{e9}"]);
    assert_eq!(all.cursor, None);
    assert_eq!(all.keys[0].metadata.as_deref(), Some("[1]"));
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = run(kv, |s| s.list("l", q("", 2, cursor.clone()))).unwrap();
        assert!(page.keys.len() <= 2);
        seen.extend(page.keys.into_iter().map(|k| k.name));
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ["p/Z", "p/a", "p/a\u{0}x", "p/b", "p/\u{e9}", "q"]);
    assert!(matches!(
        run(kv, |s| s.list("l", q("", 2, Some("zz".into())))),
        Err(KvError::BadCursor)
    ));
}

/// Values in pieces: staged unseen, committed whole and atomically,
/// replaced, deleted and expired with their pieces; incomplete or
/// discarded uploads never become a value.
fn pieces(kv: &Kv) {
    let now = now_s();
    let get = |key: &'static str| run(kv, move |s| s.get("s", key)).unwrap();
    let stage = |id: u64, i: u32| run(kv, move |s| s.stage(id, i, Bytes::from(vec![i as u8; 1000]))).unwrap();
    let upload = |id: u64, pieces: u32, expiration: Option<u64>| Upload {
        id,
        pieces,
        metadata: Some("[2]".into()),
        expiration,
    };
    run(kv, |s| s.put("s", "big", value("old", None, None))).unwrap();
    let id = upload_id();
    for i in 0..3 {
        stage(id, i);
    }
    assert_eq!(get("big").unwrap().value, Bytes::from("old"), "staged is unseen");
    run(kv, |s| s.commit("s", "big", upload(id, 3, None))).unwrap();
    let got = get("big").unwrap();
    let want: Vec<u8> = (0..3u8).flat_map(|i| vec![i; 1000]).collect();
    assert_eq!(
        (got.value.as_ref(), got.metadata.as_deref()),
        (want.as_slice(), Some("[2]"))
    );
    let query = ListQuery {
        prefix: "b".into(),
        limit: 10,
        cursor: None,
    };
    let listed = run(kv, |s| s.list("s", query)).unwrap();
    assert_eq!(listed.keys.len(), 1);
    assert_eq!(listed.keys[0].metadata.as_deref(), Some("[2]"));
    let many = run(kv, |s| s.get_many("s", vec!["big".into(), "none".into()])).unwrap();
    assert_eq!(many[0].as_ref().map(|v| v.value.len()), Some(3000));
    // Replaced by a plain value; then by pieces again; deleted.
    run(kv, |s| s.put("s", "big", value("small", None, None))).unwrap();
    assert_eq!(get("big").unwrap().value, Bytes::from("small"));
    let id = upload_id();
    stage(id, 0);
    stage(id, 1);
    run(kv, |s| s.commit("s", "big", upload(id, 2, None))).unwrap();
    assert_eq!(get("big").unwrap().value.len(), 2000);
    run(kv, |s| s.delete("s", "big")).unwrap();
    assert_eq!(get("big"), None);
    // A piece missing, or the upload discarded: no commit, the old value stays.
    run(kv, |s| s.put("s", "kept", value("old", None, None))).unwrap();
    let id = upload_id();
    stage(id, 0);
    assert!(run(kv, |s| s.commit("s", "kept", upload(id, 2, None))).is_err());
    let id = upload_id();
    stage(id, 0);
    run(kv, |s| s.discard(id)).unwrap();
    assert!(run(kv, |s| s.commit("s", "kept", upload(id, 1, None))).is_err());
    assert_eq!(get("kept").unwrap().value, Bytes::from("old"));
    // Expired in pieces: never returned.
    let id = upload_id();
    stage(id, 0);
    run(kv, |s| s.commit("s", "gone", upload(id, 1, Some(now - 1)))).unwrap();
    assert_eq!(get("gone"), None);
}

#[test]
fn embedded_store_keeps_the_contract_and_survives_reopening() {
    let dir = std::env::temp_dir().join(format!("isoproxy-kv-unit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let kv = Kv::start(&KvBackend::Embedded { data_dir: dir.clone() }).unwrap();
        contract(&kv);
        pieces(&kv);
    }
    // The file outlives its store: reopened, the values are there.
    let kv = Kv::start(&KvBackend::Embedded { data_dir: dir.clone() }).unwrap();
    assert_eq!(
        run(&kv, |s| s.get("a", "k1")).unwrap().map(|v| v.value),
        Some(Bytes::from("uno"))
    );
    drop(kv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn redis_store_keeps_the_contract_and_recovers_after_the_server_returns() {
    let mut server = RedisServer::start();
    let kv = Arc::new(Kv::start(&KvBackend::Redis { url: server.url(3) }).unwrap());
    contract(&kv);
    pieces(&kv);
    // The server goes away: operations fail (they do not hang or panic).
    server.stop();
    let err = run(&kv, |s| s.get("a", "k1"));
    assert!(matches!(err, Err(KvError::Unavailable(_))), "{err:?}");
    // It comes back on the same port (empty): the store reconnects.
    let _server = RedisServer::start_on(server.port);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match run(&kv, |s| s.put("a", "back", value("yes", None, None))) {
            Ok(()) => break,
            Err(e) => assert!(Instant::now() < deadline, "no reconnection: {e}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        run(&kv, |s| s.get("a", "back")).unwrap().map(|v| v.value),
        Some(Bytes::from("yes"))
    );
}
