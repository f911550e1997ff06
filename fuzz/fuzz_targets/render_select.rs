#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str)| {
    let (table, column, text) = input;
    flaskdb_core::__private::fuzz::render_select(table, column, text);
});
