//! Paged collections and delta rounds.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::{Error, Result};

/// One page of a collection: its items plus the link to the next page or, on the last page of
/// a delta round, the delta link for the next round.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// `@odata.nextLink`: more pages follow (call it verbatim).
    pub next_link: Option<String>,
    /// `@odata.deltaLink`: the round is complete; store it for the next round.
    pub delta_link: Option<String>,
}

#[derive(Deserialize)]
struct RawPage<T> {
    value: Vec<T>,
    #[serde(default, rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(default, rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

impl<T: DeserializeOwned> Page<T> {
    /// Parses a page and fails closed on unexpected shapes: a missing `value`, or an `error`
    /// object inside `value`, is an error, never "no items".
    pub(crate) fn parse(body: &[u8], endpoint: &str) -> Result<Self> {
        let value: serde_json::Value = super::transport::decode(body, endpoint)?;
        Self::from_value(value, endpoint)
    }

    /// Reads a page already parsed as JSON (e.g. the body of a `$batch` answer), with the
    /// same fail-closed checks as a page read from the wire: a missing `value` array or an
    /// item that is not an entity (an `error` object, a bare value) is an error, never
    /// "no items".
    ///
    /// # Errors
    /// [`Error::Shape`] for an unexpected shape, [`Error::Decode`] (naming the failing field
    /// path) for an item that does not decode; `endpoint` names where it came from.
    pub fn from_value(value: serde_json::Value, endpoint: &str) -> Result<Self> {
        let items = value
            .get("value")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| Error::Shape {
                endpoint: endpoint.to_owned(),
                detail: "no `value` array".into(),
            })?;
        if let Some(pos) = items
            .iter()
            .position(|v| v.get("error").is_some() || !v.is_object())
        {
            return Err(Error::Shape {
                endpoint: endpoint.to_owned(),
                detail: format!("item {pos} is not an entity"),
            });
        }
        let raw: RawPage<T> =
            serde_path_to_error::deserialize(value).map_err(|e| Error::Decode {
                endpoint: endpoint.to_owned(),
                path: e.path().to_string(),
                source: e.into_inner(),
            })?;
        Ok(Self {
            items: raw.value,
            next_link: raw.next_link,
            delta_link: raw.delta_link,
        })
    }
}

impl<T> Page<T> {
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
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DeltaRound<T> {
    /// The items of every page, in order.
    pub items: Vec<T>,
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
        let mut pages = 1;
        loop {
            if let Some(link) = page.next_link.take() {
                page = next(link).await?;
                pages += 1;
                items.append(&mut page.items);
            } else if let Some(delta_link) = page.delta_link.take() {
                return Ok(Self {
                    items,
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
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            Page::<Event>::from_value(serde_json::json!("no page"), "e"),
            Err(Error::Shape { .. })
        ));
        match Page::<Event>::from_value(serde_json::json!({"value": [{"isAllDay": 1}]}), "e") {
            Err(Error::Decode { path, .. }) => assert_eq!(path, "value[0].isAllDay"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn garbled_pages_fail_closed() {
        assert!(matches!(
            Page::<Event>::parse(br#"{"items":[]}"#, "e"),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            Page::<Event>::parse(br#"{"value":[{"error":{}}]}"#, "e"),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            Page::<Event>::parse(br#"{"value":[1]}"#, "e"),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            Page::<Event>::parse(br#"{"value":[{"id":"a""#, "e"),
            Err(Error::Decode { .. })
        ));
        match Page::<Event>::parse(br#"{"value":[{"id":"a"},{"isAllDay":"yes"}]}"#, "e") {
            Err(Error::Decode { path, .. }) => assert_eq!(path, "value[1].isAllDay"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
