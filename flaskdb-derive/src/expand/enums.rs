//! `#[derive(Enum)]`: the `CustomType` impl of a fieldless enum, stored as the text of
//! its variants' names (or `#[model(rename = "..")]`), or with `#[model(integer)]` as
//! its discriminants.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use crate::ast::Enum;

/// The `CustomType` impl.
pub(crate) fn enumeration(input: &Enum) -> TokenStream {
    let ident = &input.ident;
    let idents: Vec<&Ident> = input.variants.iter().map(|v| &v.ident).collect();
    let body = if input.attrs.integer.is_some() {
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
        let names: Vec<&String> = input.variants.iter().map(|v| &v.stored).collect();
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
    quote! {
        #[automatically_derived]
        impl ::flaskdb::__private::CustomType for #ident {
            #body
        }
    }
}
