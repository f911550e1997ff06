//! Compile-fail tests: every diagnostic of `#[derive(Model)]`, with its expected message.
#[test]
fn derive_diagnostics() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
