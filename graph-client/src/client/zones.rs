//! Windows ↔ IANA time-zone names (CLDR `windowsZones`, territory `001`) for the zones this
//! project meets. Graph writes accept Windows names and only a fixed list of IANA names (not
//! `Europe/Prague`), and `originalStartTimeZone` is usually a Windows name.

/// `(Windows name, IANA name)` pairs.
pub const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("UTC", "Etc/UTC"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Romance Standard Time", "Europe/Paris"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Mountain Standard Time", "America/Denver"),
    ("Central Standard Time", "America/Chicago"),
    ("Eastern Standard Time", "America/New_York"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("China Standard Time", "Asia/Shanghai"),
    ("India Standard Time", "Asia/Calcutta"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
];

/// Zones that share a Windows zone with a listed IANA name (`Europe/Prague` is Central Europe
/// Standard Time).
const IANA_ALIASES: &[(&str, &str)] = &[
    ("Europe/Prague", "Central Europe Standard Time"),
    ("Europe/Bratislava", "Central Europe Standard Time"),
    ("Europe/Vienna", "W. Europe Standard Time"),
    ("Europe/Amsterdam", "W. Europe Standard Time"),
    ("Europe/Madrid", "Romance Standard Time"),
    ("Europe/Brussels", "Romance Standard Time"),
    ("Europe/Kyiv", "FLE Standard Time"),
];

/// The IANA name of a Windows zone name (case-insensitive).
#[must_use]
pub fn windows_to_iana(windows: &str) -> Option<&'static str> {
    WINDOWS_ZONES
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(windows.trim()))
        .map(|(_, i)| *i)
}

/// The Windows name of an IANA zone, when known.
#[must_use]
pub fn iana_to_windows(iana: &str) -> Option<&'static str> {
    let iana = iana.trim();
    WINDOWS_ZONES
        .iter()
        .find(|(_, i)| *i == iana)
        .map(|(w, _)| *w)
        .or_else(|| {
            IANA_ALIASES
                .iter()
                .find(|(i, _)| *i == iana)
                .map(|(_, w)| *w)
        })
}

/// Parses a zone name as Graph reads accept it: `UTC`, a Windows name or an IANA name.
#[must_use]
pub fn parse(name: &str) -> Option<chrono_tz::Tz> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("UTC") || name == "Coordinated Universal Time" {
        return Some(chrono_tz::UTC);
    }
    windows_to_iana(name).unwrap_or(name).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_both_ways() {
        assert_eq!(
            windows_to_iana("central europe standard time"),
            Some("Europe/Budapest")
        );
        assert_eq!(
            iana_to_windows("Europe/Prague"),
            Some("Central Europe Standard Time")
        );
        assert_eq!(
            iana_to_windows("America/New_York"),
            Some("Eastern Standard Time")
        );
        assert_eq!(
            parse("Pacific Standard Time"),
            Some(chrono_tz::America::Los_Angeles)
        );
        assert_eq!(parse("Europe/Prague"), Some(chrono_tz::Europe::Prague));
        assert_eq!(parse("Nowhere/Else"), None);
    }
}
