//! Path segments: what the handlers escape in a record's extId.

/// Characters escaped in a path segment (extIds such as `m365:a/b+c=`).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b':');

/// `s` percent-encoded as one path segment.
pub(super) fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}
