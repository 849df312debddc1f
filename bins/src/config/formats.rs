//! Format checks of identifiers the config file holds: IANA time zone names, GUIDs, domains.

/// Whether `s` looks like an IANA time zone name: `UTC`, `GMT`, or `Area/Location[/More]`
/// with a known area. (A format check: the Raynet client resolves the name for real.)
pub(super) fn is_iana_zone_name(s: &str) -> bool {
    const AREAS: &[&str] = &[
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
        "Etc",
    ];
    if s == "UTC" || s == "GMT" {
        return true;
    }
    let mut parts = s.split('/');
    let Some(area) = parts.next() else {
        return false;
    };
    let rest: Vec<&str> = parts.collect();
    AREAS.contains(&area)
        && !rest.is_empty()
        && rest.len() <= 2
        && rest.iter().all(|p| {
            p.len() <= 32
                && p.starts_with(|c: char| c.is_ascii_uppercase())
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-+".contains(&b))
        })
}

/// Whether `s` is a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits): a directory
/// object id, as Graph's client decides it.
pub(super) use graph_client::client::is_object_id as is_guid;

/// Whether `s` is a DNS domain name with at least two labels.
pub(super) fn is_domain(s: &str) -> bool {
    s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_and_id_formats() {
        for ok in [
            "Europe/Prague",
            "UTC",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+1",
        ] {
            assert!(is_iana_zone_name(ok), "{ok}");
        }
        for bad in ["Prague", "europe/prague", "Europe/", "CET ", "Mars/Base"] {
            assert!(!is_iana_zone_name(bad), "{bad}");
        }
        assert!(is_guid("0a1b2c3d-0000-4000-8000-00000000000f"));
        assert!(!is_guid("0a1b2c3d-0000-4000-8000-00000000000"));
        assert!(is_domain("contoso.onmicrosoft.com"));
        assert!(!is_domain("contoso"));
    }
}
