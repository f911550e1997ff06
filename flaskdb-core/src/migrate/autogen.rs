//! Autogenerate: the steps that bring a bind's database to its models, found by
//! comparing the models' tables with the tables reflected from the database, as
//! Alembic's `--autogenerate` does.

use crate::backend::Backend;
use crate::error::Result;
use crate::migrate::op::{CheckSpec, ColumnSpec, ForeignKeySpec, Op};
use crate::runtime::db::Db;
use crate::runtime::reflect;
use crate::schema::order::parents_first;
use crate::schema::{ColumnDef, ForeignKey, OnDelete, Table};
use crate::sql::dialect::catalog::{Default, parse_default, parse_type};
use crate::value::Value;
use crate::value::sql_type::SqlType;

/// What a bind's database lacks or has beyond its models: the steps up, the steps down
/// (in the order they run), and a line for each step that loses data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    /// The steps that bring the database to the models.
    pub upgrade: Vec<Op>,
    /// The steps that undo them, in the order they run.
    pub downgrade: Vec<Op>,
    /// The steps up that lose data (a dropped table or column), each in a line.
    pub destructive: Vec<String>,
}

impl Diff {
    /// Whether the database matches the models.
    pub fn is_empty(&self) -> bool {
        self.upgrade.is_empty()
    }
}

/// Compares bind `bind`'s models with its database.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use flaskdb_core::{ColumnDef, Config, Db, SqlType, Table};
/// use flaskdb_core::migrate::{Op, compare};
/// Table::new("autogen_note").column(ColumnDef::new("id", SqlType::BigInt).primary_key()).declare()?;
/// let db = Db::connect(Config::new("sqlite::memory:")).await?;
/// let diff = compare(&db, None).await?;
/// assert!(matches!(&diff.upgrade[0], Op::CreateTable { table, .. } if table == "autogen_note"));
/// db.create_all().await?;
/// assert!(compare(&db, None).await?.is_empty());
/// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
/// ```
///
/// Detected: tables added and removed; columns added and removed; a column's type
/// (as the backend declares it), length, nullability and server default; indexes
/// added and removed, by name (a unique column's own index is `uq_<table>_<column>`,
/// so uniqueness comes and goes with it); CHECK constraints added and removed, by
/// name (a changed condition under the same name is not seen). A table or column whose model says
/// `#[model(renamed_from = "old")]` is renamed, keeping its rows, where the database
/// has `old`; renames are never guessed. Foreign keys added and removed, by their
/// columns, referenced table and columns and ON DELETE (one that changes is dropped and
/// made again).
///
/// # Errors
/// A database error reading the catalog; [`Error::Schema`](crate::Error::Schema) for
/// models whose foreign keys form a cycle.
pub async fn compare(db: &Db, bind: Option<&str>) -> Result<Diff> {
    let engine = db.engine_for(bind)?;
    let backend = engine.backend();
    let database = reflect::tables(&engine, bind).await?;
    let metadata = db.metadata(bind);
    let models: Vec<&Table> = metadata
        .tables()
        .iter()
        .map(|t| &**t)
        .filter(|t| !t.is_view())
        .collect();
    let mut diff = Diff::default();
    let named = |tables: &[Table], name: &str| tables.iter().position(|t| t.name() == name);

    // Each model's table in the database: by its name, or by the name it was renamed
    // from when no model still has that one.
    let found = |m: &Table| {
        named(&database, m.name()).or_else(|| {
            m.former_name()
                .filter(|old| !models.iter().any(|o| o.name() == *old))
                .and_then(|old| named(&database, old))
        })
    };

    // Tables to create, parents first; the steps down drop them children first.
    let new: Vec<&Table> = models
        .iter()
        .copied()
        .filter(|t| found(t).is_none())
        .collect();
    let mut drops = Vec::new();
    for table in parents_first(&new)? {
        diff.upgrade.extend(create(table, backend));
        drops.push(Op::DropTable {
            table: table.name().to_owned(),
        });
    }
    // Children first.
    drops.reverse();

    // The undoing steps of the changes to tables both sides have, in the order made.
    let mut undo = Vec::new();
    for model in &models {
        let Some(i) = found(model) else {
            continue;
        };
        if database[i].name() != model.name() {
            diff.upgrade.push(Op::RenameTable {
                table: database[i].name().to_owned(),
                to: model.name().to_owned(),
            });
            undo.push(Op::RenameTable {
                table: model.name().to_owned(),
                to: database[i].name().to_owned(),
            });
        }
        columns(model, &database[i], backend, &mut diff, &mut undo);
    }

    // Tables only the database has: dropped children first, made again parents first.
    let gone: Vec<&Table> = database
        .iter()
        .enumerate()
        .filter(|(i, t)| !t.is_view() && !models.iter().any(|m| found(m) == Some(*i)))
        .map(|(_, t)| t)
        .collect();
    let ordered = parents_first(&gone)?;
    for table in ordered.iter().rev() {
        diff.upgrade.push(Op::DropTable {
            table: table.name().to_owned(),
        });
        diff.destructive
            .push(format!("drops table `{}` and its rows", table.name()));
    }
    let mut remade = Vec::new();
    for table in &ordered {
        remade.extend(create(table, backend));
    }
    // The steps down undo the steps up in reverse: the dropped tables come back, the
    // changes are undone last first, and the created tables go.
    undo.reverse();
    diff.downgrade = remade.into_iter().chain(undo).chain(drops).collect();
    Ok(diff)
}

/// The columns and indexes of a table both sides have: indexes that go are dropped
/// first (SQLite cannot drop an indexed column), new indexes made last; a column's own
/// index comes and goes with the column.
fn columns(model: &Table, db: &Table, backend: Backend, diff: &mut Diff, undo: &mut Vec<Op>) {
    let table = model.name().to_owned();
    let owned_by = |t: &Table, index: &str, columns: &[&ColumnDef]| {
        columns
            .iter()
            .any(|c| t.column_index(c).is_some_and(|own| own.name == index))
    };
    // Each model column in the database: by its name, or by the name it was renamed
    // from when the model has no column of that name any more.
    let found = |c: &ColumnDef| {
        db.column_named(c.name()).or_else(|| {
            c.former_name()
                .filter(|old| model.column_named(old).is_none())
                .and_then(|old| db.column_named(old))
        })
    };
    let added: Vec<&ColumnDef> = model
        .columns()
        .iter()
        .filter(|c| found(c).is_none())
        .collect();
    // Foreign keys that go are dropped first (an index or column they use can go
    // then), new ones made last; a changed ON DELETE is one of each.
    let fk_step = |t: &Table, fk: &ForeignKey, create: bool| {
        let name = t.foreign_key_name(fk);
        match create {
            true => Op::CreateForeignKey {
                table: table.clone(),
                name,
                foreign_key: fk_spec(fk),
            },
            false => Op::DropForeignKey {
                table: table.clone(),
                name,
            },
        }
    };
    for fk in db.foreign_keys() {
        if !model.foreign_keys().iter().any(|w| same_key(w, fk)) {
            diff.upgrade.push(fk_step(db, fk, false));
            undo.push(fk_step(db, fk, true));
        }
    }
    let (wanted, present) = (model.indexes(), db.indexes());
    for index in &present {
        if !wanted.iter().any(|w| w.name == index.name) {
            diff.upgrade.push(Op::DropIndex {
                table: table.clone(),
                name: index.name.clone(),
            });
            undo.push(Op::CreateIndex {
                table: table.clone(),
                name: index.name.clone(),
                columns: index.columns.clone(),
                unique: index.unique,
            });
        }
    }
    for check in db.checks() {
        if !model.checks().iter().any(|w| w.name == check.name) {
            diff.upgrade.push(Op::DropCheck {
                table: table.clone(),
                name: check.name.clone(),
            });
            undo.push(Op::CreateCheck {
                table: table.clone(),
                name: check.name.clone(),
                sql: check.sql.clone(),
            });
        }
    }
    for column in model.columns() {
        let existing = found(column);
        if let Some(existing) = existing.filter(|e| e.name() != column.name()) {
            diff.upgrade.push(Op::RenameColumn {
                table: table.clone(),
                column: existing.name().to_owned(),
                to: column.name().to_owned(),
            });
            undo.push(Op::RenameColumn {
                table: table.clone(),
                column: column.name().to_owned(),
                to: existing.name().to_owned(),
            });
        }
        match existing {
            None => {
                diff.upgrade.push(Op::AddColumn {
                    table: table.clone(),
                    column: spec(model, column, backend),
                });
                undo.push(Op::DropColumn {
                    table: table.clone(),
                    column: column.name().to_owned(),
                });
            }
            Some(existing) if differs(model, column, existing, backend) => {
                let (mut from, mut to) =
                    (spec(db, existing, backend), spec(model, column, backend));
                // alter_column keeps a column's keys and indexes.
                (from.index, to.index, from.unique, to.unique) = (false, false, false, false);
                diff.upgrade.push(Op::AlterColumn {
                    table: table.clone(),
                    from: from.clone(),
                    to: to.clone(),
                });
                undo.push(Op::AlterColumn {
                    table: table.clone(),
                    from: to,
                    to: from,
                });
            }
            Some(_) => {}
        }
    }
    for existing in db.columns() {
        let kept = model
            .columns()
            .iter()
            .any(|c| found(c).is_some_and(|e| e.name() == existing.name()));
        if !kept {
            diff.upgrade.push(Op::DropColumn {
                table: table.clone(),
                column: existing.name().to_owned(),
            });
            diff.destructive.push(format!(
                "drops column `{table}.{}` and its values",
                existing.name()
            ));
            let mut column = spec(db, existing, backend);
            // Its own index was dropped above, and is made again after it.
            (column.index, column.unique) = (false, false);
            undo.push(Op::AddColumn {
                table: table.clone(),
                column,
            });
        }
    }
    for index in &wanted {
        if !present.iter().any(|p| p.name == index.name) && !owned_by(model, &index.name, &added) {
            diff.upgrade.push(Op::CreateIndex {
                table: table.clone(),
                name: index.name.clone(),
                columns: index.columns.clone(),
                unique: index.unique,
            });
            undo.push(Op::DropIndex {
                table: table.clone(),
                name: index.name.clone(),
            });
        }
    }
    for check in model.checks() {
        if !db.checks().iter().any(|p| p.name == check.name) {
            diff.upgrade.push(Op::CreateCheck {
                table: table.clone(),
                name: check.name.clone(),
                sql: check.sql.clone(),
            });
            undo.push(Op::DropCheck {
                table: table.clone(),
                name: check.name.clone(),
            });
        }
    }
    for fk in model.foreign_keys() {
        if !db.foreign_keys().iter().any(|p| same_key(p, fk)) {
            diff.upgrade.push(fk_step(model, fk, true));
            undo.push(fk_step(model, fk, false));
        }
    }
}

/// Whether the model's `column` (of `table`) differs from the database's `existing` in
/// what the database can tell: its type and length as the backend declares them (on
/// SQLite, integers of any width are one type, and so are floats and date-times),
/// nullability and default.
fn differs(table: &Table, column: &ColumnDef, existing: &ColumnDef, backend: Backend) -> bool {
    let (model_type, model_length) = declared(table, column, backend);
    let same_type = if backend == Backend::Sqlite {
        model_type.same_family(existing.sql_type())
    } else {
        model_type == existing.sql_type()
    } && model_length == existing.length();
    let same_default = match (default_of(column, backend), default_of(existing, backend)) {
        (None, None) => true,
        (Some(Default::Value(a)), Some(Default::Value(b))) => same_value(&a, &b),
        (Some(Default::Sql(a)), Some(Default::Sql(b))) => a.eq_ignore_ascii_case(&b),
        _ => false,
    };
    !same_type || column.is_nullable() != existing.is_nullable() || !same_default
}

/// A model column's type and length as `backend` declares it, read back as reflection
/// reads a catalog's.
fn declared(table: &Table, column: &ColumnDef, backend: Backend) -> (SqlType, Option<u32>) {
    parse_type(backend, &backend.column_type(column, table.in_key(column)))
}

/// A column's default, literal or SQL, as reflection would read it back.
fn default_of(column: &ColumnDef, backend: Backend) -> Option<Default> {
    if let Some(sql) = column.server_default_sql() {
        return match parse_default(backend, sql, column.sql_type()) {
            Default::Null => None,
            other => Some(other),
        };
    }
    match column.default_value()? {
        Value::Null(_) => None,
        v => Some(Default::Value(v.clone())),
    }
}

/// Two defaults the same value, whatever width of integer or float holds them.
fn same_value(a: &Value, b: &Value) -> bool {
    let wide = |v: &Value| match v {
        Value::I16(n) => Some(f64::from(*n)),
        Value::I32(n) => Some(f64::from(*n)),
        Value::I64(n) => Some(*n as f64),
        Value::F32(n) => Some(f64::from(*n)),
        Value::F64(n) => Some(*n),
        _ => None,
    };
    match (wide(a), wide(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A column as a migration file declares it. A column of a custom DDL type is
/// declared with the type and length the backend reads its DDL as.
fn spec(table: &Table, column: &ColumnDef, backend: Backend) -> ColumnSpec {
    let (sql_type, length) = match column.ddl_type() {
        Some(_) => parse_type(backend, &backend.column_type(column, false)),
        None => (column.sql_type(), column.length()),
    };
    let (default, default_text) = match default_of(column, backend) {
        None => (None, None),
        Some(Default::Sql(sql)) => (Some(sql), None),
        Some(Default::Value(Value::Text(text))) => (None, Some(text)),
        Some(Default::Value(value)) => (literal(&value), None),
        Some(Default::Null) => (None, None),
    };
    ColumnSpec {
        name: column.name().to_owned(),
        sql_type: sql_type.name().to_owned(),
        length,
        nullable: column.is_nullable(),
        primary_key: column.is_primary_key(),
        autoincrement: autoincrement(table, column),
        unique: column.is_unique(),
        index: column.is_indexed(),
        default,
        default_text,
    }
}

/// Whether the database numbers `column`, where that differs from the rule (a table's
/// lone integer primary key is numbered).
fn autoincrement(table: &Table, column: &ColumnDef) -> Option<bool> {
    let numbered = table
        .autoincrement_column()
        .is_some_and(|c| c.name() == column.name());
    let by_rule = table.primary_key() == [column.name()] && column.sql_type().is_integer();
    (numbered != by_rule).then_some(numbered)
}

/// A literal default that reads alike on every backend: numbers and booleans bare,
/// dates, UUIDs and decimals quoted (their text holds no quote or backslash).
fn literal(value: &Value) -> Option<String> {
    Some(match value {
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Value::I16(v) => v.to_string(),
        Value::I32(v) => v.to_string(),
        Value::I64(v) => v.to_string(),
        Value::F32(v) => v.to_string(),
        Value::F64(v) => v.to_string(),
        other => format!("'{}'", other.as_text()?.replace('\'', "''")),
    })
}

/// A foreign key as a migration declares it.
fn fk_spec(fk: &ForeignKey) -> ForeignKeySpec {
    ForeignKeySpec {
        columns: fk.columns.clone(),
        references: fk.ref_table.clone(),
        ref_columns: fk.ref_columns.clone(),
        on_delete: fk.on_delete.map(|a| {
            match a {
                OnDelete::Cascade => "cascade",
                OnDelete::SetNull => "set_null",
                OnDelete::Restrict => "restrict",
                OnDelete::SetDefault => "set_default",
            }
            .to_owned()
        }),
    }
}

/// Whether two foreign keys are the same key, whatever their names.
fn same_key(a: &ForeignKey, b: &ForeignKey) -> bool {
    (&a.columns, &a.ref_table, &a.ref_columns, a.on_delete)
        == (&b.columns, &b.ref_table, &b.ref_columns, b.on_delete)
}

/// The steps that make a table: its `create_table` (with its columns' own indexes)
/// and a `create_index` for each index of its own.
fn create(table: &Table, backend: Backend) -> Vec<Op> {
    let columns: Vec<&ColumnDef> = table.columns().iter().collect();
    let mut out = vec![Op::CreateTable {
        table: table.name().to_owned(),
        columns: columns.iter().map(|c| spec(table, c, backend)).collect(),
        foreign_keys: table.foreign_keys().iter().map(fk_spec).collect(),
        checks: table
            .checks()
            .iter()
            .map(|c| CheckSpec {
                name: c.name.clone(),
                sql: c.sql.clone(),
            })
            .collect(),
    }];
    for index in table.indexes() {
        let own = columns.iter().any(|c| {
            table
                .column_index(c)
                .is_some_and(|own| own.name == index.name)
        });
        if !own {
            out.push(Op::CreateIndex {
                table: table.name().to_owned(),
                name: index.name,
                columns: index.columns,
                unique: index.unique,
            });
        }
    }
    out
}

/// The text of a migration file with each bind's steps: destructive steps listed in a
/// comment at the top, then the revision, its parent and message, then the steps up and
/// down, one table of the file per step and one line per column.
///
/// ```
/// use flaskdb_core::migrate::{Diff, Migration, Op, migration_text};
/// let diff = Diff {
///     upgrade: vec![Op::DropColumn { table: "user".into(), column: "age".into() }],
///     downgrade: vec![Op::Sql { sql: vec![], sqlite: None, postgres: None, mysql: None }],
///     destructive: vec!["drops column `user.age` and its values".into()],
/// };
/// let text = migration_text("b2", Some("a1"), "drop age", &[(None, &diff)]);
/// assert!(text.starts_with("# Destructive"));
/// let m = Migration::parse("b2.toml", &text)?;
/// assert_eq!(m.upgrade_steps(None), diff.upgrade.as_slice());
/// # Ok::<(), flaskdb_core::Error>(())
/// ```
pub fn migration_text(
    revision: &str,
    down_revision: Option<&str>,
    message: &str,
    binds: &[(Option<&str>, &Diff)],
) -> String {
    let mut out = String::new();
    let destructive: Vec<&String> = binds.iter().flat_map(|(_, d)| &d.destructive).collect();
    if !destructive.is_empty() {
        out.push_str("# Destructive: these steps lose data; review them before upgrading.\n");
        for line in destructive {
            out.push_str(&format!("#   {line}\n"));
        }
        out.push('\n');
    }
    let string = |s: &str| toml::Value::String(s.to_owned()).to_string();
    out.push_str(&format!("revision = {}\n", string(revision)));
    if let Some(parent) = down_revision {
        out.push_str(&format!("down_revision = {}\n", string(parent)));
    }
    out.push_str(&format!("message = {}\n", string(message)));
    for (bind, diff) in binds {
        let at = bind.map_or(String::new(), |k| format!("bind.{k}."));
        for (direction, ops) in [("upgrade", &diff.upgrade), ("downgrade", &diff.downgrade)] {
            for op in ops {
                out.push_str(&format!("\n[[{at}{direction}]]\n"));
                out.push_str(&step(op));
            }
        }
    }
    out
}

/// One step's keys, `op` first, each array of tables one element per line.
fn step(op: &Op) -> String {
    let Ok(toml::Value::Table(table)) = toml::Value::try_from(op) else {
        // Every operation serializes to a table: its fields are strings, numbers,
        // booleans and lists of them.
        return String::new();
    };
    let mut out = String::new();
    for (key, value) in &table {
        match value {
            toml::Value::Array(items) if items.iter().any(toml::Value::is_table) => {
                out.push_str(&format!("{key} = [\n"));
                for item in items {
                    out.push_str(&format!("    {item},\n"));
                }
                out.push_str("]\n");
            }
            _ => out.push_str(&format!("{key} = {value}\n")),
        }
    }
    out
}
