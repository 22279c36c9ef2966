//! `?limit=N&after=ID` on the list routes: at most `limit` items (default [`DEFAULT_LIMIT`], at
//! most [`MAX_LIMIT`]) that follow the item `after`, oldest first. `total` counts the whole
//! list; `next` is the `after` of the next page and is absent on the last one.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub(crate) const DEFAULT_LIMIT: usize = 100;
pub(crate) const MAX_LIMIT: usize = 1000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    after: Option<String>,
}

impl PageQuery {
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
#[derive(Debug, Serialize)]
pub(crate) struct Page<T> {
    items: Vec<T>,
    total: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
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

    /// A page cut from a whole list held in memory.
    pub(crate) fn cut(all: Vec<T>, q: &PageQuery, id: impl Fn(&T) -> &str) -> Result<Self> {
        let limit = q.limit()?;
        let total = all.len();
        let start = match q.after() {
            None => 0,
            Some(after) => {
                all.iter()
                    .position(|item| id(item) == after)
                    .ok_or_else(|| unknown_cursor(after))?
                    + 1
            }
        };
        let items: Vec<T> = all.into_iter().skip(start).take(limit + 1).collect();
        Ok(Page::fetched(items, limit, total, id))
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

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("id-{i}")).collect()
    }

    #[test]
    fn pages_follow_each_other_to_the_end() {
        let all = ids(5);
        let first = Page::cut(all.clone(), &query(Some(2), None), |s| s).unwrap();
        assert_eq!((first.items.as_slice(), first.total), (&ids(2)[..], 5));
        assert_eq!(first.next.as_deref(), Some("id-1"));
        let second = Page::cut(all.clone(), &query(Some(2), Some("id-1")), |s| s).unwrap();
        assert_eq!(second.items, ["id-2", "id-3"]);
        let last = Page::cut(all, &query(Some(2), Some("id-3")), |s| s).unwrap();
        assert_eq!(
            (last.items.as_slice(), last.next),
            (&["id-4".to_owned()][..], None)
        );
    }

    #[test]
    fn the_default_caps_a_long_list() {
        let page = Page::cut(ids(DEFAULT_LIMIT + 5), &query(None, None), |s| s).unwrap();
        assert_eq!(page.items.len(), DEFAULT_LIMIT);
        assert_eq!(page.total, DEFAULT_LIMIT + 5);
        assert!(page.next.is_some());
    }

    #[test]
    fn bad_limits_and_unknown_cursors_are_usage_errors() {
        for limit in [0, MAX_LIMIT + 1] {
            let err = Page::cut(ids(3), &query(Some(limit), None), |s| s).unwrap_err();
            assert_eq!(err.code, crate::error::Kind::Usage, "{limit}");
        }
        let err = Page::cut(ids(3), &query(None, Some("gone")), |s| s).unwrap_err();
        assert!(err.message.contains("after=gone"), "{}", err.message);
    }
}
