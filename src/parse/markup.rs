//! XML and HTML bodies: an XML error body (`<Error><Code>…</Code>
//! <Message>…</Message></Error>`, `<ErrorResponse>`, SOAP faults) becomes
//! `body.<path>` facts like JSON does; an HTML page (a proxy's or load
//! balancer's `502 Bad Gateway`, a login page where JSON was expected)
//! gives `html.title`, `html.h1`, and the status its title states.
//!
//! A tag scanner, not a full XML parser: error bodies are small and
//! regular, and a malformed one is still read as far as it goes.

use std::sync::OnceLock;

use regex::Regex;

use super::json::format_fields;
use super::{Ctx, EventKind, Field, LineParser, Lines, Value};
use crate::input::Span;

/// `json`, `xml`, `html` or `text`, from how a body starts.
pub fn sniff_format(text: &str) -> &'static str {
    let t = text.trim_start();
    if t.starts_with(['{', '[']) {
        return "json";
    }
    if !t.starts_with('<') {
        return "text";
    }
    let head = &t[..t.floor_char_boundary(t.len().min(256))].to_ascii_lowercase();
    if head.starts_with("<!doctype html")
        || ["<html", "<head", "<body", "<title", "<center", "<h1"]
            .iter()
            .any(|tag| head.contains(tag))
    {
        "html"
    } else {
        "xml"
    }
}

/// Whether `hay` contains `needle`, ASCII case-insensitively.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let n = needle.as_bytes();
    hay.len() >= n.len()
        && hay
            .as_bytes()
            .windows(n.len())
            .any(|w| w.eq_ignore_ascii_case(n))
}

/// Lines an HTML page may take (a Cloudflare page is ~100), and an XML body.
const MAX_HTML_LINES: usize = 1_000;
const MAX_XML_LINES: usize = 100;

/// An element name after `<`.
fn element_name(s: &str) -> Option<&str> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.')))
        .unwrap_or(s.len());
    let name = &s[..end];
    (name.starts_with(|c: char| c.is_ascii_alphabetic()) && !name.is_empty()).then_some(name)
}

/// The root element of a document starting at `s` (after an XML
/// declaration, doctype and comments), and whether the document is HTML.
fn root_of(s: &str) -> Option<(String, bool)> {
    let mut rest = s.trim_start();
    let mut html = false;
    loop {
        if let Some(r) = rest.strip_prefix("<?") {
            rest = r.split_once("?>")?.1.trim_start();
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.split_once("-->")?.1.trim_start();
        } else if rest
            .get(..9)
            .is_some_and(|d| d.eq_ignore_ascii_case("<!doctype"))
        {
            html |= rest[9..]
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("html");
            rest = rest.split_once('>')?.1.trim_start();
        } else {
            break;
        }
    }
    let name = element_name(rest.strip_prefix('<')?)?;
    // `<Response [405]>` is a Python object's repr, not an element: an
    // attribute never starts with `[`.
    let after = &rest[1 + name.len()..];
    if after.trim_start().starts_with('[') {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    // Also a page's fragment, as a log or a post quotes it: nginx's error
    // page from its `<center><h1>413 Request Entity Too Large</h1>` on.
    html |= matches!(
        lower.as_str(),
        "html" | "head" | "body" | "title" | "center" | "h1" | "h2"
    );
    Some((name.to_string(), html))
}

/// Where a markup document starts on a line: at its start, or mid-line
/// after a label (`response: <?xml …`, `body=<html>`).
fn markup_start(line: &str) -> Option<usize> {
    // Every form below starts with `<`: most lines have none, and one
    // memchr spares them five substring searches.
    memchr::memchr(b'<', line.as_bytes())?;
    let first = line.len() - line.trim_start().len();
    if line[first..].starts_with('<') && root_of(&line[first..]).is_some() {
        return Some(first);
    }
    for needle in ["<?xml", "<!DOCTYPE", "<!doctype", "<html", "<HTML"] {
        if let Some(at) = line.find(needle)
            && line[..at].trim_end().ends_with([':', '=', '|', '>'])
        {
            return Some(at);
        }
    }
    None
}

/// Whether a markup document starts on this line.
pub fn starts_document(line: &str) -> bool {
    markup_start(line).is_some()
}

pub struct MarkupBody;

impl LineParser for MarkupBody {
    fn triggers(&self) -> &'static [&'static str] {
        &["<"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        let at = markup_start(line)?;
        let (root, html) = root_of(&line[at..])?;
        let close = format!("</{root}");
        let limit = if html { MAX_HTML_LINES } else { MAX_XML_LINES };
        // Lines already known to hold no closing tag for this root.
        let mut j = match &ctx.markup_unclosed {
            Some((r, upto)) if *r == root && *upto >= i => *upto,
            _ => i,
        };
        let mut closed = false;
        loop {
            let l = lines.line(j);
            super::work::add(l.len() + 1);
            if contains_ci(l, &close) {
                closed = true;
                break;
            }
            // Another document starts: this one was cut short. An XML
            // error body has no blank line in it.
            if j > i && html && (contains_ci(l, "<html") || contains_ci(l, "<!doctype")) {
                j -= 1;
                break;
            }
            if j > i && !html && l.trim().is_empty() {
                break;
            }
            if j + 1 >= lines.len() || j + 1 - i >= limit {
                break;
            }
            j += 1;
        }
        if !closed && !html {
            ctx.markup_unclosed = Some((root, j));
            return None;
        }
        // A page whose `<html>` was on the line before (an exception's
        // message, `GCMAuthError: <HTML>`) starts at its `<head>`: its body
        // and the closing `</html>` are the same page.
        let head_end = j;
        if closed && root.eq_ignore_ascii_case("head") {
            j = page_rest_after_head(lines, j, i + limit);
        }
        let start = lines.span_of(line).start + at;
        let end = lines.span_of_lines(j, j).end;
        let text = &lines.text[start - lines.base..end - lines.base];
        let text = match closed {
            // The page's lines after its head, whole.
            true if j > head_end => text.trim_end(),
            // Up to the end of the closing tag.
            true => {
                let lower = text.to_ascii_lowercase();
                let c = lower.rfind(&close.to_ascii_lowercase()).unwrap_or(0);
                let gt = text[c..].find('>').map_or(text.len(), |p| c + p + 1);
                &text[..gt]
            }
            false => text,
        };
        let span = lines.span_of(text);
        let fields = document_fields(lines, text, html, closed)?;
        ctx.emit(EventKind::Body, span, fields);
        Some(j - i + 1)
    }
}

/// The last line of a page whose `<head>` closed on line `j`: the
/// `<body>…</body>` right after it and a closing `</html>`, if they follow
/// (no further than line `limit`); else `j`.
fn page_rest_after_head(lines: &Lines, mut j: usize, limit: usize) -> usize {
    let starts = |k: usize, tag: &str| {
        k < lines.len()
            && lines
                .line(k)
                .trim_start()
                .get(..tag.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(tag))
    };
    if starts(j + 1, "<body") {
        let mut k = j + 1;
        while k < lines.len() && k <= limit {
            super::work::add(lines.line(k).len() + 1);
            if contains_ci(lines.line(k), "</body") {
                j = k;
                break;
            }
            k += 1;
        }
    }
    if starts(j + 1, "</html") { j + 1 } else { j }
}

/// The fields of a markup document (a verbatim slice of `lines.text`):
/// `body`, `body.format`, and the page's or the XML's facts; `None` when
/// it has none (an XML element with no text, a page with no title).
fn document_fields(lines: &Lines, text: &str, html: bool, closed: bool) -> Option<Vec<Field>> {
    let span = lines.span_of(text);
    let mut fields = vec![lines.str_field("body", text)];
    if html {
        html_fields(lines, text, &mut fields);
        if fields.len() == 1 && !closed {
            return None;
        }
        fields.extend(format_fields("html", !closed, span));
    } else {
        xml_fields(lines, text, &mut fields);
        if fields.len() == 1 {
            return None;
        }
        // An `<Error>` document's `<Code>` is the error it states (S3 and
        // S3-compatible stores, Azure Storage, GCS's XML API): the body
        // says by itself that the call failed.
        if root_of(text).is_some_and(|(root, _)| local(&root) == "Error")
            && let Some(code) = fields.iter().find(|f| f.name == "body.Code").cloned()
        {
            fields.push(Field {
                name: "error".into(),
                ..code
            });
        }
        fault_fields(lines, &mut fields);
        fields.extend(format_fields("xml", false, span));
    }
    Some(fields)
}

/// A fault in an XML body: SOAP's (`Envelope/Body/Fault`, with 1.1's
/// `faultcode`/`faultstring` or 1.2's `Code/Value` and `Reason/Text`) or
/// a REST API's own (Intuit's `IntuitResponse/Fault/Error/Message`). The
/// body says by itself that the call failed: its code (else its message)
/// is the `error`, and a status its text states (Intuit's `statusCode:
/// 401` in `Detail`) is the status.
fn fault_fields(lines: &Lines, fields: &mut Vec<Field>) {
    let in_fault = |f: &Field| f.name.split('.').any(|part| part == "Fault");
    if !fields.iter().any(in_fault) || fields.iter().any(|f| f.name == "error") {
        return;
    }
    let named = |suffixes: &[&str]| {
        fields
            .iter()
            .find(|f| in_fault(f) && suffixes.iter().any(|s| f.name.ends_with(s)))
            .cloned()
    };
    let error = named(&[".faultcode", ".Code.Value"])
        .or_else(|| named(&[".faultstring", ".Reason.Text", ".Message"]));
    let status = fields.iter().filter(|f| in_fault(f)).find_map(|f| {
        let text = lines
            .text
            .get(f.span.start.checked_sub(lines.base)?..f.span.end.checked_sub(lines.base)?)?;
        super::exception::facts_from_message(lines, text)
            .into_iter()
            .find(|m| m.name == "status")
    });
    if let Some(code) = error {
        fields.push(Field {
            name: "error".into(),
            ..code
        });
    }
    fields.extend(status);
}

/// A markup document inside a text (an exception message that carries the
/// page a proxy sent): where it starts and its fields. `text` is a slice
/// of `lines.text`.
pub fn body_in_text(lines: &Lines, text: &str) -> Option<(usize, Vec<Field>)> {
    let at = ["<?xml", "<!DOCTYPE", "<!doctype", "<html", "<HTML"]
        .iter()
        .filter_map(|n| text.find(n))
        .min()?;
    let doc = &text[at..];
    let (root, html) = root_of(doc)?;
    let close = format!("</{}", root.to_ascii_lowercase());
    let lower = doc.to_ascii_lowercase();
    let (doc, closed) = match lower.rfind(&close) {
        Some(c) => {
            let gt = doc[c..].find('>').map_or(doc.len(), |p| c + p + 1);
            (&doc[..gt], true)
        }
        None => (doc.trim_end(), false),
    };
    Some((at, document_fields(lines, doc, html, closed)?))
}

fn title_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?is)<title[^>]*>(?P<t>.*?)</title\s*>").expect("title regex"))
}

fn h1_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?is)<h1[^>]*>(?P<t>.*?)</h1\s*>").expect("h1 regex"))
}

fn tag_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"<[^>]*>").expect("tag regex"))
}

/// Text content: tags dropped, entities decoded, whitespace collapsed.
fn text_content(s: &str) -> String {
    let no_tags = tag_re().replace_all(s, " ");
    let decoded = decode_entities(&no_tags);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let Some(semi) = rest[..rest.floor_char_boundary(rest.len().min(12))].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..semi];
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                .ok()
                .and_then(char::from_u32),
            n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `html.title`, `html.h1`, and the status and reason the page states.
fn html_fields(lines: &Lines, text: &str, fields: &mut Vec<Field>) {
    let mut stated = Vec::new();
    for (name, re) in [("html.title", title_re()), ("html.h1", h1_re())] {
        let Some(m) = re.captures(text).and_then(|c| c.name("t")) else {
            continue;
        };
        let value = text_content(m.as_str());
        if value.is_empty() {
            continue;
        }
        fields.push(lines.field(name, Value::Str(value.clone().into()), m.as_str()));
        stated.push((m.as_str(), value));
    }
    for &(s, _) in &stated {
        let found = super::signal::scan(lines, s);
        let status = found.iter().find(|f| f.name == "status");
        let code = super::signal::page_status(lines, s);
        if let Some(st) = status.cloned().or(code) {
            fields.push(st);
            if let Some(r) = found.into_iter().find(|f| f.name == "reason") {
                fields.push(r);
            }
            return;
        }
    }
    // A title or heading that is a reason phrase and nothing else (Google
    // front ends' `<TITLE>Unauthorized</TITLE>`, with the number only in an
    // `<H2>Error 401</H2>`) states its status as surely as a number.
    if let Some((status, s, phrase)) = stated
        .iter()
        .find_map(|(s, phrase)| Some((super::signal::status_of_reason(phrase)?, *s, phrase)))
    {
        fields.push(lines.field("status", Value::Num(f64::from(status)), s));
        fields.push(lines.field("reason", Value::Str(phrase.clone().into()), s));
    }
}

/// Leaf elements as `body.<path>` (the root left out, as a JSON body's
/// root object is); spans on the element's text.
fn xml_fields(lines: &Lines, text: &str, fields: &mut Vec<Field>) {
    let base = lines.span_of(text).start;
    let mut stack: Vec<(String, usize, bool)> = Vec::new(); // (name, content start, has child)
    let mut pos = 0;
    while let Some(lt) = text[pos..].find('<') {
        let at = pos + lt;
        let rest = &text[at..];
        if rest.starts_with("<?") || rest.starts_with("<!--") || rest.starts_with("<!") {
            let end = if rest.starts_with("<!--") {
                rest.find("-->").map(|p| p + 3)
            } else if let Some(cdata) = rest.strip_prefix("<![CDATA[") {
                cdata.find("]]>").map(|p| p + 12)
            } else {
                rest.find('>').map(|p| p + 1)
            };
            pos = at + end.unwrap_or(rest.len());
            continue;
        }
        let Some(gt) = rest.find('>') else { break };
        let tag = &rest[1..gt];
        pos = at + gt + 1;
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            // Close up to the matching open element.
            while let Some((open, start, has_child)) = stack.pop() {
                if open == name {
                    if !has_child && !stack.is_empty() {
                        let content = &text[start..at];
                        let value = decode_entities(
                            content
                                .trim()
                                .strip_prefix("<![CDATA[")
                                .and_then(|c| c.strip_suffix("]]>"))
                                .unwrap_or(content.trim()),
                        );
                        let path: Vec<&str> = stack[1..]
                            .iter()
                            .map(|(n, _, _)| local(n))
                            .chain(std::iter::once(local(&open)))
                            .collect();
                        let trimmed = content.trim();
                        let span = if trimmed.is_empty() {
                            Span::new(base + start, base + at)
                        } else {
                            let off = trimmed.as_ptr() as usize - text.as_ptr() as usize;
                            Span::new(base + off, base + off + trimmed.len())
                        };
                        fields.push(Field {
                            name: format!("body.{}", path.join(".")).into(),
                            value: Value::Str(value.into()),
                            span,
                        });
                    }
                    break;
                }
            }
            continue;
        }
        if tag.ends_with('/') {
            if let Some(last) = stack.last_mut() {
                last.2 = true;
            }
            continue;
        }
        let Some(name) = element_name(tag) else {
            continue;
        };
        if let Some(last) = stack.last_mut() {
            last.2 = true;
        }
        if stack.len() >= 32 {
            break;
        }
        stack.push((name.to_string(), pos, false));
    }
}

/// An element's name without its namespace prefix (`soap:Fault` → `Fault`).
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::super::tests::chunk;
    use super::super::{EventKind, parse_chunk};
    use super::*;

    use super::super::tests::field_value as get;

    #[test]
    fn title_that_is_a_reason_phrase_states_the_status() {
        let page = "<HTML>\n<HEAD>\n<TITLE>Unauthorized</TITLE>\n</HEAD>\n<BODY BGCOLOR=\"#FFFFFF\" TEXT=\"#000000\">\n<H1>Unauthorized</H1>\n<H2>Error 401</H2>\n</BODY>\n</HTML>\n";
        assert_eq!(get(page, "status").as_deref(), Some("401"));
        assert_eq!(get(page, "reason").as_deref(), Some("Unauthorized"));
        // A title that only contains one is no statement of status.
        let page = "<html><head><title>Unauthorized access is logged</title></head><body><p>Sign in</p></body></html>\n";
        assert_eq!(get(page, "status"), None);
    }

    #[test]
    fn page_from_its_head_takes_its_body() {
        // The `<HTML>` ended the exception's line: one page, not two.
        let text = "RubyPushNotifications::GCM::GCMAuthError: <HTML>\n<HEAD>\n<TITLE>Unauthorized</TITLE>\n</HEAD>\n<BODY BGCOLOR=\"#FFFFFF\" TEXT=\"#000000\">\n<H1>Unauthorized</H1>\n<H2>Error 401</H2>\n</BODY>\n</HTML>\n";
        let events = parse_chunk(&chunk(text));
        let bodies: Vec<_> = events
            .iter()
            .filter(|e| e.kind == EventKind::Body)
            .collect();
        assert_eq!(bodies.len(), 1, "{events:?}");
        assert_eq!(bodies[0].span.end, text.len() - 1);
    }

    #[test]
    fn nginx_502_page() {
        let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        let events = parse_chunk(&chunk(page));
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].kind, EventKind::Body);
        assert_eq!(get(page, "html.title").as_deref(), Some("502 Bad Gateway"));
        assert_eq!(get(page, "status").as_deref(), Some("502"));
        assert_eq!(get(page, "reason").as_deref(), Some("Bad Gateway"));
        assert_eq!(get(page, "body.format").as_deref(), Some("html"));
        // The page from its heading on, as a report quotes it.
        let fragment =
            "<center><h1>413 Request Entity Too Large</h1></center>\n<hr><center>nginx</center>\n";
        assert_eq!(get(fragment, "status").as_deref(), Some("413"));
        assert_eq!(get(fragment, "body.format").as_deref(), Some("html"));
    }

    #[test]
    fn aws_xml_errors() {
        let s3 = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>\n";
        assert_eq!(
            get(s3, "body.Code").as_deref(),
            Some("SignatureDoesNotMatch")
        );
        assert_eq!(get(s3, "body.format").as_deref(), Some("xml"));
        let sts = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>InvalidClientTokenId</Code>\n    <Message>The security token included in the request is invalid.</Message>\n  </Error>\n  <RequestId>c6104cbe</RequestId>\n</ErrorResponse>\n";
        assert_eq!(
            get(sts, "body.Error.Code").as_deref(),
            Some("InvalidClientTokenId")
        );
        let events = parse_chunk(&chunk(sts));
        let code = events[0].field("body.Error.Code").unwrap();
        assert_eq!(&sts[code.span.start..code.span.end], "InvalidClientTokenId");
    }

    #[test]
    fn entities_and_formats() {
        assert_eq!(decode_entities("a &amp; b &#39;c&#x27;"), "a & b 'c'");
        assert_eq!(sniff_format("  <!DOCTYPE html><html>"), "html");
        assert_eq!(sniff_format("<?xml version=\"1.0\"?><Error/>"), "xml");
        assert_eq!(sniff_format("{\"a\":1}"), "json");
        assert_eq!(sniff_format("Bad Gateway"), "text");
    }

    #[test]
    fn near_misses() {
        // OkHttp's arrows, Node's refs and an unclosed tag are not bodies.
        assert!(get("<-- 401 Unauthorized https://a.example/x (12ms)\n", "body").is_none());
        assert!(get("<ref *1> ClientRequest {\n", "body.format").is_none());
        assert!(get("<T> is a type parameter\nmore text\n", "body").is_none());
    }
}
