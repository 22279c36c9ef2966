//! Building the API's paths: ids and names as path segments, and lists read page by page.

use hyper::Method;
use serde::de::DeserializeOwned;

use super::client::{Client, QUICK};
use crate::error::Result;

/// `text` as one path segment: letters, digits and `-._~` as they are, the rest escaped.
pub(super) fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct Page<T> {
    items: Vec<T>,
    #[serde(default)]
    next: Option<String>,
}

/// Every item of a paged list: `path` ends in `?` or `&`, the pages' `limit` and `after` follow.
pub(super) async fn all_pages<T: DeserializeOwned>(client: &Client, path: &str) -> Result<Vec<T>> {
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut page_path = format!("{path}limit=1000");
        if let Some(after) = &after {
            page_path.push_str(&format!("&after={}", segment(after)));
        }
        let page: Page<T> = client.call(Method::GET, &page_path, None, QUICK).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_escaped_as_path_segments() {
        assert_eq!(super::segment("svc-1a2b"), "svc-1a2b");
        assert_eq!(super::segment("a b/c"), "a%20b%2Fc");
    }
}
