//! TLS to the database servers (feature `tls-rustls`, or `tls-native-tls`).
//!
//! Against the servers `scripts/tls-servers.sh start` runs (`FLASKDB_TEST_POSTGRES_TLS_URL`,
//! `FLASKDB_TEST_MYSQL_TLS_URL`: `verify-full` / `VERIFY_IDENTITY` URLs naming the CA):
//! a session writes and reads over each `sslmode` / `ssl-mode` that encrypts, and the
//! server confirms that the connection is encrypted; a CA that did not sign the server's
//! certificate is refused. Against servers without TLS, `require` / `REQUIRED` is
//! refused: the PostgreSQL cluster the script starts with `ssl = off`
//! (`FLASKDB_TEST_POSTGRES_NO_TLS_URL`; Debian's own cluster has TLS on) and CI's MariaDB
//! (`FLASKDB_TEST_MYSQL_URL`). Without a variable its tests are reported as ignored, with
//! a notice naming it.

#![allow(clippy::unwrap_used, missing_docs)]

use std::process::ExitCode;

use flaskdb::{AssertSqlSafe, Backend, Config, Db, Error};
use flaskdb_tests::models::User;
use flaskdb_tests::scratch_database;
use libtest_mimic::{Arguments, Failed, Trial};

/// A CA certificate that signed nothing: as `sslrootcert` / `ssl-ca`, no server's
/// certificate verifies.
const OTHER_CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tls/other-ca.pem");

/// How one backend asks for TLS in its URL.
struct Server {
    backend: Backend,
    /// The variable naming the TLS server (a URL that verifies it).
    tls_var: &'static str,
    /// The variable naming a server without TLS.
    plain_var: &'static str,
    /// The URL parameter of the TLS mode, and of the CA certificate.
    mode_key: &'static str,
    ca_key: &'static str,
    /// The modes that encrypt, each tried against the TLS server, strictest first.
    modes: &'static [&'static str],
    /// The mode that encrypts without verifying the certificate.
    require: &'static str,
}

const SERVERS: [Server; 2] = [
    Server {
        backend: Backend::Postgres,
        tls_var: "FLASKDB_TEST_POSTGRES_TLS_URL",
        plain_var: "FLASKDB_TEST_POSTGRES_NO_TLS_URL",
        mode_key: "sslmode",
        ca_key: "sslrootcert",
        modes: &["verify-full", "verify-ca", "require"],
        require: "require",
    },
    Server {
        backend: Backend::MySql,
        tls_var: "FLASKDB_TEST_MYSQL_TLS_URL",
        plain_var: "FLASKDB_TEST_MYSQL_URL",
        mode_key: "ssl-mode",
        ca_key: "ssl-ca",
        modes: &["VERIFY_IDENTITY", "VERIFY_CA", "REQUIRED"],
        require: "REQUIRED",
    },
];

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for server in &SERVERS {
        let area = server.backend.feature();
        for var in [server.tls_var, server.plain_var] {
            if std::env::var(var).is_err() {
                println!(
                    "note: the {area} TLS tests that need {var} are skipped because it is not \
                     set (scripts/tls-servers.sh start prints the URLs; .ci/run sets them)"
                );
            }
        }
        let tls = std::env::var(server.tls_var).ok();
        for &mode in server.modes {
            // The DNS name of the certificate, as well as its IP address.
            let hosts: &[&str] = match mode {
                "verify-full" | "VERIFY_IDENTITY" => &["127.0.0.1", "localhost"],
                _ => &["127.0.0.1"],
            };
            for &host in hosts {
                let url = tls.as_deref().map(|url| {
                    with_param(url, server.mode_key, mode).replacen(
                        "@127.0.0.1:",
                        &format!("@{host}:"),
                        1,
                    )
                });
                let name = format!("{area}::a_session_is_encrypted_with::{mode}::{host}");
                let backend = server.backend;
                trials.push(trial(name, url, move |url| session_over_tls(backend, url)));
            }
        }
        let url = tls.as_deref().map(|url| {
            with_param(
                &with_param(url, server.ca_key, OTHER_CA),
                server.mode_key,
                server.modes[0],
            )
        });
        trials.push(trial(
            format!("{area}::a_certificate_another_ca_signed_is_refused"),
            url,
            |url| refused(url, "certificate"),
        ));
        // The server refuses TLS before it asks for a password: any password will do
        // to show that it stays hidden.
        let url = std::env::var(server.plain_var).ok().map(|url| {
            with_param(
                &with_password(&url, "Pa55-never-shown"),
                server.mode_key,
                server.require,
            )
        });
        trials.push(trial(
            format!(
                "{area}::{}_is_refused_by_a_server_without_tls",
                server.require
            ),
            url,
            |url| refused(url, "server does not support TLS"),
        ));
    }
    libtest_mimic::run(&args, trials).exit_code()
}

/// A trial of `test` on `url`, ignored when its variable is not set.
fn trial<F, Fut>(name: String, url: Option<String>, test: F) -> Trial
where
    F: FnOnce(String) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let ignored = url.is_none();
    Trial::test(name, move || {
        let url = url.ok_or("no server URL")?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failed::from(format!("runtime: {e}")))?;
        runtime
            .block_on(test(url))
            .map_err(|e| Failed::from(format!("{e:#}")))
    })
    .with_ignored_flag(ignored)
}

/// Creates a table, writes a row through a session and reads it back, in a scratch
/// database on the server at `url`; then asks the server whether the connection is
/// encrypted.
async fn session_over_tls(backend: Backend, url: String) -> anyhow::Result<()> {
    let (url, scratch) = scratch_database(backend, Some(&url)).await?;
    let outcome = async {
        let db = Db::connect(Config::new(url)).await?;
        db.create_all().await?;
        let mut session = db.session();
        session.add(User::build().username("tls").email("tls@example.com"));
        session.commit().await?;
        let read = db
            .query::<User>()
            .filter(User::username.eq("tls"))
            .one()
            .await?;
        anyhow::ensure!(read.email == "tls@example.com", "read back {read:?}");
        let cipher = match backend {
            Backend::Postgres => {
                let rows = db
                    .fetch_all(
                        "SELECT ssl, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                        vec![],
                    )
                    .await?;
                let row = rows
                    .first()
                    .ok_or_else(|| anyhow::anyhow!("no pg_stat_ssl row"))?;
                anyhow::ensure!(row.get::<bool>("ssl")?, "pg_stat_ssl: not encrypted");
                row.get::<Option<String>>("cipher")?.unwrap_or_default()
            }
            _ => {
                let rows = db
                    .fetch_all("SHOW STATUS LIKE 'Ssl_cipher'", vec![])
                    .await?;
                let row = rows
                    .first()
                    .ok_or_else(|| anyhow::anyhow!("no Ssl_cipher"))?;
                row.get::<String>("Value")?
            }
        };
        anyhow::ensure!(
            !cipher.is_empty(),
            "the connection has no cipher: not encrypted"
        );
        Ok(())
    }
    .await;
    if let Some((admin, drop)) = scratch {
        admin.execute(AssertSqlSafe(drop), vec![]).await?;
    }
    outcome
}

/// Connecting to `url` fails with [`Error::Connect`], whose message says `expected` and
/// does not show the password. (sqlx reports a refused TLS upgrade as `Error::Tls`, and
/// a certificate that does not verify as the handshake's `Error::Io`.)
async fn refused(url: String, expected: &str) -> anyhow::Result<()> {
    let e = match Db::connect(Config::new(url.as_str())).await {
        Ok(_) => anyhow::bail!("connected to {}", flaskdb::redact_url(&url)),
        Err(e) => e,
    };
    let shown = format!("{e} / {e:?}");
    anyhow::ensure!(
        matches!(&e, Error::Connect { .. }),
        "not a connection error: {shown}"
    );
    anyhow::ensure!(shown.contains(expected), "`{expected}` not in: {shown}");
    if let Some(password) = password(&url) {
        anyhow::ensure!(!shown.contains(password), "the password shows in: {e}");
    }
    println!("{e}");
    Ok(())
}

/// `url` with the query parameter `key` set to `value`.
fn with_param(url: &str, key: &str, value: &str) -> String {
    let (head, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(key))
        .map(str::to_owned)
        .collect();
    pairs.push(format!("{key}={value}"));
    format!("{head}?{}", pairs.join("&"))
}

/// The password of `url`'s user info, if it has one.
fn password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let (user_info, _) = rest.rsplit_once('@')?;
    user_info.split_once(':').map(|(_, password)| password)
}

/// `url` with `password` in its user info, unless it has one already.
fn with_password(url: &str, password: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) if self::password(url).is_none() => match rest.split_once('@') {
            Some((user, host)) => format!("{scheme}://{user}:{password}@{host}"),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}
