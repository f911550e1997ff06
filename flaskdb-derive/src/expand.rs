//! Code generation from a validated [`ModelDef`]. Generated code names only
//! `::flaskdb::__private` items, so users need no other dependency.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::attr::{FieldDef, Lazy, ModelDef, OnDelete, RelationKind};

pub(crate) fn model(model: &ModelDef) -> TokenStream {
    let ident = &model.ident;
    let vis = &model.vis;
    let table_fn = table(model);
    let key_consts = key_consts(model);
    let columns = model.columns();
    let slots = slots(model);
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
        if f.flatten {
            quote!(<#ty as __fdb::Columns>::push_values(&self.#name, &mut values);)
        } else {
            quote!(values.push(<#ty as __fdb::ColumnType>::to_value(&self.#name));)
        }
    });
    let decode_fields = model.fields.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        match slots.iter().position(|c| c.ident == f.ident) {
            Some(i) if f.flatten => {
                let at = &offsets[i];
                quote!(#name: <#ty as __fdb::Columns>::from_row(row, offset + #at)?)
            }
            Some(i) => {
                let at = &offsets[i];
                quote!(#name: __fdb::RowSource::get::<#ty>(row, offset + #at)?)
            }
            None => quote!(#name: ::std::default::Default::default()),
        }
    });
    let mixin_values = slots.iter().filter(|f| f.flatten).map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        quote!(.or_else(|| <#ty as __fdb::Columns>::column_value(&self.#name, name)))
    });
    let flattens = slots.iter().filter(|f| f.flatten).map(|f| {
        let ty = &f.ty;
        quote! {
            #[automatically_derived]
            impl __fdb::Flattens<#ty> for #ident {}
        }
    });
    let relations: Vec<&FieldDef> = model
        .fields
        .iter()
        .filter(|f| f.relation.is_some())
        .collect();
    let keyed = relations.iter().map(|f| {
        let (name, ty, def) = (&f.ident, &f.ty, def_fn(f));
        quote!(model.#name = <#ty>::keyed(#ident::#def(), &model);)
    });
    let relation_items = relations.iter().map(|f| relation_items(model, f));
    let child_of = relations.iter().filter_map(|f| child_of(model, f));
    let key_checks = relations.iter().filter_map(|f| foreign_key_check(model, f));
    let column_values = columns.iter().map(|f| {
        let (name, ty, column) = (&f.ident, &f.ty, &f.column);
        quote!(#column => ::std::option::Option::Some(<#ty as __fdb::ColumnType>::to_value(&self.#name)),)
    });
    // By index without comparing names; a model with mixins answers by name (the
    // trait's default).
    let column_value_at = slots.iter().all(|f| !f.flatten).then(|| {
        let arms = slots.iter().zip(&offsets).map(|(f, at)| {
            let (name, ty) = (&f.ident, &f.ty);
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
    let joined: Vec<&&FieldDef> = relations
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
    let builder = (!model.view).then(|| builder(model));
    // A view is read-only: no session or bulk write compiles for it.
    let writes = (!model.view).then(|| {
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
    });
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
    let history = model.versioned.map(|_| {
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
    quote! {
        #builder

        const _: () = {
            use ::flaskdb::__private as __fdb;

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
                #key_consts

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

/// `fn table()`: the metadata, built once.
fn table(model: &ModelDef) -> TokenStream {
    let name = match &model.table {
        Some(t) => quote!(#t),
        None => {
            let s = model.ident.to_string();
            quote!(__fdb::camel_to_snake_case(#s))
        }
    };
    // A model without a bind of its own takes its first mixin's.
    let mixin_binds = model.fields.iter().filter(|f| f.flatten).map(|f| {
        let ty = &f.ty;
        quote!(.or(<#ty as __fdb::Columns>::BIND))
    });
    let bind = match &model.bind {
        Some(b) => quote!(::std::option::Option::Some(#b)),
        None => quote!(::std::option::Option::None #(#mixin_binds)*),
    };
    let view = model.view;
    let ident = &model.ident;
    let versioned = model
        .versioned
        .map(|_| quote!(.versioned(__flaskdb_history)));
    let relations: Vec<_> = model
        .fields
        .iter()
        .filter(|f| f.relation.is_some())
        .map(def_fn)
        .collect();
    let columns = slots(model).into_iter().map(|f| {
        let ty = &f.ty;
        if f.flatten {
            quote!(let table = <#ty as __fdb::Columns>::add_to(table);)
        } else {
            let def = column_def(f);
            quote!(let table = table.column(#def);)
        }
    });
    let foreign_keys = model.columns().into_iter().filter_map(foreign_key);
    quote! {
        fn table() -> &'static __fdb::Table {
            static TABLE: ::std::sync::LazyLock<__fdb::Table> = ::std::sync::LazyLock::new(|| {
                let table = __fdb::Table::new(#name).bind(#bind).view(#view);
                #(#columns)*
                table
                    #(#foreign_keys)*
                    #(.relation(#ident::#relations))*
                    #versioned
            });
            &TABLE
        }
    }
}

/// The fields that hold columns, in table order: the column fields and the flattened
/// mixins.
fn slots(model: &ModelDef) -> Vec<&FieldDef> {
    model
        .fields
        .iter()
        .filter(|f| f.is_column() || f.flatten)
        .collect()
}

/// The index of each slot's first column: a column counts one, a mixin its width.
fn offsets(slots: &[&FieldDef]) -> Vec<TokenStream> {
    let mut own = 0usize;
    let mut mixins: Vec<&syn::Type> = Vec::new();
    slots
        .iter()
        .map(|f| {
            let at = quote!((#own #(+ <#mixins as ::flaskdb::__private::Columns>::WIDTH)*));
            if f.flatten {
                mixins.push(&f.ty);
            } else {
                own += 1;
            }
            at
        })
        .collect()
}

/// The number of columns of the slots.
fn width(slots: &[&FieldDef]) -> TokenStream {
    let own = slots.iter().filter(|f| !f.flatten).count();
    let mixins = slots.iter().filter(|f| f.flatten).map(|f| &f.ty);
    quote!(#own #(+ <#mixins as ::flaskdb::__private::Columns>::WIDTH)*)
}

/// `.references(..)` for a column with a foreign key.
pub(crate) fn foreign_key(f: &FieldDef) -> Option<TokenStream> {
    let (ref_table, ref_column) = f.foreign_key.as_ref()?;
    let column = &f.column;
    let on_delete = match f.on_delete {
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
    };
    Some(quote!(.references(#column, #ref_table, #ref_column, #on_delete)))
}

pub(crate) fn column_def(f: &FieldDef) -> TokenStream {
    let name = &f.column;
    let ty = &f.ty;
    // The trait bound is checked at the field type's span, so an unsupported type is
    // reported there.
    let mut def = quote_spanned!(ty.span()=> __fdb::ColumnDef::of::<#ty>(#name));
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
    // A non-capturing closure, so it coerces to `fn() -> Value`; the function's return
    // type is checked against the field at its span.
    for (method, path) in [("default_fn", &f.default_fn), ("onupdate", &f.onupdate)] {
        if let Some(path) = path {
            let method = format_ident!("{}", method);
            def.extend(quote_spanned!(path.span()=> .#method(|| {
                __fdb::ColumnType::into_value(__fdb::IntoField::<#ty>::into_field(#path()))
            })));
        }
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
    let slots = slots(model);
    let fields = slots.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        quote!(#name: ::std::option::Option<#ty>)
    });
    let mixin_setters = slots.iter().filter(|f| f.flatten).map(|f| {
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
        let (name, ty, column) = (&f.ident, &f.ty, &f.column);
        quote!(#column => self.#name = ::flaskdb::__private::field_from::<#ty>(value),)
    });
    let row_columns = slots.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        if f.flatten {
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
            quote!(row.column(self.#name.map(<#ty as __fdb::ColumnType>::into_value));)
        }
    });
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

            /// Sets the column named `column` from a value of another row (a foreign key).
            #[allow(dead_code)]
            fn __flaskdb_set(&mut self, column: &str, value: ::flaskdb::__private::Value) {
                match column {
                    #(#set_arms)*
                    _ => {}
                }
            }
        }

        const _: () = {
            use ::flaskdb::__private as __fdb;

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
fn relation_setter(model: &ModelDef, f: &FieldDef) -> Option<TokenStream> {
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
                                match <#target as ::flaskdb::__private::Model>::column_value(parent, &other) {
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

/// The name of the hidden function returning a relationship's `RelationDef`.
fn def_fn(f: &FieldDef) -> syn::Ident {
    format_ident!("__flaskdb_rel_{}", f.ident)
}

/// `TABLE_NAME` and `FOREIGN_KEYS`: what the compile-time check of relationships reads.
fn key_consts(model: &ModelDef) -> TokenStream {
    let name = match &model.table {
        Some(t) => quote!(__fdb::TableName::Given(#t)),
        None => {
            let s = model.ident.to_string();
            quote!(__fdb::TableName::Derived(#s))
        }
    };
    let keys = model.columns().into_iter().filter_map(|f| {
        let (ref_table, _) = f.foreign_key.as_ref()?;
        let column = &f.column;
        Some(quote!((#column, #ref_table)))
    });
    let mixins = model.fields.iter().filter(|f| f.flatten).map(|f| {
        let ty = &f.ty;
        quote!(<#ty as __fdb::Columns>::FOREIGN_KEYS)
    });
    quote! {
        const TABLE_NAME: __fdb::TableName = #name;
        const FOREIGN_KEYS: &'static [&'static [(&'static str, &'static str)]] =
            &[&[#(#keys),*] #(, #mixins)*];
    }
}

/// A compile-time check, at the field, that exactly one foreign key can carry a
/// `has_many`/`has_one`/`belongs_to` relationship. (A many-to-many's association table
/// may be declared at runtime, so its keys are checked when it is first used.)
fn foreign_key_check(model: &ModelDef, f: &FieldDef) -> Option<TokenStream> {
    let rel = f.relation.as_ref()?;
    let ident = &model.ident;
    let target = &rel.target;
    let (child, parent) = match rel.kind {
        RelationKind::HasMany | RelationKind::HasOne => (quote!(#target), quote!(#ident)),
        RelationKind::BelongsTo => (quote!(#ident), quote!(#target)),
        RelationKind::ManyToMany => return None,
    };
    let named = match rel.foreign_key.as_deref().and_then(|f| f.rsplit_once('.')) {
        Some((t, c)) => quote!(::std::option::Option::Some((#t, #c))),
        None => quote!(::std::option::Option::None),
    };
    let label = format!("{ident}.{}", f.ident);
    let child_name = quote!(#child).to_string();
    let none = format!(
        "relationship `{label}`: no foreign key of `{child_name}` points at `{}`{}",
        quote!(#parent),
        rel.foreign_key
            .as_ref()
            .map(|f| format!(" as `{f}`"))
            .unwrap_or_default()
    );
    let several = format!(
        "relationship `{label}`: several foreign keys of `{child_name}` point at `{}`; name \
         one with foreign_key = \"<table>.<column>\"",
        quote!(#parent)
    );
    Some(quote_spanned! {f.ident.span()=>
        const _: () = match __fdb::matching_foreign_keys(
            <#child as __fdb::Model>::FOREIGN_KEYS,
            <#child as __fdb::Model>::TABLE_NAME,
            <#parent as __fdb::Model>::TABLE_NAME,
            #named,
        ) {
            ::std::option::Option::Some(0) => ::std::panic!(#none),
            ::std::option::Option::Some(2..) => ::std::panic!(#several),
            _ => {}
        };
    })
}

/// The relationship handle constant, its definition and its field accessor.
fn relation_items(model: &ModelDef, f: &FieldDef) -> TokenStream {
    let Some(rel) = &f.relation else {
        return TokenStream::new();
    };
    let ident = &model.ident;
    let (name, vis, target) = (&f.ident, &f.vis, &rel.target);
    let def = def_fn(f);
    let field_fn = format_ident!("__flaskdb_field_{}", f.ident);
    let field_name = f.ident.to_string();
    let kind = match rel.kind {
        RelationKind::HasMany => quote!(HasMany),
        RelationKind::HasOne => quote!(HasOne),
        RelationKind::BelongsTo => quote!(BelongsTo),
        RelationKind::ManyToMany => quote!(ManyToMany),
    };
    let lazy = match rel.lazy {
        Lazy::Select => quote!(Select),
        Lazy::Selectin => quote!(Selectin),
        Lazy::Joined => quote!(Joined),
        Lazy::Raise => quote!(Raise),
    };
    let option = |v: &Option<String>| match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    };
    let (fk, secondary) = (option(&rel.foreign_key), option(&rel.secondary));
    let cascade_delete = rel.cascade_delete;
    let doc = format!("The `{field_name}` relationship, for eager loading and `with_parent_via`.");
    let (back, back_fn) = back_populates(model, f);
    quote! {
        #[doc = #doc]
        #vis const #name: __fdb::Relation<#ident, #target> =
            __fdb::Relation::new(#ident::#def, #ident::#field_fn, #back);

        #back_fn

        #[doc(hidden)]
        fn #def() -> &'static __fdb::RelationDef {
            static DEF: __fdb::RelationDef = __fdb::RelationDef::new(
                #field_name,
                __fdb::RelationKind::#kind,
                <#ident as __fdb::Model>::table,
                <#target as __fdb::Model>::table,
                #fk,
                #secondary,
                __fdb::Lazy::#lazy,
                #cascade_delete,
                __fdb::decode_any::<#target>,
            );
            &DEF
        }

        #[doc(hidden)]
        fn #field_fn(model: &mut #ident) -> &mut __fdb::Related<#target> {
            __fdb::RelationField::related_mut(&mut model.#name)
        }
    }
}

/// `back_populates = "field"`: the argument `Relation::new` takes, and a hidden
/// function that checks, at the attribute, that the target's field is a relationship
/// back to this model (and, for `has_many`/`has_one`, sets it on each loaded row).
fn back_populates(model: &ModelDef, f: &FieldDef) -> (TokenStream, Option<TokenStream>) {
    let none = quote!(::std::option::Option::None);
    let Some(rel) = &f.relation else {
        return (none, None);
    };
    let Some((back, span)) = &rel.back_populates else {
        return (none, None);
    };
    let (ident, target) = (&model.ident, &rel.target);
    let back = syn::Ident::new(back, *span);
    let back_fn = format_ident!("__flaskdb_back_{}", f.ident);
    let check = quote_spanned! {*span=>
        let _: __fdb::Relation<#target, #ident> = #target::#back;
    };
    match rel.kind {
        RelationKind::HasMany | RelationKind::HasOne => {
            // The call type-checks that the field is a `BelongsTo` of this model.
            let body = quote_spanned! {*span=>
                __fdb::populate_back(&mut child.#back, parent);
            };
            (
                quote!(::std::option::Option::Some(#ident::#back_fn)),
                Some(quote! {
                    #[doc(hidden)]
                    fn #back_fn(child: &mut #target, parent: &#ident) {
                        #body
                    }
                }),
            )
        }
        RelationKind::BelongsTo | RelationKind::ManyToMany => (
            none,
            Some(quote! {
                #[doc(hidden)]
                #[allow(dead_code)]
                fn #back_fn() {
                    #check
                }
            }),
        ),
    }
}

/// The `ChildOf` impl that lets `with_parent` find a `has_many`/`has_one` relationship.
fn child_of(model: &ModelDef, f: &FieldDef) -> Option<TokenStream> {
    let rel = f.relation.as_ref()?;
    let ident = &model.ident;
    let (name, target) = (&f.ident, &rel.target);
    // A number telling this relationship's impl apart from others between the same
    // two models.
    let marker = format!("{ident}.{name}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }) as usize;
    Some(match rel.kind {
        RelationKind::HasMany | RelationKind::HasOne => quote! {
            #[automatically_derived]
            impl __fdb::ChildOf<#ident, __fdb::Via<#marker>> for #target {
                fn child_filter(parent: &#ident) -> __fdb::Result<__fdb::Expr> {
                    #ident::#name.children_of(parent)
                }
            }
        },
        // Only the parent's side makes the impl: with both sides declared (the usual
        // case) there is then exactly one, and `with_parent` needs no annotation.
        RelationKind::BelongsTo => return None,
        RelationKind::ManyToMany => return None,
    })
}
