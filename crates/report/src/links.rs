//! Links from the page to report files: relative, and percent-encoded per path segment, so
//! no file name can become a scheme, a query or markup.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters is encoded in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A relative URL for a report file (`/`-separated path); never a scheme or a query.
pub(crate) fn link(path: &str) -> String {
    path.split('/')
        .map(|segment| utf8_percent_encode(segment, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_are_percent_encoded_per_segment() {
        assert_eq!(super::link("thumbs/3.jpg"), "thumbs/3.jpg");
        assert_eq!(
            super::link("a b/x\"<y>:?#%.svg"),
            "a%20b/x%22%3Cy%3E%3A%3F%23%25.svg"
        );
        assert_eq!(super::link("日本.csv"), "%E6%97%A5%E6%9C%AC.csv");
    }
}
