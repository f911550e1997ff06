#![no_main]

use flaskdb_core::__private::fuzz::{BACKENDS, quote_ident, render_select};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str)| {
    let (table, column, text) = input;
    for backend in BACKENDS {
        let (sql, params) = render_select(backend, table, column, text);
        assert_eq!(params, 4, "{sql}");
        // Once the quoted names are taken out, the value's text is nowhere in the
        // statement (short values may match a keyword by chance, so test longer ones).
        let mut rest = sql.clone();
        for name in [quote_ident(backend, table), quote_ident(backend, column)] {
            rest = rest.replace(&name, "");
        }
        if text.len() >= 8 && !rest.is_empty() {
            assert!(!rest.contains(text), "{text:?} in {sql}");
        }
    }
});
