//! A migration's operations as the statements of one backend.

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::migrate::op::{ColumnSpec, Op, table_of};
use crate::schema::{Check, Table};
use crate::sql::{ColumnKind, check_sql, column_sql, create_table, foreign_key_sql, idents};

/// The table whose present shape `op` needs on `backend`: SQLite alters a column and
/// adds or drops a constraint by rebuilding its table, which takes every other column,
/// key and index as they are.
pub(crate) fn rebuilt_table(op: &Op, backend: Backend) -> Option<&str> {
    match op {
        Op::AlterColumn { table, .. }
        | Op::CreateCheck { table, .. }
        | Op::DropCheck { table, .. }
        | Op::CreateForeignKey { table, .. }
        | Op::DropForeignKey { table, .. }
            if backend == Backend::Sqlite =>
        {
            Some(table)
        }
        _ => None,
    }
}

/// The statements that carry out `op` on `backend`, in order. `current` is the table
/// [`rebuilt_table`] names, as the database has it now.
///
/// # Errors
/// [`Error::Migration`] for a column type or ON DELETE the file misspells, an
/// `alter_column` that changes uniqueness or the primary key, or a rebuild without its
/// table; [`Error::InvalidIdentifier`](crate::Error::InvalidIdentifier) for a name
/// holding a NUL.
pub(crate) fn statements(
    op: &Op,
    backend: Backend,
    current: Option<&Table>,
) -> Result<Vec<String>> {
    let q = |name: &str| quoted(name, backend);
    Ok(match op {
        Op::CreateTable {
            table,
            columns,
            foreign_keys,
            checks,
        } => create_table(
            &table_of(table, columns, foreign_keys, checks)?,
            backend,
            false,
        )?,
        Op::DropTable { table } => vec![format!("DROP TABLE {}", q(table)?)],
        Op::RenameTable { table, to } => {
            vec![format!("ALTER TABLE {} RENAME TO {}", q(table)?, q(to)?)]
        }
        Op::AddColumn { table, column } => {
            // The column, then the index it makes of its own (a unique column's too).
            let def = column.to_column()?;
            let kind = if column.unique || column.index {
                ColumnKind::InKey
            } else {
                ColumnKind::Plain
            };
            let mut sql = format!("ALTER TABLE {} ADD COLUMN ", q(table)?);
            column_sql(&def, kind, backend, &mut sql)?;
            let mut out = vec![sql];
            if let Some(index) = Table::new(table.as_str()).column_index(&def) {
                out.push(create_index(
                    table,
                    &index.name,
                    &index.columns,
                    index.unique,
                    backend,
                )?);
            }
            out
        }
        Op::AlterColumn { table, from, to } => {
            if (from.unique, from.primary_key) != (to.unique, to.primary_key) {
                return Err(Error::Migration(format!(
                    "alter_column of `{table}.{}` changes its uniqueness or primary key, \
                     which alter_column keeps: use create_index or drop_index",
                    from.name
                )));
            }
            match backend {
                Backend::Postgres => alter_postgres(table, from, to)?,
                Backend::MySql => {
                    let mut sql = format!(
                        "ALTER TABLE {} CHANGE COLUMN {} ",
                        q(table)?,
                        q(&from.name)?
                    );
                    // The column keeps the keys it has; CHANGE would add a second UNIQUE.
                    let mut plain = to.clone();
                    plain.unique = false;
                    column_sql(&plain.to_column()?, ColumnKind::InKey, backend, &mut sql)?;
                    vec![sql]
                }
                Backend::Sqlite => {
                    let current = current.ok_or_else(|| {
                        Error::Migration(format!(
                            "SQLite alters `{table}.{}` by rebuilding `{table}`, which needs \
                             the table as the database has it",
                            from.name
                        ))
                    })?;
                    altered(current, from, to)?
                }
            }
        }
        Op::DropColumn { table, column } => {
            vec![format!(
                "ALTER TABLE {} DROP COLUMN {}",
                q(table)?,
                q(column)?
            )]
        }
        Op::RenameColumn { table, column, to } => vec![format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            q(table)?,
            q(column)?,
            q(to)?
        )],
        Op::CreateIndex {
            table,
            name,
            columns,
            unique,
        } => vec![create_index(table, name, columns, *unique, backend)?],
        Op::DropIndex { table, name } => vec![match backend {
            Backend::MySql => format!("DROP INDEX {} ON {}", q(name)?, q(table)?),
            _ => format!("DROP INDEX {}", q(name)?),
        }],
        Op::CreateCheck { table, name, sql } => match backend {
            Backend::Sqlite => {
                let current = rebuilding(current, table)?;
                let check = Check {
                    name: name.clone(),
                    sql: sql.clone(),
                };
                rebuild(current, current.clone().check_constraint(check), |c| {
                    c.to_owned()
                })?
            }
            _ => {
                let mut out = format!("ALTER TABLE {} ADD ", q(table)?);
                check_sql(name, sql, backend, &mut out)?;
                vec![out]
            }
        },
        Op::DropCheck { table, name } => match backend {
            Backend::Sqlite => {
                let current = rebuilding(current, table)?;
                if !current.checks().iter().any(|c| c.name == *name) {
                    return Err(Error::Migration(format!(
                        "`{table}` has no CHECK constraint `{name}` to drop"
                    )));
                }
                let mut kept = current.clone().without_checks();
                for check in current.checks().iter().filter(|c| c.name != *name) {
                    kept = kept.check_constraint(check.clone());
                }
                rebuild(current, kept, |c| c.to_owned())?
            }
            // MySQL 8.0.19 and MariaDB 10.2 take DROP CONSTRAINT too.
            _ => vec![format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                q(table)?,
                q(name)?
            )],
        },
        Op::CreateForeignKey {
            table,
            name,
            foreign_key,
        } => {
            let mut fk = foreign_key.to_foreign_key()?;
            match backend {
                Backend::Sqlite => {
                    let current = rebuilding(current, table)?;
                    fk.name = Some(name.clone());
                    rebuild(current, current.clone().composite_foreign_key(fk), |c| {
                        c.to_owned()
                    })?
                }
                _ => {
                    let mut out = format!("ALTER TABLE {} ADD ", q(table)?);
                    foreign_key_sql(name, &fk, backend, &mut out)?;
                    vec![out]
                }
            }
        }
        Op::DropForeignKey { table, name } => match backend {
            Backend::Sqlite => {
                let current = rebuilding(current, table)?;
                let kept = current.without_foreign_key(name).ok_or_else(|| {
                    Error::Migration(format!("`{table}` has no foreign key `{name}` to drop"))
                })?;
                rebuild(current, kept, |c| c.to_owned())?
            }
            Backend::Postgres => vec![format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                q(table)?,
                q(name)?
            )],
            Backend::MySql => vec![format!(
                "ALTER TABLE {} DROP FOREIGN KEY {}",
                q(table)?,
                q(name)?
            )],
        },
        Op::Sql {
            sql,
            sqlite,
            postgres,
            mysql,
        } => {
            let own = match backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
                Backend::MySql => mysql,
            };
            own.as_ref().unwrap_or(sql).clone()
        }
    })
}

fn quoted(name: &str, backend: Backend) -> Result<String> {
    let mut out = String::new();
    backend.quote_ident(name, &mut out)?;
    Ok(out)
}

/// PostgreSQL's ALTER COLUMN clauses for what differs between `from` and `to`. A
/// default is dropped before a type change and set again after it, as PostgreSQL
/// cannot convert one in place.
fn alter_postgres(table: &str, from: &ColumnSpec, to: &ColumnSpec) -> Result<Vec<String>> {
    let backend = Backend::Postgres;
    let at = format!(
        "ALTER TABLE {} ALTER COLUMN {}",
        quoted(table, backend)?,
        quoted(&from.name, backend)?
    );
    let (old, new) = (from.to_column()?, to.to_column()?);
    let new_type = backend.column_type(&new, false);
    let type_changes = backend.column_type(&old, false) != new_type;
    let default_changes = type_changes || from.default != to.default;
    let mut out = Vec::new();
    if default_changes && from.default.is_some() {
        out.push(format!("{at} DROP DEFAULT"));
    }
    if type_changes {
        let column = quoted(&from.name, backend)?;
        out.push(format!("{at} TYPE {new_type} USING {column}::{new_type}"));
    }
    if from.nullable != to.nullable {
        out.push(format!(
            "{at} {} NOT NULL",
            if to.nullable { "DROP" } else { "SET" }
        ));
    }
    if let Some(default) = to.default.as_ref().filter(|_| default_changes) {
        out.push(format!("{at} SET DEFAULT {default}"));
    }
    if from.name != to.name {
        out.push(format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            quoted(table, backend)?,
            quoted(&from.name, backend)?,
            quoted(&to.name, backend)?
        ));
    }
    Ok(out)
}

/// `CREATE [UNIQUE] INDEX "name" ON "table" (columns)`.
fn create_index(
    table: &str,
    name: &str,
    columns: &[String],
    unique: bool,
    backend: Backend,
) -> Result<String> {
    let unique = if unique { "UNIQUE " } else { "" };
    let mut sql = format!(
        "CREATE {unique}INDEX {} ON {} (",
        quoted(name, backend)?,
        quoted(table, backend)?
    );
    idents(columns, backend, &mut sql)?;
    sql.push(')');
    Ok(sql)
}

/// The table SQLite rebuilds for `table`'s step, or an error saying it is missing.
fn rebuilding<'a>(current: Option<&'a Table>, table: &str) -> Result<&'a Table> {
    current.ok_or_else(|| {
        Error::Migration(format!(
            "SQLite changes `{table}` by rebuilding it, which needs the table as the \
             database has it"
        ))
    })
}

/// `current` with column `from` become `to`, rebuilt.
fn altered(current: &Table, from: &ColumnSpec, to: &ColumnSpec) -> Result<Vec<String>> {
    if current.column_named(&from.name).is_none() {
        return Err(Error::Migration(format!(
            "`{}` has no column `{}` to alter",
            current.name(),
            from.name
        )));
    }
    let mut new = current.without_columns();
    for column in current.columns() {
        new = new.column(if column.name() == from.name {
            let mut def = to.to_column()?;
            if column.is_primary_key() {
                def = def.primary_key();
            }
            if column.is_unique() {
                def = def.unique();
            }
            if column.is_indexed() {
                def = def.index();
            }
            def
        } else {
            column.clone()
        });
    }
    rebuild(current, new, |column| {
        if column == from.name {
            to.name.clone()
        } else {
            column.to_owned()
        }
    })
}

/// SQLite's rebuild of `current` as `new`, as Alembic's batch mode does it: `new`
/// made under a passing name, the rows copied (column `c` of `current` into
/// `renamed(c)` of `new`), the old table dropped, the new one renamed, and its indexes
/// made (they could not exist twice under their names). `new`'s foreign keys and
/// indexes name columns as `current` does; they are renamed here.
fn rebuild(current: &Table, new: Table, renamed: impl Fn(&str) -> String) -> Result<Vec<String>> {
    let backend = Backend::Sqlite;
    let name = current.name();
    let passing = format!("_flaskdb_rebuild_{name}");
    let (mut into, mut select) = (Vec::new(), Vec::new());
    for column in current.columns() {
        into.push(quoted(&renamed(column.name()), backend)?);
        select.push(quoted(column.name(), backend)?);
    }
    let indexes: Vec<_> = new.indexes();
    let new = new.renamed_columns(&renamed);
    // Made under the table's own name, so that its constraints are named for it, then
    // created under the passing one.
    let mut create = create_table(&new, backend, false)?;
    create.truncate(1);
    let prefix = format!("CREATE TABLE {}", quoted(name, backend)?);
    let mut out = vec![create[0].replacen(
        &prefix,
        &format!("CREATE TABLE {}", quoted(&passing, backend)?),
        1,
    )];
    out.push(format!(
        "INSERT INTO {} ({}) SELECT {} FROM {}",
        quoted(&passing, backend)?,
        into.join(", "),
        select.join(", "),
        quoted(name, backend)?
    ));
    out.push(format!("DROP TABLE {}", quoted(name, backend)?));
    out.push(format!(
        "ALTER TABLE {} RENAME TO {}",
        quoted(&passing, backend)?,
        quoted(name, backend)?
    ));
    for index in indexes {
        let columns: Vec<String> = index.columns.iter().map(|c| renamed(c)).collect();
        out.push(create_index(
            name,
            &index.name,
            &columns,
            index.unique,
            backend,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::statements;
    use crate::backend::Backend::{self, MySql, Postgres, Sqlite};
    use crate::migrate::op::Op;

    fn sql(toml: &str, backend: Backend) -> Vec<String> {
        let op: Op = toml::from_str(toml).unwrap();
        statements(&op, backend, None).unwrap()
    }

    #[test]
    fn each_operation_in_each_dialect() {
        let add = r#"op = "add_column"
table = "t"
column = { name = "c", type = "text", length = 8, unique = true, default = "'x'" }"#;
        for backend in [Postgres, Sqlite] {
            assert_eq!(
                sql(add, backend),
                [
                    r#"ALTER TABLE "t" ADD COLUMN "c" VARCHAR(8) DEFAULT 'x' NOT NULL"#,
                    r#"CREATE UNIQUE INDEX "uq_t_c" ON "t" ("c")"#
                ]
            );
        }
        let check = "op = \"create_check\"\ntable = \"t\"\nname = \"ck_t_c\"\nsql = \"c <> ''\"";
        assert_eq!(
            sql(check, MySql),
            ["ALTER TABLE `t` ADD CONSTRAINT `ck_t_c` CHECK (c <> '')"]
        );
        let drop_check = "op = \"drop_check\"\ntable = \"t\"\nname = \"ck_t_c\"";
        assert_eq!(
            sql(drop_check, Postgres),
            [r#"ALTER TABLE "t" DROP CONSTRAINT "ck_t_c""#]
        );
        let drop_index = "op = \"drop_index\"\ntable = \"t\"\nname = \"ix\"";
        assert_eq!(sql(drop_index, MySql), ["DROP INDEX `ix` ON `t`"]);
        assert_eq!(sql(drop_index, Postgres), [r#"DROP INDEX "ix""#]);
        let rename = "op = \"rename_column\"\ntable = \"t\"\ncolumn = \"a\"\nto = \"b\"";
        assert_eq!(
            sql(rename, MySql),
            ["ALTER TABLE `t` RENAME COLUMN `a` TO `b`"]
        );
        let raw = "op = \"sql\"\nsql = [\"A\"]\nmysql = [\"B\", \"C\"]";
        assert_eq!(sql(raw, Sqlite), ["A"]);
        assert_eq!(sql(raw, MySql), ["B", "C"]);
        let create = r#"op = "create_table"
table = "t"
columns = [{ name = "id", type = "bigint", primary_key = true }]"#;
        assert_eq!(
            sql(create, Postgres),
            [
                r#"CREATE TABLE "t" ("id" BIGINT GENERATED BY DEFAULT AS IDENTITY, CONSTRAINT "pk_t" PRIMARY KEY ("id"))"#
            ]
        );
    }

    #[test]
    fn a_misspelt_type_is_named_with_the_types() {
        let op: Op = toml::from_str(
            "op = \"add_column\"\ntable = \"t\"\ncolumn = { name = \"c\", type = \"varchar\" }",
        )
        .unwrap();
        let e = statements(&op, Sqlite, None).unwrap_err().to_string();
        assert!(
            e.contains("column `c` has the unknown type `varchar`; the types are bool"),
            "{e}"
        );
    }
}
