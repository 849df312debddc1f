//! Time: the instance's zone, RAYNET's local wall-clock times ⇄ the engine's
//! UTC schedules, right across DST changes.
//!
//! RAYNET times are wall-clock times of the instance's zone (default
//! Europe/Prague); the engine works in UTC. Conversions go through `chrono-tz`.
//! Writes always carry an explicit offset, so the two 02:30s of 25 October are
//! told apart; a naive local time that does not exist (29 March, 02:00–03:00)
//! moves forward by the gap, and an ambiguous one takes the earlier instant.
//!
//! RAYNET has no all-day flag. An activity from local midnight to a later local
//! midnight (or to 23:59 of the last day) reads as all-day on those dates, and
//! an all-day event is written as local midnight to local midnight, so it stays
//! all-day on the same dates across DST changes.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use sync_core::Schedule;

use crate::client::models::{ApiDateTime, local_to_utc};

/// The zone RAYNET times are in when nothing else is configured.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Europe::Prague;

/// The zone of a RAYNET time-zone code as `GET /userAccount/{id}/` shows it
/// (`EUROPE_PRAGUE` → Europe/Prague, `AMERICA_NEW_YORK` → America/New_York).
#[must_use]
pub fn time_zone_from_code(code: &str) -> Option<Tz> {
    let title = |w: &str| {
        let mut cs = w.chars();
        cs.next().map_or_else(String::new, |c| {
            c.to_uppercase()
                .chain(cs.flat_map(char::to_lowercase))
                .collect()
        })
    };
    let mut parts = code.trim().split('_');
    let region = title(parts.next()?);
    let rest: Vec<String> = parts.map(title).collect();
    if rest.is_empty() {
        return region.parse().ok().or_else(|| code.trim().parse().ok());
    }
    format!("{region}/{}", rest.join("_"))
        .parse()
        .ok()
        .or_else(|| code.trim().parse().ok())
}

/// Reads a RAYNET schedule (`scheduledFrom`/`scheduledTill`) in `tz`.
///
/// # Errors
/// A message when the start is missing or the end is before the start.
pub fn schedule_to_core(
    from: Option<&ApiDateTime>,
    till: Option<&ApiDateTime>,
    tz: &Tz,
) -> Result<Schedule, (&'static str, String)> {
    let from = from.ok_or(("scheduledFrom", "is missing".to_owned()))?;
    let till = till.unwrap_or(from);
    let local_from = from.naive_local_in(tz);
    let local_till = till.naive_local_in(tz);
    if local_from.time() == NaiveTime::MIN {
        let (d0, d1) = (local_from.date(), local_till.date());
        if local_till.time() == NaiveTime::MIN && d1 > d0 {
            return Ok(Schedule::AllDay { start: d0, end: d1 });
        }
        if local_till.hour() == 23 && local_till.minute() == 59 && d1 >= d0 {
            let end = d1
                .succ_opt()
                .ok_or(("scheduledTill", "is out of range".to_owned()))?;
            return Ok(Schedule::AllDay { start: d0, end });
        }
    }
    let start = from
        .to_utc(tz)
        .ok_or(("scheduledFrom", format!("`{from}` does not exist in {tz}")))?;
    let end = till
        .to_utc(tz)
        .ok_or(("scheduledTill", format!("`{till}` does not exist in {tz}")))?;
    if end < start {
        return Err((
            "scheduledTill",
            format!("{till} is before the start {from}"),
        ));
    }
    Ok(Schedule::Timed { start, end })
}

/// Writes a schedule as RAYNET start/end with explicit offsets of `tz`.
#[must_use]
pub fn schedule_from_core(
    schedule: &Schedule,
    tz: &Tz,
) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
    let at = |utc: DateTime<Utc>| utc.with_timezone(tz).fixed_offset();
    let midnight = |d: NaiveDate| {
        let utc = local_to_utc(tz, d.and_time(NaiveTime::MIN))
            .unwrap_or_else(|| d.and_time(NaiveTime::MIN).and_utc());
        at(utc)
    };
    match schedule {
        Schedule::Timed { start, end } => (at(*start), at(*end)),
        Schedule::AllDay { start, end } => (midnight(*start), midnight(*end)),
    }
}

/// The UTC instant of a local wall-clock time in `tz` (gap: forward; fold: earlier).
#[must_use]
pub fn local_time_to_utc(tz: &Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    local_to_utc(tz, date.and_time(time))
}

/// Shifts an all-day end (exclusive) to the inclusive last day.
#[must_use]
pub fn last_day(schedule: &Schedule) -> Option<NaiveDate> {
    match schedule {
        Schedule::AllDay { end, .. } => Some(*end - Duration::days(1)),
        Schedule::Timed { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{PRAGUE, local, utc};

    /// The RFC 3339 times `schedule` is written as in Prague.
    fn written(schedule: &Schedule) -> [String; 2] {
        let (from, till) = schedule_from_core(schedule, &PRAGUE);
        [from.to_rfc3339(), till.to_rfc3339()]
    }

    /// The schedule read back from written times with offsets.
    fn zoned_back(from: DateTime<FixedOffset>, till: DateTime<FixedOffset>) -> Schedule {
        schedule_to_core(
            Some(&ApiDateTime::Zoned(from)),
            Some(&ApiDateTime::Zoned(till)),
            &PRAGUE,
        )
        .unwrap()
    }

    #[test]
    fn timed_events_round_trip_across_dst() {
        for (a, b) in [
            ("2026-03-28T23:15:00Z", "2026-03-29T01:45:00Z"), // spans the March switch
            ("2026-10-24T23:30:00Z", "2026-10-25T01:30:00Z"), // spans the October switch
            ("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"), // 02:30 CEST → 02:30 CET
            ("2026-07-01T08:00:00Z", "2026-07-01T08:00:00Z"), // zero length
        ] {
            let sched = Schedule::Timed {
                start: utc(a),
                end: utc(b),
            };
            let (from, till) = schedule_from_core(&sched, &PRAGUE);
            assert_eq!(zoned_back(from, till), sched, "round trip of {a} – {b}");
        }
        let sched = Schedule::Timed {
            start: utc("2026-10-25T00:30:00Z"),
            end: utc("2026-10-25T01:30:00Z"),
        };
        assert_eq!(
            written(&sched),
            ["2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"]
        );
    }

    #[test]
    fn all_day_stays_on_the_same_dates_across_dst() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        for (start, end) in [
            ("2026-03-29", "2026-03-30"),
            ("2026-10-25", "2026-10-26"),
            ("2026-03-27", "2026-03-31"),
        ] {
            let sched = Schedule::AllDay {
                start: d(start),
                end: d(end),
            };
            let (from, till) = schedule_from_core(&sched, &PRAGUE);
            assert_eq!(from.time(), NaiveTime::MIN, "local midnight");
            assert_eq!(till.time(), NaiveTime::MIN);
            // Read back with offsets and as naive local times alike.
            let naive_back = schedule_to_core(
                Some(&ApiDateTime::Local(from.naive_local())),
                Some(&ApiDateTime::Local(till.naive_local())),
                &PRAGUE,
            )
            .unwrap();
            assert_eq!(zoned_back(from, till), sched);
            assert_eq!(naive_back, sched);
            assert_eq!(last_day(&sched), Some(d(end) - Duration::days(1)));
        }
        let sched = Schedule::AllDay {
            start: d("2026-03-29"),
            end: d("2026-03-30"),
        };
        assert_eq!(
            written(&sched),
            ["2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"]
        );
        // 00:00–23:59 also reads as all-day.
        let s = schedule_to_core(
            Some(&local("2026-10-25 00:00")),
            Some(&local("2026-10-25 23:59")),
            &PRAGUE,
        )
        .unwrap();
        assert_eq!(
            s,
            Schedule::AllDay {
                start: d("2026-10-25"),
                end: d("2026-10-26")
            }
        );
    }

    #[test]
    fn time_zone_codes() {
        assert_eq!(
            time_zone_from_code("EUROPE_PRAGUE"),
            Some(chrono_tz::Europe::Prague)
        );
        assert_eq!(
            time_zone_from_code("AMERICA_NEW_YORK"),
            Some(chrono_tz::America::New_York)
        );
        assert_eq!(time_zone_from_code("UTC"), Some(chrono_tz::UTC));
        assert_eq!(
            time_zone_from_code("Europe/Bratislava"),
            Some(chrono_tz::Europe::Bratislava)
        );
        assert_eq!(time_zone_from_code("MARS_OLYMPUS"), None);
    }
}
