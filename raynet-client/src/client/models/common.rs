//! Shapes shared by every resource: references, audit block, datetimes,
//! envelopes, and the lenient (de)serialisers.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A reference to another record, as the API returns it.
///
/// References are *written* as bare ids and *read* as small objects whose label
/// field varies by target: `{"id":2,"name":".."}` (company),
/// `{"id":94,"value":".."}` (picklist), `{"id":2,"fullName":".."}` (person),
/// `{"id":1,"code":"..","name":".."}` (business case). A bare id is accepted on
/// reading too.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Ref {
    /// Id of the referenced record.
    pub id: u64,
    /// `name` label (companies, security levels, offers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `value` label (picklist entries such as categories).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `fullName` label (persons).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// `code` (business cases, offers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Ref {
    /// A reference holding only an id.
    #[must_use]
    pub fn id(id: u64) -> Self {
        Ref {
            id,
            ..Ref::default()
        }
    }

    /// The first label present: `fullName`, `name`, `value`, then `code`.
    pub fn label(&self) -> Option<&str> {
        self.full_name
            .as_deref()
            .or(self.name.as_deref())
            .or(self.value.as_deref())
            .or(self.code.as_deref())
    }
}

impl<'de> Deserialize<'de> for Ref {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Obj {
            #[serde(deserialize_with = "de::u64_lenient")]
            id: u64,
            #[serde(default, deserialize_with = "de::opt_string_lenient")]
            name: Option<String>,
            #[serde(default, deserialize_with = "de::opt_string_lenient")]
            value: Option<String>,
            #[serde(default, deserialize_with = "de::opt_string_lenient")]
            full_name: Option<String>,
            #[serde(default, deserialize_with = "de::opt_string_lenient")]
            code: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Id(u64),
            IdText(String),
            Obj(Obj),
        }
        match Either::deserialize(d)? {
            Either::Id(id) => Ok(Ref::id(id)),
            Either::IdText(s) => s
                .trim()
                .parse()
                .map(Ref::id)
                .map_err(|_| serde::de::Error::custom(format!("invalid reference id `{s}`"))),
            Either::Obj(o) => Ok(Ref {
                id: o.id,
                name: o.name,
                value: o.value,
                full_name: o.full_name,
                code: o.code,
            }),
        }
    }
}

/// The audit block every record carries, read from flat dotted keys
/// (`"rowInfo.createdAt"`, …) and `_version`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RowInfo {
    /// `rowInfo.createdAt`.
    #[serde(rename = "rowInfo.createdAt")]
    pub created_at: Option<ApiDateTime>,
    /// `rowInfo.updatedAt`.
    #[serde(rename = "rowInfo.updatedAt")]
    pub updated_at: Option<ApiDateTime>,
    /// `rowInfo.lastModifiedAt` (created or updated): the incremental-sync
    /// watermark.
    #[serde(rename = "rowInfo.lastModifiedAt")]
    pub last_modified_at: Option<ApiDateTime>,
    /// `rowInfo.createdBy`: login of the creating user.
    #[serde(rename = "rowInfo.createdBy")]
    pub created_by: Option<String>,
    /// `rowInfo.updatedBy`: login of the last updating user.
    #[serde(rename = "rowInfo.updatedBy")]
    pub updated_by: Option<String>,
    /// `rowInfo.rowAccess` (`INVALID` marks an invalidated record).
    #[serde(rename = "rowInfo.rowAccess")]
    pub row_access: Option<String>,
    /// `rowInfo.rowState` (undocumented values).
    #[serde(rename = "rowInfo.rowState")]
    pub row_state: Option<String>,
    /// `_version`, incremented on every change.
    #[serde(rename = "_version", deserialize_with = "de::opt_u64_lenient")]
    pub version: Option<u64>,
}

/// A row of a `view=rowInfo` listing: the id and the audit block only (the
/// cheap scan used to detect deletions and changes).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct RowSummary {
    /// Record id.
    #[serde(deserialize_with = "de::u64_lenient")]
    pub id: u64,
    /// Audit block and `_version`.
    #[serde(flatten)]
    pub row_info: RowInfo,
}

/// A datetime as the API returns it.
///
/// With `dateFormat=ISO8601` (which this client always sends) values carry an
/// offset; without it they are naive `yyyy-MM-dd HH:mm` in the API user's
/// time zone. Both are accepted so that nothing is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiDateTime {
    /// A datetime with an explicit offset.
    Zoned(DateTime<FixedOffset>),
    /// A naive local datetime in the API user's (instance's) time zone.
    Local(NaiveDateTime),
}

impl ApiDateTime {
    /// Parses every datetime shape the API uses: RFC 3339 / ISO 8601 with an
    /// offset (`2022-01-01T12:00:00.000+01:00`, `+0100`, `Z`), naive
    /// `yyyy-MM-dd HH:mm[:ss]`, naive `yyyy-MM-ddTHH:mm[:ss[.fff]]` and a bare
    /// date (`yyyy-MM-dd`, read as local midnight).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Some(ApiDateTime::Zoned(dt));
        }
        for fmt in [
            "%Y-%m-%dT%H:%M:%S%.f%z",
            "%Y-%m-%dT%H:%M%z",
            "%Y-%m-%d %H:%M:%S%.f%z",
        ] {
            if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
                return Some(ApiDateTime::Zoned(dt));
            }
        }
        for fmt in [
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M:%S%.f",
        ] {
            if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
                return Some(ApiDateTime::Local(dt));
            }
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(ApiDateTime::Local)
    }

    /// The instant in UTC; a naive local value is placed in `tz`. A local time
    /// that does not exist (spring-forward gap) is moved forward by the gap; an
    /// ambiguous one (autumn fall-back) takes the earlier instant.
    pub fn to_utc<Tz: TimeZone>(&self, tz: &Tz) -> Option<DateTime<Utc>> {
        match self {
            ApiDateTime::Zoned(dt) => Some(dt.with_timezone(&Utc)),
            ApiDateTime::Local(naive) => local_to_utc(tz, *naive),
        }
    }

    /// The wall-clock time in `tz` (naive values are returned as they are).
    pub fn naive_local_in<Tz: TimeZone>(&self, tz: &Tz) -> NaiveDateTime {
        match self {
            ApiDateTime::Zoned(dt) => dt.with_timezone(tz).naive_local(),
            ApiDateTime::Local(naive) => *naive,
        }
    }
}

/// Resolves a naive local time in `tz` to UTC (gap: shifted forward; fold:
/// earlier instant).
pub(crate) fn local_to_utc<Tz: TimeZone>(tz: &Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    if let Some(dt) = tz.from_local_datetime(&naive).earliest() {
        return Some(dt.with_timezone(&Utc));
    }
    // Inside a spring-forward gap: try later wall times until one exists.
    (1..=180).find_map(|minutes| {
        tz.from_local_datetime(&(naive + chrono::Duration::minutes(minutes)))
            .earliest()
            .map(|dt| dt.with_timezone(&Utc))
    })
}

impl std::fmt::Display for ApiDateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiDateTime::Zoned(dt) => write!(f, "{}", dt.format("%Y-%m-%dT%H:%M:%S%.3f%:z")),
            ApiDateTime::Local(dt) => write!(f, "{}", dt.format("%Y-%m-%d %H:%M")),
        }
    }
}

impl Serialize for ApiDateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ApiDateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ApiDateTime::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid datetime `{s}`")))
    }
}

impl From<DateTime<FixedOffset>> for ApiDateTime {
    fn from(dt: DateTime<FixedOffset>) -> Self {
        ApiDateTime::Zoned(dt)
    }
}

/// List envelope: `{"success": true, "totalCount": N, "data": [..]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ListEnvelope<T> {
    /// `success` (boolean or the string `"true"`).
    #[serde(default, deserialize_with = "de::opt_bool_lenient")]
    pub success: Option<bool>,
    /// Number of records matching the filter (all pages).
    #[serde(default, deserialize_with = "de::opt_u64_lenient")]
    pub total_count: Option<u64>,
    /// The page's rows.
    #[serde(
        default = "Vec::new",
        deserialize_with = "de::null_as_empty",
        bound(deserialize = "T: Deserialize<'de>")
    )]
    pub data: Vec<T>,
}

/// Detail envelope: `{"success": "true", "data": {..}}`.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct DetailEnvelope<T> {
    /// `success` (boolean or the string `"true"`).
    #[serde(default, deserialize_with = "de::opt_bool_lenient")]
    pub success: Option<bool>,
    /// The record.
    pub data: T,
}

/// The answer to a create: `{"success": true, "data": {"id": 5}}` or
/// `{"success": "true", "data": 3}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Created {
    /// Id of the new record.
    pub id: u64,
}

impl<'de> Deserialize<'de> for Created {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Obj {
            #[serde(deserialize_with = "de::u64_lenient")]
            id: u64,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Data {
            Id(u64),
            Obj(Obj),
        }
        #[derive(Deserialize)]
        struct Env {
            data: Data,
        }
        Ok(match Env::deserialize(d)?.data {
            Data::Id(id) | Data::Obj(Obj { id }) => Created { id },
        })
    }
}

/// The API's error body, in any of its three shapes (bare `{type, message}`,
/// `{success:false, type, message}`, or just `{message}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorEnvelope {
    #[serde(rename = "type", default, deserialize_with = "de::opt_string_lenient")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub message: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub translated_message: Option<String>,
}

/// Lenient deserialisers.
pub(crate) mod de {
    use serde::{Deserialize, Deserializer, de::Error as _};
    use serde_json::{Number, Value};

    /// `true/on/yes/1` and `false/off/no/0`, as bool, string or number.
    pub(crate) fn bool_from_value(v: &Value) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => n.as_i64().map(|n| n != 0),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "on" | "yes" | "1" => Some(true),
                "false" | "off" | "no" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn opt_bool_lenient<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<bool>, D::Error> {
        let v = Option::<Value>::deserialize(d)?;
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(v) => bool_from_value(&v)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("invalid boolean `{v}`"))),
        }
    }

    pub(crate) fn u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        opt_u64_lenient(d)?.ok_or_else(|| D::Error::custom("missing number"))
    }

    /// A number, or a decimal string (an empty one is `None`); null → `None`.
    pub(crate) fn opt_u64_lenient<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<u64>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            v => number_lenient(v, Number::as_u64),
        }
    }

    /// A number or a decimal string; null → `None`.
    pub(crate) fn opt_i64_lenient<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<i64>, D::Error> {
        number_lenient(Option::<Value>::deserialize(d)?, Number::as_i64)
    }

    /// `v` as a `T`: a JSON number that `as_t` accepts, or a string that parses.
    fn number_lenient<T: std::str::FromStr, E: serde::de::Error>(
        v: Option<Value>,
        as_t: fn(&Number) -> Option<T>,
    ) -> Result<Option<T>, E> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => as_t(&n)
                .map(Some)
                .ok_or_else(|| E::custom(format!("invalid number `{n}`"))),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| E::custom(format!("invalid number `{s}`"))),
            Some(other) => Err(E::custom(format!("invalid number `{other}`"))),
        }
    }

    /// A string, or a number/bool rendered as text; null → `None`.
    pub(crate) fn opt_string_lenient<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<String>, D::Error> {
        let v = Option::<Value>::deserialize(d)?;
        Ok(match v {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => Some(other.to_string()),
        })
    }

    /// Tags: an array of strings or one comma-separated string.
    pub(crate) fn opt_tags<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<String>>, D::Error> {
        let v = Option::<Value>::deserialize(d)?;
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(super::split_tags(&s))),
            Some(Value::Array(items)) => Ok(Some(
                items
                    .into_iter()
                    .filter_map(|i| match i {
                        Value::String(s) => Some(s),
                        Value::Null => None,
                        other => Some(other.to_string()),
                    })
                    .collect(),
            )),
            Some(other) => Err(D::Error::custom(format!("invalid tags `{other}`"))),
        }
    }

    /// A date (`yyyy-MM-dd`, or a datetime whose date part is taken).
    pub(crate) fn opt_date<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<chrono::NaiveDate>, D::Error> {
        let v = Option::<String>::deserialize(d)?;
        match v {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => {
                let t = s.trim();
                t.get(..10)
                    .and_then(|p| chrono::NaiveDate::parse_from_str(p, "%Y-%m-%d").ok())
                    .map(Some)
                    .ok_or_else(|| D::Error::custom(format!("invalid date `{s}`")))
            }
        }
    }

    /// `null` → empty vector.
    pub(crate) fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
    }
}

/// Serialisers for writes.
pub(crate) mod ser {
    use chrono::{DateTime, FixedOffset};
    use serde::Serializer;

    /// The datetime format written to the API: ISO 8601 with milliseconds and
    /// an explicit offset.
    pub(crate) const ISO_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f%:z";

    #[allow(clippy::ref_option)] // serde's serialize_with signature
    pub(crate) fn iso_opt<S: Serializer>(
        v: &Option<DateTime<FixedOffset>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(dt) => s.collect_str(&dt.format(ISO_FORMAT)),
            None => s.serialize_none(),
        }
    }

    #[allow(clippy::ref_option)]
    pub(crate) fn tags_comma<S: Serializer>(
        v: &Option<Vec<String>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(tags) => s.serialize_str(&tags.join(",")),
            None => s.serialize_none(),
        }
    }
}

/// Splits a comma-separated tag string, trimming and dropping empties.
pub(crate) fn split_tags(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}
