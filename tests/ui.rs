//! Compile-fail tests: every diagnostic of `#[derive(Model)]`, and the code flaskdb
//! refuses to compile (raw SQL built with `format!`, LIKE on a number), each with its
//! expected message.
#[test]
fn derive_diagnostics() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
