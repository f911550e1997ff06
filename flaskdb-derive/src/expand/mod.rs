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

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};

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

/// The field type `ty` as a column type: `<__ColumnType<ty> as __IsColumnType>::Ty`,
/// which is `ty` itself when it implements `ColumnType`. Generated code names a field's
/// type through this wherever it needs `ColumnType`, so the type has one obligation: an
/// unsupported type fails to normalize, is reported once at the field's type (the same
/// diagnostic in every item, which rustc shows once), and the uses that follow see an
/// error type and report nothing more. Needs [`column_type_items`] in scope.
pub(super) fn column_type(ty: &syn::Type) -> TokenStream {
    // The path spans the field type: from its first token to its last.
    let mut tokens = ty.to_token_stream().into_iter();
    let first = tokens.next().map_or_else(Span::call_site, |t| t.span());
    let last = tokens.last().map_or(first, |t| t.span());
    let open = quote_spanned!(first=> <__ColumnType<);
    let close = quote_spanned!(last=> > as __IsColumnType>::Ty);
    quote!(#open #ty #close)
}

/// The items [`column_type`] names, for the `const _: () = { .. }` block of one
/// expansion. The impl is spanned at the struct's name: a note on an unsupported type
/// points there rather than at the derive, where rustc would suggest implementing the
/// helper trait by hand.
pub(super) fn column_type_items(ident: &syn::Ident) -> TokenStream {
    let span = ident.span();
    let helper_impl = quote_spanned! {span=>
        impl<T: ::flaskdb::__private::ColumnType> __IsColumnType for __ColumnType<T> {
            type Ty = T;
        }
    };
    quote! {
        #[doc(hidden)]
        struct __ColumnType<T>(::std::marker::PhantomData<T>);

        #[doc(hidden)]
        trait __IsColumnType {
            type Ty: ::flaskdb::__private::ColumnType;
        }

        #helper_impl
    }
}
