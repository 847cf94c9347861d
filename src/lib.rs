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

use std::io::Read;

use facts::{InputFacts, InputHits};
use incidents::Incident;
use input::{InputProblem, LineIndex, SourceRef};
use rank::Diagnosis;
use rules::RuleSet;

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
}

/// Reads and analyses every source, one at a time (each is opened only when
/// its turn comes, so a directory of thousands of logs holds one file open);
/// unreadable ones become problems and the rest still run.
pub fn analyze(sources: &[SourceRef], rules: &RuleSet) -> Analysis {
    let mut scan = Scan::new(rules);
    let mut infos = Vec::new();
    let mut problems = Vec::new();
    for (id, source) in sources.iter().enumerate() {
        let name = source.name.clone();
        match input::open(source).and_then(|reader| scan.source(id, reader)) {
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

/// Analyses in-memory text (rule examples, tests).
pub fn analyze_text(name: &str, text: &str, rules: &RuleSet) -> Analysis {
    let mut scan = Scan::new(rules);
    let bytes = scan.source(0, text.as_bytes());
    let mut analysis = scan.finish();
    analysis.sources.push(SourceInfo {
        name: name.to_string(),
        bytes: bytes.unwrap_or(0),
    });
    analysis
}

/// Streaming state of a run: chunks go in, incidents and input hits build up.
struct Scan<'r> {
    rules: &'r RuleSet,
    hits: InputHits,
    incidents: incidents::Collector,
}

impl<'r> Scan<'r> {
    fn new(rules: &'r RuleSet) -> Self {
        Scan {
            rules,
            hits: InputHits::default(),
            incidents: incidents::Collector::default(),
        }
    }

    fn source(&mut self, id: usize, reader: impl Read) -> std::io::Result<u64> {
        input::read_chunks(id, reader, input::CHUNK_SIZE, |chunk| {
            let index = LineIndex::new(&chunk);
            let events = parse::parse_chunk(&chunk);
            let finished = incidents::build(&chunk, events, &index, &self.rules.providers);
            self.incidents.extend(finished);
            self.rules.scanner().scan(&chunk, &index, &mut self.hits);
        })
    }

    fn finish(self) -> Analysis {
        let rules = self.rules;
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
        }
    }
}
