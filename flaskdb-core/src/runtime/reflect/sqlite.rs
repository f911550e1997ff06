//! SQLite's catalog: `sqlite_master` and the table-valued pragmas.

use super::{Catalog, KeyKind, KeyPart, RawColumn, fetch, on_delete};
use crate::driver::executor::Conn;
use crate::error::Result;

pub(super) async fn catalog(conn: &mut Conn<'_>) -> Result<Catalog> {
    let mut catalog = Catalog::default();
    let relations = "SELECT name, type = 'view' AS is_view FROM sqlite_master \
                     WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";
    for row in fetch(conn, relations).await? {
        catalog
            .relations
            .push((row.get::<String>("name")?, row.get::<bool>("is_view")?));
    }
    let columns = "SELECT m.name AS tbl, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, \
                   (SELECT COUNT(*) FROM pragma_table_info(m.name) k WHERE k.pk > 0) AS pk_size \
                   FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                   WHERE m.type IN ('table', 'view') ORDER BY m.name, p.cid";
    let mut primary = Vec::new();
    for row in fetch(conn, columns).await? {
        let table = row.get::<String>("tbl")?;
        let name = row.get::<String>("name")?;
        let declared = row.get::<String>("type")?;
        let pk = row.get::<i64>("pk")?;
        // A single INTEGER primary key is the rowid: SQLite numbers it.
        let generated =
            pk == 1 && row.get::<i64>("pk_size")? == 1 && declared.eq_ignore_ascii_case("integer");
        if pk > 0 {
            primary.push((table.clone(), pk, name.clone()));
        }
        catalog.columns.push(RawColumn {
            table,
            name,
            declared,
            nullable: row.get::<i64>("notnull")? == 0 && pk == 0,
            default: row.get("dflt_value")?,
            generated,
        });
    }
    primary.sort();
    for (table, _, column) in primary {
        catalog.keys.push(KeyPart {
            table,
            name: "primary".into(),
            kind: KeyKind::Primary,
            column,
            ref_column: None,
        });
    }
    let indexes = "SELECT m.name AS tbl, il.name AS idx, il.\"unique\", il.origin, ii.name AS col \
                   FROM sqlite_master m JOIN pragma_index_list(m.name) il \
                   JOIN pragma_index_info(il.name) ii \
                   WHERE m.type = 'table' AND il.origin <> 'pk' ORDER BY m.name, il.name, ii.seqno";
    for row in fetch(conn, indexes).await? {
        let unique = row.get::<bool>("unique")?;
        catalog.keys.push(KeyPart {
            table: row.get("tbl")?,
            name: row.get("idx")?,
            kind: match row.get::<String>("origin")?.as_str() {
                "u" => KeyKind::Unique,
                _ => KeyKind::Index { unique },
            },
            column: row.get("col")?,
            ref_column: None,
        });
    }
    // SQLite numbers foreign keys from the last declared: read them in declaration order.
    let foreign = "SELECT m.name AS tbl, f.id, f.\"table\" AS ref_table, f.\"from\", f.\"to\", \
                   f.on_delete FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
                   WHERE m.type = 'table' ORDER BY m.name, f.id DESC, f.seq";
    for row in fetch(conn, foreign).await? {
        catalog.keys.push(KeyPart {
            table: row.get("tbl")?,
            name: format!("fk{}", row.get::<i64>("id")?),
            kind: KeyKind::Foreign {
                ref_table: row.get("ref_table")?,
                on_delete: on_delete(&row.get::<String>("on_delete")?),
            },
            column: row.get("from")?,
            ref_column: row.get("to")?,
        });
    }
    Ok(catalog)
}
