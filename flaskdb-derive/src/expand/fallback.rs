//! The expansion of an input with errors, emitted beside them (thiserror's habit): the
//! items that code elsewhere names, so that one bad attribute is reported once and not
//! again at every `User::query()`, `User::name` or `User::build()`.
//!
//! A model keeps its column and relationship handles, its builder and `build()`, the
//! `Flattens` impls of its mixins and the write impls, and gets a `Model` and `FromRow`
//! impl whose functions are never called; a mixin keeps its handle trait and gets such a
//! `Columns` impl; an enum gets such a `CustomType` impl. Nothing here reads what the
//! errors were about, so the fallback adds no error of its own. The stubs never run: the
//! crate does not compile while the derive reports an error.

use proc_macro2::TokenStream;
use quote::quote;

use super::builder::builder;
use super::mixin::handles;
use super::model::{build_fn, handle, writes};
use super::relations::relation_items;
use crate::ast::{Enum, Mixin, Model};

/// The body of a function that is never called.
fn never() -> TokenStream {
    quote!(::std::unreachable!(
        "flaskdb: this derive reported an error"
    ))
}

/// What a model with errors still gets.
pub(crate) fn model(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let name = ident.to_string();
    let handles = model.columns().into_iter().map(|f| handle(model, f));
    let relation_items = model
        .relations()
        .into_iter()
        .map(|f| relation_items(model, f));
    let pk: Vec<&syn::Type> = model.primary_key().into_iter().map(|f| &f.ty).collect();
    let pk_type = match pk.as_slice() {
        [] => quote!(i64),
        [ty] => quote!(#ty),
        types => quote!((#(#types,)*)),
    };
    let flattens = model.mixins().map(|f| {
        let ty = &f.ty;
        quote! {
            #[automatically_derived]
            impl __fdb::Flattens<#ty> for #ident {}
        }
    });
    let view = model.attrs.view;
    let builder = (!view).then(|| builder(model));
    let build_fn = (!view).then(|| build_fn(model));
    let writes = (!view).then(|| writes(model));
    let never = never();
    quote! {
        #builder

        const _: () = {
            use ::flaskdb::__private as __fdb;

            #[automatically_derived]
            #[allow(non_upper_case_globals, dead_code)]
            impl #ident {
                #(#handles)*
                #(#relation_items)*
                #build_fn
            }

            #(#flattens)*

            #[automatically_derived]
            impl __fdb::Model for #ident {
                type PrimaryKey = #pk_type;

                fn table() -> &'static __fdb::Table {
                    #never
                }

                fn primary_key(&self) -> Self::PrimaryKey {
                    #never
                }

                fn values(&self) -> ::std::vec::Vec<__fdb::Value> {
                    #never
                }
            }

            #[automatically_derived]
            impl __fdb::ModelInternals for #ident {
                const TABLE_NAME: __fdb::TableName = __fdb::TableName::Derived(#name);
                const FOREIGN_KEYS: &'static [&'static [(&'static str, &'static str)]] = &[];

                fn column_value(&self, _: &str) -> ::std::option::Option<__fdb::Value> {
                    #never
                }

                fn statement_cache() -> &'static __fdb::StatementCache {
                    #never
                }
            }

            #[automatically_derived]
            impl __fdb::FromRow for #ident {
                fn width() -> usize {
                    #never
                }

                fn from_row<R: __fdb::RowSource>(_: &R, _: usize) -> __fdb::Result<Self> {
                    #never
                }
            }

            #writes
        };
    }
}

/// What a mixin with errors still gets.
pub(crate) fn mixin(mixin: &Mixin) -> TokenStream {
    let ident = &mixin.ident;
    let width = mixin.columns().len();
    let handles = handles(mixin);
    let never = never();
    quote! {
        const _: () = {
            use ::flaskdb::__private as __fdb;

            #[automatically_derived]
            impl __fdb::Columns for #ident {
                const WIDTH: usize = #width;
                const BIND: ::std::option::Option<&'static str> = ::std::option::Option::None;
                const FOREIGN_KEYS: &'static [(&'static str, &'static str)] = &[];

                fn add_to(_: __fdb::Table) -> __fdb::Table {
                    #never
                }

                fn push_values(&self, _: &mut ::std::vec::Vec<__fdb::Value>) {
                    #never
                }

                fn column_value(&self, _: &str) -> ::std::option::Option<__fdb::Value> {
                    #never
                }

                fn from_row<R: __fdb::RowSource>(_: &R, _: usize) -> __fdb::Result<Self> {
                    #never
                }
            }
        };

        #handles
    }
}

/// What an enum with errors still gets.
pub(crate) fn enumeration(input: &Enum) -> TokenStream {
    let ident = &input.ident;
    let never = never();
    quote! {
        #[automatically_derived]
        impl ::flaskdb::__private::CustomType for #ident {
            type Stored = ::std::string::String;

            fn to_stored(&self) -> ::std::string::String {
                #never
            }

            fn from_stored(
                _: ::std::string::String,
            ) -> ::std::result::Result<Self, ::std::string::String> {
                #never
            }
        }
    }
}
