//! Migrations run against a bind: its version table, the lock that makes each
//! migration run once however many processes start together, and the steps up and down.
//!
//! Every bind's database has a table `flaskdb_migrations` with a row per applied
//! revision and the checksum of its file. A migration runs in one transaction with its
//! row where DDL is transactional (PostgreSQL, SQLite), so a failed one leaves nothing
//! behind. On MySQL and MariaDB each DDL statement commits by itself: the row is
//! written as `running` before the first step and set to `applied` after the last, so a
//! migration that fails part-way stays recorded as `failed`, with the error, and the
//! next run refuses to go on until someone has looked.

use std::time::{Duration, Instant};

use crate::backend::Backend;
use crate::driver::engine::{Engine, MIGRATION_TABLE};
use crate::driver::executor::{self, Conn, Held};
use crate::error::{Error, Result};
use crate::migrate::file::Migration;
use crate::migrate::history::Migrations;
use crate::migrate::op::Op;
use crate::migrate::render::{rebuilt_table, statements};
use crate::runtime::db::Db;
use crate::runtime::reflect;
use crate::schema::{ColumnDef, Table};
use crate::sql::{Rendered, create_table};
use crate::value::Value;
use crate::value::sql_type::SqlType;

/// PostgreSQL's advisory lock key for migrations: "flaskdb!" as a number.
const PG_LOCK_KEY: i64 = 0x666c_6173_6b64_6221;

/// How long MySQL waits for another process's migrations, in seconds.
const MYSQL_LOCK_WAIT: u32 = 3600;

/// How long a run waits while SQLite answers that another connection holds its lock
/// (a shared in-memory database answers at once instead of waiting).
const BUSY_WAIT: Duration = Duration::from_secs(60);

/// A revision as the version table records it.
struct Applied {
    revision: String,
    checksum: String,
    state: String,
    detail: Option<String>,
}

/// The direction of a run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

impl Migrations {
    /// Upgrades every bind of `db` to the last migration: what an application calls at
    /// startup. Several processes doing so at once apply each migration once.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use flaskdb_core::{Config, Db};
    /// use flaskdb_core::migrate::Migrations;
    /// let first = r#"revision = "a1"
    /// [[upgrade]]
    /// op = "create_table"
    /// table = "notes"
    /// columns = [{ name = "id", type = "bigint", primary_key = true }]
    /// [[downgrade]]
    /// op = "drop_table"
    /// table = "notes"
    /// "#;
    /// let migrations = Migrations::from_sources(&[("a1_notes.toml", first)])?;
    /// let db = Db::connect(Config::new("sqlite::memory:")).await?;
    /// migrations.upgrade(&db).await?;
    /// assert_eq!(migrations.current(&db, None).await?.as_deref(), Some("a1"));
    /// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`Migrations::upgrade_bind`].
    pub async fn upgrade(&self, db: &Db) -> Result<()> {
        for (key, _) in db.engines()? {
            self.upgrade_bind(db, key.as_deref(), None).await?;
        }
        Ok(())
    }

    /// Upgrades bind `bind` (`None`: the default bind) to revision `to` (`None`: the
    /// last), one migration after another, each in its own transaction where the
    /// backend allows; returns the revisions applied.
    ///
    /// # Errors
    /// [`Error::Migration`] when the database's history does not match the files (an
    /// applied revision missing or changed, a migration that failed part-way on
    /// MySQL), when `to` names no migration or one before the database's, or when a
    /// step fails (naming the migration, its file and the statement). The database
    /// then stays at the last migration that finished.
    pub async fn upgrade_bind(
        &self,
        db: &Db,
        bind: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<String>> {
        let target = match to {
            None => self.len(),
            rev => self.applied_through(rev)?,
        };
        self.run(db, bind, Direction::Up, target).await
    }

    /// Downgrades bind `bind` to revision `to`, undoing every migration after it;
    /// `to = None` undoes the last one, `Some("base")` every one. Returns the revisions
    /// undone, last first.
    ///
    /// # Errors
    /// As [`Migrations::upgrade_bind`].
    pub async fn downgrade_bind(
        &self,
        db: &Db,
        bind: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<String>> {
        let target = match to {
            None => self.applied_count(db, bind).await?.saturating_sub(1),
            rev => self.applied_through(rev)?,
        };
        self.run(db, bind, Direction::Down, target).await
    }

    /// The last revision applied to bind `bind`; `None` before the first.
    ///
    /// # Errors
    /// As [`Migrations::upgrade_bind`] when the database's history does not match.
    pub async fn current(&self, db: &Db, bind: Option<&str>) -> Result<Option<String>> {
        let applied = self.applied_count(db, bind).await?;
        Ok(applied
            .checked_sub(1)
            .map(|i| self.as_slice()[i].revision().to_owned()))
    }

    /// Records bind `bind` as being at revision `rev` (`"base"`: before the first)
    /// without running anything: for a database whose schema is already there, or one
    /// repaired by hand after a failed migration on MySQL.
    ///
    /// # Errors
    /// [`Error::Migration`] when `rev` names no migration; a database error.
    pub async fn stamp(&self, db: &Db, bind: Option<&str>, rev: &str) -> Result<()> {
        let upto = self.applied_through(Some(rev))?;
        let mut conn = Locked::take(&db.engine_for(bind)?, bind).await?;
        conn.begin().await?;
        conn.execute(format!("DELETE FROM {}", conn.q(MIGRATION_TABLE)?), vec![])
            .await?;
        for m in &self.as_slice()[..upto] {
            conn.record(m, "applied").await?;
        }
        conn.commit().await
    }

    /// How many migrations bind `engine` has applied, checked against the files.
    async fn applied_count(&self, db: &Db, bind: Option<&str>) -> Result<usize> {
        let mut conn = Locked::take(&db.engine_for(bind)?, bind).await?;
        let rows = conn.applied().await?;
        self.check(bind, &rows)
    }

    /// One migration at a time towards `target` (how many are applied at the end).
    async fn run(
        &self,
        db: &Db,
        bind: Option<&str>,
        direction: Direction,
        target: usize,
    ) -> Result<Vec<String>> {
        let mut conn = Locked::take(&db.engine_for(bind)?, bind).await?;
        let mut done = Vec::new();
        let deadline = Instant::now() + BUSY_WAIT;
        loop {
            match self.next(&mut conn, bind, direction, target).await {
                Ok(Some(revision)) => done.push(revision),
                Ok(None) => return Ok(done),
                // A transaction that found the database locked was rolled back whole
                // (MySQL's DDL is not retried: it is not transactional).
                Err(Error::Busy(_))
                    if conn.backend != Backend::MySql && Instant::now() < deadline =>
                {
                    let _ = conn.rollback().await;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs the next migration towards `target` in its own transaction; returns its
    /// revision, or `None` when the database is at `target`.
    async fn next(
        &self,
        conn: &mut Locked,
        bind: Option<&str>,
        direction: Direction,
        target: usize,
    ) -> Result<Option<String>> {
        conn.begin().await?;
        let at = match conn.applied().await {
            Ok(rows) => self.check(bind, &rows),
            Err(e) => Err(e),
        };
        let at = match at {
            Ok(at) => at,
            Err(e) => {
                conn.rollback().await?;
                return Err(e);
            }
        };
        let m = match direction {
            Direction::Up if at < target => &self.as_slice()[at],
            Direction::Down if at > target => &self.as_slice()[at - 1],
            _ => {
                conn.rollback().await?;
                if direction == Direction::Up && at > target {
                    return Err(Error::Migration(format!(
                        "the database is at revision `{}`, after `{}`: use downgrade to \
                         go back",
                        self.as_slice()[at - 1].revision(),
                        self.as_slice()[target - 1].revision()
                    )));
                }
                return Ok(None);
            }
        };
        conn.step(m, bind, direction).await?;
        conn.commit().await?;
        Ok(Some(m.revision().to_owned()))
    }

    /// How many migrations the rows say are applied, after checking that they are
    /// this history's first ones, unchanged, and all finished.
    fn check(&self, bind: Option<&str>, rows: &[Applied]) -> Result<usize> {
        let where_ = bind_label(bind);
        if let Some(bad) = rows.iter().find(|r| r.state != "applied") {
            return Err(Error::Migration(format!(
                "migration `{}` {} on {where_} and did not finish ({}); MySQL and MariaDB \
                 commit each schema change by itself, so part of it may be in place. \
                 Repair the schema by hand, then run `db stamp {}` if all of the \
                 migration is in place or `db stamp {}` if none is, and upgrade again",
                bad.revision,
                if bad.state == "running" {
                    "was cut off"
                } else {
                    "failed"
                },
                bad.detail.as_deref().unwrap_or("no error was recorded"),
                bad.revision,
                self.position(&bad.revision)
                    .ok()
                    .and_then(|i| i.checked_sub(1))
                    .map_or("base", |i| self.as_slice()[i].revision()),
            )));
        }
        let count = rows.len();
        for row in rows {
            let Some(m) = self.iter().find(|m| m.revision() == row.revision) else {
                return Err(Error::Migration(format!(
                    "{where_} has revision `{}` applied, which no migration file has: \
                     restore its file, or stamp the database at a revision you have",
                    row.revision
                )));
            };
            if m.checksum() != row.checksum {
                return Err(Error::Migration(format!(
                    "{} (revision `{}`) changed after it was applied to {where_}: restore \
                     it, and put the change in a new migration",
                    m.file(),
                    m.revision()
                )));
            }
        }
        let is_applied = |m: &&Migration| rows.iter().any(|r| r.revision == m.revision());
        if let Some(missing) = self.as_slice()[..count].iter().find(|m| !is_applied(m)) {
            return Err(Error::Migration(format!(
                "{where_} has {count} revisions applied but not `{}`, the {} of the \
                 history: stamp the database at the revision its schema has",
                missing.revision(),
                ordinal(self.position(missing.revision())? + 1)
            )));
        }
        Ok(count)
    }
}

/// How errors name a bind.
fn bind_label(bind: Option<&str>) -> String {
    bind.map_or("the default bind".to_owned(), |k| format!("bind `{k}`"))
}

/// `1st`, `2nd`, `3rd`, `4th`, ...
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The version table: a row per applied revision.
pub(super) fn version_table() -> Table {
    Table::new(MIGRATION_TABLE)
        .column(
            ColumnDef::new("revision", SqlType::Text)
                .max_length(64)
                .primary_key(),
        )
        .column(ColumnDef::new("checksum", SqlType::Text).max_length(64))
        .column(ColumnDef::new("state", SqlType::Text).max_length(16))
        .column(ColumnDef::new("detail", SqlType::Text).nullable(true))
}

/// A connection of its own for a run: it holds the migration lock on servers that
/// have one, and closes when dropped, so neither the lock nor a transaction begun on
/// it by hand outlives the run.
struct Locked {
    held: Held,
    backend: Backend,
}

impl Locked {
    /// Takes a connection, waits for the migration lock, and makes sure the version
    /// table exists.
    async fn take(engine: &Engine, bind: Option<&str>) -> Result<Locked> {
        let backend = engine.backend();
        // A new SQLite connection runs its pragmas as it opens, which a shared
        // in-memory database can refuse while another run changes the schema.
        let deadline = Instant::now() + BUSY_WAIT;
        let held = loop {
            match Held::acquire_private(engine).await {
                Err(Error::Busy(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                held => break held?,
            }
        };
        let mut conn = Locked { held, backend };
        match backend {
            Backend::Postgres => {
                conn.execute(format!("SELECT pg_advisory_lock({PG_LOCK_KEY})"), vec![])
                    .await?;
            }
            Backend::MySql => {
                let rows = conn
                    .fetch(
                        format!(
                            "SELECT GET_LOCK(CONCAT('flaskdb_migrations.', DATABASE()), \
                             {MYSQL_LOCK_WAIT})"
                        ),
                        vec![],
                    )
                    .await?;
                let got: Option<i64> = rows.first().map(|r| r.get_at(0)).transpose()?;
                if got != Some(1) {
                    return Err(Error::Migration(format!(
                        "another process held the migration lock of {} for {MYSQL_LOCK_WAIT} s",
                        bind_label(bind)
                    )));
                }
            }
            // SQLite: each migration's BEGIN IMMEDIATE takes the database's write lock.
            // A rebuilt table is dropped and made again, which with foreign keys on
            // would delete (or cascade to) the rows that reference it: they are off on
            // this connection, as SQLite's documentation prescribes, and each migration
            // ends with `PRAGMA foreign_key_check` instead.
            Backend::Sqlite => conn.execute_patiently("PRAGMA foreign_keys = OFF").await?,
        }
        for sql in create_table(&version_table(), backend, true)? {
            conn.execute_patiently(&sql).await?;
        }
        Ok(conn)
    }

    fn q(&self, name: &str) -> Result<String> {
        let mut out = String::new();
        self.backend.quote_ident(name, &mut out)?;
        Ok(out)
    }

    async fn execute(&mut self, sql: String, params: Vec<Value>) -> Result<()> {
        executor::execute(Conn::Held(&mut self.held), Rendered::new(sql, params)).await?;
        Ok(())
    }

    /// Runs `sql` again while it finds the database locked by another connection, for
    /// up to [`BUSY_WAIT`].
    async fn execute_patiently(&mut self, sql: &str) -> Result<()> {
        let deadline = Instant::now() + BUSY_WAIT;
        loop {
            match self.execute(sql.to_owned(), vec![]).await {
                Err(Error::Busy(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                done => return done,
            }
        }
    }

    async fn fetch(&mut self, sql: String, params: Vec<Value>) -> Result<Vec<executor::Row>> {
        executor::fetch_rows(Conn::Held(&mut self.held), Rendered::new(sql, params)).await
    }

    /// Begins a migration's transaction where DDL is transactional; SQLite's takes the
    /// write lock at once, so two processes cannot both see a migration as not applied.
    async fn begin(&mut self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => self.execute_patiently("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.execute("BEGIN".into(), vec![]).await,
            Backend::MySql => Ok(()),
        }
    }

    async fn commit(&mut self) -> Result<()> {
        match self.backend {
            Backend::MySql => Ok(()),
            _ => self.execute("COMMIT".into(), vec![]).await,
        }
    }

    async fn rollback(&mut self) -> Result<()> {
        match self.backend {
            Backend::MySql => Ok(()),
            _ => self.execute("ROLLBACK".into(), vec![]).await,
        }
    }

    /// The version table's rows.
    async fn applied(&mut self) -> Result<Vec<Applied>> {
        let sql = format!(
            "SELECT revision, checksum, state, detail FROM {}",
            self.q(MIGRATION_TABLE)?
        );
        self.fetch(sql, vec![])
            .await?
            .iter()
            .map(|r| {
                Ok(Applied {
                    revision: r.get_at(0)?,
                    checksum: r.get_at(1)?,
                    state: r.get_at(2)?,
                    detail: r.get_at(3)?,
                })
            })
            .collect()
    }

    /// Inserts `m`'s row in state `state`.
    async fn record(&mut self, m: &Migration, state: &str) -> Result<()> {
        let mut sql = format!(
            "INSERT INTO {} (revision, checksum, state) VALUES (",
            self.q(MIGRATION_TABLE)?
        );
        for n in 1..=3 {
            if n > 1 {
                sql.push_str(", ");
            }
            self.backend.placeholder(n, &mut sql);
        }
        sql.push(')');
        let params = vec![
            Value::Text(m.revision().to_owned()),
            Value::Text(m.checksum().to_owned()),
            Value::Text(state.to_owned()),
        ];
        self.execute(sql, params).await
    }

    /// Sets `m`'s row to `state` with `detail`.
    async fn mark(&mut self, m: &Migration, state: &str, detail: Option<String>) -> Result<()> {
        let mut sql = format!("UPDATE {} SET state = ", self.q(MIGRATION_TABLE)?);
        self.backend.placeholder(1, &mut sql);
        sql.push_str(", detail = ");
        self.backend.placeholder(2, &mut sql);
        sql.push_str(" WHERE revision = ");
        self.backend.placeholder(3, &mut sql);
        let detail = detail.map_or(Value::Null(SqlType::Text), Value::Text);
        let params = vec![
            Value::Text(state.to_owned()),
            detail,
            Value::Text(m.revision().to_owned()),
        ];
        self.execute(sql, params).await
    }

    /// Runs `m`'s steps for `bind` in `direction` inside the open transaction, and
    /// records the outcome.
    async fn step(
        &mut self,
        m: &Migration,
        bind: Option<&str>,
        direction: Direction,
    ) -> Result<()> {
        let ops = match direction {
            Direction::Up => m.upgrade_steps(bind),
            Direction::Down => m.downgrade_steps(bind),
        };
        let transactional = self.backend != Backend::MySql;
        if !transactional {
            match direction {
                Direction::Up => self.record(m, "running").await?,
                Direction::Down => self.mark(m, "running", None).await?,
            }
        }
        for (i, op) in ops.iter().enumerate() {
            let at = |sql: &str| {
                format!(
                    "{} (revision `{}`) failed at its {} step {} ({sql})",
                    m.file(),
                    m.revision(),
                    match direction {
                        Direction::Up => "upgrade",
                        Direction::Down => "downgrade",
                    },
                    i + 1
                )
            };
            let sqls = match self.plan(op, bind).await {
                Ok(sqls) => sqls,
                Err(e) => return self.abandon(m, e, at("not run")).await,
            };
            for sql in sqls {
                if let Err(e) = self.execute(sql.clone(), vec![]).await {
                    return self.abandon(m, e, at(&sql)).await;
                }
            }
        }
        if self.backend == Backend::Sqlite {
            let broken = self
                .fetch("PRAGMA foreign_key_check".into(), vec![])
                .await?;
            if !broken.is_empty() {
                let rows = broken
                    .iter()
                    .map(|r| {
                        let table: String = r.get_at(0).unwrap_or_default();
                        let parent: String = r.get_at(2).unwrap_or_default();
                        format!("a row of `{table}` references a missing row of `{parent}`")
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let context = format!(
                    "{} (revision `{}`) leaves foreign keys broken",
                    m.file(),
                    m.revision()
                );
                return self.abandon(m, Error::Migration(rows), context).await;
            }
        }
        match (direction, transactional) {
            (Direction::Up, true) => self.record(m, "applied").await,
            (Direction::Up, false) => self.mark(m, "applied", None).await,
            (Direction::Down, _) => {
                let mut sql = format!("DELETE FROM {} WHERE revision = ", self.q(MIGRATION_TABLE)?);
                self.backend.placeholder(1, &mut sql);
                self.execute(sql, vec![Value::Text(m.revision().to_owned())])
                    .await
            }
        }
    }

    /// The statements of `op`, with the table it rebuilds read on this connection
    /// (inside the migration's transaction, so as the earlier steps left it).
    async fn plan(&mut self, op: &Op, bind: Option<&str>) -> Result<Vec<String>> {
        let current = match rebuilt_table(op, self.backend) {
            None => None,
            Some(name) => {
                let tables = reflect::tables_on(Conn::Held(&mut self.held), bind).await?;
                let table = tables.into_iter().find(|t| t.name() == name);
                Some(table.ok_or_else(|| {
                    Error::Migration(format!("there is no table `{name}` to rebuild"))
                })?)
            }
        };
        let mut out = statements(op, self.backend, current.as_ref())?;
        if let (Backend::MySql, Op::DropForeignKey { table, name }) = (self.backend, op) {
            // InnoDB made an index under the key's name for it, unless one was there:
            // it goes with the key.
            let own_index = "SELECT 1 FROM information_schema.STATISTICS \
                             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ?";
            let params = vec![Value::Text(table.clone()), Value::Text(name.clone())];
            if !self.fetch(own_index.into(), params).await?.is_empty() {
                out.push(format!(
                    "ALTER TABLE {} DROP INDEX {}",
                    self.q(table)?,
                    self.q(name)?
                ));
            }
        }
        Ok(out)
    }

    /// After a failed step: rolls back where DDL is transactional, else records the
    /// failure; returns the error, `cause` told in `context`. A transaction that found
    /// the database locked returns `cause` itself, for the run to try again.
    async fn abandon<T>(&mut self, m: &Migration, cause: Error, context: String) -> Result<T> {
        let error = Error::Migration(format!("{context}: {cause}"));
        match self.backend {
            Backend::MySql => {
                self.mark(m, "failed", Some(error.to_string())).await?;
                Err(error)
            }
            _ => {
                self.rollback().await?;
                match cause {
                    Error::Busy(_) => Err(cause),
                    _ => Err(error),
                }
            }
        }
    }
}
