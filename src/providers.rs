//! Provider data (hosts, regions, token paths) loaded from TOML, and the
//! lookups the facts stage makes with it.

use regex::{Regex, RegexSet};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    /// One regex for OAuth token endpoint paths (older files); see `token_paths`.
    pub token_path: Option<String>,
    /// URL paths of OAuth 2.0 access-token endpoints (RFC 6749 §3.2), as
    /// regexes: a path matching one is `endpoint = token`.
    #[serde(default)]
    pub token_paths: Vec<String>,
    /// Header names (lower case) whose value ties events of one exchange
    /// together: request and correlation ids.
    #[serde(default)]
    pub tie_headers: Vec<String>,
    /// JSON-lines record keys (dotted) that do the same in application logs.
    #[serde(default)]
    pub tie_record_keys: Vec<String>,
    /// A regex an HTML page's `<title>` matches when the page reports an
    /// error (an HTML body alone is then a failure).
    pub html_error_title: Option<String>,
    /// A regex for words that make an error message one about an API call
    /// or its transport (see [`Providers::mentions_exchange`]).
    pub exchange_words: Option<String>,
    #[serde(default)]
    pub provider: Vec<Provider>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub docs: Option<String>,
    /// Extra host suffixes that identify the provider without a region.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Regexes for text only this provider writes (its error-code shapes,
    /// its documentation host in a message, its path layout). They name the
    /// provider when no host does; a named group `code` is an error code.
    #[serde(default)]
    pub vocabulary: Vec<String>,
    /// Body paths (array indices as `*`) whose numbers are error codes
    /// written with a prefix elsewhere: `error_codes.*` + `AADSTS`.
    #[serde(default)]
    pub code_prefixes: Vec<CodePrefix>,
    #[serde(default)]
    pub region: Vec<Region>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodePrefix {
    pub path: String,
    pub prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub id: String,
    pub domain: String,
    #[serde(default)]
    pub sdk: Option<String>,
    #[serde(default)]
    pub places: Vec<String>,
}

/// What a host tells us.
#[derive(Debug, Clone)]
pub struct HostMatch<'a> {
    pub provider: &'a Provider,
    pub region: Option<&'a Region>,
}

/// Compiled vocabulary: one set to find which patterns occur, then each
/// pattern for where.
#[derive(Debug, Clone)]
struct Vocabulary {
    set: RegexSet,
    /// (index into `providers`, pattern)
    patterns: Vec<(usize, Regex)>,
}

/// All provider files merged, ready for lookups.
#[derive(Debug, Default, Clone)]
pub struct Providers {
    token_path: Option<Regex>,
    token_paths: Vec<Regex>,
    tie_headers: Vec<String>,
    tie_record_keys: Vec<String>,
    html_error_title: Option<Regex>,
    exchange_words: Option<Regex>,
    pub providers: Vec<Provider>,
    vocabulary: Option<Vocabulary>,
}

fn compile(what: &str, pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("invalid {what} regex `{pattern}`: {e}"))
}

impl Providers {
    /// Merges one parsed file; a later file's provider with the same id
    /// replaces the earlier one (user data overrides built-in data), and a
    /// file's lists (token paths, tie names) add to the earlier ones.
    pub fn add(&mut self, file: ProviderFile) -> Result<(), String> {
        if let Some(p) = &file.token_path {
            self.token_path = Some(compile("token_path", p)?);
        }
        for p in &file.token_paths {
            self.token_paths.push(compile("token_paths", p)?);
        }
        if let Some(p) = &file.html_error_title {
            self.html_error_title = Some(compile("html_error_title", p)?);
        }
        if let Some(p) = &file.exchange_words {
            self.exchange_words = Some(compile("exchange_words", p)?);
        }
        for h in file.tie_headers {
            self.tie_headers.push(h.to_ascii_lowercase());
        }
        self.tie_record_keys.extend(file.tie_record_keys);
        for p in file.provider {
            for v in &p.vocabulary {
                compile(&format!("vocabulary of `{}`", p.id), v)?;
            }
            self.providers.retain(|old| old.id != p.id);
            self.providers.push(p);
        }
        let mut patterns = Vec::new();
        for (i, p) in self.providers.iter().enumerate() {
            for v in &p.vocabulary {
                patterns.push((i, compile("vocabulary", v)?));
            }
        }
        let set = RegexSet::new(patterns.iter().map(|(_, r)| r.as_str()))
            .map_err(|e| format!("vocabulary does not compile as a set: {e}"))?;
        self.vocabulary = Some(Vocabulary { set, patterns });
        Ok(())
    }

    /// Whether `path` is an OAuth access-token endpoint's path.
    pub fn is_token_path(&self, path: &str) -> bool {
        if self.token_path.is_none() && self.token_paths.is_empty() {
            return path.trim_end_matches('/').ends_with("/token");
        }
        self.token_path.iter().any(|re| re.is_match(path))
            || self.token_paths.iter().any(|re| re.is_match(path))
    }

    /// Whether a fact name (`header.x-request-id`, `record.request_id`) is
    /// one whose value ties events of one exchange together.
    pub fn is_tie(&self, name: &str) -> bool {
        if let Some(h) = name
            .strip_prefix("header.")
            .or_else(|| name.strip_prefix("request.header."))
        {
            return self.tie_headers.iter().any(|t| t == h);
        }
        if let Some(k) = name.strip_prefix("record.") {
            return self.tie_record_keys.iter().any(|t| t == k);
        }
        false
    }

    /// Whether `body` is an HTML page whose title reports an error.
    pub fn is_html_error_page(&self, body: &str) -> bool {
        let Some(re) = &self.html_error_title else {
            return false;
        };
        let head = body.trim_start();
        if !head.starts_with('<') {
            return false;
        }
        let lower = &head[..head.floor_char_boundary(8192)];
        let Some(open) = lower.to_ascii_lowercase().find("<title") else {
            return false;
        };
        let rest = &lower[open..];
        let Some(gt) = rest.find('>') else {
            return false;
        };
        let title = &rest[gt + 1..];
        let title = &title[..title
            .to_ascii_lowercase()
            .find("</title")
            .unwrap_or(title.len())];
        re.is_match(title)
    }

    /// Whether an error message speaks of an API call or its transport.
    pub fn mentions_exchange(&self, message: &str) -> bool {
        self.exchange_words
            .as_ref()
            .is_some_and(|re| re.is_match(message))
    }

    /// The provider whose vocabulary matches `text` earliest, and where.
    pub fn by_vocabulary(&self, text: &str) -> Option<(&str, (usize, usize))> {
        let vocab = self.vocabulary.as_ref()?;
        vocab
            .set
            .matches(text)
            .iter()
            .filter_map(|i| {
                let (p, re) = &vocab.patterns[i];
                re.find(text).map(|m| (*p, m.start(), m.end()))
            })
            .min_by_key(|(_, s, _)| *s)
            .map(|(p, s, e)| (self.providers[p].id.as_str(), (s, e)))
    }

    /// Error codes the vocabulary's `code` groups find in `text`, with
    /// where each is.
    pub fn codes_in(&self, text: &str) -> Vec<(String, (usize, usize))> {
        let Some(vocab) = self.vocabulary.as_ref() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for i in vocab.set.matches(text).iter() {
            let re = &vocab.patterns[i].1;
            if re.capture_names().all(|n| n != Some("code")) {
                continue;
            }
            for c in re.captures_iter(text).take(8) {
                if let Some(m) = c.name("code") {
                    out.push((m.as_str().to_string(), (m.start(), m.end())));
                }
            }
        }
        out.sort_by_key(|(_, r)| *r);
        out
    }

    /// (body path, prefix) for numeric codes written with a prefix.
    pub fn prefixed_codes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.providers.iter().flat_map(|p| {
            p.code_prefixes
                .iter()
                .map(|c| (c.path.as_str(), c.prefix.as_str()))
        })
    }

    /// The provider and region a host belongs to; the longest matching domain
    /// wins, so `mypurecloud.com.au` is not taken for `mypurecloud.com`.
    pub fn lookup_host(&self, host: &str) -> Option<HostMatch<'_>> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let under = |domain: &str| {
            let n = domain.len();
            host.len() >= n
                && host.is_char_boundary(host.len() - n)
                && host[host.len() - n..].eq_ignore_ascii_case(domain)
                && (host.len() == n || host.as_bytes()[host.len() - n - 1] == b'.')
        };
        let mut best: Option<(usize, HostMatch)> = None;
        for p in &self.providers {
            for r in &p.region {
                if under(&r.domain) && best.as_ref().is_none_or(|(len, _)| r.domain.len() > *len) {
                    best = Some((
                        r.domain.len(),
                        HostMatch {
                            provider: p,
                            region: Some(r),
                        },
                    ));
                }
            }
            for d in &p.domains {
                if under(d) && best.as_ref().is_none_or(|(len, _)| d.len() > *len) {
                    best = Some((
                        d.len(),
                        HostMatch {
                            provider: p,
                            region: None,
                        },
                    ));
                }
            }
        }
        best.map(|(_, m)| m)
    }

    /// (place, provider id, region) for every place name in the data.
    pub fn places(&self) -> impl Iterator<Item = (&str, &Provider, &Region)> {
        self.providers.iter().flat_map(|p| {
            p.region
                .iter()
                .flat_map(move |r| r.places.iter().map(move |pl| (pl.as_str(), p, r)))
        })
    }

    pub fn region(&self, id: &str) -> Option<(&Provider, &Region)> {
        self.providers
            .iter()
            .find_map(|p| p.region.iter().find(|r| r.id == id).map(|r| (p, r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Providers {
        let mut p = Providers::default();
        let file: ProviderFile = toml::from_str(include_str!("../rules/providers.toml")).unwrap();
        p.add(file).unwrap();
        p
    }

    #[test]
    fn longest_domain_wins() {
        let p = builtin();
        let m = p.lookup_host("api.mypurecloud.com.au").unwrap();
        assert_eq!(m.region.unwrap().id, "ap-southeast-2");
        let m = p.lookup_host("login.apne2.pure.cloud").unwrap();
        assert_eq!(m.region.unwrap().id, "ap-northeast-2");
        assert!(p.lookup_host("api.mypurecloud").is_none());
        assert!(p.lookup_host("evilmypurecloud.com").is_none());
    }

    #[test]
    fn eighteen_genesys_regions() {
        assert_eq!(builtin().providers[0].region.len(), 18);
    }

    #[test]
    fn token_paths() {
        let p = builtin();
        for path in [
            "/oauth/token",
            "/api/v2/oauth2/token",
            "/api/v2/oauth/token",
            "/common/oauth2/v2.0/token",
            "/contoso.onmicrosoft.com/oauth2/token",
            "/oauth2/default/v1/token",
            "/oauth2/v1/token",
            "/realms/acme/protocol/openid-connect/token",
            "/services/oauth2/token",
            "/token",
            "/login/oauth/access_token",
        ] {
            assert!(p.is_token_path(path), "{path}");
        }
        // API calls whose path happens to end in `token`.
        for path in [
            "/api/v2/tokens/me",
            "/api/v2/screenrecording/token",
            "/api/v2/backgroundassistant/token",
            "/api/v2/webdeployments/token/refresh",
            "/api/v2/webdeployments/token/oauthcodegrantjwtexchange",
            "/realms/acme/protocol/openid-connect/token/introspect",
            "/v1/users/token",
        ] {
            assert!(!p.is_token_path(path), "{path}");
        }
    }

    #[test]
    fn vocabulary_names_providers_and_codes() {
        let p = builtin();
        let who = |t: &str| p.by_vocabulary(t).map(|(id, _)| id.to_string());
        assert_eq!(
            who("AADSTS7000215: Invalid client secret provided.").as_deref(),
            Some("entra")
        );
        assert_eq!(
            who(r#"{"errorCode":"E0000011","errorSummary":"Invalid token provided"}"#).as_deref(),
            Some("okta")
        );
        assert_eq!(
            who("POST http://localhost:8080/realms/acme/protocol/openid-connect/token").as_deref(),
            Some("keycloak")
        );
        assert_eq!(
            who("botocore.exceptions.ClientError: An error occurred (ExpiredToken) when calling the GetObject operation: The provided token has expired.").as_deref(),
            Some("aws")
        );
        // Generic words are nobody's vocabulary.
        assert_eq!(who("401 Unauthorized: invalid token"), None);
        assert_eq!(who("error E1234567 in module"), None);
        let codes: Vec<String> = p
            .codes_in("AADSTS700016: Application not found; see AADSTS90002")
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(codes, vec!["AADSTS700016", "AADSTS90002"]);
    }

    #[test]
    fn html_error_pages() {
        let p = builtin();
        assert!(p.is_html_error_page("<html>\r\n<head><title>502 Bad Gateway</title></head>"));
        assert!(p.is_html_error_page(
            "<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title>"
        ));
        assert!(!p.is_html_error_page("<html><head><title>Welcome</title></head>"));
        assert!(!p.is_html_error_page("{\"title\": \"502\"}"));
    }

    #[test]
    fn ties() {
        let p = builtin();
        assert!(p.is_tie("header.x-request-id"));
        assert!(p.is_tie("request.header.x-request-id"));
        assert!(p.is_tie("record.request_id"));
        assert!(!p.is_tie("header.content-type"));
        assert!(!p.is_tie("body.request_id"));
    }
}
