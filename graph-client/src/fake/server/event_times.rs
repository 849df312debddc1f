//! What an event write says about time: `start`/`end`/`isAllDay` and `recurrence`, read and
//! checked as Graph does.

use chrono::{NaiveDate, NaiveTime};
use serde_json::{Map, Value};

use super::odata::str_array;
use super::request::Resp;
use crate::fake::time::{self, Recurrence, When, Zone};

pub(super) struct Times {
    pub(super) start: When,
    pub(super) end: When,
    pub(super) start_zone: String,
    pub(super) end_zone: String,
}

pub(super) fn parse_dtz(
    v: &Value,
    which: &str,
) -> Result<(chrono::NaiveDateTime, Zone, String), Resp> {
    let dt = v.get("dateTime").and_then(Value::as_str);
    let tz = v.get("timeZone").and_then(Value::as_str).unwrap_or("UTC");
    let Some(local) = dt.and_then(time::parse_local) else {
        return Err(Resp::error(
            400,
            "RequestBodyRead",
            &format!(
                "Cannot convert the literal '{}' of '{which}' to a dateTime.",
                dt.unwrap_or("")
            ),
        ));
    };
    let Some(zone) = time::parse_write_zone(tz) else {
        return Err(Resp::error(
            400,
            "TimeZoneNotSupportedException",
            &format!(
                "A valid TimeZone value must be specified. The following TimeZone value is not supported: '{tz}'."
            ),
        ));
    };
    Ok((local, zone, tz.to_owned()))
}

pub(super) fn resolve_times(
    body: &Map<String, Value>,
    current: Option<&Times>,
) -> Result<Times, Resp> {
    let all_day = match body.get("isAllDay") {
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(Resp::error(
                400,
                "RequestBodyRead",
                "isAllDay must be a boolean.",
            ));
        }
        None => current.is_some_and(|c| matches!(c.start, When::AllDay(_))),
    };
    let start = body.get("start").filter(|v| !v.is_null());
    let end = body.get("end").filter(|v| !v.is_null());
    if start.is_none() && end.is_none() {
        if let Some(c) = current {
            if all_day == matches!(c.start, When::AllDay(_)) {
                return Ok(Times {
                    start: c.start,
                    end: c.end,
                    start_zone: c.start_zone.clone(),
                    end_zone: c.end_zone.clone(),
                });
            }
        }
    }
    let (Some(start), Some(end)) = (start, end) else {
        return Err(Resp::error(
            400,
            "ErrorInvalidRequest",
            "Both start and end must be given.",
        ));
    };
    let (ls, zs, ns) = parse_dtz(start, "start")?;
    let (le, ze, ne) = parse_dtz(end, "end")?;
    let times = if all_day {
        if ls.time() != NaiveTime::MIN || le.time() != NaiveTime::MIN || zs != ze {
            return Err(Resp::error(
                400,
                "ErrorPropertyValidationFailure",
                "The start and end of an all-day event must be midnight in the same time zone.",
            ));
        }
        Times {
            start: When::AllDay(ls.date()),
            end: When::AllDay(le.date()),
            start_zone: ns,
            end_zone: ne,
        }
    } else {
        Times {
            start: When::At(time::to_utc(ls, zs)),
            end: When::At(time::to_utc(le, ze)),
            start_zone: ns,
            end_zone: ne,
        }
    };
    if times.end.instant() < times.start.instant() || (all_day && times.end == times.start) {
        return Err(Resp::error(
            400,
            "ErrorInvalidRequest",
            "The end of an event must be after its start.",
        ));
    }
    Ok(times)
}

pub(super) fn parse_recurrence(v: &Value, start: When) -> Result<Recurrence, Resp> {
    let bad = |m: &str| Resp::error(400, "ErrorInvalidRecurrence", m);
    let pattern = v
        .get("pattern")
        .ok_or_else(|| bad("recurrence.pattern is required."))?;
    let range = v
        .get("range")
        .ok_or_else(|| bad("recurrence.range is required."))?;
    let kind = pattern.get("type").and_then(Value::as_str).unwrap_or("");
    let weekly = match kind {
        "daily" => false,
        "weekly" => true,
        _ => return Err(bad("The fake supports daily and weekly patterns only.")),
    };
    let interval = pattern.get("interval").and_then(Value::as_u64).unwrap_or(1) as u32;
    let days: Vec<chrono::Weekday> = str_array(pattern, "daysOfWeek")
        .filter_map(time::parse_weekday)
        .collect();
    if weekly && days.is_empty() {
        return Err(bad("A weekly pattern needs daysOfWeek."));
    }
    let first_day_of_week = pattern
        .get("firstDayOfWeek")
        .and_then(Value::as_str)
        .and_then(time::parse_weekday)
        .unwrap_or(chrono::Weekday::Sun);
    let date = |k: &str| {
        range
            .get(k)
            .and_then(Value::as_str)
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    };
    let start_date = date("startDate").unwrap_or_else(|| start.instant().date_naive());
    let (end_date, count) = match range.get("type").and_then(Value::as_str).unwrap_or("noEnd") {
        "endDate" => (
            Some(date("endDate").ok_or_else(|| bad("range.endDate is required."))?),
            None,
        ),
        "numbered" => (
            None,
            Some(
                range
                    .get("numberOfOccurrences")
                    .and_then(Value::as_u64)
                    .unwrap_or(1) as u32,
            ),
        ),
        _ => (None, None),
    };
    Ok(Recurrence {
        weekly,
        interval,
        days,
        first_day_of_week,
        start_date,
        end_date,
        count,
    })
}
