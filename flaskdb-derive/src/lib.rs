//! `#[derive(Model)]` for flaskdb. Use it through the `flaskdb` crate, which documents
//! every attribute.
//!
//! The pipeline is parse → validate → expand: `attr` reads `#[model(..)]` into a
//! validated description (collecting every error with its span), and `expand`
//! generates code from it without creating errors of its own.

mod attr;
mod enums;
mod expand;
mod manifest;
mod mixin;

use proc_macro::TokenStream;

/// Derives `flaskdb::Model` for a struct with named fields. See the `flaskdb` crate for
/// the attributes.
#[proc_macro_derive(Model, attributes(model))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    match attr::ModelDef::from_ast(&input) {
        Ok(model) => expand::model(&model).into(),
        Err(errors) => errors.to_compile_error().into(),
    }
}

/// Derives `flaskdb::CustomType` for a fieldless enum, making it a column type: stored
/// as the variant's name (or `#[model(rename = "..")]`), or with `#[model(integer)]` on
/// the enum as its discriminant. See the `flaskdb` crate.
#[proc_macro_derive(Enum, attributes(model))]
pub fn derive_enum(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    match enums::derive(&input) {
        Ok(tokens) => tokens.into(),
        Err(errors) => errors.to_compile_error().into(),
    }
}

/// Derives `flaskdb::Columns` for a mixin: a struct of columns that models take in with
/// a `#[model(flatten)]` field. Its fields take the column attributes of
/// `#[derive(Model)]`; `#[model(bind = "..")]` on the struct gives models that name no
/// bind this one. Also generates the trait `<Mixin>Columns` with the column handles.
#[proc_macro_derive(Columns, attributes(model))]
pub fn derive_columns(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    match attr::MixinDef::from_ast(&input) {
        Ok(mixin) => mixin::mixin(&mixin).into(),
        Err(errors) => errors.to_compile_error().into(),
    }
}
