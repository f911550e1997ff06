#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str)| {
    let (url, binds, flag) = input;
    flaskdb_core::__private::fuzz::config_from_env(url, binds, flag);
});
