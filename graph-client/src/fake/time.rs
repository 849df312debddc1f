//! Time zones, Graph date formats and recurrence expansion for the fake.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// A time zone Graph accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    Utc,
    Tz(Tz),
}

/// IANA names that are not on Graph's documented list for `dateTimeTimeZone` writes.
const IANA_REFUSED_ON_WRITE: &[&str] = &["Europe/Prague"];

/// Parses a zone as Graph does on reads (`Prefer: outlook.timezone`): Windows or IANA names.
pub(crate) fn parse_zone(name: &str) -> Option<Zone> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("UTC") || name == "Etc/UTC" || name == "Coordinated Universal Time"
    {
        return Some(Zone::Utc);
    }
    crate::client::zones::parse(name).map(Zone::Tz)
}

/// Parses a zone given on a write.
pub(crate) fn parse_write_zone(name: &str) -> Option<Zone> {
    if IANA_REFUSED_ON_WRITE.contains(&name.trim()) {
        return None;
    }
    parse_zone(name)
}

/// Parses Graph's local `dateTime` (`2026-01-05T09:00:00`, optional fraction).
pub(crate) fn parse_local(value: &str) -> Option<NaiveDateTime> {
    let trimmed = value.trim().trim_end_matches('Z');
    NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M"))
        .ok()
}

/// Local time in `zone` to UTC (a DST gap moves forward by an hour).
pub(crate) fn to_utc(local: NaiveDateTime, zone: Zone) -> DateTime<Utc> {
    match zone {
        Zone::Utc => Utc.from_utc_datetime(&local),
        Zone::Tz(tz) => tz
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
            })
            .map_or_else(|| Utc.from_utc_datetime(&local), |d| d.with_timezone(&Utc)),
    }
}

/// UTC to local time in `zone`.
pub(crate) fn to_local(at: DateTime<Utc>, zone: Zone) -> NaiveDateTime {
    match zone {
        Zone::Utc => at.naive_utc(),
        Zone::Tz(tz) => at.with_timezone(&tz).naive_local(),
    }
}

/// Graph's `dateTime` format.
pub(crate) fn fmt_local(local: NaiveDateTime) -> String {
    local.format("%Y-%m-%dT%H:%M:%S.0000000").to_string()
}

/// Graph's UTC instant format (`originalStart`, `createdDateTime`).
pub(crate) fn fmt_utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses a query instant (`startDateTime`): an offset inside the value, or none = UTC.
pub(crate) fn parse_query_instant(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(value.trim()) {
        return Some(d.with_timezone(&Utc));
    }
    parse_local(value).map(|l| Utc.from_utc_datetime(&l))
}

/// A start or end: an instant, or a floating all-day date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    At(DateTime<Utc>),
    AllDay(NaiveDate),
}

impl When {
    /// The instant used for window tests (all-day dates as UTC midnight).
    pub(crate) fn instant(self) -> DateTime<Utc> {
        match self {
            Self::At(at) => at,
            Self::AllDay(d) => Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default()),
        }
    }
}

/// A simple recurrence: daily or weekly, numbered / end date / no end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recurrence {
    pub(crate) weekly: bool,
    pub(crate) interval: u32,
    pub(crate) days: Vec<Weekday>,
    pub(crate) first_day_of_week: Weekday,
    pub(crate) start_date: NaiveDate,
    pub(crate) end_date: Option<NaiveDate>,
    pub(crate) count: Option<u32>,
}

/// At most this many occurrences are expanded.
const MAX_OCCURRENCES: usize = 2000;

impl Recurrence {
    /// The occurrence dates, in order.
    pub(crate) fn dates(&self) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let interval = i64::from(self.interval.max(1));
        let limit = self
            .count
            .map_or(MAX_OCCURRENCES, |c| (c as usize).min(MAX_OCCURRENCES));
        let hard_end = self
            .end_date
            .unwrap_or_else(|| self.start_date + Duration::days(3 * 366));
        if self.weekly {
            let offset = i64::from(self.start_date.weekday().days_since(self.first_day_of_week));
            let mut week_start = self.start_date - Duration::days(offset);
            while out.len() < limit && week_start <= hard_end {
                for d in 0..7 {
                    let day = week_start + Duration::days(d);
                    if day >= self.start_date
                        && day <= hard_end
                        && self.days.contains(&day.weekday())
                        && out.len() < limit
                    {
                        out.push(day);
                    }
                }
                week_start += Duration::days(7 * interval);
            }
        } else {
            let mut day = self.start_date;
            while out.len() < limit && day <= hard_end {
                out.push(day);
                day += Duration::days(interval);
            }
        }
        out
    }
}

/// Parses a weekday name.
pub(crate) fn parse_weekday(name: &str) -> Option<Weekday> {
    match name.to_ascii_lowercase().as_str() {
        "sunday" => Some(Weekday::Sun),
        "monday" => Some(Weekday::Mon),
        "tuesday" => Some(Weekday::Tue),
        "wednesday" => Some(Weekday::Wed),
        "thursday" => Some(Weekday::Thu),
        "friday" => Some(Weekday::Fri),
        "saturday" => Some(Weekday::Sat),
        _ => None,
    }
}

/// A weekday's Graph name.
pub(crate) fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Sun => "sunday",
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn zones_accept_windows_and_iana_names() {
        assert_eq!(parse_zone("UTC"), Some(Zone::Utc));
        assert!(matches!(
            parse_zone("Central Europe Standard Time"),
            Some(Zone::Tz(_))
        ));
        assert!(
            matches!(parse_zone("Europe/Prague"), Some(Zone::Tz(_))),
            "reads accept it"
        );
        assert_eq!(parse_write_zone("Europe/Prague"), None, "writes do not");
        assert_eq!(parse_zone("Mars/Olympus"), None);
    }

    #[test]
    fn local_times_survive_dst() {
        let zone = parse_zone("W. Europe Standard Time").expect("zone");
        let winter = to_utc(date(2030, 1, 7).and_hms_opt(9, 0, 0).expect("t"), zone);
        let summer = to_utc(date(2030, 7, 8).and_hms_opt(9, 0, 0).expect("t"), zone);
        assert_eq!(fmt_utc(winter), "2030-01-07T08:00:00Z");
        assert_eq!(fmt_utc(summer), "2030-07-08T07:00:00Z");
    }

    #[test]
    fn weekly_and_daily_recurrences_expand() {
        let weekly = Recurrence {
            weekly: true,
            interval: 2,
            days: vec![Weekday::Mon, Weekday::Fri],
            first_day_of_week: Weekday::Sun,
            start_date: date(2030, 1, 2),
            end_date: None,
            count: Some(4),
        };
        assert_eq!(
            weekly.dates(),
            vec![
                date(2030, 1, 4),
                date(2030, 1, 14),
                date(2030, 1, 18),
                date(2030, 1, 28)
            ]
        );
        let daily = Recurrence {
            weekly: false,
            interval: 3,
            days: Vec::new(),
            first_day_of_week: Weekday::Sun,
            start_date: date(2030, 1, 30),
            end_date: Some(date(2030, 2, 5)),
            count: None,
        };
        assert_eq!(
            daily.dates(),
            vec![date(2030, 1, 30), date(2030, 2, 2), date(2030, 2, 5)]
        );
    }
}
