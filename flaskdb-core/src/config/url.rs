//! Database URLs: the backend a URL names, and the URL with its password hidden.

use crate::backend::Backend;
use crate::error::{Error, Result};

impl Backend {
    /// The backend a URL's scheme names.
    ///
    /// # Errors
    /// [`Error::Config`] for an unknown scheme, or a text with no `scheme:` at all
    /// (`sqlite` alone is not a URL).
    pub fn from_url(url: &str) -> Result<Backend> {
        let scheme = url
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("sqlite") => Ok(Backend::Sqlite),
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            Some("mysql" | "mariadb") => Ok(Backend::MySql),
            _ => Err(Error::Config(format!(
                "unsupported database URL `{}`: the scheme must be sqlite:, postgres://, \
                 postgresql://, mysql:// or mariadb://",
                redact_url(url)
            ))),
        }
    }
}

/// Replaces the password of a URL (`user:password@` and `password=` parameters) with `***`.
///
/// A password is hidden whatever characters it holds, even ones a URL should have
/// percent-encoded (`@`, `/`, `#`, `:`, even `://`): everything from the first `:` of the
/// user info to the last `@` of the text is the password. A text holding several URLs
/// (as a bind list does) is therefore hidden from the first one's password to the last
/// one's host: more than the passwords, never less.
///
/// ```
/// use flaskdb_core::redact_url;
/// assert_eq!(redact_url("postgres://app:s3cret@db/app"), "postgres://app:***@db/app");
/// assert_eq!(redact_url("mysql://h/db?password=x&ssl=1"), "mysql://h/db?password=***&ssl=1");
/// assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
/// assert_eq!(redact_url("postgres://db:5432/app"), "postgres://db:5432/app");
/// assert_eq!(redact_url("a=mysql://u:x@h/a; b=postgres://v:y@h/b"), "a=mysql://u:***@h/b");
/// // `p@ss:w/rd%40`, percent-encoded as it should be, and not.
/// assert_eq!(redact_url("postgres://app:p%40ss%3Aw%2Frd%2540@db/app"), "postgres://app:***@db/app");
/// assert_eq!(redact_url("postgres://app:p@ss:w/rd%40@db/app"), "postgres://app:***@db/app");
/// assert_eq!(redact_url("postgres://app:pa#ss@db/x"), "postgres://app:***@db/x");
/// assert_eq!(redact_url("postgres://app:a://b@db/x"), "postgres://app:***@db/x");
/// ```
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some((scheme, _)) = out.split_once("://") {
        let start = scheme.len() + 3;
        let rest = &out[start..];
        if let (Some(first_at), Some(last_at)) = (rest.find('@'), rest.rfind('@'))
            && let Some(colon) = rest[..first_at].find(':')
        {
            out.replace_range(start + colon + 1..start + last_at, "***");
        }
    }
    // `password=` parameters, up to the next parameter, URL or fragment.
    let lower = out.to_ascii_lowercase();
    let values: Vec<usize> = lower
        .match_indices("password=")
        .filter(|(i, _)| *i > 0 && matches!(lower.as_bytes()[i - 1], b'?' | b'&'))
        .map(|(i, key)| i + key.len())
        .collect();
    for start in values.into_iter().rev() {
        let end = out[start..]
            .find(['&', ';', ' ', '#'])
            .map_or(out.len(), |i| start + i);
        out.replace_range(start..end, "***");
    }
    out
}
