//! URL helpers shared by the resource handlers and the token cache: path-segment escaping,
//! OData query strings and literals.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters kept as-is in a path segment: unreserved only. Ids holding `/`, `+` or `=` are
/// escaped.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Characters escaped in an OData query value (space becomes `%20`, never `+`).
const QUERY: &AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']')
    .add(b'=');

/// Percent-encodes one path segment (e.g. an event id).
pub(crate) fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Builds `?k=v&...` with OData-friendly escaping.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&utf8_percent_encode(v, QUERY).to_string());
    }
    out
}

/// Quotes a string for an OData literal (`'` doubled).
pub(crate) fn odata_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The `$filter` and `$expand` that find items by the value of a single-value extended
/// property (and return that property with them).
pub(crate) fn link_property_query(property_id: &str, value: &str) -> (String, String) {
    let id = odata_string(property_id);
    (
        format!(
            "singleValueExtendedProperties/Any(ep: ep/id eq {id} and ep/value eq {})",
            odata_string(value)
        ),
        format!("singleValueExtendedProperties($filter=id eq {id})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fully_escaped_in_paths() {
        assert_eq!(encode_segment("AAMk/a+b=="), "AAMk%2Fa%2Bb%3D%3D");
        assert_eq!(encode_segment("user@contoso.com"), "user%40contoso.com");
    }

    #[test]
    fn odata_queries_use_percent_20() {
        let q = query(&[(
            "$filter",
            &format!("displayName eq {}", odata_string("O'Brien")),
        )]);
        assert_eq!(q, "?$filter=displayName%20eq%20'O''Brien'");
    }
}
