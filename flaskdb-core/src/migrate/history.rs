//! The migrations of an application as one linear history, first to last.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::migrate::file::Migration;

/// Every migration of an application, in the order they apply: each follows the one
/// its `down_revision` names. History is linear: two migrations following the same
/// one (two heads, as two branches each adding one) are an error that says how to
/// put them in order.
///
/// ```
/// use flaskdb_core::migrate::Migrations;
/// let first = r#"revision = "a1"
/// [[upgrade]]
/// op = "sql"
/// sql = ["CREATE TABLE t (id INTEGER PRIMARY KEY)"]
/// [[downgrade]]
/// op = "sql"
/// sql = ["DROP TABLE t"]
/// "#;
/// let second = "revision = \"b2\"\ndown_revision = \"a1\"\n";
/// let m = Migrations::from_sources(&[("b2.toml", second), ("a1.toml", first)]).unwrap();
/// let order: Vec<&str> = m.iter().map(|m| m.revision()).collect();
/// assert_eq!(order, ["a1", "b2"]);
/// assert_eq!(m.head().map(|m| m.revision()), Some("b2"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Migrations {
    /// First to last.
    chain: Vec<Migration>,
}

impl Migrations {
    /// Reads every `*.toml` file of `dir` (other files are left alone).
    ///
    /// # Errors
    /// [`Error::Migration`] when the directory or a file cannot be read, a file does not
    /// parse ([`Migration::parse`]), or the files do not make one history.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Migrations> {
        let dir = dir.as_ref();
        let unreadable =
            |e: std::io::Error| Error::Migration(format!("cannot read {}: {e}", dir.display()));
        let mut sources = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(unreadable)? {
            let path = entry.map_err(unreadable)?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Error::Migration(format!("cannot read {}: {e}", path.display()))
                })?;
                sources.push((path.display().to_string(), text));
            }
        }
        let refs: Vec<(&str, &str)> = sources
            .iter()
            .map(|(f, t)| (f.as_str(), t.as_str()))
            .collect();
        Migrations::from_sources(&refs)
    }

    /// The migrations in `(file name, text)` pairs, in any order: what
    /// `embed_migrations!` gives, or files read by hand.
    ///
    /// # Errors
    /// As [`Migrations::from_dir`].
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Migrations> {
        let parsed = sources
            .iter()
            .map(|(file, text)| Migration::parse(file, text))
            .collect::<Result<Vec<_>>>()?;
        Ok(Migrations {
            chain: order(parsed)?,
        })
    }

    /// The migrations, first to last.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Migration> + ExactSizeIterator {
        self.chain.iter()
    }

    /// The migrations, first to last.
    pub(crate) fn as_slice(&self) -> &[Migration] {
        &self.chain
    }

    /// The last migration; `None` when there is none.
    pub fn head(&self) -> Option<&Migration> {
        self.chain.last()
    }

    /// How many migrations there are.
    pub fn len(&self) -> usize {
        self.chain.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.chain.is_empty()
    }

    /// The migration `rev` names: its revision, or a prefix of it that no other
    /// revision starts with (as Alembic takes them).
    ///
    /// # Errors
    /// [`Error::Migration`] when no revision starts with `rev`, or several do.
    pub fn get(&self, rev: &str) -> Result<&Migration> {
        Ok(&self.chain[self.position(rev)?])
    }

    /// How many migrations are applied at revision `rev` (`None` or `"base"`: none).
    ///
    /// # Errors
    /// As [`Migrations::get`].
    pub(crate) fn applied_through(&self, rev: Option<&str>) -> Result<usize> {
        match rev {
            None | Some("base") => Ok(0),
            Some(rev) => Ok(self.position(rev)? + 1),
        }
    }

    /// The position of the migration `rev` names (see [`Migrations::get`]).
    pub(crate) fn position(&self, rev: &str) -> Result<usize> {
        if let Some(i) = self.chain.iter().position(|m| m.revision() == rev) {
            return Ok(i);
        }
        let starting: Vec<usize> = (0..self.chain.len())
            .filter(|&i| !rev.is_empty() && self.chain[i].revision().starts_with(rev))
            .collect();
        match starting.as_slice() {
            [i] => Ok(*i),
            [] => Err(Error::Migration(format!(
                "no migration has the revision `{rev}`{}",
                self.head()
                    .map_or(" (there are no migrations)".to_owned(), |h| format!(
                        "; the head is `{}`",
                        h.revision()
                    ))
            ))),
            several => Err(Error::Migration(format!(
                "`{rev}` starts several revisions ({}): give more of it",
                several
                    .iter()
                    .map(|&i| self.chain[i].revision())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// Puts the migrations in order, first to last, or says why they are not one history.
fn order(migrations: Vec<Migration>) -> Result<Vec<Migration>> {
    let mut by_revision: HashMap<&str, &Migration> = HashMap::new();
    for m in &migrations {
        if let Some(other) = by_revision.insert(m.revision(), m) {
            return Err(Error::Migration(format!(
                "{} and {} have the same revision `{}`: give one of them a new one",
                other.file(),
                m.file(),
                m.revision()
            )));
        }
    }
    let mut next: HashMap<Option<&str>, &Migration> = HashMap::new();
    for m in &migrations {
        if let Some(parent) = m.down_revision()
            && !by_revision.contains_key(parent)
        {
            return Err(Error::Migration(format!(
                "{} follows revision `{parent}`, which no migration file has",
                m.file()
            )));
        }
        if let Some(other) = next.insert(m.down_revision(), m) {
            let (a, b) = (other.file(), m.file());
            return Err(Error::Migration(match m.down_revision() {
                Some(parent) => format!(
                    "two heads: {a} and {b} both follow revision `{parent}`; history is \
                     linear, so set the down_revision of the later one to `{}` (or of the \
                     earlier to `{}`)",
                    other.revision(),
                    m.revision()
                ),
                None => format!(
                    "{a} and {b} both have no down_revision: only the first migration has \
                     none, so set the down_revision of the later one to `{}`",
                    other.revision()
                ),
            }));
        }
    }
    let mut chain = Vec::with_capacity(migrations.len());
    let mut at = None;
    while let Some(m) = next.get(&at) {
        chain.push((*m).clone());
        at = Some(m.revision());
    }
    if chain.len() != migrations.len() {
        // Every revision has one parent that exists and none two children, so what the
        // walk from the first did not reach goes round in a circle.
        let cycle: Vec<&str> = migrations
            .iter()
            .filter(|m| !chain.iter().any(|c| c.revision() == m.revision()))
            .map(Migration::file)
            .collect();
        return Err(Error::Migration(format!(
            "{} follow each other in a circle: one of them must have no down_revision or \
             follow a revision outside the circle",
            cycle.join(", ")
        )));
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::Migrations;

    fn file(rev: &str, parent: Option<&str>) -> String {
        match parent {
            Some(p) => format!("revision = \"{rev}\"\ndown_revision = \"{p}\"\n"),
            None => format!("revision = \"{rev}\"\n"),
        }
    }

    fn load(files: &[(&str, Option<&str>)]) -> crate::Result<Migrations> {
        let texts: Vec<(String, String)> = files
            .iter()
            .map(|(rev, parent)| (format!("{rev}.toml"), file(rev, *parent)))
            .collect();
        let refs: Vec<(&str, &str)> = texts
            .iter()
            .map(|(f, t)| (f.as_str(), t.as_str()))
            .collect();
        Migrations::from_sources(&refs)
    }

    fn error(files: &[(&str, Option<&str>)]) -> String {
        load(files).unwrap_err().to_string()
    }

    #[test]
    fn files_in_any_order_make_one_history() {
        let m = load(&[("c", Some("b")), ("a", None), ("b", Some("a"))]).unwrap();
        let order: Vec<&str> = m.iter().map(|m| m.revision()).collect();
        assert_eq!(order, ["a", "b", "c"]);
        assert!(load(&[]).unwrap().is_empty());
    }

    #[test]
    fn two_heads_say_how_to_order_them() {
        let e = error(&[("a", None), ("b", Some("a")), ("c", Some("a"))]);
        assert!(
            e.contains("two heads: b.toml and c.toml both follow revision `a`"),
            "{e}"
        );
        assert!(
            e.contains("set the down_revision of the later one to `b`"),
            "{e}"
        );
        let e = error(&[("a", None), ("b", None)]);
        assert!(e.contains("both have no down_revision"), "{e}");
    }

    #[test]
    fn a_missing_parent_a_duplicate_and_a_circle_are_named() {
        let e = error(&[("a", None), ("b", Some("x"))]);
        assert!(
            e.contains("b.toml follows revision `x`, which no migration file has"),
            "{e}"
        );
        let texts = [
            ("one.toml", "revision = \"a\"\n"),
            ("two.toml", "revision = \"a\"\n"),
        ];
        let e = Migrations::from_sources(&texts).unwrap_err().to_string();
        assert!(
            e.contains("one.toml and two.toml have the same revision `a`"),
            "{e}"
        );
        let e = error(&[("a", None), ("b", Some("c")), ("c", Some("b"))]);
        assert!(
            e.contains("b.toml, c.toml follow each other in a circle"),
            "{e}"
        );
    }

    #[test]
    fn a_revision_is_found_by_a_prefix_no_other_shares() {
        let m = load(&[("abc1", None), ("abd2", Some("abc1"))]).unwrap();
        assert_eq!(m.get("abd").unwrap().revision(), "abd2");
        let e = m.get("ab").unwrap_err().to_string();
        assert!(e.contains("starts several revisions (abc1, abd2)"), "{e}");
        let e = m.get("zz").unwrap_err().to_string();
        assert!(
            e.contains("no migration has the revision `zz`; the head is `abd2`"),
            "{e}"
        );
    }

    #[test]
    fn a_file_is_refused_with_its_name_and_what_is_wrong() {
        let bad = |text: &str| {
            Migrations::from_sources(&[("m.toml", text)])
                .unwrap_err()
                .to_string()
        };
        let e = bad("revision = \"a b\"\n");
        assert!(
            e.contains("m.toml: the revision \"a b\" is not a name"),
            "{e}"
        );
        let e = bad("revision = \"a\"\nrevison = \"b\"\n");
        assert!(
            e.contains("m.toml") && e.contains("unknown field `revison`"),
            "{e}"
        );
        let e = bad("revision = \"a\"\n[[upgrade]]\nop = \"drop_tabel\"\ntable = \"t\"\n");
        assert!(e.contains("m.toml") && e.contains("drop_tabel"), "{e}");
        let e = bad("revision = \"a\"\n[[upgrade]]\nop = \"drop_table\"\ntable = \"t\"\n");
        assert!(
            e.contains("[[upgrade]] has steps and [[downgrade]] none"),
            "{e}"
        );
        let e =
            bad("revision = \"a\"\n[[bind.users.upgrade]]\nop = \"drop_table\"\ntable = \"t\"\n");
        assert!(e.contains("[[bind.users.upgrade]] has steps"), "{e}");
    }

    #[test]
    fn a_checksum_ignores_line_endings_only() {
        let lf = "revision = \"a\"\nmessage = \"x\"\n";
        let crlf = lf.replace('\n', "\r\n");
        let sum = |t: &str| {
            Migrations::from_sources(&[("a.toml", t)])
                .unwrap()
                .iter()
                .next()
                .unwrap()
                .checksum()
                .to_owned()
        };
        assert_eq!(sum(lf), sum(&crlf));
        assert_ne!(sum(lf), sum("revision = \"a\"\nmessage = \"y\"\n"));
        assert_eq!(sum(lf).len(), 64);
    }
}
