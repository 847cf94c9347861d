//! Provider data (hosts, regions, token paths) loaded from TOML, and the
//! lookups the facts stage makes with it.

use regex::Regex;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    pub token_path: Option<String>,
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
    #[serde(default)]
    pub region: Vec<Region>,
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

/// All provider files merged, ready for lookups.
#[derive(Debug, Default, Clone)]
pub struct Providers {
    token_path: Option<Regex>,
    pub providers: Vec<Provider>,
}

impl Providers {
    /// Merges one parsed file; a later file's provider with the same id
    /// replaces the earlier one (user data overrides built-in data).
    pub fn add(&mut self, file: ProviderFile) -> Result<(), regex::Error> {
        if let Some(p) = &file.token_path {
            self.token_path = Some(Regex::new(p)?);
        }
        for p in file.provider {
            self.providers.retain(|old| old.id != p.id);
            self.providers.push(p);
        }
        Ok(())
    }

    pub fn is_token_path(&self, path: &str) -> bool {
        match &self.token_path {
            Some(re) => re.is_match(path),
            None => path.trim_end_matches('/').ends_with("/token"),
        }
    }

    /// The provider and region a host belongs to; the longest matching domain
    /// wins, so `mypurecloud.com.au` is not taken for `mypurecloud.com`.
    pub fn lookup_host(&self, host: &str) -> Option<HostMatch<'_>> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let under = |domain: &str| {
            let d = domain.to_ascii_lowercase();
            host == d || host.ends_with(&format!(".{d}"))
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
        assert!(p.is_token_path("/oauth/token"));
        assert!(p.is_token_path("/api/v2/oauth2/token"));
        assert!(p.is_token_path("/oauth2/v2.0/token"));
        assert!(!p.is_token_path("/api/v2/tokens/me"));
    }
}
