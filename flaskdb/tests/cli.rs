//! The `flaskdb` command: `reflect` on a SQLite file, its options and its errors.

#![allow(clippy::unwrap_used, missing_docs)]

use std::process::{Command, Output};

use flaskdb::{Config, Db};
use proptest::prelude::*;

#[allow(unreachable_pub)]
#[path = "../../tests/src/passwords.rs"]
mod passwords;

/// Runs the command with `args`, and `database_url` as `DATABASE_URL`.
fn flaskdb_with(args: &[&str], database_url: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flaskdb"));
    command.args(args).env_remove("DATABASE_URL");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command.output().unwrap()
}

fn flaskdb(args: &[&str]) -> Output {
    flaskdb_with(args, None)
}

/// A SQLite file with a parent and a child table; its URL (the command opens it
/// read-only).
fn database(dir: &std::path::Path) -> String {
    let url = format!("sqlite://{}", dir.join("shop.db").display());
    let create = format!("{url}?mode=rwc");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = Db::connect(Config::new(create)).await.unwrap();
        for sql in [
            "CREATE TABLE shop_customer (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)",
            "CREATE TABLE shop_order (id INTEGER PRIMARY KEY, \
             customer_id BIGINT NOT NULL REFERENCES shop_customer (id) ON DELETE CASCADE, \
             placed_at DATETIME DEFAULT CURRENT_TIMESTAMP)",
        ] {
            db.execute(sql, vec![]).await.unwrap();
        }
    });
    url
}

#[test]
fn reflect_prints_models_with_their_relationships() {
    let dir = std::env::temp_dir().join(format!("flaskdb-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = database(&dir);

    let out = flaskdb(&["reflect", "--url", &url]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("use flaskdb::{BelongsTo, HasMany, Model};"),
        "{stdout}"
    );
    assert!(stdout.contains("pub struct ShopCustomer {"), "{stdout}");
    assert!(
        stdout.contains("    #[model(max_length = 40)]\n    pub name: String,"),
        "{stdout}"
    );
    assert!(stdout.contains("    #[model(has_many)]\n    pub shop_orders: HasMany<ShopOrder>,"));
    assert!(stdout.contains(
        "    #[model(foreign_key = \"shop_customer.id\", on_delete = \"cascade\")]\n    \
         pub customer_id: i64,"
    ));
    assert!(
        stdout.contains("    #[model(belongs_to)]\n    pub customer: BelongsTo<ShopCustomer>,")
    );
    assert!(
        stdout.contains("#[model(server_default = \"CURRENT_TIMESTAMP\")]"),
        "{stdout}"
    );
    assert!(stdout.contains("chrono::NaiveDateTime") && stdout.contains("features chrono"));

    let only = flaskdb(&[
        "reflect",
        "--url",
        &url,
        "--tables",
        "shop_customer",
        "--bind",
        "shop",
    ]);
    let stdout = String::from_utf8_lossy(&only.stdout);
    assert!(only.status.success());
    assert!(
        stdout.contains("#[model(bind = \"shop\")]") && !stdout.contains("ShopOrder"),
        "{stdout}"
    );

    // A mistyped SQLite path is an error, not a new empty database.
    let typo = dir.join("shpo.db");
    let typo_url = format!("sqlite://{}", typo.display());
    let out = flaskdb(&["reflect", "--url", &typo_url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!typo.exists());

    // Without --url, the URL comes from DATABASE_URL; --url wins over it.
    for (args, env) in [
        (vec!["reflect"], Some(url.as_str())),
        (
            vec!["reflect", "--url", &url],
            Some("sqlite://elsewhere.db"),
        ),
    ] {
        let out = flaskdb_with(&args, env);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("pub struct ShopCustomer {"), "{stdout}");
    }

    let missing = flaskdb(&["reflect", "--url", &url, "--tables", "shop_invoice"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no table `shop_invoice`"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_arguments_and_unreachable_databases_are_clear_errors() {
    let usage = flaskdb(&["reflekt"]);
    assert_eq!(usage.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&usage.stderr);
    assert!(
        stderr.contains("unknown command `reflekt`: the commands are `reflect` and `db`")
            && stderr.contains("usage:")
    );

    let no_url = flaskdb(&["reflect", "--tables", "a"]);
    assert_eq!(no_url.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&no_url.stderr)
            .contains("--url or the environment variable DATABASE_URL is required")
    );

    let unreachable = flaskdb(&[
        "reflect",
        "--url",
        "postgres://app:s3cr3t-pw@127.0.0.1:1/app",
    ]);
    assert_eq!(unreachable.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    assert!(
        stderr.contains("cannot connect") && !stderr.contains("s3cr3t-pw"),
        "{stderr}"
    );
}

/// URLs with the password `written`: servers on a closed loopback port, one that does not
/// parse, and (when the test server is set) the PostgreSQL test server, which trusts
/// loopback logins whatever the password, so that the command gets to print its header.
fn urls(written: &str, port: u16) -> Vec<String> {
    let mut urls = vec![
        format!("postgres://app:{written}@127.0.0.1:{port}/x"),
        format!("mysql://app:{written}@127.0.0.1:{port}/x"),
        format!("postgres://app:{written}@127.0.0.1:notaport/x"),
    ];
    if let Ok(server) = std::env::var("FLASKDB_TEST_POSTGRES_URL")
        && let Some((scheme, rest)) = server.split_once("://")
        && let Some((user, host)) = rest.split_once('@')
    {
        urls.push(format!("{scheme}://{user}:{written}@{host}"));
    }
    urls
}

/// Asserts that the command prints nothing of `password`, percent-encoded or not, given
/// in `--url` or `DATABASE_URL`.
fn assert_hidden(password: &str) {
    let port = passwords::closed_port();
    for written in [password.to_owned(), passwords::encode(password)] {
        for url in urls(&written, port) {
            for out in [
                flaskdb(&["reflect", "--url", &url]),
                flaskdb_with(&["reflect"], Some(&url)),
            ] {
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                for secret in &passwords::secrets(&written) {
                    assert!(
                        !text.contains(secret.as_str()),
                        "{url}: `{secret}` in\n{text}"
                    );
                }
            }
        }
    }
}

#[test]
fn passwords_with_url_syntax_never_show() {
    for password in ["QxPw://ZkPw", "QxPw#a@b/c?d;e ZkPw", "QxPw%40%zzé☃ZkPw"] {
        assert_hidden(password);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Whatever the password, the command prints none of it.
    #[test]
    fn passwords_never_show(password in passwords::password()) {
        assert_hidden(&password);
    }
}

/// Runs `flaskdb db ..` with `DATABASE_URL` set; returns stdout, failing on an error.
fn db_ok(args: &[&str], url: &str) -> String {
    let mut full = vec!["db"];
    full.extend_from_slice(args);
    let out = flaskdb_with(&full, Some(url));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_migration_commands_write_run_and_report_migrations() {
    let dir = std::env::temp_dir().join(format!("flaskdb-cli-db-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    let migrations = dir.join("migrations");
    let m = migrations.to_str().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("app.db").display());

    assert!(db_ok(&["init", "-d", m], &url).contains("created"));
    let wrote = db_ok(&["revision", "-m", "create notes", "-d", m], &url);
    let first = wrote.trim().strip_prefix("wrote ").unwrap().to_owned();
    let text = std::fs::read_to_string(&first).unwrap();
    assert!(text.contains("message = \"create notes\"") && !text.contains("down_revision"));
    let steps = "\n[[upgrade]]\nop = \"create_table\"\ntable = \"notes\"\n\
                 columns = [{ name = \"id\", type = \"bigint\", primary_key = true }]\n\
                 [[downgrade]]\nop = \"drop_table\"\ntable = \"notes\"\n";
    std::fs::write(&first, text + steps).unwrap();
    let wrote = db_ok(&["revision", "-m", "index \"notes\"", "-d", m], &url);
    let second = wrote.trim().strip_prefix("wrote ").unwrap().to_owned();
    let r1 = std::path::Path::new(&first)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()[..12]
        .to_owned();
    let r2 = std::path::Path::new(&second)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()[..12]
        .to_owned();
    let text = std::fs::read_to_string(&second).unwrap();
    assert!(
        text.contains(&format!("down_revision = \"{r1}\"")),
        "{text}"
    );
    assert!(text.contains(r#"message = "index \"notes\"""#), "{text}");

    let history = db_ok(&["history", "-d", m], &url);
    assert_eq!(
        history,
        format!("{r1} -> {r2} (head), index \"notes\"\n<base> -> {r1}, create notes\n")
    );
    assert_eq!(db_ok(&["heads", "-d", m], &url), format!("{r2} (head)\n"));
    let sql = db_ok(&["upgrade", "--sql", "-d", m], &url);
    assert!(
        sql.contains("BEGIN;\nCREATE TABLE \"notes\" (") && sql.contains(&format!("'{r2}'")),
        "{sql}"
    );

    assert_eq!(
        db_ok(&["upgrade", "-d", m], &url),
        format!("default: upgraded {r1}, {r2}\n")
    );
    assert_eq!(
        db_ok(&["current", "-d", m], &url),
        format!("default: {r2} (head)\n")
    );
    assert_eq!(
        db_ok(&["downgrade", "-d", m], &url),
        format!("default: downgraded {r2}\n")
    );
    assert!(db_ok(&["show", &r1[..6], "-d", m], &url).contains(&format!("Revision ID: {r1}")));
    db_ok(&["stamp", "base", "-d", m], &url);
    assert_eq!(db_ok(&["current", "-d", m], &url), "default: (base)\n");

    let no_message = flaskdb_with(&["db", "revision", "-d", m], Some(&url));
    assert_eq!(no_message.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_message.stderr).contains("needs -m MESSAGE"));
    let unknown = flaskdb_with(&["db", "show", "zz", "-d", m], Some(&url));
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no migration has the revision `zz`")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn autogenerate_refuses_a_program_without_models() {
    let dir = std::env::temp_dir().join(format!("flaskdb-cli-nomodels-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("app.db").display());
    let d = dir.to_str().unwrap();
    for command in ["check", "migrate"] {
        let mut args = vec!["db", command, "-d", d];
        if command == "migrate" {
            args.extend(["-m", "x"]);
        }
        let out = flaskdb_with(&args, Some(&url));
        assert_eq!(out.status.code(), Some(1), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("no models are linked into this program"),
            "{stderr}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Two migrations, the first slow enough that processes started together overlap in
/// it; each adds a row to `runs`, so a migration applied twice shows.
const RACED: [(&str, &str); 2] = [
    (
        "a1_runs.toml",
        r#"revision = "a1"
message = "runs"

[[upgrade]]
op = "create_table"
table = "runs"
columns = [{ name = "n", type = "bigint", primary_key = true, autoincrement = false }]

[[upgrade]]
op = "sql"
sqlite = ["WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300000) SELECT count(*) FROM c"]
postgres = ["SELECT pg_sleep(0.3)"]
mysql = ["DO SLEEP(0.3)"]

[[upgrade]]
op = "sql"
sql = ["INSERT INTO runs (n) VALUES (1)"]

[[downgrade]]
op = "drop_table"
table = "runs"
"#,
    ),
    (
        "b2_second.toml",
        r#"revision = "b2"
down_revision = "a1"
message = "second"

[[upgrade]]
op = "sql"
sql = ["INSERT INTO runs (n) VALUES (2)"]

[[downgrade]]
op = "sql"
sql = ["DELETE FROM runs WHERE n = 2"]
"#,
    ),
];

/// A database of its own for the race on each backend there is: a SQLite file, and
/// a schema (PostgreSQL) or database (MariaDB) on the servers the suites use. Each
/// comes with the statement that drops it.
fn race_databases(dir: &std::path::Path) -> Vec<(String, Option<(String, String)>)> {
    let mut out = vec![(
        format!("sqlite://{}?mode=rwc", dir.join("race.db").display()),
        None,
    )];
    let name = format!("flaskdb_race_{}", std::process::id());
    if let Ok(base) = std::env::var("FLASKDB_TEST_POSTGRES_URL") {
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
        let admin = (base, format!("SCHEMA {name}"));
        out.push((url, Some(admin)));
    } else {
        eprintln!("notice: FLASKDB_TEST_POSTGRES_URL is not set; the race runs without PostgreSQL");
    }
    if let Ok(base) = std::env::var("FLASKDB_TEST_MYSQL_URL") {
        let root = base.rsplit_once('/').map_or(base.as_str(), |(r, _)| r);
        let url = format!("{root}/{name}");
        let admin = (base.clone(), format!("DATABASE {name}"));
        out.push((url, Some(admin)));
    } else {
        eprintln!("notice: FLASKDB_TEST_MYSQL_URL is not set; the race runs without MariaDB");
    }
    out
}

/// Runs `sql` on the database at `url`, returning the rows' first column as integers.
fn on(url: &str, sql: &str) -> Vec<i64> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = Db::connect(Config::new(url)).await.unwrap();
        let rows = db
            .fetch_all(flaskdb::AssertSqlSafe(sql.to_owned()), vec![])
            .await
            .unwrap();
        rows.iter().map(|r| r.get_at::<i64>(0).unwrap()).collect()
    })
}

/// Four `flaskdb db upgrade` processes started together on one database: the lock
/// (SQLite `BEGIN IMMEDIATE`, PostgreSQL's advisory lock, MariaDB's `GET_LOCK`) lets
/// one apply each migration, the others find it applied, and all four succeed.
#[test]
fn processes_upgrading_at_once_apply_each_migration_once() {
    let dir = std::env::temp_dir().join(format!("flaskdb-cli-race-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    for (file, text) in RACED {
        std::fs::write(migrations.join(file), text).unwrap();
    }
    for (url, admin) in race_databases(&dir) {
        if let Some((base, what)) = &admin {
            on(base, &format!("CREATE {what}"));
        }
        let children: Vec<_> = (0..4)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_flaskdb"))
                    .args(["db", "upgrade", "-d", migrations.to_str().unwrap()])
                    .env("DATABASE_URL", &url)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        for out in &outputs {
            assert!(
                out.status.success(),
                "{url}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let applied: String = outputs
            .iter()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .collect();
        assert_eq!(
            (applied.matches("a1").count(), applied.matches("b2").count()),
            (1, 1),
            "{url}: each migration is reported applied once:\n{applied}"
        );
        assert_eq!(on(&url, "SELECT n FROM runs ORDER BY n"), [1, 2], "{url}");
        if let Some((base, what)) = &admin {
            let cascade = if what.starts_with("SCHEMA") {
                " CASCADE"
            } else {
                ""
            };
            on(base, &format!("DROP {what}{cascade}"));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
