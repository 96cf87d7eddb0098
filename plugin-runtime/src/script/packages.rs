//! npm packages: bare import specifiers (`import { Hono } from "hono"`,
//! `"hono/cors"`, `"#internal"`) resolved from the project's
//! `node_modules` as wrangler's bundler (esbuild) resolves them, so a
//! Workers project with ES-module dependencies runs without a build step.
//!
//! The resolution itself is `oxc_resolver`'s (Node's algorithm, with
//! `package.json` `exports`/`imports`); this file only chooses its options.
//! Whatever it answers is still checked against the worker's `ModuleRoot`
//! by the caller, so a package symlinked out of the project is refused.
//! The resolver itself reads through [`RootedFs`], which shows it nothing
//! outside that root: Node's lookup walks up to `/node_modules` and reads
//! every `package.json` it meets, and a `package.json` may be a symlink.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use oxc_resolver::{FileMetadata, FileSystem, FileSystemOs, ModuleType, ResolveError, ResolveOptions, ResolverGeneric};

use crate::script::worker::ModuleRoot;

/// The largest `package.json` the resolver reads (real ones are a few KiB).
const MAX_PACKAGE_JSON_BYTES: u64 = 1 << 20;

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
    resolver: ResolverGeneric<RootedFs>,
    /// Why `RootedFs` last refused to read a file (the resolver takes an
    /// unreadable `package.json` for a missing one).
    refused: Arc<Mutex<Option<String>>>,
}

impl Packages {
    /// A resolver that sees only the files under `root`.
    pub(crate) fn new(root: &ModuleRoot) -> Packages {
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
        let refused = Arc::new(Mutex::new(None));
        let fs = RootedFs {
            root: Some(root.clone()),
            refused: refused.clone(),
        };
        Packages {
            resolver: ResolverGeneric::new_with_file_system(fs, options),
            refused,
        }
    }

    /// Resolves `specifier`, imported by the module at `referrer`.
    pub(crate) fn resolve(&self, referrer: &Path, specifier: &str) -> Result<Resolved, String> {
        let dir = referrer.parent().unwrap_or(Path::new("/"));
        let refused = |this: &Packages| match this.refused.lock() {
            Ok(mut r) => r.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        refused(self);
        let result = self.resolver.resolve(dir, specifier);
        // A manifest that exists but was not read fails the import, whether
        // or not the resolver found a file without it.
        if let Some(why) = refused(self) {
            return Err(why);
        }
        match result {
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

/// The file system as the resolver sees it: only what is under the
/// worker's root as written (anything else does not exist), and files read
/// only if their real path is under the root too, only if they are regular
/// files (never a FIFO that would hang the load) and at most
/// [`MAX_PACKAGE_JSON_BYTES`] long.
pub(crate) struct RootedFs {
    root: Option<ModuleRoot>,
    refused: Arc<Mutex<Option<String>>>,
}

impl RootedFs {
    /// `path` is under the root as written (symlinks not followed).
    fn inside(&self, path: &Path) -> io::Result<()> {
        match &self.root {
            Some(root) if root.contains(path) => Ok(()),
            _ => Err(io::ErrorKind::NotFound.into()),
        }
    }
}

impl FileSystem for RootedFs {
    /// Unused (`Packages::new` gives the root); a file system with no root
    /// shows nothing.
    fn new() -> Self {
        RootedFs {
            root: None,
            refused: Arc::default(),
        }
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.inside(path)?;
        let read = match &self.root {
            Some(root) => root.admits(path).map_err(io::Error::other),
            None => Err(io::ErrorKind::NotFound.into()),
        }
        .and_then(|()| crate::script::files::read_bounded(path, MAX_PACKAGE_JSON_BYTES));
        if let Err(e) = &read
            && e.kind() != io::ErrorKind::NotFound
        {
            let why = format!("{} was not read: {e}", path.display());
            match self.refused.lock() {
                Ok(mut r) => *r = Some(why),
                Err(poisoned) => *poisoned.into_inner() = Some(why),
            }
        }
        read
    }

    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        String::from_utf8(self.read(path)?).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
    }

    fn metadata(&self, path: &Path) -> io::Result<FileMetadata> {
        self.inside(path)?;
        FileSystemOs::metadata(path)
    }

    fn symlink_metadata(&self, path: &Path) -> io::Result<FileMetadata> {
        self.inside(path)?;
        FileSystemOs::symlink_metadata(path)
    }

    fn read_link(&self, path: &Path) -> Result<PathBuf, ResolveError> {
        self.inside(path)?;
        FileSystemOs::read_link(path)
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        self.inside(path)?;
        FileSystemOs::canonicalize(path)
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
