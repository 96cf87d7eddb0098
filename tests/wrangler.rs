//! Workers projects as wrangler describes them, through the real binary:
//! `[[workers]] wrangler = ".../wrangler.jsonc"` (and `.toml`) in the
//! formats `npm create cloudflare` writes, and npm packages (hono with its
//! middleware, itty-router, jose) imported by bare specifier from the
//! project's node_modules, with no build step.
//!
//! The packages are installed by `./dev test` (`npm ci --ignore-scripts`
//! in tests/fixtures/wrangler-app, from its package-lock.json).

mod common;

use std::path::{Path, PathBuf};

use common::{Proxy, TempDir, check_config, client};
use serde_json::Value;

/// The fixture project, after checking its packages are installed.
fn app() -> PathBuf {
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler-app");
    for package in ["hono", "itty-router", "jose", "ms"] {
        let manifest = app.join("node_modules").join(package).join("package.json");
        assert!(
            manifest.is_file(),
            "{} is missing: the npm packages of {} are not installed. Run `./dev test` \
             (it runs `npm ci --ignore-scripts` there; that needs npm and the npm registry), \
             or run that command in {} yourself.",
            manifest.display(),
            app.display(),
            app.display()
        );
    }
    app
}

fn wrangler_file(name: &str) -> String {
    app().join(name).display().to_string()
}

const SECRET: &str = "a-test-signing-secret-of-32-bytes!";

async fn hono(env: Option<&str>) -> Proxy {
    let env = env.map(|e| format!("wrangler_env = \"{e}\"\n")).unwrap_or_default();
    Proxy::builder()
        .env("HONO_JWT_SECRET", SECRET)
        .config(&format!(
            "[[workers]]\nwrangler = \"{}\"\n{env}secrets = {{ JWT_SECRET = {{ env = \"HONO_JWT_SECRET\" }} }}\n",
            wrangler_file("wrangler.jsonc")
        ))
        .start()
        .await
}

async fn get(proxy: &Proxy, host: &str, path: &str) -> reqwest::Response {
    client().get(proxy.url(path)).header("host", host).send().await.unwrap()
}

#[tokio::test]
async fn a_hono_project_from_wrangler_jsonc_runs_with_its_middleware() {
    let proxy = hono(None).await;

    // The route comes from wrangler.jsonc, the var too.
    let res = get(&proxy, "hono.localhost", "/").await;
    assert_eq!(res.status(), 200);
    // hono/secure-headers ran.
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.text().await.unwrap(), "Hello Hono! production greeting");

    // hono/cors.
    let res = client()
        .get(proxy.url("/api/hello/ada"))
        .header("host", "hono.localhost")
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "https://app.example");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["hello"], "ada");
    assert_eq!(body["environment"], "production");

    // hono/etag: a second request with the tag gets 304.
    let res = get(&proxy, "hono.localhost", "/etag/data").await;
    let tag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(res.text().await.unwrap(), "tagged body");
    let res = client()
        .get(proxy.url("/etag/data"))
        .header("host", "hono.localhost")
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);

    // A token signed by jose, checked by hono/jwt; a bad one is refused.
    let res = client()
        .post(proxy.url("/token"))
        .header("host", "hono.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let me = |token: String| {
        client()
            .get(proxy.url("/private/me"))
            .header("host", "hono.localhost")
            .header("authorization", format!("Bearer {token}"))
            .send()
    };
    let res = me(token.clone()).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["sub"], "alice");
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(me(forged).await.unwrap().status(), 401);

    // Only the wrangler routes lead to the worker.
    assert_eq!(get(&proxy, "other.localhost", "/").await.status(), 404);

    // /workers names the worker as wrangler.jsonc does.
    let workers: Value = proxy.workers().await;
    assert!(workers.to_string().contains("hono-app"), "{workers}");
}

#[tokio::test]
async fn wrangler_env_picks_the_section_with_its_vars_routes_and_name() {
    let proxy = hono(Some("staging")).await;
    let res = get(&proxy, "staging.hono.localhost", "/api/hello/bo").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["environment"], "staging");
    // The section's KV binding is a KV namespace (bindings are the section's own).
    assert_eq!(body["sessions"], "object");
    // The top level's route is not the section's.
    assert_eq!(get(&proxy, "hono.localhost", "/").await.status(), 404);
    assert!(!proxy.log().contains("not supported"), "{}", proxy.log());
    let workers = proxy.workers().await.to_string();
    assert!(workers.contains("hono-app-staging"), "{workers}");
}

#[tokio::test]
async fn an_itty_router_project_from_wrangler_toml_runs_with_jose() {
    let proxy = Proxy::builder()
        .config(&format!(
            "[[workers]]\nwrangler = \"{}\"\n",
            wrangler_file("wrangler.toml")
        ))
        .start()
        .await;
    let res = get(&proxy, "itty.localhost", "/items/42").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["id"], "42");
    assert_eq!(body["region"], "eu-west");
    assert_eq!(body["uploads"], "undefined");
    let res = get(&proxy, "itty.localhost", "/es256").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "sub": "bob", "alg": "ES256" }));
    // itty-router's AutoRouter answers 404 itself for unknown paths.
    assert_eq!(get(&proxy, "itty.localhost", "/nope").await.status(), 404);
    // The cron trigger from [triggers] runs the scheduled handler.
    let res = client()
        .post(proxy.admin_url("/__scheduled?worker=itty-app&cron=*/5+*+*+*+*"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    proxy
        .wait_for_log(
            "itty-app cron */5 * * * * in eu-west",
            std::time::Duration::from_secs(5),
        )
        .await;
}

#[test]
fn test_mode_reports_bindings_isoproxy_does_not_have() {
    let dir = TempDir::new("wrangler");
    let conf = dir.write(
        "isoproxy.toml",
        &format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n\n[[workers]]\nwrangler = \"{}\"\n",
            wrangler_file("wrangler.toml")
        ),
    );
    let (code, out) = check_config(&conf);
    assert_eq!(code, 0, "{out}");
    // wrangler.toml line 30 is the [[r2_buckets]] entry.
    assert!(
        out.contains("wrangler.toml:30:1: r2_buckets[0]: binding \"UPLOADS\" is not supported by isoproxy"),
        "{out}"
    );
    assert!(out.contains("1 workers compiled, 1 routes"), "{out}");
}

/// A throwaway project: `files` written under a temp dir.
fn project(files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new("wrangler-proj");
    for (name, text) in files {
        dir.write(name, text);
    }
    dir
}

fn check(dir: &TempDir, entry: &str) -> (i32, String) {
    let conf = dir.write(
        "isoproxy.toml",
        &format!("[server]\nlisten = [\"127.0.0.1:0\"]\n\n{entry}"),
    );
    check_config(&conf)
}

#[test]
fn errors_in_a_wrangler_file_name_its_line_and_column() {
    let dir = project(&[
        (
            "app/src/index.js",
            "export default { fetch() { return new Response('x'); } };\n",
        ),
        (
            "app/wrangler.jsonc",
            "// comment\n{\n  \"name\": \"app\",\n  \"main\": \"src/index.js\",\n  \"compatibility_date\": \"2025-13-01\",\n}\n",
        ),
    ]);
    let (code, out) = check(&dir, "[[workers]]\nwrangler = \"app/wrangler.jsonc\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("app/wrangler.jsonc:5:25: compatibility_date:"), "{out}");

    dir.write("app/wrangler.jsonc", "{\n  \"name\": \"app\"\n  \"main\": 1\n}\n");
    let (code, out) = check(&dir, "[[workers]]\nwrangler = \"app/wrangler.jsonc\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("app/wrangler.jsonc:2:16: Expected comma"),
        "a missing comma is a syntax error: {out}"
    );

    dir.write(
        "app/wrangler.toml",
        "name = \"app\"\nmain = \"src/index.js\"\n[triggers]\ncrons = [\"61 * * * *\"]\n",
    );
    let (code, out) = check(&dir, "[[workers]]\nwrangler = \"app/wrangler.toml\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("app/wrangler.toml:4:10: triggers.crons[0]:"), "{out}");

    // An environment the file does not have: named at the config's key.
    let (code, out) = check(
        &dir,
        "[[workers]]\nwrangler = \"app/wrangler.toml\"\nwrangler_env = \"prod\"\n",
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("isoproxy.toml:6:16: workers[0].wrangler_env:"), "{out}");
    assert!(out.contains("no [env.prod] section"), "{out}");

    // Settings that come from the wrangler file cannot be given twice.
    let (code, out) = check(&dir, "[[workers]]\nwrangler = \"app/wrangler.toml\"\nmain = \"x.js\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("workers[0].main: comes from the wrangler file"), "{out}");
}

#[test]
fn a_commonjs_only_package_is_refused_at_test_with_its_name() {
    // `ms` (npm, 2.1.3) ships only CommonJS (module.exports), in a project
    // of its own with the package copied from the fixture's node_modules.
    let installed = app().join("node_modules/ms");
    let dir = project(&[
        (
            "app/src/index.js",
            "import ms from \"ms\";\nexport default { fetch() { return new Response(String(ms(\"1h\"))); } };\n",
        ),
        ("app/wrangler.toml", "name = \"app\"\nmain = \"src/index.js\"\n"),
    ]);
    for file in ["package.json", "index.js"] {
        let to = dir.path().join("app/node_modules/ms").join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(installed.join(file), to).unwrap();
    }
    let (code, out) = check(&dir, "[[workers]]\nwrangler = \"app/wrangler.toml\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("package \"ms\" is CommonJS"), "{out}");
    assert!(out.contains("index.js:1:16"), "points at the import: {out}");
}

#[test]
fn packages_resolve_only_inside_the_project() {
    let outside = project(&[(
        "evil/package.json",
        "{ \"name\": \"evil\", \"type\": \"module\", \"exports\": \"./index.js\" }\n",
    )]);
    outside.write("evil/index.js", "export const secret = 1;\n");
    let dir = project(&[
        (
            "app/src/index.js",
            "import { secret } from \"evil\";\nexport default { fetch() { return new Response(String(secret)); } };\n",
        ),
        ("app/wrangler.toml", "name = \"app\"\nmain = \"src/index.js\"\n"),
    ]);
    std::fs::create_dir_all(dir.path().join("app/node_modules")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("evil"), dir.path().join("app/node_modules/evil")).unwrap();
    let (code, out) = check(&dir, "[[workers]]\nwrangler = \"app/wrangler.toml\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cannot import \"evil\""), "{out}");
    assert!(out.contains("symlink"), "{out}");

    // A package that is not installed says so.
    dir.write(
        "app/src/index.js",
        "import { Hono } from \"hono\";\nexport default new Hono();\n",
    );
    let (code, out) = check(&dir, "[[workers]]\nwrangler = \"app/wrangler.toml\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cannot import \"hono\": no package provides it"), "{out}");
    assert!(out.contains("index.js:1:22"), "{out}");
}
