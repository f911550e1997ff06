#![no_main]

use flaskdb_core::__private::fuzz::{BACKENDS, render_select};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str)| {
    let (table, column, text) = input;
    for backend in BACKENDS {
        let (sql, params) = render_select(backend, table, column, text);
        // The value is only ever bound: whatever it is, the statement's text is the
        // same as for an empty value, with the same four parameters.
        let (plain, plain_params) = render_select(backend, table, column, "");
        assert_eq!(params, 4, "{sql}");
        assert_eq!(params, plain_params);
        assert_eq!(sql, plain, "{text:?} changed the statement");
    }
});
