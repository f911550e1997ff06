#![no_main]

use flaskdb_core::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str)| {
    let (url, binds, options) = input;
    // A password to look for: every URL in the input gets it.
    let secret = "Sup3rS3cretPw";
    let url = format!("postgres://user:{secret}@{url}");
    let binds = binds.replace("://", &format!("://u:{secret}@"));
    let lookup = |key: &str| match key {
        "DATABASE_URL" => Some(url.clone()),
        "FLASKDB_BINDS" => Some(binds.clone()),
        "FLASKDB_ENGINE_OPTIONS" => Some(options.to_owned()),
        _ => None,
    };
    // The secret may land where a URL has a host or a port; as a password (between
    // `user:` and `@`) it must never be shown.
    if let Err(e) = Config::from_lookup(lookup) {
        assert!(!e.to_string().contains(&format!(":{secret}@")), "{e}");
    }
});
