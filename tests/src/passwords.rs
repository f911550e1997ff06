//! Passwords for the properties that no output shows them: arbitrary text between two
//! markers, percent-encoded or not. Shared by the `secrets` test and the CLI's tests
//! (`flaskdb/tests/cli.rs` includes this file).

use std::fmt::Write as _;

use proptest::prelude::*;

/// The password's first and last characters: a password cut anywhere leaves one of
/// them whole on either side of the cut.
pub const HEAD: &str = "QxPw";
pub const TAIL: &str = "ZkPw";

/// A password: `HEAD`, up to 12 pieces (printable ASCII, non-ASCII, URL syntax and
/// escapes), `TAIL`.
pub fn password() -> impl Strategy<Value = String> {
    let syntax = [
        "@",
        "#",
        "/",
        "?",
        ";",
        " ",
        ":",
        "&",
        "%",
        "%40",
        "%2F",
        "%25",
        "%zz",
        "://",
        "=",
        "password=",
        "\\",
        "[",
        "]",
    ];
    let piece = prop_oneof![
        4 => proptest::char::range(' ', '~').prop_map(String::from),
        1 => any::<char>()
            .prop_filter("printable", |c| !c.is_control())
            .prop_map(String::from),
        2 => proptest::sample::select(syntax.to_vec()).prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|p| format!("{HEAD}{}{TAIL}", p.concat()))
}

/// Every byte but ASCII letters and digits as `%XX`.
pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            write!(out, "%{b:02X}").unwrap();
        }
    }
    out
}

/// `%XX` escapes decoded (others kept as they are), as a URL parser reads them.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// What must not show when a URL holds `written` as its password: `written`, its
/// percent-decoded form, and each marker (what is left of a password cut anywhere).
pub fn secrets(written: &str) -> [String; 4] {
    [
        written.to_owned(),
        decode(written),
        HEAD.into(),
        TAIL.into(),
    ]
}
