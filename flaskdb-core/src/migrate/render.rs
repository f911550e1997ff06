//! A migration's operations as the statements of one backend.

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::migrate::op::{ColumnSpec, Op, table_of};
use crate::schema::table::column_index_name;
use crate::schema::{ColumnDef, Table};
use crate::sql::{ColumnKind, column_sql, create_table, idents};

/// The table whose present shape `op` needs on `backend`: SQLite alters a column by
/// rebuilding its table, which takes every other column, key and index as they are.
pub(crate) fn rebuilt_table(op: &Op, backend: Backend) -> Option<&str> {
    match op {
        Op::AlterColumn { table, .. } if backend == Backend::Sqlite => Some(table),
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
        } => create_table(&table_of(table, columns, foreign_keys)?, backend, false)?,
        Op::DropTable { table } => vec![format!("DROP TABLE {}", q(table)?)],
        Op::RenameTable { table, to } => {
            vec![format!("ALTER TABLE {} RENAME TO {}", q(table)?, q(to)?)]
        }
        Op::AddColumn { table, column } => {
            // SQLite cannot add a UNIQUE column; a unique index after it does the same.
            let separate_unique = backend == Backend::Sqlite && column.unique && !column.index;
            let mut spec = column.clone();
            spec.unique &= !separate_unique;
            spec.index = false;
            let kind = if column.unique || column.index {
                ColumnKind::InKey
            } else {
                ColumnKind::Plain
            };
            let mut sql = format!("ALTER TABLE {} ADD COLUMN ", q(table)?);
            column_sql(&spec.to_column()?, kind, backend, &mut sql)?;
            let mut out = vec![sql];
            let own_index = if column.index {
                Some((column_index_name(table, &column.name), column.unique))
            } else if separate_unique {
                Some((format!("uq_{table}_{}", column.name), true))
            } else {
                None
            };
            if let Some((name, unique)) = own_index {
                out.push(format!(
                    "CREATE {}INDEX {} ON {} ({})",
                    if unique { "UNIQUE " } else { "" },
                    q(&name)?,
                    q(table)?,
                    q(&column.name)?
                ));
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
                    rebuild(current, from, to)?
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
        } => {
            let unique = if *unique { "UNIQUE " } else { "" };
            let mut sql = format!("CREATE {unique}INDEX {} ON {} (", q(name)?, q(table)?);
            idents(columns, backend, &mut sql)?;
            sql.push(')');
            vec![sql]
        }
        Op::DropIndex { table, name } => vec![match backend {
            Backend::MySql => format!("DROP INDEX {} ON {}", q(name)?, q(table)?),
            _ => format!("DROP INDEX {}", q(name)?),
        }],
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

/// SQLite's rebuild of `current` with column `from` become `to`: a new table under a
/// passing name, the rows copied, the old table dropped, the new one renamed, and the
/// indexes made again (they could not exist twice under their names).
fn rebuild(current: &Table, from: &ColumnSpec, to: &ColumnSpec) -> Result<Vec<String>> {
    let backend = Backend::Sqlite;
    let name = current.name();
    if current.column_named(&from.name).is_none() {
        return Err(Error::Migration(format!(
            "`{name}` has no column `{}` to alter",
            from.name
        )));
    }
    let passing = format!("_flaskdb_rebuild_{name}");
    let renamed = |column: &str| {
        if column == from.name {
            to.name.clone()
        } else {
            column.to_owned()
        }
    };
    let mut new = Table::new(&passing);
    let (mut into, mut select) = (Vec::new(), Vec::new());
    for column in current.columns() {
        let def: ColumnDef = if column.name() == from.name {
            let mut def = to.to_column()?;
            if column.is_primary_key() {
                def = def.primary_key();
            }
            if column.is_indexed() {
                // Its own index is made again below, with its uniqueness.
                def = def.index();
            }
            def
        } else {
            column.clone()
        };
        into.push(quoted(def.name(), backend)?);
        select.push(quoted(column.name(), backend)?);
        new = new.column(def.without_index());
    }
    for fk in current.foreign_keys() {
        let mut fk = fk.clone();
        fk.columns = fk.columns.iter().map(|c| renamed(c)).collect();
        new = new.composite_foreign_key(fk);
    }
    let mut out = create_table(&new, backend, false)?;
    out.truncate(1);
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
    for index in current.indexes() {
        let columns: Vec<String> = index.columns.iter().map(|c| renamed(c)).collect();
        let unique = if index.unique { "UNIQUE " } else { "" };
        let mut sql = format!(
            "CREATE {unique}INDEX {} ON {} (",
            quoted(&index.name, backend)?,
            quoted(name, backend)?
        );
        idents(&columns, backend, &mut sql)?;
        sql.push(')');
        out.push(sql);
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
        assert_eq!(
            sql(add, Postgres),
            [r#"ALTER TABLE "t" ADD COLUMN "c" VARCHAR(8) DEFAULT 'x' NOT NULL UNIQUE"#]
        );
        assert_eq!(
            sql(add, Sqlite),
            [
                r#"ALTER TABLE "t" ADD COLUMN "c" VARCHAR(8) DEFAULT 'x' NOT NULL"#,
                r#"CREATE UNIQUE INDEX "uq_t_c" ON "t" ("c")"#
            ]
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
                r#"CREATE TABLE "t" ("id" BIGINT GENERATED BY DEFAULT AS IDENTITY, PRIMARY KEY ("id"))"#
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
