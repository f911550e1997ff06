//! Reading `#[model(..)]` attributes: each key into its slot, with the span it was
//! written at. Only what a single key can get wrong is reported here (an unknown key, a
//! key given twice, a value that does not parse or is not one of the allowed ones);
//! rules between keys are `check`'s.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, LitBool, LitInt, LitStr};

use crate::ctxt::Ctxt;
use crate::symbol::{self, *};

/// The attributes of a `#[derive(Model)]` struct.
#[derive(Default)]
pub(crate) struct Model {
    pub(crate) table: Option<String>,
    pub(crate) bind: Option<String>,
    pub(crate) view: bool,
    /// `#[model(versioned)]`: previous rows are kept in `<table>_history`.
    pub(crate) versioned: Option<Span>,
    /// `#[model(renamed_from = "old")]`: the table's former name.
    pub(crate) renamed_from: Option<String>,
    /// `#[model(index("a", "b"))]` and `#[model(unique("a", "b"))]`, in order.
    pub(crate) indexes: Vec<TableIndex>,
    /// `#[model(check(name = "..", sql = ".."))]`.
    pub(crate) checks: Vec<TableCheck>,
    /// `#[model(foreign_key(columns(..), references = "..", to(..)))]`.
    pub(crate) foreign_keys: Vec<TableForeignKey>,
}

/// A CHECK constraint of a model.
pub(crate) struct TableCheck {
    pub(crate) name: String,
    /// `constraint = ".."`: `name` is the whole name, not the convention's part.
    pub(crate) whole: bool,
    pub(crate) sql: String,
}

/// A foreign key of a model over several columns (or one, named otherwise).
pub(crate) struct TableForeignKey {
    pub(crate) columns: Vec<LitStr>,
    pub(crate) references: String,
    pub(crate) to: Vec<String>,
    pub(crate) on_delete: Option<OnDelete>,
    pub(crate) name: Option<String>,
}

/// An index of a model's own, over one column or several.
pub(crate) struct TableIndex {
    /// The column names, each with where it was written.
    pub(crate) columns: Vec<LitStr>,
    /// `name = ".."`; by default the convention's.
    pub(crate) name: Option<String>,
    pub(crate) unique: bool,
}

/// The attributes of a `#[derive(Columns)]` struct.
#[derive(Default)]
pub(crate) struct Mixin {
    pub(crate) bind: Option<String>,
}

/// The attributes of a field, each with where it was written when a rule between keys
/// needs to point at it.
#[derive(Default)]
pub(crate) struct Field {
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
    /// `foreign_key = "table.column"`, split.
    pub(crate) foreign_key: Option<(String, String)>,
    pub(crate) on_delete: Option<(OnDelete, Span)>,
    pub(crate) column: Option<String>,
    /// `renamed_from = "old"`: the column's former name.
    pub(crate) renamed_from: Option<String>,
    pub(crate) skip: Option<Span>,
    /// `#[model(flatten)]`: a `#[derive(Columns)]` mixin whose columns the model takes in.
    pub(crate) flatten: Option<Span>,
    /// `has_many`, `has_one`, `belongs_to` or `many_to_many`.
    pub(crate) relation: Option<(RelationKind, Span)>,
    pub(crate) secondary: Option<(String, Span)>,
    pub(crate) lazy: Option<(Lazy, Span)>,
    /// `cascade = "delete"`.
    pub(crate) cascade: Option<Span>,
    /// `back_populates = "field"`: the target's relationship back to this model.
    pub(crate) back_populates: Option<(String, Span)>,
    /// The first key other than `skip` and `flatten`.
    pub(crate) first_column_attr: Option<Span>,
    /// The first key that only a column takes.
    pub(crate) first_column_only: Option<(Span, Symbol)>,
}

/// The attributes of a `#[derive(Enum)]` enum.
#[derive(Default)]
pub(crate) struct Enum {
    /// `#[model(integer)]`: stored as the discriminant.
    pub(crate) integer: Option<Span>,
}

/// The attributes of an enum's variant.
#[derive(Default)]
pub(crate) struct Variant {
    pub(crate) rename: Option<String>,
    /// Whether the variant has a `#[model(..)]` attribute at all.
    pub(crate) any: bool,
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

/// Runs `each` on every key of every `#[model(..)]` attribute; a key whose value does
/// not parse is reported and ends its attribute.
fn for_each_key(
    cx: &Ctxt,
    attrs: &[Attribute],
    mut each: impl FnMut(&ParseNestedMeta<'_>) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|a| a.path() == MODEL) {
        if let Err(e) = attr.parse_nested_meta(|meta| each(&meta)) {
            cx.syn_error(e);
        }
    }
}

/// Records a flag or value once; a second occurrence is an error at its span.
fn set_once<T>(cx: &Ctxt, slot: &mut Option<T>, value: T, name: &str, span: Span) {
    if slot.is_some() {
        cx.error_at(span, format!("duplicate `#[model({name})]` attribute"));
    } else {
        *slot = Some(value);
    }
}

/// Consumes `= value` after an unknown key, so parsing can go on to the next key.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content;
        syn::parenthesized!(_content in meta.input);
    }
    Ok(())
}

/// The name of the key, for an error message.
fn key_name(meta: &ParseNestedMeta<'_>) -> String {
    meta.path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default()
}

impl Model {
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Model {
        let (mut table, mut bind, mut view, mut renamed_from) = (None, None, None, None);
        let mut versioned: Option<Span> = None;
        let (mut indexes, mut checks, mut foreign_keys) = (Vec::new(), Vec::new(), Vec::new());
        for_each_key(cx, attrs, |meta| {
            let span = meta.path.span();
            if meta.path == TABLE {
                let v: LitStr = meta.value()?.parse()?;
                if v.value().is_empty() {
                    cx.error_at(v.span(), "`#[model(table = \"..\")]` must not be empty");
                }
                set_once(cx, &mut table, v.value(), TABLE.as_str(), span);
            } else if meta.path == BIND {
                let v: LitStr = meta.value()?.parse()?;
                set_once(cx, &mut bind, v.value(), BIND.as_str(), span);
            } else if meta.path == VIEW {
                set_once(cx, &mut view, true, VIEW.as_str(), span);
            } else if meta.path == VERSIONED {
                set_once(cx, &mut versioned, span, VERSIONED.as_str(), span);
            } else if meta.path == RENAMED_FROM {
                let v: LitStr = meta.value()?.parse()?;
                set_once(
                    cx,
                    &mut renamed_from,
                    v.value(),
                    RENAMED_FROM.as_str(),
                    span,
                );
            } else if meta.path == INDEX || meta.path == UNIQUE {
                indexes.push(table_index(meta, meta.path == UNIQUE, span)?);
            } else if meta.path == CHECK {
                checks.push(check(cx, meta, span)?);
            } else if meta.path == FOREIGN_KEY {
                foreign_keys.push(table_foreign_key(meta, span)?);
            } else {
                skip_value(meta)?;
                cx.error_at(
                    span,
                    format!(
                        "unknown model attribute `{}`; expected one of: {}",
                        key_name(meta),
                        symbol::list(STRUCT_KEYS)
                    ),
                );
            }
            Ok(())
        });
        Model {
            table,
            bind,
            view: view.unwrap_or(false),
            versioned,
            renamed_from,
            indexes,
            checks,
            foreign_keys,
        }
    }
}

/// `index("a", "b", name = "..")`: the columns, then an optional name.
fn table_index(meta: &ParseNestedMeta<'_>, unique: bool, span: Span) -> syn::Result<TableIndex> {
    let content;
    syn::parenthesized!(content in meta.input);
    let mut index = TableIndex {
        columns: Vec::new(),
        name: None,
        unique,
    };
    while !content.is_empty() {
        if content.peek(LitStr) {
            index.columns.push(content.parse()?);
        } else {
            let key: syn::Ident = content.parse()?;
            if key != NAME.as_str() {
                return Err(syn::Error::new(
                    key.span(),
                    "an index takes its columns as strings, then `name = \"..\"`",
                ));
            }
            content.parse::<syn::Token![=]>()?;
            index.name = Some(content.parse::<LitStr>()?.value());
        }
        if !content.is_empty() {
            content.parse::<syn::Token![,]>()?;
        }
    }
    if index.columns.is_empty() {
        return Err(syn::Error::new(
            span,
            "an index names its columns: `index(\"a\", \"b\")`",
        ));
    }
    Ok(index)
}

/// An ON DELETE action from its words.
fn on_delete(v: &LitStr) -> Option<OnDelete> {
    match v.value().to_ascii_lowercase().as_str() {
        "cascade" => Some(OnDelete::Cascade),
        "set null" => Some(OnDelete::SetNull),
        "restrict" => Some(OnDelete::Restrict),
        "set default" => Some(OnDelete::SetDefault),
        _ => None,
    }
}

/// `("a", "b")`: a parenthesized list of strings.
fn strings(meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<LitStr>> {
    let content;
    syn::parenthesized!(content in meta.input);
    let list = content.parse_terminated(|input| input.parse::<LitStr>(), syn::Token![,])?;
    Ok(list.into_iter().collect())
}

/// `foreign_key(columns("a", "b"), references = "t", to("x", "y"), on_delete = "..",
/// name = "..")`.
fn table_foreign_key(meta: &ParseNestedMeta<'_>, span: Span) -> syn::Result<TableForeignKey> {
    let mut fk = TableForeignKey {
        columns: Vec::new(),
        references: String::new(),
        to: Vec::new(),
        on_delete: None,
        name: None,
    };
    let usage = "a foreign key over several columns takes `columns(\"a\", \"b\")`, \
                 `references = \"table\"`, `to(\"x\", \"y\")`, and may take \
                 `on_delete = \"..\"` and `name = \"..\"`";
    meta.parse_nested_meta(|inner| {
        if inner.path == COLUMNS {
            fk.columns = strings(&inner)?;
        } else if inner.path == REFERENCES {
            fk.references = inner.value()?.parse::<LitStr>()?.value();
        } else if inner.path == TO {
            fk.to = strings(&inner)?.iter().map(LitStr::value).collect();
        } else if inner.path == ON_DELETE {
            let v: LitStr = inner.value()?.parse()?;
            fk.on_delete = Some(on_delete(&v).ok_or_else(|| {
                syn::Error::new(
                    v.span(),
                    "`on_delete` must be \"cascade\", \"set null\", \"set default\" or \"restrict\"",
                )
            })?);
        } else if inner.path == NAME {
            fk.name = Some(inner.value()?.parse::<LitStr>()?.value());
        } else {
            return Err(inner.error(usage));
        }
        Ok(())
    })?;
    if fk.columns.is_empty() || fk.references.is_empty() || fk.columns.len() != fk.to.len() {
        return Err(syn::Error::new(
            span,
            format!("{usage}, as many `to` columns as `columns`"),
        ));
    }
    Ok(fk)
}

/// `check(name = "..", sql = "..")`, or `constraint = ".."` for the whole name.
fn check(cx: &Ctxt, meta: &ParseNestedMeta<'_>, span: Span) -> syn::Result<TableCheck> {
    let (mut name, mut sql) = (None, None);
    let usage = "a check takes `name = \"..\"` (or the whole `constraint = \"..\"`) \
                 and `sql = \"..\"`";
    meta.parse_nested_meta(|inner| {
        let at = inner.path.span();
        if inner.path == NAME || inner.path == CONSTRAINT {
            let v: LitStr = inner.value()?.parse()?;
            let whole = inner.path == CONSTRAINT;
            set_once(cx, &mut name, (v.value(), whole), NAME.as_str(), at);
        } else if inner.path == SQL {
            let v: LitStr = inner.value()?.parse()?;
            set_once(cx, &mut sql, v.value(), SQL.as_str(), at);
        } else {
            return Err(inner.error(usage));
        }
        Ok(())
    })?;
    match (name, sql) {
        (Some((name, whole)), Some(sql)) => Ok(TableCheck { name, whole, sql }),
        _ => Err(syn::Error::new(span, usage)),
    }
}

impl Mixin {
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Mixin {
        let mut bind = None;
        for_each_key(cx, attrs, |meta| {
            if meta.path == BIND {
                let v: LitStr = meta.value()?.parse()?;
                set_once(cx, &mut bind, v.value(), BIND.as_str(), meta.path.span());
            } else {
                skip_value(meta)?;
                cx.error_at(
                    meta.path.span(),
                    "unknown mixin attribute; a mixin takes `bind = \"..\"`",
                );
            }
            Ok(())
        });
        Mixin { bind }
    }
}

impl Field {
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Field {
        let mut f = Field::default();
        let mut primary_key = None;
        let mut unique = None;
        let mut index = None;
        for_each_key(cx, attrs, |meta| {
            let span = meta.path.span();
            let name = key_name(meta);
            if meta.path != SKIP && meta.path != FLATTEN {
                f.first_column_attr.get_or_insert(span);
            }
            if let Some(key) = Symbol::find(COLUMN_ONLY_KEYS, &meta.path) {
                f.first_column_only.get_or_insert((span, key));
            }
            if let Some(key) = Symbol::find(RELATION_KEYS, &meta.path) {
                let kind = if key == HAS_MANY {
                    RelationKind::HasMany
                } else if key == HAS_ONE {
                    RelationKind::HasOne
                } else if key == BELONGS_TO {
                    RelationKind::BelongsTo
                } else {
                    RelationKind::ManyToMany
                };
                let label = "has_many/has_one/belongs_to/many_to_many";
                set_once(cx, &mut f.relation, (kind, span), label, span);
            } else if meta.path == SECONDARY {
                let v: LitStr = meta.value()?.parse()?;
                set_once(cx, &mut f.secondary, (v.value(), span), &name, span);
            } else if meta.path == BACK_POPULATES {
                let v: LitStr = meta.value()?.parse()?;
                if syn::parse_str::<syn::Ident>(&v.value()).is_ok() {
                    let value = (v.value(), v.span());
                    set_once(cx, &mut f.back_populates, value, &name, span);
                } else {
                    cx.error_at(
                        v.span(),
                        "`#[model(back_populates = ..)]` names a relationship field of the other model",
                    );
                }
            } else if meta.path == CASCADE {
                let v: LitStr = meta.value()?.parse()?;
                if v.value() == "delete" {
                    set_once(cx, &mut f.cascade, span, &name, span);
                } else {
                    cx.error_at(v.span(), "`#[model(cascade = ..)]` must be \"delete\"");
                }
            } else if meta.path == LAZY {
                let v: LitStr = meta.value()?.parse()?;
                let value = match v.value().as_str() {
                    "select" => Some(Lazy::Select),
                    "selectin" => Some(Lazy::Selectin),
                    "joined" => Some(Lazy::Joined),
                    "raise" => Some(Lazy::Raise),
                    _ => None,
                };
                match value {
                    Some(l) => set_once(cx, &mut f.lazy, (l, span), &name, span),
                    None => cx.error_at(
                        v.span(),
                        "`#[model(lazy = ..)]` must be \"select\", \"selectin\", \"joined\" or \"raise\"",
                    ),
                }
            } else if meta.path == PRIMARY_KEY {
                set_once(cx, &mut primary_key, true, &name, span);
            } else if meta.path == UNIQUE {
                set_once(cx, &mut unique, true, &name, span);
            } else if meta.path == INDEX {
                set_once(cx, &mut index, true, &name, span);
            } else if meta.path == SKIP {
                set_once(cx, &mut f.skip, span, &name, span);
            } else if meta.path == FLATTEN {
                set_once(cx, &mut f.flatten, span, &name, span);
            } else if meta.path == AUTOINCREMENT {
                let v: LitBool = meta.value()?.parse()?;
                set_once(cx, &mut f.autoincrement, v.value, &name, span);
            } else if meta.path == MAX_LENGTH {
                let v: LitInt = meta.value()?.parse()?;
                match v.base10_parse::<u32>() {
                    Ok(n) if n > 0 => set_once(cx, &mut f.max_length, n, &name, span),
                    _ => cx.error_at(
                        v.span(),
                        "`#[model(max_length = N)]` takes a positive integer",
                    ),
                }
            } else if meta.path == DEFAULT {
                let v: Expr = meta.value()?.parse()?;
                if is_constant(&v) {
                    set_once(cx, &mut f.default, v, &name, span);
                } else {
                    cx.error_at(
                        v.span(),
                        "`#[model(default = ..)]` takes a literal (a number, string or \
                         bool) or a constant such as an enum variant; use `default_fn = \
                         path` for a value computed per row, `server_default = \"<sql>\"` \
                         for an SQL expression",
                    );
                }
            } else if meta.path == DEFAULT_FN || meta.path == ONUPDATE {
                let v: syn::Path = meta.value()?.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        format!(
                            "`#[model({name} = ..)]` names a function, as `{name} = chrono::Utc::now`"
                        ),
                    )
                })?;
                let slot = if meta.path == DEFAULT_FN {
                    &mut f.default_fn
                } else {
                    &mut f.onupdate
                };
                set_once(cx, slot, v, &name, span);
            } else if meta.path == SERVER_DEFAULT {
                let v: LitStr = meta.value()?.parse()?;
                set_once(cx, &mut f.server_default, v.value(), &name, span);
            } else if meta.path == RENAMED_FROM {
                let v: LitStr = meta.value()?.parse()?;
                set_once(cx, &mut f.renamed_from, v.value(), &name, span);
            } else if meta.path == FOREIGN_KEY {
                let v: LitStr = meta.value()?.parse()?;
                match v.value().rsplit_once('.') {
                    Some((t, c)) if !t.is_empty() && !c.is_empty() => {
                        let value = (t.to_owned(), c.to_owned());
                        set_once(cx, &mut f.foreign_key, value, &name, span);
                    }
                    _ => cx.error_at(
                        v.span(),
                        format!(
                            "`#[model(foreign_key = \"{}\")]` must name a column as \
                             \"table.column\"",
                            v.value()
                        ),
                    ),
                }
            } else if meta.path == ON_DELETE {
                let v: LitStr = meta.value()?.parse()?;
                match on_delete(&v) {
                    Some(a) => set_once(cx, &mut f.on_delete, (a, span), &name, span),
                    None => cx.error_at(
                        v.span(),
                        "`#[model(on_delete = ..)]` must be \"cascade\", \"set null\", \
                         \"set default\" or \"restrict\"",
                    ),
                }
            } else if meta.path == COLUMN {
                let v: LitStr = meta.value()?.parse()?;
                if v.value().is_empty() {
                    cx.error_at(v.span(), "`#[model(column = \"..\")]` must not be empty");
                }
                set_once(cx, &mut f.column, v.value(), &name, span);
            } else {
                skip_value(meta)?;
                cx.error_at(
                    span,
                    format!(
                        "unknown model attribute `{name}`; expected one of: {}",
                        symbol::list(FIELD_KEYS)
                    ),
                );
            }
            Ok(())
        });
        f.primary_key = primary_key.unwrap_or(false);
        f.unique = unique.unwrap_or(false);
        f.index = index.unwrap_or(false);
        f
    }
}

impl Enum {
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Enum {
        let mut integer = None;
        for attr in attrs.iter().filter(|a| a.path() == MODEL) {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path == INTEGER {
                    integer = Some(meta.path.span());
                    Ok(())
                } else {
                    Err(meta.error(format!("unknown enum attribute; expected `{INTEGER}`")))
                }
            });
            if let Err(e) = parsed {
                cx.syn_error(e);
            }
        }
        Enum { integer }
    }
}

impl Variant {
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Variant {
        let mut v = Variant::default();
        for attr in attrs.iter().filter(|a| a.path() == MODEL) {
            v.any = true;
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path == RENAME {
                    let lit: LitStr = meta.value()?.parse()?;
                    v.rename = Some(lit.value());
                    Ok(())
                } else {
                    Err(meta.error(format!(
                        "unknown variant attribute; expected `{RENAME} = \"..\"`"
                    )))
                }
            });
            if let Err(e) = parsed {
                cx.syn_error(e);
            }
        }
        v
    }
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
