//! Conversions between RAYNET's HTML `description` and plain text.
//!
//! [`text_to_html`] writes one `<p>` per line (an empty line is `<p><br></p>`,
//! as rich-text editors write it), escapes `& < > " '` and keeps runs of spaces
//! with `&nbsp;`. [`html_to_text`] reads any HTML: block elements and `<br>`
//! become line breaks, whitespace collapses as a browser would, entities are
//! decoded and tags, comments, scripts and styles dropped. For every text `t`
//! (with `\n` line ends), `html_to_text(&text_to_html(t)) == t`.

/// Converts plain text to the HTML RAYNET stores. `\r\n` and `\r` are read as
/// `\n`; the empty string gives the empty string.
#[must_use]
pub fn text_to_html(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split('\n') {
        if line.is_empty() {
            out.push_str("<p><br></p>");
            continue;
        }
        out.push_str("<p>");
        let chars: Vec<char> = line.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                '\t' => out.push_str("&#9;"),
                ' ' => {
                    let prev_soft = i > 0 && chars[i - 1] != ' ';
                    let next_soft = i + 1 < chars.len() && chars[i + 1] != ' ';
                    if prev_soft && next_soft {
                        out.push(' ');
                    } else {
                        out.push_str("&nbsp;");
                    }
                }
                c if c.is_control() => {
                    use std::fmt::Write as _;
                    let _ = write!(out, "&#{};", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push_str("</p>");
    }
    out
}

/// Converts RAYNET's HTML to plain text with `\n` line breaks.
#[must_use]
pub fn html_to_text(html: &str) -> String {
    let mut w = TextWriter::default();
    let mut skip_until: Option<&'static str> = None;
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        if rest.starts_with("<!--") {
            i += rest.find("-->").map_or(rest.len(), |e| e + 3);
            continue;
        }
        if bytes[i] == b'<' && is_tag_start(rest) {
            let end = tag_end(rest);
            let tag = parse_tag(&rest[..end]);
            i += end;
            if let Some(skip) = skip_until {
                if tag.closing && tag.name == skip {
                    skip_until = None;
                }
                continue;
            }
            if let Some(skip) = SKIPPED.iter().find(|s| **s == tag.name) {
                if !tag.closing && !tag.self_closing {
                    skip_until = Some(skip);
                }
                continue;
            }
            w.tag(&tag);
            continue;
        }
        // Text up to the next tag start.
        let next = rest
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '<')
            .map_or(rest.len(), |(p, _)| p);
        let chunk = &rest[..next];
        i += next;
        if skip_until.is_none() {
            w.text(chunk);
        }
    }
    w.finish()
}

const SKIPPED: [&str; 5] = ["script", "style", "head", "title", "template"];

const BLOCKS: [&str; 32] = [
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "tbody",
    "thead",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "address",
    "dl",
    "dt",
    "dd",
    "hr",
    "form",
    "fieldset",
    "nav",
    "figure",
    "main",
    "aside",
];

struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
}

fn is_tag_start(rest: &str) -> bool {
    let mut chars = rest.chars().skip(1);
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => true,
        Some('/') => chars.next().is_some_and(|c| c.is_ascii_alphabetic()),
        Some('!' | '?') => true,
        _ => false,
    }
}

/// Length of the tag starting at `rest[0] == '<'`, honouring quoted attributes.
fn tag_end(rest: &str) -> usize {
    let mut quote: Option<char> = None;
    for (i, c) in rest.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return i + 1,
            _ => {}
        }
    }
    rest.len()
}

fn parse_tag(raw: &str) -> Tag {
    let inner = raw.trim_start_matches('<').trim_end_matches('>');
    let closing = inner.starts_with('/');
    let inner = inner.trim_start_matches('/');
    let name: String = inner
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    Tag {
        name,
        closing,
        self_closing: inner.trim_end().ends_with('/'),
    }
}

#[derive(Default)]
struct TextWriter {
    lines: Vec<String>,
    cur: String,
    /// The current line was started by a block and must be kept even if empty.
    cur_open: bool,
    /// Collapsed whitespace waiting for the next visible character.
    pending_space: bool,
    pre_depth: usize,
}

impl TextWriter {
    fn tag(&mut self, tag: &Tag) {
        if tag.name == "br" {
            self.break_line();
            return;
        }
        if tag.name == "pre" {
            if tag.closing {
                self.pre_depth = self.pre_depth.saturating_sub(1);
            } else if !tag.self_closing {
                self.pre_depth += 1;
            }
        }
        if BLOCKS.contains(&tag.name.as_str()) {
            self.block_boundary();
        }
    }

    fn block_boundary(&mut self) {
        if self.cur_open || !self.cur.is_empty() {
            self.flush();
        }
    }

    fn break_line(&mut self) {
        self.flush();
    }

    fn flush(&mut self) {
        let line = std::mem::take(&mut self.cur);
        self.lines.push(line);
        self.cur_open = false;
        self.pending_space = false;
    }

    fn push_visible(&mut self, c: char) {
        if self.pending_space && !self.cur.is_empty() {
            self.cur.push(' ');
        }
        self.pending_space = false;
        self.cur.push(c);
        self.cur_open = true;
    }

    fn text(&mut self, raw: &str) {
        let mut rest = raw;
        while let Some(c) = rest.chars().next() {
            if c == '&' {
                if let Some((decoded, len)) = decode_entity(rest) {
                    self.push_visible(decoded);
                    rest = &rest[len..];
                    continue;
                }
            }
            rest = &rest[c.len_utf8()..];
            if self.pre_depth > 0 {
                match c {
                    '\n' => self.break_line(),
                    '\r' => {}
                    c => self.push_visible(c),
                }
            } else if c.is_ascii_whitespace() {
                self.pending_space = true;
            } else {
                self.push_visible(c);
            }
        }
    }

    fn finish(mut self) -> String {
        if self.cur_open || !self.cur.is_empty() {
            self.flush();
        }
        self.lines.join("\n")
    }
}

/// Decodes the entity at the start of `s` (which starts with `&`); returns the
/// character and the number of bytes consumed.
fn decode_entity(s: &str) -> Option<(char, usize)> {
    let end = s.char_indices().take(12).find(|(_, c)| *c == ';')?.0;
    let body = &s[1..end];
    let c = if let Some(num) = body.strip_prefix('#') {
        let code = if let Some(hex) = num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
            u32::from_str_radix(hex, 16).ok()?
        } else {
            num.parse().ok()?
        };
        char::from_u32(code)?
    } else {
        named_entity(body)?
    };
    Some((c, end + 1))
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "laquo" => '«',
        "raquo" => '»',
        "bdquo" => '„',
        "ldquo" => '“',
        "rdquo" => '”',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "euro" => '€',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "bull" => '•',
        "middot" => '·',
        "deg" => '°',
        "times" => '×',
        "shy" => '\u{ad}',
        "aacute" => 'á',
        "Aacute" => 'Á',
        "eacute" => 'é',
        "Eacute" => 'É',
        "iacute" => 'í',
        "Iacute" => 'Í',
        "oacute" => 'ó',
        "Oacute" => 'Ó',
        "uacute" => 'ú',
        "Uacute" => 'Ú',
        "yacute" => 'ý',
        "Yacute" => 'Ý',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "scaron" => 'š',
        "Scaron" => 'Š',
        "ccaron" => 'č',
        "Ccaron" => 'Č',
        "rcaron" => 'ř',
        "Rcaron" => 'Ř',
        "zcaron" => 'ž',
        "Zcaron" => 'Ž',
        "ecaron" => 'ě',
        "Ecaron" => 'Ě',
        "uring" => 'ů',
        "Uring" => 'Ů',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raynet_example_paragraph() {
        assert_eq!(html_to_text("<p>Poznámka</p>"), "Poznámka");
    }

    #[test]
    fn paragraphs_and_breaks() {
        assert_eq!(html_to_text("<p>a</p><p>b</p>"), "a\nb");
        assert_eq!(html_to_text("<p>a</p>\n  <p>b</p>\n"), "a\nb");
        assert_eq!(html_to_text("a<br>b<br/>c<BR />d"), "a\nb\nc\nd");
        assert_eq!(html_to_text("<p>a</p><p><br></p><p>b</p>"), "a\n\nb");
        assert_eq!(
            html_to_text("<div>a</div><div><br></div><div>b</div>"),
            "a\n\nb"
        );
        assert_eq!(html_to_text("<p>a<br></p>"), "a");
        assert_eq!(
            html_to_text("<ul><li>one</li><li>two</li></ul>"),
            "one\ntwo"
        );
    }

    #[test]
    fn entities() {
        assert_eq!(
            html_to_text("<p>&quot;Q&quot; &amp; &lt;tag&gt; &#39;x&#39; &#x41;&nbsp;&euro;</p>"),
            "\"Q\" & <tag> 'x' A €"
        );
        assert_eq!(html_to_text("a &unknown; b & c"), "a &unknown; b & c");
        assert_eq!(html_to_text("P&aacute;n &scaron;&eacute;f"), "Pán šéf");
    }

    #[test]
    fn whitespace_collapses_like_a_browser() {
        assert_eq!(html_to_text("<p>  a \n\t b  </p>"), "a b");
        assert_eq!(html_to_text("<p>a&nbsp;&nbsp;b</p>"), "a  b");
    }

    #[test]
    fn drops_markup_scripts_and_comments() {
        assert_eq!(
            html_to_text(
                "<html><head><title>T</title><style>p{}</style></head><body>\
                 <p><strong>Bold</strong> <a href=\"x>y\">link</a></p><!-- c --><script>x<y</script></body></html>"
            ),
            "Bold link"
        );
        assert_eq!(html_to_text("1 < 2 and 3 > 2"), "1 < 2 and 3 > 2");
    }

    #[test]
    fn pre_keeps_whitespace() {
        assert_eq!(html_to_text("<pre>a  b\n c</pre>"), "a  b\n c");
    }

    #[test]
    fn text_to_html_shape() {
        assert_eq!(text_to_html(""), "");
        assert_eq!(text_to_html("a"), "<p>a</p>");
        assert_eq!(text_to_html("a\n\nb"), "<p>a</p><p><br></p><p>b</p>");
        assert_eq!(
            text_to_html("\"x\" & <y> 'z'"),
            "<p>&quot;x&quot; &amp; &lt;y&gt; &#39;z&#39;</p>"
        );
        assert_eq!(text_to_html("a\r\nb"), "<p>a</p><p>b</p>");
    }

    #[test]
    fn round_trips() {
        let samples = [
            "",
            "a",
            "a\n",
            "\n",
            "\n\n",
            "a\nb",
            "a\n\nb",
            "a\n\n\nb\n",
            "  indented\n\ttab",
            "trailing  ",
            "a  b   c",
            " ",
            "quotes \"“typographic”\" & <html> 'apos'",
            "Příliš žluťoučký kůň úpěl ďábelské ódy",
            "&amp; literally &nbsp;",
            "nbsp\u{a0}char",
            "emoji 😀 and <br> text",
        ];
        for s in samples {
            assert_eq!(html_to_text(&text_to_html(s)), s, "round trip of {s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn text_survives_a_round_trip(text in "[a-zA-Z0-9 \t\n&<>\"'\u{a0}ář;#%/=-]{0,60}") {
            proptest::prop_assert_eq!(html_to_text(&text_to_html(&text)), text, "html_to_text(text_to_html(t)) == t");
        }

        #[test]
        fn any_text_survives_a_round_trip(text in "\\PC{0,40}(\n\\PC{0,40}){0,3}") {
            proptest::prop_assert_eq!(html_to_text(&text_to_html(&text)), text, "html_to_text(text_to_html(t)) == t");
        }

        #[test]
        fn any_input_is_read_without_panicking(html in "\\PC{0,80}") {
            let _ = html_to_text(&html);
        }

        #[test]
        fn escaped_text_has_no_markup(text in "\\PC{0,60}") {
            let html = text_to_html(&text);
            let inner = html.replace("<p>", "").replace("</p>", "").replace("<br>", "");
            proptest::prop_assert!(!inner.contains('<') && !inner.contains('>'), "text_to_html escapes every bracket: {}", html);
        }
    }
}
