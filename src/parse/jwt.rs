//! JWTs (JWS compact form, `eyJ….eyJ….sig`) found anywhere in the input,
//! decoded offline: header and payload only. The signature is never
//! verified, decoded or kept.

use std::sync::OnceLock;

use base64::Engine;
use regex::Regex;

/// A JWT's header and payload as JSON.
#[derive(Debug, Clone)]
pub struct Jwt {
    pub header: serde_json::Map<String, serde_json::Value>,
    pub payload: serde_json::Map<String, serde_json::Value>,
}

fn jwt_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\beyJ[A-Za-z0-9_-]{4,}={0,2}\.eyJ[A-Za-z0-9_-]{4,}={0,2}\.[A-Za-z0-9_-]*")
            .expect("jwt regex")
    })
}

/// Every JWT-shaped token in `text`: (byte offset, token).
pub fn find_all(text: &str) -> impl Iterator<Item = (usize, &str)> {
    jwt_re().find_iter(text).map(|m| (m.start(), m.as_str()))
}

/// The header and payload parts of a token (for locating evidence: never
/// the signature).
pub fn signed_part(token: &str) -> &str {
    match token.rfind('.') {
        Some(p) => &token[..p],
        None => token,
    }
}

fn part(b64: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Decodes header and payload; `None` unless both are JSON objects.
pub fn decode(token: &str) -> Option<Jwt> {
    let mut parts = token.split('.');
    let header = part(parts.next()?)?;
    let payload = part(parts.next()?)?;
    Some(Jwt { header, payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_without_the_signature() {
        // {"alg":"RS256","kid":"k1"} . {"exp":1795554000,"aud":["a","b"],"scp":"read write"}
        let h = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"alg":"RS256","kid":"k1"}"#);
        let p = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"exp":1795554000,"aud":["a","b"],"scp":"read write"}"#);
        let text = format!("Authorization: Bearer {h}.{p}.c2lnbmF0dXJl\n");
        let (at, token) = find_all(&text).next().unwrap();
        assert_eq!(at, 22);
        let jwt = decode(token).unwrap();
        assert_eq!(jwt.header["kid"], "k1");
        assert_eq!(jwt.payload["exp"], 1795554000);
        assert!(!signed_part(token).contains("c2ln"));
        assert!(decode("eyJub3QiOiJqc29u.eyJ4.sig").is_none());
    }
}
