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
    // SQLite keeps no catalog of CHECK constraints: the named ones are read from each
    // table's CREATE statement.
    let sql = "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL";
    for row in fetch(conn, sql).await? {
        let table: String = row.get("name")?;
        for (name, cond) in named_checks(&row.get::<String>("sql")?) {
            catalog.checks.push((table.clone(), name, cond));
        }
    }
    Ok(catalog)
}

/// The named CHECK constraints of a CREATE TABLE statement: each
/// `CONSTRAINT <name> CHECK (<condition>)`, its name unquoted, its condition as
/// written. Quoted names and string literals are read whole, so a keyword or a
/// parenthesis inside one is not taken for SQL.
fn named_checks(create: &str) -> Vec<(String, String)> {
    let spans = tokens(create);
    let text = |k: usize| spans.get(k).map_or("", |&(a, b)| &create[a..b]);
    let mut out = Vec::new();
    for i in 0..spans.len() {
        let opens = text(i).eq_ignore_ascii_case("CONSTRAINT")
            && text(i + 2).eq_ignore_ascii_case("CHECK")
            && text(i + 3) == "(";
        if !opens {
            continue;
        }
        let mut depth = 0usize;
        for k in i + 3..spans.len() {
            match text(k) {
                "(" => depth += 1,
                ")" => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                let condition = create[spans[i + 3].1..spans[k].0].trim().to_owned();
                out.push((unquoted(text(i + 1)), condition));
                break;
            }
        }
    }
    out
}

/// Where `sql`'s tokens are, as byte ranges: a quoted name or literal whole (a doubled
/// quote inside it included), a parenthesis or comma alone, a run of other characters
/// up to a space or one of those.
fn tokens(sql: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut chars = sql.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let mut end = start + c.len_utf8();
        match c {
            c if c.is_whitespace() => continue,
            '"' | '\'' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                while let Some((i, d)) = chars.next() {
                    end = i + d.len_utf8();
                    if d == close {
                        if close != ']' && chars.peek().is_some_and(|&(_, e)| e == close) {
                            chars.next();
                            continue;
                        }
                        break;
                    }
                }
            }
            '(' | ')' | ',' => {}
            _ => {
                while let Some(&(i, d)) = chars.peek() {
                    if d.is_whitespace() || "()\"'`[,".contains(d) {
                        break;
                    }
                    end = i + d.len_utf8();
                    chars.next();
                }
            }
        }
        out.push((start, end));
    }
    out
}

/// A name without its quotes (`"a""b"` is `a"b`).
fn unquoted(name: &str) -> String {
    let quote = name.chars().next().filter(|q| "\"'`".contains(*q));
    match quote {
        Some(q) if name.len() > 1 && name.ends_with(q) => {
            name[1..name.len() - 1].replace(&format!("{q}{q}"), &q.to_string())
        }
        _ if name.starts_with('[') && name.ends_with(']') => name[1..name.len() - 1].to_owned(),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::named_checks;

    #[test]
    fn named_checks_are_read_from_the_create_statement() {
        let create = r#"CREATE TABLE "t" ("a" INT CHECK (a > 0), "b" TEXT, CONSTRAINT "pk_t" PRIMARY KEY ("a"), CONSTRAINT "ck_t_b ""x""" CHECK ((b IN ('(', 'CONSTRAINT c CHECK (')) AND (length(b) > 1)), constraint [ck_t_c] check(a<>2))"#;
        assert_eq!(
            named_checks(create),
            [
                (
                    r#"ck_t_b "x""#.to_owned(),
                    "(b IN ('(', 'CONSTRAINT c CHECK (')) AND (length(b) > 1)".to_owned()
                ),
                ("ck_t_c".to_owned(), "a<>2".to_owned()),
            ]
        );
    }
}
