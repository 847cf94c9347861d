//! Masks secrets in everything faultline prints and in `faultline redact`.
//!
//! What counts as a secret is the table [`SHAPES`] (documented, with the
//! same examples, in docs/security.md): values under secret key names
//! ([`SECRET_KEYS`], in JSON, dicts, forms, headers, query strings, HAR
//! name/value pairs and cookies, matched case-insensitively and whatever
//! the `snake_case`/`camelCase`/`kebab-case` spelling), and token formats
//! recognised anywhere (JWT signatures, Slack, GitHub, Google, AWS, Stripe,
//! PEM private keys, curl `-u`, passwords in URLs).
//!
//! Every secret becomes [`MASK`], whatever its length, so a mask tells
//! nothing about the secret and covers short ones (`Basic dTpw`) as well as
//! long. A recognisable prefix that says what kind of credential it is
//! (`Bearer `, `xoxb-`, `ghp_`, `sk_test_`, a JWT's header and payload —
//! claims the diagnosis reads, not the signature that makes it usable) is
//! kept. Line breaks are never masked, so masked text has the same lines.
//!
//! Masked text is a different length from the original: [`Masked`] maps
//! offsets in the original to offsets in the masked text, so renderers can
//! place spans computed on the original.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

use crate::parse::lean::Regex as Lean;

/// What every secret is replaced with: fixed width, so its length is not
/// revealed.
pub const MASK: &str = "********";

/// One kind of secret the masker recognises, with examples that the tests
/// (and the fuzzer) check: the text, and the secret that must not survive.
pub struct Shape {
    pub name: &'static str,
    pub what: &'static str,
    pub examples: &'static [(&'static str, &'static str)],
}

/// The secret shapes, in the order docs/security.md lists them.
pub const SHAPES: &[Shape] = &[
    Shape {
        name: "secret-key",
        what: "the value of any key named in the key table, in JSON, Python and Node dicts, YAML, `key=value` forms and query strings, URL-encoded forms (`client_secret%3D…`) and the incidents view's `name = value` lines",
        examples: &[
            (r#"{"client_secret": "Q7v_w2x-Secret1"}"#, "Q7v_w2x-Secret1"),
            (r#"{"refreshToken":"rt-9d8c7b6a"}"#, "rt-9d8c7b6a"),
            ("{'idToken': 'idt-55aa33'}", "idt-55aa33"),
            (
                "{ secretKey: 'sk-0f9e8d', privateKey: 'pk-1a2b3c' }",
                "sk-0f9e8d",
            ),
            (
                "{ secretKey: 'sk-0f9e8d', privateKey: 'pk-1a2b3c' }",
                "pk-1a2b3c",
            ),
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "wJalrXUtnFEMI",
            ),
            (
                "grant_type=client_credentials&client_secret=s3cr3t-value&x=1",
                "s3cr3t-value",
            ),
            (
                "body=grant_type%3Dclient_credentials%26client_secret%3Dabc123xyz%26scope%3Dx",
                "abc123xyz",
            ),
            ("password: hunter2", "hunter2"),
            (
                r#"{\"password\":\"pw-in-escaped-json\"}"#,
                "pw-in-escaped-json",
            ),
            (r#"{"token": "tk-17"}"#, "tk-17"),
            (r#"{"session": "sess-42abc"}"#, "sess-42abc"),
            ("form.client_secret = cs-value-9", "cs-value-9"),
            (
                r#"{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"}"#,
                "MIIEvQIBADANBgkq",
            ),
            (r#"{"apiKey": "k"}"#, r#""k""#),
        ],
    },
    Shape {
        name: "header",
        what: "credential headers: `Authorization` and `Proxy-Authorization` (the scheme is kept, the credential masked, however short), `X-Auth-Token`, `Private-Token`, `X-Api-Key`, `Ocp-Apim-Subscription-Key`, `X-Amz-Security-Token` and any header whose name ends in a key-table name — in raw HTTP, curl `-v`, `-H '…'`, Python dicts and bytes literals",
        examples: &[
            ("Authorization: Bearer ab12", "ab12"),
            ("> Authorization: Basic dTpw", "dTpw"),
            (
                "curl -H 'Authorization: Bearer FLT.planted-1' https://api.example.com/x",
                "FLT.planted-1",
            ),
            (
                "{'Authorization': 'Bearer FLTPLANTED-xyz'}",
                "FLTPLANTED-xyz",
            ),
            ("X-Auth-Token: xat-0123456789", "xat-0123456789"),
            ("Private-Token: glpat-abcDEF123456", "glpat-abcDEF123456"),
            (
                "Ocp-Apim-Subscription-Key: 0123456789abcdef0123456789abcdef",
                "0123456789abcdef",
            ),
            (
                "X-Amz-Security-Token: FQoGZXIvYXdzEJr//////////wEaDExample",
                "FQoGZXIvYXdz",
            ),
            (
                r"send: b'GET /x HTTP/1.1\r\nAuthorization: Bearer inbytes-77\r\n'",
                "inbytes-77",
            ),
            (
                "request.header.authorization = Bearer viewtoken-5",
                "viewtoken-5",
            ),
        ],
    },
    Shape {
        name: "sigv4",
        what: "AWS Signature Version 4: the access key id in `Credential=` (the date, region and service after it are kept) and `Signature=`, in an `Authorization` header or a presigned URL (`X-Amz-Credential`, `X-Amz-Signature`, `X-Amz-Security-Token`)",
        examples: &[
            (
                "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE01/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
                "fe5f80f77d5fa3be",
            ),
            (
                "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE01/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=fe5f80f7",
                "AKIDEXAMPLE01",
            ),
            (
                "GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE02%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=0a1b2c3d4e5f&X-Amz-Security-Token=IQoJb3JpZ2lu",
                "AKIDEXAMPLE02",
            ),
            (
                "GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIDEXAMPLE02%2F20240101&X-Amz-Signature=0a1b2c3d4e5f&X-Amz-Security-Token=IQoJb3JpZ2lu",
                "0a1b2c3d4e5f",
            ),
            (
                "GET https://b.s3.amazonaws.com/k?X-Amz-Signature=0a1b2c3d4e5f&X-Amz-Security-Token=IQoJb3JpZ2lu",
                "IQoJb3JpZ2lu",
            ),
        ],
    },
    Shape {
        name: "query",
        what: "URL query and form parameters that carry credentials: every key-table name, and also `key=`, `sig=`, `code=` (an OAuth authorization code) and `auth=` after `?` or `&`",
        examples: &[
            (
                "GET https://maps.example.com/api?key=AbCdEf123456&q=x",
                "AbCdEf123456",
            ),
            (
                "https://x.blob.core.windows.net/c/b?sv=2022&sig=Zm9vYmFyYmF6%3D",
                "Zm9vYmFyYmF6",
            ),
            (
                "https://app/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=x",
                "SplxlOBe",
            ),
            ("https://api.example.com/v1?token=qt-9f8e7d", "qt-9f8e7d"),
        ],
    },
    Shape {
        name: "cookie",
        what: "every pair's value in `Cookie:` and `Set-Cookie:` headers (`Set-Cookie` attributes such as `Path` and `Expires` are kept), in curl `-b`/`--cookie`, and every value of a HAR `cookies` list",
        examples: &[
            (
                "Cookie: a=FLTPLANTEDCOOKIE-1; b=FLTPLANTEDCOOKIE-2",
                "FLTPLANTEDCOOKIE-2",
            ),
            ("Set-Cookie: session=sv-123; Path=/; HttpOnly", "sv-123"),
            ("curl -b 'sid=abc123; theme=x9y8' https://e.example", "x9y8"),
            (
                "\"cookies\": [\n {\n \"name\": \"session\",\n \"value\": \"FLTPLANTEDCOOKIE-zzz\"\n }\n ]",
                "FLTPLANTEDCOOKIE-zzz",
            ),
        ],
    },
    Shape {
        name: "har",
        what: "HAR name/value objects (headers, queryString, postData.params, one line or pretty-printed) whose name is a secret key, header or cookie",
        examples: &[
            (
                "{\n  \"name\": \"Set-Cookie\",\n  \"value\": \"session=FLTPLANTEDCOOKIE-zzz; Path=/\"\n}",
                "FLTPLANTEDCOOKIE-zzz",
            ),
            (
                r#"{"postData": {"mimeType": "application/x-www-form-urlencoded", "params": [{"name": "client_secret", "value": "harparam-777"}]}}"#,
                "harparam-777",
            ),
            (
                r#"{"name": "Authorization", "value": "Basic dTpw"}"#,
                "dTpw",
            ),
        ],
    },
    Shape {
        name: "jwt",
        what: "a JWT's signature, in any JSON spacing of its header (`eyJ…`, `eyAi…`, `ewog…`); the header and payload are kept because they are readable claims the diagnosis uses (expiry, audience, scopes), and without its signature the token cannot be used",
        examples: &[
            (
                "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
                "SflKxwRJ",
            ),
            (
                "eyAiYWxnIjogIlJTMjU2IiB9.eyAic3ViIjogIjEiIH0.c2lnbmF0dXJlLXNwYWNlZA",
                "c2lnbmF0dXJl",
            ),
            (
                "ewogICJhbGciOiAiUlMyNTYiCn0.ewogICJzdWIiOiAiMSIKfQ.c2lnbmF0dXJlLXByZXR0eQ",
                "c2lnbmF0dXJl",
            ),
        ],
    },
    Shape {
        name: "bearer",
        what: "a credential after `Bearer` or `Basic` anywhere in text, however short, unless it is a plain word (`Bearer token`, `Basic realm`)",
        examples: &[
            ("the call used bearer ab12 and failed", "ab12"),
            (
                "Authorization: Bearer Bearer dbl-5f0c6b2e8a9d",
                "dbl-5f0c6b2e8a9d",
            ),
            ("sent Basic dTpw", "dTpw"),
        ],
    },
    Shape {
        name: "token-format",
        what: "provider token formats anywhere in text, the type prefix kept: Slack `xoxb-`/`xoxp-`/`xoxa-`/`xoxr-`/`xoxs-`/`xapp-`, browser-session `xoxc-` and its `d` cookie `xoxd-`, GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_`, Google `ya29.`/`AIza`/`GOCSPX-`/`1//0` refresh tokens, AWS `AKIA`/`ASIA` access key ids, Stripe `sk_live_`/`sk_test_`/`rk_live_`/`rk_test_`/`whsec_`",
        examples: &[
            (
                "slack said invalid_auth for xoxb-1234567890-abcdefghij",
                "1234567890-abcdefghij",
            ),
            (
                "using token xoxc-2718281828-3141592653-ab12cd34ef56 with cookie d=xoxd-a1B2c3D4e5F6",
                "2718281828-3141592653",
            ),
            (
                "using token xoxc-2718281828-3141592653-ab12cd34ef56 with cookie d=xoxd-a1B2c3D4e5F6",
                "a1B2c3D4e5F6",
            ),
            (
                "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 rejected",
                "aBcDeFgHiJkLmNoP",
            ),
            (
                "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
                "11ABCDEFG0123456789",
            ),
            (
                "Authorization header: ya29.a0AfH6SMBexampleexampleexample",
                "a0AfH6SMBexample",
            ),
            (
                "https://x.googleapis.com/v1?alt=json AIzaSyA-1234567890abcdefghijklmnopqrstu",
                "SyA-1234567890abc",
            ),
            (
                "aws configured with AKIAIOSFODNN7EXAMPLE",
                "IOSFODNN7EXAMPLE",
            ),
            (
                "stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc",
                "4eC39HqLyjWDarjt",
            ),
            ("rk_test_51Habcdefghijklmnop", "51Habcdefghijklmnop"),
            (
                "client secret GOCSPX-abcdefghijklmnop1234",
                "abcdefghijklmnop1234",
            ),
        ],
    },
    Shape {
        name: "sasl",
        what: "the base64 credential of a SASL initial response in SMTP and IMAP transcripts: `AUTH XOAUTH2 …`, `AUTHENTICATE XOAUTH2 …`, OAUTHBEARER and PLAIN (an OAuth token, or a user name and password)",
        examples: &[
            (
                "2019-02-15 10:12:40     CLIENT -> SERVER: AUTH XOAUTH2 dXNlcj1tZUBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LmFiYwEB",
                "dXNlcj1tZUBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LmFiYwEB",
            ),
            (
                "C: A1 AUTHENTICATE XOAUTH2 dXNlcj1tZQFhdXRoPUJlYXJlciB0b2sBAQ==",
                "dXNlcj1tZQFhdXRoPUJlYXJlciB0b2sBAQ==",
            ),
            ("AUTH PLAIN AHVzZXIAaHVudGVyMg==", "AHVzZXIAaHVudGVyMg=="),
        ],
    },
    Shape {
        name: "pem",
        what: "the body of a PEM private key block (`-----BEGIN … PRIVATE KEY-----`), on many lines, on one line with `\\n` escapes, or cut short",
        examples: &[
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234567890abcdef\nAbCdEfGhIjKlMnOpQrStUvWxYz012345\n-----END RSA PRIVATE KEY-----",
                "AbCdEfGhIjKlMnOp",
            ),
            (
                "key = -----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC -----END PRIVATE KEY-----",
                "MIIEvQIBADANBgkq",
            ),
            (
                "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBexampleexampleexample\nAwEHoUQDQgAEexampleexampleexam",
                "AwEHoUQDQgAE",
            ),
        ],
    },
    Shape {
        name: "userinfo",
        what: "the password in a URL (`https://user:secret@host`) and in curl `-u id:secret` / `--user id:secret`; curl `--oauth2-bearer TOKEN`",
        examples: &[
            (
                "responseUrl: 'https://3f1c:FLTPLANTEDSECRET-9q8w@login.example.com/oauth/token'",
                "FLTPLANTEDSECRET-9q8w",
            ),
            (
                "curl -u my-client:cl1ent-s3cret https://login.example.com/oauth/token",
                "cl1ent-s3cret",
            ),
            ("curl --user 'my-client:s3cr3t' -X POST https://x", "s3cr3t"),
            ("curl --oauth2-bearer tok-abc123 https://x", "tok-abc123"),
        ],
    },
    Shape {
        name: "curl-trace",
        what: "base64 credentials in curl `--trace-ascii` dumps, including one wrapped onto the next dump line",
        examples: &[
            (
                "003a: Authorization: Basic M2YxYzJkOWUtMDAwMC00MDAwLTgwMDAtcGxhbnRlZDA\n007a: wMDAxOkZMVFBMQU5URURTRUNSRVQtOXE4dzdlNnI1dDR5",
                "wMDAxOkZM",
            ),
            (
                "007a: wMDAxOkZMVFBMQU5URURTRUNSRVQtOXE4dzdlNnI1dDR5",
                "wMDAxOkZM",
            ),
        ],
    },
];

/// How a key name matches, after [`normalize_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMatch {
    /// The whole name.
    Exact,
    /// The end of the name (`refreshtoken` ends in `token`).
    Suffix,
    /// Anywhere in the name.
    Contains,
    /// The whole name, only as a query or form parameter (`?key=`, `&sig=`):
    /// elsewhere these words are too common to mean a secret.
    Query,
}

/// Key names whose values are secrets, normalised (lower case, without
/// `_`, `-`, `.` and spaces), so `client_secret`, `clientSecret`,
/// `Client-Secret` and `body.client_secret` all match `secret`.
pub const SECRET_KEYS: &[(&str, KeyMatch)] = &[
    ("password", KeyMatch::Contains),
    ("passwd", KeyMatch::Contains),
    ("passphrase", KeyMatch::Contains),
    ("secret", KeyMatch::Contains),
    ("privatekey", KeyMatch::Contains),
    ("apikey", KeyMatch::Contains),
    ("accesskey", KeyMatch::Contains),
    ("token", KeyMatch::Suffix),
    ("pwd", KeyMatch::Suffix),
    ("authorization", KeyMatch::Suffix),
    ("cookie", KeyMatch::Suffix),
    ("signature", KeyMatch::Suffix),
    ("credential", KeyMatch::Suffix),
    ("assertion", KeyMatch::Suffix),
    ("codeverifier", KeyMatch::Suffix),
    ("subscriptionkey", KeyMatch::Suffix),
    ("sessionkey", KeyMatch::Suffix),
    ("signingkey", KeyMatch::Suffix),
    ("session", KeyMatch::Suffix),
    ("sessionid", KeyMatch::Suffix),
    ("pass", KeyMatch::Exact),
    ("key", KeyMatch::Query),
    ("sig", KeyMatch::Query),
    ("code", KeyMatch::Query),
    ("auth", KeyMatch::Query),
];

/// `Client-Secret`, `clientSecret`, `body.client_secret` → `clientsecret`,
/// `clientsecret`, `bodyclientsecret`.
pub fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a secret key's value is, which decides what of it is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Plain,
    /// `Authorization`: a scheme, then the credential.
    Authorization,
    /// Cookie pairs: every value.
    Cookie,
    /// SigV4 `Credential`: the access key id before the first `/`.
    Credential,
}

/// Whether `key` names a secret, and of which kind. `query`: the key is a
/// query or form parameter (`?key=`, `&sig=`).
fn secret_key(key: &str, query: bool) -> Option<KeyKind> {
    let k = normalize_key(key);
    // An exception's name before its message (`census.core.APIKeyError:
    // '…'`, `InvalidTokenError: …`): the message is no secret's value.
    if k.ends_with("error") || k.ends_with("exception") {
        return None;
    }
    let hit = SECRET_KEYS.iter().any(|&(name, how)| match how {
        KeyMatch::Exact => k == name,
        KeyMatch::Suffix => k.ends_with(name),
        KeyMatch::Contains => k.contains(name),
        KeyMatch::Query => query && k == name,
    });
    if !hit {
        return None;
    }
    Some(if k.ends_with("authorization") {
        KeyKind::Authorization
    } else if k.ends_with("cookie") {
        KeyKind::Cookie
    } else if k.ends_with("credential") {
        KeyKind::Credential
    } else {
        KeyKind::Plain
    })
}

/// Token formats recognised anywhere; each regex's group `s` is the secret.
/// Each comes with literals every match contains one of (ASCII case folded
/// for the `(?i)` one, marked by a leading `~`), and those it contains all
/// of (marked by a leading `+`): a text without them never compiles nor
/// runs that regex, so a paste pays only for the shapes it may hold.
/// Compiling all of them was most of a paste's start-up.
const TOKEN_PATTERNS: &[(&[&str], &str)] = &[
    // JWT signature, whatever the JSON spacing of header and payload
    // (`{"` → `eyJ`, `{ "` → `eyAi`, `{\n` → `ewo`).
    (
        &[".ey", ".ew"],
        r"\be[yw][A-Za-z0-9_-]{4,}={0,2}\.e[yw][A-Za-z0-9_-]{4,}={0,2}\.(?P<s>[A-Za-z0-9_-]{4,}=*)",
    ),
    // SASL initial responses that carry the credential base64-encoded: an
    // OAuth bearer token (XOAUTH2, RFC 7628 OAUTHBEARER) or a password
    // (PLAIN, RFC 4616), as SMTP and IMAP debug transcripts print them.
    (
        &["XOAUTH2", "OAUTHBEARER", "PLAIN"],
        r"\bAUTH(?:ENTICATE)?[ \t]+(?:XOAUTH2|OAUTHBEARER|PLAIN)[ \t]+(?P<s>[A-Za-z0-9+/]{8,}={0,2})",
    ),
    // Slack.
    (&["xox"], r"\bxox[abcdprseo]-(?P<s>[A-Za-z0-9-]{8,})"),
    (&["xapp-"], r"\bxapp-(?P<s>[A-Za-z0-9-]{8,})"),
    // GitHub.
    (
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        r"\b(?:gh[pousr]_|github_pat_)(?P<s>[A-Za-z0-9_]{16,})",
    ),
    // Google: OAuth access tokens, API keys, client secrets, refresh tokens.
    (&["ya29."], r"\bya29\.(?P<s>[A-Za-z0-9_\-.]{8,})"),
    (&["AIza"], r"\bAIza(?P<s>[A-Za-z0-9_-]{30,})"),
    (&["GOCSPX-"], r"\bGOCSPX-(?P<s>[A-Za-z0-9_-]{8,})"),
    (
        &["1//0"],
        r"(?:^|[^A-Za-z0-9/])1//0(?P<s>[A-Za-z0-9_-]{20,})",
    ),
    // AWS access key ids.
    (&["AKIA", "ASIA"], r"\b(?:AKIA|ASIA)(?P<s>[A-Z0-9]{16})\b"),
    // Stripe secret and restricted keys, webhook secrets.
    (
        &["_live_", "_test_"],
        r"\b(?:sk|rk)_(?:live|test)_(?P<s>[A-Za-z0-9]{8,})",
    ),
    (&["whsec_"], r"\bwhsec_(?P<s>[A-Za-z0-9+/=]{8,})"),
    // Passwords in URLs: `https://user:secret@host`.
    (
        &["://", "+@"],
        r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@'\x22]+:(?P<s>[^@\s/'\x22]+)@",
    ),
    // curl -u id:secret, --user id:secret, --oauth2-bearer TOKEN.
    (
        &["-u"],
        r#"(?:^|\s)(?:-u|--user)(?:\s+|=)?['"]?[^:\s'"]*:(?P<s>[^\s'"]+)"#,
    ),
    (
        &["--oauth2-bearer"],
        r#"(?:^|\s)--oauth2-bearer(?:\s+|=)['"]?(?P<s>[^\s'"]+)"#,
    ),
    // A credential that curl --trace-ascii wrapped onto the next dump line…
    (
        &["~authorization:"],
        r"(?im)(?:^|\s)[0-9a-f]{4,}: (?:proxy-)?authorization:[^\n]*\n[^\n]*?\b[0-9a-f]{4,}: (?P<s>[A-Za-z0-9+/=._~-]+)[ \t]*$",
    ),
    // …and any dump line that is one long base64 run, when seen alone.
    (
        &[": "],
        r"(?m)(?:^|\s)[0-9a-f]{4,}: (?P<s>[A-Za-z0-9+/]{16,}={0,2})[ \t]*$",
    ),
];

/// From this size on a text is searched with a pattern's `regex` crate
/// build, whose literal prefilters skip to where it can match (`redact`'s
/// chunks); a shorter one, what a report masks, with its lean build (see
/// `parse::lean`), which compiles in half the instructions or less (the
/// bearer regex 1.33 M to 0.31 M, the key regex 0.78 M to 0.49 M: a
/// report's masking compiled 2.2 M of a paste's 17.5 M). Both find the
/// same matches.
const PREFILTER_FROM: usize = 64 << 10;

/// A mask pattern's two builds (see [`PREFILTER_FROM`]), each compiled on
/// first need.
struct Builds {
    lean: OnceLock<Lean>,
    full: OnceLock<Regex>,
}

impl Builds {
    const fn new() -> Self {
        Builds {
            lean: OnceLock::new(),
            full: OnceLock::new(),
        }
    }

    /// The build that searches `text`, compiled from `pattern`.
    fn for_text(&self, pattern: &str, text: &str) -> Built<'_> {
        if text.len() < PREFILTER_FROM {
            Built::Lean(
                self.lean
                    .get_or_init(|| Lean::new(pattern).expect("mask regex")),
            )
        } else {
            Built::Full(
                self.full
                    .get_or_init(|| Regex::new(pattern).expect("mask regex")),
            )
        }
    }
}

/// A match's whole span and the spans of some of its groups, by name in
/// the order asked (`None`: the group did not take part).
type Spans<const N: usize> = (Range<usize>, [Option<Range<usize>>; N]);

/// One build of a mask pattern.
#[derive(Clone, Copy)]
enum Built<'r> {
    Lean(&'r Lean),
    Full(&'r Regex),
}

impl Built<'_> {
    /// Where group `name` took part in each match in `text`.
    fn each_group(self, text: &str, name: &str, mut found: impl FnMut(Range<usize>)) {
        self.each_match(text, [name], |_, [group]| {
            if let Some(group) = group {
                found(group)
            }
        })
    }

    /// Each match in `text`, whole, with the spans of groups `names`
    /// (each `None` when it did not take part).
    fn each_match<const N: usize>(
        self,
        text: &str,
        names: [&str; N],
        mut found: impl FnMut(Range<usize>, [Option<Range<usize>>; N]),
    ) {
        match self {
            Built::Lean(re) => {
                for c in re.captures_iter(text) {
                    if let Some(whole) = c.get(0) {
                        found(whole.range(), names.map(|n| c.name(n).map(|m| m.range())))
                    }
                }
            }
            Built::Full(re) => {
                for c in re.captures_iter(text) {
                    if let Some(whole) = c.get(0) {
                        found(whole.range(), names.map(|n| c.name(n).map(|m| m.range())))
                    }
                }
            }
        }
    }

    /// The whole match and the spans of groups `names` (each `None` when
    /// it did not take part) of the first match at or after `pos`.
    fn spans_at<const N: usize>(
        self,
        text: &str,
        pos: usize,
        names: [&str; N],
    ) -> Option<Spans<N>> {
        match self {
            Built::Lean(re) => {
                let c = re.captures_at(text, pos)?;
                Some((
                    c.get(0)?.range(),
                    names.map(|n| c.name(n).map(|m| m.range())),
                ))
            }
            Built::Full(re) => {
                let c = re.captures_at(text, pos)?;
                Some((
                    c.get(0)?.range(),
                    names.map(|n| c.name(n).map(|m| m.range())),
                ))
            }
        }
    }
}

/// The token regexes that may match `text`, each compiled on first need.
fn token_patterns(text: &str) -> impl Iterator<Item = Built<'static>> + '_ {
    static RES: [Builds; TOKEN_PATTERNS.len()] = [const { Builds::new() }; TOKEN_PATTERNS.len()];
    TOKEN_PATTERNS
        .iter()
        .zip(&RES)
        .filter(|((literals, _), _)| {
            let holds = |l: &str| match l.strip_prefix('~') {
                Some(folded) => find_ci(text, folded).is_some(),
                None => text.contains(l),
            };
            literals
                .iter()
                .filter(|l| !l.starts_with('+'))
                .any(|l| holds(l))
                && literals
                    .iter()
                    .filter_map(|l| l.strip_prefix('+'))
                    .all(holds)
        })
        .map(|((_, pattern), builds)| builds.for_text(pattern, text))
}

/// The longest key name [`key_re`] finds.
const MAX_KEY: usize = 81;

/// A key followed by `:`, `=` or `%3D`. Group `k` is the key; `q` is set
/// when the key was quoted (JSON, a dict); `p` is what came before it.
/// A key is at most [`MAX_KEY`] long, checked on each match: the bound as a
/// counted repetition made this the costliest regex of a paste to compile.
/// No key can start inside a longer one, as `p` is not a key character,
/// and after one the search goes on from its separator (which may be the
/// `p` of the next key), so the keys found are the same.
fn key_re(text: &str) -> Built<'static> {
    static RE: Builds = Builds::new();
    RE.for_text(
        r#"(?m)(?P<p>^|\\[rnt]|%2[06]|%3[Ff]|[^A-Za-z0-9_./\\-])(?P<q>\\?["'`]?)(?P<k>[A-Za-z_][A-Za-z0-9_.\-]*)\\?["'`]?[ \t]*(?P<sep>:|=|%3[Dd])"#,
        text,
    )
}

/// How many times [`find`] looks again at its own masked text before it
/// gives up on its ranges and masks their lines whole.
const MAX_ROUNDS: usize = 4;

/// Byte ranges of every secret in `text`, sorted, merged, never containing
/// a line break. Masking them leaves nothing to mask: one pass can merge
/// overlapping shapes past a closing quote (`"token":"eyJ…` overlapped by a
/// quoted value that ends further on), and the text after the mask then
/// reads as a new quoted value. So the masked text is searched again and
/// what is found there is added, until nothing is; masking stays
/// idempotent, which `faultline redact` promises.
pub fn find(text: &str) -> Vec<Range<usize>> {
    let mut ranges = find_once(text);
    if ranges.is_empty() {
        return ranges;
    }
    for _ in 0..MAX_ROUNDS {
        let masked = Masked::with_ranges(text, ranges.clone());
        let more = find_once(&masked.text);
        if more.is_empty() {
            return ranges;
        }
        ranges.extend(more.into_iter().map(|r| masked.unmap(r)));
        ranges = normalize(text, ranges);
    }
    // Still not settled (a hostile input): mask every line a range touches,
    // from its first non-blank character, which cannot be read again.
    whole_lines(text, &ranges)
}

/// The lines `ranges` touch, each from its first non-blank character to
/// its end.
fn whole_lines(text: &str, ranges: &[Range<usize>]) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        let start = bytes[..r.start]
            .iter()
            .rposition(|&b| b == b'\n' || b == b'\r')
            .map_or(0, |i| i + 1);
        let end = bytes[r.start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map_or(text.len(), |i| r.start + i);
        let start = start + (text[start..end].len() - text[start..end].trim_start().len());
        if out.last().is_some_and(|last| last.end >= start) {
            continue;
        }
        out.push(start..end);
    }
    out
}

/// One pass of [`find`]: the ranges of every shape, merged.
fn find_once(text: &str) -> Vec<Range<usize>> {
    let mut ranges: Vec<Range<usize>> = Vec::new();
    for re in token_patterns(text) {
        re.each_group(text, "s", |r| ranges.push(r));
    }
    keyed(text, &mut ranges);
    bearer(text, &mut ranges);
    har_pairs(text, &mut ranges);
    har_cookie_lists(text, &mut ranges);
    curl_cookies(text, &mut ranges);
    pem(text, &mut ranges);
    normalize(text, ranges)
}

/// Sorts and merges ranges, and splits them at line breaks so masking
/// keeps every line.
fn normalize(text: &str, mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.retain(|r| r.start < r.end && r.end <= text.len() && !is_placeholder(&text[r.clone()]));
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(merged.len());
    for r in merged {
        let mut start = r.start;
        for i in r.clone() {
            if bytes[i] == b'\n' || bytes[i] == b'\r' {
                if i > start {
                    out.push(start..i);
                }
                start = i + 1;
            }
        }
        if r.end > start {
            out.push(start..r.end);
        }
    }
    out
}

/// A value that stands for a secret rather than being one: a shell or
/// batch variable (`$CLIENT_SECRET`, `${TOKEN}`, `%API_KEY%`), a template
/// (`{{token}}`, `<secret>`), a mask already, the printed form of a missing
/// value (`undefined`, `None`, `null`: what a program sends when the secret
/// was never loaded, the evidence a reader needs), or code that computes
/// one (`this.getIdToken()`).
fn is_placeholder(value: &str) -> bool {
    if matches!(
        value,
        "undefined" | "null" | "NULL" | "None" | "nil" | "(null)" | "<nil>"
    ) {
        return true;
    }
    // Written out rather than as a regex: compiling that one was a tenth
    // of a paste's masking.
    let ident = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let between = |open: &str, close: &str, banned: &[char]| {
        value
            .strip_prefix(open)
            .and_then(|v| v.strip_suffix(close))
            .is_some_and(|inner| !inner.contains(banned))
    };
    let shell = value.strip_prefix('$').is_some_and(|v| {
        let v = v.strip_prefix('{').unwrap_or(v);
        ident(v.strip_suffix('}').unwrap_or(v))
    });
    let batch = value
        .strip_prefix('%')
        .and_then(|v| v.strip_suffix('%'))
        .is_some_and(ident);
    // A call (`this.getIdToken()`); the value may end at the `(`, as a
    // closing parenthesis ends a value.
    let call = (value.strip_suffix("()").or_else(|| value.strip_suffix('(')))
        .is_some_and(|callee| callee.split('.').all(ident));
    shell
        || batch
        || call
        || between("{{", "}}", &['{', '}'])
        || between("<", ">", &['<', '>'])
        || (!value.is_empty() && value.bytes().all(|b| b == b'*'))
        || is_masked_already(value)
}

/// A mask that kept what tells the credential's kind: a type prefix
/// (`xoxc-********`) or a JWT's readable header and claims
/// (`eyJ….eyJ….********`). Masking it again would hide the kind and make
/// masking not idempotent.
fn is_masked_already(value: &str) -> bool {
    static JWT_HEAD: OnceLock<Regex> = OnceLock::new();
    let Some(head) = value.strip_suffix(MASK) else {
        return false;
    };
    TYPE_PREFIXES.contains(&head)
        || JWT_HEAD
            .get_or_init(|| {
                // The shape `jwt_signature` masks the signature of, so every
                // value it left readable is recognised here (`e` + 3, as
                // its parts are at least 4 characters).
                Regex::new(r"^e[A-Za-z0-9_-]{3,}=*\.e[A-Za-z0-9_-]{3,}=*\.$")
                    .expect("jwt head regex")
            })
            .is_match(head)
}

/// Prefixes that say what kind of credential a value is (the same ones the
/// token formats in [`token_patterns`] keep): a value under a secret key or
/// after `Bearer` keeps them too, so `Bearer xoxc-…` and
/// `AWS_ACCESS_KEY_ID=ASIA…` still tell a session token from a bot token
/// and a temporary key from a long-term one.
const TYPE_PREFIXES: &[&str] = &[
    "xoxa-",
    "xoxb-",
    "xoxc-",
    "xoxd-",
    "xoxe-",
    "xoxo-",
    "xoxp-",
    "xoxr-",
    "xoxs-",
    "xapp-",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "ya29.",
    "AIza",
    "GOCSPX-",
    "AKIA",
    "ASIA",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "rk_test_",
    "whsec_",
    // A Plex claim token (plex.tv/claim): valid for four minutes and only
    // to claim a new server, so one sent as `X-Plex-Token` is refused;
    // the prefix is what tells it from a server token.
    "claim-",
];

/// The length of `value`'s type prefix, when what follows is long enough
/// to be the secret part (a bare prefix is masked whole).
fn type_prefix_len(value: &str) -> usize {
    TYPE_PREFIXES
        .iter()
        .find(|p| value.starts_with(*p) && value.len() >= p.len() + 8)
        .map_or(0, |p| p.len())
}

/// Whether `value` is Basic credentials with an empty password (`Og==` is
/// `:`, `dXNlcjo=` is `user:`): nothing secret to hide, and an empty
/// password is what the diagnosis reads (unexpanded placeholders).
fn basic_without_password(value: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .is_ok_and(|d| d.last() == Some(&b':') && d.iter().filter(|&&b| b == b':').count() == 1)
}

/// Pushes `range`, or only its signature when the value is a JWT, or all
/// but its type prefix; nothing for Basic credentials without a password.
fn push_value(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let value = &text[range.clone()];
    if basic_without_password(value) {
        return;
    }
    if let Some(sig) = jwt_signature(value) {
        out.push(range.start + sig.start..range.start + sig.end);
    } else {
        out.push(range.start + type_prefix_len(value)..range.end);
    }
}

/// The signature of a JWT-shaped value (`e….e….sig`), relative to it.
/// Reads only as far as the value stays JWT-shaped.
fn jwt_signature(value: &str) -> Option<Range<usize>> {
    let b = value.as_bytes();
    // One base64url part (at least 4 characters, optional `=` padding):
    // the index after it.
    let part = |i: usize| -> Option<usize> {
        let mut j = i;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'-')) {
            j += 1;
        }
        if j - i < 4 {
            return None;
        }
        while j < b.len() && b[j] == b'=' {
            j += 1;
        }
        Some(j)
    };
    // Header and payload are JSON objects: base64 of `{` starts with `e`.
    if b.first() != Some(&b'e') {
        return None;
    }
    let h = part(0)?;
    if b.get(h) != Some(&b'.') || b.get(h + 1) != Some(&b'e') {
        return None;
    }
    let p = part(h + 1)?;
    if b.get(p) != Some(&b'.') {
        return None;
    }
    let s = part(p + 1)?;
    (s == b.len()).then_some(p + 1..s)
}

/// Values of secret keys.
fn keyed(text: &str, out: &mut Vec<Range<usize>>) {
    // Every key is followed by `:`, `=` or `%3D`.
    if !text.contains([':', '=']) && find_ci(text, "%3d").is_none() {
        return;
    }
    let mut scan = Scan::default();
    let mut pos = 0;
    let re = key_re(text);
    while let Some((whole, [p, q, k, sep])) = re.spans_at(text, pos, ["p", "q", "k", "sep"]) {
        let (Some(k), Some(sep)) = (k, sep) else {
            break;
        };
        pos = whole.end;
        if k.len() > MAX_KEY {
            // Not a key; its separator may still be what comes before one.
            pos = sep.start;
            continue;
        }
        let (key, sep) = (&text[k.clone()], &text[sep]);
        let pre = p.map_or("", |p| &text[p]);
        // A query string starts after `?`, `&`, a line start, or (a fact
        // `url.query = code=…&state=…`) after `= `, or runs on to an `&`.
        let query = sep != ":"
            && (matches!(pre, "?" | "&" | ";" | "")
                || pre.eq_ignore_ascii_case("%26")
                || pre.eq_ignore_ascii_case("%3f")
                || (pre.trim().is_empty()
                    && (text[..k.start].trim_end().ends_with('=')
                        || text[whole.end..]
                            .split([' ', '\t', '\n'])
                            .next()
                            .is_some_and(|v| v.contains('&')))));
        let Some(kind) = secret_key(key, query) else {
            continue;
        };
        // `$STRIPE_SECRET_KEY:` names a variable (curl `-u "$KEY:"` in a
        // rule's prose, a shell line), not a key with its value after it.
        if text[..k.start].ends_with(['$', '{']) {
            continue;
        }
        // A URL's parameter with nothing after `=` (`?hapikey= next`) has
        // no value: what follows the space is other text.
        let in_url = matches!(pre, "?" | "&")
            || pre.eq_ignore_ascii_case("%26")
            || pre.eq_ignore_ascii_case("%3f");
        if in_url && text[whole.end..].starts_with([' ', '\t']) {
            continue;
        }
        let quoted_key = q.is_some_and(|q| !q.is_empty());
        let encoded = sep.len() == 3;
        let pos = whole.end
            + (text[whole.end..].len() - text[whole.end..].trim_start_matches([' ', '\t']).len());
        let colon = sep == ":";
        let Some(value) = value_at(text, pos, colon, quoted_key, kind, encoded, &mut scan) else {
            continue;
        };
        match kind {
            KeyKind::Plain => {
                // `Invalid token: expired` is prose, not a token: a bare
                // key's unquoted value must look like a credential, unless
                // the key is a password (any word can be one).
                let unquoted = value.start == pos;
                let password =
                    normalize_key(key).contains("pass") || normalize_key(key).ends_with("pwd");
                // Nor is an HTTP status after it (Go's `oauth2: cannot fetch
                // token: 400 Bad Request`).
                let v = &text[value.clone()];
                // Nor is an error code before its message
                // (aws-iam-authenticator's `could not get token:
                // AccessDenied: Access denied`).
                if colon
                    && !quoted_key
                    && unquoted
                    && !password
                    && (is_word(v)
                        || crate::parse::is_status_code(v)
                        || v.strip_suffix(':').is_some_and(is_word))
                {
                    continue;
                }
                // Nor is a shell variable (`-H "apikey: $ANON_KEY"`): the
                // secret is not in the text. A password may start with `$`.
                if !password && is_variable_reference(v.trim_end_matches(['"', '\''])) {
                    continue;
                }
                // Nor is a key of the next pair (openHAB's `Exception
                // getting access token: error='invalid_grant', …`).
                if colon
                    && unquoted
                    && !password
                    && v.strip_suffix('=').is_some_and(is_word)
                    && text[value.end..].starts_with(['\'', '"'])
                {
                    continue;
                }
                push_value(text, value, out)
            }
            KeyKind::Credential => {
                // The access key id: up to the first `/` (an id is 20
                // characters; a longer head is masked whole).
                let v = &text[value.clone()];
                let head = &v[..v.floor_char_boundary(256)];
                let end = [head.find('/'), find_ci(head, "%2f")]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(v.len());
                out.push(value.start..value.start + end);
            }
            KeyKind::Authorization => authorization(text, value, out),
            KeyKind::Cookie => {
                // A cookie header inside the value of one already seen (they
                // run to the end of the line) was masked with it.
                if value.start >= scan.cookies_done {
                    scan.cookies_done = value.end;
                    cookie_pairs(text, value, out);
                }
            }
        }
    }
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The first position at or after `pos` of something, remembered: keys
/// come in increasing positions, and when a search from an earlier
/// position found its target at or after `pos`, nothing lies between — so
/// a line holding many keys is scanned once, not once per key.
#[derive(Debug, Default, Clone, Copy)]
struct NextOf {
    from: usize,
    at: Option<usize>,
}

impl NextOf {
    fn find(&mut self, text: &str, pos: usize, search: impl Fn(&str) -> Option<usize>) -> usize {
        match self.at {
            Some(at) if self.from <= pos && pos <= at => at,
            _ => {
                let at = search(&text[pos..]).map_or(text.len(), |p| pos + p);
                *self = NextOf {
                    from: pos,
                    at: Some(at),
                };
                at
            }
        }
    }
}

/// Search state of one pass of [`keyed`] over a text.
#[derive(Debug, Default)]
struct Scan {
    /// The next stop of each kind of unquoted value (see [`value_at`]).
    stops: [NextOf; 3],
    /// The next URL-encoded `&` (`%26`).
    encoded_amp: NextOf,
    /// The end of the last cookie header value masked.
    cookies_done: usize,
}

/// The value that starts at `pos`: a quoted string's content, or an
/// unquoted run. Authorization and cookie values (which hold spaces and
/// `;`) run to the end of the line or the closing quote.
fn value_at(
    text: &str,
    pos: usize,
    colon: bool,
    quoted_key: bool,
    kind: KeyKind,
    encoded: bool,
    scan: &mut Scan,
) -> Option<Range<usize>> {
    // Never look past the end of the line, and never scan a line once per
    // key on it (a long line holds many keys): every search below stops at
    // the first line break.
    let rest = &text[pos..];
    // A quoted value: `\"…\"` inside a JSON string, or `"…"`, `'…'`, `` `…` ``.
    for quote in ["\\\"", "\\'", "\"", "'", "`"] {
        if let Some(inner) = rest.strip_prefix(quote) {
            // A backtick that closes a code span the key is in (prose:
            // "`hapikey=` was empty") opens no value: the key has none.
            if quote == "`" && closes_code_span(text, pos) {
                return None;
            }
            let end = closing_quote(inner, quote);
            let start = pos + quote.len();
            return Some(start..start + end);
        }
    }
    let (set, stops): (usize, &[char]) = match kind {
        // Header values: to the end of the line, a closing quote or an
        // escaped line break (`\r\n` in a bytes literal).
        KeyKind::Authorization | KeyKind::Cookie => (0, &['\n', '\r', '\'', '"', '\\', '`']),
        _ if colon && quoted_key => (1, &['\n', '\r', ' ', '\t', ',', '}', ']', '\\']),
        _ => (
            2,
            &[
                '\n', '\r', ' ', '\t', '&', ',', ';', '\'', '"', '\\', '}', ']', ')', '<', '>', '`',
            ],
        ),
    };
    let mut end = scan.stops[set].find(text, pos, |r| r.find(stops)) - pos;
    if encoded || !colon {
        // URL-encoded form: the value ends at the next encoded `&`.
        let amp = scan.encoded_amp.find(text, pos, |r| find_ci(r, "%26")) - pos;
        end = end.min(amp);
    }
    let value = rest[..end].trim_end();
    if value.is_empty() || value.starts_with(['{', '[', '<', '(']) {
        return None;
    }
    Some(pos..pos + value.len())
}

/// Whether the backtick at `pos` closes a code span: an odd number of
/// backticks before it on its line.
fn closes_code_span(text: &str, pos: usize) -> bool {
    let line_start = text[..pos].rfind('\n').map_or(0, |n| n + 1);
    text[line_start..pos].bytes().filter(|&b| b == b'`').count() % 2 == 1
}

/// The end of a quoted string's content (backslash escapes skipped): the
/// closing quote, else the end of the line.
fn closing_quote(inner: &str, quote: &str) -> usize {
    let bytes = inner.as_bytes();
    let escaped = quote.starts_with('\\');
    let q = *quote.as_bytes().last().unwrap_or(&b'"');
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' | b'\r' => return i,
            b'\\' if escaped && bytes.get(i + 1) == Some(&q) => return i,
            b'\\' => i += 2,
            b if b == q && !escaped => return i,
            _ => i += 1,
        }
    }
    // An escape at the very end can step past it.
    bytes.len().min(i)
}

/// A short run of letters: a word of prose rather than a credential.
/// `$NAME` or `${NAME}` (upper case, as environment variables are
/// named): a shell or template variable, not a value (`$ecret1` may be one).
fn is_variable_reference(s: &str) -> bool {
    let name = match s.strip_prefix("${") {
        Some(rest) => rest.strip_suffix('}'),
        None => s.strip_prefix('$'),
    };
    name.is_some_and(|n| {
        n.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_uppercase() || b == b'_')
            && n.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    })
}

fn is_word(s: &str) -> bool {
    s.len() < 16 && s.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Characters of an RFC 7235 token68 credential.
fn is_token68(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// Whether `word` (after `Bearer`/`Basic`, or a bare Authorization value)
/// is a credential rather than prose: it ends at a delimiter and is not a
/// plain lower-case word.
fn credential_at(text: &str, start: usize) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let mut end = start;
    while end < bytes.len() && is_token68(bytes[end]) {
        end += 1;
    }
    if end == start {
        return None;
    }
    if let Some(&next) = bytes.get(end)
        && !(next.is_ascii_whitespace() || b"'\",;\\})]`".contains(&next))
    {
        return None;
    }
    let word = &text[start..end];
    // `realm="x"`, `error=invalid_token`: an auth-param, not a token68
    // (whose `=` can only be trailing padding).
    if word.trim_end_matches('=').contains('=')
        || (word.ends_with('=') && bytes.get(end) == Some(&b'"'))
    {
        return None;
    }
    // A word ending a sentence (`… into a Basic header.`) is prose too: a
    // token68 credential does not end with a full stop.
    let core = word.trim_end_matches('.');
    let plain_word =
        !core.is_empty() && core.len() < 16 && core.bytes().all(|b| b.is_ascii_lowercase());
    // The scheme written twice (`Bearer Bearer X`): the second is the
    // scheme again, and the credential after it is masked in its turn.
    let scheme_again = core.eq_ignore_ascii_case("bearer") || core.eq_ignore_ascii_case("basic");
    // Dots or dashes alone (`…-basic  ....` in a progress line) hold no
    // credential: a token68 has letters or digits.
    let no_alnum = !word.bytes().any(|b| b.is_ascii_alphanumeric());
    (!plain_word && !scheme_again && !no_alnum).then_some(start..end)
}

/// An Authorization value: the scheme is kept, the credential masked. A
/// SigV4 value's `Credential=`/`Signature=` parts are keys of their own.
fn authorization(text: &str, value: Range<usize>, out: &mut Vec<Range<usize>>) {
    let v = &text[value.clone()];
    let scheme_len = v
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-')
        .count();
    let after_scheme = v[scheme_len..].len() - v[scheme_len..].trim_start().len();
    if scheme_len > 0 && after_scheme > 0 {
        let scheme = &v[..scheme_len];
        if scheme.to_ascii_uppercase().starts_with("AWS4-") {
            return;
        }
        let start = value.start + scheme_len + after_scheme;
        if let Some(r) = credential_at(text, start) {
            push_value(text, r, out);
        }
        return;
    }
    if let Some(r) = credential_at(text, value.start) {
        push_value(text, r, out);
    }
}

/// `Bearer X` / `Basic X` anywhere in text.
fn bearer(text: &str, out: &mut Vec<Range<usize>>) {
    // Literal checks first: the regex compiles only for a text that may match.
    if find_ci(text, "bearer").is_none() && find_ci(text, "basic").is_none() {
        return;
    }
    static RE: Builds = Builds::new();
    let re = RE.for_text(r"(?i)\b(?:bearer|basic)[ \t]+", text);
    let mut found = Vec::new();
    match re {
        Built::Lean(re) => found.extend(
            re.captures_iter(text)
                .filter_map(|c| c.get(0).map(|m| (m.start(), m.end()))),
        ),
        Built::Full(re) => found.extend(re.find_iter(text).map(|m| (m.start(), m.end()))),
    }
    for (start, end) in found {
        // A path segment (Intuit's `POST /oauth2/v1/tokens/bearer
        // HTTP/1.1`) names an endpoint, not a scheme.
        if text[..start].ends_with('/') {
            continue;
        }
        if let Some(r) = credential_at(text, end) {
            push_value(text, r, out);
        }
    }
}

/// Set-Cookie attributes: not secrets, and the diagnosis may read them.
const COOKIE_ATTRIBUTES: &[&str] = &[
    "path",
    "domain",
    "expires",
    "max-age",
    "samesite",
    "secure",
    "httponly",
    "priority",
    "partitioned",
    "version",
    "comment",
];

/// Every pair's value in a cookie header value (`a=1; b=2`).
fn cookie_pairs(text: &str, value: Range<usize>, out: &mut Vec<Range<usize>>) {
    let v = &text[value.clone()];
    let mut pos = 0;
    for part in v.split(';') {
        let lead = part.len() - part.trim_start().len();
        if let Some(eq) = part.find('=') {
            let name = part[..eq].trim();
            let val = part[eq + 1..].trim_end();
            if !val.is_empty() && !COOKIE_ATTRIBUTES.contains(&name.to_ascii_lowercase().as_str()) {
                let s = value.start + pos + eq + 1;
                out.push(s..s + val.len());
            }
        } else if !part.trim().is_empty()
            && !COOKIE_ATTRIBUTES.contains(&part.trim().to_ascii_lowercase().as_str())
        {
            // A bare value (`Cookie: abc123`).
            let s = value.start + pos + lead;
            out.push(s..s + part.trim().len());
        }
        pos += part.len() + 1;
    }
}

/// curl `-b 'a=1; b=2'` / `--cookie`.
fn curl_cookies(text: &str, out: &mut Vec<Range<usize>>) {
    if !text.contains("-b") && !text.contains("--cookie") {
        return;
    }
    static RE: Builds = Builds::new();
    let re = RE.for_text(
        r#"(?:^|\s)(?:-b|--cookie)(?:\s+|=)(?:'(?P<a>[^'\n]*)'|"(?P<b>[^"\n]*)"|(?P<c>[^\s'"]+))"#,
        text,
    );
    re.each_match(text, ["a", "b", "c"], |_, [a, b, c]| {
        if let Some(m) = a.or(b).or(c)
            && text[m.clone()].contains('=')
        {
            cookie_pairs(text, m, out);
        }
    });
}

/// HAR `{"name": "…", "value": "…"}` objects whose name is secret.
fn har_pairs(text: &str, out: &mut Vec<Range<usize>>) {
    if !text.contains("\"name\"") {
        return;
    }
    // The pattern's bounded repetition of a Unicode class makes it the
    // costliest of the masker to compile: 6.48 M instructions, 4.34 M lean.
    static RE: Builds = Builds::new();
    let re = RE.for_text(
        r#""name"\s*:\s*"(?P<k>[^"\\\n]{1,100})"\s*,\s*"value"\s*:\s*""#,
        text,
    );
    re.each_match(text, ["k"], |m, [k]| {
        let Some(k) = k else {
            return;
        };
        let Some(kind) = secret_key(&text[k], true) else {
            return;
        };
        let end = closing_quote(&text[m.end..], "\"");
        let value = m.end..m.end + end;
        if value.is_empty() {
            return;
        }
        match kind {
            KeyKind::Cookie => cookie_pairs(text, value, out),
            KeyKind::Authorization => authorization(text, value, out),
            _ => push_value(text, value, out),
        }
    });
}

/// HAR `"cookies": [ … ]` lists: every value (cookie objects hold no nested
/// arrays, so the first `]` closes the list).
fn har_cookie_lists(text: &str, out: &mut Vec<Range<usize>>) {
    if !text.contains("\"cookies\"") {
        return;
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    static VALUE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r#""cookies"\s*:\s*\["#).expect("har cookies regex"));
    let value = VALUE.get_or_init(|| Regex::new(r#""value"\s*:\s*""#).expect("har value regex"));
    // The first `]` after each list start, found once for all of them
    // (many lists and no `]` must not scan the text once per list).
    let mut close = NextOf::default();
    // Lists that share a `]` share their values: each byte is read once.
    let mut done = 0;
    for m in re.find_iter(text) {
        let end = close.find(text, m.end(), |r| r.find(']'));
        let from = m.end().max(done);
        done = end;
        for v in value.find_iter(&text[from..end]) {
            let v = (from + v.start())..(from + v.end());
            let start = v.end;
            let len = closing_quote(&text[start..end], "\"");
            out.push(start..start + len);
        }
    }
}

/// PEM private key bodies: to the END line, or (cut short) over the
/// base64 lines that follow, or to the end of a one-line string.
fn pem(text: &str, out: &mut Vec<Range<usize>>) {
    if !text.contains("-----BEGIN ") {
        return;
    }
    static BEGIN: OnceLock<Regex> = OnceLock::new();
    static END: OnceLock<Regex> = OnceLock::new();
    let begin = BEGIN.get_or_init(|| {
        Regex::new(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----").expect("pem regex")
    });
    let end_re =
        END.get_or_init(|| Regex::new(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----").expect("pem"));
    // The next END, and the next line end, after each BEGIN: searched once
    // for all of them.
    let mut next_end = NextOf::default();
    let mut next_stop = NextOf::default();
    let mut lines_done = 0;
    for m in begin.find_iter(text) {
        let start = m.end();
        let e = next_end.find(text, start, |r| end_re.find(r).map(|e| e.start()));
        if e < text.len() {
            out.push(start..e);
            continue;
        }
        // Cut short: the rest of this line (up to a closing quote), then
        // every following line that is pure base64.
        let line_end = next_stop.find(text, start, |r| r.find(['\n', '"', '\'']));
        if start < lines_done {
            out.push(start..line_end);
            continue;
        }
        out.push(start..line_end);
        let mut pos = line_end;
        while text[pos..].starts_with('\n') {
            let next = pos + 1;
            let next_end = text[next..].find('\n').map_or(text.len(), |p| next + p);
            let line = text[next..next_end].trim_end_matches('\r');
            if line.len() < 16
                || !line
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
            {
                break;
            }
            out.push(next..next + line.len());
            pos = next_end;
        }
        lines_done = pos;
    }
}

/// Masked text and where each mask went, to map offsets in the original
/// text to offsets in the masked text.
#[derive(Debug, Clone)]
pub struct Masked {
    pub text: String,
    /// Each masked range of the original text, in order.
    edits: Vec<Range<usize>>,
}

impl Masked {
    /// Masks `text` (every range from [`find`]).
    pub fn new(text: &str) -> Self {
        Self::with_ranges(text, find(text))
    }

    /// Unmasked text with an identity map (`--show-secrets`).
    pub fn unmasked(text: &str) -> Self {
        Masked {
            text: text.to_string(),
            edits: Vec::new(),
        }
    }

    fn with_ranges(text: &str, edits: Vec<Range<usize>>) -> Self {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for r in &edits {
            out.push_str(&text[last..r.start]);
            out.push_str(MASK);
            last = r.end;
        }
        out.push_str(&text[last..]);
        Masked { text: out, edits }
    }

    /// Whether anything was masked.
    pub fn changed(&self) -> bool {
        !self.edits.is_empty()
    }

    /// Where offset `pos` of the original text is in the masked text. An
    /// offset inside a masked secret maps to the mask's start, or its end
    /// when `end` is set (so a span over part of a secret covers the mask).
    pub fn map(&self, pos: usize, end: bool) -> usize {
        let mut shift: isize = 0;
        for r in &self.edits {
            if pos <= r.start {
                break;
            }
            let new_start = (r.start as isize + shift) as usize;
            if pos < r.end {
                return if end {
                    new_start + MASK.len()
                } else {
                    new_start
                };
            }
            shift += MASK.len() as isize - r.len() as isize;
        }
        (pos as isize + shift) as usize
    }

    /// Where a range of the masked text came from in the original: a bound
    /// inside a mask widens to cover the whole secret it stands for.
    fn unmap(&self, range: Range<usize>) -> Range<usize> {
        let back = |pos: usize, end: bool| -> usize {
            let mut shift: isize = 0;
            for r in &self.edits {
                let new_start = (r.start as isize + shift) as usize;
                let new_end = new_start + MASK.len();
                if pos <= new_start {
                    break;
                }
                if pos < new_end {
                    return if end { r.end } else { r.start };
                }
                shift += MASK.len() as isize - r.len() as isize;
            }
            (pos as isize - shift) as usize
        };
        back(range.start, false)..back(range.end, true)
    }

    /// [`Masked::map`] for a span `start..end`.
    pub fn map_range(&self, start: usize, end: usize) -> Range<usize> {
        let s = self.map(start, false);
        s..self.map(end, true).max(s)
    }
}

/// Masks every secret in `text` (see [`SHAPES`]).
pub fn mask(text: &str) -> Cow<'_, str> {
    let ranges = find(text);
    if ranges.is_empty() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(Masked::with_ranges(text, ranges).text)
    }
}

/// Applies masking unless the user asked to see secrets. Every output path
/// (reports, `explain`, `rules show`/`test`, error messages) goes through it.
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

    /// Masked text with its offset map (identity with `--show-secrets`).
    pub fn masked(&self, text: &str) -> Masked {
        if self.show_secrets {
            Masked::unmasked(text)
        } else {
            Masked::new(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_example_is_masked() {
        for shape in SHAPES {
            for (text, secret) in shape.examples {
                assert!(
                    text.contains(secret),
                    "{}: example lacks its secret",
                    shape.name
                );
                let m = mask(text);
                assert!(
                    !m.contains(secret),
                    "{}: {secret} leaked in {m}",
                    shape.name
                );
                assert_eq!(m.lines().count(), text.lines().count(), "{}", shape.name);
                // Idempotent: masking masked text changes nothing.
                assert_eq!(mask(&m), m, "{}", shape.name);
            }
        }
    }

    /// A big text is searched with the patterns' other build (see
    /// [`PREFILTER_FROM`]): every example, followed by enough empty lines
    /// to make it big, gives the ranges it gives alone. (After them: what
    /// comes before a key tells whether it is one.)
    #[test]
    fn big_texts_are_masked_as_short_ones() {
        let pad = "\n".repeat(PREFILTER_FROM);
        for shape in SHAPES {
            for (text, _) in shape.examples {
                let alone = find(text);
                assert!(!alone.is_empty(), "{text:?}");
                assert_eq!(find(&format!("{text}{pad}")), alone, "{text:?}");
            }
        }
    }

    #[test]
    fn masks_are_fixed_width_and_keep_what_the_diagnosis_reads() {
        assert_eq!(
            mask("Authorization: Bearer ab12"),
            "Authorization: Bearer ********"
        );
        assert_eq!(
            mask("Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789"),
            "Authorization: Bearer ********"
        );
        assert_eq!(mask("xoxb-1234567890-abcdefghij"), "xoxb-********");
        // `bearer` as a path segment names an endpoint (Intuit's token URL).
        let intuit = r#"https://oauth.platform.intuit.com:443 "POST /oauth2/v1/tokens/bearer HTTP/1.1" 400 25"#;
        assert_eq!(mask(intuit), intuit);
        assert_eq!(mask("sk_test_51Habcdefghijklmnop"), "sk_test_********");
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        assert_eq!(
            mask(&format!("{{\"access_token\": \"{jwt}\"}}")),
            "{\"access_token\": \"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.********\"}"
        );
        assert_eq!(
            mask("Set-Cookie: session=abc; Path=/; Max-Age=60; HttpOnly"),
            "Set-Cookie: session=********; Path=/; Max-Age=60; HttpOnly"
        );
        assert_eq!(
            mask("Credential=AKIDEXAMPLE01/20240101/us-east-1/s3/aws4_request"),
            "Credential=********/20240101/us-east-1/s3/aws4_request"
        );
    }

    #[test]
    fn a_keyed_jwt_shaped_value_masks_once() {
        // Found by the redact fuzz target: a value under a secret key
        // shaped like a JWT but not starting `eyJ` (`evJ…`, `ewo…`) kept
        // its two readable parts, then a second pass did not know that
        // head as masked and hid it whole.
        for head in [
            "evJhbGciOiJSUzI1NiJ9",
            "ewogImFsZyI6IlJTMjU2In0",
            "eyJhbGciOiJSUzI1NiJ9",
        ] {
            let text = format!(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={head}.eyJpc3MiOiIzTVZHOSJ9.c2lnbmF0dXJl"
            );
            let once = mask(&text);
            assert!(!once.contains("c2lnbmF0dXJl"), "{once}");
            assert_eq!(mask(&once), once);
        }
    }

    #[test]
    fn overlapping_values_across_a_closing_quote_mask_to_a_fixpoint() {
        // Found by the redact fuzz target: a quoted value under one secret
        // key overlaps another key's quoted value that ends past the first
        // one's closing quote. Merged, the mask swallows that quote, and
        // the rest of the line up to the next quote reads as the first
        // key's value on a second pass. One call must leave nothing to mask.
        for (key, inner, tail) in [
            ("access_token", "tk", "it's"),
            ("client_secret", "password", "o'clock"),
            ("refreshToken", "token", "'@type'"),
        ] {
            let text = format!(
                r#"{{"{key}":"AbC-123 {inner}: 'Zy9-88" rest {tail} "plain": "words here"}}"#
            );
            let once = mask(&text);
            assert!(
                !once.contains("AbC-123") && !once.contains("Zy9-88"),
                "{once}"
            );
            assert_eq!(mask(&once), once, "{text}");
        }
    }

    #[test]
    fn a_shell_variable_is_not_a_secret() {
        let text = r#"curl -H "apikey: $ANON_KEY" -H "x-api-key: ${API_KEY}" https://example.com"#;
        assert_eq!(mask(text), text);
        assert!(!mask(r#"curl -H "apikey: $ecret99x" https://example.com"#).contains("ecret99x"));
    }

    #[test]
    fn a_pair_after_a_token_label_is_not_its_value() {
        let text = "Exception getting access token: error='invalid_grant', description='x'";
        assert_eq!(mask(text), text);
        // A value that is one still is.
        assert_eq!(
            mask("access token: tk-0123456789abcdef"),
            "access token: ********"
        );
    }

    #[test]
    fn an_error_code_after_a_token_label_is_not_its_value() {
        let text = "could not get token: AccessDenied: Access denied";
        assert_eq!(mask(text), text);
        // A credential before a colon still is.
        assert!(!mask("token: tk0123456789abcdefXYZ: ok").contains("tk0123456789abcdef"));
    }

    #[test]
    fn masked_ranges_map_back_to_the_secrets_they_hide() {
        let text = "a=1 password=hunter2 b=2 token: 'tk-1'";
        let masked = Masked::new(text);
        assert_eq!(masked.text, "a=1 password=******** b=2 token: '********'");
        let at = |s: &str| masked.text.find(s).unwrap();
        // A range around a mask widens to the secret; one beside it does not.
        let around = at("password=")..at(" b=2");
        assert_eq!(&text[masked.unmap(around)], "password=hunter2");
        let inside = at("********") + 2..at("********") + 4;
        assert_eq!(&text[masked.unmap(inside)], "hunter2");
        let after = at(" b=2")..at(" token");
        assert_eq!(&text[masked.unmap(after)], " b=2");
        let next = masked.text.rfind('*').unwrap() + 1;
        assert_eq!(&text[masked.unmap(next..masked.text.len())], "'");
    }

    #[test]
    fn unsettled_ranges_mask_their_lines_whole() {
        let text = "ok line\n  key: a \"b\" c\nnext";
        let start = text.find("a ").unwrap();
        let ranges = whole_lines(text, &[start..start + 1, start + 3..start + 4]);
        assert_eq!(ranges.len(), 1);
        assert_eq!(&text[ranges[0].clone()], "key: a \"b\" c");
    }

    #[test]
    fn a_name_too_long_for_a_key_leaves_its_separator_to_the_next_key() {
        let long = "x".repeat(MAX_KEY + 20);
        let text = format!("{long}=password=hunter2 and {long}: token: 'tk-77'");
        let masked = mask(&text);
        assert!(
            !masked.contains("hunter2") && !masked.contains("tk-77"),
            "{masked}"
        );
        assert!(masked.contains(&long), "a long name is kept: {masked}");
    }

    #[test]
    fn placeholders_are_the_ones_the_pattern_describes() {
        // The pattern is_placeholder is written out from.
        let re = Regex::new(
            r"^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[A-Za-z_][A-Za-z0-9_]*%|\{\{[^{}]*\}\}|<[^<>]*>|\*+|undefined|null|NULL|None|nil|\(null\)|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\(\)?)$",
        )
        .unwrap();
        let parts = [
            "$", "{", "}", "%", "<", ">", "*", "a", "_", "9", "é", " ", "\n", "-", ".", "()",
            "None",
        ];
        let mut values = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = values
                .iter()
                .flat_map(|v| parts.iter().map(move |p| format!("{v}{p}")))
                .collect();
            values.extend(longer);
            values.sort();
            values.dedup();
        }
        assert!(values.len() > 100_000);
        for v in &values {
            assert_eq!(
                is_placeholder(v),
                re.is_match(v) || is_masked_already(v),
                "{v:?}"
            );
        }
    }

    #[test]
    fn keyed_and_bearer_values_keep_their_type_prefix() {
        assert_eq!(
            mask("Authorization: Bearer xoxc-1234567890-abcdefghijkl"),
            "Authorization: Bearer xoxc-********"
        );
        assert_eq!(
            mask("AWS_ACCESS_KEY_ID=ASIAY34FZKBOKMUTVV7A"),
            "AWS_ACCESS_KEY_ID=ASIA********"
        );
        // Basic credentials with an empty password hide nothing.
        assert_eq!(
            mask("Authorization: Basic Og=="),
            "Authorization: Basic Og=="
        );
        assert_eq!(
            mask("Authorization: Basic dXNlcjpwdw=="),
            "Authorization: Basic ********"
        );
        // A value that is only a prefix, or one without a known prefix, is
        // masked whole.
        assert_eq!(mask("token=xoxb-12"), "token=********");
        assert_eq!(mask("Bearer abcdefghijklmnop"), "Bearer ********");
        assert_eq!(
            mask("PLEX_TOKEN=claim-Ab1Cd2Ef3Gh4Ij5Kl6Mn"),
            "PLEX_TOKEN=claim-********"
        );
    }

    #[test]
    fn key_variants() {
        for key in [
            "token",
            "refreshToken",
            "refresh_token",
            "id-token",
            "IdToken",
            "secretKey",
            "privateKey",
            "session",
            "aws_secret_access_key",
            "X-Auth-Token",
            "Private-Token",
            "Ocp-Apim-Subscription-Key",
            "X-Amz-Security-Token",
            "CLIENT_SECRET",
            "client-secret",
            "clientSecret",
            "api_key",
            "x-api-key",
            "JSESSIONID",
        ] {
            for text in [
                format!("{{\"{key}\": \"v4lue-1\"}}"),
                format!("{key}: v4lue-1"),
                format!("{key}=v4lue-1&x=y"),
                format!("{{'{key}': 'v4lue-1'}}"),
            ] {
                assert!(!mask(&text).contains("v4lue-1"), "{text} → {}", mask(&text));
            }
        }
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for t in [
            "send `Authorization: Basic base64(client_id:client_secret)` and a form body",
            r#"{"error": "invalid_grant", "error_description": "The client credentials are invalid"}"#,
            "Content-Type: application/json",
            r#"{"token_type": "Bearer", "expires_in": 3599, "code": "bad.request"}"#,
            "WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"",
            "the bearer token has expired; Basic auth is disabled",
            "special characters mangled on the way into a Basic header.",
            "oauth.token-client-auth-failed-basic  ....   ok (3 examples)",
            "census.core.APIKeyError: '<html> <h1>Invalid Key</h1> </html>'",
            "jwt.exceptions.InvalidTokenError: Signature verification failed",
            "oauth2: cannot fetch token: 400 Bad Request",
            "base64 `client_id:secret` as they are for a Basic header.",
            "Authorization: Bearer <token>",
            "client_secret=<your client secret>",
            "status code=500 after retry",
            "X-Amz-Date=20240101T000000Z&X-Amz-Expires=300",
            r#"curl -u "$CLIENT_ID:$CLIENT_SECRET" -H "Authorization: Bearer ${TOKEN}""#,
            "password=%DB_PASSWORD% token={{token}}",
            r#"`curl https://api.stripe.com/v1/balance -u "$STRIPE_SECRET_KEY:"` tests the key alone."#,
            // A code span closing right after the key: the key has no value.
            "a query `hapikey=` left empty, or `?api_key=` with nothing after it",
            "effective_url=https://api.example.com/v3/x?hapikey= response_code=401",
        ] {
            assert_eq!(mask(t), t);
        }
        // A backtick-quoted value still is one.
        assert_eq!(mask("apikey=`k3y-v4lue-123456`"), "apikey=`********`");
    }

    #[test]
    fn offsets_map_through_masks() {
        let text = "a Authorization: Bearer abcdefghijklmnopqrstuvwxyz tail";
        let m = Masked::new(text);
        assert_eq!(m.text, "a Authorization: Bearer ******** tail");
        let tail = text.find("tail").unwrap();
        assert_eq!(&m.text[m.map(tail, false)..], "tail");
        let tok = text.find("abcdef").unwrap();
        let r = m.map_range(tok, tok + 26);
        assert_eq!(&m.text[r], MASK);
        // A span over a short secret grows to the whole mask.
        let m = Masked::new("Basic dTpw x");
        assert_eq!(&m.text[m.map_range(6, 10)], MASK);
        assert_eq!(&m.text[m.map_range(11, 12)], "x");
    }

    #[test]
    fn multi_line_secrets_keep_lines() {
        let pem = "-----BEGIN PRIVATE KEY-----\nAAAABBBBCCCCDDDDEEEE\r\nFFFFGGGGHHHHIIII\n-----END PRIVATE KEY-----\n";
        let m = mask(pem);
        assert_eq!(
            m,
            "-----BEGIN PRIVATE KEY-----\n********\r\n********\n-----END PRIVATE KEY-----\n"
        );
    }
}
