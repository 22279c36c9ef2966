//! `?limit=N&after=ID` on the list routes: at most `limit` items (default [`DEFAULT_LIMIT`], at
//! most [`MAX_LIMIT`]) that follow the item `after`, oldest first. `total` counts the whole
//! list; `next` is the `after` of the next page and is absent on the last one.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub(crate) const DEFAULT_LIMIT: usize = 100;
pub(crate) const MAX_LIMIT: usize = 1000;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// At most this many items (default 100, at most 1000).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// Start after the item with this id: the `next` of the previous page.
    #[serde(default)]
    after: Option<String>,
}

impl PageQuery {
    pub(crate) fn new(limit: Option<usize>, after: Option<String>) -> Self {
        PageQuery { limit, after }
    }

    pub(crate) fn limit(&self) -> Result<usize> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n @ 1..=MAX_LIMIT) => Ok(n),
            Some(n) => Err(Error::usage(format!(
                "limit={n} is out of range: give between 1 and {MAX_LIMIT}"
            ))
            .with_help("page through longer lists with after=<the last id of a page>")),
        }
    }

    pub(crate) fn after(&self) -> Option<&str> {
        self.after.as_deref()
    }
}

/// An `after` that names nothing in the list (deleted since the previous page, or a typo).
pub(crate) fn unknown_cursor(after: &str) -> Error {
    Error::usage(format!("after={after} names nothing in this list"))
        .with_help("it may have been deleted since; start again without `after`")
}

/// `{"items": [...], "total": N, "next": ID}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Page<T> {
    items: Vec<T>,
    /// Items in the whole list, not only this page.
    total: usize,
    /// The `after` of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    next: Option<String>,
}

impl<T> Page<T> {
    /// From up to `limit + 1` items fetched after the cursor: an extra one only says that more
    /// follow.
    pub(crate) fn fetched(
        mut items: Vec<T>,
        limit: usize,
        total: usize,
        id: impl Fn(&T) -> &str,
    ) -> Self {
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more {
            items.last().map(|last| id(last).to_owned())
        } else {
            None
        };
        Page { items, total, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: Option<usize>, after: Option<&str>) -> PageQuery {
        PageQuery {
            limit,
            after: after.map(str::to_owned),
        }
    }

    fn ids(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("id-{i}")).collect()
    }

    #[test]
    fn one_item_past_the_limit_means_a_next_page() {
        let page = Page::fetched(ids(0..3), 2, 5, |s| s);
        assert_eq!((page.items.as_slice(), page.total), (&ids(0..2)[..], 5));
        assert_eq!(page.next.as_deref(), Some("id-1"));
        let last = Page::fetched(ids(4..5), 2, 5, |s| s);
        assert_eq!((last.items, last.next), (ids(4..5), None));
    }

    #[test]
    fn the_default_limit_and_its_bounds() {
        assert_eq!(query(None, None).limit().unwrap(), DEFAULT_LIMIT);
        assert_eq!(query(Some(MAX_LIMIT), None).limit().unwrap(), MAX_LIMIT);
        for limit in [0, MAX_LIMIT + 1] {
            let err = query(Some(limit), None).limit().unwrap_err();
            assert_eq!(err.code, crate::error::Kind::Usage, "{limit}");
        }
        let err = unknown_cursor("gone");
        assert_eq!(err.code, crate::error::Kind::Usage);
        assert!(err.message.contains("after=gone"), "{}", err.message);
    }
}
