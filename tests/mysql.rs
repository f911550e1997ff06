//! The integration suite on mysql.
fn main() -> std::process::ExitCode {
    flaskdb_tests::run(flaskdb::Backend::MySql)
}
