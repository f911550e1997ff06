#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|name: &str| {
    let snake = flaskdb_core::camel_to_snake_case(name);
    assert!(!snake.bytes().any(|b| b.is_ascii_uppercase()), "{name:?} -> {snake:?}");
    assert_eq!(flaskdb_core::camel_to_snake_case(&snake), snake);
});
