//! Reading Graph's `dateTimeTimeZone` values: a local date-time, and an instant in its zone.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use super::error::MapError;
use crate::client::models::DateTimeTimeZone;
use crate::client::zones;

pub(crate) fn parse_local(field: &'static str, value: &str) -> Result<NaiveDateTime, MapError> {
    let trimmed = value.trim().trim_end_matches('Z');
    NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| {
        MapError::BadDateTime {
            field,
            value: value.chars().take(80).collect(),
        }
    })
}

pub(crate) fn instant(
    field: &'static str,
    dtz: &DateTimeTimeZone,
) -> Result<DateTime<Utc>, MapError> {
    let local = parse_local(field, &dtz.date_time)?;
    let zone = zones::parse(&dtz.time_zone).ok_or_else(|| MapError::UnknownZone {
        field,
        zone: dtz.time_zone.clone(),
    })?;
    zone.from_local_datetime(&local)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .ok_or(MapError::BadDateTime {
            field,
            value: dtz.date_time.clone(),
        })
}
