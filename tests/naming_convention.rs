//! A naming convention of the application's own (here PostgreSQL's own names, as a
//! database made without one has them), installed first thing in `main`: `create_all`,
//! reflection and autogenerate all name constraints by it, on each backend. It runs in
//! a process of its own, as the convention holds for the whole program. PostgreSQL and
//! MariaDB run when `FLASKDB_TEST_POSTGRES_URL` / `FLASKDB_TEST_MYSQL_URL` are set, and
//! are reported ignored (with a notice naming the variable) when they are not.

#![allow(clippy::unwrap_used, missing_docs)]

use std::process::ExitCode;

use flaskdb::{Backend, Config, Db, Model, NamingConvention};
use flaskdb_tests::{scratch_database, server_var};
use libtest_mimic::{Arguments, Trial};

#[derive(Model, Debug, Clone, PartialEq)]
#[model(
    table = "shelf",
    unique("room", "label"),
    check(name = "label", sql = "label <> ''")
)]
pub struct Shelf {
    pub id: i64,
    pub room: i64,
    #[model(max_length = 20, index)]
    pub label: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "volume")]
pub struct Volume {
    pub id: i64,
    #[model(foreign_key = "shelf.id", on_delete = "cascade")]
    pub shelf_id: i64,
    #[model(unique, max_length = 20)]
    pub code: String,
}

/// PostgreSQL's own names.
fn convention() -> NamingConvention {
    NamingConvention::default()
        .index("%(table_name)s_%(column_0_N_name)s_idx")
        .unique("%(table_name)s_%(column_0_N_name)s_key")
        .check("%(table_name)s_%(constraint_name)s_check")
        .foreign_key("%(table_name)s_%(column_0_name)s_fkey")
        .primary_key("%(table_name)s_pkey")
}

fn names_by_the_convention(backend: Backend, base: Option<&str>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let (url, scratch) = scratch_database(backend, base).await.unwrap();
            let db = Db::connect(Config::new(url)).await.unwrap();
            db.create_all().await.unwrap();
            db.reflect().await.unwrap();
            let metadata = db.metadata(None);
            let shelf = metadata.table("shelf").unwrap();
            let found = db
                .reflected(None)
                .iter()
                .find(|t| t.name() == "shelf")
                .cloned()
                .unwrap();
            let names = |t: &flaskdb::Table| {
                let mut n: Vec<String> = t.indexes().into_iter().map(|i| i.name).collect();
                n.extend(t.checks().iter().map(|c| c.name.clone()));
                n
            };
            assert_eq!(
                names(&found),
                [
                    "shelf_label_idx",
                    "shelf_room_label_key",
                    "shelf_label_check"
                ]
            );
            assert_eq!(names(&found), names(shelf));
            let volume = db
                .reflected(None)
                .iter()
                .find(|t| t.name() == "volume")
                .cloned()
                .unwrap();
            assert_eq!(volume.indexes()[0].name, "volume_code_key");
            // Named as the convention names it, so reflection keeps no name of its own.
            assert_eq!(volume.foreign_keys()[0].name, None);
            assert_eq!(
                volume.foreign_key_name(&volume.foreign_keys()[0]),
                "volume_shelf_id_fkey"
            );
            if backend == Backend::Postgres {
                let rows = db
                    .fetch_all(
                        "SELECT conname::text AS n FROM pg_constraint \
                         WHERE conrelid = 'volume'::regclass ORDER BY conname",
                        vec![],
                    )
                    .await
                    .unwrap();
                let constraints: Vec<String> =
                    rows.iter().map(|r| r.get::<String>("n").unwrap()).collect();
                assert_eq!(constraints, ["volume_pkey", "volume_shelf_id_fkey"]);
            }
            let diff = flaskdb::migrate::compare(&db, None).await.unwrap();
            assert!(diff.is_empty(), "autogenerate found {:?}", diff.upgrade);
            drop(db);
            if let Some((admin, drop)) = scratch {
                admin
                    .execute(flaskdb::AssertSqlSafe(drop), vec![])
                    .await
                    .unwrap();
            }
        });
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    convention().install().unwrap();
    let again = convention().install().unwrap_err().to_string();
    assert!(again.contains("already in force"), "{again}");
    let mut trials = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        let var = server_var(backend);
        let base = var.and_then(|var| std::env::var(var).ok());
        let missing = var.filter(|_| base.is_none());
        if let Some(var) = missing {
            println!(
                "note: the {backend:?} naming convention case is ignored because {var} is not set"
            );
        }
        let name = format!("names_by_the_convention::{backend:?}").to_lowercase();
        let trial = Trial::test(name, move || {
            names_by_the_convention(backend, base.as_deref());
            Ok(())
        });
        trials.push(trial.with_ignored_flag(missing.is_some()));
    }
    libtest_mimic::run(&args, trials).exit_code()
}
