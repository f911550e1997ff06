//! Passwords never show: for arbitrary passwords (every printable character, URL
//! syntax, `%`-escapes, non-ASCII), as written in the URL and percent-decoded, no
//! `Display` or `Debug` of an error, `Config`, `BindConfig`, `Engine` or `Db`, and no
//! `tracing` output contains them.

#![allow(clippy::unwrap_used, missing_docs)]

use std::fmt::Write as _;
use std::time::Duration;

use flaskdb::{BindConfig, Config, Db, EngineOptions};
use flaskdb_tests::logs::capture;
use flaskdb_tests::passwords::{closed_port, encode, password, secrets};
use proptest::prelude::*;

/// Everything flaskdb shows of configurations and connections with `url`: `Debug` of
/// the configurations, and the error, the `Db` and the logs of connecting to it.
async fn shown(url: &str) -> String {
    let mut out = format!(
        "{:?}\n{:?}\n{:?}\n",
        Config::new(url),
        Config::without_default().bind_with("k", BindConfig::new(url)),
        BindConfig::new(url),
    );
    let options = EngineOptions::default()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(2));
    for config in [
        Config::new(url).echo(true),
        Config::without_default().bind("k", url).echo(true),
    ] {
        let db = Db::new();
        let (result, logs) = capture(
            tracing::Level::TRACE,
            db.init(config.engine_options(options.clone())),
        )
        .await;
        write!(out, "{logs}\n{db:?}\n").unwrap();
        match result {
            Ok(()) => {
                for (_, engine) in db.engines().unwrap() {
                    write!(out, "{engine:?}\n{}\n", engine.url()).unwrap();
                }
                // The default bind runs it; the bind-only configuration fails.
                let (result, logs) =
                    capture(tracing::Level::TRACE, db.execute("SELECT 1", vec![])).await;
                write!(out, "{logs}\n{result:?}\n").unwrap();
            }
            Err(e) => write!(out, "{e}\n{e:?}\n").unwrap(),
        }
    }
    out
}

/// The URLs a password goes into: servers on a closed port, a URL that does not parse,
/// an unknown scheme, the `password=` parameter, and (when the test server is set) the
/// PostgreSQL test server, which trusts loopback logins whatever the password.
fn urls(written: &str, port: u16) -> Vec<String> {
    let mut urls = vec![
        format!("postgres://app:{written}@127.0.0.1:{port}/x"),
        format!("mysql://app:{written}@127.0.0.1:{port}/x"),
        format!("postgresql://app:{written}@127.0.0.1:notaport/x"),
        format!("mariadb://app:{written}@[::1/x"),
        format!("oracle://app:{written}@db/x"),
        format!("a=postgres://app:{written}@h/x; b=mysql://app:{written}@h/y"),
    ];
    if written
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'%')
    {
        urls.push(format!(
            "postgres://app@127.0.0.1:{port}/x?password={written}"
        ));
    }
    if let Ok(server) = std::env::var("FLASKDB_TEST_POSTGRES_URL")
        && let Some((scheme, rest)) = server.split_once("://")
        && let Some((user, host)) = rest.split_once('@')
    {
        urls.push(format!("{scheme}://{user}:{written}@{host}"));
    }
    urls
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn passwords_never_show(password in password()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let port = closed_port();
        for written in [password.clone(), encode(&password)] {
            for url in urls(&written, port) {
                let text = runtime.block_on(shown(&url));
                for secret in &secrets(&written) {
                    prop_assert!(!text.contains(secret.as_str()), "{url}: `{secret}` in\n{text}");
                }
            }
        }
    }
}
