//! The IR the derives work on: a container (model, mixin or enum) and its fields or
//! variants, built from the `syn` input with their attributes read by `attr`. Building
//! it reports only an input the derive cannot take at all (not a struct with named
//! fields, not an enum, generic parameters); `check` then validates it and `expand`
//! generates code from it.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Ident, Type, Visibility};

use crate::attr::{self, Lazy, RelationKind};
use crate::ctxt::Ctxt;

/// A `#[derive(Model)]` struct.
pub(crate) struct Model {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) attrs: attr::Model,
    pub(crate) fields: Vec<Field>,
}

/// A `#[derive(Columns)]` mixin.
pub(crate) struct Mixin {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) attrs: attr::Mixin,
    pub(crate) fields: Vec<Field>,
}

/// A field of a model or mixin.
pub(crate) struct Field {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) ty: Type,
    pub(crate) attrs: attr::Field,
    /// The column's name: `column = ".."`, else the field's.
    pub(crate) column: String,
    /// Marked `primary_key`, or (in a model without one) named `id`.
    pub(crate) primary_key: bool,
    /// A relationship field whose type names its model.
    pub(crate) relation: Option<Relation>,
}

/// `#[model(has_many | has_one | belongs_to | many_to_many, ..)]` on a field typed
/// `Kind<Target>`.
pub(crate) struct Relation {
    pub(crate) kind: RelationKind,
    /// The related model (the field type's generic argument).
    pub(crate) target: Type,
    /// `foreign_key = "table.column"`: which foreign key to join on.
    pub(crate) foreign_key: Option<String>,
    pub(crate) secondary: Option<String>,
    pub(crate) lazy: Lazy,
    /// `cascade = "delete"`: deleting the row through a session deletes these rows.
    pub(crate) cascade_delete: bool,
    /// `back_populates = "field"`: the target's relationship back to this model.
    pub(crate) back_populates: Option<(String, Span)>,
}

/// A `#[derive(Enum)]` enum.
pub(crate) struct Enum {
    pub(crate) ident: Ident,
    pub(crate) attrs: attr::Enum,
    pub(crate) variants: Vec<Variant>,
}

/// A variant of a `#[derive(Enum)]` enum.
pub(crate) struct Variant {
    pub(crate) ident: Ident,
    pub(crate) fields: syn::Fields,
    pub(crate) attrs: attr::Variant,
    /// What the variant is stored as: `rename = ".."`, else its name.
    pub(crate) stored: String,
}

impl Model {
    /// The IR of `input`; `None` when it is not a struct with named fields.
    pub(crate) fn from_ast(cx: &Ctxt, input: &syn::DeriveInput) -> Option<Model> {
        let fields = named_fields(cx, input, "Model")?;
        let attrs = attr::Model::from_attrs(cx, &input.attrs);
        let mut fields: Vec<Field> = fields.map(|f| Field::from_ast(cx, f)).collect();
        // A field named `id` is the primary key when no field is marked as one.
        if !fields.iter().any(|f| f.primary_key)
            && let Some(id) = fields.iter_mut().find(|f| f.is_column() && f.ident == "id")
        {
            id.primary_key = true;
        }
        Some(Model {
            ident: input.ident.clone(),
            vis: input.vis.clone(),
            attrs,
            fields,
        })
    }

    /// The primary-key fields, in declaration order.
    pub(crate) fn primary_key(&self) -> Vec<&Field> {
        self.fields
            .iter()
            .filter(|f| f.is_column() && f.primary_key)
            .collect()
    }

    /// The column fields, in declaration order.
    pub(crate) fn columns(&self) -> Vec<&Field> {
        self.fields.iter().filter(|f| f.is_column()).collect()
    }

    /// The fields that hold columns, in table order: the column fields and the
    /// flattened mixins.
    pub(crate) fn slots(&self) -> Vec<&Field> {
        self.fields
            .iter()
            .filter(|f| f.is_column() || f.is_flatten())
            .collect()
    }

    /// The relationship fields, in declaration order.
    pub(crate) fn relations(&self) -> Vec<&Field> {
        self.fields
            .iter()
            .filter(|f| f.relation.is_some())
            .collect()
    }

    /// The flattened mixin fields, in declaration order.
    pub(crate) fn mixins(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.is_flatten())
    }
}

impl Mixin {
    /// The IR of `input`; `None` when it is not a struct with named fields.
    pub(crate) fn from_ast(cx: &Ctxt, input: &syn::DeriveInput) -> Option<Mixin> {
        let fields = named_fields(cx, input, "Columns")?;
        let attrs = attr::Mixin::from_attrs(cx, &input.attrs);
        Some(Mixin {
            ident: input.ident.clone(),
            vis: input.vis.clone(),
            attrs,
            fields: fields.map(|f| Field::from_ast(cx, f)).collect(),
        })
    }

    /// The column fields, in declaration order.
    pub(crate) fn columns(&self) -> Vec<&Field> {
        self.fields.iter().filter(|f| f.is_column()).collect()
    }
}

impl Field {
    fn from_ast(cx: &Ctxt, field: &syn::Field) -> Field {
        let ident = field
            .ident
            .clone()
            .expect("named_fields gives named fields");
        let attrs = attr::Field::from_attrs(cx, &field.attrs);
        let relation = attrs.relation.and_then(|(kind, _)| {
            Some(Relation {
                kind,
                target: generic_argument(&field.ty)?,
                foreign_key: attrs.foreign_key.as_ref().map(|(t, c)| format!("{t}.{c}")),
                secondary: attrs.secondary.as_ref().map(|(s, _)| s.clone()),
                lazy: attrs.lazy.map_or(Lazy::Select, |(l, _)| l),
                cascade_delete: attrs.cascade.is_some(),
                back_populates: attrs.back_populates.clone(),
            })
        });
        Field {
            column: attrs
                .column
                .clone()
                .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned()),
            primary_key: attrs.primary_key,
            vis: field.vis.clone(),
            ty: field.ty.clone(),
            relation,
            attrs,
            ident,
        }
    }

    /// Whether this field is a column.
    pub(crate) fn is_column(&self) -> bool {
        self.attrs.skip.is_none() && !self.is_flatten() && self.relation.is_none()
    }

    /// Whether this field flattens a mixin.
    pub(crate) fn is_flatten(&self) -> bool {
        self.attrs.flatten.is_some()
    }

    /// The column's foreign key, `(table, column)`: a relationship field's
    /// `foreign_key` names the key to join on instead.
    pub(crate) fn foreign_key(&self) -> Option<&(String, String)> {
        match self.relation {
            Some(_) => None,
            None => self.attrs.foreign_key.as_ref(),
        }
    }
}

impl Enum {
    /// The IR of `input`; `None` when it is not an enum.
    pub(crate) fn from_ast(cx: &Ctxt, input: &syn::DeriveInput) -> Option<Enum> {
        let syn::Data::Enum(data) = &input.data else {
            cx.error_at(
                input.ident.span(),
                "#[derive(Enum)] needs an enum whose variants have no fields",
            );
            return None;
        };
        if !input.generics.params.is_empty() {
            cx.error_at(
                input.generics.span(),
                "#[derive(Enum)] does not support generic parameters",
            );
        }
        let attrs = attr::Enum::from_attrs(cx, &input.attrs);
        let variants = data
            .variants
            .iter()
            .map(|v| {
                let attrs = attr::Variant::from_attrs(cx, &v.attrs);
                Variant {
                    ident: v.ident.clone(),
                    fields: v.fields.clone(),
                    stored: attrs.rename.clone().unwrap_or_else(|| v.ident.to_string()),
                    attrs,
                }
            })
            .collect();
        Some(Enum {
            ident: input.ident.clone(),
            attrs,
            variants,
        })
    }
}

/// The fields of a struct with named fields, which `#[derive(Model)]` and
/// `#[derive(Columns)]` (named by `derive`) need; generic parameters are reported.
fn named_fields<'a>(
    cx: &Ctxt,
    input: &'a syn::DeriveInput,
    derive: &str,
) -> Option<impl Iterator<Item = &'a syn::Field>> {
    let syn::Data::Struct(syn::DataStruct {
        fields: syn::Fields::Named(named),
        ..
    }) = &input.data
    else {
        cx.error_at(
            input.ident.span(),
            format!("#[derive({derive})] needs a struct with named fields"),
        );
        return None;
    };
    if !input.generics.params.is_empty() {
        cx.error_at(
            input.generics.span(),
            format!("#[derive({derive})] does not support generic parameters"),
        );
    }
    Some(named.named.iter())
}

/// `T` of a field type written `Name<T>`.
fn generic_argument(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}
