//! Flask-SQLAlchemy's table-name rule.

/// Turns a struct name into a table name exactly as Flask-SQLAlchemy 3.1 does.
///
/// Flask-SQLAlchemy applies `re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))", r"_\1", name)`,
/// lowercases the result and strips leading underscores. So an underscore goes before an
/// ASCII capital that follows an ASCII lowercase letter or digit, or that is not the first
/// character and is followed by an ASCII lowercase letter. Existing underscores are kept,
/// and only ASCII capitals start a new word.
///
/// ```
/// use flaskdb_core::camel_to_snake_case;
/// assert_eq!(camel_to_snake_case("HTTPResponse"), "http_response");
/// assert_eq!(camel_to_snake_case("FOOBar"), "foo_bar");
/// assert_eq!(camel_to_snake_case("User_Role"), "user__role");
/// ```
pub fn camel_to_snake_case(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.char_indices() {
        if underscore_before(bytes, i) {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out.trim_start_matches('_').to_owned()
}

/// Whether the rule puts an underscore before byte `i`. The rule only looks at ASCII
/// characters, so it reads bytes: a byte of a non-ASCII character is never one.
const fn underscore_before(name: &[u8], i: usize) -> bool {
    if i == 0 || !name[i].is_ascii_uppercase() {
        return false;
    }
    let prev = name[i - 1];
    prev.is_ascii_lowercase()
        || prev.is_ascii_digit()
        || (i + 1 < name.len() && name[i + 1].is_ascii_lowercase())
}

/// A model's table name as the derive knows it at compile time: given with
/// `#[model(table = "..")]`, or made from the struct name by [`camel_to_snake_case`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum TableName {
    /// `#[model(table = "..")]`.
    Given(&'static str),
    /// The struct name, to be turned into snake case.
    Derived(&'static str),
}

impl TableName {
    /// Whether this is the table called `table`, or `None` when that cannot be decided
    /// at compile time (a non-ASCII struct name, which lowercases by Unicode rules).
    pub const fn is(self, table: &str) -> Option<bool> {
        let (ident, table) = match self {
            TableName::Given(name) => return Some(str_eq(name, table)),
            TableName::Derived(ident) => (ident.as_bytes(), table.as_bytes()),
        };
        if !ident.is_ascii() {
            return None;
        }
        // Streams camel_to_snake_case(ident) against `table`.
        let (mut i, mut j, mut started) = (0, 0, false);
        while i < ident.len() {
            let mut out = [0u8; 2];
            let mut n = 0;
            if started && underscore_before(ident, i) {
                out[0] = b'_';
                n = 1;
            }
            out[n] = ident[i].to_ascii_lowercase();
            n += 1;
            let mut k = 0;
            while k < n {
                if !started && out[k] == b'_' {
                    k += 1;
                    continue;
                }
                started = true;
                if j >= table.len() || table[j] != out[k] {
                    return Some(false);
                }
                j += 1;
                k += 1;
            }
            i += 1;
        }
        Some(j == table.len())
    }
}

/// How many of a child model's `foreign_keys` can carry a relationship to `parent`
/// (only the one named `(table, column)` when a name is given), or `None` when a table
/// name cannot be decided at compile time. `#[derive(Model)]` makes 0 or more than 1 a
/// compile error at the relationship field.
#[doc(hidden)]
pub const fn matching_foreign_keys(
    foreign_keys: &[&[(&str, &str)]],
    child: TableName,
    parent: TableName,
    named: Option<(&str, &str)>,
) -> Option<usize> {
    let (mut group, mut count) = (0, 0);
    while group < foreign_keys.len() {
        let keys = foreign_keys[group];
        let mut i = 0;
        while i < keys.len() {
            let (column, ref_table) = keys[i];
            let Some(points_at_parent) = parent.is(ref_table) else {
                return None;
            };
            let is_named = match named {
                None => true,
                Some((table, named_column)) => match child.is(table) {
                    None => return None,
                    Some(same) => same && str_eq(column, named_column),
                },
            };
            if points_at_parent && is_named {
                count += 1;
            }
            i += 1;
        }
        group += 1;
    }
    Some(count)
}

/// `a == b` for string slices, in a const context.
pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::{TableName, camel_to_snake_case};

    /// Flask-SQLAlchemy's `tests/test_model_name.py::test_camel_to_snake_case`, plus the two
    /// vectors it comments out (their actual outputs) and the names used elsewhere.
    #[test]
    fn flask_sqlalchemy_vectors() {
        let vectors = [
            ("CamelCase", "camel_case"),
            ("Snake_case", "snake_case"),
            ("HTMLLayout", "html_layout"),
            ("LayoutHTML", "layout_html"),
            ("HTTP2Request", "http2_request"),
            ("ShoppingCartSession", "shopping_cart_session"),
            ("ABC", "abc"),
            ("PreABC", "pre_abc"),
            ("ABCPost", "abc_post"),
            ("PreABCPost", "pre_abc_post"),
            ("HTTP2RequestSession", "http2_request_session"),
            ("UserST4", "user_st4"),
            (
                "HTTP2ClientType3EncoderParametersSSE",
                "http2_client_type3_encoder_parameters_sse",
            ),
            (
                "LONGName4TestingCamelCase2snake_caseXYZ",
                "long_name4_testing_camel_case2snake_case_xyz",
            ),
            ("FooBarSSE2", "foo_bar_sse2"),
            (
                "AlarmMessageSS2SignalTransformer",
                "alarm_message_ss2_signal_transformer",
            ),
            ("AstV2Node", "ast_v2_node"),
            ("HTTPResponseCodeXYZ", "http_response_code_xyz"),
            ("get2HTTPResponse123Code", "get2_http_response123_code"),
            ("getHTTPresponseCode", "get_htt_presponse_code"),
            ("__test__Method", "test___method"),
            ("FOOBar", "foo_bar"),
            ("BazBar", "baz_bar"),
            ("HTTPResponse", "http_response"),
            ("User_Role", "user__role"),
            ("User", "user"),
            ("ÄpfelBaum", "äpfel_baum"),
        ];
        for (input, expected) in vectors {
            assert_eq!(camel_to_snake_case(input), expected, "input {input:?}");
            let derived = TableName::Derived(input);
            let compile_time = input.is_ascii().then_some(true);
            assert_eq!(derived.is(expected), compile_time, "input {input:?}");
            assert_eq!(
                derived.is(&format!("{expected}x")),
                compile_time.map(|_| false)
            );
            assert_eq!(
                derived.is(&expected[expected.len().min(2)..]),
                compile_time.map(|_| false)
            );
        }
    }
}
