//! `cargo build` and `cargo test` build every dependency with the same
//! features, so they share one build of each (`./dev serve` after
//! `./dev test` compiles only the workspace crates) and the binary served
//! is the binary tested.
//!
//! Resolver 2 switches on the features dev-dependencies ask for in test
//! builds only; the root Cargo.toml switches the same ones on in the normal
//! build. A new dev-dependency (or a new feature of one) that changes a
//! shared crate's features fails here, naming the crate and the features
//! to add there.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// `package version` -> features, as cargo resolves them with or without
/// the dev-dependencies (`cargo tree` resolves exactly as a build would).
fn features(edges: &str) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--workspace",
            "--locked",
            "--offline",
            "--prefix",
            "none",
            "--no-dedupe",
        ])
        .args(["-e", edges, "-f", "{p}|{f}"])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((package, feats)) = line.split_once('|') else {
            continue;
        };
        // Local packages carry their path: keep "name version".
        let package = package.split(" (").next().unwrap_or(package).trim().to_owned();
        let feats = feats.trim_end_matches(" (*)");
        map.entry(package)
            .or_default()
            .extend(feats.split(',').filter(|f| !f.is_empty()).map(str::to_owned));
    }
    map
}

#[test]
fn the_normal_build_has_the_test_builds_features() {
    let normal = features("normal,build");
    let test = features("normal,build,dev");
    assert!(normal.len() > 100, "cargo tree listed too little: {normal:?}");
    let mut drift = Vec::new();
    for (package, feats) in &normal {
        if let Some(test_feats) = test.get(package)
            && test_feats != feats
        {
            let extra: Vec<_> = test_feats.difference(feats).collect();
            let missing: Vec<_> = feats.difference(test_feats).collect();
            drift.push(format!("{package}: test build adds {extra:?}, lacks {missing:?}"));
        }
    }
    assert!(
        drift.is_empty(),
        "these crates would be built twice (once for `cargo test`, once for `cargo build`); \
         switch the features on in the root Cargo.toml's [dependencies]:\n{}",
        drift.join("\n")
    );
}
