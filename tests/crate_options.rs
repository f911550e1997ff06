//! What depends on how an application's crate is set up, checked by building small
//! crates with cargo: `[package.metadata.flaskdb] require_table_names = true` rejects
//! only the model without `#[model(table = "..")]`, and a crate built without the
//! `postgres` feature gets a clear error (with no password) for a `postgres://` URL.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::{Command, Output};

/// Writes a crate depending on flaskdb (default features) and runs `cargo <command>`
/// in it, with the workspace's lock file and a target directory of its own.
fn cargo_in_crate(name: &str, metadata: &str, files: &[(&str, &str)], command: &str) -> Output {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = std::env::temp_dir().join(format!("flaskdb-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let flaskdb = workspace.join("flaskdb").display().to_string();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             publish = false\n\n{metadata}\n\n[dependencies]\nflaskdb = {{ path = {flaskdb:?} }}\n\
             tokio = {{ version = \"1\", features = [\"rt\"] }}\n\n[workspace]\n"
        ),
    )
    .unwrap();
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    for (path, text) in files {
        std::fs::write(dir.join(path), text).unwrap();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([command, "--offline", "--quiet", "--message-format", "short"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", workspace.join("target/crate-options"))
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    output
}

#[test]
fn a_crate_requiring_table_names_rejects_generated_ones() {
    let output = cargo_in_crate(
        "explicit-names",
        "[package.metadata.flaskdb]\nrequire_table_names = true",
        &[(
            "src/lib.rs",
            "use flaskdb::Model;\n\n\
             #[derive(Model)]\n#[model(table = \"named\")]\npub struct Named {\n    pub id: i64,\n}\n\n\
             #[derive(Model)]\npub struct Unnamed {\n    pub id: i64,\n}\n",
        )],
        "check",
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("this crate requires explicit table names")
            && stderr.contains("to `Unnamed`"),
        "{stderr}"
    );
    assert!(!stderr.contains("`Named`"), "{stderr}");
}

#[test]
fn a_backend_without_its_feature_is_a_clear_error() {
    let output = cargo_in_crate(
        "sqlite-only",
        "",
        &[(
            "src/main.rs",
            "fn main() {\n\
             let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();\n\
             let config = flaskdb::Config::new(\"postgres://app:pa55w0rd@127.0.0.1/app\");\n\
             let e = rt.block_on(flaskdb::Db::connect(config)).unwrap_err();\n\
             println!(\"{e}\");\n}\n",
        )],
        "run",
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("needs the `postgres` feature of flaskdb"),
        "{stdout}"
    );
    assert!(
        stdout.contains("postgres://app:***@127.0.0.1/app"),
        "{stdout}"
    );
    assert!(!stdout.contains("pa55w0rd"), "{stdout}");
}
