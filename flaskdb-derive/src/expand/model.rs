//! The `Model` and `FromRow` impls of a model, its column handles, and what goes
//! with them: `Flattens` for each mixin, the write impls of a table (`Writable`,
//! `Addable`), and the registration of its table (and history table) in the
//! inventory. Everything but the builder sits in one `const _: () = { .. }` block.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::builder::builder;
use super::relations::{child_of, foreign_key_check, relation_items};
use super::table::{key_consts, table};
use super::{column_type, column_type_items, def_fn, offsets, width};
use crate::ast::{Field, Model};
use crate::attr::Lazy;

pub(crate) fn model(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let table_fn = table(model);
    let key_consts = key_consts(model);
    let columns = model.columns();
    let slots = model.slots();
    let offsets = offsets(&slots);
    let width = width(&slots);
    let handles = columns.iter().map(|f| handle(model, f));
    let pk = model.primary_key();
    let pk_types = pk.iter().map(|f| &f.ty);
    let pk_fields = pk.iter().map(|f| &f.ident);
    let (pk_type, pk_value) = if pk.len() == 1 {
        let (ty, field) = (&pk[0].ty, &pk[0].ident);
        (
            quote!(#ty),
            quote!(::std::clone::Clone::clone(&self.#field)),
        )
    } else {
        (
            quote!((#(#pk_types,)*)),
            quote!((#(::std::clone::Clone::clone(&self.#pk_fields),)*)),
        )
    };
    let push_values = slots.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        if f.is_flatten() {
            quote!(<#ty as __fdb::Columns>::push_values(&self.#name, &mut values);)
        } else {
            let ty = column_type(ty);
            quote!(values.push(<#ty as __fdb::ColumnType>::to_value(&self.#name));)
        }
    });
    let decode_fields = model.fields.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        match slots.iter().position(|c| c.ident == f.ident) {
            Some(i) if f.is_flatten() => {
                let at = &offsets[i];
                quote!(#name: <#ty as __fdb::Columns>::from_row(row, offset + #at)?)
            }
            Some(i) => {
                let at = &offsets[i];
                let ty = column_type(ty);
                quote!(#name: __fdb::RowSource::get::<#ty>(row, offset + #at)?)
            }
            None => quote!(#name: ::std::default::Default::default()),
        }
    });
    let mixin_values = slots.iter().filter(|f| f.is_flatten()).map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        quote!(.or_else(|| <#ty as __fdb::Columns>::column_value(&self.#name, name)))
    });
    let flattens = slots.iter().filter(|f| f.is_flatten()).map(|f| {
        let ty = &f.ty;
        quote! {
            #[automatically_derived]
            impl __fdb::Flattens<#ty> for #ident {}
        }
    });
    let relations = model.relations();
    let keyed = relations.iter().map(|f| {
        let (name, ty, def) = (&f.ident, &f.ty, def_fn(f));
        quote!(model.#name = <#ty>::keyed(#ident::#def(), &model);)
    });
    let relation_items = relations.iter().map(|f| relation_items(model, f));
    let child_of = relations.iter().filter_map(|f| child_of(model, f));
    let key_checks = relations.iter().filter_map(|f| foreign_key_check(model, f));
    let column_values = columns.iter().map(|f| {
        let (name, ty, column) = (&f.ident, column_type(&f.ty), &f.column);
        quote!(#column => ::std::option::Option::Some(<#ty as __fdb::ColumnType>::to_value(&self.#name)),)
    });
    // By index without comparing names; a model with mixins answers by name (the
    // trait's default).
    let column_value_at = slots.iter().all(|f| !f.is_flatten()).then(|| {
        let arms = slots.iter().zip(&offsets).map(|(f, at)| {
            let (name, ty) = (&f.ident, column_type(&f.ty));
            quote! {
                if index == #at {
                    return ::std::option::Option::Some(
                        <#ty as __fdb::ColumnType>::to_value(&self.#name),
                    );
                }
            }
        });
        quote! {
            fn column_value_at(&self, index: usize) -> ::std::option::Option<__fdb::Value> {
                #(#arms)*
                ::std::option::Option::None
            }
        }
    });
    let joined: Vec<&&Field> = relations
        .iter()
        .filter(|f| f.relation.as_ref().is_some_and(|r| r.lazy == Lazy::Joined))
        .collect();
    // The first `lazy = "joined"` relationship is joined; the others load as selectin.
    let default_joined = joined.first().map(|f| {
        let name = &f.ident;
        quote! {
            fn default_joined() -> ::std::option::Option<__fdb::Joined<Self>> {
                ::std::option::Option::Some(__fdb::Joined::new(#ident::#name))
            }
        }
    });
    let eager_defaults: Vec<_> = relations
        .iter()
        .filter(|f| {
            f.relation
                .as_ref()
                .is_some_and(|r| r.lazy == Lazy::Selectin)
                || joined.iter().skip(1).any(|j| j.ident == f.ident)
        })
        .map(|f| {
            let name = &f.ident;
            quote!(::std::sync::Arc::new(#ident::#name))
        })
        .collect();
    let default_eager = (!eager_defaults.is_empty()).then(|| {
        quote! {
            fn default_eager() -> ::std::vec::Vec<::std::sync::Arc<dyn __fdb::Eager<Self>>> {
                ::std::vec![#(#eager_defaults),*]
            }
        }
    });
    let builder = (!model.attrs.view).then(|| builder(model));
    // A view is read-only: no session or bulk write compiles for it.
    let writes = (!model.attrs.view).then(|| writes(model));
    let build_fn = (!model.attrs.view).then(|| build_fn(model));
    let history = model.attrs.versioned.map(|_| {
        quote! {
            /// The history table of a versioned model.
            fn __flaskdb_history() -> &'static __fdb::Table {
                static TABLE: ::std::sync::LazyLock<__fdb::Table> =
                    ::std::sync::LazyLock::new(|| <#ident as __fdb::Model>::table().history());
                &TABLE
            }

            __fdb::inventory::submit! {
                __fdb::ModelEntry { table: __flaskdb_history }
            }
        }
    });
    let column_type_items = column_type_items(&model.ident);
    quote! {
        #builder

        const _: () = {
            use ::flaskdb::__private as __fdb;

            #column_type_items

            #[automatically_derived]
            #[allow(non_upper_case_globals)]
            impl #ident {
                #(#handles)*
                #(#relation_items)*
                #build_fn
            }

            #(#child_of)*
            #(#key_checks)*
            #(#flattens)*

            #[automatically_derived]
            impl __fdb::Model for #ident {
                type PrimaryKey = #pk_type;

                #table_fn

                fn primary_key(&self) -> Self::PrimaryKey {
                    #pk_value
                }

                fn values(&self) -> ::std::vec::Vec<__fdb::Value> {
                    let mut values = ::std::vec::Vec::with_capacity(
                        <Self as __fdb::FromRow>::width(),
                    );
                    #(#push_values)*
                    values
                }
            }

            #[automatically_derived]
            impl __fdb::ModelInternals for #ident {
                #key_consts

                fn column_value(&self, name: &str) -> ::std::option::Option<__fdb::Value> {
                    match name {
                        #(#column_values)*
                        _ => ::std::option::Option::None #(#mixin_values)*,
                    }
                }

                #column_value_at

                #default_eager
                #default_joined

                fn statement_cache() -> &'static __fdb::StatementCache {
                    static CACHE: __fdb::StatementCache = __fdb::StatementCache::new();
                    &CACHE
                }
            }

            #[automatically_derived]
            impl __fdb::FromRow for #ident {
                fn width() -> usize {
                    #width
                }

                fn from_row<R: __fdb::RowSource>(row: &R, offset: usize) -> __fdb::Result<Self> {
                    #[allow(unused_mut)]
                    let mut model = #ident { #(#decode_fields),* };
                    #(#keyed)*
                    ::std::result::Result::Ok(model)
                }
            }

            #writes

            __fdb::inventory::submit! {
                __fdb::ModelEntry { table: <#ident as __fdb::Model>::table }
            }

            #history
        };
    }
}

/// `pub const username: Column<User, String>`.
pub(super) fn handle(model: &Model, f: &Field) -> TokenStream {
    let (ident, ty, vis, column) = (&f.ident, &f.ty, &f.vis, &f.column);
    let model_ident = &model.ident;
    let doc = format!("The `{column}` column, for query expressions.");
    quote! {
        #[doc = #doc]
        #vis const #ident: __fdb::Column<#model_ident, #ty> = __fdb::Column::new(#column);
    }
}

/// What a table has and a view has not: `Writable`, and `Addable` for the model and a
/// reference to it. A view is read-only: no session or bulk write compiles for it.
pub(super) fn writes(model: &Model) -> TokenStream {
    let ident = &model.ident;
    quote! {
        #[automatically_derived]
        impl __fdb::Writable for #ident {}

        #[automatically_derived]
        impl __fdb::Addable for #ident {
            fn into_pending(self) -> __fdb::Pending {
                __fdb::Pending::model(&self)
            }
        }

        #[automatically_derived]
        impl __fdb::Addable for &#ident {
            fn into_pending(self) -> __fdb::Pending {
                __fdb::Pending::model(self)
            }
        }
    }
}

/// `X::build()`, which starts the builder.
pub(super) fn build_fn(model: &Model) -> TokenStream {
    let (ident, vis) = (&model.ident, &model.vis);
    let builder_ident = format_ident!("{}Builder", ident);
    let doc = format!(
        "Starts a new `{ident}` row: set its columns, then add it to a session. Unset \
         nullable columns are NULL, unset defaults apply, and an unset autoincrement key \
         is assigned by the database."
    );
    quote! {
        #[doc = #doc]
        #vis fn build() -> #builder_ident {
            ::std::default::Default::default()
        }
    }
}
