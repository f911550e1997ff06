//! `#[derive(Model)]`, `#[derive(Columns)]` and `#[derive(Enum)]` for flaskdb. Use them
//! through the `flaskdb` crate, which documents every attribute.
//!
//! Each derive runs the same phases, in serde_derive's shape:
//!
//! 1. parse: `ast` builds the IR of the input (the container and its fields or
//!    variants), with `attr` reading each `#[model(..)]` key (its keywords are the
//!    constants of `symbol`);
//! 2. check: `check` validates the IR as a whole (conflicting keys, a missing primary
//!    key, ...);
//! 3. expand: `expand` generates code from the checked IR, one file per artifact.
//!
//! Both first phases report into one `ctxt::Ctxt`, so every mistake of an input is
//! reported at once. An input with errors gets, beside them, the fallback expansion of
//! `expand::fallback`: the items its uses elsewhere name, so that one bad attribute
//! is reported once rather than again at every use.

mod ast;
mod attr;
mod check;
mod ctxt;
mod embed;
mod expand;
mod manifest;
mod symbol;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;

use crate::ctxt::Ctxt;

/// The migration files (`*.toml`) of a directory, relative to the crate's
/// `Cargo.toml`, compiled into the program: an expression of type
/// `flaskdb::Result<flaskdb::migrate::Migrations>`. See the `flaskdb` crate.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let dir = syn::parse_macro_input!(input as syn::LitStr);
    embed::migrations(&dir)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `flaskdb::Model` for a struct with named fields. See the `flaskdb` crate for
/// the attributes.
#[proc_macro_derive(Model, attributes(model))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    let cx = Ctxt::new();
    let model = ast::Model::from_ast(&cx, &input);
    if let Some(model) = &model {
        check::model(&cx, model);
    }
    let model = model.filter(|_| input.generics.params.is_empty());
    finish(cx, model.as_ref(), expand::model, expand::fallback::model)
}

/// Derives `flaskdb::CustomType` for a fieldless enum, making it a column type: stored
/// as the variant's name (or `#[model(rename = "..")]`), or with `#[model(integer)]` as
/// the discriminant. See the `flaskdb` crate.
#[proc_macro_derive(Enum, attributes(model))]
pub fn derive_enum(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    let cx = Ctxt::new();
    let enumeration = ast::Enum::from_ast(&cx, &input);
    if let Some(enumeration) = &enumeration {
        check::enumeration(&cx, enumeration);
    }
    let enumeration = enumeration.filter(|_| input.generics.params.is_empty());
    finish(
        cx,
        enumeration.as_ref(),
        expand::enumeration,
        expand::fallback::enumeration,
    )
}

/// Derives `flaskdb::Columns` for a mixin: a struct of columns that models take in with
/// a `#[model(flatten)]` field. Its fields take the column attributes of
/// `#[derive(Model)]`; `#[model(bind = "..")]` on the struct gives models that name no
/// bind this one. Also generates the trait `<Mixin>Columns` with the column handles.
#[proc_macro_derive(Columns, attributes(model))]
pub fn derive_columns(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    let cx = Ctxt::new();
    let mixin = ast::Mixin::from_ast(&cx, &input);
    if let Some(mixin) = &mixin {
        check::mixin(&cx, mixin);
    }
    let mixin = mixin.filter(|_| input.generics.params.is_empty());
    finish(cx, mixin.as_ref(), expand::mixin, expand::fallback::mixin)
}

/// The expansion of a checked input; for an input with errors, the errors and the
/// fallback expansion of what could be read of it (`ir` is `None` for an input the
/// derive cannot take at all, generic parameters included: then only the errors).
fn finish<T>(
    cx: Ctxt,
    ir: Option<&T>,
    expand: fn(&T) -> TokenStream2,
    fallback: fn(&T) -> TokenStream2,
) -> TokenStream {
    match (cx.check(), ir) {
        (Ok(()), Some(ir)) => expand(ir),
        (Ok(()), None) => unreachable!("an input without IR has an error"),
        (Err(errors), ir) => {
            let mut tokens = errors.to_compile_error();
            tokens.extend(ir.map(fallback));
            tokens
        }
    }
    .into()
}
