//! The properties of the fuzz targets in `fuzz/`, one function per target, so that
//! libFuzzer (cargo-fuzz, nightly) and the property tests below (stable, in `cargo
//! test`) check exactly the same thing. Each panics when its property fails.

use std::borrow::Cow;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::schema::{ColumnDef, Table};
use crate::sql::expr::{CompareOp, Node};
use crate::sql::{self, Clauses, Projection, SelectStmt};
use crate::value::Value;
use crate::value::sql_type::SqlType;

/// Every backend, for the properties that try each.
const BACKENDS: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MySql];

/// `camel_to_snake_case` leaves no ASCII capital, and applying it again changes nothing.
pub fn camel_to_snake_case(name: &str) {
    let snake = crate::schema::naming::camel_to_snake_case(name);
    assert!(
        !snake.bytes().any(|b| b.is_ascii_uppercase()),
        "{name:?} -> {snake:?}"
    );
    assert_eq!(crate::schema::naming::camel_to_snake_case(&snake), snake);
}

/// `name` quoted as an identifier of each backend starts and ends with the quote, has
/// every inner quote doubled, and undoing that gives `name` back; a name holding a NUL
/// is refused with [`Error::InvalidIdentifier`] naming it, and nothing is written.
pub fn quote_ident(name: &str) {
    for backend in BACKENDS {
        let mut quoted = String::new();
        match backend.quote_ident(name, &mut quoted) {
            Ok(()) => assert!(!name.contains('\0'), "{name:?} was written"),
            Err(Error::InvalidIdentifier { name: refused }) => {
                assert_eq!(refused, name);
                assert!(name.contains('\0'), "{name:?} was refused");
                assert!(quoted.is_empty(), "{quoted:?} was written for {name:?}");
                continue;
            }
            Err(e) => panic!("{name:?}: {e}"),
        }
        let q = quoted.chars().next().expect("a quote");
        assert!(matches!(q, '"' | '`'));
        assert!(quoted.len() >= 2 && quoted.ends_with(q));
        let inner = &quoted[q.len_utf8()..quoted.len() - q.len_utf8()];
        // Inside, quotes come in pairs only: the name cannot end the identifier early.
        let undoubled = inner.replace(&format!("{q}{q}"), "");
        assert!(!undoubled.contains(q), "{quoted}");
        assert_eq!(inner.replace(&format!("{q}{q}"), &q.to_string()), name);
    }
}

/// A SELECT from `table` filtering `column` by `text` (equality, LIKE and a two-value
/// IN) binds the text, and only binds it: on each backend the statement's text is the
/// same as for an empty value, with the same parameters (five, LIKE's escape character
/// among them; four on PostgreSQL, which binds the IN list as one array). A table or
/// column name holding a NUL is refused with [`Error::InvalidIdentifier`] naming it
/// (the column, written first, when both do).
pub fn render_select(table: &str, column: &str, text: &str) {
    for backend in BACKENDS {
        let rendered = select_text(backend, table, column, text);
        if let Some(bad) = [column, table].into_iter().find(|n| n.contains('\0')) {
            match rendered {
                Err(Error::InvalidIdentifier { name }) => assert_eq!(name, bad),
                other => panic!("{bad:?} was not refused: {other:?}"),
            }
            continue;
        }
        let (sql, params) = rendered.expect("a valid statement");
        let (plain, plain_params) =
            select_text(backend, table, column, "").expect("a valid statement");
        let expected = if backend == Backend::Postgres { 4 } else { 5 };
        assert_eq!(params, expected, "{sql}");
        assert_eq!(params, plain_params);
        assert_eq!(sql, plain, "{text:?} changed the statement");
    }
}

fn select_text(backend: Backend, table: &str, column: &str, text: &str) -> Result<(String, usize)> {
    let table_def =
        Table::new(table.to_owned()).column(ColumnDef::new(column.to_owned(), SqlType::Text));
    let col = || Node::Column {
        table: Cow::Owned(table.to_owned()),
        name: Cow::Owned(column.to_owned()),
    };
    let value = || Box::new(Node::Value(Value::Text(text.to_owned())));
    let mut clauses = Clauses::default();
    clauses.and_filter(Node::Compare {
        op: CompareOp::Eq,
        left: Box::new(col()),
        right: value(),
    });
    clauses.and_filter(Node::Like {
        expr: Box::new(col()),
        pattern: value(),
        case_insensitive: true,
    });
    clauses.and_filter(Node::In {
        expr: Box::new(col()),
        values: vec![Value::Text(text.to_owned()); 2],
        negated: false,
    });
    let rendered = sql::select(
        &SelectStmt {
            table: &table_def,
            projection: Projection::AllColumns,
            clauses: &clauses,
            exprs: &[],
        },
        backend,
    )?;
    Ok((rendered.sql, rendered.params.len()))
}

/// The password every URL of [`config_from_env`]'s input gets.
#[cfg(feature = "sqlite")]
const SECRET: &str = "Sup3rS3cretPw";

/// `Config::from_lookup` over `DATABASE_URL = url`, `FLASKDB_BINDS = binds` and the
/// three flags set to `flag`, then `Db::connect` with the configuration it gives: no
/// panic, and no error or `Debug` output shows a password. Every `://` of the input
/// gets the user info `u:<secret>@`.
///
/// Nothing reaches the network or leaves a scratch directory: a configuration naming a
/// server, or a SQLite file outside the instance path (a path with a separator or
/// `..`), is only parsed, not connected.
#[cfg(feature = "sqlite")]
pub fn config_from_env(url: &str, binds: &str, flag: &str) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SCRATCH: AtomicU64 = AtomicU64::new(0);

    let with_secret = |text: &str| text.replace("://", &format!("://u:{SECRET}@"));
    let (url, binds) = (with_secret(url), with_secret(binds));
    let instance = std::env::temp_dir().join(format!(
        "flaskdb-fuzz-{}-{}",
        std::process::id(),
        SCRATCH.fetch_add(1, Ordering::Relaxed)
    ));
    let lookup = |key: &str| match key {
        "DATABASE_URL" => Some(url.clone()),
        "FLASKDB_BINDS" => Some(binds.clone()),
        "FLASKDB_ECHO" | "FLASKDB_RECORD_QUERIES" | "FLASKDB_TRACK_MODIFICATIONS" => {
            Some(flag.to_owned())
        }
        "FLASKDB_INSTANCE_PATH" => Some(instance.display().to_string()),
        _ => None,
    };
    let config = match crate::Config::from_lookup(lookup) {
        Ok(config) => config,
        Err(e) => return no_password(&e),
    };
    no_password(&config);
    let urls = config
        .database_uri()
        .into_iter()
        .chain(config.binds().iter().map(|(_, bind)| bind.url()));
    if !urls.clone().all(connects_offline) {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // The handle is dropped inside the runtime, whose tasks close its connections.
    runtime.block_on(async {
        match crate::Db::connect(config).await {
            Ok(db) => no_password(&db),
            Err(e) => no_password(&e),
        }
    });
    std::fs::remove_dir_all(&instance).ok();
}

/// Whether connecting `url` stays on this machine and inside the instance path: an
/// in-memory or relative SQLite URL, or one refused before any I/O.
#[cfg(feature = "sqlite")]
fn connects_offline(url: &str) -> bool {
    match Backend::from_url(url) {
        Ok(Backend::Sqlite) => {
            let rest = url.split_once(':').map_or("", |(_, rest)| rest);
            let path = rest.trim_start_matches("//").split('?').next();
            path.is_some_and(|p| !p.contains(['/', '\\']) && !p.contains(".."))
        }
        Ok(Backend::Postgres | Backend::MySql) => false,
        Err(_) => true,
    }
}

/// Asserts that neither the text nor the `Debug` of `shown` holds the secret password.
#[cfg(feature = "sqlite")]
fn no_password<T: std::fmt::Debug + ?Sized>(shown: &T) {
    let debug = format!("{shown:?}");
    assert!(!debug.contains(&format!(":{SECRET}@")), "{debug}");
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// Text made mostly of the characters that matter to names and SQL (quotes,
    /// separators, capitals, non-ASCII), and some of any character.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                3 => prop::sample::select(vec![
                    '"', '`', '\'', '[', ']', ';', '-', '/', '*', ' ', '\\', '_', 'A', 'Z',
                    'a', '0', 'é', 'Σ', '🦀', '\0',
                ]),
                1 => any::<char>(),
            ],
            0..24,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    /// URLs built from schemes (with and without their colon), paths and SQLite URL
    /// parameters, the valid and the broken, with some printable noise.
    fn url() -> impl Strategy<Value = String> {
        let scheme = prop_oneof![
            4 => prop::sample::select(vec!["sqlite:", "sqlite://", "sqlite:///", "SQLite:", "sqlite"]),
            1 => prop::sample::select(vec!["postgres://", "mysql://", "mariadb:", "oracle://", ":", ""]),
        ];
        let path = prop_oneof![
            3 => prop::sample::select(vec![
                "", ":memory:", "app.db", "a@b", "..", "dir/app.db", "%40", "é.db", "://",
            ])
            .prop_map(str::to_owned),
            1 => "[ -~]{0,6}",
        ];
        let parameter = prop::sample::select(vec![
            "mode=memory",
            "mode=ro",
            "mode=rw",
            "mode=rwc",
            "mode=",
            "cache=shared",
            "cache=private",
            "journal_mode=wal",
            "journal_mode=delete",
            "journal_mode=x",
            "busy_timeout=10",
            "busy_timeout=99999999999999999999",
            "password=x",
            "=",
            "x",
        ]);
        (scheme, path, proptest::collection::vec(parameter, 0..3)).prop_map(
            |(scheme, path, parameters)| match parameters.is_empty() {
                true => format!("{scheme}{path}"),
                false => format!("{scheme}{path}?{}", parameters.join("&")),
            },
        )
    }

    /// `FLASKDB_BINDS` values: `key=url` entries, or noise.
    fn binds() -> impl Strategy<Value = String> {
        let key = prop_oneof![6 => "[a-z]{1,2}", 1 => "=?"];
        let entries = proptest::collection::vec((key, url()), 0..3).prop_map(|binds| {
            let entries: Vec<String> = binds.iter().map(|(k, u)| format!("{k}={u}")).collect();
            entries.join(";")
        });
        prop_oneof![7 => entries, 1 => "[ -~]{0,12}"]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn camel_to_snake_case(name in text()) {
            super::camel_to_snake_case(&name);
        }

        #[test]
        fn quote_ident(name in text()) {
            super::quote_ident(&name);
        }

        #[test]
        fn render_select(table in text(), column in text(), value in text()) {
            super::render_select(&table, &column, &value);
        }
    }

    #[cfg(feature = "sqlite")]
    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn config_from_env(
            url in url(),
            binds in binds(),
            flag in prop::sample::select(vec!["", "", "1", "off", "YES", "true", "no", "maybe"]),
        ) {
            super::config_from_env(&url, &binds, flag);
        }
    }
}
