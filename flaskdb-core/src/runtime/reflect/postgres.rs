//! PostgreSQL's catalog (`pg_catalog`), for the tables of the current schema.

use super::{Catalog, KeyKind, KeyPart, RawColumn, fetch, on_delete};
use crate::driver::executor::Conn;
use crate::error::Result;

const IN_SCHEMA: &str = "n.nspname = current_schema()";

pub(super) async fn catalog(conn: &mut Conn<'_>) -> Result<Catalog> {
    let mut catalog = Catalog::default();
    let relations = format!(
        "SELECT c.relname::text AS name, c.relkind IN ('v', 'm') AS is_view \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {IN_SCHEMA} AND c.relkind IN ('r', 'p', 'v', 'm')"
    );
    for row in fetch(conn, &relations).await? {
        catalog
            .relations
            .push((row.get("name")?, row.get("is_view")?));
    }
    let columns = format!(
        "SELECT c.relname::text AS tbl, a.attname::text AS name, \
         format_type(a.atttypid, a.atttypmod) AS declared, NOT a.attnotnull AS nullable, \
         pg_get_expr(d.adbin, d.adrelid) AS dflt, a.attidentity::text AS identity \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE {IN_SCHEMA} AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 \
         AND NOT a.attisdropped ORDER BY c.relname, a.attnum"
    );
    for row in fetch(conn, &columns).await? {
        let default: Option<String> = row.get("dflt")?;
        // An identity column, or a serial one (its default draws from a sequence).
        let generated = !row.get::<String>("identity")?.is_empty()
            || default
                .as_deref()
                .is_some_and(|d| d.starts_with("nextval("));
        catalog.columns.push(RawColumn {
            table: row.get("tbl")?,
            name: row.get("name")?,
            declared: row.get("declared")?,
            nullable: row.get("nullable")?,
            default,
            generated,
        });
    }
    let constraints = format!(
        "SELECT c.relname::text AS tbl, con.conname::text AS name, con.contype::text AS kind, \
         a.attname::text AS col, r.relname::text AS ref_table, ra.attname::text AS ref_col, \
         con.confdeltype::text AS on_delete \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, i) \
         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
         LEFT JOIN pg_class r ON r.oid = con.confrelid \
         LEFT JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[k.i::int] \
         WHERE {IN_SCHEMA} AND con.contype IN ('p', 'u', 'f') \
         ORDER BY c.relname, con.conname, k.i"
    );
    for row in fetch(conn, &constraints).await? {
        let kind = match row.get::<String>("kind")?.as_str() {
            "p" => KeyKind::Primary,
            "u" => KeyKind::Unique,
            _ => KeyKind::Foreign {
                ref_table: row.get("ref_table")?,
                on_delete: match row.get::<String>("on_delete")?.as_str() {
                    "c" => on_delete("CASCADE"),
                    "n" => on_delete("SET NULL"),
                    "d" => on_delete("SET DEFAULT"),
                    "r" => on_delete("RESTRICT"),
                    _ => None,
                },
            },
        };
        catalog.keys.push(KeyPart {
            table: row.get("tbl")?,
            name: row.get("name")?,
            kind,
            column: row.get("col")?,
            ref_column: row.get("ref_col")?,
        });
    }
    // Indexes of their own: not a constraint's, and on columns (not expressions).
    let indexes = format!(
        "SELECT t.relname::text AS tbl, i.relname::text AS name, ix.indisunique AS is_unique, \
         a.attname::text AS col \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, i) \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE {IN_SCHEMA} AND NOT EXISTS \
         (SELECT 1 FROM pg_constraint con WHERE con.contype IN ('p', 'u', 'x') \
         AND con.conindid = ix.indexrelid) \
         ORDER BY t.relname, i.relname, k.i"
    );
    for row in fetch(conn, &indexes).await? {
        catalog.keys.push(KeyPart {
            table: row.get("tbl")?,
            name: row.get("name")?,
            kind: KeyKind::Index {
                unique: row.get("is_unique")?,
            },
            column: row.get("col")?,
            ref_column: None,
        });
    }
    // CHECK constraints of the table (not a domain's), their condition as PostgreSQL
    // prints it.
    let checks = format!(
        "SELECT t.relname::text AS tbl, con.conname::text AS name,          pg_get_expr(con.conbin, con.conrelid) AS cond          FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid          JOIN pg_namespace n ON n.oid = t.relnamespace          WHERE {IN_SCHEMA} AND con.contype = 'c' ORDER BY t.relname, con.conname"
    );
    for row in fetch(conn, &checks).await? {
        catalog
            .checks
            .push((row.get("tbl")?, row.get("name")?, row.get("cond")?));
    }
    Ok(catalog)
}
