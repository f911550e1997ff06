//! The `manage` binary end to end, with the blog's models linked in: `db check` finds
//! what the database lacks, `db migrate` writes it, `db upgrade` applies it.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::Command;

/// Runs `manage db <args> -d <dir>` against `url`: (exit code, stdout, stderr).
fn db(args: &[&str], dir: &Path, url: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_manage"))
        .arg("db")
        .args(args)
        .arg("-d")
        .arg(dir)
        .env("DATABASE_URL", url)
        .env_remove("FLASKDB_BINDS")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_migrate_and_upgrade_follow_the_models() {
    let root = std::env::temp_dir().join(format!("flaskdb-manage-{}", std::process::id()));
    std::fs::remove_dir_all(&root).ok();
    let dir = root.join("migrations");
    std::fs::create_dir_all(&dir).unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for file in std::fs::read_dir(&shipped).unwrap() {
        let file = file.unwrap().path();
        std::fs::copy(&file, dir.join(file.file_name().unwrap())).unwrap();
    }
    let url = format!("sqlite://{}?mode=rwc", root.join("blog.db").display());

    let (code, _, err) = db(&["check"], &dir, &url);
    assert_eq!(code, 1, "an empty database differs: {err}");
    assert!(err.contains("default: create table category"), "{err}");

    let (code, out, err) = db(&["upgrade"], &dir, &url);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "default: upgraded 4b1c0e2a9f31, 9d7e3f5a1c22\n");
    let (code, out, err) = db(&["check"], &dir, &url);
    assert_eq!(
        code, 0,
        "the shipped migrations build the models' schema: {err}"
    );
    assert_eq!(out, "no new upgrade operations detected\n");

    // The index's migration undone: check names it, migrate writes it, upgrade runs it.
    assert_eq!(db(&["downgrade"], &dir, &url).0, 0);
    db(&["stamp", "9d7e3f5a1c22"], &dir, &url);
    let (code, _, err) = db(&["check"], &dir, &url);
    assert_eq!(code, 1);
    assert!(
        err.contains("default: create index ix_post_status on post"),
        "{err}"
    );
    let (code, out, err) = db(&["migrate", "-m", "status index again"], &dir, &url);
    assert_eq!(code, 0, "{err}");
    let written = out.trim().strip_prefix("wrote ").unwrap();
    let text = std::fs::read_to_string(written).unwrap();
    assert!(text.contains("down_revision = \"9d7e3f5a1c22\""), "{text}");
    assert!(text.contains("op = \"create_index\""), "{text}");
    assert_eq!(db(&["upgrade"], &dir, &url).0, 0);
    assert_eq!(db(&["check"], &dir, &url).0, 0);
    let (code, out, _) = db(&["migrate", "-m", "nothing"], &dir, &url);
    assert_eq!((code, out.as_str()), (0, "no changes in schema detected\n"));
    std::fs::remove_dir_all(&root).ok();
}
