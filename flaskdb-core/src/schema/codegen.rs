//! Rust source for models of existing tables: what `flaskdb reflect` prints.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::schema::convention;
use crate::schema::naming::camel_to_snake_case;
use crate::schema::{ColumnDef, Table};
use crate::value::Value;

/// Rust source with one `#[derive(Model)]` struct per table, formatted as rustfmt
/// formats it: every attribute the tables need to be created again as they are (table
/// and column names where the derived ones would differ, keys, autoincrement, lengths,
/// uniqueness, indexes, defaults, foreign keys with their ON DELETE, views, binds), and
/// the relationships the foreign keys imply (`belongs_to` on the child, `has_many` or
/// `has_one` on the parent), and on the struct the indexes over several columns or
/// named otherwise, the CHECK constraints and the foreign keys over several columns.
///
/// Database names never become code: each identifier is made of letters, digits and
/// underscores (the real name kept in `table = ".."` / `column = ".."`), and every
/// string is an escaped literal.
///
/// # Errors
/// [`Error::Schema`] naming a table, column, index or type whose name holds a control
/// character (a newline would end the comment it is quoted in) or a character that
/// changes the direction of text (rustc refuses them in comments: they can make code
/// read differently from what it does).
///
/// ```
/// use flaskdb_core::{ColumnDef, SqlType, Table, model_source};
/// use std::sync::Arc;
/// let table = Table::new("legacy_customer")
///     .column(ColumnDef::new("id", SqlType::BigInt).primary_key())
///     .column(ColumnDef::new("full_name", SqlType::Text).max_length(80));
/// let source = model_source(&[Arc::new(table)])?;
/// assert!(source.contains("pub struct LegacyCustomer {"));
/// assert!(source.contains("    #[model(max_length = 80)]\n    pub full_name: String,"));
///
/// let hostile = Table::new("x\n fn main() {}").column(ColumnDef::new("id", SqlType::BigInt));
/// assert!(model_source(&[Arc::new(hostile)]).is_err());
/// # Ok::<(), flaskdb_core::Error>(())
/// ```
pub fn model_source(tables: &[Arc<Table>]) -> Result<String> {
    for table in tables {
        refuse_control_characters(table)?;
    }
    let names = struct_names(tables);
    let mut relations: Vec<Vec<Relation>> = tables.iter().map(|_| Vec::new()).collect();
    infer_relations(tables, &names, &mut relations);
    let mut used: Vec<&str> = vec!["Model"];
    for r in relations.iter().flatten() {
        used.push(r.kind.type_name());
    }
    used.sort_unstable();
    used.dedup();
    let mut out = match used.as_slice() {
        [one] => format!("use flaskdb::{one};\n"),
        _ => format!("use flaskdb::{{{}}};\n", used.join(", ")),
    };
    for ((table, name), relations) in tables.iter().zip(&names).zip(&relations) {
        out.push('\n');
        write_struct(&mut out, table, name, relations);
    }
    Ok(out)
}

/// [`Error::Schema`] when a name of `table` that goes into the source (into comments
/// among other places) holds a control character or one that changes the direction
/// of text.
fn refuse_control_characters(table: &Table) -> Result<()> {
    let indexes = table.indexes();
    let mut names = vec![("table", table.name())];
    for column in table.columns() {
        names.push(("column", column.name()));
        names.extend(column.declared_type().map(|t| ("type", t)));
    }
    for fk in table.foreign_keys() {
        names.push(("table", fk.ref_table.as_str()));
        names.extend(
            fk.columns
                .iter()
                .chain(&fk.ref_columns)
                .map(|c| ("column", c.as_str())),
        );
    }
    for index in &indexes {
        names.push(("index", index.name.as_str()));
        names.extend(index.columns.iter().map(|c| ("column", c.as_str())));
    }
    match names
        .into_iter()
        .find(|(_, name)| name.chars().any(|c| c.is_control() || changes_direction(c)))
    {
        Some((what, name)) => Err(Error::Schema(format!(
            "{what} {name:?} of table {:?} holds a control character or one that \
             changes the direction of text: it cannot be written into Rust source",
            table.name()
        ))),
        None => Ok(()),
    }
}

/// The characters that change the direction of the text around them (the marks, the
/// embeddings, overrides and isolates), which rustc refuses in comments.
fn changes_direction(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A relationship field to generate.
struct Relation {
    field: String,
    kind: RelationKind,
    target: String,
    /// `foreign_key = ".."` when the target is related through several keys.
    foreign_key: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum RelationKind {
    BelongsTo,
    HasMany,
    HasOne,
}

impl RelationKind {
    fn type_name(self) -> &'static str {
        match self {
            RelationKind::BelongsTo => "BelongsTo",
            RelationKind::HasMany => "HasMany",
            RelationKind::HasOne => "HasOne",
        }
    }
    fn attr(self) -> &'static str {
        match self {
            RelationKind::BelongsTo => "belongs_to",
            RelationKind::HasMany => "has_many",
            RelationKind::HasOne => "has_one",
        }
    }
}

/// A struct name per table: the table name in UpperCamelCase, made unique.
fn struct_names(tables: &[Arc<Table>]) -> Vec<String> {
    unique(tables.iter().map(|t| upper_camel(t.name())), "")
}

/// The names, each made unique by a number after `separator` where it repeats an
/// earlier one.
fn unique(names: impl Iterator<Item = String>, separator: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for base in names {
        let mut name = base.clone();
        let mut n = 2;
        while out.contains(&name) {
            name = format!("{base}{separator}{n}");
            n += 1;
        }
        out.push(name);
    }
    out
}

fn upper_camel(name: &str) -> String {
    let mut out = String::new();
    for word in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    // `Self` is a keyword; the others are names the generated source uses.
    if [
        "Self",
        "Model",
        "BelongsTo",
        "HasMany",
        "HasOne",
        "Option",
        "String",
        "Vec",
    ]
    .contains(&out.as_str())
        // `#[derive(Model)]` makes `XBuilder` for a struct `X`.
        || out.ends_with("Builder")
    {
        out.push_str("Table");
    }
    out
}

/// The field name of a column: the name itself when it is a plain identifier, else a
/// snake_case form of it (with `#[model(column = "..")]` keeping the real name).
fn field_name(column: &str) -> String {
    // Words of letters and digits, joined by single underscores.
    let snake = camel_to_snake_case(column);
    let words: Vec<&str> = snake
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = words.join("_");
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'c');
    }
    // `build` is the function `#[derive(Model)]` makes beside the column constants.
    if KEYWORDS.contains(&out.as_str()) || out == "build" {
        out.push('_');
    }
    out
}

/// The field names of a table's columns, in order, each unique.
fn column_fields(table: &Table) -> Vec<String> {
    unique(table.columns().iter().map(|c| field_name(c.name())), "_")
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
    "try", "type", "unsafe", "use", "where", "while", "yield", "abstract", "become", "do", "final",
    "macro", "override", "priv", "typeof", "unsized", "virtual",
];

/// The single-column foreign keys between generated tables, as a relationship on
/// each side.
fn infer_relations(tables: &[Arc<Table>], names: &[String], relations: &mut [Vec<Relation>]) {
    for (child, table) in tables.iter().enumerate() {
        if table.is_view() {
            continue;
        }
        for fk in table.foreign_keys() {
            let ([column], [ref_column]) = (fk.columns.as_slice(), fk.ref_columns.as_slice())
            else {
                continue;
            };
            // A relationship joins on the parent's primary key.
            let Some(parent) = tables
                .iter()
                .position(|t| t.name() == fk.ref_table && t.primary_key() == [ref_column.as_str()])
            else {
                continue;
            };
            // Several keys to the same table: each relationship names its own.
            let several = table
                .foreign_keys()
                .iter()
                .filter(|other| other.ref_table == fk.ref_table)
                .count()
                > 1;
            let key = several.then(|| format!("{}.{column}", table.name()));
            let to_parent = column
                .strip_suffix("_id")
                .filter(|s| !s.is_empty())
                .map_or_else(|| format!("{}_ref", field_name(column)), field_name);
            relations[child].push(Relation {
                field: to_parent,
                kind: RelationKind::BelongsTo,
                target: names[parent].clone(),
                foreign_key: key.clone(),
            });
            let unique = table.column_named(column).is_some_and(ColumnDef::is_unique)
                || table.primary_key() == [column.as_str()];
            let (kind, mut field) = match unique {
                true => (RelationKind::HasOne, field_name(table.name())),
                false => (
                    RelationKind::HasMany,
                    format!("{}s", field_name(table.name())),
                ),
            };
            if several {
                field = format!("{field}_by_{}", field_name(column));
            }
            relations[parent].push(Relation {
                field,
                kind,
                target: names[child].clone(),
                foreign_key: key,
            });
        }
    }
    // A relationship never takes a column's name, nor another relationship's.
    for (table, fields) in tables.iter().zip(relations.iter_mut()) {
        let mut taken: Vec<String> = table
            .columns()
            .iter()
            .map(|c| field_name(c.name()))
            .collect();
        for relation in fields {
            while taken.contains(&relation.field) {
                relation.field.push_str("_rel");
            }
            taken.push(relation.field.clone());
        }
    }
}

fn write_struct(out: &mut String, table: &Table, name: &str, relations: &[Relation]) {
    let kind = if table.is_view() { "view" } else { "table" };
    let _ = writeln!(out, "/// The `{}` {kind}.", table.name());
    out.push_str("#[derive(Model, Debug, Clone, PartialEq)]\n");
    let mut attrs = Vec::new();
    if camel_to_snake_case(name) != table.name() {
        attrs.push(format!("table = {:?}", table.name()));
    }
    if let Some(bind) = table.bind_key() {
        attrs.push(format!("bind = {bind:?}"));
    }
    if table.is_view() {
        attrs.push("view".to_owned());
    }
    write_attrs(out, "", &attrs);
    for (key, args) in constraint_attrs(table) {
        write_call_attr(out, key, &args);
    }
    let _ = writeln!(out, "pub struct {name} {{");
    for (column, field) in table.columns().iter().zip(column_fields(table)) {
        write_column(out, table, column, &field);
    }
    for relation in relations {
        let mut attrs = vec![relation.kind.attr().to_owned()];
        if let Some(key) = &relation.foreign_key {
            attrs.push(format!("foreign_key = {key:?}"));
        }
        write_attrs(out, "    ", &attrs);
        let _ = writeln!(
            out,
            "    pub {}: {}<{}>,",
            relation.field,
            relation.kind.type_name(),
            relation.target
        );
    }
    out.push_str("}\n");
}

/// Whether index `name` is a column's own (`ColumnDef::index`).
fn own_index(table: &Table, name: &str) -> bool {
    table
        .columns()
        .iter()
        .any(|c| table.column_index(c).is_some_and(|own| own.name == name))
}

/// The model attributes of what a column's attributes cannot say, each as its key and
/// its arguments: each index over several columns or named otherwise (`index(..)`,
/// `unique(..)`), each CHECK (`check(..)`) and each foreign key over several columns
/// (`foreign_key(..)`).
fn constraint_attrs(table: &Table) -> Vec<(&'static str, Vec<String>)> {
    let quoted = |names: &[String]| names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>();
    let mut attrs = Vec::new();
    for index in table
        .indexes()
        .iter()
        .filter(|i| !own_index(table, &i.name))
    {
        let (key, conventional) = match index.unique {
            true => (
                "unique",
                convention::unique_name(table.name(), &index.columns),
            ),
            false => (
                "index",
                convention::index_name(table.name(), &index.columns),
            ),
        };
        let mut args = quoted(&index.columns);
        if index.name != conventional {
            args.push(format!("name = {:?}", index.name));
        }
        attrs.push((key, args));
    }
    for check in table.checks() {
        let name = match convention::check_part(table.name(), &check.name) {
            Some(part) => format!("name = {part:?}"),
            None => format!("constraint = {:?}", check.name),
        };
        attrs.push(("check", vec![name, format!("sql = {:?}", check.sql)]));
    }
    for fk in table
        .foreign_keys()
        .iter()
        .filter(|fk| fk.columns.len() > 1)
    {
        let mut args = vec![
            format!("columns({})", quoted(&fk.columns).join(", ")),
            format!("references = {:?}", fk.ref_table),
            format!("to({})", quoted(&fk.ref_columns).join(", ")),
        ];
        if let Some(action) = fk.on_delete {
            args.push(format!(
                "on_delete = \"{}\"",
                action.sql().to_ascii_lowercase()
            ));
        }
        if let Some(name) = &fk.name {
            args.push(format!("name = {name:?}"));
        }
        attrs.push(("foreign_key", args));
    }
    attrs
}

fn write_column(out: &mut String, table: &Table, column: &ColumnDef, field: &str) {
    if let Some(declared) = column.declared_type() {
        let _ = writeln!(out, "    /// `{}` {declared}.", column.name());
    }
    let mut attrs = Vec::new();
    let pk = table.primary_key();
    if column.is_primary_key() && !(pk.len() == 1 && field == "id") {
        attrs.push("primary_key".to_owned());
    }
    let auto = table.autoincrement_column().map(ColumnDef::name) == Some(column.name());
    let by_rule = pk.len() == 1 && column.is_primary_key() && column.sql_type().is_integer();
    if auto != by_rule {
        attrs.push(format!("autoincrement = {auto}"));
    }
    if field != column.name() {
        attrs.push(format!("column = {:?}", column.name()));
    }
    if column.is_unique() {
        attrs.push("unique".to_owned());
    }
    if column.is_indexed() {
        attrs.push("index".to_owned());
    }
    if let Some(n) = column.length() {
        attrs.push(format!("max_length = {n}"));
    }
    if let Some(value) = column.default_value() {
        attrs.push(default_attr(value));
    }
    if let Some(sql) = column.server_default_sql() {
        attrs.push(format!("server_default = {sql:?}"));
    }
    if let [fk] = table
        .foreign_keys()
        .iter()
        .filter(|fk| fk.columns == [column.name()])
        .collect::<Vec<_>>()
        .as_slice()
        && let [ref_column] = fk.ref_columns.as_slice()
    {
        attrs.push(format!(
            "foreign_key = {:?}",
            format!("{}.{ref_column}", fk.ref_table)
        ));
        if let Some(action) = fk.on_delete {
            attrs.push(format!(
                "on_delete = \"{}\"",
                action.sql().to_ascii_lowercase()
            ));
        }
    }
    write_attrs(out, "    ", &attrs);
    let ty = column.sql_type().rust_type();
    match column.is_nullable() {
        true => {
            let _ = writeln!(out, "    pub {field}: Option<{ty}>,");
        }
        false => {
            let _ = writeln!(out, "    pub {field}: {ty},");
        }
    }
}

/// `default = <literal>` for the values Rust writes as literals, else the value as a
/// SQL literal in `server_default`.
fn default_attr(value: &Value) -> String {
    match value {
        Value::Bool(b) => format!("default = {b}"),
        Value::I16(n) => format!("default = {n}_i16"),
        Value::I32(n) => format!("default = {n}_i32"),
        Value::I64(n) => format!("default = {n}_i64"),
        Value::F32(f) => format!("default = {f:?}_f32"),
        Value::F64(f) => format!("default = {f:?}_f64"),
        Value::Text(s) => format!("default = {s:?}"),
        other => {
            let text = other.as_text().unwrap_or_default().replace('\'', "''");
            format!("server_default = {:?}", format!("'{text}'"))
        }
    }
}

/// `#[model(key(a, b))]` in an attribute of its own, as rustfmt writes one that does
/// not fit on a line: the arguments one per line inside `#[model(key(` and `))]`.
fn write_call_attr(out: &mut String, key: &str, args: &[String]) {
    let line = format!("#[model({key}({}))]", args.join(", "));
    if line.len() <= 100 {
        out.push_str(&line);
        out.push('\n');
        return;
    }
    let _ = writeln!(out, "#[model({key}(\n    {}\n))]", args.join(",\n    "));
}

/// `#[model(a, b)]`, one attribute per line when they do not fit on one.
fn write_attrs(out: &mut String, indent: &str, attrs: &[String]) {
    if attrs.is_empty() {
        return;
    }
    let line = format!("{indent}#[model({})]", attrs.join(", "));
    if line.len() <= 100 {
        out.push_str(&line);
        out.push('\n');
        return;
    }
    let _ = writeln!(out, "{indent}#[model(");
    for attr in attrs {
        let _ = writeln!(out, "{indent}    {attr},");
    }
    let _ = writeln!(out, "{indent})]");
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::model_source;
    use crate::error::Error;
    use crate::schema::{ColumnDef, Index, Table};
    use crate::value::Value;
    use crate::value::sql_type::SqlType;

    /// Names that would break out of an identifier, a string or a comment, and names
    /// that are not identifiers at all.
    const HOSTILE: &[&str] = &[
        "we\"ird",
        r"back\slash",
        "*/ evil /*",
        "\"]",
        "\")] fn x() {} #[model(",
        "naïve Tä",
        "type",
        "self",
        "fn",
        "model",
        "",
        "1st",
    ];

    fn hostile_tables() -> Vec<Arc<Table>> {
        let parent = HOSTILE
            .iter()
            .fold(Table::new("\"]p"), |t, name| {
                t.column(ColumnDef::new(*name, SqlType::Text).nullable(true))
            })
            .column(ColumnDef::new("id\"", SqlType::BigInt).primary_key());
        let mut tables = vec![Arc::new(parent)];
        for (i, name) in HOSTILE.iter().enumerate() {
            let table = Table::new(*name)
                .column(ColumnDef::new("id", SqlType::BigInt).primary_key())
                .column(
                    ColumnDef::new(format!("{name}{i}"), SqlType::Text)
                        .declared_as(format!("VARCHAR {name}"))
                        .default(Value::Text((*name).to_owned()))
                        .index(),
                )
                .column(ColumnDef::new(*name, SqlType::BigInt).nullable(true))
                .column(ColumnDef::new(format!("{name}_id"), SqlType::BigInt).nullable(true))
                .references(name, "\"]p", "id\"", None)
                .references(&format!("{name}_id"), "\"]p", "id\"", None)
                .index(Index {
                    name: format!("ix {name} */"),
                    columns: vec![(*name).to_owned(), format!("{name}_id")],
                    unique: true,
                });
            tables.push(Arc::new(table));
        }
        tables
    }

    /// Hostile names make source that parses as Rust: every name an identifier, every
    /// string escaped, nothing outside its comment.
    #[test]
    fn hostile_names_give_source_that_parses() {
        let source = model_source(&hostile_tables()).unwrap();
        if let Err(e) = syn::parse_file(&source) {
            panic!("{e}\n{source}");
        }
        assert!(source.contains(r#"table = "\"]p""#), "{source}");
        assert!(source.contains(r#"column = "back\\slash""#), "{source}");
        assert!(source.contains(r#"foreign_key = "\"]p.id\"""#), "{source}");
    }

    /// Names that would collide with what `#[derive(Model)]` generates get another
    /// name: a table `user_builder` beside `user` (the derive's `UserBuilder`) and a
    /// column `build` (its `fn build()`).
    #[test]
    fn names_the_derive_makes_are_avoided() {
        let table = |name: &str| {
            Table::new(name)
                .column(ColumnDef::new("id", SqlType::BigInt).primary_key())
                .column(ColumnDef::new("build", SqlType::Text).nullable(true))
        };
        let source =
            model_source(&[Arc::new(table("user")), Arc::new(table("user_builder"))]).unwrap();
        assert!(source.contains("pub struct User {"), "{source}");
        assert!(source.contains("pub struct UserBuilderTable {"), "{source}");
        assert!(!source.contains("pub build:"), "{source}");
        assert!(source.contains("pub build_:"), "{source}");
    }

    /// A control character or a direction change in any name is refused with an error
    /// naming it: a newline would end the comment it is quoted in, and rustc refuses
    /// direction changes in comments.
    /// Constraints the columns cannot carry become attributes of the struct; a name
    /// the convention would not give is kept.
    #[test]
    fn constraints_become_struct_attributes() {
        use crate::schema::{Check, ForeignKey, OnDelete};
        let column = |name: &str| ColumnDef::new(name, SqlType::BigInt);
        let table = Table::new("line")
            .column(column("id").primary_key())
            .column(column("shop"))
            .column(column("no"))
            .index_on(&["shop", "no"], true)
            .index(Index {
                name: "by_no".into(),
                columns: vec!["no".into(), "shop".into()],
                unique: false,
            })
            .check("no_positive", "no > 0")
            .check_constraint(Check {
                name: "line_shop_check".into(),
                sql: "shop <> 0".into(),
            })
            .composite_foreign_key(ForeignKey {
                columns: vec!["shop".into(), "no".into()],
                ref_table: "orders".into(),
                ref_columns: vec!["shop".into(), "no".into()],
                on_delete: Some(OnDelete::SetNull),
                name: Some("line_order_fkey".into()),
            });
        let source = model_source(&[Arc::new(table)]).unwrap();
        for line in [
            r#"#[model(index("no", "shop", name = "by_no"))]"#,
            r#"#[model(unique("shop", "no"))]"#,
            r#"#[model(check(name = "no_positive", sql = "no > 0"))]"#,
            r#"#[model(check(constraint = "line_shop_check", sql = "shop <> 0"))]"#,
            "#[model(foreign_key(\n    columns(\"shop\", \"no\"),\n    references = \"orders\",\n    \
             to(\"shop\", \"no\"),\n    on_delete = \"set null\",\n    name = \"line_order_fkey\"\n))]",
        ] {
            assert!(source.contains(line), "{line} is not in:\n{source}");
        }
    }

    #[test]
    fn control_characters_are_refused() {
        let plain = || Table::new("t").column(ColumnDef::new("id", SqlType::BigInt).primary_key());
        let cases = [
            Table::new("t\nfn main() {}"),
            plain().column(ColumnDef::new("c\r", SqlType::Text)),
            plain().column(ColumnDef::new("c", SqlType::Text).declared_as("TEXT\n}")),
            plain().references("id", "p\u{7}", "id", None),
            Table::new("a\u{202E}b"),
            plain().column(ColumnDef::new("c\u{2066}", SqlType::Text)),
            plain().index(Index {
                name: "ix\n".into(),
                columns: vec!["id".into()],
                unique: false,
            }),
        ];
        for table in cases {
            match model_source(&[Arc::new(table)]) {
                Err(Error::Schema(message)) => {
                    assert!(message.contains("control character or one"), "{message}");
                    assert!(message.contains(r"\"), "{message} does not quote the name");
                }
                other => panic!("expected a schema error, got {other:?}"),
            }
        }
    }
}
