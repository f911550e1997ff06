//! Code generation for `#[derive(Columns)]`: the `Columns` impl that a model's
//! `#[model(flatten)]` field expands through, and the `<Mixin>Columns` trait of column
//! handles that every model flattening the mixin gets.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::table::{column_def, foreign_key};
use super::{column_type, column_type_items};
use crate::ast::{Field, Mixin};

pub(crate) fn mixin(mixin: &Mixin) -> TokenStream {
    let ident = &mixin.ident;
    let columns: Vec<&Field> = mixin.columns();
    let width = columns.len();
    let bind = match &mixin.attrs.bind {
        Some(b) => quote!(::std::option::Option::Some(#b)),
        None => quote!(::std::option::Option::None),
    };
    let keys = columns.iter().filter_map(|f| {
        let (ref_table, _) = f.foreign_key()?;
        let column = &f.column;
        Some(quote!((#column, #ref_table)))
    });
    let defs = columns.iter().map(|f| column_def(f));
    let foreign_keys = columns.iter().filter_map(|f| foreign_key(f));
    let pushes = columns.iter().map(|f| {
        let (name, ty) = (&f.ident, column_type(&f.ty));
        quote!(out.push(<#ty as __fdb::ColumnType>::to_value(&self.#name));)
    });
    let arms = columns.iter().map(|f| {
        let (name, ty, column) = (&f.ident, column_type(&f.ty), &f.column);
        quote!(#column => ::std::option::Option::Some(<#ty as __fdb::ColumnType>::to_value(&self.#name)),)
    });
    let decode = mixin.fields.iter().map(|f| {
        let (name, ty) = (&f.ident, column_type(&f.ty));
        match columns.iter().position(|c| c.ident == f.ident) {
            Some(i) => quote!(#name: __fdb::RowSource::get::<#ty>(row, offset + #i)?),
            None => quote!(#name: ::std::default::Default::default()),
        }
    });
    let handles = handles(mixin);
    let column_type_items = column_type_items(&mixin.ident);
    quote! {
        const _: () = {
            use ::flaskdb::__private as __fdb;

            #column_type_items

            #[automatically_derived]
            impl __fdb::Columns for #ident {
                const WIDTH: usize = #width;
                const BIND: ::std::option::Option<&'static str> = #bind;
                const FOREIGN_KEYS: &'static [(&'static str, &'static str)] = &[#(#keys),*];

                fn add_to(table: __fdb::Table) -> __fdb::Table {
                    table #(.column(#defs))* #(#foreign_keys)*
                }

                fn push_values(&self, out: &mut ::std::vec::Vec<__fdb::Value>) {
                    #(#pushes)*
                }

                fn column_value(&self, name: &str) -> ::std::option::Option<__fdb::Value> {
                    match name {
                        #(#arms)*
                        _ => ::std::option::Option::None,
                    }
                }

                fn from_row<R: __fdb::RowSource>(row: &R, offset: usize) -> __fdb::Result<Self> {
                    ::std::result::Result::Ok(#ident { #(#decode),* })
                }
            }
        };

        #handles
    }
}

/// The trait `<Mixin>Columns` of the mixin's column handles, implemented for every
/// model that flattens the mixin.
pub(super) fn handles(mixin: &Mixin) -> TokenStream {
    let ident = &mixin.ident;
    let vis = &mixin.vis;
    let columns = mixin.columns();
    let handles_trait = format_ident!("{}Columns", ident);
    let trait_doc = format!(
        "The column handles of the `{ident}` mixin, on every model that flattens it: bring \
         this trait into scope to write `Model::column` for its columns."
    );
    let consts = columns.iter().map(|f| {
        let (name, ty, column) = (&f.ident, &f.ty, &f.column);
        let doc = format!("The `{column}` column, for query expressions.");
        quote! {
            #[doc = #doc]
            const #name: ::flaskdb::__private::Column<Self, #ty>;
        }
    });
    let const_values = columns.iter().map(|f| {
        let (name, ty, column) = (&f.ident, &f.ty, &f.column);
        quote! {
            const #name: ::flaskdb::__private::Column<M, #ty> =
                ::flaskdb::__private::Column::new(#column);
        }
    });
    quote! {
        #[doc = #trait_doc]
        #[allow(non_upper_case_globals)]
        #vis trait #handles_trait: ::flaskdb::__private::Flattens<#ident> + ::std::marker::Sized {
            #(#consts)*
        }

        #[automatically_derived]
        #[allow(non_upper_case_globals)]
        impl<M: ::flaskdb::__private::Flattens<#ident>> #handles_trait for M {
            #(#const_values)*
        }
    }
}
