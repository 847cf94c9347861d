//! Python tracebacks, whole: the frames, the exception, and every exception
//! chained to it (`The above exception was the direct cause …`, `During
//! handling of the above exception …`) become one event, so a urllib3
//! `NewConnectionError` → `MaxRetryError` → `requests.ConnectionError` chain
//! is one incident, not three. Frames tell the HTTP method and the SDK call
//! when the message does not.

use std::sync::OnceLock;

use regex::Regex;

use super::exception::{exception_at, merge_chain};
use super::{Ctx, EventKind, Field, LineParser, Lines};

const HEADER: &str = "Traceback (most recent call last):";
const CHAINED: [&str; 2] = [
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
];

pub struct PythonTraceback;

/// A frame line: indented, or a `File "…", line N, in f` line that lost
/// its indent (a traceback pasted flush left into a forum or an issue).
fn is_frame(line: &str) -> bool {
    (line.starts_with([' ', '\t']) && !line.trim().is_empty())
        || (line.starts_with("File \"") && line.contains("\", line "))
}

fn next_non_blank(lines: &Lines, mut k: usize) -> usize {
    while k < lines.len() && lines.line(k).trim().is_empty() {
        k += 1;
    }
    k
}

impl LineParser for PythonTraceback {
    fn triggers(&self) -> &'static [&'static str] {
        &[HEADER]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        if !lines.line(i).trim_end().ends_with(HEADER) {
            return None;
        }
        let mut j = i + 1;
        let mut chain: Vec<Vec<Field>> = Vec::new();
        let mut frames: Vec<&str> = Vec::new();
        loop {
            while j < lines.len() && is_frame(lines.line(j)) {
                let frame = lines.line(j);
                frames.push(frame);
                j += 1;
                // Flush left, its source line lost its indent too: the next
                // line, unless it is the exception (`Type` or `Type: …`).
                if frame.starts_with("File \"")
                    && j < lines.len()
                    && !is_frame(lines.line(j))
                    && !lines.line(j).trim().is_empty()
                    && !looks_like_exception(lines.line(j))
                {
                    frames.push(lines.line(j));
                    j += 1;
                }
            }
            if j >= lines.len() || lines.line(j).trim().is_empty() {
                break;
            }
            match exception_at(lines, j) {
                Some((fields, n)) => {
                    chain.push(fields);
                    j += n;
                }
                None => {
                    chain.push(bare_exception(lines, lines.line(j)));
                    j += 1;
                }
            }
            let k = next_non_blank(lines, j);
            if k < lines.len() && CHAINED.contains(&lines.line(k).trim()) {
                let h = next_non_blank(lines, k + 1);
                if h < lines.len() && lines.line(h).trim_end().ends_with(HEADER) {
                    j = h + 1;
                    continue;
                }
            }
            break;
        }
        let last = j.max(i + 1) - 1;
        let Some(outer) = chain.pop() else {
            return Some(last - i + 1);
        };
        let mut fields = merge_chain(outer, chain);
        from_frames(lines, &frames, &mut fields);
        ctx.emit(EventKind::Exception, lines.span_of_lines(i, last), fields);
        Some(last - i + 1)
    }
}

/// `pkg.Type` or `pkg.Type: …` at the start of a line: a dotted name or
/// one with a capital (`socket.timeout`, `KeyError`), not a bare keyword
/// source line (`raise`, `pass`).
fn looks_like_exception(line: &str) -> bool {
    let head = line
        .trim_end()
        .split_once(": ")
        .map_or(line.trim_end(), |(ty, _)| ty);
    head.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && head
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && (head.contains('.') || head.chars().any(char::is_uppercase))
}

/// `StopIteration`, `KeyError: 'x'` and other lines the exception parser
/// does not know: the text before `: ` is the type. The message is still
/// read for what it reveals: `raise Exception('Request failed with ', 429,
/// ' - ', r.text)` prints a status and a body in its args tuple.
fn bare_exception(lines: &Lines, line: &str) -> Vec<Field> {
    let text = line.trim_end();
    match text.split_once(": ") {
        Some((ty, msg)) if !ty.contains(' ') => {
            let mut fields = vec![
                lines.str_field("exception.type", ty),
                lines.str_field("exception.message", msg),
            ];
            fields.extend(
                super::exception::message_fields(lines, msg)
                    .into_iter()
                    .filter(|f| f.name != "exception.message" && f.name != "exception.type"),
            );
            fields
        }
        _ => vec![lines.str_field("exception.type", text)],
    }
}

fn frame_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Identifier characters: ASCII word characters or any non-ASCII one (a
        // superset of Unicode \w, far cheaper to compile).
        Regex::new(r#"^\s*File "(?P<file>[^"]+)", line [0-9]+, in (?P<func>[A-Za-z0-9_\x{80}-\x{10FFFF}<>]+)\s*$"#)
            .expect("frame regex")
    })
}

/// The HTTP method from the HTTP library's frames (`requests/sessions.py …
/// in post`, the Genesys SDK's `rest.py … in GET`) and the SDK call
/// (`apis/users_api.py … in get_users` → `UsersApi->get_users`).
fn from_frames(lines: &Lines, frames: &[&str], fields: &mut Vec<Field>) {
    let has = |fields: &Vec<Field>, n: &str| fields.iter().any(|f| f.name == n);
    let mut call: Option<Field> = None;
    let mut method: Option<Field> = None;
    for frame in frames {
        let Some(c) = frame_re().captures(frame) else {
            continue;
        };
        let (file, func) = (
            c.name("file").map_or("", |m| m.as_str()),
            c.name("func").map_or("", |m| m.as_str()),
        );
        let func_m = c.name("func").expect("func group");
        let http_lib = file.ends_with("/requests/sessions.py")
            || file.ends_with("/requests/api.py")
            || file.ends_with("PureCloudPlatformClientV2/rest.py");
        let upper = func.to_ascii_uppercase();
        if method.is_none()
            && http_lib
            && ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
                .contains(&upper.as_str())
        {
            method = Some(super::Field {
                name: "method".into(),
                value: super::Value::Str(upper.into()),
                span: lines.span_of(func_m.as_str()),
            });
        }
        if let Some(api) = file
            .rsplit_once("/apis/")
            .and_then(|(_, f)| f.strip_suffix("_api.py"))
        {
            let class: String = api
                .split('_')
                .map(|w| {
                    let mut cs = w.chars();
                    cs.next()
                        .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                        .unwrap_or_default()
                })
                .collect();
            call = Some(super::Field {
                name: "exception.call".into(),
                value: super::Value::Str(format!("{class}Api->{func}").into()),
                span: lines.span_of(func_m.as_str()),
            });
        } else if call.is_none()
            && file.ends_with("PureCloudPlatformClientV2/api_client.py")
            && func.ends_with("_token")
        {
            call = Some(super::Field {
                name: "exception.call".into(),
                value: super::Value::Str(format!("ApiClient->{func}").into()),
                span: lines.span_of(func_m.as_str()),
            });
        }
    }
    if let Some(m) = method.filter(|_| !has(fields, "method")) {
        fields.push(m);
    }
    if let Some(c) = call.filter(|_| !has(fields, "exception.call")) {
        fields.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::chunk;
    use super::super::{EventKind, parse_chunk};

    const CHAIN: &str = "Traceback (most recent call last):
  File \"/x/site-packages/urllib3/connection.py\", line 198, in _new_conn
    sock = connection.create_connection(
ConnectionRefusedError: [Errno 111] Connection refused

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File \"/x/site-packages/requests/sessions.py\", line 637, in post
    return self.request(\"POST\", url, data=data, json=json, **kwargs)
  File \"/x/site-packages/requests/adapters.py\", line 700, in send
    raise ConnectionError(e, request=request)
requests.exceptions.ConnectionError: HTTPSConnectionPool(host='login.mypurecloud.com', port=9443): Max retries exceeded with url: /oauth/token (Caused by NewConnectionError(\"HTTPSConnection(host='login.mypurecloud.com', port=9443): Failed to establish a new connection: [Errno 111] Connection refused\"))
";

    /// Pasted flush left (indents lost in a forum or an issue), with the
    /// source lines indented by one space or by none.
    #[test]
    fn flush_left_frames_are_frames() {
        for text in [
            "Traceback (most recent call last):\nFile \"/srv/app/session.py\", line 64, in wrapper\n return func(self)\nFile \"/srv/app/session.py\", line 512, in process_params\n raise RuntimeError(msg)\nRuntimeError: API response was: 413 - Request Entity Too Large\n",
            "Traceback (most recent call last):\nFile \"/srv/app/session.py\", line 64, in wrapper\nreturn func(self)\nFile \"/srv/app/session.py\", line 512, in process_params\nraise RuntimeError(msg)\nRuntimeError: API response was: 413 - Request Entity Too Large\n",
        ] {
            let events = parse_chunk(&chunk(text));
            assert_eq!(events.len(), 1, "{events:?}");
            let e = &events[0];
            let types: Vec<String> = (e.fields.iter())
                .filter(|f| f.name == "exception.type")
                .map(|f| f.value.to_string())
                .collect();
            assert_eq!(types, ["RuntimeError"], "{text}");
            assert_eq!(
                e.field("status").map(|f| f.value.to_string()).as_deref(),
                Some("413")
            );
        }
        // A bare `raise` is the frame's source line, not the exception.
        let events = parse_chunk(&chunk(
            "Traceback (most recent call last):\nFile \"/srv/app/job.py\", line 9, in run\nraise\nsocket.timeout: timed out\n",
        ));
        assert_eq!(
            events[0]
                .field("exception.type")
                .map(|f| f.value.to_string())
                .as_deref(),
            Some("socket.timeout")
        );
        // A frame with no source line, then the exception.
        let events = parse_chunk(&chunk(
            "Traceback (most recent call last):\nFile \"<string>\", line 1, in <module>\nNameError: name 'token' is not defined\n",
        ));
        assert_eq!(
            events[0]
                .field("exception.type")
                .map(|f| f.value.to_string())
                .as_deref(),
            Some("NameError")
        );
    }

    #[test]
    fn chain_is_one_event() {
        let events = parse_chunk(&chunk(CHAIN));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(e.kind, EventKind::Exception);
        let get = |n: &str| e.field(n).map(|f| f.value.to_string());
        assert_eq!(
            get("exception.type").as_deref(),
            Some("requests.exceptions.ConnectionError")
        );
        assert_eq!(
            get("exception.cause.type").as_deref(),
            Some("ConnectionRefusedError")
        );
        assert_eq!(
            get("url").as_deref(),
            Some("https://login.mypurecloud.com:9443/oauth/token")
        );
        assert_eq!(get("method").as_deref(), Some("POST"));
        assert_eq!(get("exception.code").as_deref(), Some("111"));
    }

    #[test]
    fn truncated_traceback_does_not_panic() {
        for cut in 0..CHAIN.len() {
            if CHAIN.is_char_boundary(cut) {
                let _ = parse_chunk(&chunk(&CHAIN[..cut]));
            }
        }
    }

    #[test]
    fn sdk_frames_name_the_call() {
        let text = "Traceback (most recent call last):
  File \"/v/PureCloudPlatformClientV2/apis/users_api.py\", line 4775, in get_users
    response = self.api_client.call_api(resource_path, 'GET',
  File \"/v/PureCloudPlatformClientV2/rest.py\", line 213, in GET
    return self.request(\"GET\", url,
PureCloudPlatformClientV2.rest.ApiException: (429)
Reason: Too Many Requests
HTTP response body: {\"code\":\"too.many.requests\",\"status\":429}
";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(
            e.field("exception.call").unwrap().value.to_string(),
            "UsersApi->get_users"
        );
        assert_eq!(e.field("method").unwrap().value.to_string(), "GET");
        assert_eq!(e.field("status").unwrap().value.to_string(), "429");
        assert_eq!(
            e.field("body.code").unwrap().value.to_string(),
            "too.many.requests"
        );
    }
}
