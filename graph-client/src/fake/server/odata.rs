//! OData plumbing shared by the endpoints: `$select`, `$filter` and `$expand` on extended
//! properties, next links, `Prefer: outlook.timezone` and `Preference-Applied`.

use serde_json::{Value, json};

use super::request::{Prefs, Req, Resp};
use crate::client::models::property_ids_match as prop_id_matches;
use crate::fake::time::{self, Zone};

pub(super) fn apply_select(mut v: Value, select: Option<&[String]>, keep: &[&str]) -> Value {
    if let (Some(fields), Value::Object(map)) = (select, &mut v) {
        map.retain(|k, _| {
            keep.contains(&k.as_str()) || k.starts_with("@odata") || fields.iter().any(|f| f == k)
        });
    }
    v
}

pub(super) fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub(super) fn query_string(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&enc(v));
    }
    out
}

/// Reads an OData string literal at the start of `s`; returns it and the rest.
pub(super) fn literal(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start().strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                out.push('\'');
                chars.next();
            } else {
                return Some((out, &s[i + 1..]));
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// `{field} eq '{value}'`.
pub(super) fn parse_eq_filter(filter: &str, field: &str) -> Option<String> {
    let rest = filter
        .trim()
        .strip_prefix(field)?
        .trim_start()
        .strip_prefix("eq")?;
    let (value, rest) = literal(rest)?;
    rest.trim().is_empty().then_some(value)
}

/// `startswith({field},'{value}')` (the function name case-insensitive, as Graph reads it).
pub(super) fn parse_startswith_filter(filter: &str, field: &str) -> Option<String> {
    let f = filter.trim();
    let head = "startswith(";
    if !f.get(..head.len())?.eq_ignore_ascii_case(head) {
        return None;
    }
    let rest = f
        .get(head.len()..)?
        .trim_start()
        .strip_prefix(field)?
        .trim_start()
        .strip_prefix(',')?;
    let (value, rest) = literal(rest)?;
    rest.trim()
        .strip_prefix(')')?
        .trim()
        .is_empty()
        .then_some(value)
}

/// `singleValueExtendedProperties/Any(ep: ep/id eq '{id}' and ep/value eq '{value}')`.
pub(super) fn parse_ext_filter(filter: &str) -> Option<(String, String)> {
    let f = filter.trim();
    let head = "singlevalueextendedproperties/any(";
    if !f.get(..head.len())?.eq_ignore_ascii_case(head) {
        return None;
    }
    let rest = f.get(head.len()..)?;
    let (var, rest) = rest.split_once(':')?;
    let var = var.trim();
    let rest = rest
        .trim_start()
        .strip_prefix(&format!("{var}/id"))?
        .trim_start()
        .strip_prefix("eq")?;
    let (id, rest) = literal(rest)?;
    let rest = rest
        .trim_start()
        .strip_prefix("and")?
        .trim_start()
        .strip_prefix(&format!("{var}/value"))?
        .trim_start()
        .strip_prefix("eq")?;
    let (value, rest) = literal(rest)?;
    (rest.trim() == ")").then_some((id, value))
}

/// `singleValueExtendedProperties($filter=id eq '{id}')`.
pub(super) fn parse_ext_expand(expand: &str) -> Option<String> {
    let e = expand.trim();
    let head = "singlevalueextendedproperties($filter=";
    if !e.get(..head.len())?.eq_ignore_ascii_case(head) {
        return None;
    }
    let inner = e.get(head.len()..)?.strip_suffix(')')?;
    parse_eq_filter(inner, "id")
}

/// The `$filter` of a list, on one extended property's value (`None` without a filter), or a
/// 400 for any other filter.
pub(super) fn ext_filter(req: &Req) -> Result<Option<(String, String)>, Resp> {
    filter_of(req, parse_ext_filter)
}

/// The `$filter` of a request read by `parse` (`None` without a filter), or a 400 when
/// `parse` refuses it.
pub(super) fn filter_of<T>(
    req: &Req,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, Resp> {
    option_of(req, "$filter", parse, || {
        Resp::error(
            400,
            "ErrorInvalidUrlQueryFilter",
            "The query filter contains one or more invalid nodes.",
        )
    })
}

/// The query option `name` read by `parse` (`None` when the request has none), or the
/// `refusal` when `parse` refuses it.
fn option_of<T>(
    req: &Req,
    name: &str,
    parse: impl FnOnce(&str) -> Option<T>,
    refusal: impl FnOnce() -> Resp,
) -> Result<Option<T>, Resp> {
    match req.q(name) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(refusal),
    }
}

/// The property of a `$expand=singleValueExtendedProperties($filter=id eq '..')` (`None`
/// without an `$expand`), or a 400 for any other `$expand`.
pub(super) fn ext_expand(req: &Req) -> Result<Option<String>, Resp> {
    option_of(req, "$expand", parse_ext_expand, || {
        Resp::error(
            400,
            "ErrorInvalidUrlQuery",
            "The $expand option is not supported.",
        )
    })
}

/// Whether an item's extended properties hold the `(property id, value)` of an [`ext_filter`]
/// (the value compared case-insensitively).
/// The extended properties of `ext` an `$expand` of the property `prop` shows, as Graph
/// renders them; `None` when there are none.
pub(super) fn expanded_ext(ext: &[(String, String)], prop: &str) -> Option<Value> {
    let found: Vec<Value> = ext
        .iter()
        .filter(|(id, _)| prop_id_matches(id, prop))
        .map(|(id, v)| json!({"id": id, "value": v}))
        .collect();
    (!found.is_empty()).then(|| json!(found))
}

/// The strings of the JSON array at `key` of `v` (non-strings skipped); empty when there is
/// no such array.
pub(super) fn str_array<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

pub(super) fn has_ext_value(
    ext: &[(String, String)],
    (property, value): &(String, String),
) -> bool {
    ext.iter()
        .any(|(id, v)| prop_id_matches(id, property) && v.eq_ignore_ascii_case(value))
}

/// The `$top` (default 10, clamped to 1..=1000) and `$skip` (default 0) of a list.
pub(super) fn top_and_skip(req: &Req) -> (usize, usize) {
    let top = req
        .q("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 1000);
    let skip = req
        .q("$skip")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    (top, skip)
}

/// The query of a list's next page: the request's own query with `$skip` set to `skip`.
pub(super) fn next_skip_query(req: &Req, skip: usize) -> String {
    let mut pairs: Vec<(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| k != "$skip")
        .cloned()
        .collect();
    pairs.push(("$skip".into(), skip.to_string()));
    query_string(&pairs)
}

pub(super) fn parse_ext_props(v: Option<&Value>) -> Result<Vec<(String, String)>, Resp> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let Some(arr) = v.as_array() else {
        return Err(Resp::error(
            400,
            "RequestBodyRead",
            "singleValueExtendedProperties must be an array.",
        ));
    };
    arr.iter()
        .map(|p| {
            match (
                p.get("id").and_then(Value::as_str),
                p.get("value").and_then(Value::as_str),
            ) {
                (Some(id), Some(value))
                    if id.starts_with("String ")
                        || id.contains(" Name ")
                        || id.contains(" Id ") =>
                {
                    Ok((id.to_owned(), value.to_owned()))
                }
                _ => Err(Resp::error(
                    400,
                    "ErrorInvalidProperty",
                    "The extended property id or value is invalid.",
                )),
            }
        })
        .collect()
}

pub(super) fn upsert_ext(ext: &mut Vec<(String, String)>, new: Vec<(String, String)>) {
    for (id, value) in new {
        match ext.iter_mut().find(|(e, _)| prop_id_matches(e, &id)) {
            Some(slot) => slot.1 = value,
            None => ext.push((id, value)),
        }
    }
}

pub(super) fn read_zone(prefs: &Prefs) -> (Zone, String, bool) {
    match prefs
        .timezone
        .as_deref()
        .and_then(|z| time::parse_zone(z).map(|p| (p, z.to_owned())))
    {
        Some((zone, label)) => (zone, label, true),
        None => (Zone::Utc, "UTC".to_owned(), false),
    }
}

pub(super) fn applied(resp: Resp, prefs: &Prefs, zone_applied: bool, label: &str) -> Resp {
    let mut parts = Vec::new();
    if zone_applied {
        parts.push(format!("outlook.timezone=\"{label}\""));
    }
    if let Some(id_type) = &prefs.id_type {
        parts.push(format!("IdType=\"{id_type}\""));
    }
    if parts.is_empty() {
        resp
    } else {
        resp.with_header("Preference-Applied", &parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_property_filters_parse() {
        let (id, value) = parse_ext_filter(
            "singleValueExtendedProperties/Any(ep: ep/id eq 'String {x} Name RaynetId' and ep/value eq 'it''s')",
        )
        .expect("parses");
        assert_eq!(id, "String {x} Name RaynetId");
        assert_eq!(value, "it's");
        assert!(parse_ext_filter("subject eq 'x'").is_none());
        assert!(
            parse_ext_filter("žžžžžžžžžžžžžžžžžžžžžžžžžžžžžžžž").is_none(),
            "no panic on multibyte input"
        );
        assert_eq!(
            parse_ext_expand(
                "singleValueExtendedProperties($filter=id eq 'String {x} Name RaynetId')"
            )
            .as_deref(),
            Some("String {x} Name RaynetId")
        );
        assert!(parse_ext_expand("ééééééééééééééééééééééééééééééé").is_none());
        assert!(prop_id_matches(
            "String {ABC} Name RaynetId",
            "string {abc} Name RaynetId"
        ));
        assert!(!prop_id_matches(
            "String {abc} Name RaynetId",
            "String {abc} Name raynetid"
        ));
    }
}
