//! The layer rule of ARCHITECTURE.md: each top-level module of `src/` has a place in
//! the data path, and a module names (with `crate::`, `$crate::` or through a re-export
//! of the crate root) only modules below its own place. Cycles inside one folder are
//! allowed; the one exception across folders is listed in `ALLOWED_UPWARD`, with why.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The places, bottom first: a module may name the modules of lower places.
const LAYERS: &[&[&str]] = &[
    &["backend"],
    &["error"],
    &["config"],
    &["value"],
    &["schema"],
    &["sql"],
    &["model"],
    &["driver"],
    &["runtime"],
    &["query"],
    &["lib", "__private", "axum"],
];

/// Upward names that stay, as (file, module named, item): the `Model` trait's
/// provided `query()` returns a `Query<Self>` (the API is `User::query()`, and Rust
/// has no inherent methods on a trait: an extension trait would make every caller
/// import it), and its hidden loading hooks, which the derive fills in, return the
/// loaders of query/.
const ALLOWED_UPWARD: &[(&str, &str, &str)] = &[
    ("model/mod.rs", "query", "Query"),
    ("model/mod.rs", "query", "joined"),
    ("model/mod.rs", "query", "relation"),
];

fn place(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("src/ is readable").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text without its comments (`//` to the end of the line).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// Every `(first segment, second segment)` after `crate::` in `code`; a group
/// `crate::{a, b::c}` gives each of its members.
fn crate_paths(code: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let members: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group[..group.find('}').unwrap_or(group.len())]
                .split(',')
                .map(str::trim)
                .collect(),
            None => vec![rest],
        };
        for member in members {
            let first = identifier(member);
            let second = member[first.len()..]
                .strip_prefix("::")
                .map(identifier)
                .unwrap_or_default();
            out.push((first.to_owned(), second.to_owned()));
        }
    }
    out
}

/// The names lib.rs re-exports, with the module each comes from.
fn root_names(lib: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for statement in code(lib).split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let module = identifier(path);
        let names = match path.split_once('{') {
            Some((_, group)) => group.trim_end_matches('}'),
            None => path.rsplit("::").next().unwrap_or_default(),
        };
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            out.push((name.to_owned(), module.to_owned()));
        }
    }
    out
}

/// Every name in `src` that points up, as (file, module named, item).
fn upward(src: &Path) -> BTreeSet<(String, String, String)> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs is readable");
    let roots = root_names(&lib);
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut found = BTreeSet::new();
    for file in files {
        let relative = file
            .strip_prefix(src)
            .expect("a file under src/")
            .to_string_lossy()
            .replace('\\', "/");
        let top = relative
            .split('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".rs");
        let own = place(top).unwrap_or_else(|| {
            panic!("src/{relative}: module `{top}` has no place in LAYERS: give it one")
        });
        let text = code(&std::fs::read_to_string(&file).expect("a source file is readable"));
        for (first, second) in crate_paths(&text) {
            let (module, item) = match roots.iter().find(|(name, _)| *name == first) {
                Some((_, module)) => (module.clone(), first.clone()),
                None => (first.clone(), second),
            };
            if module == top {
                continue;
            }
            if place(&module).is_some_and(|theirs| theirs > own) {
                found.insert((relative.clone(), module, item));
            }
        }
    }
    found
}

#[test]
fn modules_name_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = upward(&src);
    let allowed: BTreeSet<(String, String, String)> = ALLOWED_UPWARD
        .iter()
        .map(|(f, m, i)| (f.to_string(), m.to_string(), i.to_string()))
        .collect();
    let new: Vec<_> = found.difference(&allowed).collect();
    assert!(
        new.is_empty(),
        "modules that name a module above their layer (see ARCHITECTURE.md): {new:#?}"
    );
    let gone: Vec<_> = allowed.difference(&found).collect();
    assert!(
        gone.is_empty(),
        "exceptions in ALLOWED_UPWARD that no longer occur (remove them): {gone:#?}"
    );
}

#[test]
fn the_scanner_sees_plain_grouped_and_re_exported_names() {
    let text = code("use crate::query::Query; // crate::runtime\nuse crate::{value::Value, Db};");
    assert_eq!(
        crate_paths(&text),
        [
            ("query".to_owned(), "Query".to_owned()),
            ("value".to_owned(), "Value".to_owned()),
            ("Db".to_owned(), String::new()),
        ]
    );
    let roots = root_names("pub use runtime::db::Db;\npub use query::select::{Select, exists};");
    assert!(roots.contains(&("Db".to_owned(), "runtime".to_owned())));
    assert!(roots.contains(&("exists".to_owned(), "query".to_owned())));
}
