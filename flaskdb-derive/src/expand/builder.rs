//! The keyword-style builder of a model that is not a view: `XBuilder`, its setters
//! (columns, mixins, relationships), its `Insertable` and `Addable` impls, and
//! `X::build()`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{column_type, column_type_items, def_fn};
use crate::ast::{Field, Model};
use crate::attr::RelationKind;

/// The keyword-style builder `XBuilder` and its `Insertable` impl.
pub(super) fn builder(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let vis = &model.vis;
    let builder = format_ident!("{}Builder", ident);
    let columns = model.columns();
    let slots = model.slots();
    let fields = slots.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        quote!(#name: ::std::option::Option<#ty>)
    });
    let mixin_setters = slots.iter().filter(|f| f.is_flatten()).map(|f| {
        let (name, ty, vis) = (&f.ident, &f.ty, &f.vis);
        let doc = format!("Sets the `{name}` mixin's columns; left unset, each takes its default.");
        quote! {
            #[doc = #doc]
            #vis fn #name(mut self, value: #ty) -> Self {
                self.#name = ::std::option::Option::Some(value);
                self
            }
        }
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
    let relation_setters = model
        .fields
        .iter()
        .filter_map(|f| relation_setter(model, f));
    let set_arms = columns.iter().map(|f| {
        let (name, ty, column) = (&f.ident, column_type(&f.ty), &f.column);
        quote!(#column => self.#name = __fdb::field_from::<#ty>(value),)
    });
    let row_columns = slots.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        if f.is_flatten() {
            quote! {
                match self.#name {
                    ::std::option::Option::Some(mixin) => {
                        let mut values = ::std::vec::Vec::new();
                        <#ty as __fdb::Columns>::push_values(&mixin, &mut values);
                        for value in values {
                            row.column(::std::option::Option::Some(value));
                        }
                    }
                    ::std::option::Option::None => {
                        for _ in 0..<#ty as __fdb::Columns>::WIDTH {
                            row.column(::std::option::Option::None);
                        }
                    }
                }
            }
        } else {
            let ty = column_type(ty);
            // A closure, not the function path: `map` would match the path's input
            // against the field type, a second obligation on it.
            quote! {
                row.column(self.#name.map(|value| <#ty as __fdb::ColumnType>::into_value(value)));
            }
        }
    });
    let column_type_items = column_type_items(&model.ident);
    let doc = format!("A new `{ident}` row, made by [`{ident}::build`].");
    quote! {
        #[doc = #doc]
        #[derive(Default)]
        #[must_use = "a builder does nothing until it is added to a session"]
        #vis struct #builder {
            #(#fields,)*
            #[doc(hidden)]
            __flaskdb_children: ::std::vec::Vec<(
                &'static ::flaskdb::__private::RelationDef,
                ::flaskdb::__private::InsertRow,
            )>,
            #[doc(hidden)]
            __flaskdb_error: ::std::option::Option<::std::string::String>,
        }

        #[automatically_derived]
        impl #builder {
            #(#setters)*
            #(#mixin_setters)*
            #(#relation_setters)*
        }

        const _: () = {
            use ::flaskdb::__private as __fdb;

            #column_type_items

            #[automatically_derived]
            impl #builder {
                /// Sets the column named `column` from a value of another row (a foreign key).
                #[allow(dead_code)]
                fn __flaskdb_set(&mut self, column: &str, value: __fdb::Value) {
                    match column {
                        #(#set_arms)*
                        _ => {}
                    }
                }
            }

            #[automatically_derived]
            impl __fdb::Insertable for #builder {
                type Model = #ident;

                fn into_partial_row(self) -> __fdb::InsertRow {
                    let mut row = __fdb::InsertRow::new(<#ident as __fdb::Model>::table());
                    #(#row_columns)*
                    row.children(self.__flaskdb_children);
                    if let ::std::option::Option::Some(reason) = self.__flaskdb_error {
                        row.invalidate(reason);
                    }
                    row
                }
            }

            #[automatically_derived]
            impl __fdb::Addable for #builder {
                fn into_pending(self) -> __fdb::Pending {
                    __fdb::Pending::insert::<#ident>(__fdb::Insertable::into_partial_row(self))
                }
            }
        };
    }
}

/// The builder setter of a relationship: children for `has_many`/`has_one` (inserted
/// after this row, their foreign key filled from its key), the parent model for
/// `belongs_to` (its key copied into this row's foreign key).
fn relation_setter(model: &Model, f: &Field) -> Option<TokenStream> {
    let rel = f.relation.as_ref()?;
    let ident = &model.ident;
    let (name, vis, target) = (&f.ident, &f.vis, &rel.target);
    let def = def_fn(f);
    let field_name = f.ident.to_string();
    Some(match rel.kind {
        RelationKind::HasMany => {
            let doc = format!(
                "Adds `{field_name}` rows, inserted after this one with their foreign key filled in."
            );
            quote! {
                #[doc = #doc]
                #vis fn #name<B: ::flaskdb::__private::Insertable<Model = #target>>(
                    mut self,
                    children: impl ::std::iter::IntoIterator<Item = B>,
                ) -> Self {
                    for child in children {
                        self.__flaskdb_children.push((
                            #ident::#def(),
                            ::flaskdb::__private::Insertable::into_partial_row(child),
                        ));
                    }
                    self
                }
            }
        }
        RelationKind::HasOne => {
            let doc = format!(
                "Sets the `{field_name}` row, inserted after this one with its foreign key filled in."
            );
            quote! {
                #[doc = #doc]
                #vis fn #name<B: ::flaskdb::__private::Insertable<Model = #target>>(mut self, child: B) -> Self {
                    self.__flaskdb_children.push((
                        #ident::#def(),
                        ::flaskdb::__private::Insertable::into_partial_row(child),
                    ));
                    self
                }
            }
        }
        RelationKind::BelongsTo => {
            let doc =
                format!("Points `{field_name}` at an existing row (sets this row's foreign key).");
            quote! {
                #[doc = #doc]
                #vis fn #name(mut self, parent: &#target) -> Self {
                    match #ident::#def().column_pairs() {
                        ::std::result::Result::Ok(pairs) => {
                            for (own, other) in pairs {
                                match <#target as ::flaskdb::__private::ModelInternals>::column_value(parent, &other) {
                                    ::std::option::Option::Some(value) => self.__flaskdb_set(&own, value),
                                    ::std::option::Option::None => {
                                        self.__flaskdb_error.get_or_insert(::std::format!(
                                            "relationship {}: the parent has no column `{}`",
                                            #field_name, other
                                        ));
                                    }
                                }
                            }
                        }
                        ::std::result::Result::Err(reason) => {
                            self.__flaskdb_error.get_or_insert(reason);
                        }
                    }
                    self
                }
            }
        }
        RelationKind::ManyToMany => return None,
    })
}
