//! The operations a migration is made of, in Alembic's vocabulary and free of any
//! dialect: the same file runs on SQLite, PostgreSQL and MariaDB, rendered for the
//! bind's backend when it runs.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schema::{Check, ColumnDef, ForeignKey, OnDelete, Table};
use crate::value::Value;
use crate::value::sql_type::SqlType;

/// One step of a migration. In a migration file each is a `[[upgrade]]` or
/// `[[downgrade]]` table whose `op` key names the operation.
///
/// ```
/// use flaskdb_core::migrate::Op;
/// let op: Op = toml::from_str(r#"op = "drop_column"
/// table = "users"
/// column = "age""#).unwrap();
/// assert_eq!(op, Op::DropColumn { table: "users".into(), column: "age".into() });
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// `CREATE TABLE` with its columns, primary key (the columns marked
    /// `primary_key`), foreign keys and CHECK constraints. Every constraint is named by
    /// convention (`pk_<table>`, `fk_<table>_<column>_<referred table>`,
    /// `uq_<table>_<column>`), CHECK constraints as they say.
    CreateTable {
        /// The table.
        table: String,
        /// Its columns, in order.
        columns: Vec<ColumnSpec>,
        /// Its foreign keys.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        foreign_keys: Vec<ForeignKeySpec>,
        /// Its CHECK constraints.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        checks: Vec<CheckSpec>,
    },
    /// `DROP TABLE`.
    DropTable {
        /// The table.
        table: String,
    },
    /// `ALTER TABLE .. RENAME TO ..`: the rows stay.
    RenameTable {
        /// The table's present name.
        table: String,
        /// Its new name.
        to: String,
    },
    /// `ALTER TABLE .. ADD COLUMN`. A NOT NULL column needs a `default` when the table
    /// has rows.
    AddColumn {
        /// The table.
        table: String,
        /// The new column.
        column: ColumnSpec,
    },
    /// `ALTER TABLE .. DROP COLUMN`: its values are lost.
    DropColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// Changes a column's type, length, nullability, default or name, keeping its
    /// values (converted where the type changes): `from` is the column as it is, `to`
    /// as it becomes, so the step down is the same with the two swapped. SQLite, which
    /// cannot alter a column, rebuilds the table as Alembic's batch mode does: a new
    /// table, the rows copied, the old one dropped, the new one renamed and its indexes
    /// made again, then `PRAGMA foreign_key_check`. Uniqueness and the primary key are
    /// not changed here (`create_index`, `drop_index`).
    AlterColumn {
        /// The table.
        table: String,
        /// The column as it is.
        from: ColumnSpec,
        /// The column as it becomes.
        to: ColumnSpec,
    },
    /// `ALTER TABLE .. RENAME COLUMN`: the values stay.
    RenameColumn {
        /// The table.
        table: String,
        /// The column's present name.
        column: String,
        /// Its new name.
        to: String,
    },
    /// `CREATE [UNIQUE] INDEX`.
    CreateIndex {
        /// The table.
        table: String,
        /// The index's name.
        name: String,
        /// Its columns, in order.
        columns: Vec<String>,
        /// A unique index.
        #[serde(default, skip_serializing_if = "is_false")]
        unique: bool,
    },
    /// `DROP INDEX`.
    DropIndex {
        /// The table (MariaDB names an index within its table).
        table: String,
        /// The index's name.
        name: String,
    },
    /// `ALTER TABLE .. ADD CONSTRAINT .. CHECK (..)`: rows already there must pass it.
    /// SQLite, which cannot add a constraint, rebuilds the table (as `alter_column`).
    CreateCheck {
        /// The table.
        table: String,
        /// The constraint's name (autogenerate writes `ck_<table>_<name>`).
        name: String,
        /// The condition, in SQL.
        sql: String,
    },
    /// `ALTER TABLE .. DROP CONSTRAINT` of a CHECK constraint; SQLite rebuilds the
    /// table without it.
    DropCheck {
        /// The table.
        table: String,
        /// The constraint's name.
        name: String,
    },
    /// `ALTER TABLE .. ADD CONSTRAINT .. FOREIGN KEY`: rows already there must
    /// reference existing rows. SQLite rebuilds the table (as `alter_column`).
    CreateForeignKey {
        /// The table.
        table: String,
        /// The constraint's name (autogenerate writes
        /// `fk_<table>_<column>_<referred table>`).
        name: String,
        /// The foreign key.
        foreign_key: ForeignKeySpec,
    },
    /// Drops a foreign key by name (MariaDB: with the index it made for it); SQLite
    /// rebuilds the table without it.
    DropForeignKey {
        /// The table.
        table: String,
        /// The constraint's name.
        name: String,
    },
    /// Statements written by hand, for data changes: `sql` runs on every backend unless
    /// the backend has its own list.
    Sql {
        /// For every backend without its own.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        sql: Vec<String>,
        /// For SQLite only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sqlite: Option<Vec<String>>,
        /// For PostgreSQL only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        postgres: Option<Vec<String>>,
        /// For MySQL and MariaDB only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mysql: Option<Vec<String>>,
    },
}

/// A column as a migration declares it.
///
/// ```
/// use flaskdb_core::migrate::ColumnSpec;
/// let c: ColumnSpec = toml::from_str(r#"name = "email"
/// type = "text"
/// length = 120
/// unique = true"#).unwrap();
/// assert_eq!((c.name.as_str(), c.length, c.nullable), ("email", Some(120), false));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// The column's name.
    pub name: String,
    /// The portable type's name ([`SqlType::name`]: `integer`, `bigint`, `text`, ...).
    #[serde(rename = "type")]
    pub sql_type: String,
    /// The length of a text column (`VARCHAR(n)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    /// NULL allowed (by default the column is NOT NULL).
    #[serde(default, skip_serializing_if = "is_false")]
    pub nullable: bool,
    /// Part of the table's primary key.
    #[serde(default, skip_serializing_if = "is_false")]
    pub primary_key: bool,
    /// Whether the database numbers it (by default: a table's lone integer key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoincrement: Option<bool>,
    /// Unique on its own: a unique index `uq_<table>_<column>` (with `index`, the
    /// index `ix_<table>_<column>` is unique).
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// An index of its own, `ix_<table>_<column>`, as `#[model(index)]` makes.
    #[serde(default, skip_serializing_if = "is_false")]
    pub index: bool,
    /// The server default, as SQL (`'draft'`, `0`, `CURRENT_TIMESTAMP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// A text default, quoted for each backend as `create_all` quotes it (one whose
    /// text holds a backslash or a quote reads alike everywhere); instead of `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_text: Option<String>,
}

/// A foreign key of a created table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignKeySpec {
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub references: String,
    /// The referenced columns, in the same order.
    pub ref_columns: Vec<String>,
    /// `cascade`, `set_null`, `restrict` or `set_default`; none: `NO ACTION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<String>,
}

/// A CHECK constraint of a created table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// The constraint's name, whole (`ck_<table>_<name>`).
    pub name: String,
    /// The condition, in SQL.
    pub sql: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ColumnSpec {
    /// The column as table metadata.
    ///
    /// # Errors
    /// [`Error::Migration`] for a type name that is not one of [`SqlType`]'s.
    pub(crate) fn to_column(&self) -> Result<ColumnDef> {
        let sql_type = SqlType::from_name(&self.sql_type).ok_or_else(|| {
            Error::Migration(format!(
                "column `{}` has the unknown type `{}`; the types are {}",
                self.name,
                self.sql_type,
                SqlType::names().join(", ")
            ))
        })?;
        let mut column = ColumnDef::new(&self.name, sql_type).nullable(self.nullable);
        if self.primary_key {
            column = column.primary_key();
        }
        if let Some(on) = self.autoincrement {
            column = column.autoincrement(on);
        }
        if self.unique {
            column = column.unique();
        }
        if self.index {
            column = column.index();
        }
        if let Some(n) = self.length {
            column = column.max_length(n);
        }
        match (&self.default, &self.default_text) {
            (Some(_), Some(_)) => {
                return Err(Error::Migration(format!(
                    "column `{}` has both default and default_text: give one",
                    self.name
                )));
            }
            (Some(sql), None) => column = column.server_default(sql.clone()),
            (None, Some(text)) => column = column.default(Value::Text(text.clone())),
            (None, None) => {}
        }
        Ok(column)
    }
}

impl ForeignKeySpec {
    pub(crate) fn to_foreign_key(&self) -> Result<ForeignKey> {
        let on_delete = match self.on_delete.as_deref() {
            None => None,
            Some("cascade") => Some(OnDelete::Cascade),
            Some("set_null") => Some(OnDelete::SetNull),
            Some("restrict") => Some(OnDelete::Restrict),
            Some("set_default") => Some(OnDelete::SetDefault),
            Some(other) => {
                return Err(Error::Migration(format!(
                    "foreign key to `{}` has the unknown on_delete `{other}`; \
                     it takes cascade, set_null, restrict or set_default",
                    self.references
                )));
            }
        };
        Ok(ForeignKey {
            columns: self.columns.clone(),
            ref_table: self.references.clone(),
            ref_columns: self.ref_columns.clone(),
            on_delete,
            name: None,
        })
    }
}

/// The table a `create_table` step creates, as metadata.
pub(crate) fn table_of(
    table: &str,
    columns: &[ColumnSpec],
    foreign_keys: &[ForeignKeySpec],
    checks: &[CheckSpec],
) -> Result<Table> {
    let mut t = Table::new(table);
    for column in columns {
        t = t.column(column.to_column()?);
    }
    for fk in foreign_keys {
        t = t.composite_foreign_key(fk.to_foreign_key()?);
    }
    for check in checks {
        t = t.check_constraint(Check {
            name: check.name.clone(),
            sql: check.sql.clone(),
        });
    }
    Ok(t)
}

impl std::fmt::Display for Op {
    /// The step in a line: `add column user.age`.
    ///
    /// ```
    /// use flaskdb_core::migrate::Op;
    /// let op = Op::DropColumn { table: "user".into(), column: "age".into() };
    /// assert_eq!(op.to_string(), "drop column user.age");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::CreateTable { table, .. } => write!(f, "create table {table}"),
            Op::DropTable { table } => write!(f, "drop table {table}"),
            Op::RenameTable { table, to } => write!(f, "rename table {table} to {to}"),
            Op::AddColumn { table, column } => write!(f, "add column {table}.{}", column.name),
            Op::DropColumn { table, column } => write!(f, "drop column {table}.{column}"),
            Op::AlterColumn { table, from, .. } => {
                write!(f, "alter column {table}.{}", from.name)
            }
            Op::RenameColumn { table, column, to } => {
                write!(f, "rename column {table}.{column} to {to}")
            }
            Op::CreateIndex { table, name, .. } => write!(f, "create index {name} on {table}"),
            Op::DropIndex { table, name } => write!(f, "drop index {name} on {table}"),
            Op::CreateCheck { table, name, .. } => write!(f, "create check {name} on {table}"),
            Op::DropCheck { table, name } => write!(f, "drop check {name} on {table}"),
            Op::CreateForeignKey { table, name, .. } => {
                write!(f, "create foreign key {name} on {table}")
            }
            Op::DropForeignKey { table, name } => write!(f, "drop foreign key {name} on {table}"),
            Op::Sql { .. } => f.write_str("run SQL"),
        }
    }
}
