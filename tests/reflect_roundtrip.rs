//! The round trip of `flaskdb reflect`: the suite's models are created on a fresh
//! database and reflected; `model_source` turns the reflection into Rust (checked with
//! `rustfmt --check`), which is compiled in a crate of its own (without a warning); its
//! program creates its tables on a second fresh database, and reflecting that one gives
//! the same metadata. One test per backend: SQLite always; PostgreSQL and MariaDB when
//! `FLASKDB_TEST_POSTGRES_URL` / `FLASKDB_TEST_MYSQL_URL` are set, reported ignored
//! (with a notice naming the variable) when they are not.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;

use flaskdb::{AssertSqlSafe, Backend, Config, Db, Table, model_source};
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

/// Writes the generated models into a crate whose program runs `create_all` on the URL
/// it is given, builds it, and returns the program. Each backend's crate has a name of
/// its own, so the programs do not overwrite each other in the shared target directory.
fn build_program(source: &str, dir: &Path, backend: Backend) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let name = format!("reflected-models-{backend:?}").to_lowercase();
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
        "the generated source is not rustfmt-clean:\n{}",
        String::from_utf8_lossy(&rustfmt.stdout)
    );
    std::fs::write(
        dir.join("src/main.rs"),
        "mod models;\n\nfn main() {\n    let url = std::env::args().nth(1).unwrap();\n    \
         let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();\n    \
         rt.block_on(async {\n        \
         let db = flaskdb::Db::connect(flaskdb::Config::new(url)).await.unwrap();\n        \
         db.create_all().await.unwrap();\n    });\n}\n",
    )
    .unwrap();
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

/// The models' tables on a fresh database of `backend`, reflected, generated as Rust,
/// compiled, created again by that program on a second fresh database and reflected
/// again: the same tables.
fn round_trip(backend: Backend, base: Option<&str>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
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
        let program = build_program(&model_source(&tables).unwrap(), &dir.join("crate"), backend);
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

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let trials = [Backend::Sqlite, Backend::Postgres, Backend::MySql].map(|backend| {
        let var = server_var(backend);
        let base = var.and_then(|var| std::env::var(var).ok());
        let missing = var.filter(|_| base.is_none());
        if let Some(var) = missing {
            println!("note: the {backend:?} round trip is ignored because {var} is not set");
        }
        let name = format!("generated_models_create_the_same_tables::{backend:?}").to_lowercase();
        Trial::test(name, move || {
            round_trip(backend, base.as_deref());
            Ok(())
        })
        .with_ignored_flag(missing.is_some())
    });
    libtest_mimic::run(&args, trials.into()).exit_code()
}
