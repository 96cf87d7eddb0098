//! `[[workers]] wrangler = "app/wrangler.toml"`: a worker taken from a
//! Workers project's own wrangler configuration (`wrangler.toml`,
//! `wrangler.json` or `wrangler.jsonc`, told apart by the extension).
//!
//! Taken: `name`, `main`, `compatibility_date`, `compatibility_flags`,
//! `vars`, `kv_namespaces`, `triggers.crons`, `route`/`routes` (`pattern`; `zone_name` and
//! `zone_id` ignored; `custom_domain` routes serve the whole host) and
//! `limits.cpu_ms`, optionally from one `[env.NAME]` section chosen by the
//! entry's `wrangler_env`, with wrangler's inheritance rules: `name`
//! becomes `NAME-ENV` unless the section names it; `main`, compatibility
//! settings, routes, triggers and limits are inherited from the top level;
//! `vars` and bindings (`kv_namespaces` among them) are not.
//!
//! Everything else is either a deploy-time setting with no effect on how a
//! worker runs (`account_id`, `observability`, `upload_source_maps`, ...),
//! accepted silently, or something isoproxy does not provide: each binding
//! (`r2_buckets`, `d1_databases`, `durable_objects`,
//! `services`, `assets`, ...) and each unknown key is reported by name
//! (`Wrangler::ignored`), never dropped silently.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jsonc_parser::ast::Value as JsonNode;
use serde_json::{Map, Value};

use super::error::{ConfigError, Location, io_reason};
use super::span::{Doc, Seg, key_string, location};
use super::validate::{is_name_byte, is_valid_date};
use crate::route::RoutePattern;

/// A worker as its wrangler file describes it.
#[derive(Debug)]
pub(super) struct Wrangler {
    pub name: String,
    /// Absolute and canonical.
    pub main: PathBuf,
    /// The file's directory, canonical: the worker's default root (its
    /// `node_modules` must be under it).
    pub dir: PathBuf,
    pub compatibility_date: Option<String>,
    pub compatibility_flags: Vec<String>,
    pub vars: Map<String, Value>,
    pub crons: Vec<String>,
    /// Each route with where it is written and its key, for errors.
    pub routes: Vec<(RoutePattern, Location, String)>,
    pub cpu_ms: Option<u64>,
    /// `kv_namespaces` (a binding: not inherited by `[env.NAME]` sections).
    pub kv_namespaces: Vec<super::schema::KvNamespaceConfig>,
    /// One line per setting isoproxy does not run, `file:line:column: key: why`.
    pub ignored: Vec<String>,
}

/// Why a wrangler file could not be used.
pub(super) enum WranglerError {
    /// Unreadable: reported at the `wrangler` key of the config file.
    Io(String),
    /// `wrangler_env` names no `[env.NAME]` section: reported at that key.
    NoEnv(String),
    /// A problem inside the wrangler file, located there (boxed: it is
    /// the large variant).
    Config(Box<ConfigError>),
}

impl From<ConfigError> for WranglerError {
    fn from(e: ConfigError) -> Self {
        WranglerError::Config(Box::new(e))
    }
}

/// Keys that change only how wrangler builds or deploys, not how the
/// worker runs: accepted without a word.
const DEPLOY_ONLY: &[&str] = &[
    "$schema",
    "account_id",
    "base_dir",
    "build",
    "compliance_region",
    "dev",
    "find_additional_modules",
    "first_party_worker",
    "keep_names",
    "keep_vars",
    "legacy_env",
    "logpush",
    "migrations",
    "minify",
    "no_bundle",
    "observability",
    "placement",
    "preserve_file_names",
    "preview_urls",
    "rules",
    "send_metrics",
    "tsconfig",
    "upload_source_maps",
    "usage_model",
    "workers_dev",
];

/// Keys whose entries are bindings (`env.NAME`) isoproxy does not have.
const BINDINGS: &[&str] = &[
    "ai",
    "analytics_engine_datasets",
    "assets",
    "browser",
    "d1_databases",
    "data_blobs",
    "dispatch_namespaces",
    "durable_objects",
    "hyperdrive",
    "images",
    "mtls_certificates",
    "pipelines",
    "queues",
    "r2_buckets",
    "secrets_store_secrets",
    "send_email",
    "services",
    "tail_consumers",
    "text_blobs",
    "unsafe",
    "vectorize",
    "version_metadata",
    "wasm_modules",
    "workflows",
];

/// Keys an `[env.NAME]` section inherits from the top level (wrangler's
/// "inheritable keys" that isoproxy takes; an inherited `name` gets the
/// section's name appended).
const INHERITED: &[&str] = &[
    "name",
    "main",
    "compatibility_date",
    "compatibility_flags",
    "route",
    "routes",
    "triggers",
    "limits",
];

/// A key path in a wrangler file.
type KeyPath<'r> = Vec<Seg<'r>>;

/// The chosen `[env.NAME]` section: its name and its table.
type Section<'r> = Option<(&'r str, &'r Map<String, Value>)>;

/// `key`'s value and path: from the section, or inherited from the top level.
fn lookup<'r>(root: &'r Map<String, Value>, section: Section<'r>, key: &'r str) -> Option<(&'r Value, KeyPath<'r>)> {
    if let Some((env, table)) = section {
        if let Some(v) = table.get(key) {
            return Some((v, vec![Seg::Key("env"), Seg::Key(env), Seg::Key(key)]));
        }
        if !INHERITED.contains(&key) {
            return None;
        }
    }
    root.get(key).map(|v| (v, vec![Seg::Key(key)]))
}

fn string<'r>(
    file: &Source<'_>,
    found: Option<(&'r Value, KeyPath<'r>)>,
) -> Result<Option<(String, KeyPath<'r>)>, ConfigError> {
    match found {
        None => Ok(None),
        Some((Value::String(s), at)) => Ok(Some((s.clone(), at))),
        Some((_, at)) => Err(file.invalid(&at, "expected a string")),
    }
}

fn strings(file: &Source<'_>, value: &Value, at: &[Seg<'_>]) -> Result<Vec<String>, ConfigError> {
    let items = value
        .as_array()
        .ok_or_else(|| file.invalid(at, "expected an array of strings"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut at = at.to_vec();
            at.push(Seg::Index(i));
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| file.invalid(&at, "expected a string"))
        })
        .collect()
}

/// Reads the wrangler file at `path` (absolute), with section `env`.
pub(super) fn load(path: &Path, env: Option<&str>) -> Result<Wrangler, WranglerError> {
    // Bounded, and never a FIFO: a wrangler file is part of the project.
    let text = plugin_runtime::read_bounded_string(path, super::MAX_CONFIG_FILE_BYTES)
        .map_err(|e| WranglerError::Io(io_reason(&e)))?;
    let dir = path
        .parent()
        .unwrap_or(Path::new("/"))
        .canonicalize()
        .map_err(|e| WranglerError::Io(io_reason(&e)))?;
    let file = Source::parse(&text, path)?;
    let root = file
        .value
        .as_object()
        .ok_or_else(|| file.invalid(&[], "expected a table"))?;

    // The section the worker comes from.
    let section: Section<'_> = match env {
        None => None,
        Some(name) => {
            let envs = root.get("env").and_then(Value::as_object);
            match envs.and_then(|e| e.get_key_value(name)) {
                Some((name, Value::Object(o))) => Some((name.as_str(), o)),
                Some(_) => {
                    return Err(file
                        .invalid(&[Seg::Key("env"), Seg::Key(name)], "expected a table")
                        .into());
                }
                None => {
                    let known: Vec<&str> = envs.map(|e| e.keys().map(String::as_str).collect()).unwrap_or_default();
                    let known = if known.is_empty() {
                        "it has none".to_string()
                    } else {
                        format!("it has {}", known.join(", "))
                    };
                    return Err(WranglerError::NoEnv(format!(
                        "{} has no [env.{name}] section ({known})",
                        path.display()
                    )));
                }
            }
        }
    };
    let get = |key: &'static str| lookup(root, section, key);

    let (name, name_at) = match (string(&file, get("name"))?, section) {
        (Some((name, at)), Some((_, table))) if table.contains_key("name") => (name, at),
        (Some((name, at)), Some((env, _))) => (format!("{name}-{env}"), at),
        (Some((name, at)), None) => (name, at),
        (None, _) => return Err(file.invalid(&[Seg::Key("name")], "is required").into()),
    };
    if name.is_empty() || !name.bytes().all(is_name_byte) {
        return Err(file
            .invalid(
                &name_at,
                format!("invalid worker name {name:?}: use letters, digits, `_` and `-`"),
            )
            .into());
    }

    let Some((main, main_at)) = string(&file, get("main"))? else {
        return Err(file
            .invalid(&[Seg::Key("main")], "is required (the worker's entry module)")
            .into());
    };
    if [".ts", ".tsx", ".mts", ".cts"].iter().any(|ext| main.ends_with(ext)) {
        return Err(file
            .invalid(
                &main_at,
                format!(
                    "{main:?} is TypeScript, which isoproxy does not compile: build the worker to JavaScript first (`wrangler deploy --dry-run --outdir dist`) and point `main` at the output"
                ),
            )
            .into());
    }
    let main_path = dir
        .join(&main)
        .canonicalize()
        .map_err(|error| ConfigError::MissingScript {
            at: file.at(&main_at),
            key: key_string(&main_at),
            script: PathBuf::from(&main),
            error,
        })?;
    if !main_path.is_file() {
        return Err(file.invalid(&main_at, format!("{main} is not a file")).into());
    }

    let compatibility_date = match string(&file, get("compatibility_date"))? {
        Some((date, at)) if !is_valid_date(&date) => {
            return Err(file
                .invalid(&at, format!("{date:?} is not a date in the form YYYY-MM-DD"))
                .into());
        }
        other => other.map(|(d, _)| d),
    };

    let mut compatibility_flags = Vec::new();
    if let Some((value, at)) = get("compatibility_flags") {
        compatibility_flags = strings(&file, value, &at)?;
        if let Err((i, error)) =
            plugin_runtime::CompatFlags::resolve(compatibility_date.as_deref(), &compatibility_flags)
        {
            let mut at = at.clone();
            at.push(Seg::Index(i));
            return Err(file.invalid(&at, error.to_string()).into());
        }
    }

    let mut vars = Map::new();
    if let Some((value, at)) = get("vars") {
        vars = value
            .as_object()
            .cloned()
            .ok_or_else(|| file.invalid(&at, "expected a table"))?;
    }

    let mut kv_namespaces = Vec::new();
    if let Some((value, at)) = get("kv_namespaces") {
        let items = value
            .as_array()
            .ok_or_else(|| file.invalid(&at, "expected an array of `{ binding, id }` tables"))?;
        for (i, item) in items.iter().enumerate() {
            let mut at = at.clone();
            at.push(Seg::Index(i));
            let field = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
            let Some(binding) = field("binding") else {
                return Err(file.invalid(&at, "a KV namespace needs a `binding` string").into());
            };
            // wrangler dev runs without ids; the binding names the namespace then.
            let id = field("id").unwrap_or_else(|| binding.clone());
            let ns = super::schema::KvNamespaceConfig {
                binding,
                id,
                preview_id: field("preview_id"),
            };
            super::validate::check_kv_namespace(&ns).map_err(|reason| file.invalid(&at, reason))?;
            kv_namespaces.push(ns);
        }
    }

    let mut crons = Vec::new();
    if let Some((value, at)) = get("triggers") {
        let triggers = value.as_object().ok_or_else(|| file.invalid(&at, "expected a table"))?;
        if let Some(list) = triggers.get("crons") {
            let mut at = at.clone();
            at.push(Seg::Key("crons"));
            crons = strings(&file, list, &at)?;
            for (i, expr) in crons.iter().enumerate() {
                if let Err(e) = crate::cron::CronSchedule::parse(expr) {
                    at.push(Seg::Index(i));
                    return Err(file.invalid(&at, e.to_string()).into());
                }
            }
        }
    }

    let mut routes = Vec::new();
    // `route` and `routes` are one setting: a section that has either
    // replaces both of the top level's.
    let own_routes = section.is_some_and(|(_, t)| t.contains_key("route") || t.contains_key("routes"));
    for key in ["route", "routes"] {
        let found = match section {
            Some((env, table)) if own_routes => table
                .get(key)
                .map(|v| (v, vec![Seg::Key("env"), Seg::Key(env), Seg::Key(key)])),
            _ => root.get(key).map(|v| (v, vec![Seg::Key(key)])),
        };
        let Some((value, at)) = found else { continue };
        let entries: Vec<(&Value, KeyPath<'_>)> = match value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let mut at = at.clone();
                    at.push(Seg::Index(i));
                    (v, at)
                })
                .collect(),
            one => vec![(one, at.clone())],
        };
        for (entry, at) in entries {
            let (text, at) = match entry {
                Value::String(s) => (s.clone(), at),
                Value::Object(o) => {
                    let mut pattern_at = at.clone();
                    pattern_at.push(Seg::Key("pattern"));
                    let Some(Value::String(pattern)) = o.get("pattern") else {
                        return Err(file.invalid(&at, "a route needs a `pattern` string").into());
                    };
                    if o.get("custom_domain") == Some(&Value::Bool(true)) {
                        // A custom domain is a whole host.
                        (format!("{pattern}/*"), pattern_at)
                    } else {
                        (pattern.clone(), pattern_at)
                    }
                }
                _ => {
                    return Err(file
                        .invalid(&at, "expected a route pattern or a table with `pattern`")
                        .into());
                }
            };
            let pattern = RoutePattern::parse(&text).map_err(|e| file.invalid(&at, e.to_string()))?;
            routes.push((pattern, file.at(&at), key_string(&at)));
        }
    }

    let mut ignored = Vec::new();
    let mut cpu_ms = None;
    if let Some((value, at)) = get("limits") {
        let limits = value.as_object().ok_or_else(|| file.invalid(&at, "expected a table"))?;
        for (k, v) in limits {
            let mut at = at.clone();
            at.push(Seg::Key(k));
            if k == "cpu_ms" {
                let n = v.as_u64().filter(|n| *n > 0);
                cpu_ms = Some(n.ok_or_else(|| file.invalid(&at, "must be at least 1"))?);
            } else {
                ignored.push(format!(
                    "{}: {}: not a limit isoproxy has; ignored",
                    file.at(&at),
                    key_string(&at)
                ));
            }
        }
    }

    match section {
        Some((env, table)) => {
            // The section's own bindings apply; the top level's are not inherited.
            report(&file, root, &[], false, &mut ignored);
            report(&file, table, &[Seg::Key("env"), Seg::Key(env)], true, &mut ignored);
        }
        None => report(&file, root, &[], true, &mut ignored),
    }

    Ok(Wrangler {
        name,
        main: main_path,
        dir,
        compatibility_date,
        compatibility_flags,
        vars,
        crons,
        routes,
        cpu_ms,
        kv_namespaces,
        ignored,
    })
}

/// Adds to `out` what `object` (at `prefix`) holds that is not taken:
/// bindings by name (when `bindings` is set), unknown keys by key.
fn report(file: &Source<'_>, object: &Map<String, Value>, prefix: &[Seg<'_>], bindings: bool, out: &mut Vec<String>) {
    for (key, value) in object {
        let key = key.as_str();
        let mut at = prefix.to_vec();
        at.push(Seg::Key(key));
        let taken = matches!(
            key,
            "name"
                | "main"
                | "compatibility_date"
                | "compatibility_flags"
                | "vars"
                | "triggers"
                | "route"
                | "routes"
                | "limits"
                | "kv_namespaces"
                | "env"
        );
        if taken || DEPLOY_ONLY.contains(&key) {
            continue;
        }
        if BINDINGS.contains(&key) {
            if !bindings {
                continue;
            }
            for (binding, below) in binding_names(key, value) {
                let mut at = at.clone();
                at.extend(below);
                out.push(format!(
                    "{}: {}: binding {binding:?} is not supported by isoproxy; env.{binding} will be undefined",
                    file.at(&at),
                    key_string(&at)
                ));
            }
        } else {
            out.push(format!(
                "{}: {}: not a setting isoproxy takes; ignored",
                file.at(&at),
                key_string(&at)
            ));
        }
    }
}

/// The bindings a binding key declares: each name (`binding`, `name`, ...,
/// or the key itself) and where it is below the key.
fn binding_names<'v>(key: &'v str, value: &'v Value) -> Vec<(String, KeyPath<'v>)> {
    let name_of = |v: &Value| -> Option<String> {
        let o = v.as_object()?;
        ["binding", "name", "service", "queue"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .map(str::to_owned)
    };
    let items = |list: Option<&'v Value>, prefix: KeyPath<'v>| -> Vec<(String, KeyPath<'v>)> {
        let Some(Value::Array(items)) = list else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let mut at = prefix.clone();
                at.push(Seg::Index(i));
                name_of(v).map(|n| (n, at))
            })
            .collect()
    };
    let names = match (key, value) {
        // Legacy module bindings: `{ NAME = "path" }`.
        ("wasm_modules" | "text_blobs" | "data_blobs", Value::Object(o)) => {
            o.keys().map(|k| (k.clone(), vec![Seg::Key(k.as_str())])).collect()
        }
        ("durable_objects" | "unsafe", Value::Object(o)) => items(o.get("bindings"), vec![Seg::Key("bindings")]),
        ("queues", Value::Object(o)) => {
            let mut all = items(o.get("producers"), vec![Seg::Key("producers")]);
            all.extend(items(o.get("consumers"), vec![Seg::Key("consumers")]));
            all
        }
        (_, list @ Value::Array(_)) => items(Some(list), Vec::new()),
        (_, one @ Value::Object(_)) => name_of(one).map(|n| (n, Vec::new())).into_iter().collect(),
        _ => Vec::new(),
    };
    if names.is_empty() {
        vec![(key.to_owned(), Vec::new())]
    } else {
        names
    }
}

/// A wrangler file's values (as JSON) and where each is written.
struct Source<'a> {
    value: Value,
    spans: Spans<'a>,
}

enum Spans<'a> {
    Toml(Doc<'a>),
    Json {
        text: &'a str,
        file: Arc<Path>,
        root: Option<JsonNode<'a>>,
    },
}

/// What wrangler's own JSONC reader accepts: comments and trailing
/// commas, nothing looser.
fn json_options() -> jsonc_parser::ParseOptions {
    jsonc_parser::ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        ..Default::default()
    }
}

impl<'a> Source<'a> {
    fn parse(text: &'a str, path: &'a Path) -> Result<Source<'a>, ConfigError> {
        let is_toml = path.extension().is_some_and(|e| e == "toml");
        if is_toml {
            let doc = Doc::parse(text, path)?;
            let table: toml::Table = toml::from_str(text).map_err(|e| doc.schema_error(&e))?;
            let value = super::schema::toml_to_json(toml::Value::Table(table), "")
                .map_err(|reason| doc.invalid(&[], reason))?;
            return Ok(Source {
                value,
                spans: Spans::Toml(doc),
            });
        }
        let file: Arc<Path> = path.into();
        let syntax = |e: jsonc_parser::errors::ParseError| ConfigError::Parse {
            at: location(text, &file, e.range().start),
            key: String::new(),
            message: e.kind().to_string(),
        };
        let options = json_options();
        let root = jsonc_parser::parse_to_ast(text, &Default::default(), &options).map_err(syntax)?;
        let value: Value = jsonc_parser::parse_to_serde_value(text, &options).map_err(syntax)?;
        Ok(Source {
            value,
            spans: Spans::Json {
                text,
                file: file.clone(),
                root: root.value,
            },
        })
    }

    fn at(&self, path: &[Seg<'_>]) -> Location {
        match &self.spans {
            Spans::Toml(doc) => doc.at(path),
            Spans::Json { text, file, root } => location(text, file, json_offset(root.as_ref(), path)),
        }
    }

    fn invalid(&self, path: &[Seg<'_>], reason: impl Into<String>) -> ConfigError {
        match &self.spans {
            Spans::Toml(doc) => doc.invalid(path, reason),
            Spans::Json { .. } => ConfigError::Invalid {
                at: self.at(path),
                key: key_string(path),
                reason: reason.into(),
            },
        }
    }
}

/// Where the value at `path` starts in a JSON(C) file (or its nearest
/// existing ancestor, or the start of the file).
fn json_offset(root: Option<&JsonNode<'_>>, path: &[Seg<'_>]) -> usize {
    use jsonc_parser::common::Ranged;
    let Some(mut node) = root else { return 0 };
    let mut offset: Range<usize> = node.start()..node.end();
    for seg in path {
        let next = match (seg, node) {
            (Seg::Key(k), JsonNode::Object(o)) => o.get(k).map(|p| &p.value),
            (Seg::Index(i), JsonNode::Array(a)) => a.elements.get(*i),
            _ => None,
        };
        let Some(next) = next else { break };
        node = next;
        offset = node.start()..node.end();
    }
    offset.start
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    /// A project directory with `src/index.js` and the given files.
    struct Project(PathBuf);

    impl Project {
        fn new(files: &[(&str, &str)]) -> Project {
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("isoproxy-wrangler-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("src")).unwrap();
            fs::write(dir.join("src/index.js"), "export default {};\n").unwrap();
            for (name, text) in files {
                fs::write(dir.join(name), text).unwrap();
            }
            Project(dir.canonicalize().unwrap())
        }

        fn load(&self, file: &str, env: Option<&str>) -> Wrangler {
            match load(&self.0.join(file), env) {
                Ok(w) => w,
                Err(WranglerError::Config(e)) => panic!("{e}"),
                Err(WranglerError::Io(e) | WranglerError::NoEnv(e)) => panic!("{e}"),
            }
        }

        fn error(&self, file: &str, env: Option<&str>) -> String {
            match load(&self.0.join(file), env) {
                Ok(w) => panic!("expected an error, got {w:?}"),
                Err(WranglerError::Config(e)) => {
                    let text = e.to_string();
                    text.replace(&self.0.display().to_string(), "")
                }
                Err(WranglerError::Io(e) | WranglerError::NoEnv(e)) => e.replace(&self.0.display().to_string(), ""),
            }
        }
    }

    impl Drop for Project {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const TOML: &str = r#"name = "app"
main = "src/index.js"
compatibility_date = "2025-09-27"
compatibility_flags = ["nodejs_compat"]
account_id = "abc"
route = "app.example.com/*"
r2_buckets = [{ binding = "KV", bucket_name = "1" }, { binding = "CACHE", bucket_name = "2" }]
kv_namespaces = [{ binding = "FLAGS", id = "flags" }]

[vars]
A = "top"
N = 3

[triggers]
crons = ["*/5 * * * *"]

[limits]
cpu_ms = 200

[env.staging]
vars = { A = "staging" }
routes = [{ pattern = "staging.example.com/*", zone_name = "example.com" }, { pattern = "app.staging.example", custom_domain = true }]
d1_databases = [{ binding = "DB", database_id = "x" }]

[env.named]
name = "other"
compatibility_date = "2024-01-01"
"#;

    #[test]
    fn the_top_level_is_taken_and_bindings_are_reported() {
        let p = Project::new(&[("wrangler.toml", TOML)]);
        let w = p.load("wrangler.toml", None);
        assert_eq!(w.name, "app");
        assert_eq!(w.main, p.0.join("src/index.js"));
        assert_eq!(w.dir, p.0);
        assert_eq!(w.compatibility_date.as_deref(), Some("2025-09-27"));
        assert_eq!(w.compatibility_flags, ["nodejs_compat"]);
        assert_eq!(w.vars["A"], "top");
        assert_eq!(w.vars["N"], 3);
        assert_eq!(w.crons, ["*/5 * * * *"]);
        assert_eq!(w.cpu_ms, Some(200));
        let routes: Vec<_> = w.routes.iter().map(|r| (r.0.as_str(), r.2.as_str())).collect();
        assert_eq!(routes, [("app.example.com/*", "route")]);
        assert_eq!(w.routes[0].1.line, 6);
        // account_id is deploy-only; the staging section's D1 is not ours.
        assert_eq!(w.ignored.len(), 2, "{:?}", w.ignored);
        assert!(w.ignored[0].ends_with(
            "wrangler.toml:7:15: r2_buckets[0]: binding \"KV\" is not supported by isoproxy; env.KV will be undefined"
        ), "{:?}", w.ignored);
        assert!(
            w.ignored[1].contains("r2_buckets[1]: binding \"CACHE\""),
            "{:?}",
            w.ignored
        );
        // KV namespaces are taken.
        assert_eq!(w.kv_namespaces.len(), 1);
        assert_eq!(
            (w.kv_namespaces[0].binding.as_str(), w.kv_namespaces[0].id.as_str()),
            ("FLAGS", "flags")
        );
    }

    #[test]
    fn an_env_section_inherits_as_wrangler_does() {
        let p = Project::new(&[("wrangler.toml", TOML)]);
        let w = p.load("wrangler.toml", Some("staging"));
        assert_eq!(w.name, "app-staging");
        // Inherited.
        assert_eq!(w.compatibility_flags, ["nodejs_compat"]);
        assert_eq!(w.crons, ["*/5 * * * *"]);
        assert_eq!(w.cpu_ms, Some(200));
        // Not inherited: vars; routes replaced by the section's.
        assert_eq!(w.vars.len(), 1);
        assert_eq!(w.vars["A"], "staging");
        let routes: Vec<_> = w.routes.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(routes, ["staging.example.com/*", "app.staging.example/*"]);
        // Only the section's bindings apply, so only they are reported.
        assert_eq!(w.ignored.len(), 1, "{:?}", w.ignored);
        assert!(
            w.ignored[0].contains("env.staging.d1_databases[0]: binding \"DB\""),
            "{:?}",
            w.ignored
        );

        let w = p.load("wrangler.toml", Some("named"));
        assert_eq!(w.name, "other");
        assert_eq!(w.compatibility_date.as_deref(), Some("2024-01-01"));
        assert!(w.vars.is_empty());

        let e = p.error("wrangler.toml", Some("prod"));
        assert!(e.contains("has no [env.prod] section (it has named, staging)"), "{e}");
    }

    #[test]
    fn jsonc_as_create_cloudflare_writes_it() {
        let text = "/**\n * For more details on how to configure Wrangler, refer to:\n */\n{\n\t\"$schema\": \"node_modules/wrangler/config-schema.json\",\n\t\"name\": \"app\",\n\t\"main\": \"src/index.js\",\n\t\"compatibility_date\": \"2025-09-27\",\n\t\"observability\": {\n\t\t\"enabled\": true,\n\t},\n\t\"upload_source_maps\": true,\n\t// \"vars\": { \"MY_VARIABLE\": \"production_value\" },\n\t\"services\": [{ \"binding\": \"AUTH\", \"service\": \"auth\" }],\n\t\"durable_objects\": { \"bindings\": [{ \"name\": \"ROOM\", \"class_name\": \"Room\" }] },\n\t\"mystery\": 1,\n}\n";
        let p = Project::new(&[
            ("wrangler.jsonc", text),
            ("wrangler.json", "{\"name\":\"app\",\"main\":\"src/index.js\"}"),
        ]);
        let w = p.load("wrangler.jsonc", None);
        assert_eq!(w.name, "app");
        assert_eq!(w.ignored.len(), 3, "{:?}", w.ignored);
        let has = |line: &str| w.ignored.iter().any(|l| l.ends_with(line));
        assert!(
            has(
                "wrangler.jsonc:14:15: services[0]: binding \"AUTH\" is not supported by isoproxy; env.AUTH will be undefined"
            ),
            "{:?}",
            w.ignored
        );
        assert!(
            has(
                "wrangler.jsonc:15:36: durable_objects.bindings[0]: binding \"ROOM\" is not supported by isoproxy; env.ROOM will be undefined"
            ),
            "{:?}",
            w.ignored
        );
        assert!(
            has("wrangler.jsonc:16:13: mystery: not a setting isoproxy takes; ignored"),
            "{:?}",
            w.ignored
        );
        assert!(p.load("wrangler.json", None).ignored.is_empty());
    }

    #[test]
    fn errors_point_into_the_wrangler_file() {
        let cases = [
            (
                "wrangler.toml",
                "name = \"app\"\nmain = \"src/missing.js\"\n",
                "/wrangler.toml:2:8: main: cannot read src/missing.js",
            ),
            (
                "wrangler.toml",
                "name = \"app\"\nmain = \"src/index.ts\"\n",
                "/wrangler.toml:2:8: main: \"src/index.ts\" is TypeScript",
            ),
            (
                "wrangler.toml",
                "name = \"my app\"\nmain = \"src/index.js\"\n",
                "/wrangler.toml:1:8: name: invalid worker name",
            ),
            (
                "wrangler.toml",
                "main = \"src/index.js\"\n",
                "/wrangler.toml:1:1: name: is required",
            ),
            (
                "wrangler.toml",
                "name = \"a\"\nmain = \"src/index.js\"\ncompatibility_flags = [\"nodejs_compat\", \"bogus\"]\n",
                "/wrangler.toml:3:41: compatibility_flags[1]:",
            ),
            (
                "wrangler.toml",
                "name = \"a\"\nmain = \"src/index.js\"\nroutes = [\"a.example/*\", { zone_name = \"x\" }]\n",
                "/wrangler.toml:3:26: routes[1]: a route needs a `pattern` string",
            ),
            (
                "wrangler.toml",
                "name = \"a\"\nmain = \"src/index.js\"\n[limits]\ncpu_ms = 0\n",
                "/wrangler.toml:4:10: limits.cpu_ms: must be at least 1",
            ),
            (
                "wrangler.toml",
                "name = \"a\"\nmain = \"src/index.js\"\n[env.x]\n",
                "has no [env.y] section",
            ),
            ("wrangler.jsonc", "{\n  \"name\": 'a'\n}\n", "/wrangler.jsonc:2:11:"),
            (
                "wrangler.json",
                "{\n  \"name\": \"a\",\n  \"main\": \"src/index.js\",\n  \"vars\": []\n}\n",
                "/wrangler.json:4:11: vars: expected a table",
            ),
        ];
        for (file, text, want) in cases {
            let p = Project::new(&[(file, text)]);
            let env = text.contains("[env.x]").then_some("y");
            let e = p.error(file, env);
            assert!(e.contains(want), "{file}: {text:?}\n  got:  {e}\n  want: {want}");
        }
    }
}
