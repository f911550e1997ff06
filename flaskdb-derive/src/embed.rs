//! `embed_migrations!("dir")`: the migration files of a directory, compiled into the
//! program.

use proc_macro2::TokenStream;
use quote::quote;

/// The expansion for the directory literal `dir`, relative to the crate's manifest:
/// `Migrations::from_sources` over every `*.toml` file of it, each through
/// `include_str!` (so a changed file rebuilds the crate), sorted by name. A directory
/// that cannot be read is a compile error naming it.
pub(crate) fn migrations(dir: &syn::LitStr) -> syn::Result<TokenStream> {
    let base = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    let path = std::path::Path::new(&base).join(dir.value());
    let unreadable = |e: std::io::Error| {
        syn::Error::new(dir.span(), format!("cannot read {}: {e}", path.display()))
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&path).map_err(unreadable)? {
        let file = entry.map_err(unreadable)?.path();
        if file.extension().is_some_and(|e| e == "toml") {
            files.push(file);
        }
    }
    files.sort();
    let pairs = files.iter().map(|file| {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let full = file.display().to_string();
        quote!((#name, ::core::include_str!(#full)))
    });
    Ok(quote! {
        ::flaskdb::migrate::Migrations::from_sources(&[#(#pairs),*])
    })
}
