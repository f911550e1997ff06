//! Bad configuration: malformed URLs, unknown schemes, unreachable servers and
//! malformed `FLASKDB_BINDS` give clear errors that name what is wrong and never show
//! a password.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use flaskdb::{Config, Db, EngineOptions, Error};

const SECRET: &str = "pa55w0rd";

async fn connect_error(url: &str) -> Error {
    let options = EngineOptions::default().acquire_timeout(Duration::from_secs(2));
    Db::connect(Config::new(url).engine_options(options))
        .await
        .expect_err(url)
}

#[tokio::test]
async fn bad_urls_are_clear_errors_without_the_password() {
    let cases = [
        // (url, text the error must contain)
        (
            format!("oracle://scott:{SECRET}@db/x"),
            "unsupported database URL",
        ),
        (
            format!("postgres://u:{SECRET}@[::1/db"),
            "invalid database URL",
        ),
        (
            format!("mysql://u:{SECRET}@host:notaport/db"),
            "invalid database URL",
        ),
        (
            format!("postgres://u:{SECRET}@127.0.0.1:1/db"),
            "cannot connect",
        ),
        (
            format!("mysql://u:{SECRET}@127.0.0.1:1/db"),
            "cannot connect",
        ),
        (
            format!("postgres://u@127.0.0.1:1/db?password={SECRET}"),
            "cannot connect",
        ),
        (
            "sqlite:///nonexistent-dir/for/sure/app.db".to_owned(),
            "cannot connect",
        ),
        (String::new(), "unsupported database URL"),
        ("sqlite".to_owned(), "unsupported database URL"),
    ];
    for (url, expected) in cases {
        let e = connect_error(&url).await;
        let shown = format!("{e} / {e:?}");
        assert!(!shown.contains(SECRET), "{url}: {shown}");
        assert!(shown.contains(expected), "{url}: {shown}");
    }
}

/// A password full of URL syntax, `p@ss:w/rd%40`: as it is, and percent-encoded.
const SPECIAL: [&str; 2] = ["p@ss:w/rd%40", "p%40ss%3Aw%2Frd%2540"];

/// Pieces of that password, none of which may show in an error.
const PIECES: [&str; 6] = ["p@ss", "ss:w", "w/rd", "rd%40", "%40ss", "%2Frd"];

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_refused_connection_fails_at_once_naming_the_server() {
    let port = closed_port();
    let server = format!("127.0.0.1:{port}");
    // The pool alone would retry a refused connection for the whole acquire timeout
    // and then report only that it timed out.
    let acquire_timeout = Duration::from_secs(30);
    let options = EngineOptions::default().acquire_timeout(acquire_timeout);
    for scheme in ["postgres", "mysql", "mariadb"] {
        let url = format!("{scheme}://app:{}@{server}/app", SPECIAL[1]);
        let started = Instant::now();
        let e = Db::connect(Config::new(url.clone()).engine_options(options.clone()))
            .await
            .expect_err(&url);
        assert!(started.elapsed() < acquire_timeout, "{url}: {e}");
        let shown = format!("{e} / {e:?}");
        assert!(
            matches!(&e, Error::Connect { server: Some(s), .. } if *s == server),
            "{shown}"
        );
        assert!(
            e.to_string().to_lowercase().contains("connection refused")
                && e.to_string().contains(&server),
            "{shown}"
        );
        // Unencoded, the password makes the URL invalid: still it is not shown.
        let raw = connect_error(&format!("{scheme}://app:{}@{server}/app", SPECIAL[0])).await;
        for e in [e, raw] {
            let shown = format!("{e} / {e:?}");
            assert!(!PIECES.iter().any(|p| shown.contains(p)), "{shown}");
        }
    }
}

#[test]
fn flaskdb_binds_syntax_errors_name_the_entry() {
    let binds = |value: &'static str| {
        move |key: &str| match key {
            "DATABASE_URL" => Some("sqlite::memory:".to_owned()),
            "FLASKDB_BINDS" => Some(value.to_owned()),
            _ => None,
        }
    };
    let ok = Config::from_lookup(binds("users = sqlite::memory: ; logs=sqlite::memory:;")).unwrap();
    assert_eq!(ok.binds().len(), 2);
    for (value, entry) in [
        (
            "users=sqlite::memory:;broken;logs=sqlite::memory:",
            "`broken`",
        ),
        ("=sqlite::memory:", "`=sqlite::memory:`"),
        ("users=", "`users=`"),
        ("postgres://u:pa55w0rd@h/db", "`postgres://u:***@h/db`"),
    ] {
        let e = Config::from_lookup(binds(value)).unwrap_err();
        let shown = e.to_string();
        assert!(matches!(e, Error::Config(_)), "{shown}");
        assert!(
            shown.contains("FLASKDB_BINDS") && shown.contains(entry),
            "{value}: {shown}"
        );
        assert!(!shown.contains(SECRET), "{shown}");
    }
    let e = Config::from_lookup(|k: &str| (k == "FLASKDB_ECHO").then(|| "maybe".to_owned()))
        .unwrap_err();
    assert!(e.to_string().contains("FLASKDB_ECHO"), "{e}");
}

#[tokio::test]
async fn sqlite_files_use_wal_unless_the_url_says_otherwise() {
    let dir = std::env::temp_dir();
    let pid = std::process::id();
    for (query, expected) in [
        ("", "wal"),
        ("?journal_mode=delete", "delete"),
        ("?journal_mode=wal&busy_timeout=250", "wal"),
    ] {
        let path = dir.join(format!(
            "flaskdb-journal-{pid}-{expected}-{}.db",
            query.len()
        ));
        let url = format!("sqlite://{}{query}", path.display());
        let db = Db::connect(Config::new(url.clone())).await.unwrap();
        let rows = db.fetch_all("PRAGMA journal_mode", vec![]).await.unwrap();
        assert_eq!(rows[0].get_at::<String>(0).unwrap(), expected, "{url}");
        drop(db);
        for suffix in ["", "-wal", "-shm"] {
            std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
        }
    }
    let e = connect_error("sqlite://app.db?journal_mode=sideways").await;
    assert!(e.to_string().contains("journal_mode=sideways"), "{e}");
}
