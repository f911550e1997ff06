//! Alembic's offline mode: the SQL of a run, printed for review instead of run.

use crate::backend::Backend;
use crate::driver::engine::MIGRATION_TABLE;
use crate::error::{Error, Result};
use crate::migrate::file::Migration;
use crate::migrate::history::Migrations;
use crate::migrate::render::{rebuilt_table, statements};
use crate::migrate::runner::version_table;
use crate::sql::create_table;

impl Migrations {
    /// The SQL that upgrades bind `bind` on `backend` from revision `from` (`None`: an
    /// empty database) to `to` (`None`: the last), each migration in its transaction
    /// where DDL is transactional, with the version table's rows: what
    /// `flaskdb db upgrade --sql` prints for a DBA to review and run.
    ///
    /// ```
    /// use flaskdb_core::Backend;
    /// use flaskdb_core::migrate::Migrations;
    /// let first = r#"revision = "a1"
    /// [[upgrade]]
    /// op = "drop_table"
    /// table = "old"
    /// [[downgrade]]
    /// op = "sql"
    /// sql = []
    /// "#;
    /// let m = Migrations::from_sources(&[("a1.toml", first)])?;
    /// let sql = m.upgrade_sql(Backend::Postgres, None, None, None)?;
    /// assert!(sql.contains(&r#"DROP TABLE "old""#.to_owned()));
    /// # Ok::<(), flaskdb_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Migration`] when a revision names no migration, `to` comes before
    /// `from`, or a step can only be planned against the database (SQLite's rebuild
    /// of a table for `alter_column` reads the table).
    pub fn upgrade_sql(
        &self,
        backend: Backend,
        bind: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<String>> {
        let start = self.applied_through(from)?;
        let end = self.applied_through(to.or(self.head().map(Migration::revision)))?;
        if end < start {
            return Err(Error::Migration(
                "the upgrade ends before it starts: use downgrade".into(),
            ));
        }
        let mut out = create_table(&version_table(), backend, true)?;
        for m in &self.as_slice()[start..end] {
            out.extend(script(m, bind, backend, true)?);
        }
        Ok(out)
    }

    /// The SQL that downgrades bind `bind` on `backend` from revision `from` to `to`
    /// (`"base"`: undo every migration), last migration first.
    ///
    /// # Errors
    /// As [`Migrations::upgrade_sql`].
    pub fn downgrade_sql(
        &self,
        backend: Backend,
        bind: Option<&str>,
        from: &str,
        to: &str,
    ) -> Result<Vec<String>> {
        let start = self.applied_through(Some(from))?;
        let end = self.applied_through(Some(to))?;
        if end > start {
            return Err(Error::Migration(
                "the downgrade ends after it starts: use upgrade".into(),
            ));
        }
        let mut out = Vec::new();
        for m in self.as_slice()[end..start].iter().rev() {
            out.extend(script(m, bind, backend, false)?);
        }
        Ok(out)
    }
}

/// One migration's statements up or down, with its version row, in a transaction where
/// the backend's DDL is transactional.
fn script(m: &Migration, bind: Option<&str>, backend: Backend, up: bool) -> Result<Vec<String>> {
    let transactional = backend != Backend::MySql;
    let mut out = Vec::new();
    if transactional {
        out.push("BEGIN".to_owned());
    }
    let ops = if up {
        m.upgrade_steps(bind)
    } else {
        m.downgrade_steps(bind)
    };
    for op in ops {
        if let Some(table) = rebuilt_table(op, backend) {
            return Err(Error::Migration(format!(
                "{} (revision `{}`) alters a column of `{table}`, which SQLite does by \
                 rebuilding the table as the database has it: run it with `upgrade`, \
                 not as SQL",
                m.file(),
                m.revision()
            )));
        }
        out.extend(statements(op, backend, None)?);
    }
    let mut table = String::new();
    backend.quote_ident(MIGRATION_TABLE, &mut table)?;
    // Revisions are letters, digits and `_`, checksums hex: safe as literals.
    out.push(if up {
        format!(
            "INSERT INTO {table} (revision, checksum, state) VALUES ('{}', '{}', 'applied')",
            m.revision(),
            m.checksum()
        )
    } else {
        format!("DELETE FROM {table} WHERE revision = '{}'", m.revision())
    });
    if transactional {
        out.push("COMMIT".to_owned());
    }
    Ok(out)
}
