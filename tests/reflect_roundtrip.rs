//! The round trip of `flaskdb reflect`: the suite's models are created on a fresh
//! database and reflected; `model_source` turns the reflection into Rust (checked with
//! `rustfmt --check`), which is compiled in a crate of its own (without a warning); its
//! program creates its tables on a second fresh database, and reflecting that one gives
//! the same metadata. On SQLite always, on PostgreSQL and MariaDB when
//! `FLASKDB_TEST_POSTGRES_URL` / `FLASKDB_TEST_MYSQL_URL` are set (a notice says when
//! they are not).

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use flaskdb::{Backend, Config, Db, Table, model_source};
use flaskdb_tests::{models, scratch_database};

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
/// it is given, builds it, and returns the program.
fn build_program(source: &str, dir: &Path) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let flaskdb = workspace.join("flaskdb").display().to_string();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"reflected-models\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
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
    target.join("debug/reflected-models")
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

#[test]
fn generated_models_create_the_same_tables() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        models::enrollment();
        let dir = std::env::temp_dir().join(format!("flaskdb-roundtrip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut servers = Vec::new();
        for (backend, var) in [
            (Backend::Postgres, "FLASKDB_TEST_POSTGRES_URL"),
            (Backend::MySql, "FLASKDB_TEST_MYSQL_URL"),
        ] {
            match std::env::var(var) {
                Ok(base) => servers.push((backend, base)),
                Err(_) => println!("note: the {backend:?} round trip is skipped: {var} is not set"),
            }
        }

        // The models' tables, on SQLite: the source of the generated models.
        let first = format!("sqlite://{}?mode=rwc", dir.join("first.db").display());
        let db = Db::connect(Config::new(first.as_str())).await.unwrap();
        db.create_all().await.unwrap();
        let sqlite_tables = reflect(&first).await;
        assert!(sqlite_tables.len() > 15, "{} tables", sqlite_tables.len());
        let program = build_program(&model_source(&sqlite_tables), &dir.join("crate"));

        let second = format!("sqlite://{}?mode=rwc", dir.join("second.db").display());
        let run = Command::new(&program).arg(&second).output().unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_same(&reflect(&second).await, &sqlite_tables, Backend::Sqlite);

        // Each server: its own reflection of the models, generated and created again.
        for (backend, base) in servers {
            let (url, drop) = scratch_database(backend, Some(&base)).await.unwrap();
            Db::connect(Config::new(url.as_str()))
                .await
                .unwrap()
                .create_all()
                .await
                .unwrap();
            let tables = reflect(&url).await;
            let program = build_program(&model_source(&tables), &dir.join(format!("{backend:?}")));
            let (again, drop_again) = scratch_database(backend, Some(&base)).await.unwrap();
            let run = Command::new(&program).arg(&again).output().unwrap();
            assert!(
                run.status.success(),
                "{}",
                String::from_utf8_lossy(&run.stderr)
            );
            let result = reflect(&again).await;
            for (admin, sql) in [drop, drop_again].into_iter().flatten() {
                admin.execute(&sql, vec![]).await.unwrap();
            }
            assert_same(&result, &tables, backend);
        }
        std::fs::remove_dir_all(&dir).ok();
    });
}
