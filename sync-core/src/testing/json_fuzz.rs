//! Mutations of JSON payloads for fuzzing a client's parsers with proptest (feature
//! `proptest`): take a seed (a documented example, a fake's real answer), pick one of its
//! paths, drop the key, put an evil value there (null, a wrong type, a number out of range, a
//! huge or empty string, an invalid date or time zone) or nest it deep, then maybe break the
//! serialised bytes (truncation, invalid UTF-8, a flipped byte, random bytes).
//!
//! [`check_decode_failure`] checks what a parser said about a mutated body: a path that names
//! the mutated field's line. Both client crates' `tests/fuzz.rs` use it.
//!
//! ```
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//! use sync_core::testing::json_fuzz::{mutate, mutation};
//! let seed = serde_json::json!({"value": [{"id": "1", "subject": "Kickoff"}]});
//! let mut runner = TestRunner::default();
//! let m = mutation().new_tree(&mut runner).unwrap().current();
//! let mutated = mutate(&seed, &m);
//! // A body that parses is either the seed's shape or an error naming a field; either way
//! // the mutation is at one of the seed's paths.
//! assert!(mutated.path.as_ref().is_none_or(|p| p.len() <= 4));
//! ```

use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    /// An object's key.
    Key(String),
    /// An array's index.
    At(usize),
}

/// What is done to the value at a path.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Remove the key (or array element).
    Drop,
    /// Put this value there (null, a wrong type, an out-of-range number, a bad date...).
    Put(Value),
    /// Wrap the value in this many arrays or objects.
    Nest(usize, bool),
}

/// What is done to the serialised body afterwards.
#[derive(Debug, Clone)]
pub enum Bytes {
    /// The body as serialised.
    Keep,
    /// Cut at a position.
    Truncate(Index),
    /// These bytes (invalid UTF-8) inserted at a position.
    Insert(Index, Vec<u8>),
    /// The byte at a position replaced.
    Flip(Index, u8),
    /// Random bytes instead of the body.
    Random(Vec<u8>),
}

/// A mutation: an edit at one of the seed's paths, then maybe a byte mutation.
#[derive(Debug, Clone)]
pub struct Mutation {
    /// Which of the seed's paths ([`paths`]).
    pub at: Index,
    /// What is done there.
    pub edit: Edit,
    /// What is done to the bytes afterwards.
    pub bytes: Bytes,
}

/// A value a remote could send where something else was expected.
pub fn evil_value() -> impl Strategy<Value = Value> {
    let fixed: Vec<Value> = vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1.5),
        json!(1e308),
        json!(-1e-308),
        json!(""),
        json!(" "),
        json!("null"),
        json!("18446744073709551616"),
        json!("-0"),
        json!("1e400"),
        json!([]),
        json!({}),
        json!([null]),
        json!({"id": null}),
        json!({"id": "x"}),
        // Invalid or extreme dates and times.
        json!("2026-02-30T10:00:00.000+01:00"),
        json!("2026-13-01 10:00"),
        json!("2026-03-29 02:30"),
        json!("2026-10-25 02:30"),
        json!("2026-03-29T02:30:00"),
        json!("2026-01-01T25:61:61+01:00"),
        json!("2026-01-01T10:00:00+25:00"),
        json!("0000-00-00"),
        json!("0000-01-01T00:00:00Z"),
        json!("+262143-12-31 23:59"),
        json!("+262143-12-31T23:59:59+14:00"),
        json!("-262143-01-01 00:00"),
        json!("-262143-01-01T00:00:00-14:00"),
        json!("9999-12-31T23:59:59.999999999Z"),
        json!("99999-01-01"),
        json!("2026-01-01"),
        json!("1970-01-01T00:00:00Z"),
        json!("T"),
        // Time zones.
        json!("Mars/Olympus"),
        json!("UTC+99"),
        json!("EUROPE_PRAGUE"),
        json!("Europe/Prague\u{0}"),
        // Unicode edge cases (valid JSON strings).
        json!("\u{feff}\u{200b}"),
        json!("\u{10ffff}"),
        json!("<p>&amp;&#xD800;&#99999999;</p>"),
    ];
    prop_oneof![
        4 => proptest::sample::select(fixed),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>()
            .prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        1 => any::<bool>().prop_map(Value::from),
        2 => ".{0,24}".prop_map(Value::from),
        1 => (1usize..200_000).prop_map(|n| Value::from("x".repeat(n))),
        1 => proptest::collection::vec(any::<u8>().prop_map(Value::from), 0..4).prop_map(Value::Array),
    ]
}

/// An edit: mostly an evil value or a null put, or the key dropped; sometimes deep nesting.
pub fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => Just(Edit::Drop),
        2 => Just(Edit::Put(Value::Null)),
        8 => evil_value().prop_map(Edit::Put),
        1 => (1usize..300, any::<bool>()).prop_map(|(n, arrays)| Edit::Nest(n, arrays)),
    ]
}

/// A byte mutation: mostly none; else invalid UTF-8 inserted, a cut, a flipped byte or random
/// bytes.
pub fn byte_mutation() -> impl Strategy<Value = Bytes> {
    let invalid_utf8: Vec<Vec<u8>> = vec![
        vec![0xff],
        vec![0xc3],
        vec![0xed, 0xa0, 0x80],
        vec![0xf4, 0x90, 0x80, 0x80],
        vec![0xc0, 0xaf],
        vec![0],
        b"\\ud800".to_vec(),
        b"\"".to_vec(),
        b"{".to_vec(),
    ];
    prop_oneof![
        12 => Just(Bytes::Keep),
        1 => any::<Index>().prop_map(Bytes::Truncate),
        2 => (any::<Index>(), proptest::sample::select(invalid_utf8)).prop_map(|(i, b)| Bytes::Insert(i, b)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Bytes::Flip(i, b)),
        1 => proptest::collection::vec(any::<u8>(), 0..256).prop_map(Bytes::Random),
    ]
}

/// A whole mutation: a path, an edit, a byte mutation.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    (any::<Index>(), edit(), byte_mutation()).prop_map(|(at, edit, bytes)| Mutation {
        at,
        edit,
        bytes,
    })
}

/// Every path of `v` (the root included), in document order.
pub fn paths(v: &Value) -> Vec<Vec<Seg>> {
    fn walk(v: &Value, here: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
        out.push(here.clone());
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    here.push(Seg::Key(k.clone()));
                    walk(c, here, out);
                    here.pop();
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    here.push(Seg::At(i));
                    walk(c, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// Applies `edit` at `path` (which exists in `v`).
pub fn apply(v: &mut Value, path: &[Seg], edit: &Edit) {
    let Some((last, parent_path)) = path.split_last() else {
        match edit {
            Edit::Drop => *v = Value::Null,
            Edit::Put(x) => *v = x.clone(),
            Edit::Nest(n, arrays) => *v = nest(v.take(), *n, *arrays),
        }
        return;
    };
    let mut parent = &mut *v;
    for seg in parent_path {
        parent = match seg {
            Seg::Key(k) => &mut parent[k.as_str()],
            Seg::At(i) => &mut parent[*i],
        };
    }
    match (edit, last, parent) {
        (Edit::Drop, Seg::Key(k), Value::Object(m)) => {
            m.remove(k);
        }
        (Edit::Drop, Seg::At(i), Value::Array(a)) => {
            a.remove(*i);
        }
        (Edit::Put(x), Seg::Key(k), p) => p[k.as_str()] = x.clone(),
        (Edit::Put(x), Seg::At(i), p) => p[*i] = x.clone(),
        (Edit::Nest(n, arrays), Seg::Key(k), p) => {
            let inner = p[k.as_str()].take();
            p[k.as_str()] = nest(inner, *n, *arrays);
        }
        (Edit::Nest(n, arrays), Seg::At(i), p) => {
            let inner = p[*i].take();
            p[*i] = nest(inner, *n, *arrays);
        }
        _ => {}
    }
}

/// `v` wrapped `depth` times in one-element arrays (or `{"n": …}` objects).
#[must_use]
pub fn nest(mut v: Value, depth: usize, arrays: bool) -> Value {
    for _ in 0..depth {
        v = if arrays {
            Value::Array(vec![v])
        } else {
            json!({ "n": v })
        };
    }
    v
}

/// The body after a mutation, and the mutated path when the body is still the JSON of the
/// edited value (no byte mutation) and not nested past serde_json's depth limit.
pub struct Mutated {
    /// The bytes to parse.
    pub body: Vec<u8>,
    /// The edited path, when the body is still the JSON of the edited value.
    pub path: Option<Vec<Seg>>,
    /// The edit removed the element at `path` (array indices after it shift).
    pub dropped: bool,
}

/// `seed` with the mutation `m` applied.
///
/// # Panics
/// Never for a JSON value (serialising one cannot fail).
#[must_use]
pub fn mutate(seed: &Value, m: &Mutation) -> Mutated {
    let all = paths(seed);
    let path = m.at.get(&all).clone();
    let mut v = seed.clone();
    apply(&mut v, &path, &m.edit);
    let mut body = serde_json::to_vec(&v).expect("a value serialises");
    let deep = matches!(m.edit, Edit::Nest(n, _) if n + path.len() > 100);
    let clean = match &m.bytes {
        Bytes::Keep => true,
        Bytes::Truncate(i) => {
            body.truncate(i.index(body.len() + 1));
            false
        }
        Bytes::Insert(i, b) => {
            let at = i.index(body.len() + 1);
            body.splice(at..at, b.iter().copied());
            false
        }
        Bytes::Flip(i, b) => {
            if !body.is_empty() {
                let at = i.index(body.len());
                body[at] = *b;
            }
            false
        }
        Bytes::Random(r) => {
            body.clone_from(r);
            false
        }
    };
    Mutated {
        body,
        path: (clean && !deep).then_some(path),
        dropped: matches!(m.edit, Edit::Drop),
    }
}

/// `path` as serde_path_to_error prints it (`data[3].scheduledFrom`).
pub fn render(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::At(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

/// Whether the error path `err` and the mutated path `at` lie on one line: the error is at
/// the mutated field, at an object or array holding it (a missing key, a type mismatch caught
/// above it), or inside the value put there. Keys holding `.` (`rowInfo.createdAt`) make the
/// rendering ambiguous: compared as text.
pub fn related(err: &str, at: &str) -> bool {
    let on_boundary = |long: &str, short: &str| {
        short.is_empty()
            || short == "."
            || (long.starts_with(short)
                && matches!(long.as_bytes().get(short.len()), None | Some(b'.' | b'[')))
    };
    on_boundary(at, err) || on_boundary(err, at)
}

/// Checks a parser's decode error about a mutated body `m`: it names `endpoint` (`got` is the
/// endpoint the error names) and a non-empty `path` that its `message` repeats; for a clean
/// mutation the path lies on the mutated field's line ([`related`]).
///
/// # Errors
/// A failed test case saying which of these does not hold.
pub fn check_decode_failure(
    got: &str,
    path: &str,
    message: &str,
    endpoint: &str,
    m: &Mutated,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(got, endpoint, "the error names the endpoint");
    prop_assert!(!path.is_empty(), "the error names a path");
    prop_assert!(
        message.contains(path),
        "the message names the path: {}",
        message
    );
    if let Some(at) = &m.path {
        let at = render(at);
        prop_assert!(
            related(path, &at),
            "the error path `{}` does not lead to the mutated field `{}`: {}",
            path,
            at,
            message
        );
    }
    Ok(())
}
