//! CREATE and DROP statements from table metadata.

use crate::backend::Backend;
use crate::error::Result;
use crate::schema::convention;
use crate::schema::{ColumnDef, ForeignKey, Table};
use crate::value::Value;

/// The statements that create `table`: the CREATE TABLE and, on backends without
/// inline indexes, one CREATE INDEX per index. With `if_not_exists` (`create_all`), they
/// do nothing where the table or index exists; without (a migration), they fail there.
///
/// # Errors
/// [`Error::InvalidIdentifier`](crate::Error::InvalidIdentifier) for a name holding a NUL.
pub(crate) fn create_table(
    table: &Table,
    backend: Backend,
    if_not_exists: bool,
) -> Result<Vec<String>> {
    let exists = if if_not_exists { "IF NOT EXISTS " } else { "" };
    let mut sql = format!("CREATE TABLE {exists}");
    backend.quote_ident(table.name(), &mut sql)?;
    sql.push_str(" (");
    let auto = table.autoincrement_column().map(ColumnDef::name);
    let indexes = table.indexes();
    let pk = table.primary_key();
    for (i, column) in table.columns().iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let in_key = table.in_key(column);
        let kind = match (auto == Some(column.name()), pk.as_slice()) {
            (true, _) => ColumnKind::Autoincrement,
            (false, [key]) if *key == column.name() => ColumnKind::SoleKey,
            _ if in_key => ColumnKind::InKey,
            _ => ColumnKind::Plain,
        };
        column_sql(column, kind, backend, &mut sql)?;
    }
    if !pk.is_empty() {
        sql.push_str(", ");
        constraint(
            &convention::primary_key_name(table.name(), &pk),
            backend,
            &mut sql,
        )?;
        sql.push_str("PRIMARY KEY (");
        idents(&pk, backend, &mut sql)?;
        sql.push(')');
    }
    for fk in table.foreign_keys() {
        sql.push_str(", ");
        foreign_key_sql(&table.foreign_key_name(fk), fk, backend, &mut sql)?;
    }
    for check in table.checks() {
        sql.push_str(", ");
        check_sql(&check.name, &check.sql, backend, &mut sql)?;
    }
    if backend.inline_indexes() {
        for index in &indexes {
            sql.push_str(if index.unique {
                ", UNIQUE INDEX "
            } else {
                ", INDEX "
            });
            backend.quote_ident(&index.name, &mut sql)?;
            sql.push_str(" (");
            idents(&index.columns, backend, &mut sql)?;
            sql.push(')');
        }
    }
    sql.push(')');
    let mut statements = vec![sql];
    if !backend.inline_indexes() {
        for index in &indexes {
            let unique = if index.unique { "UNIQUE " } else { "" };
            let mut s = format!("CREATE {unique}INDEX {exists}");
            backend.quote_ident(&index.name, &mut s)?;
            s.push_str(" ON ");
            backend.quote_ident(table.name(), &mut s)?;
            s.push_str(" (");
            idents(&index.columns, backend, &mut s)?;
            s.push(')');
            statements.push(s);
        }
    }
    Ok(statements)
}

/// `CONSTRAINT "name" `.
fn constraint(name: &str, backend: Backend, out: &mut String) -> Result<()> {
    out.push_str("CONSTRAINT ");
    backend.quote_ident(name, out)?;
    out.push(' ');
    Ok(())
}

/// `CONSTRAINT "name" FOREIGN KEY (..) REFERENCES "table" (..) [ON DELETE ..]`.
pub(crate) fn foreign_key_sql(
    name: &str,
    fk: &ForeignKey,
    backend: Backend,
    out: &mut String,
) -> Result<()> {
    constraint(name, backend, out)?;
    out.push_str("FOREIGN KEY (");
    idents(&fk.columns, backend, out)?;
    out.push_str(") REFERENCES ");
    backend.quote_ident(&fk.ref_table, out)?;
    out.push_str(" (");
    idents(&fk.ref_columns, backend, out)?;
    out.push(')');
    if let Some(action) = fk.on_delete {
        out.push_str(" ON DELETE ");
        out.push_str(action.sql());
    }
    Ok(())
}

/// `CONSTRAINT "name" CHECK (sql)`.
pub(crate) fn check_sql(name: &str, sql: &str, backend: Backend, out: &mut String) -> Result<()> {
    constraint(name, backend, out)?;
    out.push_str("CHECK (");
    out.push_str(sql);
    out.push(')');
    Ok(())
}

/// `DROP TABLE IF EXISTS "name"`.
pub(crate) fn drop_table(table: &Table, backend: Backend) -> Result<String> {
    let mut sql = String::from("DROP TABLE IF EXISTS ");
    backend.quote_ident(table.name(), &mut sql)?;
    Ok(sql)
}

pub(crate) fn idents<S: AsRef<str>>(names: &[S], backend: Backend, out: &mut String) -> Result<()> {
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        backend.quote_ident(name.as_ref(), out)?;
    }
    Ok(())
}

/// What a column is to its table, as far as its DDL type goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    /// The column the database numbers.
    Autoincrement,
    /// The whole primary key, numbered by the application.
    SoleKey,
    /// Part of a key, unique, indexed or referencing (MySQL sizes its text then).
    InKey,
    Plain,
}

pub(crate) fn column_sql(
    column: &ColumnDef,
    kind: ColumnKind,
    backend: Backend,
    out: &mut String,
) -> Result<()> {
    backend.quote_ident(column.name(), out)?;
    out.push(' ');
    if kind == ColumnKind::Autoincrement {
        out.push_str(&backend.autoincrement_column(column));
        return Ok(());
    }
    if kind == ColumnKind::SoleKey && backend == Backend::Sqlite && column.sql_type().is_integer() {
        // A lone INTEGER primary key is SQLite's rowid, which numbers itself; INT is not.
        out.push_str("INT");
    } else {
        out.push_str(&backend.column_type(column, kind != ColumnKind::Plain));
    }
    if let Some(sql) = column.server_default_sql() {
        out.push_str(" DEFAULT ");
        out.push_str(sql);
    } else if let Some(value) = column.default_value() {
        out.push_str(" DEFAULT ");
        literal(value, backend, out);
    }
    if !column.is_nullable() {
        out.push_str(" NOT NULL");
    }
    // A unique column is its table's unique index (`Table::column_index`).
    Ok(())
}

/// Writes a literal for a DDL DEFAULT clause (DDL cannot take bound parameters).
fn literal(value: &Value, backend: Backend, out: &mut String) {
    match value {
        Value::Null(_) => out.push_str("NULL"),
        Value::Bool(b) => out.push_str(backend.bool_literal(*b)),
        Value::I16(v) => out.push_str(&v.to_string()),
        Value::I32(v) => out.push_str(&v.to_string()),
        Value::I64(v) => out.push_str(&v.to_string()),
        Value::F32(v) => out.push_str(&v.to_string()),
        Value::F64(v) => out.push_str(&v.to_string()),
        Value::Text(s) => backend.text_literal(s, out),
        Value::Bytes(b) => backend.bytes_literal(b, out),
        #[allow(unreachable_patterns)]
        other => backend.text_literal(&other.as_text().unwrap_or_default(), out),
    }
}
