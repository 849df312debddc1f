//! Paged collections and delta rounds.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::{Error, Result};

/// One page of a collection: its items plus the link to the next page or, on the last page of
/// a delta round, the delta link for the next round.
///
/// A page is read item by item: an item that does not decode fails alone, as an
/// [`ItemFailure`] whose [`Error::Decode`] names the item and the field
/// (`value[3].start.dateTime`), and the other items are kept. Delta rounds use that (the sides
/// report such an item as unreadable); every other listing is strict ([`Page::complete`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items that decoded.
    pub items: Vec<T>,
    /// The items that did not decode, each with its error.
    pub failed: Vec<ItemFailure>,
    /// `@odata.nextLink`: more pages follow (call it verbatim).
    pub next_link: Option<String>,
    /// `@odata.deltaLink`: the round is complete; store it for the next round.
    pub delta_link: Option<String>,
}

/// An item of a page that could not be decoded.
#[derive(Debug)]
#[non_exhaustive]
pub struct ItemFailure {
    /// The item's position in its page's `value` array.
    pub index: usize,
    /// The item's `id`, when it is a string.
    pub id: Option<String>,
    /// Why: an [`Error::Decode`] whose path names the item and the field, e.g.
    /// `value[3].start.dateTime`.
    pub error: Error,
}

impl ItemFailure {
    /// The path of the failing field inside the page, e.g. `value[3].start.dateTime`.
    #[must_use]
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

#[derive(Deserialize)]
struct RawPage {
    value: Vec<serde_json::Value>,
    #[serde(default, rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(default, rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

impl<T: DeserializeOwned> Page<T> {
    /// Parses a page (the body of an answer of `endpoint`) item by item, failing closed on
    /// unexpected shapes: a missing `value`, or an `error` object inside `value`, is an error,
    /// never "no items". An item that does not decode is in [`Page::failed`].
    ///
    /// # Errors
    /// [`Error::Decode`] naming the failing field path when the body is not JSON, has no
    /// `value` array or an error object inside it, or a link is not a string.
    pub fn parse(body: &[u8], endpoint: &str) -> Result<Self> {
        let value: serde_json::Value = super::transport::decode(body, endpoint)?;
        Self::from_value(value, endpoint)
    }

    /// Reads a page already parsed as JSON (e.g. the body of a `$batch` answer), with the
    /// same checks as [`Page::parse`]: a missing `value` array or an `error` object inside it
    /// is an error, never "no items"; an item that does not decode (a bare value, a field of
    /// the wrong type) is in [`Page::failed`].
    ///
    /// # Errors
    /// [`Error::Decode`] naming the failing field path (`value`, `value[2].error`,
    /// `@odata.nextLink`); `endpoint` names where it came from.
    pub fn from_value(value: serde_json::Value, endpoint: &str) -> Result<Self> {
        let refuse = |path: String, why: &str| Error::Decode {
            endpoint: endpoint.to_owned(),
            path,
            source: serde::de::Error::custom(why),
        };
        let items = match value.get("value") {
            Some(serde_json::Value::Array(items)) => items,
            Some(other) => {
                let why = format!("invalid type: {}, expected an array", kind_of(other));
                return Err(refuse("value".into(), &why));
            }
            None => return Err(refuse(".".into(), "missing field `value`")),
        };
        if let Some(pos) = items.iter().position(|v| v.get("error").is_some()) {
            return Err(refuse(
                format!("value[{pos}].error"),
                "an error object inside `value`, not an entity",
            ));
        }
        let raw: RawPage = serde_path_to_error::deserialize(value).map_err(|e| Error::Decode {
            endpoint: endpoint.to_owned(),
            path: e.path().to_string(),
            source: e.into_inner(),
        })?;
        let (items, failed) = decode_items(raw.value, endpoint, "value");
        Ok(Self {
            items,
            failed,
            next_link: raw.next_link,
            delta_link: raw.delta_link,
        })
    }
}

/// Decodes the items of the JSON array `array` of an answer of `endpoint` one by one: those
/// that decode, and those that do not, each with an [`Error::Decode`] naming
/// `array[index]` and the field.
pub(crate) fn decode_items<T: DeserializeOwned>(
    values: Vec<serde_json::Value>,
    endpoint: &str,
    array: &str,
) -> (Vec<T>, Vec<ItemFailure>) {
    let mut items = Vec::with_capacity(values.len());
    let mut failed = Vec::new();
    for (index, item) in values.into_iter().enumerate() {
        let id = item
            .get("id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let decoded = if item.is_object() {
            serde_path_to_error::deserialize::<_, T>(item)
                .map_err(|e| (e.path().to_string(), e.into_inner()))
        } else {
            Err((
                ".".to_owned(),
                serde::de::Error::custom(format!("not an entity: {}", kind_of(&item))),
            ))
        };
        match decoded {
            Ok(v) => items.push(v),
            Err((path, source)) => failed.push(ItemFailure {
                index,
                id,
                error: Error::Decode {
                    endpoint: endpoint.to_owned(),
                    path: item_path(array, index, &path),
                    source,
                },
            }),
        }
    }
    (items, failed)
}

/// The JSON type of `v`, for messages (never its content).
fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// `array[index]` joined with the path inside the item (`.` is the item itself).
fn item_path(array: &str, index: usize, inner: &str) -> String {
    match inner {
        "." | "" => format!("{array}[{index}]"),
        p if p.starts_with('[') => format!("{array}[{index}]{p}"),
        p => format!("{array}[{index}].{p}"),
    }
}

impl<T> Page<T> {
    /// The page, or the first failed item's error when an item did not decode (for listings
    /// that cannot be used with holes).
    ///
    /// # Errors
    /// The first failed item's [`Error::Decode`].
    pub fn complete(self) -> Result<Self> {
        match self.failed.into_iter().next() {
            Some(f) => Err(f.error),
            None => Ok(Self {
                items: self.items,
                failed: Vec::new(),
                next_link: self.next_link,
                delta_link: self.delta_link,
            }),
        }
    }

    /// The items of this page and of every page after it: each `@odata.nextLink` is read
    /// with `next`.
    pub(crate) async fn collect_all<F, Fut>(mut self, mut next: F) -> Result<Vec<T>>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = Result<Page<T>>>,
    {
        let mut all = std::mem::take(&mut self.items);
        while let Some(link) = self.next_link.take() {
            self = next(link).await?;
            all.append(&mut self.items);
        }
        Ok(all)
    }
}

/// The result of a whole delta round: every page's items in order and the delta link to store.
///
/// Items may repeat within a round and be replayed in later rounds; `@removed` items of ids
/// whose stored start lies outside the window are not deletions. Merge idempotently.
#[derive(Debug)]
#[non_exhaustive]
pub struct DeltaRound<T> {
    /// The items of every page, in order.
    pub items: Vec<T>,
    /// The items of every page that did not decode, in order (see [`Page`]).
    pub failed: Vec<ItemFailure>,
    /// The delta link for the next round.
    pub delta_link: String,
    /// Pages read.
    pub pages: usize,
}

impl<T> DeltaRound<T> {
    /// Finishes a round from its first page: follows the `@odata.nextLink`s with `next` until
    /// a page carries the delta link. A page with neither link is an [`Error::Shape`] of
    /// `endpoint`.
    pub(crate) async fn follow<F, Fut>(
        mut page: Page<T>,
        endpoint: &str,
        mut next: F,
    ) -> Result<Self>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = Result<Page<T>>>,
    {
        let mut items = std::mem::take(&mut page.items);
        let mut failed = std::mem::take(&mut page.failed);
        let mut pages = 1;
        loop {
            if let Some(link) = page.next_link.take() {
                page = next(link).await?;
                pages += 1;
                items.append(&mut page.items);
                failed.append(&mut page.failed);
            } else if let Some(delta_link) = page.delta_link.take() {
                return Ok(Self {
                    items,
                    failed,
                    delta_link,
                    pages,
                });
            } else {
                return Err(Error::Shape {
                    endpoint: endpoint.to_owned(),
                    detail: "page has neither a next link nor a delta link".into(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::models::Event;

    #[test]
    fn pages_carry_links() {
        let page: Page<Event> =
            Page::parse(br#"{"value":[{"id":"a"}],"@odata.nextLink":"n"}"#, "e").expect("page");
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next_link.as_deref(), Some("n"));
        assert_eq!(page.delta_link, None);
    }

    #[test]
    fn pages_from_values_fail_closed_too() {
        let page: Page<Event> = Page::from_value(
            serde_json::json!({"value": [{"id": "a"}], "@odata.deltaLink": "d"}),
            "e",
        )
        .expect("page");
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.delta_link.as_deref(), Some("d"));
        assert!(matches!(
            Page::<Event>::from_value(serde_json::json!({"error": {"code": "x"}}), "e"),
            Err(Error::Decode { ref path, .. }) if path == "."
        ));
        assert!(matches!(
            Page::<Event>::from_value(serde_json::json!("no page"), "e"),
            Err(Error::Decode { .. })
        ));
        let page = Page::<Event>::from_value(serde_json::json!({"value": [{"isAllDay": 1}]}), "e")
            .expect("page");
        assert_eq!(page.failed[0].path(), "value[0].isAllDay");
        match page.complete() {
            Err(Error::Decode { path, .. }) => assert_eq!(path, "value[0].isAllDay"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn garbled_pages_fail_closed() {
        assert!(matches!(
            Page::<Event>::parse(br#"{"items":[]}"#, "e"),
            Err(Error::Decode { .. })
        ));
        assert!(matches!(
            Page::<Event>::parse(br#"{"value":{"id":"a"}}"#, "e"),
            Err(Error::Decode { ref path, .. }) if path == "value"
        ));
        assert!(matches!(
            Page::<Event>::parse(br#"{"value":[{"id":"a"},{"error":{}}]}"#, "e"),
            Err(Error::Decode { ref path, .. }) if path == "value[1].error"
        ));
        let page = Page::<Event>::parse(br#"{"value":[1,{"id":"b"}]}"#, "e").expect("page");
        assert_eq!(page.items.len(), 1, "the entity is kept");
        assert_eq!(
            page.failed[0].path(),
            "value[0]",
            "the bare value fails alone"
        );
        assert!(matches!(
            Page::<Event>::parse(br#"{"value":[{"id":"a""#, "e"),
            Err(Error::Decode { .. })
        ));
        let page = Page::<Event>::parse(
            br#"{"value":[{"id":"a"},{"id":"b","isAllDay":"yes"},{"id":"c"}]}"#,
            "e",
        )
        .expect("page");
        let kept: Vec<_> = page.items.iter().filter_map(|e| e.id.as_deref()).collect();
        assert_eq!(kept, ["a", "c"], "the other items are kept");
        assert_eq!(page.failed.len(), 1);
        assert_eq!(page.failed[0].id.as_deref(), Some("b"));
        assert_eq!(page.failed[0].path(), "value[1].isAllDay");
    }
}
