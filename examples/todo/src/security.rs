//! The application's two guards, axum middlewares that [`app`](crate::app) puts around
//! the whole router (every route and the fallback), so no form or page can miss them:
//!
//! - [`refuse_cross_origin`]: cross-site request forgery protection for everything that
//!   changes data;
//! - [`security_headers`]: the headers that keep the pages from being framed, sniffed,
//!   or made to run anything but what they were written with.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Refuses, with a 403 that says why, a request that may change data (any method but
/// GET, HEAD, OPTIONS and TRACE) when the browser says it comes from a page of another
/// origin; such a request never reaches a handler or opens a database scope.
///
/// The check needs no state and no change to the forms, so it covers every form the
/// application has or will have; it is the one Go's `net/http.CrossOriginProtection`
/// makes:
///
/// 1. `Sec-Fetch-Site`, which every current browser sets on every request and a page
///    cannot forge: only `same-origin` (this application's own pages) and `none` (the
///    user's own doing: the address bar, a bookmark) pass. `same-site` is refused
///    too: another port or subdomain of the same site is another application.
/// 2. Without it (a browser older than 2023), `Origin`, which browsers send on every
///    cross-origin POST: it must name this host, the `Host` the request was sent to
///    (its scheme is not compared: behind a TLS proxy the application sees plain
///    HTTP). `Origin: null`, from a sandboxed frame or a `data:` page, is refused.
/// 3. A request with neither comes from a client that is not a browser (curl, a
///    script): it carries no victim's cookies, so it is not a forgery, and passes.
///
/// A per-form token would need a session to keep it in, which this application does
/// not have, and every form to carry it; a form that forgot would be open.
pub(crate) async fn refuse_cross_origin(request: Request, next: Next) -> Response {
    match cross_origin(&request) {
        Some(why) => (
            StatusCode::FORBIDDEN,
            format!(
                "Forbidden: only this site's own pages may change its data, and this \
                 request came from another ({why}).\n"
            ),
        )
            .into_response(),
        None => next.run(request).await,
    }
}

/// Why `request` is a cross-origin request that may change data, or `None` when it is
/// not one (see [`refuse_cross_origin`]).
fn cross_origin(request: &Request) -> Option<String> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return None;
    }
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.as_bytes() {
            b"same-origin" | b"none" => None,
            _ => Some(format!("Sec-Fetch-Site: {}", lossy(site))),
        };
    }
    let origin = headers.get(header::ORIGIN)?;
    // HTTP/1.1 names the host in `Host`; HTTP/2 in the request's URI.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, host)| host);
    match (origin_host, host) {
        (Some(origin), Some(host)) if origin.eq_ignore_ascii_case(host) => None,
        _ => Some(format!("Origin {} is not this site", lossy(origin))),
    }
}

/// A header's value as text, for a message.
fn lossy(value: &HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

/// The Content-Security-Policy of every response. Nothing is allowed by default; the
/// pages need their stylesheet (`/style.css`) and their forms, which post to this
/// origin. No script at all, inline or not (the pages have none), no `<base>`, and no
/// framing by any page (`frame-ancestors`, against clickjacking).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Adds to every response, pages, redirects, errors and the JSON API alike:
/// [`CONTENT_SECURITY_POLICY`]; `X-Content-Type-Options: nosniff`, so that a response
/// is only ever what its `Content-Type` says (the JSON API is never run as a script);
/// `X-Frame-Options: DENY`, `frame-ancestors` for browsers that predate it; and
/// `Referrer-Policy: same-origin`, so that following a link to another site does not
/// tell it which todo was open.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
