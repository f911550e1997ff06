//! Code generation from a validated [`ModelDef`]. Generated code names only
//! `::flaskdb::__private` items, so users need no other dependency.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::attr::{FieldDef, ModelDef, OnDelete};

pub(crate) fn model(model: &ModelDef) -> TokenStream {
    let ident = &model.ident;
    let vis = &model.vis;
    let table_fn = table(model);
    let columns = model.columns();
    let width = columns.len();
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
    let value_fields = columns.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        quote!(<#ty as __fdb::ColumnType>::to_value(&self.#name))
    });
    let decode_fields = model.fields.iter().map(|f| {
        let name = &f.ident;
        match columns.iter().position(|c| c.ident == f.ident) {
            Some(i) => {
                let ty = &f.ty;
                quote!(#name: __fdb::RowSource::get::<#ty>(row, offset + #i)?)
            }
            None => quote!(#name: ::std::default::Default::default()),
        }
    });
    let builder = (!model.view).then(|| builder(model));
    let build_fn = (!model.view).then(|| {
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
    });
    quote! {
        #builder

        const _: () = {
            use ::flaskdb::__private as __fdb;

            #[automatically_derived]
            #[allow(non_upper_case_globals)]
            impl #ident {
                #(#handles)*
                #build_fn
            }

            #[automatically_derived]
            impl __fdb::Model for #ident {
                type PrimaryKey = #pk_type;

                #table_fn

                fn primary_key(&self) -> Self::PrimaryKey {
                    #pk_value
                }

                fn values(&self) -> ::std::vec::Vec<__fdb::Value> {
                    ::std::vec![#(#value_fields),*]
                }

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
                    ::std::result::Result::Ok(#ident { #(#decode_fields),* })
                }
            }

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

            __fdb::inventory::submit! {
                __fdb::ModelEntry { table: <#ident as __fdb::Model>::table }
            }
        };
    }
}

/// `fn table()`: the metadata, built once.
fn table(model: &ModelDef) -> TokenStream {
    let name = match &model.table {
        Some(t) => quote!(#t),
        None => {
            let s = model.ident.to_string();
            quote!(__fdb::camel_to_snake_case(#s))
        }
    };
    let bind = match &model.bind {
        Some(b) => quote!(::std::option::Option::Some(#b)),
        None => quote!(::std::option::Option::None),
    };
    let view = model.view;
    let columns = model.columns().into_iter().map(column_def);
    let foreign_keys = model.columns().into_iter().filter_map(|f| {
        let (ref_table, ref_column) = f.foreign_key.as_ref()?;
        let column = &f.column;
        let on_delete = match f.on_delete {
            None => quote!(::std::option::Option::None),
            Some(a) => {
                let variant = match a {
                    OnDelete::Cascade => quote!(Cascade),
                    OnDelete::SetNull => quote!(SetNull),
                    OnDelete::Restrict => quote!(Restrict),
                };
                quote!(::std::option::Option::Some(__fdb::OnDelete::#variant))
            }
        };
        Some(quote!(.references(#column, #ref_table, #ref_column, #on_delete)))
    });
    quote! {
        fn table() -> &'static __fdb::Table {
            static TABLE: ::std::sync::LazyLock<__fdb::Table> = ::std::sync::LazyLock::new(|| {
                __fdb::Table::new(#name)
                    .bind(#bind)
                    .view(#view)
                    #(.column(#columns))*
                    #(#foreign_keys)*
            });
            &TABLE
        }
    }
}

fn column_def(f: &FieldDef) -> TokenStream {
    let name = &f.column;
    let ty = &f.ty;
    // The trait bound is checked at the field type's span, so an unsupported type is
    // reported there.
    let sql_type = quote_spanned!(ty.span()=> <#ty as __fdb::ColumnType>::SQL_TYPE);
    let nullable = quote_spanned!(ty.span()=> <#ty as __fdb::ColumnType>::NULLABLE);
    let mut def = quote!(__fdb::ColumnDef::new(#name, #sql_type).nullable(#nullable));
    if f.primary_key {
        def.extend(quote!(.primary_key()));
    }
    if let Some(on) = f.autoincrement {
        def.extend(quote!(.autoincrement(#on)));
    }
    if f.unique {
        def.extend(quote!(.unique()));
    }
    if f.index {
        def.extend(quote!(.index()));
    }
    if let Some(n) = f.max_length {
        def.extend(quote!(.max_length(#n)));
    }
    if let Some(lit) = &f.default {
        def.extend(quote_spanned!(lit.span()=> .default(__fdb::default::<#ty, _>(#lit))));
    }
    if let Some(sql) = &f.server_default {
        def.extend(quote!(.server_default(#sql)));
    }
    def
}

/// `pub const username: Column<User, String>`.
fn handle(model: &ModelDef, f: &FieldDef) -> TokenStream {
    let (ident, ty, vis, column) = (&f.ident, &f.ty, &f.vis, &f.column);
    let model_ident = &model.ident;
    let doc = format!("The `{column}` column, for query expressions.");
    quote! {
        #[doc = #doc]
        #vis const #ident: __fdb::Column<#model_ident, #ty> = __fdb::Column::new(#column);
    }
}

/// The keyword-style builder `XBuilder` and its `Insertable` impl.
fn builder(model: &ModelDef) -> TokenStream {
    let ident = &model.ident;
    let vis = &model.vis;
    let builder = format_ident!("{}Builder", ident);
    let columns = model.columns();
    let fields = columns.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        quote!(#name: ::std::option::Option<#ty>)
    });
    let setters = columns.iter().map(|f| {
        let (name, ty, vis, column) = (&f.ident, &f.ty, &f.vis, &f.column);
        let doc = format!("Sets the `{column}` column.");
        quote! {
            #[doc = #doc]
            #vis fn #name(mut self, value: impl ::flaskdb::__private::IntoField<#ty>) -> Self {
                self.#name = ::std::option::Option::Some(
                    ::flaskdb::__private::IntoField::into_field(value),
                );
                self
            }
        }
    });
    let row_columns = columns.iter().enumerate().map(|(i, f)| {
        let (name, ty) = (&f.ident, &f.ty);
        quote!(row.column(#i, self.#name.map(<#ty as __fdb::ColumnType>::into_value))?;)
    });
    let doc = format!("A new `{ident}` row, made by [`{ident}::build`].");
    quote! {
        #[doc = #doc]
        #[derive(Default)]
        #[must_use = "a builder does nothing until it is added to a session"]
        #vis struct #builder {
            #(#fields,)*
        }

        #[automatically_derived]
        impl #builder {
            #(#setters)*
        }

        const _: () = {
            use ::flaskdb::__private as __fdb;

            #[automatically_derived]
            impl __fdb::Insertable for #builder {
                type Model = #ident;

                fn into_row(self) -> __fdb::Result<__fdb::InsertRow> {
                    let mut row = __fdb::InsertRow::new(<#ident as __fdb::Model>::table());
                    #(#row_columns)*
                    ::std::result::Result::Ok(row)
                }
            }

            #[automatically_derived]
            impl __fdb::Addable for #builder {
                fn into_pending(self) -> __fdb::Pending {
                    __fdb::Pending::insert::<#ident>(__fdb::Insertable::into_row(self))
                }
            }
        };
    }
}
