//! The table metadata of a model: `Model::table()` (its columns with their
//! definitions, foreign keys, relationships and history table), and the constants
//! `TABLE_NAME` and `FOREIGN_KEYS` the compile-time relationship check reads.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{column_type, def_fn};
use crate::ast::{Field, Model};
use crate::attr::OnDelete;

/// `fn table()`: the metadata, built once.
pub(super) fn table(model: &Model) -> TokenStream {
    let name = match &model.attrs.table {
        Some(t) => quote!(#t),
        None => {
            let s = model.ident.to_string();
            quote!(__fdb::camel_to_snake_case(#s))
        }
    };
    // A model without a bind of its own takes its first mixin's.
    let mixin_binds = model.fields.iter().filter(|f| f.is_flatten()).map(|f| {
        let ty = &f.ty;
        quote!(.or(<#ty as __fdb::Columns>::BIND))
    });
    let bind = match &model.attrs.bind {
        Some(b) => quote!(::std::option::Option::Some(#b)),
        None => quote!(::std::option::Option::None #(#mixin_binds)*),
    };
    let view = model.attrs.view;
    let ident = &model.ident;
    let versioned = model
        .attrs
        .versioned
        .map(|_| quote!(.versioned(__flaskdb_history)));
    let renamed_from = model
        .attrs
        .renamed_from
        .as_ref()
        .map(|old| quote!(.renamed_from(#old)));
    let relations: Vec<_> = model.relations().into_iter().map(def_fn).collect();
    let columns = model.slots().into_iter().map(|f| {
        let ty = &f.ty;
        if f.is_flatten() {
            quote!(let table = <#ty as __fdb::Columns>::add_to(table);)
        } else {
            let def = column_def(f);
            quote!(let table = table.column(#def);)
        }
    });
    let foreign_keys = model.columns().into_iter().filter_map(foreign_key);
    let indexes = model.attrs.indexes.iter().map(|index| {
        let (columns, unique) = (&index.columns, index.unique);
        match &index.name {
            None => quote!(.index_on(&[#(#columns),*], #unique)),
            Some(name) => quote!(.index(__fdb::Index {
                name: ::std::string::String::from(#name),
                columns: ::std::vec![#(::std::string::String::from(#columns)),*],
                unique: #unique,
            })),
        }
    });
    let checks = model.attrs.checks.iter().map(|c| {
        let (name, sql) = (&c.name, &c.sql);
        match c.whole {
            false => quote!(.check(#name, #sql)),
            true => quote!(.check_constraint(__fdb::Check {
                name: ::std::string::String::from(#name),
                sql: ::std::string::String::from(#sql),
            })),
        }
    });
    let table_foreign_keys = model.attrs.foreign_keys.iter().map(|fk| {
        let (columns, references, to) = (&fk.columns, &fk.references, &fk.to);
        let on_delete = on_delete(fk.on_delete);
        let name = match &fk.name {
            Some(n) => quote!(::std::option::Option::Some(::std::string::String::from(#n))),
            None => quote!(::std::option::Option::None),
        };
        quote!(.composite_foreign_key(__fdb::ForeignKey {
            columns: ::std::vec![#(::std::string::String::from(#columns)),*],
            ref_table: ::std::string::String::from(#references),
            ref_columns: ::std::vec![#(::std::string::String::from(#to)),*],
            on_delete: #on_delete,
            name: #name,
        }))
    });
    quote! {
        fn table() -> &'static __fdb::Table {
            static TABLE: ::std::sync::LazyLock<__fdb::Table> = ::std::sync::LazyLock::new(|| {
                let table = __fdb::Table::new(#name).bind(#bind).view(#view);
                #(#columns)*
                table
                    #(#foreign_keys)*
                    #(#indexes)*
                    #(#checks)*
                    #(#table_foreign_keys)*
                    #(.relation(#ident::#relations))*
                    #versioned
                    #renamed_from
            });
            &TABLE
        }
    }
}

/// `.references(..)` for a column with a foreign key.
pub(crate) fn foreign_key(f: &Field) -> Option<TokenStream> {
    let (ref_table, ref_column) = f.foreign_key()?;
    let column = &f.column;
    let on_delete = on_delete(f.attrs.on_delete.map(|(a, _)| a));
    Some(quote!(.references(#column, #ref_table, #ref_column, #on_delete)))
}

/// `Option<OnDelete>` as an expression.
fn on_delete(action: Option<OnDelete>) -> TokenStream {
    match action {
        None => quote!(::std::option::Option::None),
        Some(a) => {
            let variant = match a {
                OnDelete::Cascade => quote!(Cascade),
                OnDelete::SetNull => quote!(SetNull),
                OnDelete::Restrict => quote!(Restrict),
                OnDelete::SetDefault => quote!(SetDefault),
            };
            quote!(::std::option::Option::Some(__fdb::OnDelete::#variant))
        }
    }
}

pub(crate) fn column_def(f: &Field) -> TokenStream {
    let name = &f.column;
    let ty = column_type(&f.ty);
    let mut def = quote!(__fdb::ColumnDef::of::<#ty>(#name));
    if f.primary_key {
        def.extend(quote!(.primary_key()));
    }
    if let Some(on) = f.attrs.autoincrement {
        def.extend(quote!(.autoincrement(#on)));
    }
    if f.attrs.unique {
        def.extend(quote!(.unique()));
    }
    if f.attrs.index {
        def.extend(quote!(.index()));
    }
    if let Some(n) = f.attrs.max_length {
        def.extend(quote!(.max_length(#n)));
    }
    if let Some(lit) = &f.attrs.default {
        def.extend(quote_spanned!(lit.span()=> .default(__fdb::default::<#ty, _>(#lit))));
    }
    // A non-capturing closure, so it coerces to `fn() -> Value`; the function's return
    // type is checked against the field at its span.
    for (method, path) in [
        ("default_fn", &f.attrs.default_fn),
        ("onupdate", &f.attrs.onupdate),
    ] {
        if let Some(path) = path {
            let method = format_ident!("{}", method);
            def.extend(quote_spanned!(path.span()=> .#method(|| {
                <#ty as __fdb::ColumnType>::into_value(__fdb::IntoField::<#ty>::into_field(#path()))
            })));
        }
    }
    if let Some(sql) = &f.attrs.server_default {
        def.extend(quote!(.server_default(#sql)));
    }
    if let Some(old) = &f.attrs.renamed_from {
        def.extend(quote!(.renamed_from(#old)));
    }
    def
}

/// `TABLE_NAME` and `FOREIGN_KEYS`: what the compile-time check of relationships reads.
pub(super) fn key_consts(model: &Model) -> TokenStream {
    let name = match &model.attrs.table {
        Some(t) => quote!(__fdb::TableName::Given(#t)),
        None => {
            let s = model.ident.to_string();
            quote!(__fdb::TableName::Derived(#s))
        }
    };
    let keys = model.columns().into_iter().filter_map(|f| {
        let (ref_table, _) = f.foreign_key()?;
        let column = &f.column;
        Some(quote!((#column, #ref_table)))
    });
    let mixins = model.fields.iter().filter(|f| f.is_flatten()).map(|f| {
        let ty = &f.ty;
        quote!(<#ty as __fdb::Columns>::FOREIGN_KEYS)
    });
    quote! {
        const TABLE_NAME: __fdb::TableName = #name;
        const FOREIGN_KEYS: &'static [&'static [(&'static str, &'static str)]] =
            &[&[#(#keys),*] #(, #mixins)*];
    }
}
