//! The integration suite on sqlite.
fn main() -> std::process::ExitCode {
    flaskdb_tests::run(flaskdb::Backend::Sqlite)
}
