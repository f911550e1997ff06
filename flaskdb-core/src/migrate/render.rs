//! A migration's operations as the statements of one backend.

use crate::backend::Backend;
use crate::error::Result;
use crate::migrate::op::{Op, table_of};
use crate::sql::{ColumnKind, column_sql, create_table, idents};

/// The statements that carry out `op` on `backend`, in order.
///
/// # Errors
/// [`Error::Migration`](crate::Error::Migration) for a column type or ON DELETE the
/// file misspells; [`Error::InvalidIdentifier`](crate::Error::InvalidIdentifier) for a
/// name holding a NUL.
pub(crate) fn statements(op: &Op, backend: Backend) -> Result<Vec<String>> {
    let q = |name: &str| -> Result<String> {
        let mut out = String::new();
        backend.quote_ident(name, &mut out)?;
        Ok(out)
    };
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
            let separate_unique = backend == Backend::Sqlite && column.unique;
            let mut spec = column.clone();
            spec.unique &= !separate_unique;
            let kind = if column.unique {
                ColumnKind::InKey
            } else {
                ColumnKind::Plain
            };
            let mut sql = format!("ALTER TABLE {} ADD COLUMN ", q(table)?);
            column_sql(&spec.to_column()?, kind, backend, &mut sql)?;
            let mut out = vec![sql];
            if separate_unique {
                out.push(format!(
                    "CREATE UNIQUE INDEX {} ON {} ({})",
                    q(&format!("uq_{table}_{}", column.name))?,
                    q(table)?,
                    q(&column.name)?
                ));
            }
            out
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

#[cfg(test)]
mod tests {
    use super::statements;
    use crate::backend::Backend::{self, MySql, Postgres, Sqlite};
    use crate::migrate::op::Op;

    fn sql(toml: &str, backend: Backend) -> Vec<String> {
        let op: Op = toml::from_str(toml).unwrap();
        statements(&op, backend).unwrap()
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
        let e = statements(&op, Sqlite).unwrap_err().to_string();
        assert!(
            e.contains("column `c` has the unknown type `varchar`; the types are bool"),
            "{e}"
        );
    }
}
