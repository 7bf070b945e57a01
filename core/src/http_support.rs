//! The `http` feature: hits from `http` requests, and pixel answers as `http` responses.

use std::string::{String, ToString};

use http::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::{Request, Response, StatusCode, Uri};

use crate::{CacheMode, HitError, HitParser, PixelHit, GIF};

impl<'a> PixelHit<'a> {
    /// Parses the path and query of `uri` (origin or absolute form).
    ///
    /// ```
    /// use dtpixel::{EventType, HitParser, PixelHit};
    ///
    /// let uri: http::Uri = "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart".parse()?;
    /// let hit = PixelHit::from_uri(&uri, &HitParser::new())?;
    /// assert_eq!(hit.event_type(), EventType::ADD_TO_CART);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_uri(uri: &'a Uri, parser: &HitParser<'_>) -> Result<Self, HitError> {
        match uri.path_and_query() {
            Some(target) => parser.parse(target.as_str()),
            None => Err(HitError::BadTarget),
        }
    }

    /// Parses the target of `request` (its method is the caller's to check).
    pub fn from_request<B>(
        request: &'a Request<B>,
        parser: &HitParser<'_>,
    ) -> Result<Self, HitError> {
        Self::from_uri(request.uri(), parser)
    }
}

/// The pixel answer: `200 OK`, the 43-byte [`GIF`] and the headers of `mode`
/// (see [`CacheMode::headers`]). For `HEAD`, send the same headers with an empty body.
///
/// ```
/// use dtpixel::{gif_response, CacheMode};
///
/// let response: http::Response<Vec<u8>> = gif_response(CacheMode::NoStore);
/// assert_eq!(response.headers()["cache-control"], "no-store");
/// assert_eq!(response.body().len(), 43);
/// ```
pub fn gif_response<B: From<&'static [u8]>>(mode: CacheMode) -> Response<B> {
    let mut response = Response::new(B::from(&GIF[..]));
    let headers = response.headers_mut();
    for (name, value) in mode.headers().iter() {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    response
}

/// The answer to a request that is not a valid hit: `404 Not Found` when the path is not a
/// pixel path at all ([`HitError::NotPixelPath`]), otherwise `400 Bad Request`; a one-line
/// plain-text reason, never cached.
///
/// ```
/// use dtpixel::{error_response, PixelHit};
///
/// let err = PixelHit::parse("/pixel/nope/event.gif").unwrap_err();
/// let response: http::Response<String> = error_response(&err);
/// assert_eq!(response.status(), 400);
/// assert_eq!(response.body(), "invalid pixel id: expected 36 characters (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), found 4\n");
/// ```
pub fn error_response<B: From<String>>(error: &HitError) -> Response<B> {
    let status = match error {
        HitError::NotPixelPath => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut body = error.to_string();
    body.push('\n');
    let mut response = Response::new(B::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    #[test]
    fn cached_gif_response_headers() {
        let response: Response<Vec<u8>> = gif_response(CacheMode::DEFAULT_CACHED);
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "image/gif");
        assert_eq!(
            response.headers()["cache-control"],
            "private, max-age=31536000"
        );
        assert_eq!(response.body(), &GIF);
    }

    #[test]
    fn hits_from_absolute_uris_and_requests() {
        let request = Request::get(
            "https://dttrk.com/t/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?cb=1",
        )
        .body(())
        .unwrap();
        let parser = HitParser::new().with_prefix("/t").unwrap();
        let hit = PixelHit::from_request(&request, &parser).unwrap();
        assert_eq!(hit.cache_mode(), CacheMode::NoStore);
        let other_path: Uri = "/favicon.ico".parse().unwrap();
        let err = PixelHit::from_uri(&other_path, &parser).unwrap_err();
        assert_eq!(error_response::<String>(&err).status(), 404);
    }
}
