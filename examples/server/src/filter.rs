//! Which hits are answered but not counted: browser prefetch/prerender requests, obvious bots
//! (the `isbot` crate's maintained user-agent list) and `HEAD` probes. They are recorded with
//! their reason and show in the stats as filtered.
//!
//! HTTP client libraries (curl, okhttp, python-requests, Go, Java, Node, .NET, PHP …) are on
//! that list but are not crawlers: they are how an application calls the pixel directly, and
//! such a call counts every time. They are taken off the list.

use axum::http::{HeaderMap, Method};

/// Why a hit is not counted.
pub const PREFETCH: &str = "prefetch";
/// A known bot user agent.
pub const BOT: &str = "bot";
/// A `HEAD` request: answered like `GET`, but nothing was loaded.
pub const HEAD: &str = "head";

/// Classifies requests.
pub struct Filter {
    bots: Option<isbot::Bots>,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("bots", &self.bots.is_some())
            .finish()
    }
}

/// `isbot` patterns of HTTP client libraries: direct application calls, counted.
const HTTP_CLIENT_LIBRARIES: &[&str] = &[
    "^curl",
    "^java/",
    "^lua-resty-http",
    "^php-curl-class",
    "aiohttp",
    "axios",
    "go-http-client",
    "guzzlehttp",
    "httpclient",
    "httpurlconnection",
    "httpx",
    "node-fetch/",
    "okhttp",
    "pycurl",
    "python-requests",
    "python-urllib",
];

impl Filter {
    /// A filter with the default bot list less HTTP client libraries, minus the patterns in
    /// `allow` (for example `headlesschrome` to count a headless browser under test);
    /// `bot_filter: false` counts every user agent.
    pub fn new(bot_filter: bool, allow: &[String]) -> Self {
        let bots = bot_filter.then(|| {
            let mut bots = isbot::Bots::default();
            bots.remove(HTTP_CLIENT_LIBRARIES);
            let allow: Vec<&str> = allow.iter().map(String::as_str).collect();
            bots.remove(&allow);
            bots
        });
        Filter { bots }
    }

    /// The reason `request` is not counted, or `None` when it counts.
    pub fn reason(
        &self,
        method: &Method,
        headers: &HeaderMap,
        user_agent: &str,
    ) -> Option<&'static str> {
        if is_prefetch(headers) {
            return Some(PREFETCH);
        }
        if let Some(bots) = &self.bots {
            if user_agent.trim().is_empty() || bots.is_bot(user_agent) {
                return Some(BOT);
            }
        }
        if method == Method::HEAD {
            return Some(HEAD);
        }
        None
    }
}

/// `Sec-Purpose: prefetch` (also `prefetch;prerender`), `Purpose: prefetch`,
/// `X-Purpose: preview` and `X-Moz: prefetch`.
fn is_prefetch(headers: &HeaderMap) -> bool {
    let has = |name: &str, word: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split([';', ',', ' '])
                    .any(|token| token.trim().eq_ignore_ascii_case(word))
            })
        })
    };
    has("sec-purpose", "prefetch")
        || has("sec-purpose", "prerender")
        || has("purpose", "prefetch")
        || has("x-purpose", "preview")
        || has("x-moz", "prefetch")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

    #[test]
    fn classifies_prefetch_bots_and_head() {
        let filter = Filter::new(true, &[]);
        let mut headers = HeaderMap::new();
        assert_eq!(filter.reason(&Method::GET, &headers, CHROME), None);
        assert_eq!(filter.reason(&Method::HEAD, &headers, CHROME), Some(HEAD));
        assert_eq!(
            filter.reason(
                &Method::GET,
                &headers,
                "Googlebot/2.1 (+http://www.google.com/bot.html)"
            ),
            Some(BOT)
        );
        assert_eq!(filter.reason(&Method::GET, &headers, ""), Some(BOT));
        // An application calling the pixel directly counts; a crawler does not.
        for app in [
            "curl/8.5.0",
            "okhttp/4.12.0",
            "python-requests/2.31.0",
            "Go-http-client/1.1",
        ] {
            assert_eq!(filter.reason(&Method::GET, &headers, app), None, "{app}");
        }
        assert_eq!(
            filter.reason(&Method::GET, &headers, "Wget/1.21"),
            Some(BOT)
        );
        let headless = CHROME.replace("Chrome/", "HeadlessChrome/");
        assert_eq!(filter.reason(&Method::GET, &headers, &headless), Some(BOT));
        let allowing = Filter::new(true, &["headlesschrome".into()]);
        assert_eq!(allowing.reason(&Method::GET, &headers, &headless), None);
        headers.insert(
            "sec-purpose",
            HeaderValue::from_static("prefetch;prerender"),
        );
        assert_eq!(
            filter.reason(&Method::GET, &headers, CHROME),
            Some(PREFETCH)
        );
        let mut headers = HeaderMap::new();
        headers.insert("purpose", HeaderValue::from_static("prefetch"));
        assert_eq!(
            filter.reason(&Method::GET, &headers, CHROME),
            Some(PREFETCH)
        );
        assert_eq!(
            Filter::new(false, &[]).reason(&Method::GET, &HeaderMap::new(), ""),
            None
        );
    }
}
