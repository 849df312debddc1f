//! Helpers shared by the crate's unit tests.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use crate::client::models::ApiDateTime;

/// The default zone of the tests.
pub(crate) const PRAGUE: Tz = chrono_tz::Europe::Prague;

/// A naive local `yyyy-MM-dd HH:mm`, as RAYNET writes without `dateFormat=ISO8601`.
pub(crate) fn local(s: &str) -> ApiDateTime {
    ApiDateTime::Local(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
}

/// An RFC 3339 time with its offset, as RAYNET writes with `dateFormat=ISO8601`.
pub(crate) fn zoned(s: &str) -> ApiDateTime {
    ApiDateTime::Zoned(DateTime::parse_from_rfc3339(s).unwrap())
}

/// An RFC 3339 time as UTC.
pub(crate) fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}
