//! The differential suite: every script in tests/diff/ runs as a worker
//! (on host `<script>.test`, `_` spelled `-`), gets the requests listed in
//! tests/diff/requests.txt, and each answer is compared with the golden that
//! tests/diff/record.sh recorded from real workerd (status, headers, body).
//! Needs no workerd: only the goldens in tests/diff/expected/.
//! `DIFF_ONLY=a,b` limits the run to those scripts.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Origin, Proxy};
use serde_json::Value;

/// Headers that say nothing about the worker's behaviour (as in record.mjs).
const IGNORED_HEADERS: &[&str] = &[
    "date",
    "server",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "cf-ray",
];

fn host_of(script: &str) -> String {
    format!("{}.test", script.replace('_', "-"))
}

/// One answer, in the goldens' shape.
struct Answer {
    status: u64,
    headers: BTreeMap<String, Vec<String>>,
    body: Value,
}

async fn send(client: &reqwest::Client, proxy: &Proxy, req: &Value) -> Answer {
    let script = req["script"].as_str().unwrap();
    let method = reqwest::Method::from_bytes(req["method"].as_str().unwrap().as_bytes()).unwrap();
    let mut b = client
        .request(method, proxy.url(req["path"].as_str().unwrap()))
        .header("host", host_of(script));
    // `headers` values go out as their UTF-8 bytes, `latin1_headers` values
    // one byte per character (as record.mjs sends them).
    if let Some(h) = req["headers"].as_object() {
        for (k, v) in h {
            b = b.header(k, v.as_str().unwrap());
        }
    }
    if let Some(h) = req["latin1_headers"].as_object() {
        for (k, v) in h {
            let bytes: Vec<u8> = v
                .as_str()
                .unwrap()
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap())
                .collect();
            b = b.header(k, reqwest::header::HeaderValue::from_bytes(&bytes).unwrap());
        }
    }
    if let Some(body) = req["body"].as_str() {
        if req["chunked"].as_bool() == Some(true) {
            let chunk: Result<bytes::Bytes, std::io::Error> = Ok(bytes::Bytes::from(body.to_string()));
            b = b.body(reqwest::Body::wrap_stream(futures_util::stream::iter([chunk])));
        } else {
            // Spelled out: hyper sends no Content-Length for an empty body.
            b = b
                .header("content-length", body.len().to_string())
                .body(body.to_string());
        }
    }
    let r = b.send().await.unwrap();
    let status = r.status().as_u16() as u64;
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in r.headers() {
        if IGNORED_HEADERS.contains(&k.as_str()) {
            continue;
        }
        headers
            .entry(k.as_str().to_string())
            .or_default()
            // One character per byte, as Node's rawHeaders in record.mjs.
            .push(v.as_bytes().iter().map(|b| char::from(*b)).collect());
    }
    let bytes = r.bytes().await.unwrap();
    let body = match std::str::from_utf8(&bytes) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => Value::String(format!("base64:{}", base64(&bytes))),
    };
    Answer { status, headers, body }
}

fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn show(v: &Value) -> String {
    serde_json::to_string(v).unwrap()
}

/// The differences between a golden and an answer, one line each; bodies
/// that are JSON objects on both sides are compared key by key.
fn differences(golden: &Value, got: &Answer) -> Vec<String> {
    let mut out = Vec::new();
    if golden["status"].as_u64() != Some(got.status) {
        out.push(format!("status: workerd {} isoproxy {}", golden["status"], got.status));
    }
    let want: BTreeMap<String, Vec<String>> = serde_json::from_value(golden["headers"].clone()).unwrap();
    let names: std::collections::BTreeSet<&String> = want.keys().chain(got.headers.keys()).collect();
    for name in names {
        let (w, g) = (want.get(name), got.headers.get(name));
        if w != g {
            out.push(format!("header {name}: workerd {w:?} isoproxy {g:?}"));
        }
    }
    let want_body = match (&golden["body"], &golden["body_base64"]) {
        (Value::String(s), _) => Value::String(s.clone()),
        (_, Value::String(b)) => Value::String(format!("base64:{b}")),
        _ => Value::Null,
    };
    let parse = |v: &Value| v.as_str().and_then(|s| serde_json::from_str::<Value>(s).ok());
    match (parse(&want_body), parse(&got.body)) {
        (Some(Value::Object(w)), Some(Value::Object(g))) => {
            let keys: std::collections::BTreeSet<&String> = w.keys().chain(g.keys()).collect();
            for k in keys {
                let (wv, gv) = (w.get(k), g.get(k));
                if wv != gv {
                    out.push(format!(
                        "body[{k:?}]:\n      workerd  {}\n      isoproxy {}",
                        wv.map(show).unwrap_or_else(|| "(absent)".into()),
                        gv.map(show).unwrap_or_else(|| "(absent)".into())
                    ));
                }
            }
        }
        _ if want_body != got.body => out.push(format!(
            "body:\n      workerd  {}\n      isoproxy {}",
            show(&want_body),
            show(&got.body)
        )),
        _ => {}
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn scripts_answer_as_on_workerd() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diff");
    let requests: Vec<Value> = std::fs::read_to_string(dir.join("requests.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let only: Option<Vec<String>> = std::env::var("DIFF_ONLY")
        .ok()
        .map(|s| s.split(',').map(str::to_string).collect());
    let mut scripts: Vec<String> = Vec::new();
    for r in &requests {
        let s = r["script"].as_str().unwrap().to_string();
        if !scripts.contains(&s) && only.as_ref().is_none_or(|o| o.contains(&s)) {
            scripts.push(s);
        }
    }
    let compat_date = std::fs::read_to_string(dir.join("COMPAT_DATE")).unwrap();
    // env.ORIGIN: the test origin (record.mjs runs one that behaves the same).
    let origin = Origin::start("diff").await;
    let mut config = String::new();
    for s in &scripts {
        // `proto_pollution` sweeps about 50 APIs in its one request: 40-55 ms
        // of CPU while its isolate is cold on a busy machine, at the default
        // 50 ms limit. It gets more (and so runs on an isolate thread, which
        // changes none of its observations); every other script keeps the
        // default and runs on the proxy threads.
        let limits = if s == "proto_pollution" {
            "limits = { cpu_ms = 1000 }\n"
        } else {
            ""
        };
        config.push_str(&format!(
            "[[workers]]\nname = \"{s}\"\nmain = \"{}\"\ncompatibility_date = \"{}\"\n{limits}vars = {{ ORIGIN = \"{}\" }}\negress_allow = [\"local\"]\n\n[[routes]]\npattern = \"{}/*\"\nworker = \"{s}\"\n\n",
            dir.join(format!("{s}.js")).display(),
            compat_date.trim(),
            origin.url(),
            host_of(s)
        ));
    }
    let proxy = Proxy::builder().config(&config).start().await;
    // Redirects are answers to compare, not to follow.
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    let mut report = String::new();
    let (mut same, mut total) = (0, 0);
    for s in &scripts {
        let goldens: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected").join(format!("{s}.json"))).unwrap())
                .unwrap();
        let mine: Vec<&Value> = requests.iter().filter(|r| r["script"] == s.as_str()).collect();
        assert_eq!(
            goldens.len(),
            mine.len(),
            "{s}: goldens out of date, run tests/diff/record.sh {s}"
        );
        for (golden, req) in goldens.iter().zip(mine) {
            assert_eq!(
                &golden["request"], req,
                "{s}: goldens out of date, run tests/diff/record.sh {s}"
            );
            total += 1;
            let got = send(&client, &proxy, req).await;
            let diffs = differences(golden, &got);
            if diffs.is_empty() {
                same += 1;
                continue;
            }
            report.push_str(&format!(
                "{s}: {} {}\n",
                req["method"].as_str().unwrap(),
                req["path"].as_str().unwrap()
            ));
            for d in diffs {
                report.push_str(&format!("    {d}\n"));
            }
        }
    }
    eprintln!("{same}/{total} answers match workerd");
    assert!(report.is_empty(), "answers that differ from workerd:\n{report}");
}
