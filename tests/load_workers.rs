//! Loading many workers at once (`Runtime::load_workers`): start-up and
//! reloads load every worker on several threads, each worker's module graph
//! read and then run in one isolate of its own. Errors are
//! still reported in the config's order, and no worker's graph borrows
//! another's modules.

mod common;

use common::{Proxy, TempDir, check_config, get_host};

const SERVER: &str = "[server]\nlisten = [\"127.0.0.1:0\"]\n\n";

/// A worker whose module imports `./lib.js` from its own directory.
fn worker_files(dir: &TempDir, i: usize) {
    dir.write(
        &format!("w{i}/main.js"),
        "import { answer } from \"./lib.js\";\nexport default { fetch() { return new Response(answer); } };\n",
    );
    // Same file name and length in every directory, different text.
    dir.write(
        &format!("w{i}/lib.js"),
        &format!("export const answer = \"lib {i:03}\";\n"),
    );
}

fn workers_toml(count: usize) -> String {
    let mut toml = String::new();
    for i in 0..count {
        toml.push_str(&format!(
            "[[workers]]\nname = \"w{i}\"\nmain = \"w{i}/main.js\"\n\n[[routes]]\npattern = \"w{i}.test/*\"\nworker = \"w{i}\"\n\n"
        ));
    }
    toml
}

#[tokio::test(flavor = "multi_thread")]
async fn workers_loaded_together_each_keep_their_own_modules() {
    const COUNT: usize = 12;
    let mut builder = Proxy::builder();
    for i in 0..COUNT {
        builder = builder
            .script(
                &format!("w{i}/main.js"),
                "import { answer } from \"./lib.js\";\nexport default { fetch() { return new Response(answer); } };\n",
            )
            .script(
                &format!("w{i}/lib.js"),
                &format!("export const answer = \"lib {i:03}\";\n"),
            );
    }
    let proxy = builder.config(&workers_toml(COUNT)).start().await;
    for i in 0..COUNT {
        let r = get_host(&proxy.url("/"), &format!("w{i}.test")).await;
        assert_eq!(r.status(), 200, "{}", proxy.log());
        assert_eq!(r.text().await.unwrap(), format!("lib {i:03}"));
    }
    // A reload loads them all again the same way.
    proxy.dir.write("w7/lib.js", "export const answer = \"lib new\";\n");
    proxy.hup();
    proxy
        .wait_for_log("reload ok", std::time::Duration::from_secs(20))
        .await;
    let r = get_host(&proxy.url("/"), "w7.test").await;
    assert_eq!(r.text().await.unwrap(), "lib new");
    let r = get_host(&proxy.url("/"), "w8.test").await;
    assert_eq!(r.text().await.unwrap(), "lib 008");
}

#[test]
fn the_first_broken_worker_in_config_order_is_the_one_reported() {
    const COUNT: usize = 8;
    let dir = TempDir::new("load-order");
    for i in 0..COUNT {
        worker_files(&dir, i);
    }
    // Two broken workers; whichever thread finds its error first, the
    // earlier one in the config is named.
    dir.write("w3/lib.js", "export const answer = ;\n");
    dir.write("w6/main.js", "export default {\n");
    let path = dir.write("isoproxy.toml", &format!("{SERVER}{}", workers_toml(COUNT)));
    for _ in 0..3 {
        let (code, out) = check_config(&path);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("worker \"w3\""), "{out}");
        assert!(out.contains("w3/lib.js:1:"), "{out}");
        assert!(!out.contains("w6"), "{out}");
        assert!(!out.contains("panicked"), "{out}");
    }
}

#[test]
fn a_cron_error_is_reported_after_the_script_errors_of_the_workers_before_it() {
    let dir = TempDir::new("load-cron");
    for i in 0..3 {
        worker_files(&dir, i);
    }
    let with_cron = |toml: String, worker: usize| {
        toml.replace(
            &format!("main = \"w{worker}/main.js\"\n"),
            &format!("main = \"w{worker}/main.js\"\ncrons = [\"not a cron\"]\n"),
        )
    };
    // w1's cron is bad and w0's script too: w0's script error first.
    dir.write("w0/main.js", "export default {\n");
    let path = dir.write("isoproxy.toml", &format!("{SERVER}{}", with_cron(workers_toml(3), 1)));
    let (code, out) = check_config(&path);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("worker \"w0\""), "{out}");
    assert!(!out.contains("crons"), "{out}");

    // w0 is fine, w1's cron is bad, w2's script too: the cron error.
    worker_files(&dir, 0);
    dir.write("w2/main.js", "export default {\n");
    let (code, out) = check_config(&path);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("worker \"w1\": crons"), "{out}");
    assert!(!out.contains("w2"), "{out}");
}

#[test]
fn serving_with_a_broken_worker_exits_1_naming_it_and_never_listens() {
    use std::process::{Command, Stdio};
    const COUNT: usize = 4;
    let dir = TempDir::new("load-serve");
    for i in 0..COUNT {
        worker_files(&dir, i);
    }
    dir.write("w2/lib.js", "export const answer = ;\n");
    let port = common::free_port();
    let path = dir.write(
        "isoproxy.toml",
        &format!("[server]\nlisten = [\"127.0.0.1:{port}\"]\n\n{}", workers_toml(COUNT)),
    );
    // The workers load on their own thread while the rest of start-up
    // goes on: the error must still end the process before it serves.
    let out = Command::new(common::BIN)
        .arg("--conf")
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(
        text.contains("worker \"w2\"") && text.contains("w2/lib.js:1:"),
        "{text}"
    );
    assert!(!text.contains("panicked") && !text.contains("serving"), "{text}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// A worker's module graph is read in the isolate that then checks it: a
/// script whose sources take close to half its memory limit still loads
/// (its sources read for the graph are collected before they are compiled
/// again to run; kept, the 6.8 MB script below is over 16 MiB at start-up)
/// and serves from the isolates made later.
#[tokio::test(flavor = "multi_thread")]
async fn a_large_script_loads_under_a_small_memory_limit() {
    let mut src = String::with_capacity(7 << 20);
    for i in 0..160_000 {
        src.push_str(&format!("function f{i}(a){{ return a*{i} + {}; }}\n", i % 7));
    }
    src.push_str("export default { fetch() { return new Response(String(f159999(2))); } };\n");
    assert!(src.len() > 6_500_000, "{}", src.len());
    let proxy = Proxy::builder()
        .script("big.js", &src)
        .config(
            "[[workers]]\nname = \"big\"\nmain = \"big.js\"\nlimits = { memory_mb = 16 }\n\n[[routes]]\npattern = \"big.test/*\"\nworker = \"big\"\n",
        )
        .start()
        .await;
    let r = get_host(&proxy.url("/"), "big.test").await;
    assert_eq!(r.status(), 200, "{}", proxy.log());
    let last: u64 = 159_999; // f159999(2) = 2 * 159999 + 159999 % 7
    assert_eq!(r.text().await.unwrap(), (2 * last + last % 7).to_string());
}

/// A worker whose top level spins for a while (well under its 1 s of
/// start-up CPU), so that start-up is still loading when the test looks.
const SLOW_TOP_LEVEL: &str = "let x = 0;\nfor (let i = 0; i < 150000000; i++) x = (x + i) % 1000003;\nexport default { fetch() { return new Response(\"slow \" + x); } };\n";

/// A worker that answers at once.
const GOOD_JS: &str = "export default { fetch() { return new Response(\"good\"); } };\n";

/// `[[workers]]` tables for `names` (each `main = "NAME.js"`), then a route
/// `NAME.test/*` for each of `routed`.
fn named_workers_toml(names: &[&str], routed: &[&str]) -> String {
    let mut toml = String::new();
    for name in names {
        toml.push_str(&format!("[[workers]]\nname = \"{name}\"\nmain = \"{name}.js\"\n\n"));
    }
    for name in routed {
        toml.push_str(&format!(
            "[[routes]]\npattern = \"{name}.test/*\"\nworker = \"{name}\"\n\n"
        ));
    }
    toml
}

/// Sends `signal` (`-HUP`, `-TERM`, ...) to `child`.
fn send_signal(child: &std::process::Child, signal: &str) {
    let _ = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
}

/// Waits for `child` to exit: its status and what it wrote to stderr.
fn exit_and_stderr(mut child: std::process::Child) -> (std::process::ExitStatus, String) {
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    (status, err)
}

/// Starts `config` and, until the process exits or `until` returns true,
/// tries every few ms to connect to each of `ports`; returns the ports that
/// accepted a connection, and the process.
fn watch_ports(
    path: &std::path::Path,
    ports: &[u16],
    mut until: impl FnMut(&mut std::process::Child) -> bool,
) -> (Vec<u16>, std::process::Child) {
    use std::process::{Command, Stdio};
    let mut child = Command::new(common::BIN)
        .arg("--conf")
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut accepted = Vec::new();
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(30) {
        if matches!(child.try_wait(), Ok(Some(_))) || until(&mut child) {
            break;
        }
        for &port in ports {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && !accepted.contains(&port) {
                accepted.push(port);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(3));
    }
    (accepted, child)
}

/// Pingora starts while the workers load (the proxy threads make the light
/// workers' isolates meanwhile), but neither the proxy nor the admin
/// listener accepts before every worker loaded: a broken worker found
/// after a slow one still ends the process with 1 before anything listened.
#[test]
fn a_worker_that_fails_after_a_slow_load_exits_1_and_nothing_ever_listened() {
    let dir = TempDir::new("load-slow-bad");
    dir.write("slow.js", SLOW_TOP_LEVEL);
    dir.write("good.js", GOOD_JS);
    dir.write(
        "bad.js",
        "export default { fetch() { return new Response(\"bad\") } ;\n",
    );
    let (port, admin) = (common::free_port(), common::free_port());
    let path = dir.write(
        "isoproxy.toml",
        &format!(
            "[server]\nlisten = [\"127.0.0.1:{port}\"]\nadmin = \"127.0.0.1:{admin}\"\n\n{}",
            named_workers_toml(&["good", "slow", "bad"], &["good"])
        ),
    );
    let (accepted, child) = watch_ports(&path, &[port, admin], |_| false);
    let (status, err) = exit_and_stderr(child);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("worker \"bad\""), "{err}");
    assert!(!err.contains("panicked") && !err.contains("serving"), "{err}");
    assert!(
        accepted.is_empty(),
        "accepted on {accepted:?} before the workers loaded: {err}"
    );
}

/// The same start without the broken worker: the listeners accept only once
/// every worker loaded, and then serve each of them at once. A SIGHUP that
/// comes while they load does not stop the process: the reload it asks for
/// runs once start-up is over.
#[test]
fn listeners_accept_once_every_worker_loaded_and_a_sighup_meanwhile_waits() {
    let dir = TempDir::new("load-slow-good");
    dir.write("slow.js", SLOW_TOP_LEVEL);
    dir.write("good.js", GOOD_JS);
    let (port, admin) = (common::free_port(), common::free_port());
    let path = dir.write(
        "isoproxy.toml",
        &format!(
            "[server]\nlisten = [\"127.0.0.1:{port}\"]\nadmin = \"127.0.0.1:{admin}\"\n\n{}",
            named_workers_toml(&["good", "slow"], &["good", "slow"])
        ),
    );
    let started = std::time::Instant::now();
    let mut hup_sent = false;
    let (accepted, mut child) = watch_ports(&path, &[port], |child| {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        // Pingora (and its signal handling) is up within a few ms; the slow
        // worker takes far longer to load.
        if !hup_sent && started.elapsed() >= std::time::Duration::from_millis(60) {
            send_signal(child, "-HUP");
            hup_sent = true;
        }
        false
    });
    let alive = child.try_wait().unwrap().is_none();
    let waited = started.elapsed();
    let (good, slow) = if alive {
        (
            raw_get_host(port, "/", "good.test"),
            raw_get_host(port, "/", "slow.test"),
        )
    } else {
        Default::default()
    };
    let admin_up = std::net::TcpStream::connect(("127.0.0.1", admin)).is_ok();
    // The reload asked for while loading runs after start-up and keeps both.
    let mut reloaded = false;
    for _ in 0..200 {
        if admin_up && raw_get(admin, "/metrics").contains("isoproxy_reloads_total{result=\"ok\"} 1") {
            reloaded = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(alive, "the process ended (SIGHUP while loading?): {err}");
    // The signal came while the workers were still loading.
    assert!(
        hup_sent,
        "the listener accepted after {waited:?}, before the SIGHUP: {err}"
    );
    assert!(accepted.is_empty(), "{accepted:?}");
    assert!(
        good.starts_with("HTTP/1.1 200") && good.ends_with("good"),
        "{good}\n{err}"
    );
    assert!(
        slow.starts_with("HTTP/1.1 200") && slow.contains("slow "),
        "{slow}\n{err}"
    );
    assert!(admin_up, "{err}");
    assert!(reloaded, "{err}");
}

/// One HTTP/1.1 GET on a fresh connection; the whole response as text
/// (empty when the connection failed).
fn raw_get_host(port: u16, path: &str, host: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text
}

fn raw_get(port: u16, path: &str) -> String {
    raw_get_host(port, path, &format!("127.0.0.1:{port}"))
}

/// SIGTERM or SIGQUIT while the workers load: nothing listens yet, so there
/// is nothing to drain or hand over; the process stops at once (not after
/// `grace_period_seconds` and `graceful_shutdown_timeout_seconds`, 5 s
/// each here) and never listened.
#[test]
fn a_sigterm_or_sigquit_while_the_workers_load_stops_at_once() {
    for signal in ["-TERM", "-QUIT"] {
        let dir = TempDir::new("load-slow-term");
        dir.write("slow.js", SLOW_TOP_LEVEL);
        let port = common::free_port();
        let path = dir.write(
            "isoproxy.toml",
            &format!(
                "[server]\nlisten = [\"127.0.0.1:{port}\"]\ngrace_period_seconds = 5\ngraceful_shutdown_timeout_seconds = 5\n\n{}",
                named_workers_toml(&["slow"], &["slow"])
            ),
        );
        let started = std::time::Instant::now();
        let mut sent = None;
        let (accepted, child) = watch_ports(&path, &[port], |child| {
            if sent.is_none() && started.elapsed() >= std::time::Duration::from_millis(60) {
                send_signal(child, signal);
                sent = Some(std::time::Instant::now());
            }
            false
        });
        let (status, err) = exit_and_stderr(child);
        let sent = sent.expect("the signal was sent");
        assert!(
            sent.elapsed() < std::time::Duration::from_secs(3),
            "{signal}: stopped {:?} after the signal: {err}",
            sent.elapsed()
        );
        assert!(err.contains("while the workers load"), "{signal}: {err}");
        assert!(accepted.is_empty(), "{signal}: {accepted:?}");
        assert!(!err.contains("panicked"), "{signal}: {status:?} {err}");
    }
}
