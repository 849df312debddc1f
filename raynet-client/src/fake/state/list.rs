//! Listing an [`Instance`]'s records: the filter operators, the special
//! filters, sorting, paging and `view=rowInfo`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::entity::Entity;
use super::instance::{DATETIME_KEYS, Instance};
use super::reject::Reject;
use crate::client::models::ApiDateTime;
use crate::client::query::Op;

const ROW_INFO_FILTERS: [&str; 4] = [
    "rowInfo.createdAt",
    "rowInfo.updatedAt",
    "rowInfo.lastModifiedAt",
    "rowInfo.rowAccess",
];

impl Instance {
    /// Lists records: filters, sorting, paging, `view=rowInfo`.
    pub(crate) fn list(
        &self,
        e: Entity,
        params: &[(String, String)],
    ) -> Result<(u64, Vec<Value>), Reject> {
        let mut offset = 0u64;
        let mut limit = 20u64;
        let mut sort: Option<String> = None;
        let mut desc = false;
        let mut iso = false;
        let mut row_view = false;
        let mut conds: Vec<(String, Op, String)> = Vec::new();
        let mut specials: Vec<(String, String)> = Vec::new();
        for (k, v) in params {
            match k.as_str() {
                "offset" => {
                    offset = v
                        .parse()
                        .map_err(|_| Reject::bad_request("Invalid offset"))?;
                }
                "limit" => {
                    limit = v
                        .parse()
                        .map_err(|_| Reject::bad_request("Invalid limit"))?;
                    if limit > 1000 {
                        return Err(Reject::bad_request("Maximum limit is 1000"));
                    }
                }
                "sortColumn" => sort = Some(v.clone()),
                "sortDirection" => {
                    desc = match v.to_ascii_uppercase().as_str() {
                        "ASC" => false,
                        "DESC" => true,
                        _ => {
                            return Err(Reject::bad_request(format!(
                                "Invalid sortDirection [{v}]"
                            )));
                        }
                    }
                }
                "dateFormat" => iso = v == "ISO8601",
                "view" => row_view = v == "rowInfo",
                "fulltext" | "tags" => specials.push((k.clone(), v.clone())),
                "personFilter" | "companyContextFilter" | "leadContextFilter"
                    if e.is_activity() =>
                {
                    specials.push((k.clone(), v.clone()));
                }
                other => {
                    let (field, op) = parse_filter_key(other).ok_or_else(|| {
                        Reject::bad_request(format!("Unsupported filter column [{other}]"))
                    })?;
                    if !(e.filters().contains(&field) || ROW_INFO_FILTERS.contains(&field)) {
                        return Err(Reject::bad_request(format!(
                            "Unsupported filter column [{field}]"
                        )));
                    }
                    if op == Op::Custom {
                        return Err(Reject::bad_request(format!(
                            "Unsupported operator CUSTOM for [{field}]"
                        )));
                    }
                    conds.push((field.to_owned(), op, v.clone()));
                }
            }
        }
        let Some(table) = self.tables.get(&e) else {
            return Ok((0, Vec::new()));
        };
        let mut rows: Vec<&Map<String, Value>> = Vec::new();
        for row in table.rows.values() {
            let mut ok = true;
            for (field, op, value) in &conds {
                if !self.matches(row, field, *op, value)? {
                    ok = false;
                    break;
                }
            }
            if ok && specials.iter().all(|(k, v)| special_matches(row, k, v)) {
                rows.push(row);
            }
        }
        if let Some(col) = &sort {
            rows.sort_by(|a, b| {
                let va = lookup(a, col);
                let vb = lookup(b, col);
                let ord =
                    compare_values(va, vb).then_with(|| compare_values(a.get("id"), b.get("id")));
                if desc { ord.reverse() } else { ord }
            });
        }
        let total = rows.len() as u64;
        let page = rows
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|row| {
                if row_view {
                    let mut m = Map::new();
                    for (k, v) in row {
                        if k == "id" || k == "_version" || k.starts_with("rowInfo.") {
                            m.insert(k.clone(), v.clone());
                        }
                    }
                    self.render(e, &m, iso, false)
                } else {
                    self.render(e, row, iso, false)
                }
            })
            .collect();
        Ok((total, page))
    }

    fn matches(
        &self,
        row: &Map<String, Value>,
        field: &str,
        op: Op,
        value: &str,
    ) -> Result<bool, Reject> {
        let actual = lookup(row, field).filter(|v| !v.is_null());
        let is_empty = |v: Option<&Value>| match v {
            None => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if value.is_empty() {
            return Ok(match op {
                Op::Eq | Op::EqOrNull => is_empty(actual),
                Op::Ne | Op::NeOrNull => !is_empty(actual),
                _ => return Err(Reject::bad_request(format!("Empty value for [{field}]"))),
            });
        }
        let Some(actual) = actual else {
            return Ok(matches!(op, Op::EqOrNull | Op::NeOrNull));
        };
        let cmp = |want: &str| -> Result<std::cmp::Ordering, Reject> {
            self.compare_to(field, actual, want)
        };
        Ok(match op {
            Op::Eq | Op::EqOrNull => cmp(value)?.is_eq(),
            Op::Ne | Op::NeOrNull => cmp(value)?.is_ne(),
            Op::Lt => cmp(value)?.is_lt(),
            Op::Le => cmp(value)?.is_le(),
            Op::Gt => cmp(value)?.is_gt(),
            Op::Ge => cmp(value)?.is_ge(),
            Op::Like => like(&value_text(actual), value),
            Op::LikeNocase => like(&value_text(actual).to_lowercase(), &value.to_lowercase()),
            Op::In | Op::NotIn => {
                let mut any = false;
                for item in value.split(',') {
                    if cmp(item.trim())?.is_eq() {
                        any = true;
                    }
                }
                any == (op == Op::In)
            }
            Op::Custom => false,
        })
    }

    fn compare_to(
        &self,
        field: &str,
        actual: &Value,
        want: &str,
    ) -> Result<std::cmp::Ordering, Reject> {
        let conversion = || {
            Reject::new(
                400,
                "ConversionFailedException",
                format!("Invalid value [{want}] for [{field}]"),
            )
        };
        if DATETIME_KEYS.contains(&field) {
            let a = actual
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|d| d.with_timezone(&Utc));
            let w = ApiDateTime::parse(want)
                .and_then(|d| d.to_utc(&self.tz))
                .ok_or_else(conversion)?;
            return Ok(a.map_or(std::cmp::Ordering::Less, |a| a.cmp(&w)));
        }
        match actual {
            Value::Number(n) => {
                let w: f64 = want.trim().parse().map_err(|_| conversion())?;
                Ok(n.as_f64().unwrap_or(0.0).total_cmp(&w))
            }
            Value::Bool(b) => {
                let w = crate::client::models::common_bool(&Value::String(want.to_owned()))
                    .ok_or_else(conversion)?;
                Ok(b.cmp(&w))
            }
            Value::Array(items) => Ok(if items.iter().any(|i| value_text(i) == want) {
                std::cmp::Ordering::Equal
            } else {
                std::cmp::Ordering::Less
            }),
            other => Ok(value_text(other).as_str().cmp(want)),
        }
    }
}

fn parse_filter_key(key: &str) -> Option<(&str, Op)> {
    match key.find('[') {
        None => Some((key, Op::Eq)),
        Some(i) => {
            let op = key[i + 1..].strip_suffix(']')?;
            Some((&key[..i], Op::parse(op)?))
        }
    }
}

/// Finds a field: the flat key first (`rowInfo.createdAt`), then a path split
/// on `-` and `.` (`owner-id`, `contactInfo.email`), with aliases for internal keys.
fn lookup<'a>(row: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    if field == "userAccount-id" {
        return row.get("__userAccountId");
    }
    if let Some(v) = row.get(field) {
        return Some(v);
    }
    let mut parts = field.split(['-', '.']);
    let mut cur = row.get(parts.next()?)?;
    for p in parts {
        cur = cur.get(p)?;
    }
    Some(cur)
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Object(o) => o.get("id").map(value_text).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn compare_values(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.filter(|v| !v.is_null()), b.filter(|v| !v.is_null())) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Some(x), Some(y)) => value_text(x).cmp(&value_text(y)),
    }
}

/// SQL `LIKE` with `%` (any run) and `_` (one character).
fn like(text: &str, pattern: &str) -> bool {
    fn go(t: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(&t[i..], rest)),
            Some(('_', rest)) => !t.is_empty() && go(&t[1..], rest),
            Some((c, rest)) => t.first() == Some(c) && go(&t[1..], rest),
        }
    }
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    go(&t, &p)
}

fn special_matches(row: &Map<String, Value>, key: &str, value: &str) -> bool {
    let id_of = |v: Option<&Value>| v.and_then(|v| v.get("id")).and_then(Value::as_u64);
    let want: Option<u64> = value.trim().parse().ok();
    let parts = || {
        row.get("participants")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    match key {
        "fulltext" => {
            let needle = value.to_lowercase();
            row.values().any(|v| contains_text(v, &needle))
        }
        "tags" => {
            let wanted: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            row.get("tags").and_then(Value::as_array).is_some_and(|t| {
                t.iter()
                    .any(|x| x.as_str().is_some_and(|s| wanted.contains(&s)))
            })
        }
        "personFilter" => {
            parts().iter().any(|p| id_of(p.get("person")) == want)
                || id_of(row.get("person")) == want
        }
        "companyContextFilter" => {
            id_of(row.get("company")) == want
                || parts().iter().any(|p| id_of(p.get("company")) == want)
        }
        "leadContextFilter" => {
            id_of(row.get("lead")) == want || parts().iter().any(|p| id_of(p.get("lead")) == want)
        }
        _ => true,
    }
}

fn contains_text(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.to_lowercase().contains(needle),
        Value::Array(a) => a.iter().any(|x| contains_text(x, needle)),
        Value::Object(o) => o.values().any(|x| contains_text(x, needle)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("Novák", "Nov%"));
        assert!(like("Novák", "%vá_"));
        assert!(!like("Novák", "nov%"));
        assert!(like("abc", "%"));
        assert!(!like("abc", "a_"));
    }

    #[test]
    fn filter_keys() {
        assert_eq!(parse_filter_key("owner-id[EQ]"), Some(("owner-id", Op::Eq)));
        assert_eq!(parse_filter_key("title"), Some(("title", Op::Eq)));
        assert_eq!(parse_filter_key("x[BOGUS]"), None);
    }
}
