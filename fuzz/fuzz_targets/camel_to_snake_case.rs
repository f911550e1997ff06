#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|name: &str| flaskdb_core::__private::fuzz::camel_to_snake_case(name));
