//! The expansion of an input with errors, emitted beside them (thiserror's habit).

use proc_macro2::TokenStream;

use crate::ast::{Enum, Mixin, Model};

/// What a model with errors still gets.
pub(crate) fn model(_model: &Model) -> TokenStream {
    TokenStream::new()
}

/// What a mixin with errors still gets.
pub(crate) fn mixin(_mixin: &Mixin) -> TokenStream {
    TokenStream::new()
}

/// What an enum with errors still gets.
pub(crate) fn enumeration(_input: &Enum) -> TokenStream {
    TokenStream::new()
}
