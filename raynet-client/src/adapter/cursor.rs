//! The incremental-read cursor of the RAYNET sides: a versioned, opaque
//! string around a `rowInfo.lastModifiedAt` watermark.
//!
//! Format (version 1): `v1:<watermark, RFC 3339 UTC>;n=<incremental reads
//! since the last deletion scan>[;w=<window start>/<window end>]`, the window
//! bounds in Unix seconds. The window is recorded so that a read for another
//! window (it moves once a day) starts over with a complete listing: items
//! that entered the window unchanged would be missed by a delta. Anything
//! that does not parse is no cursor at all (a full read follows), never an
//! error. [`parse_cursor`] reads a request's cursor and [`next_cursor`] makes
//! the one a read leaves, for both providers.

use chrono::{DateTime, SecondsFormat, Utc};
use sync_core::{Cursor, ReadRequest, Window};

/// How a side reads incrementally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Incremental {
    /// Subtracted from the watermark on every incremental read (offset paging
    /// over a moving set and clock skew can miss rows; duplicates are fine).
    pub(crate) overlap: chrono::Duration,
    /// A deletion scan on every n-th incremental read (0: never).
    pub(crate) scan_every: u32,
}

impl Default for Incremental {
    fn default() -> Self {
        Incremental {
            overlap: chrono::Duration::minutes(2),
            scan_every: 1,
        }
    }
}

impl Incremental {
    /// Whether the incremental read after `since_scan` reads without a scan
    /// does a deletion scan.
    pub(crate) fn scan_due(self, since_scan: u32) -> bool {
        self.scan_every != 0 && since_scan.saturating_add(1) >= self.scan_every
    }
}

/// The builder methods of a side's [`Incremental`] settings (its field
/// `incremental`): `with_overlap` and `with_deletion_scan_every`. `$scan` says
/// what one request of the deletion scan lists 1000 of.
macro_rules! incremental_setters {
    ($scan:literal) => {
        /// How far before the watermark an incremental read starts (default 2
        /// minutes): offset paging over a moving set and clock skew can miss
        /// rows, and re-read rows cost nothing but bandwidth.
        #[must_use]
        pub fn with_overlap(mut self, overlap: chrono::Duration) -> Self {
            self.incremental.overlap = overlap;
            self
        }

        #[doc = concat!("Runs the deletion scan (one `view=rowInfo` request per 1000 ", $scan, ")")]
        /// on every `n`-th incremental read (default 1: every read); reads in
        /// between return no [`SideRead::listed_ids`], so deletions wait for
        /// the next scan. `0` never scans in incremental reads (deletions are
        /// then seen by the next full read only).
        ///
        /// [`SideRead::listed_ids`]: sync_core::SideRead::listed_ids
        #[must_use]
        pub fn with_deletion_scan_every(mut self, n: u32) -> Self {
            self.incremental.scan_every = n;
            self
        }
    };
}
pub(crate) use incremental_setters;

/// A decoded cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Watermark {
    /// Every change at or after this instant is still to be read.
    pub(crate) at: DateTime<Utc>,
    /// Incremental reads since the last deletion scan (or full read).
    pub(crate) since_scan: u32,
    /// The window the cursor belongs to (Unix seconds), if any.
    pub(crate) window: Option<(i64, i64)>,
}

/// What a RAYNET side's stored cursor says, for whoever plans a round (the
/// [`super::InstanceFeed`] reads from the oldest watermark of its members).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CursorInfo {
    /// Every change at or after this instant is still to be read.
    pub watermark: DateTime<Utc>,
    /// Incremental reads since the last deletion scan (or full read).
    pub reads_since_scan: u32,
}

impl CursorInfo {
    /// Decodes a cursor a [`super::RaynetCalendar`] or [`super::RaynetContacts`]
    /// returned; `None` for anything else (that side's next read is a full one).
    ///
    /// ```
    /// use raynet_client::adapter::CursorInfo;
    /// let c = sync_core::Cursor::new("v1:2026-11-25T13:02:03.456Z;n=3").unwrap();
    /// assert_eq!(CursorInfo::parse(&c).unwrap().reads_since_scan, 3);
    /// assert!(CursorInfo::parse(&sync_core::Cursor::new("gc1;x").unwrap()).is_none());
    /// ```
    #[must_use]
    pub fn parse(cursor: &Cursor) -> Option<CursorInfo> {
        Watermark::parse(cursor.as_str()).map(|w| CursorInfo {
            watermark: w.at,
            reads_since_scan: w.since_scan,
        })
    }
}

/// The cursor's key for a window.
pub(crate) fn window_key(window: Option<&Window>) -> Option<(i64, i64)> {
    window.map(|w| (w.start.timestamp(), w.end.timestamp()))
}

impl Watermark {
    /// The reads since the last deletion scan once the read from this
    /// watermark is done: 0 when it `scanned`, else one more.
    pub(crate) fn since_scan_after(&self, scanned: bool) -> u32 {
        if scanned {
            0
        } else {
            self.since_scan.saturating_add(1)
        }
    }

    pub(crate) fn encode(&self) -> Option<Cursor> {
        let window = self
            .window
            .map(|(start, end)| format!(";w={start}/{end}"))
            .unwrap_or_default();
        Cursor::new(format!(
            "v1:{};n={}{window}",
            self.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            self.since_scan
        ))
        .ok()
    }

    pub(crate) fn parse(s: &str) -> Option<Watermark> {
        let rest = s.strip_prefix("v1:")?;
        let mut parts = rest.split(';');
        let at = DateTime::parse_from_rfc3339(parts.next()?)
            .ok()?
            .with_timezone(&Utc);
        let mut since_scan = None;
        let mut window = None;
        for part in parts {
            match part.split_once('=')? {
                ("n", n) => since_scan = Some(n.parse().ok()?),
                ("w", w) => {
                    let (a, b) = w.split_once('/')?;
                    window = Some((a.parse().ok()?, b.parse().ok()?));
                }
                _ => return None,
            }
        }
        Some(Watermark {
            at,
            since_scan: since_scan?,
            window,
        })
    }
}

/// The cursor a read leaves: the server's clock at its first answer, else the
/// newest change it saw, never before the previous watermark. `None` when
/// nothing is known (the next read is a full one).
pub(crate) fn next_cursor(
    previous: Option<&Watermark>,
    server_time: Option<DateTime<Utc>>,
    newest_seen: Option<DateTime<Utc>>,
    since_scan: u32,
    window: Option<(i64, i64)>,
) -> Option<Cursor> {
    let at = server_time
        .or(newest_seen)
        .into_iter()
        .chain(previous.map(|p| p.at))
        .max()?;
    Watermark {
        at,
        since_scan,
        window,
    }
    .encode()
}

/// The cursor of `request`, when it is ours, readable and for this window.
pub(crate) fn parse_cursor(request: &ReadRequest, window: Option<(i64, i64)>) -> Option<Watermark> {
    let raw = request.cursor.as_ref()?;
    let Some(w) = Watermark::parse(raw.as_str()) else {
        tracing::info!(
            cursor = raw.as_str(),
            "unreadable raynet cursor; reading in full"
        );
        return None;
    };
    if w.window != window {
        tracing::debug!("the window moved; reading in full");
        return None;
    }
    Some(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_no_cursor() {
        let at = DateTime::parse_from_rfc3339("2026-11-25T13:02:03.456Z")
            .unwrap()
            .with_timezone(&Utc);
        for window in [None, Some((-8_334_601_228_800, 8_210_266_876_799))] {
            let w = Watermark {
                at,
                since_scan: 3,
                window,
            };
            let c = w.encode().unwrap();
            assert!(c.as_str().starts_with("v1:2026-11-25T13:02:03.456Z;n=3"));
            assert_eq!(Watermark::parse(c.as_str()), Some(w));
        }
        for bad in [
            "",
            "v1:",
            "v2:2026-11-25T13:02:03Z;n=1",
            "v1:yesterday;n=1",
            "v1:2026-11-25T13:02:03Z",
            "v1:2026-11-25T13:02:03Z;n=x",
            "v1:2026-11-25T13:02:03Z;n=1;w=1",
            "v1:2026-11-25T13:02:03Z;n=1;q=2",
            "seq:42",
        ] {
            assert_eq!(Watermark::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn scan_schedule() {
        let every = |n| Incremental {
            scan_every: n,
            ..Incremental::default()
        };
        assert!((0..5).all(|k| every(1).scan_due(k)));
        assert!(!(0..5).any(|k| every(0).scan_due(k)));
        assert_eq!(
            (0..4).map(|k| every(3).scan_due(k)).collect::<Vec<_>>(),
            vec![false, false, true, true]
        );
    }
}
