//! `#[case]`: registers an async function of flaskdb's integration suite as a case,
//! named `area::function` after the module of the suite it is in.

use proc_macro::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{Ident, ItemFn, Token, parse_macro_input};

/// Registers `async fn name(t: TestDb) -> TestResult` as a case of the suite, with what
/// it needs beyond what every backend offers: `#[case]`, `#[case(needs(Server))]`.
#[proc_macro_attribute]
pub fn case(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut needs: Vec<Ident> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("needs") {
            let content;
            syn::parenthesized!(content in meta.input);
            needs.extend(Punctuated::<Ident, Token![,]>::parse_terminated(&content)?);
            Ok(())
        } else {
            Err(meta.error("expected `needs(..)`"))
        }
    });
    parse_macro_input!(attr with parser);
    let function = parse_macro_input!(item as ItemFn);
    let name = &function.sig.ident;
    quote! {
        #function

        ::inventory::submit! {
            crate::Case {
                module: module_path!(),
                function: stringify!(#name),
                run: |t| ::std::boxed::Box::pin(#name(t)),
                needs: &[#(crate::Need::#needs),*],
            }
        }
    }
    .into()
}
