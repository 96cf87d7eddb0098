//! Operations through the real binary: `--version`, the systemd unit's
//! commands, JSON log lines, and the SIGQUIT binary-upgrade hand-over
//! (a second process takes the listening sockets; in-flight requests
//! finish; no connection is refused meanwhile).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn version_prints_the_package_version() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.trim(), format!("isoproxy {}", env!("CARGO_PKG_VERSION")));
}

/// The unit's `ExecStartPre` and `ExecReload` lines, with the installed
/// paths replaced by this build and the repository's example config.
#[test]
fn the_systemd_unit_checks_the_config_before_start_and_reloads_with_sighup() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let unit = std::fs::read_to_string(root.join("conf/isoproxy.service")).unwrap();
    let value = |key: &str| {
        unit.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key}= in the unit"))
            .to_string()
    };
    assert_eq!(value("ExecReload"), "/bin/kill -HUP $MAINPID");
    let pre = value("ExecStartPre");
    let start = value("ExecStart");
    assert_eq!(
        pre.replace(" --test", ""),
        start,
        "ExecStartPre checks the config ExecStart serves"
    );
    let conf = root.join("conf/isoproxy.toml");
    let args: Vec<String> = pre
        .split_whitespace()
        .skip(1)
        .map(|a| a.replace("/etc/isoproxy/isoproxy.toml", conf.to_str().unwrap()))
        .collect();
    assert!(pre.starts_with("/usr/local/bin/isoproxy "), "{pre}");
    let out = Command::new(BIN).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("syntax is ok"));
}

#[tokio::test]
async fn json_log_lines() {
    let origin = Origin::start("o").await;
    let proxy = Proxy::builder()
        .server("log_format = \"json\"")
        .script("hello.js", "export default { fetch() { console.log('hi\\nthere'); return new Response('ok'); } };")
        .config(&format!(
            "[[workers]]\nname = \"hello\"\nmain = \"hello.js\"\n\n[[routes]]\npattern = \"hello.test/*\"\nworker = \"hello\"\n\n[[routes]]\npattern = \"plain.test/*\"\norigin = \"{}\"\n",
            origin.url()
        ))
        .start()
        .await;
    assert_eq!(get_host(&proxy.url("/"), "hello.test").await.status(), 200);
    assert_eq!(get_host(&proxy.url("/x"), "plain.test").await.status(), 200);
    proxy
        .wait_for_log("GET plain.test /x 200", Duration::from_secs(10))
        .await;
    let log = proxy.log();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    for line in &lines {
        for key in ["ts", "level", "target", "msg"] {
            assert!(line[key].is_string(), "{key} missing in {line}");
        }
        assert!(line["ts"].as_str().unwrap().ends_with('Z'), "{line}");
    }
    let access = lines
        .iter()
        .find(|l| l["target"] == "isoproxy::access" && l["msg"].as_str().unwrap().starts_with("GET plain.test /x"))
        .expect("the access-log line");
    assert_eq!(access["level"], "INFO");
    // A script's console line stays one JSON line.
    assert!(
        lines
            .iter()
            .any(|l| l["msg"].as_str().is_some_and(|m| m.contains("hi\\nthere"))),
        "{log}"
    );
}

/// The config file of a proxy that the test starts and upgrades itself.
fn upgrade_config(dir: &TempDir, port: u16, origin: &Origin) -> std::path::PathBuf {
    dir.write(
        "isoproxy.toml",
        &format!(
            "[server]\nlisten = [\"127.0.0.1:{port}\"]\nthreads = 2\ngrace_period_seconds = 1\n\
             graceful_shutdown_timeout_seconds = 10\nupgrade_sock = \"upgrade.sock\"\n\n\
             [runtime]\nisolate_threads = 1\n\n[[routes]]\npattern = \"*/*\"\norigin = \"{}\"\n",
            origin.url()
        ),
    )
}

fn spawn(conf: &Path, log: &Path, upgrade: bool) -> Child {
    let log = std::fs::File::create(log).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg("--conf").arg(conf);
    if upgrade {
        cmd.arg("--upgrade");
    }
    cmd.env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Kills the process when the test ends, however it ends.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One request on a new connection: the status, or why there was none.
async fn one_request(port: u16, path: &str) -> Result<u16, String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: up.test\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out))
        .await
        .map_err(|_| "no answer in 30 s".to_string())?
        .map_err(|e| format!("read: {e}"))?;
    String::from_utf8_lossy(&out)
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line: {:?}", String::from_utf8_lossy(&out)))
}

#[tokio::test]
async fn sigquit_hands_the_listeners_to_a_new_process() {
    let origin = Origin::start("o").await;
    let dir = TempDir::new("upgrade");
    let port = free_port();
    let conf = upgrade_config(&dir, port, &origin);
    let old_log = dir.path().join("old.log");
    let new_log = dir.path().join("new.log");
    let mut old = Reap(spawn(&conf, &old_log, false));
    let start = Instant::now();
    while one_request(port, "/").await != Ok(200) {
        assert!(start.elapsed() < Duration::from_secs(30), "old process not serving");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Requests keep arriving on new connections for the whole hand-over.
    let clients = tokio::spawn(async move {
        let mut answered = 0;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(8) {
            match one_request(port, "/loop").await {
                Ok(200) => answered += 1,
                other => panic!("request {answered} during the hand-over: {other:?}"),
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        answered
    });
    // A slow request in flight at the old process when it is told to go.
    let in_flight = tokio::spawn(one_request(port, "/sleep/2500"));
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The new binary waits on the upgrade socket; then SIGQUIT to the old.
    let new = Reap(spawn(&conf, &new_log, true));
    let sock = dir.path().join("upgrade.sock");
    let start = Instant::now();
    while !sock.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the new process never opened {}: {}",
            sock.display(),
            std::fs::read_to_string(&new_log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let quit = Command::new("kill")
        .args(["-QUIT", &old.0.id().to_string()])
        .status()
        .unwrap();
    assert!(quit.success());

    // The old process finishes its in-flight request, then exits.
    assert_eq!(in_flight.await.unwrap(), Ok(200), "the in-flight request was cut");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = old.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the old process did not exit"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "old process: {status}");
    let answered = clients.await.unwrap();
    assert!(answered > 0);

    // The new process serves on the same port.
    assert_eq!(one_request(port, "/after").await, Ok(200));
    let new_text = std::fs::read_to_string(&new_log).unwrap();
    assert!(new_text.contains("GET up.test /after 200"), "{new_text}");
    let old_text = std::fs::read_to_string(&old_log).unwrap();
    assert!(old_text.contains("GET up.test /sleep/2500 200"), "{old_text}");
    drop(new);
}
