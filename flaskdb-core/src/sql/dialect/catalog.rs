//! Declared types and DEFAULT clauses as each catalog prints them, read back into
//! flaskdb's terms: the reverse of the DDL types in the parent module.

use crate::backend::Backend;
use crate::value::Value;
use crate::value::sql_type::SqlType;

/// The portable type and text length of a type as `backend` declares it (`varchar(80)`
/// is `(Text, Some(80))`). A type flaskdb has no column type for reads as `Text`, with
/// its declaration kept on the column.
///
/// SQLite stores every integer in 64 bits whatever the declaration, so its integer
/// types are `BigInt` (but `SMALLINT`, which flaskdb writes for `i16`); other
/// declarations follow SQLite's affinity rules.
pub(crate) fn parse_type(backend: Backend, declared: &str) -> (SqlType, Option<u32>) {
    let lower = declared.trim().to_ascii_lowercase();
    let (base, args) = match lower.split_once('(') {
        Some((base, rest)) => (base.trim(), rest.split(')').next().unwrap_or_default()),
        None => (lower.as_str(), ""),
    };
    let length = args.split(',').next().and_then(|n| n.trim().parse().ok());
    let text = |n: Option<u32>| (SqlType::Text, n);
    match backend {
        Backend::Sqlite => match base {
            "smallint" | "int2" => (SqlType::SmallInt, None),
            "boolean" | "bool" => (SqlType::Bool, None),
            "date" => (SqlType::Date, None),
            "datetime" | "timestamp" => (SqlType::DateTime, None),
            "varchar" | "character varying" | "char" | "character" | "nvarchar" | "nchar" => {
                text(length)
            }
            "decimal" | "numeric" => (SqlType::Decimal, None),
            b if b.contains("int") => (SqlType::BigInt, None),
            b if b.contains("char") || b.contains("clob") || b.contains("text") => text(None),
            b if b.is_empty() || b.contains("blob") => (SqlType::Blob, None),
            b if b.contains("real") || b.contains("floa") || b.contains("doub") => {
                (SqlType::Double, None)
            }
            _ => (SqlType::Decimal, None),
        },
        Backend::Postgres => match base {
            "smallint" => (SqlType::SmallInt, None),
            "integer" => (SqlType::Integer, None),
            "bigint" => (SqlType::BigInt, None),
            "boolean" => (SqlType::Bool, None),
            "real" => (SqlType::Real, None),
            "double precision" => (SqlType::Double, None),
            // The catalog's words, and the ones flaskdb's DDL writes.
            "character varying" | "character" | "varchar" | "char" => text(length),
            "bytea" => (SqlType::Blob, None),
            "date" => (SqlType::Date, None),
            "uuid" => (SqlType::Uuid, None),
            "json" | "jsonb" => (SqlType::Json, None),
            "numeric" => (SqlType::Decimal, None),
            b if b == "timestamptz"
                || b.starts_with("timestamp") && lower.ends_with("with time zone") =>
            {
                (SqlType::Timestamp, None)
            }
            b if b.starts_with("timestamp") => (SqlType::DateTime, None),
            _ => text(None),
        },
        Backend::MySql => {
            let unsigned = lower.contains("unsigned");
            match base {
                "tinyint" if length == Some(1) => (SqlType::Bool, None),
                "bool" | "boolean" => (SqlType::Bool, None),
                "tinyint" | "smallint" if !unsigned => (SqlType::SmallInt, None),
                "tinyint" | "smallint" | "mediumint" => (SqlType::Integer, None),
                "int" | "integer" if !unsigned => (SqlType::Integer, None),
                "int" | "integer" | "bigint" => (SqlType::BigInt, None),
                "float" => (SqlType::Real, None),
                "double" | "real" => (SqlType::Double, None),
                "decimal" | "numeric" => (SqlType::Decimal, None),
                "varchar" | "char" => text(length),
                "binary" if length == Some(16) => (SqlType::Uuid, None),
                "binary" | "varbinary" => (SqlType::Blob, length),
                "tinyblob" | "blob" | "mediumblob" | "longblob" => (SqlType::Blob, None),
                "date" => (SqlType::Date, None),
                "datetime" => (SqlType::DateTime, None),
                "timestamp" => (SqlType::Timestamp, None),
                "json" => (SqlType::Json, None),
                _ => text(None),
            }
        }
    }
}

/// A column's DEFAULT clause, read back.
#[derive(Debug, PartialEq)]
pub(crate) enum Default {
    /// `DEFAULT NULL`: no default.
    Null,
    /// A literal of the column's type: what a builder fills in.
    Value(Value),
    /// Anything else (`CURRENT_TIMESTAMP`, `now()`): kept as SQL.
    Sql(String),
}

/// Reads a DEFAULT clause as the catalog prints it: literals become values of the
/// column's type (PostgreSQL's `'x'::text` casts and parentheses dropped), everything
/// else stays SQL.
pub(crate) fn parse_default(backend: Backend, text: &str, sql_type: SqlType) -> Default {
    let sql = || Default::Sql(text.trim().to_owned());
    let mut t = text.trim();
    while let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        t = inner.trim();
    }
    if t.eq_ignore_ascii_case("null") || t.to_ascii_lowercase().starts_with("null::") {
        return Default::Null;
    }
    let (literal, quoted) = match quoted_literal(backend, t).or_else(|| hex_text(t)) {
        Some(s) => (s, true),
        None => (t.to_owned(), false),
    };
    let value = match sql_type {
        SqlType::Text if quoted => Some(Value::Text(literal)),
        SqlType::Bool => match literal.to_ascii_lowercase().as_str() {
            "1" | "true" => Some(Value::Bool(true)),
            "0" | "false" => Some(Value::Bool(false)),
            _ => None,
        },
        SqlType::SmallInt => literal.parse().ok().map(Value::I16),
        SqlType::Integer => literal.parse().ok().map(Value::I32),
        SqlType::BigInt => literal.parse().ok().map(Value::I64),
        SqlType::Real => literal.parse().ok().map(Value::F32),
        SqlType::Double => literal.parse().ok().map(Value::F64),
        _ if quoted => Value::from_text(sql_type, &literal),
        _ => None,
    };
    value.map_or_else(sql, Default::Value)
}

/// The text of a hex literal (`X'6869'`, as MySQL declares a text default holding a
/// backslash or quote) that is UTF-8; `None` when `t` is not one.
fn hex_text(t: &str) -> Option<String> {
    let hex = t
        .strip_prefix("_utf8mb4")
        .unwrap_or(t)
        .trim_start()
        .strip_prefix(['X', 'x'])?
        .strip_prefix('\'')?
        .strip_suffix('\'')?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// The text of a quoted literal (`'it''s'`, with PostgreSQL's `::type` cast after it),
/// or `None` when `t` is not one.
fn quoted_literal(backend: Backend, t: &str) -> Option<String> {
    let rest = t.strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    loop {
        match chars.next()? {
            '\'' => {
                let after = chars.as_str();
                if let Some(more) = after.strip_prefix('\'') {
                    out.push('\'');
                    chars = more.chars();
                } else if after.is_empty() || after.starts_with("::") {
                    return Some(out);
                } else {
                    return None;
                }
            }
            '\\' if backend == Backend::MySql => out.push(chars.next()?),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_read_back() {
        let pg = |d| parse_type(Backend::Postgres, d);
        assert_eq!(pg("character varying(80)"), (SqlType::Text, Some(80)));
        assert_eq!(
            pg("timestamp(3) with time zone"),
            (SqlType::Timestamp, None)
        );
        assert_eq!(pg("timestamp without time zone"), (SqlType::DateTime, None));
        assert_eq!(pg("inet"), (SqlType::Text, None));
        let my = |d| parse_type(Backend::MySql, d);
        assert_eq!(my("tinyint(1)"), (SqlType::Bool, None));
        assert_eq!(my("int(11)"), (SqlType::Integer, None));
        assert_eq!(my("int(10) unsigned"), (SqlType::BigInt, None));
        assert_eq!(my("binary(16)"), (SqlType::Uuid, None));
        assert_eq!(my("varbinary(40)"), (SqlType::Blob, Some(40)));
        assert_eq!(my("decimal(38,10)"), (SqlType::Decimal, None));
        let lite = |d| parse_type(Backend::Sqlite, d);
        assert_eq!(lite("INTEGER"), (SqlType::BigInt, None));
        assert_eq!(lite("VARCHAR(12)"), (SqlType::Text, Some(12)));
        assert_eq!(lite(""), (SqlType::Blob, None));
        assert_eq!(lite("FLOAT"), (SqlType::Double, None));
    }

    #[test]
    fn defaults_read_back() {
        let d = |b, t, ty| parse_default(b, t, ty);
        assert_eq!(
            d(
                Backend::Postgres,
                "'it''s'::character varying",
                SqlType::Text
            ),
            Default::Value(Value::Text("it's".into()))
        );
        assert_eq!(
            d(Backend::Postgres, "'-5'::integer", SqlType::Integer),
            Default::Value(Value::I32(-5))
        );
        assert_eq!(
            d(Backend::Sqlite, "(-5)", SqlType::BigInt),
            Default::Value(Value::I64(-5))
        );
        assert_eq!(
            d(Backend::MySql, "1", SqlType::Bool),
            Default::Value(Value::Bool(true))
        );
        assert_eq!(
            d(Backend::MySql, r"'a\\b'", SqlType::Text),
            Default::Value(Value::Text(r"a\b".into()))
        );
        assert_eq!(d(Backend::MySql, "NULL", SqlType::Text), Default::Null);
        assert_eq!(
            d(Backend::Postgres, "now()", SqlType::Timestamp),
            Default::Sql("now()".into())
        );
        assert_eq!(
            d(Backend::Sqlite, "'a' || 'b'", SqlType::Text),
            Default::Sql("'a' || 'b'".into())
        );
    }
}
