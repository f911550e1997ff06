#![no_main]

use flaskdb_core::__private::fuzz::{BACKENDS, quote_ident};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|name: &str| {
    for backend in BACKENDS {
        let quoted = quote_ident(backend, name);
        let q = quoted.chars().next().expect("a quote");
        assert!(matches!(q, '"' | '`'));
        assert!(quoted.len() >= 2 && quoted.ends_with(q));
        let inner = &quoted[q.len_utf8()..quoted.len() - q.len_utf8()];
        // Inside, quotes come in pairs only: the name cannot end the identifier early.
        let undoubled = inner.replace(&format!("{q}{q}"), "");
        assert!(!undoubled.contains(q), "{quoted}");
        assert_eq!(inner.replace(&format!("{q}{q}"), &q.to_string()), name);
    }
});
