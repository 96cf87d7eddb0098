//! npm packages: bare import specifiers (`import { Hono } from "hono"`,
//! `"hono/cors"`, `"#internal"`) resolved from the project's
//! `node_modules` as wrangler's bundler (esbuild) resolves them, so a
//! Workers project with ES-module dependencies runs without a build step.
//!
//! The resolution itself is `oxc_resolver`'s (Node's algorithm, with
//! `package.json` `exports`/`imports`); this file only chooses its options.
//! Whatever it answers is still checked against the worker's `ModuleRoot`
//! by the caller, so a package symlinked out of the project is refused.

use std::path::{Path, PathBuf};

use oxc_resolver::{ModuleType, ResolveOptions, Resolver};

/// The `exports` conditions wrangler passes to esbuild (`workerd`,
/// `worker`, `browser`), then the ones esbuild adds for an ES-module
/// import (`import`, `default`).
pub(crate) const CONDITIONS: [&str; 5] = ["workerd", "worker", "browser", "import", "default"];

/// A bare specifier, resolved to a file.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// The file, as reached through `node_modules` (symlinks not followed,
    /// so the root check sees both the path and where it leads).
    pub path: PathBuf,
    /// The `name` of the package the file belongs to, for messages.
    pub package: Option<String>,
    /// Node would not know the file for an ES module by its name alone
    /// (`.cjs`, or `.js` in a package without `"type": "module"`). Many
    /// such files are ES modules anyway (reached through `module` or an
    /// `import` condition); the module graph tells them apart by their
    /// syntax.
    pub maybe_commonjs: bool,
}

/// Resolves bare specifiers for one module graph.
pub(crate) struct Packages {
    resolver: Resolver,
}

impl Packages {
    pub(crate) fn new() -> Packages {
        let options = ResolveOptions {
            condition_names: CONDITIONS.iter().map(|c| c.to_string()).collect(),
            // esbuild's order for the browser platform, which wrangler uses.
            main_fields: vec!["browser".into(), "module".into(), "main".into()],
            // A package's `browser` map may replace or drop files.
            alias_fields: vec![vec!["browser".into()]],
            extensions: vec![".mjs".into(), ".js".into()],
            // Paths as they are under node_modules: `ModuleRoot::admits`
            // follows the symlinks itself and refuses those that leave.
            symlinks: false,
            // Only the project's own node_modules, never $NODE_PATH.
            node_path: false,
            module_type: true,
            ..ResolveOptions::default()
        };
        Packages {
            resolver: Resolver::new(options),
        }
    }

    /// Resolves `specifier`, imported by the module at `referrer`.
    pub(crate) fn resolve(&self, referrer: &Path, specifier: &str) -> Result<Resolved, String> {
        let dir = referrer.parent().unwrap_or(Path::new("/"));
        match self.resolver.resolve(dir, specifier) {
            Ok(found) => Ok(Resolved {
                package: found.package_json().and_then(|p| p.name()).map(str::to_owned),
                maybe_commonjs: found.module_type() != Some(ModuleType::Module),
                path: found.into_path_buf(),
            }),
            Err(oxc_resolver::ResolveError::NotFound(_)) => Err(format!(
                "no package provides it in node_modules (from {}); run `npm install` in the project",
                dir.display()
            )),
            Err(oxc_resolver::ResolveError::Ignored(path)) => Err(format!(
                "the package's \"browser\" field maps {} to false (not available in a worker)",
                path.display()
            )),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Whether a specifier names a package (or a package's `imports` entry),
/// not a file: not relative, not absolute, not a URL.
pub(crate) fn is_bare(specifier: &str) -> bool {
    !(specifier.starts_with("./")
        || specifier.starts_with("../")
        || specifier.starts_with('/')
        || specifier == "."
        || specifier == ".."
        // A scheme: `node:`, `cloudflare:`, `file://`, `data:`, `https://`.
        || specifier.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::is_bare;

    #[test]
    fn bare_specifiers_are_package_names_and_imports_entries() {
        for bare in [
            "hono",
            "hono/cors",
            "@scope/pkg",
            "@scope/pkg/sub.js",
            "#internal",
            "lodash-es",
        ] {
            assert!(is_bare(bare), "{bare}");
        }
        for not in [
            "./x.js",
            "../x.js",
            "/abs.js",
            ".",
            "..",
            "node:buffer",
            "cloudflare:sockets",
            "file:///etc/passwd",
            "https://esm.sh/hono",
            "data:text/javascript,export default 1",
        ] {
            assert!(!is_bare(not), "{not}");
        }
    }
}
