//! One page of a list answer, and the rows of every page of a listing.
//!
//! A page is read row by row: a row that does not decode fails alone, as an
//! [`ItemFailure`] whose [`Error::Decode`] names the row and the field
//! (`data[3].scheduledFrom`); the other rows of the page are still returned.
//! Only an answer that is not a list envelope at all (not JSON, `data` not an
//! array, …) fails the whole page.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::error::{Error, Result};
use super::models::ListEnvelope;

/// One page of a list: the rows plus what is needed to fetch the next one.
#[derive(Debug)]
#[non_exhaustive]
pub struct Page<T> {
    /// The rows of this page that decoded.
    pub items: Vec<T>,
    /// The rows of this page that did not decode, each with its error.
    pub failed: Vec<ItemFailure>,
    /// Number of records matching the filter over all pages (`totalCount`).
    pub total_count: Option<u64>,
    /// Offset this page was requested with.
    pub offset: u64,
    /// Limit this page was requested with.
    pub limit: u32,
    /// The server's clock when it answered (the HTTP `Date` header, whole
    /// seconds), when it sent one: a watermark for incremental reads that
    /// does not depend on the local clock.
    pub server_time: Option<DateTime<Utc>>,
}

/// A row of a list answer that could not be decoded.
#[derive(Debug)]
#[non_exhaustive]
pub struct ItemFailure {
    /// The row's position in its page's `data` array.
    pub index: usize,
    /// The row's `id` (a number or a decimal string), when it could be read.
    pub id: Option<u64>,
    /// Why: an [`Error::Decode`] whose path names the row and the field,
    /// e.g. `data[3].scheduledFrom`.
    pub error: Error,
}

impl ItemFailure {
    /// The path of the failing field inside the page, e.g. `data[3].scheduledFrom`.
    pub fn path(&self) -> &str {
        match &self.error {
            Error::Decode { path, .. } => path,
            _ => "",
        }
    }
}

impl std::fmt::Display for ItemFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            Error::Decode { path, source, .. } => write!(f, "cannot decode `{path}`: {source}"),
            other => write!(f, "{other}"),
        }
    }
}

impl<T: DeserializeOwned> Page<T> {
    /// Parses the body of a list answer (`{"success", "totalCount", "data": [..]}`)
    /// requested with `offset` and `limit`, row by row: a row that does not
    /// decode goes to [`Page::failed`] and the others are kept.
    /// [`Page::server_time`] is left empty (it comes from the HTTP headers).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] (naming `endpoint` and the field path) when the body
    /// is not a list envelope.
    pub fn parse(endpoint: &str, body: &[u8], offset: u64, limit: u32) -> Result<Self> {
        let de = &mut serde_json::Deserializer::from_slice(body);
        let env: ListEnvelope<serde_json::Value> =
            serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
                endpoint: endpoint.to_owned(),
                path: e.path().to_string(),
                source: e.into_inner(),
            })?;
        let mut items = Vec::with_capacity(env.data.len());
        let mut failed = Vec::new();
        for (index, row) in env.data.into_iter().enumerate() {
            let id = row_id(&row);
            match serde_path_to_error::deserialize::<_, T>(row) {
                Ok(item) => items.push(item),
                Err(e) => failed.push(ItemFailure {
                    index,
                    id,
                    error: Error::Decode {
                        endpoint: endpoint.to_owned(),
                        path: item_path("data", index, &e.path().to_string()),
                        source: e.into_inner(),
                    },
                }),
            }
        }
        Ok(Page {
            items,
            failed,
            total_count: env.total_count,
            offset,
            limit,
            server_time: None,
        })
    }
}

impl<T> Page<T> {
    /// Rows on this page, decoded or not.
    pub fn rows(&self) -> usize {
        self.items.len() + self.failed.len()
    }

    /// Offset of the next page, or `None` when this was the last one.
    pub fn next_offset(&self) -> Option<u64> {
        let rows = self.rows();
        let next = self.offset + rows as u64;
        if rows == 0 || rows < self.limit as usize {
            return None;
        }
        match self.total_count {
            Some(total) if next >= total => None,
            _ => Some(next),
        }
    }

    /// True when no further page exists.
    pub fn is_last(&self) -> bool {
        self.next_offset().is_none()
    }
}

/// The rows of every page of a listing: those that decoded, those that did
/// not (each with its error), and the server's clock at the first answer.
#[derive(Debug)]
#[non_exhaustive]
pub struct Listing<T> {
    /// The rows that decoded, in order.
    pub items: Vec<T>,
    /// The rows that did not decode, in order.
    pub failed: Vec<ItemFailure>,
    /// The server's clock (HTTP `Date`) when it answered the first page.
    pub server_time: Option<DateTime<Utc>>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Listing {
            items: Vec::new(),
            failed: Vec::new(),
            server_time: None,
        }
    }
}

impl<T> Listing<T> {
    /// The rows, or the first row's error when any row did not decode (for
    /// callers that cannot use a listing with holes).
    ///
    /// # Errors
    ///
    /// The first failed row's [`Error::Decode`].
    pub fn into_complete(self) -> Result<Vec<T>> {
        match self.failed.into_iter().next() {
            Some(f) => Err(f.error),
            None => Ok(self.items),
        }
    }
}

/// The `id` of a raw row: a number or a decimal string.
fn row_id(row: &serde_json::Value) -> Option<u64> {
    match row.get("id")? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `array[index]` joined with the path inside the row (`.` is the row itself).
pub(crate) fn item_path(array: &str, index: usize, inner: &str) -> String {
    match inner {
        "." | "" => format!("{array}[{index}]"),
        p if p.starts_with('[') => format!("{array}[{index}]{p}"),
        p => format!("{array}[{index}].{p}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: usize, offset: u64, limit: u32, total: Option<u64>) -> Page<u8> {
        Page {
            items: vec![0; n],
            failed: Vec::new(),
            total_count: total,
            offset,
            limit,
            server_time: None,
        }
    }

    #[test]
    fn next_offset_rules() {
        assert_eq!(page(10, 0, 10, Some(25)).next_offset(), Some(10));
        assert_eq!(page(5, 20, 10, Some(25)).next_offset(), None);
        assert_eq!(page(10, 10, 10, Some(20)).next_offset(), None);
        assert_eq!(page(10, 10, 10, None).next_offset(), Some(20));
        assert_eq!(page(0, 0, 10, None).next_offset(), None);
    }

    #[test]
    fn failed_rows_count_for_paging() {
        let p: Page<crate::client::models::RowSummary> = Page::parse(
            "GET /meeting/",
            br#"{"totalCount":5,"data":[{"id":1},{"id":"2","_version":"x"},{"id":3}]}"#,
            0,
            3,
        )
        .expect("page");
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.failed.len(), 1);
        assert_eq!(p.failed[0].id, Some(2));
        assert_eq!(p.failed[0].index, 1);
        assert!(
            p.failed[0].path().starts_with("data[1]"),
            "{}",
            p.failed[0].path()
        );
        assert_eq!(p.next_offset(), Some(3));
    }

    #[test]
    fn item_paths_join() {
        assert_eq!(item_path("data", 2, "."), "data[2]");
        assert_eq!(item_path("data", 2, "title"), "data[2].title");
        assert_eq!(item_path("value", 0, "[1]"), "value[0][1]");
    }
}
