//! The semantic rules, run on the IR once it is built: keys that conflict or need one
//! another, a relationship's type, what a model needs as a whole (a column, a primary
//! key, distinct column names, one autoincrement), what a mixin may not hold, and an
//! enum's variants. Every broken rule is reported to the [`Ctxt`]; nothing is changed.

use syn::spanned::Spanned;

use crate::ast::{Enum, Field, Mixin, Model};
use crate::attr::RelationKind;
use crate::ctxt::Ctxt;
use crate::symbol::{CASCADE, INTEGER, RENAME};

/// Checks a `#[derive(Model)]`.
pub(crate) fn model(cx: &Ctxt, model: &Model) {
    for field in &model.fields {
        field_rules(cx, field);
    }
    if model.attrs.table.is_none() && crate::manifest::require_table_names() {
        cx.error_at(
            model.ident.span(),
            format!(
                "this crate requires explicit table names ([package.metadata.flaskdb] \
                 require_table_names = true): add #[model(table = \"..\")] to `{}`",
                model.ident
            ),
        );
    }
    if let (Some(at), true) = (model.attrs.versioned, model.attrs.view) {
        cx.error_at(at, "a view is never written, so it cannot be `versioned`");
    }
    columns(cx, model);
}

/// What a model needs as a whole.
fn columns(cx: &Ctxt, model: &Model) {
    let columns = model.columns();
    if columns.is_empty() && model.mixins().next().is_none() {
        cx.error_at(model.ident.span(), "a model needs at least one column");
        return;
    }
    if !columns.iter().any(|f| f.primary_key) {
        cx.error_at(
            model.ident.span(),
            format!(
                "model `{}` has no primary key: mark a field `#[model(primary_key)]` or \
                 name it `id`",
                model.ident
            ),
        );
    }
    for (i, f) in columns.iter().enumerate() {
        if columns[..i].iter().any(|g| g.column == f.column) {
            cx.error_at(
                f.ident.span(),
                format!("duplicate column name `{}` in this model", f.column),
            );
        }
    }
    let auto: Vec<&&Field> = columns
        .iter()
        .filter(|f| f.attrs.autoincrement == Some(true))
        .collect();
    if auto.len() > 1 {
        cx.error_at(
            auto[1].ident.span(),
            "only one column may be `#[model(autoincrement = true)]`",
        );
    }
    // The columns an index names are the model's (a mixin's are known only to it).
    if model.mixins().next().is_none() {
        let named = model.attrs.indexes.iter().flat_map(|i| &i.columns);
        for column in named.chain(model.attrs.foreign_keys.iter().flat_map(|f| &f.columns)) {
            if !columns.iter().any(|f| f.column == column.value()) {
                cx.error_at(
                    column.span(),
                    format!("model `{}` has no column `{}`", model.ident, column.value()),
                );
            }
        }
    }
}

/// Checks a `#[derive(Columns)]` mixin.
pub(crate) fn mixin(cx: &Ctxt, mixin: &Mixin) {
    for field in &mixin.fields {
        field_rules(cx, field);
        let problem = if field.relation.is_some() {
            Some("a mixin holds columns only; declare relationships on the model")
        } else if field.primary_key {
            Some("the primary key belongs to the model, not to a mixin")
        } else if field.is_flatten() {
            Some("a mixin cannot flatten another mixin")
        } else {
            None
        };
        if let Some(problem) = problem {
            cx.error_at(field.ident.span(), problem);
        }
    }
    if mixin.columns().is_empty() {
        cx.error_at(mixin.ident.span(), "a mixin needs at least one column");
    }
}

/// The rules between one field's keys.
fn field_rules(cx: &Ctxt, f: &Field) {
    let a = &f.attrs;
    match a.relation {
        Some((kind, span)) => {
            if let Some((at, key)) = a.first_column_only {
                cx.error_at(
                    at,
                    format!(
                        "`#[model({key})]` is for columns; a relationship field is not a column"
                    ),
                );
            }
            match (kind, &a.secondary) {
                (RelationKind::ManyToMany, None) => cx.error_at(
                    span,
                    "`#[model(many_to_many)]` needs `secondary = \"<association table>\"`",
                ),
                (RelationKind::ManyToMany, Some(_)) | (_, None) => {}
                (_, Some((_, at))) => cx.error_at(*at, "`secondary` goes with `many_to_many` only"),
            }
            if let (Some(at), RelationKind::BelongsTo | RelationKind::ManyToMany) =
                (a.cascade, kind)
            {
                cx.error_at(
                    at,
                    format!(
                        "`{CASCADE} = \"delete\"` goes with `has_many` or `has_one` (a \
                         many-to-many's links are always deleted with the row)"
                    ),
                );
            }
            if f.relation.is_none() {
                cx.error_at(
                    f.ty.span(),
                    "a relationship field's type names its model: HasMany<Post>, \
                     HasOne<Profile>, BelongsTo<Category> or ManyToMany<Tag>",
                );
            }
        }
        None => {
            if let Some((_, at)) = a.secondary {
                cx.error_at(at, "`secondary` goes with `many_to_many` only");
            }
            if let Some((_, at)) = a.lazy {
                cx.error_at(
                    at,
                    "`lazy` goes with a relationship (has_many, has_one, belongs_to, many_to_many)",
                );
            }
            if let Some(at) = a.cascade {
                cx.error_at(at, "`cascade` goes with a relationship (has_many, has_one)");
            }
            if let Some((_, at)) = a.back_populates {
                cx.error_at(at, "`back_populates` goes with a relationship");
            }
        }
    }
    if let (Some(_), Some(span)) = (a.flatten, a.first_column_attr.or(a.skip)) {
        cx.error_at(
            span,
            "a `#[model(flatten)]` field is a mixin of columns and takes no other attribute",
        );
    }
    if let (Some(_), Some(span)) = (a.skip, a.first_column_attr) {
        cx.error_at(
            span,
            "a `#[model(skip)]` field is not a column and takes no column attributes",
        );
    }
    // A relationship's `foreign_key` names the key to join on, not a column's.
    let column_key = a.foreign_key.is_some() && f.relation.is_none();
    if let (Some((_, span)), false) = (a.on_delete, column_key) {
        cx.error_at(
            span,
            "`#[model(on_delete = ..)]` needs `#[model(foreign_key = \"table.column\")]` on the same field",
        );
    }
    let defaults = [
        a.default.is_some(),
        a.server_default.is_some(),
        a.default_fn.is_some(),
    ];
    if defaults.iter().filter(|set| **set).count() > 1 {
        cx.error_at(
            f.ident.span(),
            "a column takes one of `default`, `default_fn` and `server_default`",
        );
    }
}

/// Checks a `#[derive(Enum)]`.
pub(crate) fn enumeration(cx: &Ctxt, input: &Enum) {
    for (i, v) in input.variants.iter().enumerate() {
        if !matches!(v.fields, syn::Fields::Unit) {
            cx.error_at(
                v.fields.span(),
                "a variant of a #[derive(Enum)] enum has no fields",
            );
        }
        if input.attrs.integer.is_some() && v.attrs.any {
            cx.error_at(
                v.ident.span(),
                format!(
                    "`{RENAME}` names the stored text; an `{INTEGER}` enum stores discriminants"
                ),
            );
        }
        if input.variants[..i].iter().any(|w| w.stored == v.stored) {
            cx.error_at(
                v.ident.span(),
                format!("two variants are stored as `{}`", v.stored),
            );
        }
    }
    if input.variants.is_empty() {
        cx.error_at(
            input.ident.span(),
            "#[derive(Enum)] needs at least one variant",
        );
    }
}
