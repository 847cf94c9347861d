//! The error log of NextAuth.js and Auth.js, the sign-in library of many
//! Next.js (and SvelteKit, Express) apps, whose OAuth and OIDC failures are
//! logged in its own shape rather than as a stack trace:
//!
//! ```text
//! [next-auth][error][OAUTH_CALLBACK_ERROR]
//! https://next-auth.js.org/errors#oauth_callback_error expected 200 OK, got: 401 Unauthorized {
//! ```
//!
//! (NextAuth v4's logger: `[next-auth][error][${code}]`, then on its own
//! line the error page's URL and the message), and
//!
//! ```text
//! [auth][error] CallbackRouteError: Read more at https://errors.authjs.dev#callbackrouteerror
//! [auth][cause]: OperationProcessingError: unexpected "iss" (issuer) response parameter value
//! ```
//!
//! (Auth.js v5, `@auth/core`'s logger: `[auth][error] ${name}: ${message}`,
//! then `[auth][cause]:` and the cause's stack). Formats from the two
//! loggers' `error` functions; `[…][warn]` and `[…][debug]` lines are not
//! failures.

use super::exception::{merge_chain, message_fields};
use super::{Ctx, EventKind, Field, LineParser, Lines};

pub struct AuthJsLog;

/// Lines between `[auth][error]` and its `[auth][cause]:` at most (an
/// ANSI-coloured or prefixed log may put a blank line between).
const CAUSE_WITHIN: usize = 2;

/// Text after a tag, past an ANSI colour reset the loggers print after it.
fn after_tag<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    let at = line.find(tag)? + tag.len();
    let rest = &line[at..];
    Some(rest.strip_prefix("\u{1b}[0m").unwrap_or(rest))
}

/// `Type: message` of a JavaScript error's first stack line, or the message
/// alone.
fn type_and_message(text: &str) -> (Option<&str>, &str) {
    if let Some((ty, msg)) = text.split_once(": ")
        && !ty.is_empty()
        && ty.len() <= 80
        && ty.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && ty
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '.')
    {
        return (Some(ty), msg);
    }
    (None, text)
}

/// A v4 message without the metadata object the logger prints after it.
fn without_metadata(msg: &str) -> &str {
    msg.trim_end().strip_suffix('{').unwrap_or(msg).trim_end()
}

impl LineParser for AuthJsLog {
    fn triggers(&self) -> &'static [&'static str] {
        &["[next-auth][error][", "[auth][error]"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        if let Some(rest) = after_tag(line, "[next-auth][error][") {
            let (code, after) = rest.split_once(']')?;
            if code.is_empty() || !code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                return None;
            }
            let mut fields = vec![lines.str_field("exception.type", code)];
            let mut taken = 1;
            // The message: after the tag on its line, else after the error
            // page's URL on the next.
            let mut msg = without_metadata(after.trim());
            if msg.is_empty() && i + 1 < lines.len() {
                let next = lines.line(i + 1).trim();
                if next.starts_with("https://next-auth.js.org/errors#") {
                    taken = 2;
                    msg = next
                        .split_once(' ')
                        .map_or("", |(_, m)| without_metadata(m.trim()));
                }
            }
            if !msg.is_empty() {
                fields.push(lines.str_field("exception.message", msg));
                fields.extend(message_fields(lines, msg));
            }
            ctx.emit(
                EventKind::Exception,
                lines.span_of_lines(i, i + taken - 1),
                fields,
            );
            return Some(taken);
        }
        let rest = after_tag(line, "[auth][error]")?.trim();
        let (ty, msg) = type_and_message(rest);
        let ty = ty.or_else(|| {
            // `[auth][error] AdapterError` alone.
            (!rest.is_empty() && !rest.contains(' ')).then_some(rest)
        })?;
        let mut fields = vec![lines.str_field("exception.type", ty)];
        // `Read more at https://errors.authjs.dev#…` is a pointer, not a
        // message: the cause says what went wrong.
        if !msg.is_empty() && !msg.starts_with("Read more at ") {
            fields.push(lines.str_field("exception.message", msg));
            fields.extend(message_fields(lines, msg));
        }
        let mut taken = 1;
        for k in i + 1..lines.len().min(i + 1 + CAUSE_WITHIN) {
            let next = lines.line(k);
            if let Some(cause) = after_tag(next, "[auth][cause]") {
                let cause = cause.trim_start_matches(':').trim();
                let (cause_ty, cause_msg) = type_and_message(cause);
                let mut found: Vec<Field> = Vec::new();
                if let Some(t) = cause_ty {
                    found.push(lines.str_field("exception.type", t));
                }
                if !cause_msg.is_empty() {
                    found.push(lines.str_field("exception.message", cause_msg));
                    found.extend(message_fields(lines, cause_msg));
                }
                fields = merge_chain(fields, vec![found]);
                taken = k - i + 1;
                break;
            }
            if !next.trim().is_empty() {
                break;
            }
        }
        ctx.emit(
            EventKind::Exception,
            lines.span_of_lines(i, i + taken - 1),
            fields,
        );
        Some(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::field_value as get;

    #[test]
    fn next_auth_v4_code_and_message_on_the_next_line() {
        let t = "[next-auth][error][OAUTH_CALLBACK_ERROR] \nhttps://next-auth.js.org/errors#oauth_callback_error expected 200 OK, got: 401 Unauthorized {\n  error: OPError: expected 200 OK, got: 401 Unauthorized\n";
        assert_eq!(
            get(t, "exception.type").as_deref(),
            Some("OAUTH_CALLBACK_ERROR")
        );
        assert_eq!(
            get(t, "exception.message").as_deref(),
            Some("expected 200 OK, got: 401 Unauthorized")
        );
        assert_eq!(get(t, "status").as_deref(), Some("401"));
    }

    #[test]
    fn auth_js_v5_error_with_its_cause() {
        let t = "\u{1b}[31m[auth][error]\u{1b}[0m CallbackRouteError: Read more at https://errors.authjs.dev#callbackrouteerror\n\u{1b}[31m[auth][cause]\u{1b}[0m: OperationProcessingError: unexpected \"iss\" (issuer) response parameter value\n    at processAuthorizationCodeResponse (webpack-internal:///(rsc)/./node_modules/oauth4webapi/build/index.js:1401:15)\n";
        assert_eq!(
            get(t, "exception.type").as_deref(),
            Some("CallbackRouteError")
        );
        assert!(get(t, "exception.message").is_none());
        assert_eq!(
            get(t, "exception.cause.type").as_deref(),
            Some("OperationProcessingError")
        );
        assert_eq!(
            get(t, "exception.cause.message").as_deref(),
            Some("unexpected \"iss\" (issuer) response parameter value")
        );
    }

    #[test]
    fn warnings_and_prose_are_not_errors() {
        assert!(
            get(
                "[next-auth][warn][NO_SECRET] \nhttps://next-auth.js.org/warnings#no_secret\n",
                "exception.type"
            )
            .is_none()
        );
        assert!(
            get(
                "see the [auth][error] line above for details\n",
                "exception.type"
            )
            .is_none()
        );
    }
}
