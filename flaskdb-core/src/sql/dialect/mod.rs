//! Everything that differs between SQLite, PostgreSQL and MySQL/MariaDB in SQL text.
//!
//! No other module matches on the backend to write SQL: the renderer asks these hooks.

pub(crate) mod catalog;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::schema::{ColumnDef, Table};
use crate::sql::expr::CastTo;
use crate::value::Value;
use crate::value::sql_type::SqlType;

impl Backend {
    /// Writes `name` as a quoted identifier (`"name"`, or `` `name` `` on MySQL), doubling
    /// any quote character inside it, so any string names exactly one identifier.
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] for a name holding a NUL, which no backend takes in
    /// an identifier (nothing is written then).
    pub(crate) fn quote_ident(self, name: &str, out: &mut String) -> Result<()> {
        if name.contains('\0') {
            return Err(Error::InvalidIdentifier {
                name: name.to_owned(),
            });
        }
        let q = match self {
            Backend::MySql => '`',
            Backend::Sqlite | Backend::Postgres => '"',
        };
        out.push(q);
        for c in name.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        Ok(())
    }

    /// Whether placeholders carry their position (`$1`), rather than all being `?`.
    pub(crate) fn numbers_placeholders(self) -> bool {
        matches!(self, Backend::Postgres)
    }

    /// Writes the placeholder of the `n`-th (1-based) parameter.
    pub(crate) fn placeholder(self, n: usize, out: &mut String) {
        match self {
            Backend::Postgres => {
                out.push('$');
                out.push_str(itoa::Buffer::new().format(n));
            }
            Backend::Sqlite | Backend::MySql => out.push('?'),
        }
    }

    /// The DDL type of a column. `in_key` says the column is part of a key or index, which
    /// MySQL cannot build on unbounded TEXT/BLOB: there such a column becomes VARCHAR(255).
    pub(crate) fn column_type(self, column: &ColumnDef, in_key: bool) -> String {
        if let Some(ddl) = column.ddl_type() {
            return match self {
                Backend::Sqlite => ddl.sqlite,
                Backend::Postgres => ddl.postgres,
                Backend::MySql => ddl.mysql,
            }
            .into();
        }
        let len = column.length();
        match (self, column.sql_type()) {
            (_, SqlType::Bool) => "BOOLEAN".into(),
            (_, SqlType::SmallInt) => "SMALLINT".into(),
            (Backend::MySql, SqlType::Integer) => "INT".into(),
            (_, SqlType::Integer) => "INTEGER".into(),
            (_, SqlType::BigInt) => "BIGINT".into(),
            (Backend::MySql, SqlType::Real) => "FLOAT".into(),
            (_, SqlType::Real) => "REAL".into(),
            (Backend::Sqlite, SqlType::Double) => "REAL".into(),
            (Backend::Postgres, SqlType::Double) => "DOUBLE PRECISION".into(),
            (Backend::MySql, SqlType::Double) => "DOUBLE".into(),
            (_, SqlType::Text) => match (self, len) {
                (_, Some(n)) => format!("VARCHAR({n})"),
                (Backend::MySql, None) if in_key => "VARCHAR(255)".into(),
                (Backend::MySql, None) => "LONGTEXT".into(),
                (_, None) => "TEXT".into(),
            },
            (Backend::Postgres, SqlType::Blob) => "BYTEA".into(),
            (Backend::MySql, SqlType::Blob) => match (len, in_key) {
                (Some(n), _) => format!("VARBINARY({n})"),
                (None, true) => "VARBINARY(255)".into(),
                (None, false) => "LONGBLOB".into(),
            },
            (Backend::Sqlite, SqlType::Blob) => "BLOB".into(),
            (_, SqlType::Date) => "DATE".into(),
            (Backend::Sqlite, SqlType::DateTime | SqlType::Timestamp) => "DATETIME".into(),
            (Backend::Postgres, SqlType::DateTime) => "TIMESTAMP".into(),
            (Backend::Postgres, SqlType::Timestamp) => "TIMESTAMPTZ".into(),
            (Backend::MySql, SqlType::DateTime | SqlType::Timestamp) => "DATETIME(6)".into(),
            (Backend::Sqlite, SqlType::Uuid) => "BLOB".into(),
            (Backend::Postgres, SqlType::Uuid) => "UUID".into(),
            (Backend::MySql, SqlType::Uuid) => "BINARY(16)".into(),
            (Backend::Sqlite, SqlType::Json) => "TEXT".into(),
            (Backend::Postgres, SqlType::Json) => "JSONB".into(),
            (Backend::MySql, SqlType::Json) => "JSON".into(),
            (Backend::Sqlite, SqlType::Decimal) => "TEXT".into(),
            (Backend::Postgres, SqlType::Decimal) => "NUMERIC".into(),
            (Backend::MySql, SqlType::Decimal) => "DECIMAL(38, 10)".into(),
        }
    }

    /// The type and clause of the autoincrementing column.
    ///
    /// SQLite numbers an `INTEGER PRIMARY KEY` itself (the rowid), so the type must be
    /// exactly `INTEGER` there; PostgreSQL uses an identity column; MySQL `AUTO_INCREMENT`.
    pub(crate) fn autoincrement_column(self, column: &ColumnDef) -> String {
        match self {
            Backend::Sqlite => "INTEGER NOT NULL".into(),
            Backend::Postgres => format!(
                "{} GENERATED BY DEFAULT AS IDENTITY",
                self.column_type(column, true)
            ),
            Backend::MySql => format!("{} NOT NULL AUTO_INCREMENT", self.column_type(column, true)),
        }
    }

    /// Whether indexes are declared inside `CREATE TABLE` (MySQL has no
    /// `CREATE INDEX IF NOT EXISTS`, so an inline index keeps `create_all` idempotent).
    pub(crate) fn inline_indexes(self) -> bool {
        matches!(self, Backend::MySql)
    }

    /// Whether `ILIKE` exists; elsewhere it is written `LOWER(a) LIKE LOWER(b)`.
    pub(crate) fn native_ilike(self) -> bool {
        matches!(self, Backend::Postgres)
    }

    /// Writes a string literal for DDL (which cannot take parameters) that reads the same
    /// in every string mode of the server: quotes doubled, and a backslash never left for
    /// the server to read as an escape or not. On PostgreSQL a text with a backslash is
    /// an `E''` string with the backslashes doubled, which reads the same whether
    /// `standard_conforming_strings` is on or off (a plain string reads backslashes as
    /// escapes when it is off). On MySQL a text with a backslash is a hex literal of its
    /// UTF-8 bytes (`X'5C'`): a string reads backslashes as escapes unless `sql_mode` has
    /// `NO_BACKSLASH_ESCAPES`, and MariaDB 10.11 drops the backslash of an
    /// `_utf8mb4 X'..'` default of a TEXT column. SQLite has no escapes.
    pub(crate) fn text_literal(self, s: &str, out: &mut String) {
        let backslash = s.contains('\\');
        if backslash && self == Backend::MySql {
            self.bytes_literal(s.as_bytes(), out);
            return;
        }
        let escape_string = backslash && self == Backend::Postgres;
        if escape_string {
            out.push('E');
        }
        out.push('\'');
        for c in s.chars() {
            match c {
                '\'' => out.push_str("''"),
                '\\' if escape_string => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
        out.push('\'');
    }

    /// Writes a bytes literal for DDL.
    pub(crate) fn bytes_literal(self, bytes: &[u8], out: &mut String) {
        let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        match self {
            // An `E''` string, so the backslash reads the same in every string mode.
            Backend::Postgres => out.push_str(&format!("E'\\\\x{hex}'")),
            Backend::Sqlite | Backend::MySql => out.push_str(&format!("X'{hex}'")),
        }
    }

    /// How a boolean literal is written in DDL defaults.
    pub(crate) fn bool_literal(self, v: bool) -> &'static str {
        match (self, v) {
            (Backend::Postgres, true) => "TRUE",
            (Backend::Postgres, false) => "FALSE",
            (_, true) => "1",
            (_, false) => "0",
        }
    }
}

impl Backend {
    /// The LIMIT that means "no limit", for an OFFSET without one: SQLite and MySQL
    /// accept OFFSET only after a LIMIT.
    pub(crate) fn limit_for_offset_only(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => Some(" LIMIT -1"),
            Backend::MySql => Some(" LIMIT 18446744073709551615"),
            Backend::Postgres => None,
        }
    }

    /// An INSERT's tail when every column takes its default.
    pub(crate) fn default_values(self) -> &'static str {
        match self {
            Backend::MySql => " () VALUES ()",
            Backend::Sqlite | Backend::Postgres => " DEFAULT VALUES",
        }
    }

    /// The statement that begins a transaction. With `lock` (a `FOR UPDATE` query
    /// begins it), SQLite, which has no row locks, takes its write lock at once
    /// (`BEGIN IMMEDIATE`): a transaction that reads a row to update it then cannot lose
    /// the race for the lock to another writer after its read.
    pub(crate) fn begin_sql(self, lock: bool) -> &'static str {
        match self {
            Backend::Sqlite if lock => "BEGIN IMMEDIATE",
            _ => "BEGIN",
        }
    }

    /// Whether `SELECT .. FOR UPDATE` exists (SQLite locks the whole database on write
    /// instead, so the clause is left out there).
    pub(crate) fn supports_for_update(self) -> bool {
        !matches!(self, Backend::Sqlite)
    }
}

impl Backend {
    /// The most bound parameters one statement may carry (SQLite's default
    /// `SQLITE_MAX_VARIABLE_NUMBER`; the 16-bit count of the PostgreSQL and MySQL
    /// protocols).
    pub(crate) fn max_params(self) -> usize {
        match self {
            Backend::Sqlite => 32_766,
            Backend::Postgres | Backend::MySql => 65_535,
        }
    }

    /// [`Error::TooManyParameters`] when a statement binding `count` values is more than
    /// this backend takes: checked before sending, where the drivers would fail with a
    /// protocol error (PostgreSQL) or the database with a message naming no limit.
    pub(crate) fn check_param_count(self, count: usize) -> Result<()> {
        let limit = self.max_params();
        match count > limit {
            true => Err(Error::TooManyParameters {
                count,
                limit,
                backend: self,
            }),
            false => Ok(()),
        }
    }

    /// The element type when an IN list of `values` is bound as one array parameter
    /// (`x = ANY($1)`, `x <> ALL($1)`): on PostgreSQL, when every value is of one type,
    /// so any number of values takes one parameter and every list one statement text.
    /// Elsewhere, and for a list of mixed types, each value is a parameter of its own.
    pub(crate) fn in_list_array(self, values: &[Value]) -> Option<SqlType> {
        let first = values.first()?.sql_type();
        let alike = values
            .iter()
            .all(|v| v.sql_type() == first && !matches!(v, Value::Array(..)));
        (self == Backend::Postgres && alike).then_some(first)
    }

    /// How many keys of `width` columns one eager-loading statement carries (it binds
    /// nothing else): every key when they go as one array (one column on PostgreSQL),
    /// else as many as the parameter limit allows. A composite key is an OR of
    /// equalities, which SQLite nests one level deeper per key (it allows 1,000 levels):
    /// at most 500 of those go in one statement.
    pub(crate) fn keys_per_statement(self, width: usize) -> usize {
        match width {
            0 | 1 if self == Backend::Postgres => usize::MAX,
            0 | 1 => self.max_params(),
            n => (self.max_params() / n).clamp(1, 500),
        }
    }
}

impl Backend {
    /// Whether the keys of a multi-row INSERT are better read from the last-insert id
    /// than with `RETURNING`: on SQLite each returned row costs a trip from sqlx's
    /// worker thread, and SQLite numbers one statement's rows consecutively, in the
    /// order of its VALUES: each new rowid is one more than the largest in the table,
    /// and only one statement writes at a time (<https://www.sqlite.org/autoinc.html>).
    /// The exceptions are a table whose largest rowid has reached `i64::MAX` (SQLite
    /// then picks unused rowids at random) and a trigger that inserts into the same
    /// table; neither is supported.
    ///
    /// MariaDB returns its keys with `RETURNING` instead: the last-insert id plus the
    /// row's position is wrong once `auto_increment_increment` is above 1, as Galera
    /// and multi-primary replication set it.
    pub(crate) fn keys_from_last_insert_id(self) -> bool {
        matches!(self, Backend::Sqlite)
    }

    /// The query that reads the step between the keys of one statement's rows, where
    /// the connection sets it: MySQL's `auto_increment_increment` (its
    /// `auto_increment_offset` only places the first key, which the last-insert id
    /// reports). SQLite's step is always 1; PostgreSQL returns its keys.
    pub(crate) fn key_step_sql(self) -> Option<&'static str> {
        match self {
            Backend::MySql => Some("SELECT CAST(@@auto_increment_increment AS SIGNED)"),
            Backend::Sqlite | Backend::Postgres => None,
        }
    }

    /// The generated key of row `n` (0-based) of a multi-row INSERT of `rows` rows, from
    /// the last-insert id the database reports and the `step` between keys: MySQL
    /// reports the first row's key and numbers the rest `step` apart (a multi-row
    /// VALUES is a "simple insert", given consecutive values in every
    /// `innodb_autoinc_lock_mode`:
    /// <https://dev.mysql.com/doc/refman/8.0/en/innodb-auto-increment-handling.html>);
    /// SQLite reports the last row's key and numbers them consecutively.
    pub(crate) fn generated_key(
        self,
        last_insert_id: i64,
        n: usize,
        rows: usize,
        step: i64,
    ) -> Option<i64> {
        let n = i64::try_from(n).ok()?;
        match self {
            Backend::Sqlite => {
                let rows = i64::try_from(rows).ok()?;
                last_insert_id.checked_sub(rows - 1 - n)
            }
            Backend::MySql | Backend::Postgres => last_insert_id.checked_add(n.checked_mul(step)?),
        }
    }

    /// Whether an INSERT whose generated keys are matched to its rows by their order
    /// takes its rows through `SELECT .. ORDER BY` rather than from `VALUES`.
    ///
    /// A session sorts the rows an INSERT returns by their generated key, and gives the
    /// smallest key to the first row sent, and so on: the rows may come back in any
    /// order (neither PostgreSQL nor SQLite documents one; SQLite's documentation says
    /// it is arbitrary: <https://www.sqlite.org/lang_returning.html>), but the keys are
    /// drawn in the order the rows are inserted in. PostgreSQL guarantees that order
    /// only for `INSERT .. SELECT .. ORDER BY`, whose defaults (`nextval`) are computed
    /// as the sorted rows come out (Tom Lane on pgsql-general,
    /// <https://www.postgresql.org/message-id/29386.1528813619@sss.pgh.pa.us>; SQLAlchemy
    /// 2.0's "insertmanyvalues" relies on the same form). MariaDB's InnoDB numbers the
    /// rows of a VALUES list in their order, and SQLite inserts them one after another
    /// (see `keys_from_last_insert_id`), so plain VALUES suffices there.
    pub(crate) fn orders_keys_by_select(self) -> bool {
        matches!(self, Backend::Postgres)
    }
}

impl Backend {
    /// The type an aggregate is cast to so that it decodes the same everywhere:
    /// PostgreSQL sums BIGINTs to NUMERIC and averages to NUMERIC, MySQL both to
    /// DECIMAL; SQLite already returns INTEGER and REAL.
    pub(crate) fn cast_type(self, to: CastTo) -> Option<&'static str> {
        match (self, to) {
            (Backend::Sqlite, _) => None,
            (Backend::Postgres, CastTo::BigInt) => Some("BIGINT"),
            (Backend::Postgres, CastTo::Double) => Some("DOUBLE PRECISION"),
            (Backend::MySql, CastTo::BigInt) => Some("SIGNED"),
            (Backend::MySql, CastTo::Double) => Some("DOUBLE"),
        }
    }
}

impl Backend {
    /// [`Error::InvalidValue`] naming the column when `value` cannot be stored in it as
    /// it is (see `unstorable`).
    ///
    /// Why a value cannot be stored, if it cannot: a text longer
    /// than the column's `max_length` (SQLite would keep it whole, the servers reject or
    /// cut it), NaN where the database has none (SQLite turns it into NULL, MySQL
    /// rejects it), or an infinity on MySQL.
    pub(crate) fn check_value(
        self,
        table: &Table,
        column: &ColumnDef,
        value: &Value,
    ) -> Result<()> {
        match self.unstorable(column, value) {
            None => Ok(()),
            Some(reason) => Err(Error::InvalidValue {
                table: table.name().to_owned(),
                column: column.name().to_owned(),
                reason,
            }),
        }
    }

    /// Whether `check_value` can reject a value of `column` on some backend: a text
    /// column with a length, or a float column. Checks skip every other column.
    pub(crate) fn may_reject(column: &ColumnDef) -> bool {
        column.length().is_some() || matches!(column.sql_type(), SqlType::Real | SqlType::Double)
    }

    fn unstorable(self, column: &ColumnDef, value: &Value) -> Option<String> {
        let float = match value {
            Value::Text(s) => {
                let max = column.length()? as usize;
                // A text has no more characters than bytes: count only a long one.
                if s.len() <= max {
                    return None;
                }
                let len = s.chars().count();
                return (len > max)
                    .then(|| format!("{len} characters is longer than its max_length of {max}"));
            }
            Value::F32(f) => f64::from(*f),
            Value::F64(f) => *f,
            _ => return None,
        };
        match self {
            Backend::Sqlite if float.is_nan() => Some("NaN cannot be stored on SQLite".into()),
            Backend::MySql if float.is_nan() => Some("NaN cannot be stored on MySQL".into()),
            Backend::MySql if float.is_infinite() => {
                Some(format!("{float} cannot be stored on MySQL"))
            }
            _ => None,
        }
    }
}

/// Any identifier, quoted as each dialect quotes it, names exactly that identifier:
/// SQLite reads both quoting styles, so it parses the quoted names back.
#[cfg(all(test, feature = "sqlite"))]
mod quoting {
    use super::Backend;
    use proptest::prelude::*;
    use sqlx::{Connection, Row};

    fn names_round_trip(name: &str) -> Result<(), TestCaseError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        rt.block_on(async {
            let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            for backend in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
                let mut table = String::new();
                backend
                    .quote_ident(name, &mut table)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let mut column = String::new();
                backend
                    .quote_ident(&format!("{name}_c"), &mut column)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let sql = format!("CREATE TABLE {table} ({column} INTEGER)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| TestCaseError::fail(format!("{sql}: {e}")))?;
                let row = sqlx::query(
                    "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p",
                )
                .fetch_one(&mut conn)
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(row.get::<String, _>("t"), name);
                prop_assert_eq!(row.get::<String, _>("c"), format!("{name}_c"));
                let drop = format!("DROP TABLE {table}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            Ok(())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Names built from the characters that matter (both quotes, backticks,
        /// brackets, separators, comments, spaces, non-ASCII) and any other
        /// character but NUL, which SQL identifiers cannot hold.
        #[test]
        fn quoted_identifiers_name_themselves(
            name in proptest::collection::vec(
                prop_oneof![
                    3 => prop::sample::select(vec!['"', '`', '\'', '[', ']', ';', '-', '/', '*', ' ', '\\', 'é', '🦀']),
                    2 => any::<char>().prop_filter("no NUL", |c| *c != '\0'),
                ],
                1..24,
            ).prop_map(|cs| cs.into_iter().collect::<String>())
        ) {
            names_round_trip(&name)?;
        }
    }
}

/// DDL literals that read the same in every string mode of the server.
#[cfg(test)]
mod literals {
    use super::Backend;

    fn text(backend: Backend, s: &str) -> String {
        let mut out = String::new();
        backend.text_literal(s, &mut out);
        out
    }

    /// On PostgreSQL a plain `'a\''` is one string with standard_conforming_strings on
    /// and an unterminated one (the rest of the statement its text) with it off; an
    /// `E''` string with doubled backslashes reads `a\'b` in both.
    #[test]
    fn backslashes_are_never_left_to_the_string_mode() {
        assert_eq!(text(Backend::Postgres, "it's"), "'it''s'");
        assert_eq!(text(Backend::Postgres, r"a\'b"), r"E'a\\''b'");
        assert_eq!(text(Backend::Sqlite, r"a\'b"), r"'a\''b'");
        assert_eq!(text(Backend::MySql, "it's"), "'it''s'");
        // A backslash in a MySQL string is an escape or not by `sql_mode`: hex instead.
        assert_eq!(text(Backend::MySql, r"a\'b"), "X'615C2762'");
        let mut bytes = String::new();
        Backend::Postgres.bytes_literal(b"AB", &mut bytes);
        assert_eq!(bytes, r"E'\\x4142'");
    }
}
