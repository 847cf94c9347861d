//! Across chunks and sources: folds repeats of the same failure into its
//! first occurrence as they come, and marks a failure recovered when the
//! same method and URL later succeeded.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::incidents::builder::{query_of, same_resource, without_query};
use crate::incidents::{Finished, Incident, MAX_REPEAT_PLACES, Success};
use crate::parse::Value;
use crate::providers::Providers;

/// How many earlier incidents of the same kind a possible quote (a cut-off
/// restatement of an earlier failure) is compared with.
const QUOTE_WINDOW: usize = 256;

/// Method, status, exception type and its innermost cause: what must agree
/// for two failures to be the same (see [`kind_of`]).
type Kind = [Option<String>; 4];

/// What exact repeats share: kind, URL key and error (see [`fold_key`]).
pub type FoldKey = (Kind, Option<String>, Option<String>);

/// The keys of the failures a collector keeps: what a chunk past its
/// budgets tells a repeat of a kept failure (handed over to fold) from a
/// new one (summed up) by.
pub type KeptKeys = std::collections::HashSet<FoldKey>;

/// Distinct failures kept in full until the end of the run, and the memory
/// they may take (about): those are diagnosed at the end, against every
/// input-wide fact and with nothing of them lost. Past either, a new
/// distinct failure is reduced to its report form as it completes (see
/// [`MAX_REDUCED`]). Repeats of kept ones still fold into them.
/// (Measured with heaptrack on a log of distinct failures, a kept incident
/// takes two to three times what [`incident_size`] estimates.)
pub const MAX_KEPT: usize = 100;
pub const MAX_KEPT_BYTES: usize = 1 << 20;

/// Failures reduced to their report form ([`crate::rank::reduce`]: their
/// diagnoses and the few facts the reports show) that a run keeps, and the
/// memory they may take (about). Past either, a new distinct failure is
/// still diagnosed, then summed up by its first diagnosis in
/// [`NotKept`]: a count, its first and last place and an example.
pub const MAX_REDUCED: usize = 400;
pub const MAX_REDUCED_BYTES: usize = 2 << 20;

/// The first (best-ranked) diagnosis of a reduced failure: what a summed
/// up failure is counted under.
#[derive(Debug, Clone, PartialEq)]
pub struct Top {
    pub rule: String,
    pub severity: crate::rules::Severity,
    pub title: String,
}

impl Top {
    pub fn of(inc: &Incident) -> Option<Top> {
        let d = inc.diagnosed.as_ref()?.first()?;
        Some(Top {
            rule: d.id.clone(),
            severity: d.severity,
            title: d.title.to_string(),
        })
    }
}

/// A failure reduced to what folding needs (its key and place) and its
/// first diagnosis, for failures past a chunk's budget of reduced ones.
#[derive(Debug, Clone)]
pub struct Light {
    kind: Kind,
    url: Option<String>,
    error: Option<String>,
    loc: crate::input::Loc,
    end: usize,
    end_line: usize,
    repeat_count: usize,
    headline: String,
    top: Option<Top>,
}

impl Light {
    /// `inc` reduced ([`crate::rank::reduce`]), so its first diagnosis is known.
    pub fn of(inc: &Incident) -> Self {
        let (kind, url, error) = fold_key(inc);
        Light {
            kind,
            url,
            error,
            loc: inc.loc,
            end: inc.end,
            end_line: inc.end_line,
            repeat_count: inc.repeat_count,
            headline: inc.headline(),
            top: Top::of(inc),
        }
    }
}

/// Failures summed up under one first diagnosis.
#[derive(Debug, Clone)]
pub struct Aggregate {
    /// The first diagnosis; `None`: no rule explained them.
    pub top: Option<Top>,
    /// How many (each repeat counted).
    pub failures: usize,
    /// Where the first and the last of them are.
    pub first: crate::input::Loc,
    pub last: crate::input::Loc,
    /// The first one's headline.
    pub example: String,
}

/// Failures past [`MAX_REDUCED`]: diagnosed, then summed up by their first
/// diagnosis, so that memory stays flat whatever the number of distinct
/// failures (bounded by the number of rules).
#[derive(Debug, Clone, Default)]
pub struct NotKept {
    /// Failures summed up (each with its repeats).
    pub failures: usize,
    /// One per first diagnosis, in the order they first came.
    pub by_diagnosis: Vec<Aggregate>,
    index: HashMap<Option<String>, usize>,
}

impl NotKept {
    /// Sums up `failures` occurrences of a failure with first diagnosis
    /// `top`, at `loc`; `headline` is asked for only if it is the first.
    pub fn add(
        &mut self,
        top: Option<&Top>,
        failures: usize,
        loc: crate::input::Loc,
        headline: impl FnOnce() -> String,
    ) {
        self.failures += failures;
        let key = top.map(|t| t.rule.clone());
        match self.index.get(&key) {
            Some(&k) => {
                let a = &mut self.by_diagnosis[k];
                a.failures += failures;
                a.last = loc;
            }
            None => {
                self.index.insert(key, self.by_diagnosis.len());
                self.by_diagnosis.push(Aggregate {
                    top: top.cloned(),
                    failures,
                    first: loc,
                    last: loc,
                    example: headline(),
                });
            }
        }
    }

    /// Takes in what a later part of the input summed up.
    pub fn merge(&mut self, later: NotKept) {
        for a in later.by_diagnosis {
            let last = a.last;
            self.add(a.top.as_ref(), a.failures, a.first, || a.example);
            if let Some(&k) = self.index.get(&a.top.as_ref().map(|t| t.rule.clone())) {
                self.by_diagnosis[k].last = last;
            }
        }
    }
}

/// The key a failure's exact repeats share, past the cap of full incidents
/// the only way they fold.
pub fn fold_key(inc: &Incident) -> FoldKey {
    (kind_of(inc), url_key(text(inc, "url"), inc), error_of(inc))
}

/// What a repeat shares with the failure it folds into, URL and error code
/// aside: method, status, exception type and the exception's innermost
/// cause (an SDK's one wrapper type says `UnknownHostException` once and
/// `SSLHandshakeException` the next time: two failures).
fn kind_of(inc: &Incident) -> Kind {
    [
        text(inc, "method"),
        text(inc, "status"),
        text(inc, "exception.type"),
        innermost_cause(inc),
    ]
}

fn innermost_cause(inc: &Incident) -> Option<String> {
    inc.facts
        .get("exception.cause.type")
        .last()
        .map(|v| v.value.to_string())
}

/// About how many bytes an incident takes (its excerpt twice: as the
/// excerpt and as the `text` fact, and its facts).
pub fn incident_size(inc: &Incident) -> usize {
    std::mem::size_of::<Incident>()
        + 2 * inc.excerpt.text.len()
        + inc
            .facts
            .iter()
            .flat_map(|(n, vs)| vs.iter().map(move |v| (n, v)))
            .map(|(n, v)| 96 + n.len() + v.value.as_str().map_or(8, str::len))
            .sum::<usize>()
}

/// Takes finished exchanges in input order; gives the incidents, folded.
#[derive(Default)]
pub struct Collector<'p> {
    /// To tell whose a success's host is (see [`Collector::success`]);
    /// without them, any host may be a failure's.
    providers: Option<&'p Providers>,
    kept: Vec<Incident>,
    exact: HashMap<FoldKey, usize>,
    by_kind: HashMap<Kind, Vec<usize>>,
    /// Failures not (or no longer) recovered.
    awaiting: Awaiting,
    /// The failure pushed last, while no success came after it: for the
    /// success that follows it when one of the two does not name its URL.
    last: Option<usize>,
    kept_bytes: usize,
    /// How many of `kept` are reduced, and their size (about).
    reduced: usize,
    reduced_bytes: usize,
    not_kept: NotKept,
}

/// Failures waiting for a success, by source, then URL path: a success
/// looks its path up borrowed, without building a key.
type Awaiting = foldhash::HashMap<usize, foldhash::HashMap<String, Vec<Waiting>>>;

/// A failure waiting for a success, with the method and URL a success is
/// matched against: read from its facts for every success on its path,
/// they were most of what a success cost where many failures wait.
#[derive(Debug)]
struct Waiting {
    index: usize,
    method: Option<Box<str>>,
    url: Box<str>,
}

/// Puts the failure `index` (`inc`), with the URL `url`, among those a
/// later success on it recovers.
fn await_success(awaiting: &mut Awaiting, inc: &Incident, url: &str, index: usize) {
    awaiting
        .entry(inc.source)
        .or_default()
        .entry(path_key(url).into_owned())
        .or_default()
        .push(Waiting {
            index,
            method: inc.facts.str("method").map(Box::from),
            url: url.into(),
        });
}

/// The next exchange after a failure, a success within this many lines,
/// with a URL missing on one side, is taken for its retry (`attempt 1
/// failed: fetch failed` … `attempt 2: GET … -> 200`).
const RETRY_GAP: usize = 30;

fn text(inc: &Incident, name: &str) -> Option<String> {
    inc.facts.first(name).map(|v| v.value.to_string())
}

/// The key failures and successes are matched by: the URL's path, without
/// query, fragment or trailing slash (a log may give only the path).
/// Borrowed when already lower case, as most paths are (a success's is
/// looked up for every success).
fn path_key(url: &str) -> Cow<'_, str> {
    // After the first `://`: most URLs begin with `https://`, read without
    // a search; else found by its `:` (a memmem searcher costs more to
    // build than this).
    let no_scheme = match url.strip_prefix("https://") {
        Some(rest) => rest,
        None => {
            let scheme_end =
                memchr::memchr_iter(b':', url.as_bytes()).find(|&p| url[p..].starts_with("://"));
            scheme_end.map_or(url, |p| &url[p + 3..])
        }
    };
    // `memchr`, not `str::find` (whose char search cost more than the rest).
    let path = if url.starts_with('/') {
        no_scheme
    } else {
        memchr::memchr(b'/', no_scheme.as_bytes()).map_or("/", |p| &no_scheme[p..])
    };
    let path = without_query(path);
    // Every byte looked at, without stopping early: a loop the compiler
    // vectorises, cheaper on a path than stopping at the first capital.
    let upper = path
        .bytes()
        .fold(false, |upper, b| upper | b.is_ascii_uppercase());
    match upper {
        true => Cow::Owned(path.to_ascii_lowercase()),
        false => Cow::Borrowed(path),
    }
}

/// The host of an absolute URL.
pub(super) fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next()?;
    (!host.is_empty()).then(|| host.to_string())
}

impl<'p> Collector<'p> {
    /// A collector that knows the providers' hosts.
    pub fn new(providers: &'p Providers) -> Self {
        Collector {
            providers: Some(providers),
            ..Collector::default()
        }
    }

    pub fn extend(&mut self, items: impl IntoIterator<Item = Finished>) {
        for item in items {
            self.push(item);
        }
    }

    pub fn push(&mut self, item: Finished) {
        match item {
            Finished::Failure(inc) => self.failure(*inc),
            Finished::Success(s) => self.success(s),
        }
    }

    /// Takes a failure reduced to its key: folded into a kept incident
    /// with the same key, else summed up.
    pub fn push_light(&mut self, light: Light) {
        let key = (light.kind, light.url, light.error);
        match self.exact.get(&key).copied() {
            Some(k) => {
                self.last = Some(k);
                let first = &mut self.kept[k];
                first.repeat_count += 1 + light.repeat_count;
                if first.repeats.len() < MAX_REPEAT_PLACES {
                    first.repeats.push(light.loc);
                }
                first.end = first.end.max(light.end);
                first.end_line = first.end_line.max(light.end_line);
                // Failed again after a success: not recovered (yet), and
                // waiting again for a success.
                if first.recovered.take().is_some()
                    && let Some(url) = first.facts.str("url")
                {
                    await_success(&mut self.awaiting, first, url, k);
                }
            }
            None => {
                let headline = light.headline;
                self.sum_up(
                    light.top.as_ref(),
                    1 + light.repeat_count,
                    light.loc,
                    || headline,
                );
            }
        }
    }

    /// Whether no more failures are kept in full: past this, a failure is
    /// reduced to its report form as it completes.
    pub fn full(&self) -> bool {
        self.kept.len() >= MAX_KEPT || self.kept_bytes >= MAX_KEPT_BYTES
    }

    /// The keys of the failures kept so far, and (to tell when they
    /// changed) how many there are.
    pub fn kept_keys(&self) -> KeptKeys {
        self.exact.keys().cloned().collect()
    }

    pub fn kept_key_count(&self) -> usize {
        self.exact.len()
    }

    /// How many more reduced failures may be kept.
    pub fn reduced_room(&self) -> usize {
        match self.reduced_bytes >= MAX_REDUCED_BYTES {
            true => 0,
            false => MAX_REDUCED.saturating_sub(self.reduced),
        }
    }

    /// Failures summed up so far.
    pub fn not_kept(&self) -> &NotKept {
        &self.not_kept
    }

    /// Adds failures a chunk summed up.
    pub fn count(&mut self, counted: NotKept) {
        if counted.failures > 0 {
            self.not_kept.merge(counted);
            self.last = None;
        }
    }

    fn sum_up(
        &mut self,
        top: Option<&Top>,
        failures: usize,
        loc: crate::input::Loc,
        headline: impl FnOnce() -> String,
    ) {
        self.not_kept.add(top, failures, loc, headline);
        // A success next is not the retry of the last kept failure.
        self.last = None;
    }

    fn failure(&mut self, inc: Incident) {
        let exact_key = fold_key(&inc);
        let kind = exact_key.0.clone();
        let full = self.full();
        let found = self.exact.get(&exact_key).copied().or_else(|| {
            // Past the cap only exact repeats fold: the quote search is
            // for the few failures a report shows.
            if full {
                return None;
            }
            let candidates = self.by_kind.get(&kind)?;
            candidates
                .iter()
                .rev()
                .take(QUOTE_WINDOW)
                .copied()
                .find(|&k| is_repeat(&self.kept[k], &inc))
        });
        let index = match found {
            Some(k) => {
                self.last = Some(k);
                let first = &mut self.kept[k];
                // `inc` may itself carry repeats folded while it was built.
                first.repeat_count += 1 + inc.repeat_count;
                for loc in std::iter::once(inc.loc).chain(inc.repeats) {
                    if first.repeats.len() < MAX_REPEAT_PLACES {
                        first.repeats.push(loc);
                    }
                }
                first.end = first.end.max(inc.end);
                first.end_line = first.end_line.max(inc.end_line);
                // Failed again after a success: not recovered (yet).
                if first.recovered.take().is_none() {
                    return;
                }
                k
            }
            // Past the cap of full incidents a new one is kept reduced
            // while there is room, else summed up. (One not reduced here
            // is only from a caller without rules: summed up undiagnosed.)
            None if full && (inc.diagnosed.is_none() || self.reduced_room() == 0) => {
                let top = Top::of(&inc);
                self.sum_up(top.as_ref(), 1 + inc.repeat_count, inc.loc, || {
                    inc.headline()
                });
                return;
            }
            None => {
                match &inc.diagnosed {
                    Some(d) => {
                        self.reduced += 1;
                        self.reduced_bytes += incident_size(&inc) + crate::rank::diagnoses_size(d);
                    }
                    None => self.kept_bytes += incident_size(&inc),
                }
                let index = self.kept.len();
                self.exact.insert(exact_key, index);
                self.by_kind.entry(kind).or_default().push(index);
                self.kept.push(inc);
                index
            }
        };
        let inc = &self.kept[index];
        if let Some(url) = inc.facts.str("url") {
            await_success(&mut self.awaiting, inc, url, index);
        }
        self.last = Some(index);
    }

    fn success(&mut self, s: Success) {
        if !s.status_known {
            self.unstated_success(&s);
            return;
        }
        if let Some(url) = &s.url
            && self.recover_by_url(&s, url)
        {
            self.last = None;
            return;
        }
        // A URL missing on one side: the success right after the failure
        // is its retry.
        let Some(k) = self.last.take() else {
            return;
        };
        let inc = &mut self.kept[k];
        let urls_unknown = inc.facts.str("url").is_none() || s.url.is_none();
        let same_method = match (inc.facts.str("method"), &s.method) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        // A host named on both sides must be the same one; a failure that
        // names its provider but no host (botocore's `ClientError`, from
        // its words) is retried on that provider's hosts, not on another
        // API's (in a busy log the next success is most often another
        // call's).
        let success_host = s.url.as_deref().and_then(host_of);
        let same_host = match (inc.facts.str("url.host"), success_host.as_deref()) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (None, Some(host)) => match (self.providers, inc.facts.str("provider")) {
                (Some(providers), Some(failed)) => providers
                    .lookup_host(host)
                    .is_some_and(|m| m.provider.id == failed),
                _ => true,
            },
            _ => true,
        };
        if urls_unknown
            && same_method
            && same_host
            && inc.recovered.is_none()
            && inc.source == s.loc.source
            && s.loc.span.start >= inc.end
            && s.loc.line <= inc.end_line + RETRY_GAP
        {
            inc.recovered = Some(s.loc);
        }
    }

    /// A response body with no error and no status recovers only the
    /// failure told the same way right before it: a body with an error and
    /// nothing else (no status, URL, method or exception), as a debug log
    /// that prints bodies but not statuses shows a retried call. Anything
    /// else after a failure may be unrelated JSON, so it recovers nothing
    /// and leaves the failure waiting for a real success.
    fn unstated_success(&mut self, s: &Success) {
        let Some(k) = self.last else {
            return;
        };
        let inc = &mut self.kept[k];
        let body_alone = !inc.facts.get("body").is_empty()
            && [
                "status",
                "url",
                "method",
                "exception.message",
                "exception.type",
            ]
            .iter()
            .all(|name| inc.facts.get(name).is_empty());
        // What follows a body cut short (at the body cap, or at a chunk's
        // end) is the rest of it, read as bodies of their own: it tells
        // nothing of a retry.
        let cut_short = !inc.facts.get("body.truncated").is_empty();
        if body_alone
            && !cut_short
            && inc.recovered.is_none()
            && inc.source == s.loc.source
            && s.loc.span.start >= inc.end
            && s.loc.line <= inc.end_line + RETRY_GAP
        {
            inc.recovered = Some(s.loc);
            self.last = None;
        }
    }

    /// Marks the failures awaiting this success's method and URL.
    fn recover_by_url(&mut self, s: &Success, url: &str) -> bool {
        let Some(waiting) = self
            .awaiting
            .get_mut(&s.loc.source)
            .and_then(|by_path| by_path.get_mut(&*path_key(url)))
        else {
            return false;
        };
        let kept = &mut self.kept;
        let before = waiting.len();
        waiting.retain(|w| {
            let inc = &mut kept[w.index];
            let same_method = match (&w.method, &s.method) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => true,
            };
            if same_method && same_resource(&w.url, url) && s.loc.span.start >= inc.end {
                inc.recovered = Some(s.loc);
                false
            } else {
                true
            }
        });
        waiting.len() < before
    }

    /// The incidents kept so far, in input order, without the facts
    /// [`Collector::finish`] adds (for streaming what a batch finished).
    pub fn kept(&self) -> &[Incident] {
        &self.kept
    }

    /// The incidents in input order, with `repeats` and `recovered` facts.
    pub fn finish(self) -> Vec<Incident> {
        let mut kept = self.kept;
        for inc in &mut kept {
            add_fold_facts(inc);
        }
        kept
    }
}

/// The facts folding gives an incident: how often it repeated, and whether
/// a retry got past it.
pub fn add_fold_facts(inc: &mut Incident) {
    if inc.repeat_count > 0 {
        inc.facts
            .push("repeats", Value::Num(inc.repeat_count as f64), None);
    }
    if inc.recovered.is_some() {
        inc.facts.push("recovered", Value::Str("true".into()), None);
    }
}

fn is_repeat(first: &Incident, later: &Incident) -> bool {
    let same = |name: &str| text(first, name) == text(later, name);
    let later_body = !later.facts.get("body").is_empty();
    let urls = match (first.facts.str("url"), later.facts.str("url")) {
        (Some(a), Some(b)) => {
            a == b || (!later_body && a.starts_with(b)) || other_query_of_the_same_path(first, a, b)
        }
        (None, None) => true,
        _ => false,
    };
    urls && same("method")
        && same("status")
        && same("exception.type")
        && innermost_cause(first) == innermost_cause(later)
        // The error code, not the body, identifies the failure: bodies differ
        // per response (Genesys' contextId), so a retry loop folds into one.
        && (error_of(first) == error_of(later) || !later_body)
}

/// The error code that identifies a failure: the primary `error`, else the
/// first of its error codes (an AWS `<Code>`, Google's `error.status`):
/// two bodies alone with no primary error (STS's XML, a GCS error) are
/// told apart by their codes, not folded as repeats of each other.
fn error_of(inc: &Incident) -> Option<String> {
    text(inc, "error").or_else(|| text(inc, "error.code"))
}

/// The URL a failure's exact repeats are keyed by: one with a query, of a
/// call the API refused, stands for its path (`?` kept: `/x?a` and `/x`
/// stay apart), as [`is_repeat`] folds other queries of the same path, so
/// past the cap of full incidents they still fold.
fn url_key(url: Option<String>, inc: &Incident) -> Option<String> {
    url.map(|u| match query_of(&u).is_some() && refused(inc) {
        true => format!("{}?", without_query(&u)),
        false => u,
    })
}

/// Whether the API answered the call with a failure status (4xx, 5xx): what
/// calls of one path with other queries must have to be the same failure.
/// A call that succeeded but whose body or caller failed (an error body, a
/// decode error) is told by that body, which a repeat need not share
/// ([`is_repeat`]): with another query it may be another failure.
fn refused(inc: &Incident) -> bool {
    inc.facts.num("status").is_some_and(|s| s >= 400.0)
}

/// Two calls of one path with other queries (the pages of a listing, two
/// searches), the first one refused: the same failure when method, status
/// and error agree, as a retry loop's calls are.
fn other_query_of_the_same_path(first: &Incident, a: &str, b: &str) -> bool {
    refused(first)
        && query_of(a).is_some()
        && query_of(b).is_some()
        && without_query(a) == without_query(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_keys_ignore_host_query_and_slash() {
        assert_eq!(path_key("https://a.example/x/y/?q=1"), "/x/y");
        assert_eq!(path_key("/x/y"), "/x/y");
        assert_eq!(path_key("a.example/x/Y#f"), "/x/y");
        assert_eq!(path_key("https://a.example"), "");
        // Other schemes, found by their `:`.
        assert_eq!(path_key("http://a.example:80/X"), "/x");
        assert_eq!(path_key("wss://a.example/s?q=https://b/"), "/s");
    }
}
