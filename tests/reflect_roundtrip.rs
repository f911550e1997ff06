//! The round trip of `flaskdb reflect`: the suite's models are created on a fresh
//! database and reflected; `model_source` turns the reflection into Rust (checked with
//! `rustfmt --check`), which is compiled in a crate of its own (without a warning); its
//! program creates its tables on a second fresh database, and reflecting that one gives
//! the same metadata. A second round trip starts from tables and columns with hostile
//! names (quotes, backslashes, `*/`, `"]`, non-ASCII, Rust keywords) made by raw DDL:
//! the generated models compile, and their program reads the rows back through them;
//! a name with a newline is refused by `model_source`, naming it. Each test runs per
//! backend: SQLite always; PostgreSQL and MariaDB when `FLASKDB_TEST_POSTGRES_URL` /
//! `FLASKDB_TEST_MYSQL_URL` are set, reported ignored (with a notice naming the
//! variable) when they are not.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;

use flaskdb::{AssertSqlSafe, Backend, Config, Db, Error, Table, model_source};
use flaskdb_tests::{Scratch, models, scratch_database, server_var};
use libtest_mimic::{Arguments, Trial};

/// Reflects the database at `url` into its tables (views left out: `create_all`
/// does not make them), sorted by name.
async fn reflect(url: &str) -> Vec<Arc<Table>> {
    let db = Db::connect(Config::new(url)).await.unwrap();
    db.reflect().await.unwrap();
    let mut tables: Vec<Arc<Table>> = db
        .reflected(None)
        .into_iter()
        .filter(|t| !t.is_view())
        .collect();
    tables.sort_by(|a, b| a.name().cmp(b.name()));
    tables
}

/// Writes the generated models into a crate named `name` whose program is `main` (it
/// gets the URL as its argument), builds it, and returns the program. Each trial's
/// crate has a name of its own, so the programs do not overwrite each other in the
/// shared target directory.
fn build_program(source: &str, main: &str, dir: &Path, name: &str) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let flaskdb = workspace.join("flaskdb").display().to_string();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = {name:?}\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             publish = false\n\n[dependencies]\nflaskdb = {{ path = {flaskdb:?}, features = \
             [\"sqlite\", \"postgres\", \"mysql\", \"chrono\", \"uuid\", \"json\", \"decimal\"] }}\n\
             tokio = {{ version = \"1\", features = [\"rt\"] }}\n\
             chrono = {{ version = \"0.4\", default-features = false, features = [\"std\", \"clock\"] }}\n\
             uuid = {{ version = \"1\", features = [\"v4\"] }}\nserde_json = \"1\"\n\
             rust_decimal = {{ version = \"1\", default-features = false, features = [\"std\"] }}\n\n\
             [workspace]\n"
        ),
    )
    .unwrap();
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let models = dir.join("src/models.rs");
    std::fs::write(&models, source).unwrap();
    let rustfmt = Command::new("rustfmt")
        .args(["--edition", "2024", "--check"])
        .arg(&models)
        .output()
        .unwrap();
    assert!(
        rustfmt.status.success(),
        "the generated source is not rustfmt-clean:\n{}{}",
        String::from_utf8_lossy(&rustfmt.stdout),
        String::from_utf8_lossy(&rustfmt.stderr)
    );
    std::fs::write(dir.join("src/main.rs"), main).unwrap();
    let target = workspace.join("target/crate-options");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(cargo)
        .args(["build", "--offline", "--quiet", "--message-format", "short"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(
        build.status.success(),
        "the generated models do not compile:\n{stderr}"
    );
    assert!(
        !stderr.contains("src/models.rs"),
        "the generated models have warnings:\n{stderr}"
    );
    target.join("debug").join(name)
}

/// A program over the generated models: connects to the URL it is given and runs `body`
/// (statements in an async block, with `db` the connection).
fn program(body: &str) -> String {
    format!(
        "mod models;\n\nfn main() {{\n    let url = std::env::args().nth(1).unwrap();\n    \
         let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();\n    \
         rt.block_on(async {{\n        \
         let db = flaskdb::Db::connect(flaskdb::Config::new(url)).await.unwrap();\n\
         {body}    }});\n}}\n"
    )
}

/// The same tables, compared one by one (for a readable failure).
fn assert_same(again: &[Arc<Table>], first: &[Arc<Table>], backend: Backend) {
    let names = |tables: &[Arc<Table>]| {
        tables
            .iter()
            .map(|t| t.name().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(again), names(first), "{backend:?}");
    for (a, b) in again.iter().zip(first) {
        assert_eq!(a, b, "{backend:?}: table `{}`", b.name());
    }
}

/// A fresh database for the round trip: a file in `dir` on SQLite (the reflection and
/// the program connect to it again), a scratch database on a server.
async fn fresh(
    backend: Backend,
    base: Option<&str>,
    dir: &Path,
    name: &str,
) -> (String, Option<Scratch>) {
    match backend {
        Backend::Sqlite => {
            let file = dir.join(format!("{name}.db"));
            (format!("sqlite://{}?mode=rwc", file.display()), None)
        }
        _ => scratch_database(backend, base).await.unwrap(),
    }
}

/// The runtime a trial runs on.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The models' tables on a fresh database of `backend`, reflected, generated as Rust,
/// compiled, created again by that program on a second fresh database and reflected
/// again: the same tables.
fn round_trip(backend: Backend, base: Option<&str>) {
    let runtime = runtime();
    runtime.block_on(async {
        models::enrollment();
        let dir = std::env::temp_dir().join(format!(
            "flaskdb-roundtrip-{}-{backend:?}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let (first, drop_first) = fresh(backend, base, &dir, "first").await;
        Db::connect(Config::new(first.as_str()))
            .await
            .unwrap()
            .create_all()
            .await
            .unwrap();
        let tables = reflect(&first).await;
        assert!(tables.len() > 15, "{} tables", tables.len());
        let main = program("        db.create_all().await.unwrap();\n");
        let name = format!("reflected-models-{backend:?}").to_lowercase();
        let program = build_program(
            &model_source(&tables).unwrap(),
            &main,
            &dir.join("crate"),
            &name,
        );
        let (second, drop_second) = fresh(backend, base, &dir, "second").await;
        let run = Command::new(&program).arg(&second).output().unwrap();
        let again = reflect(&second).await;
        for (admin, sql) in [drop_first, drop_second].into_iter().flatten() {
            admin.execute(AssertSqlSafe(sql), vec![]).await.unwrap();
        }
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_same(&again, &tables, backend);
        std::fs::remove_dir_all(&dir).ok();
    });
}

/// Table names that break out of strings, comments and identifiers, or are no Rust
/// identifier at all: quotes, a backslash, `*/`, `"]`, non-ASCII, a keyword.
const HOSTILE_TABLES: [&str; 3] = ["h\"o'st\\ile */ ü", "\"]", "type"];

/// The text columns of each hostile table, beside its `id`.
const HOSTILE_COLUMNS: [&str; 8] = [
    "we\"ird",
    r"back\slash",
    "*/ c /*",
    "\"]",
    "naïve Tä",
    "type",
    "self",
    "it's",
];

/// `name` quoted for `backend`'s raw DDL.
fn quoted(backend: Backend, name: &str) -> String {
    let q = if backend == Backend::MySql { '`' } else { '"' };
    format!("{q}{}{q}", name.replace(q, &format!("{q}{q}")))
}

/// The value of `column` in row `id` of `table`: hostile text of its own.
fn hostile_value(table: &str, column: &str, id: i64) -> String {
    format!("{id} {table} {column} \\ '\" */ {{}}")
}

/// Tables and columns with hostile names made by raw DDL on a fresh database, two rows
/// each written through `db.table(..)`, reflected and generated as Rust: the source
/// compiles, and its program reads every row back through the generated models
/// (`Model::query().all()`). Then a table whose name holds a newline makes
/// `model_source` fail with an error naming it.
fn hostile_names_read_back(backend: Backend, base: Option<&str>) {
    let runtime = runtime();
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!(
            "flaskdb-hostile-{}-{backend:?}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let (url, drop_db) = fresh(backend, base, &dir, "hostile").await;
        let db = Db::connect(Config::new(url.as_str())).await.unwrap();
        for table in HOSTILE_TABLES {
            let columns: Vec<String> = HOSTILE_COLUMNS
                .iter()
                .map(|c| format!(", {} VARCHAR(60)", quoted(backend, c)))
                .collect();
            let ddl = format!(
                "CREATE TABLE {} (id BIGINT PRIMARY KEY{})",
                quoted(backend, table),
                columns.concat()
            );
            db.execute(AssertSqlSafe(ddl), vec![]).await.unwrap();
        }
        db.reflect().await.unwrap();
        for table in HOSTILE_TABLES {
            let handle = db.table(table).unwrap();
            for id in [1, 2] {
                let mut row = vec![handle.column("id").set(id)];
                for c in HOSTILE_COLUMNS {
                    row.push(handle.column(c).set(hostile_value(table, c, id)));
                }
                handle.insert(row).await.unwrap();
            }
        }
        let tables = reflect(&url).await;
        let source = model_source(&tables).unwrap();
        // The struct of each table, in the source's order (the tables').
        let structs: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("pub struct ")?.strip_suffix(" {"))
            .collect();
        assert_eq!(structs.len(), HOSTILE_TABLES.len(), "{source}");
        let reads: String = structs
            .iter()
            .map(|s| {
                format!(
                    "        let rows = db.scope(models::{s}::query().all()).await.unwrap();\n        \
                     println!(\"{s}: {{}} rows {{rows:?}}\", rows.len());\n"
                )
            })
            .collect();
        let main = program(&format!("        use flaskdb::Model;\n{reads}"));
        let name = format!("hostile-models-{backend:?}").to_lowercase();
        let program = build_program(&source, &main, &dir.join("crate"), &name);
        let run = Command::new(&program).arg(&url).output().unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        for (table, s) in tables.iter().zip(&structs) {
            let line = stdout
                .lines()
                .find(|l| l.starts_with(&format!("{s}: ")))
                .unwrap_or_else(|| panic!("no line for {s}:\n{stdout}"));
            assert!(line.starts_with(&format!("{s}: 2 rows ")), "{line}");
            for id in [1, 2] {
                for c in HOSTILE_COLUMNS {
                    let value = format!("Some({:?})", hostile_value(table.name(), c, id));
                    assert!(line.contains(&value), "{value} is not in {line}");
                }
            }
        }

        // A newline in a name cannot be written into the source.
        let newline = "new\nline";
        let ddl = format!("CREATE TABLE {} (id BIGINT PRIMARY KEY)", quoted(backend, newline));
        db.execute(AssertSqlSafe(ddl), vec![]).await.unwrap();
        let refused = model_source(&reflect(&url).await);
        if let Some((admin, sql)) = drop_db {
            admin.execute(AssertSqlSafe(sql), vec![]).await.unwrap();
        }
        match refused {
            Err(Error::Schema(message)) => {
                assert!(message.contains(&format!("{newline:?}")), "{message}");
            }
            other => panic!("a table named {newline:?} was not refused: {other:?}"),
        }
        std::fs::remove_dir_all(&dir).ok();
    });
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    type Check = fn(Backend, Option<&str>);
    let checks: [(&str, Check); 2] = [
        ("generated_models_create_the_same_tables", round_trip),
        ("hostile_names_read_back", hostile_names_read_back),
    ];
    let mut trials = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        let var = server_var(backend);
        let base = var.and_then(|var| std::env::var(var).ok());
        let missing = var.filter(|_| base.is_none());
        if let Some(var) = missing {
            println!("note: the {backend:?} round trips are ignored because {var} is not set");
        }
        for (check_name, check) in checks {
            let name = format!("{check_name}::{backend:?}").to_lowercase();
            let base = base.clone();
            let trial = Trial::test(name, move || {
                check(backend, base.as_deref());
                Ok(())
            });
            trials.push(trial.with_ignored_flag(missing.is_some()));
        }
    }
    libtest_mimic::run(&args, trials).exit_code()
}
