#![no_main]

use flaskdb_core::__private::fuzz::{BACKENDS, quote_ident, render_select};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str)| {
    let (table, column, text) = input;
    for backend in BACKENDS {
        let (sql, params) = render_select(backend, table, column, text);
        assert_eq!(params, 4, "{sql}");
        // Once the quoted names are taken out (the longer first, as one may hold the
        // other), the value's text is nowhere in the statement. Short values may match
        // a keyword by chance, and a value inside a name is found there: skip those.
        let mut names = [quote_ident(backend, table), quote_ident(backend, column)];
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let mut rest = sql.clone();
        for name in &names {
            rest = rest.replace(name.as_str(), " ");
        }
        if text.len() >= 8 && !table.contains(text) && !column.contains(text) {
            assert!(!rest.contains(text), "{text:?} in {sql}");
        }
    }
});
