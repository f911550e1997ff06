//! What each relationship field generates: its handle constant with the definition and
//! field accessor behind it, the `back_populates` check, the `ChildOf` impl that
//! `with_parent` finds, and the compile-time check that exactly one foreign key
//! carries it.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use super::def_fn;
use crate::ast::{Field, Model};
use crate::attr::{Lazy, RelationKind};

/// A compile-time check, at the field, that exactly one foreign key can carry a
/// `has_many`/`has_one`/`belongs_to` relationship. (A many-to-many's association table
/// may be declared at runtime, so its keys are checked when it is first used.)
pub(super) fn foreign_key_check(model: &Model, f: &Field) -> Option<TokenStream> {
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
            <#child as __fdb::ModelInternals>::FOREIGN_KEYS,
            <#child as __fdb::ModelInternals>::TABLE_NAME,
            <#parent as __fdb::ModelInternals>::TABLE_NAME,
            #named,
        ) {
            ::std::option::Option::Some(0) => ::std::panic!(#none),
            ::std::option::Option::Some(2..) => ::std::panic!(#several),
            _ => {}
        };
    })
}

/// The relationship handle constant, its definition and its field accessor.
pub(super) fn relation_items(model: &Model, f: &Field) -> TokenStream {
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
fn back_populates(model: &Model, f: &Field) -> (TokenStream, Option<TokenStream>) {
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
pub(super) fn child_of(model: &Model, f: &Field) -> Option<TokenStream> {
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
