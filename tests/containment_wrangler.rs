//! Hostile Workers projects, through the real binary: wrangler files and
//! npm packages that point outside the project, that would hang the loader
//! (a named pipe where a module or a `package.json` should be), that are
//! too large, too deep or malformed. What must happen: `--test` (and a
//! reload) fails with a message naming the import or package, nothing
//! outside the worker's root is read (the rule: the root is the wrangler
//! file's directory, or `root` in the `[[workers]]` entry, and a project's
//! `node_modules` is under it), no hang, no crash, bounded memory, and a
//! running proxy keeps serving its last good version.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Proxy, TempDir, client};

const INDEX: &str = "export default { fetch() { return new Response(String(x)); } };\n";

/// A project directory `proj` (with `wrangler.json`) inside a fresh temp
/// dir, so tests can also put files *above* the project.
struct Project {
    dir: TempDir,
}

impl Project {
    fn new(tag: &str) -> Project {
        let p = Project { dir: TempDir::new(tag) };
        p.write("proj/wrangler.json", r#"{ "name": "app", "main": "src/index.js" }"#);
        p.write(
            "isoproxy.toml",
            &format!(
                "[server]\nlisten = [\"127.0.0.1:1\"]\n[[workers]]\nwrangler = \"{}\"\n",
                p.path("proj/wrangler.json").display()
            ),
        );
        p
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        self.dir.write(rel, text)
    }

    /// `src/index.js` imports `x` from `specifier`.
    fn imports(&self, specifier: &str) {
        self.write("proj/src/index.js", &format!("import x from {specifier:?};\n{INDEX}"));
    }

    fn symlink(&self, target: &str, link: &str) {
        let link = self.path(link);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, link).unwrap();
    }

    fn mkfifo(&self, rel: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(Command::new("mkfifo").arg(&path).status().unwrap().success());
    }

    /// `isoproxy --test` on the project: (exit code, output). A run that
    /// has not ended after a minute is a hang (the loader waiting on a
    /// pipe): it is killed and the test fails.
    fn check(&self) -> (i32, String) {
        check_within(&self.path("isoproxy.toml"), self.dir.path())
    }

    fn refused(&self, what: &str) -> String {
        let (code, out) = self.check();
        assert_ne!(code, 0, "{what}: --test passed:\n{out}");
        assert!(!out.contains("panicked"), "{what}: {out}");
        out
    }
}

fn check_within(conf: &Path, dir: &Path) -> (i32, String) {
    let out_path = dir.join("check.out");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = Command::new(BIN)
        .arg("--test")
        .arg("--conf")
        .arg(conf)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "isoproxy --test {} hung; output so far:\n{}",
                conf.display(),
                std::fs::read_to_string(&out_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code().unwrap_or(-1), std::fs::read_to_string(&out_path).unwrap())
}

fn package(p: &Project, name: &str, manifest: &str, files: &[(&str, &str)]) {
    p.write(&format!("proj/node_modules/{name}/package.json"), manifest);
    for (file, text) in files {
        p.write(&format!("proj/node_modules/{name}/{file}"), text);
    }
}

#[test]
fn the_package_resolver_reads_nothing_outside_the_project() {
    let p = Project::new("wr-outside");
    // A control: a package inside the project resolves and loads.
    package(
        &p,
        "good",
        r#"{ "name": "good", "type": "module", "exports": "./index.js" }"#,
        &[("index.js", "export default 'good';\n")],
    );
    p.imports("good");
    let (code, out) = p.check();
    assert_eq!(code, 0, "{out}");

    // Node's lookup walks up to /node_modules. A package found above the
    // project, whose `main` leads back into it, used to be loaded.
    p.write(
        "node_modules/outer/package.json",
        r#"{ "name": "outer", "type": "module", "main": "../../proj/src/inner.js" }"#,
    );
    p.write("proj/src/inner.js", "export default 'steered from outside';\n");
    p.imports("outer");
    let out = p.refused("a package above the project");
    assert!(
        out.contains("cannot import \"outer\"") && out.contains("no package provides it"),
        "{out}"
    );

    // A package.json symlinked to a file outside: its `exports` used to
    // steer the resolution (to a file inside, so nothing else stopped it).
    p.write(
        "outside.json",
        r#"{ "name": "evil", "type": "module", "exports": "./steer.js" }"#,
    );
    p.write("proj/node_modules/evil/steer.js", "export default 'steered';\n");
    p.symlink("../../../outside.json", "proj/node_modules/evil/package.json");
    p.imports("evil");
    let out = p.refused("a package.json symlinked out of the project");
    assert!(
        out.contains("cannot import \"evil\"")
            && out.contains("evil/package.json was not read")
            && out.contains("outside the worker's root"),
        "{out}"
    );

    // `exports`, `main` and `imports` leading out, by `..` or absolutely,
    // and a package directory that is a symlink out of the project.
    for (name, manifest, specifier, says) in [
        (
            "e1",
            r#"{ "name": "e1", "exports": "../../../outside.json" }"#,
            "e1",
            "Invalid \"exports\" target",
        ),
        (
            "e2",
            r#"{ "name": "e2", "exports": "/etc/passwd" }"#,
            "e2",
            "Invalid \"exports\" target",
        ),
        (
            "e3",
            r#"{ "name": "e3", "main": "../../../outside.json" }"#,
            "e3",
            "no package provides it",
        ),
        (
            "e4",
            r#"{ "name": "e4", "main": "/etc/hostname" }"#,
            "e4",
            "no package provides it",
        ),
    ] {
        package(&p, name, manifest, &[]);
        p.imports(specifier);
        let out = p.refused(name);
        assert!(
            out.contains(&format!("cannot import \"{specifier}\"")) && out.contains(says),
            "{name}: {out}"
        );
    }
    p.write(
        "proj/package.json",
        r##"{ "name": "app", "imports": { "#secret": "/etc/hostname", "#up": "../outside.json" } }"##,
    );
    for specifier in ["#secret", "#up"] {
        p.imports(specifier);
        let out = p.refused(specifier);
        assert!(
            out.contains(&format!("cannot import \"{specifier}\"")),
            "{specifier}: {out}"
        );
    }
    std::fs::remove_file(p.path("proj/package.json")).unwrap();
    p.symlink("/etc", "proj/node_modules/etc");
    p.imports("etc/hostname");
    let out = p.refused("a package directory symlinked to /etc");
    assert!(out.contains("outside the worker's root"), "{out}");
}

#[test]
fn a_fifo_in_the_project_is_refused_instead_of_hanging_the_load() {
    let p = Project::new("wr-fifo");
    // A module that is a named pipe: reading it waited for a writer forever.
    p.mkfifo("proj/src/pipe.js");
    p.imports("./pipe.js");
    let out = p.refused("a FIFO module");
    assert!(out.contains("pipe.js") && out.contains("not a regular file"), "{out}");

    // A package.json that is a named pipe (the import fails even though
    // an index.js would do without the manifest).
    p.mkfifo("proj/node_modules/piped/package.json");
    p.write("proj/node_modules/piped/index.js", "export default 1;\n");
    p.imports("piped");
    let out = p.refused("a FIFO package.json");
    assert!(
        out.contains("cannot import \"piped\"") && out.contains("piped/package.json was not read: not a regular file"),
        "{out}"
    );

    // The wrangler file itself.
    p.imports("./inner.js");
    p.write("proj/src/inner.js", "export default 1;\n");
    let (code, out) = p.check();
    assert_eq!(code, 0, "{out}");
    p.mkfifo("proj/wrangler.json");
    let out = p.refused("a FIFO wrangler.json");
    assert!(out.contains("wrangler") && out.contains("not a regular file"), "{out}");
}

#[test]
fn malformed_modules_and_manifests_fail_with_the_name() {
    let p = Project::new("wr-malformed");
    // A module that is a directory; a package whose `main` is one.
    std::fs::create_dir_all(p.path("proj/src/dir.js")).unwrap();
    p.imports("./dir.js");
    let out = p.refused("a directory module");
    assert!(out.contains("dir.js") && out.contains("is a directory"), "{out}");
    std::fs::create_dir_all(p.path("proj/node_modules/dirmain/lib.js")).unwrap();
    package(&p, "dirmain", r#"{ "name": "dirmain", "main": "lib.js" }"#, &[]);
    p.imports("dirmain");
    let out = p.refused("a package whose main is a directory");
    assert!(out.contains("cannot import \"dirmain\""), "{out}");

    // A binary file as a module.
    let mut bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    bytes[0] = 0xff;
    std::fs::write(p.path("proj/src/blob.js"), &bytes).unwrap();
    p.imports("./blob.js");
    let out = p.refused("a binary module");
    assert!(out.contains("blob.js") && out.contains("not UTF-8"), "{out}");

    // Symlink loops: between two files, and between two packages.
    p.symlink("b.js", "proj/src/a.js");
    p.symlink("a.js", "proj/src/b.js");
    p.imports("./a.js");
    let out = p.refused("a symlink loop");
    assert!(out.contains("a.js"), "{out}");
    p.symlink("l2", "proj/node_modules/l1");
    p.symlink("l1", "proj/node_modules/l2");
    p.imports("l1");
    let out = p.refused("a package symlink loop");
    assert!(out.contains("cannot import \"l1\""), "{out}");

    // package.json nested 100 000 deep; one with 20 000 conditions; one over the 1 MiB manifest limit.
    let deep = format!(
        r#"{{ "name": "deep", "exports": {}"./x.js"{} }}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    package(&p, "deep", &deep, &[("x.js", "export default 1;\n")]);
    p.imports("deep");
    let out = p.refused("a deeply nested package.json");
    assert!(
        out.contains("cannot import \"deep\"") && out.contains("recursion limit"),
        "{out}"
    );
    let conditions: Vec<String> = (0..20_000).map(|i| format!("\"c{i}\": \"./nope{i}.js\"")).collect();
    let wide = format!(
        r#"{{ "name": "wide", "type": "module", "exports": {{ {}, "default": "./ok.js" }} }}"#,
        conditions.join(", ")
    );
    package(&p, "wide", &wide, &[("ok.js", "export default 'wide';\n")]);
    p.imports("wide");
    let (code, out) = p.check();
    assert_eq!(code, 0, "20 000 conditions, the last one matching: {out}");
    let huge = format!(
        r#"{{ "name": "huge", "main": "x.js", "pad": "{}" }}"#,
        " ".repeat(2 << 20)
    );
    package(&p, "huge", &huge, &[("x.js", "export default 1;\n")]);
    p.imports("huge");
    let out = p.refused("a 2 MiB package.json");
    assert!(
        out.contains("cannot import \"huge\"")
            && out.contains("huge/package.json was not read: larger than the 1 MiB limit"),
        "{out}"
    );

    // An import cycle across two packages loads (as in Node).
    package(
        &p,
        "p",
        r#"{ "name": "p", "type": "module", "main": "i.js" }"#,
        &[("i.js", "import q from 'q';\nexport default 'p';\n")],
    );
    package(
        &p,
        "q",
        r#"{ "name": "q", "type": "module", "main": "i.js" }"#,
        &[("i.js", "import p from 'p';\nexport default 'q';\n")],
    );
    p.imports("p");
    let (code, out) = p.check();
    assert_eq!(code, 0, "an import cycle across packages: {out}");
}

#[test]
fn deep_or_huge_wrangler_files_fail_the_test() {
    let p = Project::new("wr-bomb");
    p.imports("./inner.js");
    p.write("proj/src/inner.js", "export default 1;\n");
    let nested = format!(
        r#"{{ "name": "app", "main": "src/index.js", "vars": {{ "X": {}{} }} }}"#,
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    p.write("proj/wrangler.json", &nested);
    let out = p.refused("a wrangler.json nested 200 000 deep");
    assert!(out.contains("wrangler.json") && out.contains("nesting"), "{out}");

    let toml = format!(
        "name = \"app\"\nmain = \"src/index.js\"\n[vars]\nX = {}{}\n",
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    p.write("proj/wrangler.toml", &toml);
    p.write(
        "isoproxy.toml",
        &format!(
            "[server]\nlisten = [\"127.0.0.1:1\"]\n[[workers]]\nwrangler = \"{}\"\n",
            p.path("proj/wrangler.toml").display()
        ),
    );
    let out = p.refused("a wrangler.toml nested 200 000 deep");
    assert!(out.contains("wrangler.toml") && out.contains("recursion"), "{out}");

    // Over the 16 MiB limit for a configuration file: refused from its
    // size (a sparse file, so the test writes nothing).
    let big = std::fs::File::create(p.path("proj/wrangler.toml")).unwrap();
    big.set_len(3 << 30).unwrap();
    let out = p.refused("a 3 GiB wrangler.toml");
    assert!(
        out.contains("wrangler.toml") && out.contains("larger than the 16 MiB limit"),
        "{out}"
    );
}

/// The ceiling a failed load may push the proxy's peak RSS to: far below
/// the 4 GiB files below, far above what the proxy itself needs.
const PEAK_RSS_CEILING: u64 = 1 << 30;

#[tokio::test]
async fn oversized_files_fail_a_reload_from_their_size_and_the_old_version_serves() {
    let proxy = Proxy::builder()
        .script("proj/wrangler.json", r#"{ "name": "app", "main": "src/index.js" }"#)
        .script("proj/src/index.js", &format!("import x from './v.js';\n{INDEX}"))
        .script("proj/src/v.js", "export default 'v1';\n")
        .config("[[workers]]\nwrangler = \"proj/wrangler.json\"\n\n[[routes]]\npattern = \"*/*\"\nworker = \"app\"\n")
        .start()
        .await;
    let get = || async { client().get(proxy.url("/")).send().await.unwrap().text().await.unwrap() };
    assert_eq!(get().await, "v1");
    let dir = proxy.dir.path().to_path_buf();

    // A 4 GiB module (sparse): it used to be read whole before the 10 MiB
    // limit was checked.
    let big = std::fs::File::create(dir.join("proj/src/v.js")).unwrap();
    big.set_len(4 << 30).unwrap();
    proxy.hup();
    let log = proxy
        .wait_for_log("the script is larger than the 10 MiB limit", Duration::from_secs(60))
        .await;
    assert!(log.contains("reload failed"), "{log}");
    assert_eq!(get().await, "v1", "the last good version still serves");

    // A 4 GiB package.json.
    std::fs::write(dir.join("proj/src/v.js"), "export default 'v2';\n").unwrap();
    std::fs::write(dir.join("proj/src/index.js"), format!("import x from 'fat';\n{INDEX}")).unwrap();
    std::fs::create_dir_all(dir.join("proj/node_modules/fat")).unwrap();
    std::fs::write(dir.join("proj/node_modules/fat/index.js"), "export default 'fat';\n").unwrap();
    let fat = std::fs::File::create(dir.join("proj/node_modules/fat/package.json")).unwrap();
    fat.set_len(4 << 30).unwrap();
    proxy.hup();
    let log = proxy
        .wait_for_log(
            "fat/package.json was not read: larger than the 1 MiB limit",
            Duration::from_secs(60),
        )
        .await;
    assert!(log.contains("cannot import \"fat\""), "{log}");
    assert_eq!(get().await, "v1");

    // A module that is a FIFO: the reload fails instead of hanging, and the
    // next good one goes through.
    std::fs::write(
        dir.join("proj/src/index.js"),
        format!("import x from './v.js';\n{INDEX}"),
    )
    .unwrap();
    std::fs::remove_file(dir.join("proj/src/v.js")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(dir.join("proj/src/v.js"))
            .status()
            .unwrap()
            .success()
    );
    proxy.hup();
    proxy.wait_for_log("not a regular file", Duration::from_secs(60)).await;
    assert_eq!(get().await, "v1");
    std::fs::remove_file(dir.join("proj/src/v.js")).unwrap();
    std::fs::write(dir.join("proj/src/v.js"), "export default 'v3';\n").unwrap();
    proxy.hup();
    let start = Instant::now();
    while get().await != "v3" {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the good reload never came:\n{}",
            proxy.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let peak = proxy.peak_rss_bytes();
    assert!(
        peak < PEAK_RSS_CEILING,
        "peak RSS {} MiB: a refused file was read into memory",
        peak >> 20
    );
}
