//! Which hits are answered but not counted: browser prefetch/prerender requests, obvious bots
//! (the `isbot` crate's maintained user-agent list) and `HEAD` probes. They are recorded with
//! their reason and show in the stats as filtered.
//!
//! HTTP client libraries (curl, okhttp, python-requests, Go, Java, Node, .NET, PHP …) are on
//! that list but are not crawlers: they are how an application calls the pixel directly, and
//! such a call counts every time. They are taken off the list.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

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
    /// The bot list's verdicts on recent User-Agents: browsers send a handful of distinct
    /// strings, and the list's regular expression costs more than a lookup.
    verdicts: Mutex<HashMap<Box<str>, bool>>,
}

/// User-Agents whose verdict is remembered; when full, the memory starts over.
const VERDICTS: usize = 4_096;
/// Longer User-Agents are not remembered (checked each time).
const VERDICT_MAX_LEN: usize = 512;

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
        Filter {
            bots,
            verdicts: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the bot list matches `user_agent`, remembered for recent User-Agents.
    fn is_bot(&self, bots: &isbot::Bots, user_agent: &str) -> bool {
        if user_agent.len() > VERDICT_MAX_LEN {
            return bots.is_bot(user_agent);
        }
        let lock = || self.verdicts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(&bot) = lock().get(user_agent) {
            return bot;
        }
        let bot = bots.is_bot(user_agent);
        let mut verdicts = lock();
        if verdicts.len() >= VERDICTS {
            verdicts.clear();
        }
        verdicts.insert(user_agent.into(), bot);
        bot
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
            if user_agent.trim().is_empty() || self.is_bot(bots, user_agent) {
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

    #[test]
    fn remembered_verdicts_match_the_bot_list() {
        let filter = Filter::new(true, &[]);
        let bots = filter.bots.as_ref().unwrap();
        let agents = [
            CHROME,
            "Googlebot/2.1 (+http://www.google.com/bot.html)",
            "curl/8.5.0",
            "Wget/1.21",
        ];
        // Asked twice (the second answer comes from memory) and past the memory's size.
        for round in 0..2 {
            for ua in agents {
                assert_eq!(filter.is_bot(bots, ua), bots.is_bot(ua), "{ua} ({round})");
            }
        }
        for n in 0..VERDICTS + 10 {
            let ua = format!("{CHROME} {n}");
            assert!(!filter.is_bot(bots, &ua));
            let crawler = format!("Googlebot/{n}");
            assert!(filter.is_bot(bots, &crawler));
        }
        assert!(filter.verdicts.lock().unwrap().len() <= VERDICTS);
        let long = format!("{} bingbot", "x".repeat(VERDICT_MAX_LEN));
        assert!(filter.is_bot(bots, &long));
        assert!(!filter.verdicts.lock().unwrap().contains_key(long.as_str()));
    }
}
