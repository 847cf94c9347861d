//! Provider data as written in a provider file (`rules/providers.toml`):
//! what the TOML holds, before [`super::Providers`] indexes it. Also read
//! by build.rs, which parses the built-in file once and embeds it
//! serialised (postcard), so a start does not parse 50 KB of TOML.

use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize)]
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
    /// or its transport (see [`super::Providers::mentions_exchange`]).
    pub exchange_words: Option<String>,
    /// Regexes for messages that quote two clocks: named groups `host`
    /// (a time by the client's clock) and `server` (the same moment by the
    /// server's), optional `allowed_ms` / `allowed_min` (the tolerance).
    #[serde(default)]
    pub clock_quotes: Vec<String>,
    #[serde(default)]
    pub provider: Vec<Provider>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
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
    /// Regexes for error wording only this provider's API or SDK writes
    /// (`a similar object exists in test mode`): a line carrying one states
    /// a failure even with no status, code or URL, so the parse stage
    /// starts an incident from it (see `parse::provider_words`), and a
    /// body whose `message` says one is a failing answer. They also
    /// name the provider, like `vocabulary`. Each must require a literal of
    /// four or more characters, which the parse stage's prefilter looks for.
    #[serde(default)]
    pub messages: Vec<String>,
    /// Body paths (array indices as `*`) whose numbers are error codes
    /// written with a prefix elsewhere: `error_codes.*` + `AADSTS`.
    #[serde(default)]
    pub code_prefixes: Vec<CodePrefix>,
    #[serde(default)]
    pub region: Vec<Region>,
    /// Regexes with a `tenant` group that read the tenant from a URL (an
    /// authority) or from a token's `iss`.
    #[serde(default)]
    pub tenant_in_url: Vec<String>,
    /// Token claims that name the tenant directly.
    #[serde(default)]
    pub tenant_claims: Vec<String>,
    /// Tenant segments that stand for "any tenant" (never a disagreement).
    #[serde(default)]
    pub tenant_aliases: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CodePrefix {
    pub path: String,
    pub prefix: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub id: String,
    pub domain: String,
    #[serde(default)]
    pub sdk: Option<String>,
    #[serde(default)]
    pub places: Vec<String>,
}
