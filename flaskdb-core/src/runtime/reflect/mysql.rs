//! MySQL's and MariaDB's catalog (`information_schema`), for the current database.

use super::{Catalog, KeyKind, KeyPart, RawColumn, fetch, on_delete};
use crate::driver::executor::Conn;
use crate::error::Result;
use crate::schema::convention;

pub(super) async fn catalog(conn: &mut Conn<'_>) -> Result<Catalog> {
    let mut catalog = Catalog::default();
    let relations = "SELECT CAST(TABLE_NAME AS CHAR) AS name, TABLE_TYPE = 'VIEW' AS is_view \
                     FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()";
    for row in fetch(conn, relations).await? {
        catalog
            .relations
            .push((row.get("name")?, row.get::<i64>("is_view")? != 0));
    }
    // MariaDB prints a literal default as SQL (`'text'`, `NULL`); MySQL prints the bare
    // value, and marks an expression with DEFAULT_GENERATED.
    let version = fetch(conn, "SELECT CAST(VERSION() AS CHAR) AS v").await?;
    let mariadb = match version.first() {
        Some(row) => row.get::<String>("v")?.contains("MariaDB"),
        None => true,
    };
    // MariaDB's JSON is LONGTEXT with a `json_valid` check named after the column (MySQL
    // has a JSON type of its own, and no TABLE_NAME in this view).
    let mut json_columns: Vec<(String, String)> = Vec::new();
    if mariadb {
        let json = "SELECT CAST(TABLE_NAME AS CHAR) AS tbl, CAST(CONSTRAINT_NAME AS CHAR) AS col \
                    FROM information_schema.CHECK_CONSTRAINTS \
                    WHERE CONSTRAINT_SCHEMA = DATABASE() AND CHECK_CLAUSE LIKE 'json\\_valid(%'";
        for row in fetch(conn, json).await? {
            json_columns.push((row.get("tbl")?, row.get("col")?));
        }
    }
    let columns = "SELECT CAST(TABLE_NAME AS CHAR) AS tbl, CAST(COLUMN_NAME AS CHAR) AS name, \
                   CAST(COLUMN_TYPE AS CHAR) AS declared, IS_NULLABLE = 'YES' AS nullable, \
                   CAST(COLUMN_DEFAULT AS CHAR) AS dflt, CAST(EXTRA AS CHAR) AS extra \
                   FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
                   ORDER BY TABLE_NAME, ORDINAL_POSITION";
    for row in fetch(conn, columns).await? {
        let table: String = row.get("tbl")?;
        let name: String = row.get("name")?;
        let mut declared: String = row.get("declared")?;
        if json_columns.iter().any(|(t, c)| *t == table && *c == name) {
            declared = "json".into();
        }
        let extra = row.get::<String>("extra")?.to_ascii_lowercase();
        let default: Option<String> = row.get("dflt")?;
        let default = match default {
            Some(value) if !mariadb && !extra.contains("default_generated") => Some(format!(
                "'{}'",
                value.replace('\\', "\\\\").replace('\'', "''")
            )),
            other => other,
        };
        catalog.columns.push(RawColumn {
            generated: extra.contains("auto_increment"),
            table,
            name,
            declared,
            nullable: row.get::<i64>("nullable")? != 0,
            default,
        });
    }
    let foreign = "SELECT CAST(k.TABLE_NAME AS CHAR) AS tbl, \
                   CAST(k.CONSTRAINT_NAME AS CHAR) AS name, CAST(k.COLUMN_NAME AS CHAR) AS col, \
                   CAST(k.REFERENCED_TABLE_NAME AS CHAR) AS ref_table, \
                   CAST(k.REFERENCED_COLUMN_NAME AS CHAR) AS ref_col, \
                   CAST(r.DELETE_RULE AS CHAR) AS on_delete \
                   FROM information_schema.KEY_COLUMN_USAGE k \
                   JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
                   ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA \
                   AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
                   WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
                   ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION";
    let mut foreign_keys = Vec::new();
    for row in fetch(conn, foreign).await? {
        let rule: String = row.get("on_delete")?;
        foreign_keys.push(KeyPart {
            table: row.get("tbl")?,
            name: row.get("name")?,
            kind: KeyKind::Foreign {
                ref_table: row.get("ref_table")?,
                // InnoDB's RESTRICT is its NO ACTION, the default.
                on_delete: on_delete(&rule).filter(|_| rule != "RESTRICT"),
            },
            column: row.get("col")?,
            ref_column: row.get("ref_col")?,
        });
    }
    // Every key is an index here: PRIMARY, the unique ones (a UNIQUE constraint is a
    // unique index), and the ones InnoDB adds for a foreign key, which are skipped.
    let indexes = "SELECT CAST(TABLE_NAME AS CHAR) AS tbl, CAST(INDEX_NAME AS CHAR) AS name, \
                   CAST(NON_UNIQUE AS SIGNED) AS non_unique, CAST(COLUMN_NAME AS CHAR) AS col \
                   FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
                   AND COLUMN_NAME IS NOT NULL ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";
    let mut index_parts = Vec::new();
    for row in fetch(conn, indexes).await? {
        let name: String = row.get("name")?;
        let unique = row.get::<i64>("non_unique")? == 0;
        index_parts.push(KeyPart {
            table: row.get("tbl")?,
            kind: match (name.as_str(), unique) {
                ("PRIMARY", _) => KeyKind::Primary,
                _ => KeyKind::Index { unique },
            },
            name,
            column: row.get("col")?,
            ref_column: None,
        });
    }
    let foreign_index = |part: &KeyPart| {
        part.kind == (KeyKind::Index { unique: false })
            && foreign_keys.iter().any(|fk| {
                fk.table == part.table && (fk.name == part.name || fk.column == part.name)
            })
    };
    index_parts.retain(|part| !foreign_index(part));
    // A unique index on one column that is not flaskdb's `ix_` index is the column's
    // UNIQUE constraint (MySQL makes one of the other).
    let sizes: Vec<usize> = index_parts
        .iter()
        .map(|p| {
            index_parts
                .iter()
                .filter(|q| q.table == p.table && q.name == p.name)
                .count()
        })
        .collect();
    for (part, size) in index_parts.iter_mut().zip(sizes) {
        if size == 1
            && part.kind == (KeyKind::Index { unique: true })
            && part.name != convention::index_name(&part.table, &[&part.column])
        {
            part.kind = KeyKind::Unique;
        }
    }
    catalog.keys.extend(index_parts);
    catalog.keys.extend(foreign_keys);
    // CHECK constraints of tables; MariaDB's column-level ones (its JSON type's
    // `json_valid`) belong to the column's type.
    let checks = "SELECT CAST(TABLE_NAME AS CHAR) AS tbl, CAST(CONSTRAINT_NAME AS CHAR) AS name, \
                  CAST(CHECK_CLAUSE AS CHAR) AS cond FROM information_schema.CHECK_CONSTRAINTS \
                  WHERE CONSTRAINT_SCHEMA = DATABASE() AND LEVEL = 'Table' \
                  ORDER BY TABLE_NAME, CONSTRAINT_NAME";
    for row in fetch(conn, checks).await? {
        catalog
            .checks
            .push((row.get("tbl")?, row.get("name")?, row.get("cond")?));
    }
    Ok(catalog)
}
