//! Parsing and validating `#[model(..)]` into [`ModelDef`]. Every error found is
//! collected with its span, so a model's mistakes are all reported at once.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitBool, LitInt, LitStr, Type, Visibility};

/// A validated model.
pub(crate) struct ModelDef {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) table: Option<String>,
    pub(crate) bind: Option<String>,
    pub(crate) view: bool,
    /// `#[model(versioned)]`: previous rows are kept in `<table>_history`.
    pub(crate) versioned: Option<Span>,
    pub(crate) fields: Vec<FieldDef>,
}

/// A validated field.
pub(crate) struct FieldDef {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) ty: Type,
    pub(crate) skip: bool,
    /// `#[model(flatten)]`: a `#[derive(Columns)]` mixin whose columns the model takes in.
    pub(crate) flatten: bool,
    pub(crate) column: String,
    pub(crate) primary_key: bool,
    pub(crate) autoincrement: Option<bool>,
    pub(crate) unique: bool,
    pub(crate) index: bool,
    pub(crate) max_length: Option<u32>,
    pub(crate) default: Option<Expr>,
    pub(crate) server_default: Option<String>,
    /// `default_fn = path`: a function called for each new row that leaves it unset.
    pub(crate) default_fn: Option<syn::Path>,
    /// `onupdate = path`: a function called for each update that does not set it.
    pub(crate) onupdate: Option<syn::Path>,
    pub(crate) foreign_key: Option<(String, String)>,
    pub(crate) on_delete: Option<OnDelete>,
    /// A relationship field (not a column).
    pub(crate) relation: Option<RelationAttr>,
}

/// `#[model(has_many | has_one | belongs_to | many_to_many, ..)]`.
pub(crate) struct RelationAttr {
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

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelationKind {
    HasMany,
    HasOne,
    BelongsTo,
    ManyToMany,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lazy {
    Select,
    Selectin,
    Joined,
    Raise,
}

#[derive(Clone, Copy)]
pub(crate) enum OnDelete {
    Cascade,
    SetNull,
    Restrict,
    SetDefault,
}

const FIELD_ATTRS: &str = "primary_key, autoincrement, unique, index, max_length, default, \
                           default_fn, onupdate, server_default, foreign_key, on_delete, column, skip, flatten, has_many, \
                           has_one, belongs_to, many_to_many, secondary, lazy, cascade, back_populates";
const STRUCT_ATTRS: &str = "table, bind, view, versioned";

/// Collects errors; combines them into one `syn::Error` at the end.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }
}

/// Records a flag or value once; a second occurrence is an error at its span.
fn set_once<T>(slot: &mut Option<T>, value: T, name: &str, span: Span, errors: &mut Errors) {
    if slot.is_some() {
        errors.at(span, format!("duplicate `#[model({name})]` attribute"));
    } else {
        *slot = Some(value);
    }
}

impl ModelDef {
    pub(crate) fn from_ast(input: &syn::DeriveInput) -> Result<ModelDef, syn::Error> {
        let mut errors = Errors::default();
        let fields = named_fields(input, "Model", &mut errors)?;
        let (mut table, mut bind, mut view) = (None, None, None);
        let mut versioned: Option<Span> = None;
        for attr in input.attrs.iter().filter(|a| a.path().is_ident("model")) {
            let parsed = attr.parse_nested_meta(|meta| {
                let span = meta.path.span();
                let name = meta
                    .path
                    .get_ident()
                    .map(Ident::to_string)
                    .unwrap_or_default();
                match name.as_str() {
                    "table" => {
                        let v: LitStr = meta.value()?.parse()?;
                        if v.value().is_empty() {
                            errors.at(v.span(), "`#[model(table = \"..\")]` must not be empty");
                        }
                        set_once(&mut table, v.value(), "table", span, &mut errors);
                    }
                    "bind" => {
                        let v: LitStr = meta.value()?.parse()?;
                        set_once(&mut bind, v.value(), "bind", span, &mut errors);
                    }
                    "view" => set_once(&mut view, true, "view", span, &mut errors),
                    "versioned" => set_once(&mut versioned, span, "versioned", span, &mut errors),
                    _ => {
                        skip_value(&meta)?;
                        errors.at(
                            span,
                            format!(
                                "unknown model attribute `{name}`; expected one of: {STRUCT_ATTRS}"
                            ),
                        );
                    }
                }
                Ok(())
            });
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        let mut defs = Vec::new();
        for field in fields {
            if let Some(def) = FieldDef::from_ast(field, &mut errors) {
                defs.push(def);
            }
        }
        // A field named `id` is the primary key when no field is marked as one.
        if !defs.iter().any(|f| f.primary_key)
            && let Some(id) = defs.iter_mut().find(|f| f.is_column() && f.ident == "id")
        {
            id.primary_key = true;
        }
        let model = ModelDef {
            ident: input.ident.clone(),
            vis: input.vis.clone(),
            table,
            bind,
            view: view.unwrap_or(false),
            versioned,
            fields: defs,
        };
        if model.table.is_none() && crate::manifest::require_table_names() {
            errors.at(
                model.ident.span(),
                format!(
                    "this crate requires explicit table names ([package.metadata.flaskdb] \
                     require_table_names = true): add #[model(table = \"..\")] to `{}`",
                    model.ident
                ),
            );
        }
        if let (Some(at), true) = (model.versioned, model.view) {
            errors.at(at, "a view is never written, so it cannot be `versioned`");
        }
        model.check(&mut errors);
        match errors.0 {
            Some(e) => Err(e),
            None => Ok(model),
        }
    }

    /// Rules that need the whole model.
    fn check(&self, errors: &mut Errors) {
        let columns: Vec<&FieldDef> = self.fields.iter().filter(|f| f.is_column()).collect();
        if columns.is_empty() && !self.fields.iter().any(|f| f.flatten) {
            errors.at(self.ident.span(), "a model needs at least one column");
            return;
        }
        if !columns.iter().any(|f| f.primary_key) {
            errors.at(
                self.ident.span(),
                format!(
                    "model `{}` has no primary key: mark a field `#[model(primary_key)]` or \
                     name it `id`",
                    self.ident
                ),
            );
        }
        for (i, f) in columns.iter().enumerate() {
            if columns[..i].iter().any(|g| g.column == f.column) {
                errors.at(
                    f.ident.span(),
                    format!("duplicate column name `{}` in this model", f.column),
                );
            }
        }
        let auto: Vec<&&FieldDef> = columns
            .iter()
            .filter(|f| f.autoincrement == Some(true))
            .collect();
        if auto.len() > 1 {
            errors.at(
                auto[1].ident.span(),
                "only one column may be `#[model(autoincrement = true)]`",
            );
        }
    }

    /// The primary-key fields, in declaration order.
    pub(crate) fn primary_key(&self) -> Vec<&FieldDef> {
        self.fields
            .iter()
            .filter(|f| f.is_column() && f.primary_key)
            .collect()
    }

    /// The column fields, in declaration order.
    pub(crate) fn columns(&self) -> Vec<&FieldDef> {
        self.fields.iter().filter(|f| f.is_column()).collect()
    }
}

/// The fields of a struct with named fields and no generics, which `#[derive(Model)]`
/// and `#[derive(Columns)]` (named by `derive`) need.
fn named_fields<'a>(
    input: &'a syn::DeriveInput,
    derive: &str,
    errors: &mut Errors,
) -> Result<Vec<&'a syn::Field>, syn::Error> {
    let syn::Data::Struct(syn::DataStruct {
        fields: syn::Fields::Named(named),
        ..
    }) = &input.data
    else {
        return Err(syn::Error::new(
            input.ident.span(),
            format!("#[derive({derive})] needs a struct with named fields"),
        ));
    };
    if !input.generics.params.is_empty() {
        errors.at(
            input.generics.span(),
            format!("#[derive({derive})] does not support generic parameters"),
        );
    }
    Ok(named.named.iter().collect())
}

/// Consumes `= value` after an unknown key, so parsing can go on to the next key.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content;
        syn::parenthesized!(_content in meta.input);
    }
    Ok(())
}

impl FieldDef {
    fn from_ast(field: &syn::Field, errors: &mut Errors) -> Option<FieldDef> {
        let ident = field.ident.clone()?;
        let mut primary_key = None;
        let mut autoincrement = None;
        let mut unique = None;
        let mut index = None;
        let mut max_length = None;
        let mut default = None;
        let mut server_default = None;
        let mut default_fn: Option<syn::Path> = None;
        let mut onupdate: Option<syn::Path> = None;
        let mut foreign_key: Option<(String, String)> = None;
        let mut on_delete: Option<(OnDelete, Span)> = None;
        let mut column = None;
        let mut skip: Option<Span> = None;
        let mut flatten: Option<Span> = None;
        let mut any_column_attr: Option<Span> = None;
        let mut column_only: Option<(Span, String)> = None;
        let mut relation_kind: Option<(RelationKind, Span)> = None;
        let mut secondary: Option<(String, Span)> = None;
        let mut lazy: Option<(Lazy, Span)> = None;
        let mut cascade: Option<Span> = None;
        let mut back_populates: Option<(String, Span)> = None;
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("model")) {
            let parsed = attr.parse_nested_meta(|meta| {
                let span = meta.path.span();
                let name = meta
                    .path
                    .get_ident()
                    .map(Ident::to_string)
                    .unwrap_or_default();
                if name != "skip" && name != "flatten" {
                    any_column_attr.get_or_insert(span);
                }
                if matches!(
                    name.as_str(),
                    "primary_key" | "autoincrement" | "unique" | "index" | "max_length"
                        | "default" | "default_fn" | "onupdate" | "server_default" | "on_delete"
                        | "column"
                ) {
                    column_only.get_or_insert((span, name.clone()));
                }
                let kind = match name.as_str() {
                    "has_many" => Some(RelationKind::HasMany),
                    "has_one" => Some(RelationKind::HasOne),
                    "belongs_to" => Some(RelationKind::BelongsTo),
                    "many_to_many" => Some(RelationKind::ManyToMany),
                    _ => None,
                };
                if let Some(kind) = kind {
                    let label = "has_many/has_one/belongs_to/many_to_many";
                    set_once(&mut relation_kind, (kind, span), label, span, errors);
                    return Ok(());
                }
                match name.as_str() {
                    "secondary" => {
                        let v: LitStr = meta.value()?.parse()?;
                        set_once(&mut secondary, (v.value(), span), &name, span, errors);
                        return Ok(());
                    }
                    "back_populates" => {
                        let v: LitStr = meta.value()?.parse()?;
                        match syn::parse_str::<Ident>(&v.value()) {
                            Ok(_) => set_once(
                                &mut back_populates,
                                (v.value(), v.span()),
                                &name,
                                span,
                                errors,
                            ),
                            Err(_) => errors.at(
                                v.span(),
                                "`#[model(back_populates = ..)]` names a relationship field of the other model",
                            ),
                        }
                        return Ok(());
                    }
                    "cascade" => {
                        let v: LitStr = meta.value()?.parse()?;
                        if v.value() == "delete" {
                            set_once(&mut cascade, span, &name, span, errors);
                        } else {
                            errors.at(v.span(), "`#[model(cascade = ..)]` must be \"delete\"");
                        }
                        return Ok(());
                    }
                    "lazy" => {
                        let v: LitStr = meta.value()?.parse()?;
                        let value = match v.value().as_str() {
                            "select" => Some(Lazy::Select),
                            "selectin" => Some(Lazy::Selectin),
                            "joined" => Some(Lazy::Joined),
                            "raise" => Some(Lazy::Raise),
                            _ => None,
                        };
                        match value {
                            Some(l) => set_once(&mut lazy, (l, span), &name, span, errors),
                            None => errors.at(
                                v.span(),
                                "`#[model(lazy = ..)]` must be \"select\", \"selectin\", \"joined\" or \"raise\"",
                            ),
                        }
                        return Ok(());
                    }
                    _ => {}
                }
                match name.as_str() {
                    "primary_key" => set_once(&mut primary_key, true, &name, span, errors),
                    "unique" => set_once(&mut unique, true, &name, span, errors),
                    "index" => set_once(&mut index, true, &name, span, errors),
                    "skip" => set_once(&mut skip, span, &name, span, errors),
                    "flatten" => set_once(&mut flatten, span, &name, span, errors),
                    "autoincrement" => {
                        let v: LitBool = meta.value()?.parse()?;
                        set_once(&mut autoincrement, v.value, &name, span, errors);
                    }
                    "max_length" => {
                        let v: LitInt = meta.value()?.parse()?;
                        match v.base10_parse::<u32>() {
                            Ok(n) if n > 0 => set_once(&mut max_length, n, &name, span, errors),
                            _ => errors.at(
                                v.span(),
                                "`#[model(max_length = N)]` takes a positive integer",
                            ),
                        }
                    }
                    "default" => {
                        let v: Expr = meta.value()?.parse()?;
                        if is_constant(&v) {
                            set_once(&mut default, v, &name, span, errors);
                        } else {
                            errors.at(
                                v.span(),
                                "`#[model(default = ..)]` takes a literal (a number, string or \
                                 bool) or a constant such as an enum variant; use `default_fn = \
                                 path` for a value computed per row, `server_default = \"<sql>\"` \
                                 for an SQL expression",
                            );
                        }
                    }
                    "default_fn" | "onupdate" => {
                        let v: syn::Path = meta.value()?.parse().map_err(|e| {
                            syn::Error::new(
                                e.span(),
                                format!("`#[model({name} = ..)]` names a function, as `{name} = chrono::Utc::now`"),
                            )
                        })?;
                        let slot = if name == "default_fn" {
                            &mut default_fn
                        } else {
                            &mut onupdate
                        };
                        set_once(slot, v, &name, span, errors);
                    }
                    "server_default" => {
                        let v: LitStr = meta.value()?.parse()?;
                        set_once(&mut server_default, v.value(), &name, span, errors);
                    }
                    "foreign_key" => {
                        let v: LitStr = meta.value()?.parse()?;
                        match v.value().rsplit_once('.') {
                            Some((t, c)) if !t.is_empty() && !c.is_empty() => set_once(
                                &mut foreign_key,
                                (t.to_owned(), c.to_owned()),
                                &name,
                                span,
                                errors,
                            ),
                            _ => errors.at(
                                v.span(),
                                format!(
                                    "`#[model(foreign_key = \"{}\")]` must name a column as \
                                     \"table.column\"",
                                    v.value()
                                ),
                            ),
                        }
                    }
                    "on_delete" => {
                        let v: LitStr = meta.value()?.parse()?;
                        let action = match v.value().to_ascii_lowercase().as_str() {
                            "cascade" => Some(OnDelete::Cascade),
                            "set null" => Some(OnDelete::SetNull),
                            "restrict" => Some(OnDelete::Restrict),
                            "set default" => Some(OnDelete::SetDefault),
                            _ => None,
                        };
                        match action {
                            Some(a) => set_once(&mut on_delete, (a, span), &name, span, errors),
                            None => errors.at(
                                v.span(),
                                "`#[model(on_delete = ..)]` must be \"cascade\", \"set null\", \
                                 \"set default\" or \"restrict\"",
                            ),
                        }
                    }
                    "column" => {
                        let v: LitStr = meta.value()?.parse()?;
                        if v.value().is_empty() {
                            errors.at(v.span(), "`#[model(column = \"..\")]` must not be empty");
                        }
                        set_once(&mut column, v.value(), &name, span, errors);
                    }
                    _ => {
                        skip_value(&meta)?;
                        errors.at(
                            span,
                            format!(
                                "unknown model attribute `{name}`; expected one of: {FIELD_ATTRS}"
                            ),
                        );
                    }
                }
                Ok(())
            });
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        let relation = match relation_kind {
            Some((kind, span)) => {
                if let Some((at, attr)) = &column_only {
                    errors.at(
                        *at,
                        format!("`#[model({attr})]` is for columns; a relationship field is not a column"),
                    );
                }
                match (kind, &secondary) {
                    (RelationKind::ManyToMany, None) => errors.at(
                        span,
                        "`#[model(many_to_many)]` needs `secondary = \"<association table>\"`",
                    ),
                    (RelationKind::ManyToMany, Some(_)) | (_, None) => {}
                    (_, Some((_, at))) => {
                        errors.at(*at, "`secondary` goes with `many_to_many` only")
                    }
                }
                if let (Some(at), RelationKind::BelongsTo | RelationKind::ManyToMany) =
                    (cascade, kind)
                {
                    errors.at(
                        at,
                        "`cascade = \"delete\"` goes with `has_many` or `has_one` (a \
                         many-to-many's links are always deleted with the row)",
                    );
                }
                match generic_argument(&field.ty) {
                    Some(target) => Some(RelationAttr {
                        kind,
                        target,
                        foreign_key: foreign_key.take().map(|(t, c)| format!("{t}.{c}")),
                        secondary: secondary.map(|(s, _)| s),
                        lazy: lazy.map_or(Lazy::Select, |(l, _)| l),
                        cascade_delete: cascade.is_some(),
                        back_populates: back_populates.take(),
                    }),
                    None => {
                        errors.at(
                            field.ty.span(),
                            "a relationship field's type names its model: HasMany<Post>, \
                             HasOne<Profile>, BelongsTo<Category> or ManyToMany<Tag>",
                        );
                        None
                    }
                }
            }
            None => {
                if let Some((_, at)) = secondary {
                    errors.at(at, "`secondary` goes with `many_to_many` only");
                }
                if let Some((_, at)) = lazy {
                    errors.at(at, "`lazy` goes with a relationship (has_many, has_one, belongs_to, many_to_many)");
                }
                if let Some(at) = cascade {
                    errors.at(at, "`cascade` goes with a relationship (has_many, has_one)");
                }
                if let Some((_, at)) = back_populates.take() {
                    errors.at(at, "`back_populates` goes with a relationship");
                }
                None
            }
        };
        if let (Some(_), Some(span)) = (flatten, any_column_attr.or(skip)) {
            errors.at(
                span,
                "a `#[model(flatten)]` field is a mixin of columns and takes no other attribute",
            );
        }
        if let (Some(_), Some(span)) = (skip, any_column_attr) {
            errors.at(
                span,
                "a `#[model(skip)]` field is not a column and takes no column attributes",
            );
        }
        if let (Some((_, span)), None) = (on_delete, &foreign_key) {
            errors.at(span, "`#[model(on_delete = ..)]` needs `#[model(foreign_key = \"table.column\")]` on the same field");
        }
        if [
            default.is_some(),
            server_default.is_some(),
            default_fn.is_some(),
        ]
        .iter()
        .filter(|set| **set)
        .count()
            > 1
        {
            errors.at(
                ident.span(),
                "a column takes one of `default`, `default_fn` and `server_default`",
            );
        }
        let primary_key = primary_key.unwrap_or(false);
        Some(FieldDef {
            column: column.unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned()),
            vis: field.vis.clone(),
            ty: field.ty.clone(),
            skip: skip.is_some(),
            flatten: flatten.is_some(),
            primary_key,
            autoincrement,
            unique: unique.unwrap_or(false),
            index: index.unwrap_or(false),
            max_length,
            default,
            server_default,
            default_fn,
            onupdate,
            foreign_key,
            on_delete: on_delete.map(|(a, _)| a),
            relation,
            ident,
        })
    }

    /// Whether this field is a column.
    pub(crate) fn is_column(&self) -> bool {
        !self.skip && !self.flatten && self.relation.is_none()
    }
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

/// A literal, a negated literal, or a path to a constant (an enum variant): a value
/// known before any row, so it can also be written into the DDL.
fn is_constant(expr: &Expr) -> bool {
    match expr {
        Expr::Lit(_) | Expr::Path(_) => true,
        Expr::Unary(u) => matches!(u.op, syn::UnOp::Neg(_)) && matches!(*u.expr, Expr::Lit(_)),
        Expr::Group(g) => is_constant(&g.expr),
        _ => false,
    }
}

/// A validated `#[derive(Columns)]` mixin.
pub(crate) struct MixinDef {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) bind: Option<String>,
    pub(crate) fields: Vec<FieldDef>,
}

impl MixinDef {
    pub(crate) fn from_ast(input: &syn::DeriveInput) -> Result<MixinDef, syn::Error> {
        let mut errors = Errors::default();
        let fields_ast = named_fields(input, "Columns", &mut errors)?;
        let mut bind = None;
        for attr in input.attrs.iter().filter(|a| a.path().is_ident("model")) {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("bind") {
                    let v: LitStr = meta.value()?.parse()?;
                    set_once(&mut bind, v.value(), "bind", meta.path.span(), &mut errors);
                    Ok(())
                } else {
                    skip_value(&meta)?;
                    errors.at(
                        meta.path.span(),
                        "unknown mixin attribute; a mixin takes `bind = \"..\"`",
                    );
                    Ok(())
                }
            });
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        let mut fields = Vec::new();
        for field in fields_ast {
            let Some(def) = FieldDef::from_ast(field, &mut errors) else {
                continue;
            };
            let problem = if def.relation.is_some() {
                Some("a mixin holds columns only; declare relationships on the model")
            } else if def.primary_key {
                Some("the primary key belongs to the model, not to a mixin")
            } else if def.flatten {
                Some("a mixin cannot flatten another mixin")
            } else {
                None
            };
            if let Some(problem) = problem {
                errors.at(def.ident.span(), problem);
            }
            fields.push(def);
        }
        if !fields.iter().any(FieldDef::is_column) {
            errors.at(input.ident.span(), "a mixin needs at least one column");
        }
        match errors.0 {
            Some(e) => Err(e),
            None => Ok(MixinDef {
                ident: input.ident.clone(),
                vis: input.vis.clone(),
                bind,
                fields,
            }),
        }
    }
}
