//! Java and .NET stack traces, whole: `Exception in thread "main" X: msg`,
//! `\tat …` frames, `Caused by: Y: msg` (Java) or ` ---> Y: msg` (.NET inner
//! exceptions) and `... N more` become one event whose causes are
//! `exception.cause.*`.

use std::sync::OnceLock;

use regex::Regex;

use super::exception::{exception_at, merge_chain};
use super::{Ctx, EventKind, Field, LineParser, Lines};

pub struct StackTrace;

// Identifier characters: ASCII word characters or any non-ASCII one (a
// superset of Unicode \w, far cheaper to compile).
fn frame_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?x)^\s+(?:
                at\ [A-Za-z0-9_\x{80}-\x{10FFFF}$.<>/`\[\],|\ ]+\(.*\)(?:\ in\ .*)?   # Java: at a.B.c(B.java:1); .NET: at A.B(C d) in f.cs:line 3
              | at\ [A-Za-z0-9_\x{80}-\x{10FFFF}$.<>/`]+\s*$                          # .NET frame without arguments
              | \.\.\.\ [0-9]+\ (?:more|common\ frames\ omitted)
              | ---\ End\ of\ (?:inner\ exception\ )?stack\ trace.*
            )$",
        )
        .expect("frame regex")
    })
}

/// Node frames end in `file:line:col` and belong to the Node parser.
fn is_node_frame(line: &str) -> bool {
    let t = line
        .trim_end()
        .trim_end_matches('{')
        .trim_end()
        .trim_end_matches(')');
    let mut parts = t.rsplit(':');
    matches!((parts.next(), parts.next()), (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() && a.chars().all(|c| c.is_ascii_digit()) && b.chars().all(|c| c.is_ascii_digit()))
}

fn is_frame(line: &str) -> bool {
    // Every frame starts with whitespace (`^\s+`, Unicode as
    // `char::is_whitespace`): most lines are told without the regex (390
    // instructions a line).
    line.starts_with(char::is_whitespace) && frame_re().is_match(line) && !is_node_frame(line)
}

/// ` ---> Inner.Exception: msg` (.NET) or `Caused by: X` (Java).
fn cause_start(line: &str) -> Option<usize> {
    let t = line.trim_start();
    let offset = line.len() - t.len();
    if let Some(rest) = t.strip_prefix("---> ") {
        return Some(offset + t.len() - rest.len());
    }
    if t.starts_with("Caused by: ") || t.starts_with("Suppressed: ") {
        return Some(offset);
    }
    None
}

impl LineParser for StackTrace {
    fn triggers(&self) -> &'static [&'static str] {
        super::exception::TRIGGERS
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let first = lines.line(i);
        let next = (i + 1 < lines.len()).then(|| lines.line(i + 1));
        let stack_follows = next.is_some_and(|n| is_frame(n) || cause_start(n).is_some());
        if !stack_follows || first.starts_with([' ', '\t']) {
            return None;
        }
        let (outer, n) = exception_at(lines, i)?;
        let mut causes: Vec<Vec<Field>> = Vec::new();
        let mut j = i + n;
        while j < lines.len() {
            let line = lines.line(j);
            if is_frame(line) {
                j += 1;
                continue;
            }
            if let Some(start) = cause_start(line) {
                let sub = super::Lines {
                    text: lines.text,
                    base: lines.base,
                    bounds: vec![(lines.bounds[j].0 + start, lines.bounds[j].1)],
                    saw_end: Default::default(),
                    exception_memo: Default::default(),
                };
                if let Some((fields, _)) = exception_at(&sub, 0) {
                    causes.push(fields)
                }
                j += 1;
                continue;
            }
            break;
        }
        let fields = merge_chain(outer, causes);
        ctx.emit(EventKind::Exception, lines.span_of_lines(i, j - 1), fields);
        Some(j - i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::chunk;
    use super::super::{EventKind, parse_chunk};

    /// The whitespace test before the frame regex lets every match
    /// through: over every line of the fixtures and field cases, a line
    /// the regex matches starts with whitespace.
    #[test]
    fn frames_start_with_whitespace() {
        let mut frames = 0;
        for text in crate::test_corpus::fixture_and_field_texts() {
            for line in text.lines() {
                if super::frame_re().is_match(line) {
                    assert!(line.starts_with(char::is_whitespace), "{line:?}");
                    frames += 1;
                }
            }
        }
        for line in ["\u{a0}at a.B.c(B.java:1)", "\u{2003}... 3 more"] {
            assert!(
                super::frame_re().is_match(line) && super::is_frame(line),
                "{line:?}"
            );
        }
        assert!(frames > 100, "{frames}");
    }

    #[test]
    fn java_caused_by_chain() {
        let text = "Exception in thread \"main\" javax.net.ssl.SSLHandshakeException: PKIX path building failed: x
\tat java.net.http/jdk.internal.net.http.HttpClientImpl.send(HttpClientImpl.java:579)
\tat TokenCall.main(TokenCall.java:24)
Caused by: sun.security.validator.ValidatorException: PKIX path building failed
\tat java.base/sun.security.validator.PKIXValidator.doBuild(PKIXValidator.java:439)
\t... 23 more
Caused by: java.net.ConnectException
\t... 9 more
done
";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(e.kind, EventKind::Exception);
        assert_eq!(
            e.field("exception.type").unwrap().value.to_string(),
            "javax.net.ssl.SSLHandshakeException"
        );
        let causes: Vec<String> = e
            .fields
            .iter()
            .filter(|f| f.name == "exception.cause.type")
            .map(|f| f.value.to_string())
            .collect();
        assert_eq!(
            causes,
            [
                "sun.security.validator.ValidatorException",
                "java.net.ConnectException"
            ]
        );
        assert!(!text[e.span.start..e.span.end].contains("done"));
    }

    #[test]
    fn dotnet_inner_exception() {
        let text = "System.Net.Http.HttpRequestException: The SSL connection could not be established, see inner exception.
 ---> System.Security.Authentication.AuthenticationException: The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot
   at System.Net.Security.SslStream.SendAuthResetSignal(ProtocolToken message, ExceptionDispatchInfo exception)
   --- End of inner exception stack trace ---
   at System.Net.Http.ConnectHelper.EstablishSslConnectionAsync(SslClientAuthenticationOptions sslOptions, HttpRequestMessage request, Boolean async, Stream stream, CancellationToken cancellationToken)
";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(
            e.field("exception.type").unwrap().value.to_string(),
            "System.Net.Http.HttpRequestException"
        );
        assert!(
            e.field("exception.cause.message")
                .unwrap()
                .value
                .to_string()
                .contains("UntrustedRoot")
        );
    }
}
