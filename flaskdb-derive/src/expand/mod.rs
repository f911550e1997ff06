//! Code generation from a checked IR, one file per generated artifact. Generated code
//! names only `::flaskdb::__private` items, so users need no other dependency. Nothing
//! here reports an error: `check` has found them all before.
//!
//! - `model`: the `Model` and `FromRow` impls, the column handles, the write impls and
//!   the inventory registration;
//! - `table`: `Model::table()` and the constants the relationship check reads;
//! - `builder`: `XBuilder` and `X::build()`;
//! - `relations`: each relationship's handle, definition, `ChildOf` impl and checks;
//! - `mixin`: `#[derive(Columns)]`;
//! - `enums`: `#[derive(Enum)]`;
//! - `fallback`: what an input with errors still gets, so its uses elsewhere compile.

mod builder;
mod enums;
pub(crate) mod fallback;
mod mixin;
mod model;
mod relations;
mod table;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ast::Field;

pub(crate) use enums::enumeration;
pub(crate) use mixin::mixin;
pub(crate) use model::model;

/// The index of each slot's first column: a column counts one, a mixin its width.
pub(super) fn offsets(slots: &[&Field]) -> Vec<TokenStream> {
    let mut own = 0usize;
    let mut mixins: Vec<&syn::Type> = Vec::new();
    slots
        .iter()
        .map(|f| {
            let at = quote!((#own #(+ <#mixins as ::flaskdb::__private::Columns>::WIDTH)*));
            if f.is_flatten() {
                mixins.push(&f.ty);
            } else {
                own += 1;
            }
            at
        })
        .collect()
}

/// The number of columns of the slots.
pub(super) fn width(slots: &[&Field]) -> TokenStream {
    let own = slots.iter().filter(|f| !f.is_flatten()).count();
    let mixins = slots.iter().filter(|f| f.is_flatten()).map(|f| &f.ty);
    quote!(#own #(+ <#mixins as ::flaskdb::__private::Columns>::WIDTH)*)
}

/// The name of the hidden function returning a relationship's `RelationDef`.
pub(super) fn def_fn(f: &Field) -> syn::Ident {
    format_ident!("__flaskdb_rel_{}", f.ident)
}
