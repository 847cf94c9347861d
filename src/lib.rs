//! faultline explains, offline, why an API call failed.
//!
//! The pipeline, one module per stage, data flowing one way:
//! [`input`] → [`parse`] → [`incidents`] → [`facts`] → [`rules`] → [`rank`] → [`report`];
//! [`outcome`] turns the analysis into the exit status.

pub mod facts;
pub mod incidents;
pub mod input;
pub mod mask;
pub mod outcome;
pub mod parse;
pub mod providers;
pub mod rank;
pub mod redact;
pub mod report;
pub mod rules;

use incidents::Incident;
use input::{Chunk, InputProblem, LineIndex, SourceRef};
use rank::Diagnosis;
use rules::RuleSet;
use rules::scan::{InputFacts, InputHits};

/// What one source contributed.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub name: String,
    pub bytes: u64,
}

/// The result of a run.
pub struct Analysis {
    pub sources: Vec<SourceInfo>,
    pub incidents: Vec<Incident>,
    pub diagnoses: Vec<Diagnosis>,
    pub input: InputFacts,
    pub problems: Vec<InputProblem>,
    /// Distinct failures counted but not kept in full (memory bound).
    pub not_kept: incidents::NotKept,
}

/// How a run uses the machine.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Target chunk size in bytes (see [`input::CHUNK_SIZE`]).
    pub chunk_size: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            threads: 0,
            chunk_size: input::CHUNK_SIZE,
        }
    }
}

/// Reads and analyses every source with one thread per core.
pub fn analyze(sources: &[SourceRef], rules: &RuleSet) -> Analysis {
    analyze_with(sources, rules, ScanOptions::default())
}

/// Reads and analyses every source. Sources are read in order, one open at
/// a time, as line-aligned chunks; chunks (of one large file or of many
/// small ones) are scanned in parallel, a bounded batch at a time, and
/// their results folded in input order, so the report is the same whatever
/// the number of threads. Unreadable sources become problems and the rest
/// still run.
pub fn analyze_with(sources: &[SourceRef], rules: &RuleSet, opts: ScanOptions) -> Analysis {
    let mut scan = Scan::new(rules, opts.threads);
    let mut infos = Vec::new();
    let mut problems = Vec::new();
    for (id, source) in sources.iter().enumerate() {
        let name = source.name.clone();
        let read = input::open(source)
            .and_then(|reader| input::read_chunks(id, reader, opts.chunk_size, |c| scan.push(c)));
        match read {
            Ok(bytes) => infos.push(SourceInfo { name, bytes }),
            Err(e) => {
                problems.push(InputProblem {
                    name: name.clone(),
                    message: e.to_string(),
                });
                infos.push(SourceInfo { name, bytes: 0 });
            }
        }
    }
    let mut analysis = scan.finish();
    analysis.sources = infos;
    analysis.problems = problems;
    analysis
}

/// Analyses in-memory text (rule examples, tests): one thread, as such
/// texts are small and checked by the hundred.
pub fn analyze_text(name: &str, text: &str, rules: &RuleSet) -> Analysis {
    let opts = ScanOptions {
        threads: 1,
        ..ScanOptions::default()
    };
    analyze_text_with(name, text, rules, opts)
}

/// [`analyze_text`] with explicit options (tests compare thread counts and
/// chunk sizes).
pub fn analyze_text_with(name: &str, text: &str, rules: &RuleSet, opts: ScanOptions) -> Analysis {
    let mut scan = Scan::new(rules, opts.threads);
    let bytes = input::read_chunks(0, text.as_bytes(), opts.chunk_size, |c| scan.push(c));
    let mut analysis = scan.finish();
    analysis.sources.push(SourceInfo {
        name: name.to_string(),
        bytes: bytes.unwrap_or(0),
    });
    analysis
}

/// Full incidents a chunk may hand over (about, in bytes), and failures
/// past that it hands over reduced to their key: what a chunk holds while
/// it waits for its turn to be folded stays bounded, however dense the
/// failures in it. Failures past both are counted only.
const CHUNK_FULL_BYTES: usize = 2 << 20;
const CHUNK_MAX_LIGHT: usize = 8_192;

/// One finished exchange of a chunk, as it is handed over.
enum Item {
    Full(incidents::Finished),
    Light(incidents::Light),
}

/// What scanning one chunk gives: its finished exchanges, in input order,
/// its input-wide pattern hits, and failures only counted.
struct ChunkResult {
    items: Vec<Item>,
    hits: InputHits,
    counted: incidents::NotKept,
}

fn scan_chunk(chunk: &Chunk, rules: &RuleSet) -> ChunkResult {
    let index = LineIndex::new(chunk);
    let mut items = Vec::new();
    let mut counted = incidents::NotKept::default();
    let (mut full_bytes, mut lights) = (0usize, 0usize);
    let mut take = |f: incidents::Finished, items: &mut Vec<Item>| match f {
        incidents::Finished::Failure(inc) if full_bytes >= CHUNK_FULL_BYTES => {
            if lights < CHUNK_MAX_LIGHT {
                lights += 1;
                items.push(Item::Light(incidents::Light::of(&inc)));
            } else {
                counted.failures += 1 + inc.repeat_count;
                counted.example.get_or_insert((inc.headline(), inc.loc));
            }
        }
        incidents::Finished::Failure(inc) => {
            full_bytes += incidents::incident_size(&inc);
            items.push(Item::Full(incidents::Finished::Failure(inc)));
        }
        success => items.push(Item::Full(success)),
    };
    let mut builder = incidents::Builder::new(chunk, &index, &rules.providers);
    let mut out = Vec::new();
    parse::parse_chunk_into(chunk, &mut |event| {
        builder.push(event, &mut out);
        for f in out.drain(..) {
            take(f, &mut items);
        }
    });
    builder.finish(&mut out);
    for f in out.drain(..) {
        take(f, &mut items);
    }
    let mut hits = InputHits::default();
    rules.scanner().scan(chunk, &index, &mut hits);
    ChunkResult {
        items,
        hits,
        counted,
    }
}

/// Streaming state of a run: chunks go in, a batch at a time; incidents and
/// input hits build up in input order.
struct Scan<'r> {
    rules: &'r RuleSet,
    /// Worker threads asked for (0: one per core); the pool is made when a
    /// batch first has more than one chunk, so a paste starts no thread.
    threads: usize,
    pool: Option<rayon::ThreadPool>,
    /// Chunks waiting to be scanned: one per worker, so memory stays
    /// bounded whatever the input size.
    batch: Vec<Chunk>,
    batch_max: usize,
    hits: InputHits,
    incidents: incidents::Collector,
}

impl<'r> Scan<'r> {
    fn new(rules: &'r RuleSet, threads: usize) -> Self {
        let workers = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        Scan {
            rules,
            threads: workers,
            pool: None,
            batch: Vec::new(),
            batch_max: workers,
            hits: InputHits::default(),
            incidents: incidents::Collector::default(),
        }
    }

    fn push(&mut self, chunk: Chunk) {
        self.batch.push(chunk);
        if self.batch.len() >= self.batch_max {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        let rules = self.rules;
        if self.pool.is_none() && self.threads > 1 && batch.len() > 1 {
            self.pool = rayon::ThreadPoolBuilder::new()
                .num_threads(self.threads)
                .thread_name(|i| format!("faultline-scan-{i}"))
                .build()
                .ok();
        }
        let results: Vec<ChunkResult> = match &self.pool {
            Some(pool) if batch.len() > 1 => {
                use rayon::prelude::*;
                pool.install(|| batch.par_iter().map(|c| scan_chunk(c, rules)).collect())
            }
            _ => batch.iter().map(|c| scan_chunk(c, rules)).collect(),
        };
        drop(batch);
        for r in results {
            for item in r.items {
                match item {
                    Item::Full(f) => self.incidents.push(f),
                    Item::Light(l) => self.incidents.push_light(l),
                }
            }
            self.incidents.count(r.counted);
            merge_hits(&mut self.hits, r.hits);
        }
    }

    fn finish(mut self) -> Analysis {
        self.flush();
        let rules = self.rules;
        let not_kept = self.incidents.not_kept().clone();
        let incidents = self.incidents.finish();
        let input = InputFacts::new(self.hits, &self.rules.scanner().purposes, &rules.providers);
        let diagnoses = rank::diagnose(&incidents, &input, rules);
        let (incidents, diagnoses) = rank::keep_failures(incidents, diagnoses, &rules.providers);
        Analysis {
            sources: Vec::new(),
            incidents,
            diagnoses,
            input,
            problems: Vec::new(),
            not_kept,
        }
    }
}

/// Appends a later chunk's hits to the run's, keeping the first
/// [`rules::scan::HITS_PER_PATTERN`] of each pattern as a sequential scan would.
fn merge_hits(into: &mut InputHits, from: InputHits) {
    if into.by_pattern.len() < from.by_pattern.len() {
        into.by_pattern.resize(from.by_pattern.len(), Vec::new());
    }
    for (kept, more) in into.by_pattern.iter_mut().zip(from.by_pattern) {
        let room = rules::scan::HITS_PER_PATTERN.saturating_sub(kept.len());
        kept.extend(more.into_iter().take(room));
    }
}
