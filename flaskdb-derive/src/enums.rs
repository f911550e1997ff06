//! `#[derive(Enum)]`: a fieldless enum stored as the text of its variant names (or
//! `#[model(rename = "..")]`), or with `#[model(integer)]` as its discriminants.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Ident, LitStr};

struct Variant {
    ident: Ident,
    stored: String,
}

pub(crate) fn derive(input: &syn::DeriveInput) -> Result<TokenStream, syn::Error> {
    let syn::Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(Enum)] needs an enum whose variants have no fields",
        ));
    };
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    if !input.generics.params.is_empty() {
        push(syn::Error::new(
            input.generics.span(),
            "#[derive(Enum)] does not support generic parameters",
        ));
    }
    let mut integer: Option<Span> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("model")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("integer") {
                integer = Some(meta.path.span());
                Ok(())
            } else {
                Err(meta.error("unknown enum attribute; expected `integer`"))
            }
        });
        if let Err(e) = parsed {
            push(e);
        }
    }
    let mut variants = Vec::new();
    for v in &data.variants {
        if !matches!(v.fields, syn::Fields::Unit) {
            push(syn::Error::new(
                v.fields.span(),
                "a variant of a #[derive(Enum)] enum has no fields",
            ));
        }
        let mut stored = v.ident.to_string();
        for attr in v.attrs.iter().filter(|a| a.path().is_ident("model")) {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    let lit: LitStr = meta.value()?.parse()?;
                    stored = lit.value();
                    Ok(())
                } else {
                    Err(meta.error("unknown variant attribute; expected `rename = \"..\"`"))
                }
            });
            if let Err(e) = parsed {
                push(e);
            }
        }
        if let (Some(_), Some(_)) = (integer, v.attrs.iter().find(|a| a.path().is_ident("model"))) {
            push(syn::Error::new(
                v.ident.span(),
                "`rename` names the stored text; an `integer` enum stores discriminants",
            ));
        }
        if variants.iter().any(|w: &Variant| w.stored == stored) {
            push(syn::Error::new(
                v.ident.span(),
                format!("two variants are stored as `{stored}`"),
            ));
        }
        variants.push(Variant {
            ident: v.ident.clone(),
            stored,
        });
    }
    if variants.is_empty() {
        push(syn::Error::new(
            input.ident.span(),
            "#[derive(Enum)] needs at least one variant",
        ));
    }
    if let Some(e) = errors {
        return Err(e);
    }
    let ident = &input.ident;
    let idents: Vec<&Ident> = variants.iter().map(|v| &v.ident).collect();
    let body = if integer.is_some() {
        quote! {
            type Stored = i32;
            fn to_stored(&self) -> i32 {
                *self as i32
            }
            fn from_stored(stored: i32) -> ::std::result::Result<Self, ::std::string::String> {
                #(if stored == #ident::#idents as i32 {
                    return ::std::result::Result::Ok(#ident::#idents);
                })*
                ::std::result::Result::Err(::std::format!(
                    "{} is not a discriminant of {}", stored, ::std::stringify!(#ident)
                ))
            }
        }
    } else {
        let names: Vec<&String> = variants.iter().map(|v| &v.stored).collect();
        let longest = names.iter().map(|n| n.len()).max().unwrap_or(1).max(1);
        let max_length = u32::try_from(longest).unwrap_or(u32::MAX);
        let expected = names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        quote! {
            type Stored = ::std::string::String;
            const MAX_LENGTH: ::std::option::Option<u32> = ::std::option::Option::Some(#max_length);
            fn to_stored(&self) -> ::std::string::String {
                ::std::string::String::from(match self {
                    #(#ident::#idents => #names,)*
                })
            }
            fn from_stored(
                stored: ::std::string::String,
            ) -> ::std::result::Result<Self, ::std::string::String> {
                match stored.as_str() {
                    #(#names => ::std::result::Result::Ok(#ident::#idents),)*
                    other => ::std::result::Result::Err(::std::format!(
                        "`{}` is not a variant of {} (expected one of: {})",
                        other, ::std::stringify!(#ident), #expected
                    )),
                }
            }
        }
    };
    Ok(quote! {
        #[automatically_derived]
        impl ::flaskdb::__private::CustomType for #ident {
            #body
        }
    })
}
