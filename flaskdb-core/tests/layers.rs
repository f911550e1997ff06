//! The layer rule of ARCHITECTURE.md: each top-level module of `src/` has a place in
//! the data path, and a module names (with `crate::`, `super::`, `$crate::` or through a
//! re-export of the crate root) only modules below its own place. Cycles inside one
//! folder are allowed; the one exception across folders is listed in `ALLOWED_UPWARD`,
//! with why.
//!
//! Each file is parsed with syn, so comments and strings are not read as code, and use
//! groups of any depth are seen member by member.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::visit::{self, Visit};
use syn::{Item, UseTree, Visibility};

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
    &["migrate"],
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

/// Every path of a use tree, with the name it brings into scope: `a::{b, c::{d as e}}`
/// gives `a::b` (as `b`) and `a::c::d` (as `e`); `a::{self}` gives `a`.
fn use_paths(tree: &UseTree, prefix: &[String], out: &mut Vec<(Vec<String>, String)>) {
    let then = |ident: &syn::Ident| [prefix, &[ident.to_string()]].concat();
    match tree {
        UseTree::Path(p) => use_paths(&p.tree, &then(&p.ident), out),
        UseTree::Name(n) if n.ident == "self" => {
            out.push((prefix.to_vec(), prefix.last().cloned().unwrap_or_default()))
        }
        UseTree::Name(n) => out.push((then(&n.ident), n.ident.to_string())),
        UseTree::Rename(r) => out.push((then(&r.ident), r.rename.to_string())),
        UseTree::Glob(_) => out.push((prefix.to_vec(), "*".to_owned())),
        UseTree::Group(g) => {
            for item in &g.items {
                use_paths(item, prefix, out);
            }
        }
    }
}

/// The paths one file names, as segments from the crate root: its `use` trees, the
/// paths in its code, and the `crate::` and `$crate::` paths in its macros' tokens.
/// `super::` and `self::` are resolved against the module the path is in; paths that
/// start anywhere else (a local name, another crate) are left out.
struct Named {
    /// The module being walked, from the crate root: the file's, then inline `mod`s.
    module: Vec<String>,
    paths: Vec<Vec<String>>,
}

impl Named {
    fn add(&mut self, segments: &[String]) {
        let (mut resolved, mut rest) = match segments.first().map(String::as_str) {
            Some("crate") => (Vec::new(), &segments[1..]),
            Some("self" | "super") => (self.module.clone(), segments),
            _ => return,
        };
        while let Some(first) = rest.first() {
            match first.as_str() {
                "self" => {}
                "super" => {
                    resolved.pop();
                }
                _ => break,
            }
            rest = &rest[1..];
        }
        resolved.extend_from_slice(rest);
        if !resolved.is_empty() {
            self.paths.push(resolved);
        }
    }

    /// The `crate::` paths in macro tokens, which syn leaves unparsed: each `crate`
    /// and what follows it is read as a use tree, so `$crate::a::b(..)` gives `a::b`.
    fn add_tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (at, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Group(group) => self.add_tokens(group.stream()),
                TokenTree::Ident(ident) if ident == "crate" => {
                    let rest: TokenStream = tokens[at..].iter().cloned().collect();
                    let tree = |input: ParseStream<'_>| {
                        let tree: UseTree = input.parse()?;
                        input.parse::<TokenStream>()?;
                        Ok(tree)
                    };
                    if let Ok(tree) = tree.parse2(rest) {
                        let mut paths = Vec::new();
                        use_paths(&tree, &[], &mut paths);
                        for (path, _) in paths {
                            self.add(&path);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Named {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        use_paths(&item.tree, &[], &mut paths);
        for (path, _) in paths {
            self.add(&path);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.add(&segments);
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.add_tokens(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }

    fn visit_meta_list(&mut self, list: &'ast syn::MetaList) {
        self.add_tokens(list.tokens.clone());
        visit::visit_meta_list(self, list);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.module.push(item.ident.to_string());
        visit::visit_item_mod(self, item);
        self.module.pop();
    }
}

/// The paths `text` names, from the crate root, when it is the file of `module`.
fn named_paths(text: &str, module: &[&str]) -> Vec<Vec<String>> {
    let file = syn::parse_file(text).expect("a source file parses");
    let mut named = Named {
        module: module.iter().map(|s| s.to_string()).collect(),
        paths: Vec::new(),
    };
    named.visit_file(&file);
    named.paths
}

/// The names lib.rs re-exports, with the module each comes from.
fn root_names(lib: &str) -> Vec<(String, String)> {
    let file = syn::parse_file(lib).expect("src/lib.rs parses");
    let mut out = Vec::new();
    for item in file.items {
        let Item::Use(item) = item else { continue };
        if !matches!(item.vis, Visibility::Public(_)) {
            continue;
        }
        let mut paths = Vec::new();
        use_paths(&item.tree, &[], &mut paths);
        for (path, name) in paths {
            let from_root = path.strip_prefix(&["crate".to_owned()]).unwrap_or(&path);
            out.push((name, from_root[0].clone()));
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
        // The file's module: `sql/render.rs` is `sql::render`, `sql/mod.rs` is `sql`.
        let module: Vec<&str> = relative
            .trim_end_matches(".rs")
            .split('/')
            .filter(|part| !["mod", "lib"].contains(part))
            .collect();
        let top = module.first().copied().unwrap_or("lib");
        let own = place(top).unwrap_or_else(|| {
            panic!("src/{relative}: module `{top}` has no place in LAYERS: give it one")
        });
        let text = std::fs::read_to_string(&file).expect("a source file is readable");
        for path in named_paths(&text, &module) {
            let (module, item) = match roots.iter().find(|(name, _)| *name == path[0]) {
                Some((_, module)) => (module.clone(), path[0].clone()),
                None => (path[0].clone(), path.get(1).cloned().unwrap_or_default()),
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
fn the_scanner_sees_nested_relative_and_macro_paths_but_not_comments_or_strings() {
    let text = r#"
        use crate::query::Query; // crate::runtime
        use crate::{error::{Error as E, Result}, Db};
        use super::super::runtime::db;
        /// [`crate::schema::Table`]
        const URL: &str = "http://example.invalid"; fn f(_: crate::value::Value) {}
        const TEXT: &str = "crate::schema::Table";
        macro_rules! m { () => { $crate::sql::expr::like() }; }
        mod tests { use super::Helper; }
    "#;
    let named: Vec<String> = named_paths(text, &["sql", "render"])
        .iter()
        .map(|path| path.join("::"))
        .collect();
    assert_eq!(
        named,
        [
            "query::Query",
            "error::Error",
            "error::Result",
            "Db",
            "runtime::db",
            "value::Value",
            "sql::expr::like",
            "sql::render::Helper",
        ]
    );
    let roots = root_names("pub use runtime::db::Db;\npub use query::select::{Select, exists};");
    assert!(roots.contains(&("Db".to_owned(), "runtime".to_owned())));
    assert!(roots.contains(&("exists".to_owned(), "query".to_owned())));
}
