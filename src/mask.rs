//! Masks secrets (bearer and Basic credentials, client secrets, passwords,
//! tokens, JWT signatures, cookies) in everything faultline prints.
//!
//! Masking keeps the text's length, so spans computed on the original text
//! stay valid on the masked text.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

/// Each regex's group named `s` is the secret.
fn patterns() -> &'static [Regex] {
    static RES: OnceLock<Vec<Regex>> = OnceLock::new();
    RES.get_or_init(|| {
        [
            // Authorization headers, whatever the scheme. `\\n` before a name:
            // headers inside a printed bytes literal (`send: b'…\r\nCookie: …'`).
            r"(?i)(?:\b|\\[rn])(?:proxy-)?authorization\b['\x22]?\s*[:=]\s*['\x22]?(?:(?:bearer|basic|token|ssws|digest|negotiate)\s+)?(?P<s>[A-Za-z0-9\-._~+/*]{8,}=*)",
            r"(?i)\bbearer\s+(?P<s>[A-Za-z0-9\-._~+/]{6,}=*)",
            r"(?i)\bbasic\s+(?P<s>[A-Za-z0-9+/]{8,}={0,2})",
            // key=value and "key": "value" forms of secret parameters.
            r#"(?i)(?:\b|\\[rn])(?:client_secret|clientsecret|client-secret|password|passwd|pwd|secret|access_token|accesstoken|refresh_token|id_token|assertion|client_assertion|code_verifier|api[_-]?key|private_key|x-api-key)\b['"]?\s*[:=]\s*['"]?(?P<s>[^\s'"&,;}<>)\]\\]+)"#,
            // OAuth authorization codes in URLs and form bodies.
            r"(?i)[?&]code=(?P<s>[^&\s'\x22]+)",
            // JWT signatures (header and payload are decodable anyway).
            r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.(?P<s>[A-Za-z0-9_-]{8,})",
            // Cookies: every value in Cookie / Set-Cookie headers or dicts.
            r#"(?i)(?:\b|\\[rn])(?:set-)?cookie['"]?\s*[:=]\s*['"]?[^=;\s'"]+=(?P<s>[^;\s'"\\]+)"#,
            // Passwords in URLs: `https://user:secret@host`.
            r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@'\x22]+:(?P<s>[^@\s/'\x22]+)@",
            // HAR headers: `{"name": "Cookie", "value": "…"}` over two lines.
            r#"(?is)"name"\s*:\s*"(?:set-cookie|cookie|authorization|proxy-authorization|x-api-key|api-key)"\s*,\s*"value"\s*:\s*"(?P<s>[^"]+)""#,
            // A credential that curl --trace-ascii wrapped onto the next dump line…
            r"(?im)^[0-9a-f]{4,}: (?:proxy-)?authorization:[^\n]*\n[0-9a-f]{4,}: (?P<s>[A-Za-z0-9+/=._~-]+)$",
            // …and any dump line that is one long base64 run, when seen alone.
            r"(?m)^[0-9a-f]{4,}: (?P<s>[A-Za-z0-9+/]{16,}={0,2})$",
        ]
        .iter()
        .map(|p| Regex::new(p).expect("mask regex"))
        .collect()
    })
}

/// Same-length masking: each secret byte becomes `*` (multi-byte characters
/// become as many `*` as they have bytes).
pub fn mask(text: &str) -> Cow<'_, str> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for re in patterns() {
        for c in re.captures_iter(text) {
            if let Some(m) = c.name("s") {
                ranges.push((m.start(), m.end()));
            }
        }
    }
    // A cookie header's later pairs: mask every `name=value` after the first.
    for line_start in cookie_lines(text) {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |p| line_start + p);
        let line = &text[line_start..line_end];
        let mut pos = 0;
        for part in line.split(';') {
            if let Some(eq) = part.find('=') {
                let s = line_start + pos + eq + 1;
                let e = line_start + pos + part.trim_end_matches(['\'', '"', '}', ')']).len();
                if e > s {
                    ranges.push((s, e));
                }
            }
            pos += part.len() + 1;
        }
    }
    // HAR `"cookies": [ {"name": …, "value": "…"} ]`: every value.
    static VALUE: OnceLock<Regex> = OnceLock::new();
    let value = VALUE.get_or_init(|| Regex::new(r#""value"\s*:\s*"(?P<s>[^"]+)""#).unwrap());
    for (start, end) in har_cookie_lists(text) {
        for c in value.captures_iter(&text[start..end]) {
            if let Some(m) = c.name("s") {
                ranges.push((start + m.start(), start + m.end()));
            }
        }
    }
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for (s, e) in ranges {
        for b in &mut bytes[s..e] {
            *b = b'*';
        }
    }
    // Whole characters were replaced byte for byte by ASCII, except where a
    // range cut through a multi-byte character; repair lossily.
    Cow::Owned(
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// Byte ranges of HAR `"cookies": [ … ]` lists (cookie objects hold no
/// nested arrays, so the first `]` closes the list).
fn har_cookie_lists(text: &str) -> Vec<(usize, usize)> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r#""cookies"\s*:\s*\["#).unwrap());
    re.find_iter(text)
        .map(|m| {
            (
                m.end(),
                text[m.end()..]
                    .find(']')
                    .map_or(text.len(), |p| m.end() + p),
            )
        })
        .collect()
}

/// Byte offsets where a value list of a Cookie / Set-Cookie header starts.
fn cookie_lines(text: &str) -> Vec<usize> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re =
        RE.get_or_init(|| Regex::new(r"(?im)\b(?:set-)?cookie['\x22]?\s*:\s*['\x22]?").unwrap());
    re.find_iter(text).map(|m| m.end()).collect()
}

/// Applies masking unless the user asked to see secrets.
#[derive(Debug, Clone, Copy)]
pub struct Masker {
    pub show_secrets: bool,
}

impl Masker {
    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.show_secrets {
            Cow::Borrowed(text)
        } else {
            mask(text)
        }
    }
    pub fn string(&self, text: &str) -> String {
        self.apply(text).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_and_keeps_length() {
        let cases = [
            "Authorization: Bearer abcdef123456",
            "> Authorization: Basic M2YxYzpGTFRQTEFOVEVE",
            "grant_type=client_credentials&client_secret=s3cr3t-value&x=1",
            r#"{"access_token": "FLTPLANTEDTOKEN-a1b2", "token_type": "bearer"}"#,
            "{'Authorization': 'Bearer FLTPLANTEDTOKEN-xyz'}",
            "Set-Cookie: session=FLTPLANTEDCOOKIE-zzz; Path=/; HttpOnly",
            "Cookie: a=FLTPLANTEDCOOKIE-1; b=FLTPLANTEDCOOKIE-2",
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "https://app/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=x",
            "password: hunter2hunter2",
            r"send: b'POST /x HTTP/1.1\r\nCookie: session=FLTPLANTEDCOOKIE-zzz\r\nAccept: */*'",
            "responseUrl: 'https://3f1c:FLTPLANTEDSECRET-9q8w@login.mypurecloud.com/oauth/token'",
            "{\n  \"name\": \"Set-Cookie\",\n  \"value\": \"session=FLTPLANTEDCOOKIE-zzz; Path=/\"\n}",
            "\"cookies\": [\n {\n \"name\": \"session\",\n \"value\": \"FLTPLANTEDCOOKIE-zzz\"\n }\n ]",
            "003a: Authorization: Basic M2YxYzJkOWUtMDAwMC00MDAwLTgwMDAtcGxhbnRlZDA\n007a: wMDAxOkZMVFBMQU5URURTRUNSRVQtOXE4dzdlNnI1dDR5",
            "007a: wMDAxOkZMVFBMQU5URURTRUNSRVQtOXE4dzdlNnI1dDR5",
        ];
        for c in cases {
            let m = mask(c);
            assert_eq!(m.len(), c.len(), "{c}");
            for secret in [
                "abcdef123456",
                "M2YxYzpGTFRQTEFOVEVE",
                "s3cr3t-value",
                "FLTPLANTED",
                "SflKxwRJ",
                "SplxlOBe",
                "hunter2",
                "wMDAxOkZM",
                "M2YxYzJkOWUt",
            ] {
                assert!(!m.contains(secret), "{secret} leaked in {m}");
            }
        }
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        let advice = "send `Authorization: Basic base64(client_id:client_secret)` and a form body";
        assert_eq!(mask(advice), advice);
        let t = r#"{"error": "invalid_grant", "error_description": "The client credentials are invalid"}"#;
        assert_eq!(mask(t), t);
        assert_eq!(
            mask("Content-Type: application/json"),
            "Content-Type: application/json"
        );
    }
}
