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
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let after_lower_or_digit =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let before_lower = i > 0 && chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if after_lower_or_digit || before_lower {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out.trim_start_matches('_').to_owned()
}

#[cfg(test)]
mod tests {
    use super::camel_to_snake_case;

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
        }
    }
}
