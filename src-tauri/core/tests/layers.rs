//! The core's modules form layers: no top-level module uses one that uses it back (settings at
//! the bottom, the store with its own row types, the application API on top). Read from the
//! sources' `crate::…` paths, test code and comments left out.

#![allow(clippy::expect_used, reason = "a failed step must fail the test")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its code names.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the source folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).expect("under src");
            let first = relative.components().next().expect("a component");
            let module = first
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned();
            let text = std::fs::read_to_string(&path).expect("read a source file");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let name: String = line[i + "crate::".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != module {
                        edges.entry(module.clone()).or_default().insert(name);
                    }
                }
            }
        }
    }
    edges
}

/// Whether `to` can reach `from` again through `edges`.
fn reaches(edges: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo = vec![to.to_owned()];
    while let Some(m) = todo.pop() {
        if m == from {
            return true;
        }
        if seen.insert(m.clone()) {
            todo.extend(edges.get(&m).into_iter().flatten().cloned());
        }
    }
    false
}

#[test]
fn no_core_module_imports_one_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = imports(&src);
    assert!(
        edges.get("app").is_some_and(|e| e.contains("monitor")),
        "the scan sees imports (app uses monitor): {edges:?}"
    );
    let mut circles = Vec::new();
    for (module, uses) in &edges {
        for used in uses {
            if reaches(&edges, module, used) {
                circles.push(format!("{module} -> {used} -> … -> {module}"));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "import circles in the core: {circles:#?}"
    );
    // Settings and tiles sit at the bottom: a tile may name the client's error classes (its
    // error is data), nothing above.
    for (bottom, below) in [("account", &["tile"][..]), ("tile", &["graph"][..])] {
        let up: Vec<&String> = edges
            .get(bottom)
            .into_iter()
            .flatten()
            .filter(|m| !below.contains(&m.as_str()))
            .collect();
        assert!(up.is_empty(), "{bottom} is a bottom layer but uses {up:?}");
    }
}
