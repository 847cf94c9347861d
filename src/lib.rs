//! faultline explains, offline, why an API call failed.
//!
//! The pipeline, one module per stage, data flowing one way:
//! [`input`] → [`parse`] → [`incidents`] → [`facts`] → [`rules`] → [`rank`] → [`report`];
//! [`outcome`] turns the analysis into the exit status.

mod byte_positions;
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
mod shared_walk;
#[cfg(test)]
mod test_corpus;

use incidents::Incident;
use input::{Chunk, InputProblem, LineIndex, SourceId, SourceRef};
use rank::Diagnosis;
use rules::RuleSet;
use rules::scan::{InputFacts, InputHits};
use shared_walk::{SharedWalk, Wanted};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, OnceLock, mpsc};

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
    /// Lines longer than [`input::MAX_LINE`], read only up to it.
    pub long_lines: Vec<input::LongLine>,
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
/// small ones) are scanned in parallel, a bounded number in flight, and
/// their results folded in input order, so the report is the same whatever
/// the number of threads. Unreadable sources become problems and the rest
/// still run. Files are read on a thread of their own beside the scan's
/// (see [`analyze_streaming`]).
pub fn analyze_with(sources: &[SourceRef], rules: &RuleSet, opts: ScanOptions) -> Analysis {
    analyze_streaming(sources, rules, opts, &Watch::NONE, None).0
}

/// Notes what reading one source gave: its size, or a problem (the run
/// goes on with the other sources).
fn record_read(
    name: String,
    read: std::io::Result<u64>,
    infos: &mut Vec<SourceInfo>,
    problems: &mut Vec<InputProblem>,
) {
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(e) => {
            problems.push(InputProblem {
                name: name.clone(),
                message: e.to_string(),
            });
            0
        }
    };
    infos.push(SourceInfo { name, bytes });
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
    let mut long = Vec::new();
    let bytes = std::thread::scope(|s| {
        let mut workers = Workers::in_scope(s);
        let bytes = input::read_chunks_capped(
            0,
            text.as_bytes(),
            opts.chunk_size,
            |c| scan.push(c, &mut workers),
            |l| long.push(l),
        );
        scan.source_done(0);
        scan.drain(&mut workers);
        bytes
    });
    scan.long_lines = long;
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
/// failures in it. Failures past both are counted only, unless a failure
/// kept before them has their key: those still go over to fold into it.
/// 640 KiB, not the chunk's size: a chunk of distinct failures then hands
/// over enough of them in full to reach the run's cap of listed failures
/// on its own (at 512 KiB one chunk stopped at 483 of the 500, so a small
/// input listed fewer than a big one); the chunks themselves are 512 KiB.
const CHUNK_BUDGET: usize = 640 << 10;
const CHUNK_FULL_BYTES: usize = CHUNK_BUDGET;
const CHUNK_MAX_LIGHT: usize = CHUNK_BUDGET >> 9;

/// Lines (and at most bytes) of the text before a chunk that its scan may
/// look back at: a timestamp or token logged just before an incident.
const CONTEXT_LINES: usize = 64;
const CONTEXT_BYTES: usize = 16 << 10;

/// The longest tail a seam carries into the next chunk's scan, and how far
/// into that chunk the rescan looks for one of its restart points. Past
/// either (a stretch with no restart point: a request that waits for its
/// outcome keeps a draft open for hundreds of lines, so in a busy log they
/// are rare) the seam is left as it was read — each side finished on its
/// own — so the cost of stitching stays a fraction of a chunk.
const MAX_CARRY: usize = 256 << 10;
const RESCAN_WINDOW: usize = 256 << 10;

/// Chunks between two places in the stitching where the run's state is
/// taken for later chunks to be scanned against (see [`Scan::against`]). A
/// constant, not the number of threads (as it once was): what a chunk is
/// scanned against, and so which failures a run past its caps lists, must
/// not depend on it. A chunk is scanned against the state one such stretch
/// before its own: waiting for it would let at most twice this many be
/// scanned at once, so once the state has settled a chunk is scanned ahead
/// of its place and checked when stitched (see [`Scan::ahead_of_place`]).
/// Places further apart put more chunks against a run's start, which all
/// hand over full incidents: at 4 or 8 the distinct-failures log's peak RSS
/// rose from 62 to 68–70 MiB (measured), past the 64 MiB the run is held to.
const SNAPSHOT_EVERY: usize = 2;

/// How far apart a scan makes restart points at least, letting go of
/// the last failure it holds for folding where that is all that keeps it
/// from one ([`incidents::Builder::seal`]): in a log of failures back to
/// back nothing else would, and a seam with no restart near it is read as
/// two, cutting the failure across it in halves. The closer they are, the
/// less a seam's rescan reads on either side of it: 8 KiB rather than 64
/// took 6 % off the instructions of a 16 MiB mixed log, at no cost to a
/// single chunk.
const SEAL_EVERY: usize = 8 << 10;

/// Reduced failures (see [`rank::reduce`]) a chunk may hand over, at most
/// (about, in bytes); past them, failures go over as [`incidents::Light`].
const CHUNK_REDUCED_BYTES: usize = CHUNK_BUDGET >> 2;

/// What a chunk needs to reduce failures past its budget of full ones: the
/// input-wide facts seen before its group (see [`Scan::against`]), and how many reduced failures
/// the run may still keep.
struct Overflow {
    input: InputFacts,
    room: usize,
    /// The run's kept failures: a repeat of one past the chunk's budgets
    /// goes over light, to fold into it, never summed up.
    kept: Arc<incidents::KeptKeys>,
}

/// One finished exchange of a chunk, as it is handed over.
#[derive(Debug)]
enum Item {
    Full(incidents::Finished),
    /// Boxed: nearly three times the size of a success, and rare (past a
    /// chunk's budgets), it made every item that big to push and to move.
    Light(Box<incidents::Light>),
    /// Failures past the chunk's budgets, diagnosed and summed up.
    Counted(incidents::NotKept),
}

/// A place where a scan could have begun and given the same exchanges
/// from there on: parsing starts a line in `resume` (with no block open),
/// and the builder holds at most one draft, of events from that line on.
#[derive(Debug, Clone)]
struct Restart {
    /// Absolute offset of the line.
    at: usize,
    /// How many items the scan had handed out when it got there: those
    /// are final, the rest depend only on the text from `at` on and on
    /// `resume`.
    items: usize,
    resume: parse::Resume,
}

/// What scanning a text gives: its finished exchanges, in input order,
/// and its restart points, in order.
#[derive(Debug)]
struct Scanned {
    items: Vec<Item>,
    restarts: Vec<Restart>,
    /// The restart (in `restarts`) at which the scan stopped, having met a
    /// place it was told to stop at.
    stopped: bool,
    /// A failure came past the full budget: the items depend on the
    /// overflow too (see [`Against::gives_the_same`]).
    used_overflow: bool,
    /// The line the tail from the last restart begins at, context included
    /// (see [`Piece::tail`]), found in the scan's line index.
    tail_line: Option<usize>,
}

/// A text to scan: a chunk whose first `from` bytes are only context,
/// read from `from` on beginning in `resume`.
struct Piece {
    chunk: Chunk,
    from: usize,
    resume: parse::Resume,
}

/// Its text's buffer is read into again (see [`input::give_back`]).
impl Drop for Piece {
    fn drop(&mut self) {
        input::give_back(std::mem::take(&mut self.chunk.text));
    }
}

impl Piece {
    fn line_of_from(&self) -> usize {
        memchr::memchr_iter(b'\n', &self.chunk.text.as_bytes()[..self.from]).count()
    }

    /// The text from a restart on, with the context before it. `known`:
    /// the line it then begins at, when `restart` is the last of a scan of
    /// this piece ([`Scanned::tail_line`]); counting the line feeds before
    /// it went over most of every chunk on the stitching thread.
    fn tail(&self, restart: &Restart, known: Option<usize>) -> Piece {
        let rel = restart.at - self.chunk.offset;
        let start = context_start(&self.chunk.text, rel);
        let first_line = known.unwrap_or_else(|| {
            let skipped = &self.chunk.text[..start];
            self.chunk.first_line + memchr::memchr_iter(b'\n', skipped.as_bytes()).count()
        });
        Piece {
            chunk: Chunk {
                source: self.chunk.source,
                offset: self.chunk.offset + start,
                first_line,
                text: self.chunk.text[start..].to_string(),
            },
            from: rel - start,
            resume: restart.resume.clone(),
        }
    }

    /// This piece followed by the next chunk of the same source.
    fn joined(mut self, next: &str) -> Piece {
        self.chunk.text.push_str(next);
        self
    }

    /// [`Piece::joined`], keeping this piece.
    fn joined_copy(&self, next: &str) -> Piece {
        let mut text = String::with_capacity(self.chunk.text.len() + next.len());
        text.push_str(&self.chunk.text);
        text.push_str(next);
        Piece {
            chunk: Chunk { text, ..self.chunk },
            from: self.from,
            resume: self.resume.clone(),
        }
    }
}

/// Where the context before relative offset `rel` (a line start) begins.
fn context_start(text: &str, rel: usize) -> usize {
    let bytes = &text.as_bytes()[..rel];
    let floor = rel.saturating_sub(CONTEXT_BYTES);
    let mut start = rel;
    for _ in 0..CONTEXT_LINES {
        match memchr::memrchr(b'\n', &bytes[..start.saturating_sub(1)]) {
            Some(p) if p + 1 >= floor => start = p + 1,
            _ => {
                if start > 0 && floor == 0 {
                    start = 0;
                }
                break;
            }
        }
    }
    // Keep a char boundary (a line start always is one).
    start
}

/// The fold keys of the failures among `items` handed over in full.
fn full_keys(items: &[Item]) -> incidents::KeptKeys {
    (items.iter())
        .filter_map(|item| match item {
            Item::Full(incidents::Finished::Failure(inc)) => Some(incidents::fold_key(inc)),
            _ => None,
        })
        .collect()
}

/// Scans `piece` from its `from` on. Unless `finish`, exchanges still open
/// at its end are not handed out (the next chunk's scan takes them up from
/// the last restart). With `stop_at` (restarts in order), the scan stops
/// at the first restart it finds that is one of them: the same place in
/// the same state.
///
/// `full_budget`: bytes of full incidents it may hand over (0 once the
/// run's collector is full). Past it, each failure is reduced to its report
/// form as it completes (diagnosed, then stripped); past the room for
/// those, it goes over as its fold key and first diagnosis, and past that
/// it is summed up.
///
/// A scan first seals drafts kept open only for a later line with their
/// correlation id where it needs a restart; if such a line comes after
/// all, the seal changed what the scan gives, and it is done again
/// sealing only drafts whose ids are not written ahead, then (an id
/// written in another form) sealing none.
fn scan_piece(
    piece: &Piece,
    rules: &RuleSet,
    finish: bool,
    stop_at: &[Restart],
    full_budget: usize,
    overflow: &Overflow,
    walk: Option<&mut parse::TriggerWalk>,
) -> Scanned {
    let index = LineIndex::new(&piece.chunk);
    let with = ScanWith {
        rules,
        index: &index,
        finish,
        stop_at,
        full_budget,
        overflow,
    };
    scan_piece_with(piece, &with, walk)
}

/// What [`scan_piece`] scans a piece with, the same at each try.
struct ScanWith<'a> {
    rules: &'a RuleSet,
    /// The piece's.
    index: &'a LineIndex,
    finish: bool,
    stop_at: &'a [Restart],
    full_budget: usize,
    overflow: &'a Overflow,
}

/// [`scan_piece`] with the piece's line index built (the input-wide scan
/// of a big piece reads it too).
fn scan_piece_with(
    piece: &Piece,
    with: &ScanWith,
    mut walk: Option<&mut parse::TriggerWalk>,
) -> Scanned {
    use incidents::SealTied;
    for seal_tied in [SealTied::Always, SealTied::IdsNotAhead] {
        let (scanned, spoiled) = scan_piece_sealing(piece, with, seal_tied, walk.as_deref_mut());
        if !spoiled {
            return scanned;
        }
    }
    scan_piece_sealing(piece, with, SealTied::Never, walk).0
}

/// [`scan_piece`], sealing tied drafts as told, and whether a tied draft
/// it sealed was joined later (never with [`incidents::SealTied::Never`]).
fn scan_piece_sealing(
    piece: &Piece,
    with: &ScanWith,
    seal_tied: incidents::SealTied,
    walk: Option<&mut parse::TriggerWalk>,
) -> (Scanned, bool) {
    let &ScanWith {
        rules,
        index,
        finish,
        stop_at,
        full_budget,
        overflow,
    } = with;
    let chunk = &piece.chunk;
    let mut items = Vec::new();
    let mut restarts: Vec<Restart> = Vec::new();
    let (mut full_bytes, mut lights) = (0usize, 0usize);
    let (mut reduced, mut reduced_bytes) = (0usize, 0usize);
    let used_overflow = std::cell::Cell::new(false);
    // The keys of the failures handed over in full, once past the budget
    // of light ones.
    let mut kept_here: Option<incidents::KeptKeys> = None;
    let mut take = |f: incidents::Finished, items: &mut Vec<Item>| match f {
        incidents::Finished::Failure(inc) if full_bytes >= full_budget => {
            used_overflow.set(true);
            let Some(inc) = rank::reduce(*inc, &overflow.input, rules) else {
                return;
            };
            if reduced < overflow.room && reduced_bytes < CHUNK_REDUCED_BYTES {
                reduced += 1;
                reduced_bytes += incidents::incident_size(&inc)
                    + inc.diagnosed.as_deref().map_or(0, rank::diagnoses_size);
                items.push(Item::Full(incidents::Finished::Failure(Box::new(inc))));
            } else if lights < CHUNK_MAX_LIGHT || {
                // A repeat of a failure kept before the chunk, or handed
                // over in full in it: it folds into that one.
                let key = incidents::fold_key(&inc);
                let here = kept_here.get_or_insert_with(|| full_keys(items));
                overflow.kept.contains(&key) || here.contains(&key)
            } {
                lights += 1;
                items.push(Item::Light(Box::new(incidents::Light::of(&inc))));
            } else {
                let top = incidents::Top::of(&inc);
                let n = 1 + inc.repeat_count;
                let headline = || inc.headline();
                match items.last_mut() {
                    Some(Item::Counted(c)) => c.add(top.as_ref(), n, inc.loc, headline),
                    _ => {
                        let mut c = incidents::NotKept::default();
                        c.add(top.as_ref(), n, inc.loc, headline);
                        items.push(Item::Counted(c));
                    }
                }
            }
        }
        incidents::Finished::Failure(inc) => {
            full_bytes += incidents::incident_size(&inc);
            items.push(Item::Full(incidents::Finished::Failure(inc)));
        }
        success => items.push(Item::Full(success)),
    };
    let mut builder =
        incidents::Builder::new(chunk, index, &rules.providers).sealing_tied(seal_tied);
    let mut out = Vec::new();
    // The line last marked fresh, while its restart is undecided.
    let mut fresh: Option<(usize, parse::Resume)> = None;
    let stopped = std::cell::Cell::new(false);
    let wanted = |at: usize, resume: &parse::Resume| {
        stop_at
            .binary_search_by_key(&at, |r| r.at)
            .is_ok_and(|k| stop_at[k].resume == *resume)
    };
    let record =
        |at: usize, resume: parse::Resume, items: &mut Vec<Item>, restarts: &mut Vec<Restart>| {
            let stop = wanted(at, &resume);
            restarts.push(Restart {
                at,
                items: items.len(),
                resume,
            });
            // A run of counted failures never spans a restart, so a scan can
            // be cut at one by item count.
            if let Some(Item::Counted(_)) = items.last() {
                items.push(Item::Counted(incidents::NotKept::default()));
            }
            stop
        };
    let from_line = piece.line_of_from();
    let from = chunk.offset + piece.from;
    // Whether the scan needs more lines: until it stops at a restart, and
    // past it while a line may still carry the id of a tied draft sealed
    // before it (unless one did: the scan is spoiled and done again).
    let go_on = |stop: bool, builder: &incidents::Builder| {
        stopped.set(stopped.get() | stop);
        if stopped.get() && (!builder.watching() || builder.spoiled()) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let mut run = |p: parse::Parsed| -> ControlFlow<()> {
        if stopped.get() {
            if let parse::Parsed::Event(event) = p
                && builder.watching()
            {
                builder.watch(&event);
            }
            return go_on(false, &builder);
        }
        match p {
            parse::Parsed::Fresh(at, resume) => {
                fresh = None;
                let want = wanted(at, &resume);
                if settles(at, want, &mut builder, &mut out, &restarts, from) {
                    for f in out.drain(..) {
                        take(f, &mut items);
                    }
                    let stop = record(at, resume, &mut items, &mut restarts);
                    return go_on(stop, &builder);
                }
                fresh = Some((at, resume));
            }
            parse::Parsed::Event(event) => {
                builder.push(event, &mut out);
                for f in out.drain(..) {
                    take(f, &mut items);
                }
                if let Some((at, resume)) = fresh.take_if(|(at, resume)| {
                    let want = wanted(*at, resume);
                    settles(*at, want, &mut builder, &mut out, &restarts, from)
                }) {
                    for f in out.drain(..) {
                        take(f, &mut items);
                    }
                    let stop = record(at, resume, &mut items, &mut restarts);
                    return go_on(stop, &builder);
                }
            }
        }
        ControlFlow::Continue(())
    };
    let words = parse::provider_words::for_providers(&rules.providers);
    let ties = Some(rules.providers.record_ties());
    parse::parse_chunk_walked(
        chunk,
        from_line,
        &piece.resume,
        &words,
        walk,
        ties,
        &mut run,
    );
    let stopped = stopped.get();
    if builder.spoiled() {
        return (
            Scanned {
                items: Vec::new(),
                restarts: Vec::new(),
                stopped,
                used_overflow: used_overflow.get(),
                tail_line: None,
            },
            true,
        );
    }
    if finish && !stopped {
        builder.finish(&mut out);
        for f in out.drain(..) {
            take(f, &mut items);
        }
    }
    // Found here, in this piece's index, rather than by counting the line
    // feeds before it when the tail is carried.
    let tail_line = restarts.last().map(|r| {
        let start = context_start(&chunk.text, r.at - chunk.offset);
        index.position(chunk.offset + start).0
    });
    let scanned = Scanned {
        items,
        restarts,
        stopped,
        used_overflow: used_overflow.get(),
        tail_line,
    };
    (scanned, false)
}

/// Whether a scan may restart at `at`: the builder is settled there, or
/// can be sealed there (its finished exchanges going to `out`) and should
/// be — a restart the stitching looks for (`wanted`), or none for
/// [`SEAL_EVERY`] bytes since the last one (`restarts`, else the scan's
/// start `from`): failures back to back hold the builder unsettled.
fn settles(
    at: usize,
    wanted: bool,
    builder: &mut incidents::Builder,
    out: &mut Vec<incidents::Finished>,
    restarts: &[Restart],
    from: usize,
) -> bool {
    if builder.settled_since(at) {
        return true;
    }
    let last = restarts.last().map_or(from, |r| r.at);
    if !builder.can_seal(at) || (at < last + SEAL_EVERY && !wanted) {
        return false;
    }
    builder.seal(at, out);
    true
}

/// Input-wide pattern hits of one chunk.
fn scan_hits(chunk: &Chunk, rules: &RuleSet) -> InputHits {
    let index = LineIndex::new(chunk);
    let mut hits = InputHits::default();
    rules.scanner().scan(chunk, &index, &mut hits);
    hits
}

/// A lone chunk from this size on has its input-wide scan run beside its
/// parse (see [`scan_chunk`]).
const ALONGSIDE_FROM: usize = 64 << 10;

/// A piece from this size on has its text walked once for the parse and
/// the input-wide scan (see [`shared_walk`]): the size from which each
/// would walk a DFA of its own.
const WALK_ONCE_FROM: usize = 64 << 10;

/// The shared walk's lists: the parse prefilter's triggers, then each
/// input-wide scan group's literals.
const PARSE_LIST: usize = 0;

/// The shared walk of a run's pieces, built at its first big one.
type SharedWalkOnce = Arc<OnceLock<Option<SharedWalk>>>;

/// One DFA over the parse prefilter's triggers and the input-wide scan's
/// literals; `None` when the prefilter searches for none.
fn shared_walk_of(rules: &RuleSet) -> Option<SharedWalk> {
    let words = parse::provider_words::for_providers(&rules.providers);
    let triggers = words.triggers()?;
    // The input-wide scan's literals are whole, as the parse triggers: the
    // walk's table holds only their first bytes (see `shared_walk`), and
    // a pattern is triggered only where all of one of its literals is.
    let scanner = rules.scanner();
    let mut lists = vec![triggers];
    lists.extend(scanner.walked_literals());
    SharedWalk::new(&lists)
}

/// The parse's share of a shared walk, for a text no input-wide scan is
/// wanted of (a seam's rescan, a carried tail).
fn parse_walk(shared: &SharedWalk) -> impl FnMut(&str, &mut dyn FnMut(usize, usize)) + '_ {
    move |text, found| {
        shared.find(text.as_bytes(), |list, id, start| {
            if list == PARSE_LIST {
                found(id, start);
                Wanted::More
            } else {
                Wanted::NoMoreOfThis
            }
        })
    }
}

/// A big piece scanned with the input-wide scan of its own text (after
/// the context), its text walked once for both (see [`shared_walk`]).
fn scan_walking_once(
    piece: &Piece,
    rules: &RuleSet,
    shared: &SharedWalk,
    full_budget: usize,
    overflow: &Overflow,
) -> (Scanned, InputHits) {
    let scanner = rules.scanner();
    let mut hits = InputHits::default();
    let from = piece.from;
    let mut walked = Some(scanner.walk(piece.chunk.text.len() - from, &hits));
    let mut taken = None;
    // The piece's text, from the parse: the input-wide scan takes the
    // first walk's matches in its own text (a scan done again walks it
    // again).
    let mut walk = |text: &str, parse: &mut dyn FnMut(usize, usize)| {
        debug_assert_eq!(text.len(), piece.chunk.text.len());
        let Some(mut scan) = walked.take() else {
            return parse_walk(shared)(text, parse);
        };
        shared.find(text.as_bytes(), |list, id, start| {
            if list == PARSE_LIST {
                parse(id, start);
                Wanted::More
            } else if start >= from {
                scan.found(list - 1, id, start - from)
            } else {
                Wanted::More
            }
        });
        taken = Some(scan);
    };
    let index = LineIndex::new(&piece.chunk);
    let with = ScanWith {
        rules,
        index: &index,
        finish: true,
        stop_at: &[],
        full_budget,
        overflow,
    };
    let scanned = scan_piece_with(piece, &with, Some(&mut walk));
    // Not walked (a HAR document is not parsed by lines): the scan
    // searches on its own.
    let walked = taken.unwrap_or_else(|| scanner.walk(0, &hits));
    scanner.scan_walked(&piece.chunk, from, &index, &mut hits, walked);
    (scanned, hits)
}

/// The piece a chunk is scanned as: the chunk itself, or its text after the
/// carried context; then the chunk is given back too, for its own scan.
fn piece_of(context: Option<Chunk>, own: Chunk) -> (Piece, Option<Chunk>) {
    match context {
        Some(mut c) => {
            let from = c.text.len();
            c.text.reserve_exact(own.text.len());
            c.text.push_str(&own.text);
            let piece = Piece {
                chunk: c,
                from,
                resume: parse::Resume::default(),
            };
            (piece, Some(own))
        }
        None => (piece_in_place(None, own), None),
    }
}

/// [`piece_of`] when the chunk is not needed apart: the context goes in
/// front of the chunk's text in its own buffer, which the reader leaves
/// room in (see `input::read_chunks`). A new buffer of a chunk's size is
/// mapped fresh and faulted in page by page: copying the chunk after the
/// context was a quarter of a big log's page faults.
fn piece_in_place(context: Option<Chunk>, mut own: Chunk) -> Piece {
    let Some(c) = context else {
        return Piece {
            chunk: own,
            from: 0,
            resume: parse::Resume::default(),
        };
    };
    own.text.reserve_exact(c.text.len());
    own.text.insert_str(0, &c.text);
    Piece {
        chunk: Chunk {
            text: own.text,
            ..c
        },
        from: c.text.len(),
        resume: parse::Resume::default(),
    }
}

/// One chunk scanned on its own, in parallel with others: its exchanges
/// hold from its first restart on whenever the scan of the text before it
/// reaches that restart in the same state.
struct ChunkResult {
    /// The chunk with the context before it.
    piece: Piece,
    scanned: Scanned,
    hits: InputHits,
}

/// What the chunks of a group are scanned against (see [`Scan::against`]):
/// the bytes of full incidents each may hand over, and how the rest are
/// reduced.
#[derive(Clone)]
struct Against {
    budget: usize,
    overflow: Arc<Overflow>,
    /// How many input-wide hits `overflow.input` was made of: the run's
    /// hits are only ever appended to, so two states with as many hold the
    /// same ones.
    hits_seen: usize,
    /// The run's shared walk (built at its first big piece).
    walk: SharedWalkOnce,
}

impl Against {
    /// Whether a scan against `self` gave what one against `canonical`
    /// would have: the same budget, and (if a failure came past it, see
    /// [`Scanned::used_overflow`]) the same overflow. The run's state only
    /// grows (full once, room only shrinks, kept failures and hits only
    /// appended), so equal counts are equal states.
    fn gives_the_same(&self, canonical: &Against, used_overflow: bool) -> bool {
        self.budget == canonical.budget
            && (!used_overflow
                || (self.overflow.room == canonical.overflow.room
                    && self.overflow.kept.len() == canonical.overflow.kept.len()
                    && self.hits_seen == canonical.hits_seen))
    }
}

/// A chunk to scan, with the context before it.
struct Job {
    seq: usize,
    context: Option<Chunk>,
    own: Chunk,
}

/// Scans a chunk: its input-wide hits, then its exchanges. `alongside`: a
/// chunk scanned while no other is would leave the other cores idle, so
/// its input-wide scan runs on a thread of its own beside the parse, when
/// it is big enough to pay for starting one (a paste is not).
fn scan_chunk(job: Job, against: &Against, rules: &RuleSet, alongside: bool) -> ChunkResult {
    let Job { context, own, .. } = job;
    let scan = |piece: &Piece| {
        scan_piece(
            piece,
            rules,
            true,
            &[],
            against.budget,
            &against.overflow,
            None,
        )
    };
    if alongside && own.text.len() >= ALONGSIDE_FROM {
        let (piece, own) = piece_of(context, own);
        let (hits, scanned) = std::thread::scope(|s| {
            let hits = s.spawn(|| {
                // First the automata the parse needs at its first
                // lines, while it reads the chunk's triggers.
                parse::warm_up();
                scan_hits(own.as_ref().unwrap_or(&piece.chunk), rules)
            });
            let scanned = scan(&piece);
            let hits = hits
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (hits, scanned)
        });
        return ChunkResult {
            piece,
            scanned,
            hits,
        };
    }
    // A small piece after a big one goes through the walk the big one
    // built: the parse's literal set would build its own automaton (10 M
    // instructions) for the same matches.
    let context_len = context.as_ref().map_or(0, |c| c.text.len());
    let big = context_len + own.text.len() >= WALK_ONCE_FROM;
    let walk = &against.walk;
    if let Some(shared) = walk
        .get()
        .or_else(|| big.then(|| walk.get_or_init(|| shared_walk_of(rules))))
        .and_then(Option::as_ref)
    {
        let piece = piece_in_place(context, own);
        let (scanned, hits) =
            scan_walking_once(&piece, rules, shared, against.budget, &against.overflow);
        return ChunkResult {
            piece,
            scanned,
            hits,
        };
    }
    let hits = scan_hits(&own, rules);
    // Held once: the chunk given back goes at once, as the piece
    // has its text now.
    let piece = piece_in_place(context, own);
    let scanned = scan(&piece);
    ChunkResult {
        piece,
        scanned,
        hits,
    }
}

/// What a worker hands back: a chunk's scan (by number), or the panic
/// that ended it, to be raised on the thread that stitches.
type Done = (usize, std::thread::Result<ChunkResult>);

/// Threads that scan chunks, each taking the next one as soon as it is
/// free, so no core waits for another's chunk; started in a scope of the
/// caller's when a second chunk comes (a paste starts none). Dropping it
/// (at the scope's end, or unwinding) ends them, as their queue closes.
struct Workers<'s, 'e> {
    /// None: every chunk is scanned on the thread that pushes it (a caller
    /// that reads on its own, as `--follow`).
    scope: Option<&'s std::thread::Scope<'s, 'e>>,
    started: Option<Started>,
}

struct Started {
    jobs: mpsc::Sender<(Job, Against)>,
    done: mpsc::Receiver<Done>,
}

impl<'s, 'e> Workers<'s, 'e> {
    fn none() -> Self {
        Workers {
            scope: None,
            started: None,
        }
    }

    fn in_scope(scope: &'s std::thread::Scope<'s, 'e>) -> Self {
        Workers {
            scope: Some(scope),
            started: None,
        }
    }

    /// Starts `threads` workers, unless there is no scope or no thread to
    /// be had: then chunks are scanned on the calling thread.
    fn start(&mut self, threads: usize, rules: &'s RuleSet) -> bool {
        let Some(scope) = self.scope else {
            return false;
        };
        let (jobs, queue) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let queue = Arc::new(Mutex::new(queue));
        let mut any = false;
        for i in 0..threads {
            let (queue, done_tx) = (queue.clone(), done_tx.clone());
            any |= std::thread::Builder::new()
                .name(format!("faultline-scan-{i}"))
                .spawn_scoped(scope, move || work_on(rules, &queue, &done_tx))
                .is_ok();
        }
        if any {
            self.started = Some(Started { jobs, done });
        }
        any
    }
}

/// A worker: scans the chunks it takes from `queue` until it closes.
fn work_on(
    rules: &RuleSet,
    queue: &Mutex<mpsc::Receiver<(Job, Against)>>,
    done: &mpsc::Sender<Done>,
) {
    loop {
        // The lock is held while waiting for a job: the other workers
        // wait on it instead, and take the jobs after.
        let job = queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .recv();
        let Ok((job, against)) = job else {
            return;
        };
        let seq = job.seq;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            scan_chunk(job, &against, rules, false)
        }));
        if done.send((seq, result)).is_err() {
            return;
        }
    }
}

/// A chunk pushed and not yet stitched.
struct Slot {
    source: SourceId,
    /// Its scan, once it is back, and what it was scanned against.
    result: Option<ChunkResult>,
    against: Option<Against>,
    /// Scanned ahead of its place (see [`Scan::ahead_of_place`]): the
    /// place whose state it is checked against when it is stitched.
    place: Option<usize>,
    /// What follows it, once known: the next chunk's source, or None (its
    /// source is over, or the run drains). Until then it is not stitched:
    /// a tail of a source's last chunk is finished as it is stitched.
    next: Option<Option<SourceId>>,
}

/// Streaming state of a run: chunks go in, each scanned on its own as soon
/// as a worker is free; incidents and input hits build up in input order,
/// as the scans are stitched on the thread that pushes.
///
/// Seams: each chunk is scanned on its own (in parallel), keeping back the
/// exchanges still open at its end; its tail, from its last restart point,
/// is carried into the next chunk, whose text is scanned again from there
/// until that scan meets one of the restart points the chunk's own scan
/// found: from that point on both scans are in the same state, so the rest
/// of the chunk's own scan holds. An exchange split across chunks is thus
/// read as if the chunks were one, at the cost of re-reading the text from
/// the last restart to the first one after the seam (a few lines in most
/// logs).
///
/// What a chunk's scan depends on besides its text (how many incidents the
/// run still keeps in full, the input facts failures past that are reduced
/// against) is taken at fixed places in the stitching (see
/// [`Scan::against`]), never from how far the stitching got meanwhile: the
/// report does not depend on timing, nor on the number of threads.
struct Scan<'r> {
    rules: &'r RuleSet,
    /// Worker threads asked for (0: one per core).
    threads: usize,
    /// Chunks pushed and not yet stitched, in input order: the first is
    /// chunk number `stitched`.
    in_flight: std::collections::VecDeque<Slot>,
    stitched: usize,
    /// The chunk pushed last, until it is scanned (see [`Scan::push`]).
    held: Option<Job>,
    /// Stitching the last chunks (see [`Scan::drain`]).
    draining: bool,
    /// Chunks from number `epoch` (the last drain) on are scanned at most
    /// `ahead` chunks ahead of the stitching.
    epoch: usize,
    ahead: usize,
    /// The run's state taken at the last two places (chunks stitched,
    /// counted from `epoch`, a multiple of [`SNAPSHOT_EVERY`]) that
    /// chunks not yet scanned are scanned against (see [`Scan::against`]).
    snapshots: std::collections::VecDeque<(usize, Against)>,
    /// The next chunk sent is scanned against the run as it is now: a
    /// last chunk alone after its place (see [`Scan::drain`]).
    against_now: bool,
    /// The last lines of the chunk pushed last: the next chunk's context.
    context: Option<Chunk>,
    /// The text from the last restart point of what was scanned so far.
    carry: Option<Piece>,
    /// Sources read to their end (they are read in order): a tail of one
    /// of them has nothing to be stitched to.
    sources_done: usize,
    hits: InputHits,
    incidents: incidents::Collector<'r>,
    /// Set by [`analyze_streaming`]: hands each chunk's finished incidents on.
    emitter: Option<Emitter<'r>>,
    /// What the chunk being stitched was scanned against: its seam is read
    /// again against the same.
    overflow: Arc<Overflow>,
    long_lines: Vec<input::LongLine>,
    /// Bytes pushed since freed memory was last handed back.
    since_release: usize,
    /// One walk of a big piece's text for its parse and input-wide scan.
    walk: SharedWalkOnce,
    /// The keys of the collector's kept failures, for the chunks' overflow:
    /// taken again only when it kept another.
    kept_keys: Arc<incidents::KeptKeys>,
    /// The run's first source, while it is its only one and short enough
    /// to be read as one statement should nothing in it fail (see
    /// [`parse::statement`]); `Err` once the run is past that.
    statement: Result<Option<Chunk>, ()>,
}

/// Bounds what glibc's allocator keeps of freed memory, before the scan's
/// threads start: one arena per thread and a threshold that rises with the
/// largest buffer freed make a chunk's freed buffers stay resident, which
/// cost a run of a 64 MiB log 15–30 MiB of peak RSS (measured). Buffers of
/// 256 KiB and more are mapped and unmapped on their own instead, and the
/// threads share [`ALLOCATOR_ARENAS`] arenas.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn bound_allocator() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: mallopt only changes allocator parameters; it is called
        // once, before the scan starts threads.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ALLOCATOR_ARENAS);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
        }
    });
}

/// The arenas glibc's allocator may have: one each for the main
/// (stitching) thread, the reader and two workers, the usual count. With
/// two, both workers could land in the main thread's arena and wait on its
/// lock at every allocation: which arena a thread gets depends on the
/// order threads first allocate in, and a thread that ran before the limit
/// was set (the rule index is built beside the scanner) took the second
/// one; a run then took 1.6x as long as the same run before it, with 4x
/// the futex calls. One makes the stitching thread and the workers all
/// wait on it. Four cost about 1 MiB of peak RSS more than two (64 MiB of
/// distinct failures). The binary sets it first thing, before any thread.
pub const ALLOCATOR_ARENAS: i32 = 4;

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn bound_allocator() {}

/// Bytes scanned between two hand-backs of freed memory: a few chunks'
/// buffers, so a follow run fed line by line does not walk the heap at
/// every line. Each hand-back unmaps pages, which flushes the other cores'
/// TLBs (an interrupt to every worker; perf): every 1.5 MiB (two 768 KiB
/// chunks, as they were then) that cost about 3 % of a big log's time;
/// every 4 MiB, 1-2 MiB more peak RSS (measured).
const RELEASE_EVERY: usize = 4 << 20;

/// Gives freed pages in the middle of the heap back to the system (every
/// [`RELEASE_EVERY`] bytes pushed: the buffers of the chunks stitched
/// meanwhile are freed by then); glibc returns only the top of the heap on
/// its own. The built-in pack's pages read meanwhile go too (see
/// [`rules::builtin::drop_resident_pages`]): 1 MiB of the distinct-failures
/// log's peak RSS (63.4 to 62.5 MiB at -j 2, medians of 5).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_freed() {
    // SAFETY: malloc_trim only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
    rules::builtin::drop_resident_pages();
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed() {}

impl<'r> Scan<'r> {
    fn new(rules: &'r RuleSet, threads: usize) -> Self {
        bound_allocator();
        let workers = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        Scan {
            rules,
            threads: workers,
            in_flight: std::collections::VecDeque::new(),
            stitched: 0,
            held: None,
            draining: false,
            epoch: 0,
            ahead: 1,
            snapshots: std::collections::VecDeque::new(),
            against_now: false,
            context: None,
            carry: None,
            sources_done: 0,
            hits: InputHits::default(),
            incidents: incidents::Collector::new(&rules.providers),
            emitter: None,
            overflow: Arc::new(Overflow {
                input: InputFacts::default(),
                room: incidents::MAX_REDUCED,
                kept: Arc::default(),
            }),
            kept_keys: Arc::default(),
            long_lines: Vec::new(),
            since_release: 0,
            walk: SharedWalkOnce::default(),
            statement: Ok(None),
        }
    }

    /// Takes in a chunk. A chunk is scanned when the next one comes (or
    /// the run drains), not at once: by then its source may be known to be
    /// over, and a first chunk to be not alone.
    fn push<'s>(&mut self, chunk: Chunk, workers: &mut Workers<'s, '_>)
    where
        'r: 's,
    {
        if let Some(last) = self.in_flight.back_mut() {
            last.next.get_or_insert(Some(chunk.source));
        }
        // The whole source, however it was cut into chunks (the report must
        // not depend on the chunk size).
        self.statement = match std::mem::replace(&mut self.statement, Err(())) {
            Ok(None)
                if chunk.offset == 0 && chunk.text.len() <= parse::statement::MAX_STATEMENT =>
            {
                Ok(Some(Chunk {
                    text: chunk.text.clone(),
                    ..chunk
                }))
            }
            Ok(Some(mut whole))
                if whole.source == chunk.source
                    && whole.offset + whole.text.len() == chunk.offset
                    && whole.text.len() + chunk.text.len() <= parse::statement::MAX_STATEMENT =>
            {
                whole.text.push_str(&chunk.text);
                Ok(Some(whole))
            }
            _ => Err(()),
        };
        // The context's first line is counted back from the chunk it leads
        // to (a chunk's first line is the one before it plus its line
        // feeds): counting forward over the text before the context went
        // over every byte of every chunk on the stitching thread.
        let context = self
            .context
            .take()
            .filter(|c| c.source == chunk.source && c.offset + c.text.len() == chunk.offset)
            .map(|mut c| {
                let lines = memchr::memchr_iter(b'\n', c.text.as_bytes()).count();
                c.first_line = chunk.first_line.saturating_sub(lines);
                c
            });
        let start = context_start(&chunk.text, chunk.text.len());
        self.context = Some(Chunk {
            source: chunk.source,
            offset: chunk.offset + start,
            // Set when the next chunk comes (above): only it reads this.
            first_line: 0,
            text: chunk.text[start..].to_string(),
        });
        self.since_release += chunk.text.len();
        if self.since_release >= RELEASE_EVERY {
            self.since_release = 0;
            release_freed();
        }
        let seq = self.stitched + self.in_flight.len();
        if seq == 1 && self.threads > 1 && workers.start(self.threads, self.rules) {
            // One chunk for each worker, and one more being stitched. A
            // second more, waiting for a worker, held 0.6 MiB and saved no
            // time (session 44, measured at -j 2).
            self.ahead = self.threads + 1;
        }
        if let Some(job) = self.held.take() {
            self.stitch_ahead_at_start(job.seq, workers);
            self.send(job, workers, false);
        }
        self.in_flight.push_back(Slot {
            source: chunk.source,
            result: None,
            against: None,
            place: None,
            next: None,
        });
        self.held = Some(Job {
            seq,
            context,
            own: chunk,
        });
    }

    /// Before chunk `seq` goes to a worker among the first chunks after a
    /// drain, those scanned against the run as it was at the drain (see
    /// [`Scan::against`]): stitches every chunk before it but the last. At
    /// a run's start nothing is kept yet, so each of them hands over its
    /// full budget of full incidents, and sending them all at once held
    /// them all unstitched: the distinct-failures log's peak RSS (a
    /// start-up high-water mark) rose by 2-3 MiB (measured). What they are
    /// scanned against does not change, so the report does not either;
    /// only these first chunks wait for the stitching.
    fn stitch_ahead_at_start(&mut self, seq: usize, workers: &mut Workers) {
        if workers.started.is_none() || seq - self.epoch >= 2 * SNAPSHOT_EVERY {
            return;
        }
        let ahead = seq.saturating_sub(1).min(self.epoch + SNAPSHOT_EVERY);
        while self.stitched < ahead {
            self.stitch_front(workers);
        }
    }

    /// Has a worker scan `job`, or scans it here when there is none (or
    /// `here`).
    fn send(&mut self, job: Job, workers: &mut Workers, here: bool) {
        // At most `ahead` chunks scanned ahead of the stitching: each
        // holds its text and what its scan found until it is stitched.
        // (Twice the threads, as it was, put 16 ahead at 8 threads once
        // chunks stopped waiting for their place: a 64 MiB log's peak RSS
        // was 70 MiB, against 62 with 10; measured.)
        while job.seq - self.stitched >= self.ahead {
            self.stitch_front(workers);
        }
        let (against, place) = self.against(job.seq, workers);
        let seq = job.seq;
        let slot = &mut self.in_flight[seq - self.stitched];
        slot.against = Some(against.clone());
        slot.place = place;
        let job = match workers.started.as_ref().filter(|_| !here) {
            Some(started) => match started.jobs.send((job, against)) {
                Ok(()) => return,
                // The workers are gone: scan here.
                Err(mpsc::SendError(sent)) => sent,
            },
            None => (job, against),
        };
        let result = scan_chunk(job.0, &job.1, self.rules, self.threads > 1);
        self.in_flight[seq - self.stitched].result = Some(result);
    }

    fn source_done(&mut self, id: SourceId) {
        self.sources_done = self.sources_done.max(id + 1);
        if let Some(last) = self.in_flight.back_mut().filter(|s| s.source <= id) {
            last.next.get_or_insert(None);
        }
    }

    /// What a chunk scanned now may hand over in full (see [`scan_piece`]).
    fn full_budget(&self) -> usize {
        if self.incidents.full() {
            0
        } else {
            CHUNK_FULL_BYTES
        }
    }

    /// What chunk `seq` is scanned against: the run as it was when the
    /// stitching reached the last multiple of [`SNAPSHOT_EVERY`] chunks
    /// (counted from `epoch`, the last drain) before the one `seq` lies
    /// after, or at `epoch`. Always the same place for a chunk, whatever
    /// the number of threads and however far the stitching got meanwhile,
    /// so workers scan while earlier chunks are stitched, and the report
    /// does not depend on either.
    ///
    /// When the stitching has not reached that place yet but the run's
    /// state looks settled, the chunk is scanned now against the latest
    /// state instead, and the place is given too: stitching checks the
    /// scan against the place's state (see [`Scan::confirm`]). Waiting
    /// for the place let at most about `2 * SNAPSHOT_EVERY` chunks be
    /// scanned at once, whatever the number of cores.
    fn against(&mut self, seq: usize, workers: &mut Workers) -> (Against, Option<usize>) {
        if std::mem::take(&mut self.against_now) {
            return (self.snapshot(), None);
        }
        let at = ((seq - self.epoch) / SNAPSHOT_EVERY).saturating_sub(1) * SNAPSHOT_EVERY;
        if self.stitched < self.epoch + at
            && workers.started.is_some()
            && let Some(latest) = self.ahead_of_place()
        {
            return (latest, Some(at));
        }
        while self.stitched < self.epoch + at {
            self.stitch_front(workers);
        }
        if let Some((_, against)) = self.snapshots.iter().find(|(place, _)| *place == at) {
            return (against.clone(), None);
        }
        // The epoch's own place: taken by its first chunk, before any
        // stitching (later places are taken as the stitching passes them).
        let against = self.snapshot();
        self.keep_snapshot(at, against.clone());
        (against, None)
    }

    /// The latest state, for a chunk to be scanned against ahead of its
    /// place, when the last two places' states say it is likely the same
    /// as at its place: the same budget, and while failures are reduced
    /// (no budget) the same room and input-wide hits. In a long log these
    /// settle early; where they keep changing (every failure a new one)
    /// chunks wait for their place, as a scan found different would be
    /// done again on the stitching thread.
    fn ahead_of_place(&self) -> Option<Against> {
        if self.draining || self.snapshots.len() < 2 {
            return None;
        }
        let (older, latest) = (&self.snapshots[0].1, &self.snapshots[1].1);
        let settled = older.budget == latest.budget
            && (latest.budget > 0 || latest.gives_the_same(older, true));
        settled.then(|| latest.clone())
    }

    /// A chunk scanned ahead of its place (against `used`): its scan when
    /// it gave what one against the place's state would have, else that
    /// scan, done here. The place's state is kept until then: the chunk
    /// stitched now lies less than two places after it.
    fn confirm(
        &self,
        mut result: ChunkResult,
        used: Against,
        place: usize,
    ) -> (ChunkResult, Against) {
        let Some((_, canonical)) = self.snapshots.iter().find(|(p, _)| *p == place) else {
            unreachable!("the state at place {place} is kept until its chunks are stitched");
        };
        let same = used.gives_the_same(canonical, result.scanned.used_overflow);
        #[cfg(test)]
        tests::AHEAD.with(|n| {
            let [same_n, again_n] = n.get();
            n.set(if same {
                [same_n + 1, again_n]
            } else {
                [same_n, again_n + 1]
            });
        });
        let again = || self.scan_here(&result.piece, canonical.budget, &canonical.overflow);
        if same {
            // The claim, checked in tests: the scan done again is the same.
            #[cfg(test)]
            assert_eq!(format!("{:?}", again()), format!("{:?}", result.scanned));
            return (result, canonical.clone());
        }
        result.scanned = again();
        (result, canonical.clone())
    }

    /// The run's state as a chunk scanned now would be scanned against.
    fn snapshot(&self) -> Against {
        Against {
            budget: self.full_budget(),
            overflow: Arc::new(self.make_overflow()),
            hits_seen: self.hits.by_pattern.iter().map(Vec::len).sum(),
            walk: self.walk.clone(),
        }
    }

    /// Keeps the state taken at `place`, and the one before it: chunks
    /// not yet scanned need no older one.
    fn keep_snapshot(&mut self, place: usize, against: Against) {
        self.snapshots.push_back((place, against));
        if self.snapshots.len() > 2 {
            self.snapshots.pop_front();
        }
    }

    /// Stitches the first chunk in flight, waiting for its scan, and hands
    /// on what it finished (see [`Scan::drain`]): after every chunk, so a
    /// stream (`--format short`, `jsonl`) lists the same incidents at the
    /// same places whatever the threads, and its last line counts the same
    /// repeats of incidents listed before them (handed on a group of
    /// `threads` chunks at a time, what came after differed by thread).
    fn stitch_front(&mut self, workers: &mut Workers) {
        while self.in_flight.front().is_some_and(|s| s.result.is_none()) {
            let done = workers.started.as_ref().and_then(|s| s.done.recv().ok());
            // Every chunk sent is handed back while the workers live.
            let (seq, result) = done.expect("a scan worker hands back every chunk");
            let result = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            self.in_flight[seq - self.stitched].result = Some(result);
        }
        let Some(Slot {
            source,
            result: Some(result),
            against: Some(against),
            place,
            next,
        }) = self.in_flight.pop_front()
        else {
            return;
        };
        let (result, against) = match place {
            Some(place) => self.confirm(result, against, place),
            None => (result, against),
        };
        self.stitched += 1;
        self.overflow = against.overflow;
        merge_hits(&mut self.hits, result.hits);
        self.stitch(result.piece, result.scanned);
        // The last chunk of a source read to its end: its tail has nothing
        // to be stitched to.
        let next_same = next == Some(Some(source));
        let done = self.sources_done;
        if let Some(c) = self.carry.take_if(|c| !next_same && c.chunk.source < done) {
            self.finish_carry(c);
        }
        if !self.draining || self.in_flight.len() > 1 {
            self.emit_batch();
        }
        let place = self.stitched - self.epoch;
        if place.is_multiple_of(SNAPSHOT_EVERY) {
            let against = self.snapshot();
            self.keep_snapshot(place, against);
        }
    }

    /// Scans and stitches every chunk pushed. A last chunk alone in its
    /// group is scanned against all before it: by a worker, or here with
    /// help when there is none (a small log's only chunk, see [`scan_chunk`]). What the last two
    /// chunks finished is not handed on: a run's end is emitted from its
    /// final analysis, so an input of one or two chunks streams exactly
    /// what the report holds.
    fn drain(&mut self, workers: &mut Workers) {
        if let Some(last) = self.in_flight.back_mut() {
            last.next.get_or_insert(None);
        }
        self.draining = true;
        if let Some(job) = self.held.take() {
            let lone = (job.seq - self.epoch).is_multiple_of(SNAPSHOT_EVERY);
            while lone && self.in_flight.len() > 1 {
                self.stitch_front(workers);
            }
            // Alone after its place: scanned against all before it.
            self.against_now = lone;
            // To a worker, if any, still against all before it: scanned
            // here beside a helper thread (two threads that scanned nothing
            // yet) it raised a run's peak RSS by 2-5 MiB (measured).
            self.send(job, workers, false);
        }
        while !self.in_flight.is_empty() {
            self.stitch_front(workers);
        }
        self.draining = false;
        self.epoch = self.stitched;
        self.snapshots.clear();
    }

    /// Takes in one chunk's own scan, in input order, stitched to the
    /// carried tail of the chunk before it.
    fn stitch(&mut self, piece: Piece, own: Scanned) {
        let own_start = piece.chunk.offset + piece.from;
        let carry = match self.carry.take() {
            Some(c)
                if c.chunk.source == piece.chunk.source
                    && c.chunk.offset + c.chunk.text.len() == own_start =>
            {
                Some(c)
            }
            Some(c) => {
                self.finish_carry(c);
                None
            }
            None => None,
        };
        // Where this chunk's own items become valid: from its start when
        // nothing is carried, else from the restart the rescan met.
        let mut own_from = 0;
        if let Some(carry) = carry {
            let own_text = &piece.chunk.text[piece.from..];
            let window_of = |size: usize| {
                if own_text.len() <= size {
                    own_text.len()
                } else {
                    // A window ends at a line end; one enormous line gives none.
                    own_text[..size].rfind('\n').map_or(0, |p| p + 1)
                }
            };
            let rescan = |joined: &Piece, window: usize| {
                let stops: Vec<Restart> = own
                    .restarts
                    .iter()
                    .take_while(|r| r.at < own_start + window)
                    .cloned()
                    .collect();
                let mut walk = self.walk.get().and_then(Option::as_ref).map(parse_walk);
                scan_piece(
                    joined,
                    self.rules,
                    false,
                    &stops,
                    self.full_budget(),
                    &self.overflow,
                    walk.as_mut().map(|w| w as &mut parse::TriggerWalk),
                )
            };
            // A restart is met within a short window most of the time
            // (a few KiB into the chunk, in a busy log); the rescan parses
            // its whole window, so short ones first.
            let first = [RESCAN_WINDOW / 64, RESCAN_WINDOW / 8, RESCAN_WINDOW / 2]
                .into_iter()
                .map(window_of)
                .filter(|&short| short > 0 && short < own_text.len())
                .find_map(|short| {
                    let joined = carry.joined_copy(&own_text[..short]);
                    let again = rescan(&joined, short);
                    again.stopped.then_some((again, joined, short))
                });
            let (again, joined, window) = first.unwrap_or_else(|| {
                let window = window_of(RESCAN_WINDOW);
                let joined = carry.joined(&own_text[..window]);
                (rescan(&joined, window), joined, window)
            });
            match again.stopped.then(|| again.restarts.last()).flatten() {
                Some(met) => {
                    let mut head = again.items;
                    head.truncate(met.items);
                    self.take(head);
                    own_from = own
                        .restarts
                        .iter()
                        .find(|r| r.at == met.at)
                        .map_or(0, |r| r.items);
                }
                None if window == own_text.len() => {
                    // The whole chunk was read again: carry on from the
                    // rescan's own last restart, as from a chunk's.
                    let end = joined.chunk.offset + joined.chunk.text.len();
                    match again.restarts.last().filter(|r| end - r.at <= MAX_CARRY) {
                        Some(last) => {
                            let mut items = again.items;
                            items.truncate(last.items);
                            self.take(items);
                            self.carry = Some(joined.tail(last, again.tail_line));
                        }
                        None => self.finish_carry(joined),
                    }
                    return;
                }
                None => {
                    // No common restart near the seam: read it as two.
                    let carried = Piece {
                        chunk: Chunk {
                            text: joined.chunk.text[..joined.chunk.text.len() - window].to_string(),
                            ..joined.chunk
                        },
                        from: joined.from,
                        resume: joined.resume.clone(),
                    };
                    self.finish_carry(carried);
                }
            }
        }
        let mut items = own.items;
        let end = piece.chunk.offset + piece.chunk.text.len();
        match own
            .restarts
            .last()
            .filter(|r| end - r.at <= MAX_CARRY && r.items >= own_from)
        {
            Some(last) => {
                items.truncate(last.items);
                self.take(items.split_off(own_from));
                self.carry = Some(piece.tail(last, own.tail_line));
            }
            // No restart in a small chunk read from its start: carry it
            // whole.
            None if own_from == 0 && end - own_start <= MAX_CARRY => {
                self.carry = Some(piece);
            }
            None => {
                self.take(items.split_off(own_from.min(items.len())));
            }
        }
    }

    /// Scans a carried tail to its end: its source is over (or it is too
    /// long to carry further).
    fn finish_carry(&mut self, carry: Piece) {
        let scanned = self.scan_here(&carry, self.full_budget(), &self.overflow);
        self.take(scanned.items);
    }

    /// Scans `piece` to its end on this thread, through the run's shared
    /// walk when it has one.
    fn scan_here(&self, piece: &Piece, budget: usize, overflow: &Overflow) -> Scanned {
        let mut walk = self.walk.get().and_then(Option::as_ref).map(parse_walk);
        scan_piece(
            piece,
            self.rules,
            true,
            &[],
            budget,
            overflow,
            walk.as_mut().map(|w| w as &mut parse::TriggerWalk),
        )
    }

    /// What the chunks of the next batch reduce failures against.
    fn make_overflow(&self) -> Overflow {
        let rules = self.rules;
        Overflow {
            input: InputFacts::new(
                self.hits.clone(),
                &rules.scanner().purposes,
                &rules.providers,
            ),
            room: self.incidents.reduced_room(),
            kept: self.kept_keys.clone(),
        }
    }

    fn take(&mut self, items: Vec<Item>) {
        for item in items {
            match item {
                // A full incident that comes once the collector is full (a
                // batch scanned while it was not) is reduced here.
                Item::Full(incidents::Finished::Failure(inc))
                    if self.incidents.full() && inc.diagnosed.is_none() =>
                {
                    if let Some(inc) = rank::reduce(*inc, &self.overflow.input, self.rules) {
                        let f = incidents::Finished::Failure(Box::new(inc));
                        self.incidents.push(f);
                    }
                }
                Item::Full(f) => self.incidents.push(f),
                Item::Light(l) => self.incidents.push_light(*l),
                Item::Counted(c) => {
                    if c.failures > 0 {
                        self.incidents.count(c)
                    }
                }
            }
        }
        if self.incidents.kept_key_count() != self.kept_keys.len() {
            self.kept_keys = Arc::new(self.incidents.kept_keys());
        }
    }

    fn finish(self) -> Analysis {
        self.finish_parts().0
    }

    /// The analysis, and the emitter of a streaming run: its last batch is
    /// emitted from the final analysis, so an input that fits one batch
    /// streams exactly what the report holds.
    fn finish_parts(mut self) -> (Analysis, Option<Emitter<'r>>) {
        let emitter = self.emitter.take();
        // What is still in flight when no caller drained it (`--follow`).
        self.drain(&mut Workers::none());
        if let Some(c) = self.carry.take() {
            self.finish_carry(c);
        }
        let rules = self.rules;
        let not_kept = self.incidents.not_kept().clone();
        let mut incidents = self.incidents.finish();
        let input = InputFacts::new(self.hits, &self.rules.scanner().purposes, &rules.providers);
        let diagnoses = rank::diagnose(&mut incidents, &input, rules);
        let (mut incidents, mut diagnoses) =
            rank::keep_failures(incidents, diagnoses, &rules.providers);
        // Nothing failed that a report would show (a program error no rule
        // explains is not shown either): a short paste may still state a
        // failure as a whole.
        if incidents.is_empty()
            && diagnoses.is_empty()
            && not_kept.failures == 0
            && let Ok(Some(chunk)) = &self.statement
            && let Some(said) = explained_statement(chunk, &input, rules)
        {
            (incidents, diagnoses) = said;
        }
        let analysis = Analysis {
            sources: Vec::new(),
            incidents,
            diagnoses,
            input,
            problems: Vec::new(),
            not_kept,
            long_lines: self.long_lines,
        };
        (analysis, emitter)
    }
}

/// The failure a short text states as a whole, with its diagnoses, when a
/// rule explains it as an error (see [`parse::statement`]): a run of one
/// short source in which no parser found a failure. A warning is not
/// enough: those rules describe notes a chain of attempts leaves on its
/// way (azure-identity's `EnvironmentCredential authentication
/// unavailable`), which pasted alone do not say that anything failed.
fn explained_statement(
    chunk: &Chunk,
    input: &InputFacts,
    rules: &RuleSet,
) -> Option<(Vec<Incident>, Vec<Diagnosis>)> {
    let event = parse::statement::statement(chunk)?;
    let index = LineIndex::new(chunk);
    let mut builder = incidents::Builder::new(chunk, &index, &rules.providers);
    let mut out = Vec::new();
    builder.push(event, &mut out);
    builder.finish(&mut out);
    let mut said: Vec<Incident> = out
        .into_iter()
        .filter_map(|f| match f {
            incidents::Finished::Failure(inc) => Some(*inc),
            incidents::Finished::Success(_) => None,
        })
        .take(1)
        .collect();
    said.first_mut()?
        .facts
        .push("statement", parse::Value::Str("true".into()), None);
    let diagnoses = rank::diagnose(&mut said, input, rules);
    diagnoses
        .iter()
        .any(|d| d.severity == rules::Severity::Error)
        .then(|| {
            said[0].notes.push(STATEMENT_NOTE.to_string());
            (said, diagnoses)
        })
}

/// How a report tells that an incident is a short text read whole.
const STATEMENT_NOTE: &str = "read as one statement: no request, status line or error line was found in this short text, and a rule's wording matched it";

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

// ---------------------------------------------------------------------------
// Streaming (`--format short|jsonl`, `--follow`): each batch's finished
// incidents are diagnosed and handed to a sink as soon as the batch is
// folded, so the first lines appear before the input is read to its end.

/// Incidents finished in one batch, with their diagnoses, as a partial
/// [`Analysis`]: `analysis.incidents[k]` has the stable id `first_id + k + 1`.
pub struct Batch<'a> {
    pub analysis: &'a Analysis,
    pub first_id: usize,
}

/// What a streaming run learnt after it had handed incidents on.
#[derive(Debug, Clone, Default)]
pub struct StreamTotals {
    /// Incidents handed on.
    pub streamed: usize,
    /// Repeats folded into an incident after it was handed on, and how many
    /// such incidents there were.
    pub repeats_after: usize,
    pub repeated_after: usize,
    /// Incidents handed on as failures that a later success recovered.
    pub recovered_after: usize,
    /// The sink or the caller asked to stop before the input's end.
    pub stopped: bool,
}

/// A streaming run's sink: `Break` stops reading (the reader went away).
pub type Sink<'r> = Box<dyn FnMut(&Batch) -> std::ops::ControlFlow<()> + 'r>;

/// Hands batches on, remembering what it handed on (keyed by where each
/// incident starts) to tell apart, at the end, what the stream has not
/// shown yet and what changed after it was shown.
struct Emitter<'r> {
    /// None: nothing is streamed, only progress counted (human and JSON).
    sink: Option<Sink<'r>>,
    names: Vec<SourceInfo>,
    /// How many of the collector's kept incidents were diagnosed already.
    seen: usize,
    /// Per incident handed on: its repeat count and whether it was
    /// recovered when it was handed on.
    shown: std::collections::HashMap<(usize, usize), (usize, bool)>,
    next_id: usize,
    stop: std::rc::Rc<std::cell::Cell<bool>>,
    /// Distinct failures kept so far, for a progress display.
    kept: std::rc::Rc<std::cell::Cell<usize>>,
}

fn place_key(inc: &Incident) -> (usize, usize) {
    (inc.source, inc.loc.span.start)
}

impl Emitter<'_> {
    fn send(&mut self, analysis: Analysis) {
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        if self.stop.get() || analysis.incidents.is_empty() && analysis.diagnoses.is_empty() {
            return;
        }
        for inc in &analysis.incidents {
            self.shown
                .insert(place_key(inc), (inc.repeat_count, inc.recovered.is_some()));
        }
        let batch = Batch {
            analysis: &analysis,
            first_id: self.next_id,
        };
        self.next_id += analysis.incidents.len();
        if sink(&batch).is_break() {
            self.stop.set(true);
        }
    }

    /// Emits what the final analysis holds that was not shown (with the
    /// notes on the input as a whole), and counts what changed since.
    fn finish(mut self, a: &Analysis) -> StreamTotals {
        let mut totals = StreamTotals {
            stopped: self.stop.get(),
            ..StreamTotals::default()
        };
        // Nothing was handed on, and nothing will be: no copy of the
        // incidents for a sink that is not there.
        if self.sink.is_none() {
            return totals;
        }
        let mut index = vec![None; a.incidents.len()];
        let mut tail = Vec::new();
        for (i, inc) in a.incidents.iter().enumerate() {
            match self.shown.get(&place_key(inc)) {
                None => {
                    index[i] = Some(tail.len());
                    tail.push(inc.clone());
                }
                Some(&(repeats, recovered)) => {
                    if inc.repeat_count > repeats {
                        totals.repeated_after += 1;
                        totals.repeats_after += inc.repeat_count - repeats;
                    }
                    totals.recovered_after += usize::from(inc.recovered.is_some() && !recovered);
                }
            }
        }
        let diagnoses = a
            .diagnoses
            .iter()
            .filter_map(|d| match d.incident {
                None => Some(d.clone()),
                Some(i) => index[i].map(|k| Diagnosis {
                    incident: Some(k),
                    ..d.clone()
                }),
            })
            .collect();
        let part = Analysis {
            sources: a.sources.clone(),
            incidents: tail,
            diagnoses,
            input: InputFacts::default(),
            problems: Vec::new(),
            not_kept: incidents::NotKept::default(),
            long_lines: Vec::new(),
        };
        self.send(part);
        totals.streamed = self.shown.len();
        totals
    }
}

impl Scan<'_> {
    /// Diagnoses the incidents the collector kept since the last batch,
    /// against the input-wide facts seen so far, and hands them on.
    fn emit_batch(&mut self) {
        let Some(em) = self.emitter.as_mut() else {
            return;
        };
        let kept = self.incidents.kept();
        em.kept.set(kept.len());
        if kept.len() <= em.seen || em.stop.get() || em.sink.is_none() {
            return;
        }
        let mut fresh = kept[em.seen..].to_vec();
        em.seen = kept.len();
        for inc in &mut fresh {
            incidents::add_fold_facts(inc);
        }
        let rules = self.rules;
        let input = InputFacts::new(
            self.hits.clone(),
            &rules.scanner().purposes,
            &rules.providers,
        );
        let diagnoses = rank::diagnose(&mut fresh, &input, rules);
        let (fresh, mut diagnoses) = rank::keep_failures(fresh, diagnoses, &rules.providers);
        // Notes on the input as a whole wait for all of it.
        diagnoses.retain(|d| d.incident.is_some());
        em.send(Analysis {
            sources: em.names.clone(),
            incidents: fresh,
            diagnoses,
            input,
            problems: Vec::new(),
            not_kept: incidents::NotKept::default(),
            long_lines: Vec::new(),
        });
    }
}

/// A streaming run fed chunk by chunk: by [`analyze_streaming`], or by a
/// caller that reads on its own (`--follow`, which flushes after a quiet
/// gap so that what was written is reported).
pub struct Feed<'r> {
    scan: Scan<'r>,
    stop: std::rc::Rc<std::cell::Cell<bool>>,
    kept: std::rc::Rc<std::cell::Cell<usize>>,
}

impl<'r> Feed<'r> {
    /// `names`: the sources, as the records will name them; without a
    /// sink nothing is handed on (the run only counts, for progress).
    pub fn new(
        rules: &'r RuleSet,
        opts: ScanOptions,
        names: &[String],
        sink: Option<Sink<'r>>,
    ) -> Self {
        let stop = std::rc::Rc::new(std::cell::Cell::new(false));
        let kept = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut scan = Scan::new(rules, opts.threads);
        scan.emitter = Some(Emitter {
            sink,
            names: names
                .iter()
                .map(|name| SourceInfo {
                    name: name.clone(),
                    bytes: 0,
                })
                .collect(),
            seen: 0,
            shown: Default::default(),
            next_id: 0,
            stop: stop.clone(),
            kept: kept.clone(),
        });
        Feed { scan, stop, kept }
    }

    /// Distinct failures kept so far (as of the last batch).
    pub fn incidents(&self) -> usize {
        self.kept.get()
    }

    pub fn push(&mut self, chunk: Chunk) {
        self.scan.push(chunk, &mut Workers::none());
    }

    /// Scans what was pushed and hands its finished incidents on. A quiet
    /// gap ends what is open: the tail carried for seam stitching is
    /// scanned to its end, so an exchange open there is closed.
    pub fn flush(&mut self) {
        self.scan.drain(&mut Workers::none());
        if let Some(carry) = self.scan.carry.take() {
            self.scan.finish_carry(carry);
        }
        self.scan.emit_batch();
    }

    /// The sink asked to stop (its reader went away).
    pub fn stopped(&self) -> bool {
        self.stop.get()
    }

    /// The final analysis, after handing on what was not shown yet.
    pub fn finish(
        self,
        sources: Vec<SourceInfo>,
        problems: Vec<InputProblem>,
    ) -> (Analysis, StreamTotals) {
        let (mut analysis, emitter) = self.scan.finish_parts();
        analysis.sources = sources;
        analysis.problems = problems;
        let totals = emitter.map(|e| e.finish(&analysis)).unwrap_or_default();
        (analysis, totals)
    }
}

/// What a long run reports back while it reads: whether to stop (Ctrl-C),
/// and progress (bytes read so far, distinct failures kept so far).
pub struct Watch<'a> {
    pub stop: &'a dyn Fn() -> bool,
    pub progress: &'a dyn Fn(u64, usize),
}

impl Watch<'_> {
    pub const NONE: Watch<'static> = Watch {
        stop: &|| false,
        progress: &|_, _| {},
    };
}

/// Reads until told to stop, then reports the end of its input; counts
/// the bytes read for progress.
struct StopReader<'a, R> {
    inner: R,
    stop: &'a dyn Fn() -> bool,
    read: &'a dyn Fn(usize),
}

impl<R: std::io::Read> std::io::Read for StopReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if (self.stop)() {
            return Ok(0);
        }
        match self.inner.read(buf) {
            Ok(n) => {
                (self.read)(n);
                Ok(n)
            }
            // A signal (Ctrl-C) interrupted a blocking read: stop if asked.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted && (self.stop)() => Ok(0),
            r => r,
        }
    }
}

/// [`analyze_with`], handing each batch's finished incidents to `sink` as
/// soon as the batch is folded (in input order, diagnosed against the
/// input-wide facts seen so far), and the rest at the end. Reading stops
/// early when the sink breaks or `watch.stop` returns true (Ctrl-C); the
/// analysis then covers what was read. Without a sink and a watch, it is
/// [`analyze_with`].
pub fn analyze_streaming<'r>(
    sources: &[SourceRef],
    rules: &'r RuleSet,
    opts: ScanOptions,
    watch: &Watch,
    sink: Option<Sink<'r>>,
) -> (Analysis, StreamTotals) {
    let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
    let mut feed = Feed::new(rules, opts, &names, sink);
    let mut read = SourcesRead::default();
    std::thread::scope(|s| {
        let mut workers = Workers::in_scope(s);
        if feed.scan.threads > 1 && sources.iter().all(never_blocks) {
            read_alongside(sources, opts, watch, &mut feed, &mut workers, &mut read);
        } else {
            read_inline(sources, opts, watch, &mut feed, &mut workers, &mut read);
        }
        // While the workers live; the last chunks are emitted from the
        // final analysis.
        feed.scan.drain(&mut workers);
    });
    let (analysis, mut totals) = feed.finish(read.infos, read.problems);
    totals.stopped |= (watch.stop)();
    (analysis, totals)
}

/// What reading the sources gave, source by source.
#[derive(Default)]
struct SourcesRead {
    infos: Vec<SourceInfo>,
    problems: Vec<InputProblem>,
    /// Lines cut short in the source being read.
    long: Vec<input::LongLine>,
}

impl SourcesRead {
    /// One source read (to its end, or until the run was stopped).
    fn done(&mut self, feed: &mut Feed, id: SourceId, name: String, read: std::io::Result<u64>) {
        feed.scan.source_done(id);
        feed.scan.long_lines.append(&mut self.long);
        record_read(name, read, &mut self.infos, &mut self.problems);
    }

    /// A source not read: the run was stopped before it.
    fn skipped(&mut self, name: String) {
        self.infos.push(SourceInfo { name, bytes: 0 });
    }
}

/// Whether reading the source can wait on something outside the run (a
/// terminal, a pipe, a FIFO): Ctrl-C must interrupt such a read, and the
/// signal reaches the main thread, so it is read there. A regular file's
/// read always returns, and a file that cannot be opened fails at once.
fn never_blocks(source: &SourceRef) -> bool {
    match &source.origin {
        input::Origin::Stdin => false,
        input::Origin::File(path) => std::fs::metadata(path).map_or(true, |m| m.is_file()),
    }
}

/// Reads on this thread, between the batches: a paste or a pipe.
fn read_inline<'r: 's, 's>(
    sources: &[SourceRef],
    opts: ScanOptions,
    watch: &Watch,
    feed: &mut Feed<'r>,
    workers: &mut Workers<'s, '_>,
    read: &mut SourcesRead,
) {
    let sink_stop = feed.stop.clone();
    let kept = feed.kept.clone();
    let stopped = || (watch.stop)() || sink_stop.get();
    let total = std::cell::Cell::new(0u64);
    let count = |n: usize| {
        total.set(total.get() + n as u64);
        (watch.progress)(total.get(), kept.get());
    };
    for (id, source) in sources.iter().enumerate() {
        let name = source.name.clone();
        if stopped() {
            read.skipped(name);
            continue;
        }
        let result = read_source(
            source,
            id,
            opts.chunk_size,
            (&stopped, &count),
            |c| feed.scan.push(c, workers),
            |l| read.long.push(l),
        );
        read.done(feed, id, name, result);
    }
}

/// Reads one source into chunks until its end or until `stop` says so,
/// counting the bytes read.
fn read_source(
    source: &SourceRef,
    id: SourceId,
    chunk_size: usize,
    (stop, read): (&dyn Fn() -> bool, &dyn Fn(usize)),
    each: impl FnMut(Chunk),
    long: impl FnMut(input::LongLine),
) -> std::io::Result<u64> {
    input::open(source).and_then(|reader| {
        let reader = StopReader {
            inner: reader,
            stop,
            read,
        };
        input::read_chunks_capped(id, reader, chunk_size, each, long)
    })
}

/// What the reading thread hands over, in input order.
enum Reading {
    Chunk(Chunk),
    Long(input::LongLine),
    /// The source being read is over: what reading it gave.
    Done(std::io::Result<u64>),
    /// The next source is not read: the run was stopped.
    Skipped,
}

/// Chunks read ahead by the reading thread: one waiting while the next is
/// read, so the scan never waits for the disk and memory stays bounded.
const READ_AHEAD: usize = 1;

/// Reads files on a thread of their own, so reading (a tenth of a big
/// log's wall time when done between the batches) overlaps the scan.
/// Chunks come in the order read, so the analysis is the inline one's.
fn read_alongside<'r: 's, 's>(
    sources: &[SourceRef],
    opts: ScanOptions,
    watch: &Watch,
    feed: &mut Feed<'r>,
    workers: &mut Workers<'s, '_>,
    read: &mut SourcesRead,
) {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
    let halt = AtomicBool::new(false);
    let total = AtomicU64::new(0);
    let (tx, rx) = std::sync::mpsc::sync_channel(READ_AHEAD);
    std::thread::scope(|s| {
        let reader = std::thread::Builder::new()
            .name("faultline-read".into())
            .spawn_scoped(s, || {
                read_sources(sources, opts.chunk_size, &halt, &total, tx)
            });
        if reader.is_err() {
            // No thread to be had: read here instead.
            return read_inline(sources, opts, watch, feed, workers, read);
        }
        let mut id = 0;
        for message in rx {
            if (watch.stop)() || feed.stop.get() {
                halt.store(true, Relaxed);
            }
            (watch.progress)(total.load(Relaxed), feed.kept.get());
            match message {
                Reading::Chunk(chunk) => feed.scan.push(chunk, workers),
                Reading::Long(line) => read.long.push(line),
                Reading::Done(result) => {
                    read.done(feed, id, sources[id].name.clone(), result);
                    id += 1;
                }
                Reading::Skipped => {
                    read.skipped(sources[id].name.clone());
                    id += 1;
                }
            }
        }
    });
}

/// The reading thread: every source in turn, until halted (Ctrl-C, or the
/// output's reader went away) or the scan stops taking chunks.
fn read_sources(
    sources: &[SourceRef],
    chunk_size: usize,
    halt: &std::sync::atomic::AtomicBool,
    total: &std::sync::atomic::AtomicU64,
    tx: std::sync::mpsc::SyncSender<Reading>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    let halted = || halt.load(Relaxed);
    let count = |n: usize| {
        total.fetch_add(n as u64, Relaxed);
    };
    for (id, source) in sources.iter().enumerate() {
        if halted() {
            if tx.send(Reading::Skipped).is_err() {
                return;
            }
            continue;
        }
        // A send fails only when the scan is gone (it panicked): reading
        // on would be wasted, so the rest reads as empty.
        let gone = std::cell::Cell::new(false);
        let stop = || halted() || gone.get();
        let result = read_source(
            source,
            id,
            chunk_size,
            (&stop, &count),
            |c| gone.set(gone.get() || tx.send(Reading::Chunk(c)).is_err()),
            |l| gone.set(gone.get() || tx.send(Reading::Long(l)).is_err()),
        );
        if gone.get() || tx.send(Reading::Done(result)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// Chunks scanned ahead of their place on this thread's runs: found
        /// the same as against their place, and done again.
        pub(super) static AHEAD: std::cell::Cell<[usize; 2]> = const { std::cell::Cell::new([0, 0]) };
    }

    fn builtin() -> RuleSet {
        let loaded = rules::load::load(&rules::builtin_sources());
        assert!(loaded.problems.is_empty());
        RuleSet::new(loaded.rules, loaded.providers)
    }

    /// Bursts of distinct failures (the run's state changes under chunks
    /// scanned ahead of their place) between stretches of successes (it
    /// settles: later chunks are scanned ahead).
    fn settling_then_changing() -> String {
        let mut text = String::new();
        let mut failure = 0;
        let mut second = 0;
        let mut line = |text: &mut String, rest: &str| {
            second += 1;
            text.push_str(&format!(
                "2026-11-24 {:02}:{:02}:{:02},118 DEBUG urllib3.connectionpool: https://api.mypurecloud.com:443 {rest}\n",
                second / 3600 % 24,
                second / 60 % 60,
                second % 60
            ));
        };
        // The first burst leaves room for 20 reduced failures; each later
        // one spans several chunks, scanned ahead against the room before
        // it, which its first chunks use up.
        let room_left = 20;
        let first = incidents::MAX_KEPT + incidents::MAX_REDUCED - room_left;
        for burst in [first, 200, 200] {
            for _ in 0..burst {
                failure += 1;
                line(
                    &mut text,
                    &format!("\"POST /api/v2/things/{failure} HTTP/1.1\" 403 253"),
                );
                text.push_str(&format!(
                    "{{\"message\":\"Thing {failure} refused\",\"code\":\"missing.permissions\",\"status\":403}}\n"
                ));
            }
            for page in 0..2500 {
                line(
                    &mut text,
                    &format!("\"GET /api/v2/users?pageNumber={page} HTTP/1.1\" 200 4096"),
                );
            }
        }
        text
    }

    fn json_of(analysis: &Analysis, rules: &RuleSet) -> String {
        report::render_json(&report::ReportCtx::new(
            analysis,
            rules,
            mask::Masker {
                show_secrets: false,
            },
        ))
    }

    /// A chunk scanned ahead of its place is kept when the run's state at
    /// its place would have given the same, and scanned again when not:
    /// either way the report is the one read on one thread.
    #[test]
    fn chunks_scanned_ahead_of_their_place_give_the_report_of_one_thread() {
        let rules = builtin();
        let text = settling_then_changing();
        let analysis = |threads| {
            let opts = ScanOptions {
                threads,
                chunk_size: 8 << 10,
            };
            analyze_text_with("ahead.log", &text, &rules, opts)
        };
        let run = |threads| json_of(&analysis(threads), &rules);
        let first = analysis(1);
        // Past the cap of full incidents: later ones are reduced as they
        // come, against the room and input-wide facts of the run.
        assert!(
            first.incidents.len() > incidents::MAX_KEPT,
            "the cap was not reached"
        );
        let one = json_of(&first, &rules);
        AHEAD.with(|n| n.set([0, 0]));
        for threads in [3, 8] {
            assert!(one == run(threads), "1 thread and {threads} differ");
        }
        let [same, again] = AHEAD.with(|n| n.get());
        assert!(same > 0, "no chunk was scanned ahead of its place");
        assert!(again > 0, "no chunk scanned ahead was done again");
    }
}
