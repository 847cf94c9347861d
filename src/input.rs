//! Stage 1, input: turns paths and stdin into named sources and streams each
//! one as line-aligned text chunks, so no later stage needs a whole file in memory.

use std::fs::File;
use std::io::{self, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};

/// Index of a source in the run, in the order the sources were given.
pub type SourceId = usize;

/// A byte range in the decoded text of one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Where a piece of evidence lives: which source, which bytes, which line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    pub source: SourceId,
    pub span: Span,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based column (in bytes) of `span.start`.
    pub column: usize,
}

/// Something the user asked us to read.
#[derive(Debug, Clone)]
pub enum InputSpec {
    Stdin,
    Path(PathBuf),
}

/// One readable source, found by expanding the user's paths.
#[derive(Debug, Clone)]
pub struct SourceRef {
    /// Display name: the path as the user would recognise it, or `<stdin>`.
    pub name: String,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub enum Origin {
    Stdin,
    File(PathBuf),
}

/// A problem with an input that did not stop the rest of the run.
#[derive(Debug, Clone)]
pub struct InputProblem {
    pub name: String,
    pub message: String,
}

/// Expands files and directories (recursively, sorted for stable output).
/// Unreadable paths become problems; the rest is still returned.
pub fn expand(specs: &[InputSpec]) -> (Vec<SourceRef>, Vec<InputProblem>) {
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for spec in specs {
        match spec {
            InputSpec::Stdin => sources.push(SourceRef {
                name: "<stdin>".into(),
                origin: Origin::Stdin,
            }),
            InputSpec::Path(path) if path.is_dir() => {
                let walker = walkdir::WalkDir::new(path)
                    .follow_links(true)
                    .sort_by_file_name();
                for entry in walker {
                    match entry {
                        Ok(e) if e.file_type().is_file() => {
                            if is_hidden(e.path(), path) {
                                continue;
                            }
                            sources.push(SourceRef {
                                name: display_name(e.path()),
                                origin: Origin::File(e.path().to_path_buf()),
                            });
                        }
                        Ok(_) => {}
                        Err(err) => problems.push(InputProblem {
                            name: err
                                .path()
                                .map(display_name)
                                .unwrap_or_else(|| display_name(path)),
                            message: err.to_string(),
                        }),
                    }
                }
            }
            InputSpec::Path(path) => sources.push(SourceRef {
                name: display_name(path),
                origin: Origin::File(path.clone()),
            }),
        }
    }
    (sources, problems)
}

/// Dot-files inside a directory walk (`.git`, editor swap files) are never logs.
fn is_hidden(path: &Path, root: &Path) -> bool {
    path.strip_prefix(root)
        .map(|rel| {
            rel.components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        })
        .unwrap_or(false)
}

fn display_name(path: &Path) -> String {
    let s = path.to_string_lossy();
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

/// True when stdin is an interactive terminal (nothing was piped in).
pub fn stdin_is_terminal() -> bool {
    io::stdin().is_terminal()
}

/// A line-aligned piece of a source's decoded text.
#[derive(Debug)]
pub struct Chunk {
    pub source: SourceId,
    /// Byte offset of `text` within the source's decoded text.
    pub offset: usize,
    /// 1-based line number of the first line of `text`.
    pub first_line: usize,
    pub text: String,
}

/// Target chunk size. A chunk ends at a blank line when one is near the end,
/// so that multi-line blocks (pretty JSON, tracebacks) are rarely split.
/// 512 KiB: the chunks in flight (read, waiting, scanned, carried) and what
/// their scans found stay inside the memory bound at two threads (a 16 MiB
/// log of distinct failures peaked at 63.3 MiB with 1 MiB chunks, 56.2 with
/// 768 KiB ones; medians of 5, LTO builds; at 848 rules 768 KiB had crept
/// to 63.7 MiB, and 640 KiB gave 61.8, session 44; at 984 rules 640 KiB had
/// crept to 64.6 MiB, and 512 KiB gave 62.4, session 47), and
/// per-chunk costs are still small (the 64 MiB logs within 2 % of their
/// time at 640 KiB; freed memory is handed back every few chunks, see
/// `RELEASE_EVERY` in the library). Which failures a run past its caps
/// lists in full depends on it (not on the number of threads).
pub const CHUNK_SIZE: usize = 512 << 10;
/// Chunk buffers given back once their chunk is scanned (see
/// [`give_back`]), for the next chunks to be read into. A fresh buffer of a
/// chunk's size is faulted in page by page (the analysis hands freed pages
/// back to the system between batches, see `release_freed` in the
/// library): a quarter of a big log's page faults. A batch's chunks are
/// freed just before the next batch is read, so two spares are enough, and
/// they hold no memory the run did not hold anyway.
static SPARE: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
const SPARE_MAX: usize = 2;

/// Hands a scanned chunk's text back for a later chunk's bytes to go in.
/// Only a buffer of about a chunk's size is kept: a whole HAR document's
/// is let go.
pub fn give_back(text: String) {
    let mut bytes = text.into_bytes();
    if !(CHUNK_SIZE..=4 * CHUNK_SIZE).contains(&bytes.capacity()) {
        return;
    }
    bytes.clear();
    if let Ok(mut spare) = SPARE.lock()
        && spare.len() < SPARE_MAX
    {
        spare.push(bytes);
    }
}

/// An empty buffer of at least `len` bytes: a spare one when there is one.
fn chunk_buffer(len: usize) -> Vec<u8> {
    let spare = SPARE.lock().ok().and_then(|mut spare| spare.pop());
    match spare {
        Some(mut bytes) => {
            bytes.reserve_exact(len);
            bytes
        }
        None => Vec::with_capacity(len),
    }
}

/// A line longer than this is cut (at a character boundary): analysis
/// ([`read_chunks_capped`]) reads its first `MAX_LINE` bytes and skips the
/// rest, with a note; [`read_chunks`] (redaction, which must copy every
/// byte) gives the rest as further chunks. Nothing reads more of one line:
/// a JSON body is parsed up to its own cap (1 MiB), so longer lines would
/// only cost memory.
pub const MAX_LINE: usize = 4 << 20;

/// A line longer than [`MAX_LINE`], of which only the first `MAX_LINE`
/// bytes were analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongLine {
    pub source: SourceId,
    /// 1-based line number.
    pub line: usize,
    /// Bytes of the line not read.
    pub skipped: u64,
}

/// Opens a source for reading, transparently decompressing gzip.
pub fn open(source: &SourceRef) -> io::Result<Box<dyn Read>> {
    let raw: Box<dyn Read> = match &source.origin {
        Origin::Stdin => Box::new(io::stdin().lock()),
        Origin::File(path) => Box::new(File::open(path)?),
    };
    decode(raw)
}

/// Decompresses gzip (by its magic bytes), else reads as is. A gzip stream
/// cut short yields its readable prefix, then an error that says so.
pub fn decode<'r>(raw: impl Read + 'r) -> io::Result<Box<dyn Read + 'r>> {
    decode_capped(raw, max_decompressed())
}

/// Decompressed bytes read from one gzip source at most, by default: a
/// gzip bomb (1 KiB that inflates a thousandfold, again and again) must
/// not keep a run going for hours. 4 GiB is far past any log a person
/// saves and compresses, and reading it takes seconds, not hours; memory
/// stays flat either way. `FAULTLINE_MAX_DECOMPRESSED` (bytes, or with a
/// `K`, `M` or `G` suffix) changes it.
pub const MAX_DECOMPRESSED: u64 = 4 << 30;

/// The decompressed-size cap in force: `FAULTLINE_MAX_DECOMPRESSED`, else
/// [`MAX_DECOMPRESSED`] (also when the variable cannot be read as a size).
pub fn max_decompressed() -> u64 {
    std::env::var("FAULTLINE_MAX_DECOMPRESSED")
        .ok()
        .and_then(|v| parse_size(&v))
        .unwrap_or(MAX_DECOMPRESSED)
}

/// `1048576`, `512K`, `64M`, `4G` (powers of 1024).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, shift) = match t.as_bytes().last()?.to_ascii_uppercase() {
        b'K' => (&t[..t.len() - 1], 10),
        b'M' => (&t[..t.len() - 1], 20),
        b'G' => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n: u64 = digits.trim().parse().ok()?;
    n.checked_mul(1 << shift)
}

/// [`decode`] with an explicit cap on decompressed bytes: past it, the
/// text read so far is analysed and the source reports an error that
/// says so.
pub fn decode_capped<'r>(raw: impl Read + 'r, cap: u64) -> io::Result<Box<dyn Read + 'r>> {
    let mut reader = BufReader::new(raw);
    let magic = {
        use std::io::BufRead;
        let buf = reader.fill_buf()?;
        buf.len() >= 2 && buf[0] == 0x1f && buf[1] == 0x8b
    };
    if magic {
        Ok(Box::new(Gzip {
            inner: flate2::read::MultiGzDecoder::new(reader),
            out: 0,
            cap,
        }))
    } else {
        Ok(Box::new(reader))
    }
}

/// A gzip decoder whose errors say what happened and how much was read.
struct Gzip<R: Read> {
    inner: flate2::read::MultiGzDecoder<R>,
    out: u64,
    cap: u64,
}

impl<R: Read> Read for Gzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out >= self.cap {
            // Past the cap: an error unless the stream ends right there.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe) {
                Ok(0) => Ok(0),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "decompressed to more than {} bytes: the first {} were analysed and the rest skipped (a limit against gzip bombs; FAULTLINE_MAX_DECOMPRESSED sets it)",
                        self.cap, self.cap
                    ),
                )),
            };
        }
        let room = (self.cap - self.out).min(buf.len() as u64) as usize;
        match self.inner.read(&mut buf[..room]) {
            Ok(n) => {
                self.out += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) if self.out > 0 => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the gzip data is cut short or damaged after {} decompressed bytes ({e}); the readable part was analysed",
                    self.out
                ),
            )),
            Err(e) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not readable as gzip ({e})"),
            )),
        }
    }
}

/// Turns every carriage return not followed by a line feed into a line
/// feed, in place (same length, so offsets still match the file), until
/// the source's first line feed: a file with CR-only line endings (old
/// Mac, some Windows tools) then reads like LF. Once a LF is seen, a lone
/// CR is a terminal's carriage return (a curl progress meter redrawing its
/// line), not a line break: breaking there would push an exchange's lines
/// apart.
///
/// Streaming: `buf[from..]` is undecided; `seen_lf` carries over between
/// calls. A CR at the very end waits for the next read unless `eof`.
/// Returns the new first undecided index.
fn lone_cr_to_lf(buf: &mut [u8], from: usize, eof: bool, seen_lf: &mut bool) -> usize {
    if *seen_lf {
        return buf.len();
    }
    for i in from..buf.len() {
        match buf[i] {
            b'\n' => {
                *seen_lf = true;
                return buf.len();
            }
            b'\r' => match buf.get(i + 1) {
                None if !eof => return i,
                Some(b'\n') => {}
                _ => buf[i] = b'\n',
            },
            _ => {}
        }
    }
    buf.len()
}

/// Streams `reader` as chunks of at most about `chunk_size` bytes, cut at line
/// boundaries. Invalid UTF-8 is replaced, never an error; lone carriage
/// returns are line breaks. Returns the number of bytes read. A read error
/// (a truncated gzip) comes after the text read before it was given out.
///
/// A source that starts like a HAR document is read whole (up to
/// [`crate::parse::har::MAX_HAR`]) and given as one chunk, because a HAR is
/// one JSON document, parsed as such; a larger HAR is an error that says so.
pub fn read_chunks(
    source: SourceId,
    reader: impl Read,
    chunk_size: usize,
    each: impl FnMut(Chunk),
) -> io::Result<u64> {
    read_lines(source, reader, chunk_size, each, None)
}

/// [`read_chunks`] for analysis: of a line longer than [`MAX_LINE`] only
/// the first `MAX_LINE` bytes are given out (as a chunk whose last line has
/// no line feed); the rest is skipped and reported to `long`, so memory
/// stays bounded whatever the input.
pub fn read_chunks_capped(
    source: SourceId,
    reader: impl Read,
    chunk_size: usize,
    each: impl FnMut(Chunk),
    mut long: impl FnMut(LongLine),
) -> io::Result<u64> {
    read_lines(source, reader, chunk_size, each, Some(&mut long))
}

fn read_lines(
    source: SourceId,
    mut reader: impl Read,
    chunk_size: usize,
    mut each: impl FnMut(Chunk),
    mut long: Option<&mut dyn FnMut(LongLine)>,
) -> io::Result<u64> {
    let mut buf = vec![0u8; 64 << 10];
    // Each chunk's buffer is allocated once at about its final size: grown
    // by doubling, a chunk would hold (and touch) up to twice its text.
    let room = chunk_size.min(CHUNK_SIZE) + buf.len();
    let fresh = |len: usize| chunk_buffer(len.max(room));
    let mut pending: Vec<u8> = fresh(0);
    let mut total: u64 = 0;
    let mut offset = 0usize;
    let mut line = 1usize;
    let mut eof = false;
    let mut sniffed = false;
    // Line-ending state: the first undecided byte of `pending`, and
    // whether a line feed was seen.
    let mut undecided = 0usize;
    let mut seen_lf = false;
    // How much of `pending` is known to hold no line feed, so a huge line
    // is searched once, not once per read.
    let mut no_lf = 0usize;
    // The rest of a line cut at `MAX_LINE` is to be skipped (analysis
    // only), after the bytes of a character cut in two, dropped already.
    let mut skipping: Option<usize> = None;
    while !eof {
        if let Some(dropped) = skipping.take() {
            let (skipped, end_len) = skip_line(&mut reader, &mut buf, &mut pending, seen_lf)?;
            total += skipped + (end_len + pending.len()) as u64;
            if let Some(long) = long.as_mut() {
                long(LongLine {
                    source,
                    line,
                    skipped: skipped + dropped as u64,
                });
            }
            offset += dropped + skipped as usize + end_len;
            if end_len == 0 {
                break;
            }
            line += 1;
            undecided = lone_cr_to_lf(&mut pending, 0, false, &mut seen_lf);
        }
        // Fill up to `chunk_size`; past it only while no line has ended, so a
        // single enormous line (minified JSON) is still kept whole, up to a cap.
        while pending.len() < chunk_size
            || (!has_lf(&pending, &mut no_lf) && pending.len() < MAX_LINE)
        {
            let want = if pending.len() < chunk_size {
                (chunk_size - pending.len()).min(buf.len())
            } else {
                buf.len()
            };
            let n = match reader.read(&mut buf[..want]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Analyse what was readable, then report the error.
                    lone_cr_to_lf(&mut pending, undecided, true, &mut seen_lf);
                    strip_terminal_escapes(&mut pending);
                    if !pending.is_empty() {
                        each(Chunk {
                            source,
                            offset,
                            first_line: line,
                            text: String::from_utf8_lossy(&pending).into_owned(),
                        });
                    }
                    return Err(e);
                }
            };
            if n == 0 {
                eof = true;
                undecided = lone_cr_to_lf(&mut pending, undecided, true, &mut seen_lf);
                break;
            }
            total += n as u64;
            pending.extend_from_slice(&buf[..n]);
            undecided = lone_cr_to_lf(&mut pending, undecided, false, &mut seen_lf);
        }
        if pending.is_empty() {
            break;
        }
        if !sniffed {
            sniffed = true;
            if crate::parse::har::sniff(&pending) {
                total += read_whole(&mut reader, &mut pending, crate::parse::har::MAX_HAR)?;
                undecided = lone_cr_to_lf(&mut pending, undecided, true, &mut seen_lf);
                eof = true;
            }
        }
        let mut cut = if eof {
            pending.len()
        } else {
            cut_point(&pending)
        };
        // Never split a UTF-8 sequence (only possible when cutting a huge
        // line: after a newline, continuation bytes are invalid UTF-8 and
        // backing up over them would cut nothing, forever).
        if cut > 0 && pending[cut - 1] != b'\n' {
            let mut c = cut;
            while c < pending.len() && c > 0 && (pending[c] & 0xC0) == 0x80 {
                c -= 1;
            }
            if c > 0 {
                cut = c;
            }
        }
        let mut rest = fresh(pending.len() - cut);
        if long.is_some() && !eof && cut > 0 && pending[cut - 1] != b'\n' {
            // A line cut at `MAX_LINE`: its rest (with the bytes of a
            // character cut in two) is skipped, not read.
            skipping = Some(pending.len() - cut);
        } else {
            rest.extend_from_slice(&pending[cut..]);
        }
        pending.truncate(cut);
        no_lf = 0;
        undecided = undecided.saturating_sub(cut);
        strip_terminal_escapes(&mut pending);
        // Cutting only after b'\n' never splits a UTF-8 sequence, so lossy
        // decoding per chunk equals lossy decoding of the whole input.
        let text = match String::from_utf8(std::mem::replace(&mut pending, rest)) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
        let len = text.len();
        each(Chunk {
            source,
            offset,
            first_line: line,
            text,
        });
        offset += len;
        line += lines;
    }
    Ok(total)
}

/// Removes the terminal's control sequences from a chunk's bytes: colours
/// and cursor moves (CSI, `ESC [ … final`) and hyperlinks or titles (OSC,
/// `ESC ] … BEL` or `ESC ] … ESC \\`), which a log saved from a coloured
/// terminal or a CI job keeps (`\x1b[31mHTTP Error\x1b[0m`). They split
/// the words every parser reads, and a report that printed them back would
/// drive the reader's terminal. None holds a line feed, so a chunk (cut
/// after one) holds each whole; a sequence left unfinished stays as it is.
/// The text's offsets are those of the text without them.
fn strip_terminal_escapes(bytes: &mut Vec<u8>) {
    const ESC: u8 = 0x1b;
    let Some(first) = memchr::memchr(ESC, bytes) else {
        return;
    };
    let (mut read, mut write) = (first, first);
    while read < bytes.len() {
        if bytes[read] != ESC {
            let next = memchr::memchr(ESC, &bytes[read..]).map_or(bytes.len(), |i| read + i);
            bytes.copy_within(read..next, write);
            write += next - read;
            read = next;
            continue;
        }
        match escape_len(&bytes[read..]) {
            Some(n) => read += n,
            None => {
                bytes[write] = ESC;
                write += 1;
                read += 1;
            }
        }
    }
    bytes.truncate(write);
}

/// Length of the CSI or OSC sequence `rest` starts with (at its ESC).
fn escape_len(rest: &[u8]) -> Option<usize> {
    match rest.get(1)? {
        b'[' => {
            // Parameters and intermediates, then one final byte.
            let body = rest[2..].iter().position(|b| !(0x20..=0x3f).contains(b))?;
            let fin = *rest.get(2 + body)?;
            (0x40..=0x7e).contains(&fin).then_some(3 + body)
        }
        b']' => {
            let end = rest[2..]
                .iter()
                .position(|&b| b == 0x07 || b == 0x1b || b == b'\n')?;
            match rest[2 + end] {
                0x07 => Some(3 + end),
                0x1b if rest.get(3 + end) == Some(&b'\\') => Some(4 + end),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Reads and drops bytes up to the end of the current line; what follows
/// it in the last read goes to `pending`. Gives the bytes dropped before
/// the line end, and the line end's length (0: the input ended first).
fn skip_line(
    reader: &mut impl Read,
    buf: &mut [u8],
    pending: &mut Vec<u8>,
    seen_lf: bool,
) -> io::Result<(u64, usize)> {
    let mut skipped = 0u64;
    // Whether the last byte skipped is a carriage return (of a CR LF).
    let mut cr_before = false;
    let fill = |reader: &mut dyn Read, buf: &mut [u8]| loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    };
    loop {
        let n = fill(reader, buf)?;
        if n == 0 {
            return Ok((skipped, 0));
        }
        // Without line feeds so far, a lone carriage return ends a line too.
        let end = if seen_lf {
            memchr::memchr(b'\n', &buf[..n])
        } else {
            memchr::memchr2(b'\n', b'\r', &buf[..n])
        };
        let Some(p) = end else {
            skipped += n as u64;
            cr_before = buf[n - 1] == b'\r';
            continue;
        };
        skipped += p as u64;
        let mut end_len = 1;
        if buf[p] == b'\n'
            && (if p > 0 {
                buf[p - 1] == b'\r'
            } else {
                cr_before
            })
        {
            skipped -= 1;
            end_len += 1;
        }
        let mut rest = p + 1;
        if buf[p] == b'\r' {
            if rest == n {
                // The line feed of a CR LF may come with the next read.
                let m = fill(reader, buf)?;
                let lf = usize::from(m > 0 && buf[0] == b'\n');
                end_len += lf;
                pending.extend_from_slice(&buf[lf..m]);
                return Ok((skipped, end_len));
            }
            if buf[rest] == b'\n' {
                end_len += 1;
                rest += 1;
            }
        }
        pending.extend_from_slice(&buf[rest..n]);
        return Ok((skipped, end_len));
    }
}

/// Reads the rest of a HAR into `pending`, failing past `max` bytes.
fn read_whole(reader: &mut impl Read, pending: &mut Vec<u8>, max: usize) -> io::Result<u64> {
    let before = pending.len();
    let limit = (max + 1).saturating_sub(before) as u64;
    reader.by_ref().take(limit).read_to_end(pending)?;
    if pending.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "this HAR file is larger than {} MiB; faultline reads a HAR whole, so export fewer entries (or only the failing requests) and try again",
                max >> 20
            ),
        ));
    }
    Ok((pending.len() - before) as u64)
}

/// Prefers a blank line in the second half of the buffer, then any newline;
/// a buffer with no newline at all (one enormous line) is taken whole.
/// Whether `buf` holds a line feed, searching only past `searched`.
fn has_lf(buf: &[u8], searched: &mut usize) -> bool {
    match memchr::memchr(b'\n', &buf[(*searched).min(buf.len())..]) {
        Some(_) => true,
        None => {
            // The last byte may be a carriage return not yet decided.
            *searched = buf.len().saturating_sub(1);
            false
        }
    }
}

fn cut_point(buf: &[u8]) -> usize {
    let half = buf.len() / 2;
    let mut end = buf.len();
    while let Some(pos) = blank_line_before(&buf[half..end]) {
        let blank = half + pos + 1;
        // The blank line after an HTTP message's head is where its body
        // begins: cut before the message instead, so it stays whole.
        match message_start(buf, blank) {
            None => return blank + 1,
            Some(start) if start > 0 => return start,
            Some(_) => end = half + pos + 1,
        }
    }
    match memchr::memrchr(b'\n', buf) {
        Some(pos) if pos > 0 && buf[pos - 1] == b'\n' => match message_start(buf, pos) {
            Some(start) if start > 0 => start,
            _ => pos + 1,
        },
        Some(pos) => pos + 1,
        None => buf.len(),
    }
}

/// Where the last `\n\n` of `buf` starts. By line feeds with memchr: a
/// byte-by-byte search from the end was 3 % of a big log's instructions,
/// on the thread that reads for every other (memchr's reverse substring
/// search is not vectorized).
fn blank_line_before(buf: &[u8]) -> Option<usize> {
    memchr::memrchr_iter(b'\n', buf)
        .find(|&p| p > 0 && buf[p - 1] == b'\n')
        .map(|p| p - 1)
}

/// When the blank line at `blank` ends an HTTP message's head (a start
/// line and its headers, as raw HTTP or curl `-v` writes them), where the
/// head's start line begins.
fn message_start(buf: &[u8], blank: usize) -> Option<usize> {
    // Header blocks are short; past this many lines it is not one.
    const MAX_HEAD_LINES: usize = 200;
    let mut end = blank - 1;
    for _ in 0..MAX_HEAD_LINES {
        let start = memchr::memrchr(b'\n', &buf[..end]).map_or(0, |p| p + 1);
        let line = &buf[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = [&b"< "[..], b"> "]
            .iter()
            .find_map(|p| line.strip_prefix(*p))
            .unwrap_or(line);
        if is_start_line(line) {
            return Some(start);
        }
        if !is_header_line(line) || start == 0 {
            return None;
        }
        end = start - 1;
    }
    None
}

/// `HTTP/1.1 403 Forbidden` or `POST /oauth/token HTTP/1.1`.
fn is_start_line(line: &[u8]) -> bool {
    line.starts_with(b"HTTP/")
        || memchr::memmem::find(line, b" HTTP/").is_some_and(|at| {
            let method = line.split(|&b| b == b' ').next().unwrap_or_default();
            at > 0 && !method.is_empty() && method.iter().all(u8::is_ascii_uppercase)
        })
}

/// `Name: value`, the name an HTTP token.
fn is_header_line(line: &[u8]) -> bool {
    let Some(colon) = memchr::memchr(b':', line) else {
        return false;
    };
    colon > 0
        && line[..colon]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+.^_`|~-".contains(&b))
}

/// Maps byte offsets within a chunk to 1-based line and column numbers.
pub struct LineIndex {
    starts: Vec<usize>,
    offset: usize,
    first_line: usize,
}

impl LineIndex {
    pub fn new(chunk: &Chunk) -> Self {
        let mut starts = vec![0];
        crate::byte_positions::each_of(chunk.text.as_bytes(), [b'\n'], |i| starts.push(i + 1));
        LineIndex {
            starts,
            offset: chunk.offset,
            first_line: chunk.first_line,
        }
    }

    /// The text of line `line` (1-based, without its line feed) of
    /// `chunk`, the chunk this index is of; `None` outside it.
    pub fn line_text<'t>(&self, chunk: &'t str, line: usize) -> Option<&'t str> {
        let i = line.checked_sub(self.first_line)?;
        let start = *self.starts.get(i)?;
        let end = self.starts.get(i + 1).map_or(chunk.len(), |&next| next - 1);
        chunk.get(start..end)
    }

    /// Absolute offset → (1-based line, 1-based column).
    pub fn position(&self, absolute: usize) -> (usize, usize) {
        let rel = absolute.saturating_sub(self.offset);
        let idx = match self.starts.binary_search(&rel) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        (self.first_line + idx, rel - self.starts[idx] + 1)
    }

    /// [`LineIndex::position`] searched forward from line `from` (that of
    /// an earlier offset): a builder's events come in input order, mostly a
    /// line or two apart, so a few steps find the line instead of a search
    /// of the whole chunk.
    pub fn position_from(&self, absolute: usize, from: usize) -> (usize, usize) {
        let rel = absolute.saturating_sub(self.offset);
        let mut lo = from.saturating_sub(self.first_line);
        if self.starts.get(lo).is_none_or(|&s| s > rel) {
            return self.position(absolute);
        }
        // Gallop to a window whose first start is at or before `rel` and
        // whose end starts after it, then search the window.
        let mut step = 1;
        while self.starts.get(lo + step).is_some_and(|&s| s <= rel) {
            lo += step;
            step *= 2;
        }
        let hi = (lo + step).min(self.starts.len());
        let idx = lo + self.starts[lo..hi].partition_point(|&s| s <= rel) - 1;
        (self.first_line + idx, rel - self.starts[idx] + 1)
    }

    /// The lines of a span's first and last bytes (1-based), searched
    /// forward from line `from` ([`LineIndex::position_from`]).
    pub fn lines_from(&self, span: Span, from: usize) -> (usize, usize) {
        let (first, _) = self.position_from(span.start, from);
        let last_byte = span.end.saturating_sub(1).max(span.start);
        let next_start = self.starts.get(first - self.first_line + 1);
        if next_start.is_none_or(|&next| last_byte.saturating_sub(self.offset) < next) {
            return (first, first);
        }
        (first, self.position_from(last_byte, first).0)
    }

    pub fn loc(&self, source: SourceId, span: Span) -> Loc {
        let (line, column) = self.position(span.start);
        Loc {
            source,
            span,
            line,
            column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_are_dropped_and_others_kept() {
        let strip = |t: &str| {
            let mut b = t.as_bytes().to_vec();
            strip_terminal_escapes(&mut b);
            String::from_utf8(b).unwrap()
        };
        assert_eq!(
            strip("\x1b[31m\x1b[49mHTTP Error\x1b[0m \x1b[37;1mYour request was:\x1b[0m\n"),
            "HTTP Error Your request was:\n"
        );
        assert_eq!(
            strip("see \x1b]8;;https://x.test/\x07docs\x1b]8;;\x1b\\ now"),
            "see docs now"
        );
        // Unfinished or unknown sequences, and text without any, stay.
        for t in [
            "plain 401 text\n",
            "cut \x1b[31",
            "lone \x1b x",
            "\x1b]0;title\nnext",
        ] {
            assert_eq!(strip(t), t);
        }
    }

    #[test]
    fn chunks_of_coloured_text_count_offsets_without_the_escapes() {
        let text = "\x1b[1mone\x1b[0m\ntwo\n".repeat(3);
        let mut chunks = Vec::new();
        read_chunks(0, text.as_bytes(), 1 << 20, |c| chunks.push(c)).unwrap();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].text, "one\ntwo\n".repeat(3));
    }

    #[test]
    fn blank_line_before_finds_the_last_double_line_feed() {
        // Every arrangement of line feeds and one other byte up to 10 bytes
        // long, against the plain search it replaced.
        for len in 0..=10u32 {
            for bits in 0..1u32 << len {
                let buf: Vec<u8> = (0..len)
                    .map(|k| if bits >> k & 1 == 1 { b'\n' } else { b'x' })
                    .collect();
                let plain = buf.windows(2).rposition(|w| w == b"\n\n");
                assert_eq!(blank_line_before(&buf), plain, "{buf:?}");
            }
        }
    }

    #[test]
    fn chunks_cut_on_lines_and_keep_offsets() {
        let text = "alpha\nbeta\n\ngamma\ndelta\n".repeat(50);
        let mut chunks = Vec::new();
        read_chunks(0, text.as_bytes(), 64, |c| chunks.push(c)).unwrap();
        assert!(chunks.len() > 5);
        let mut joined = String::new();
        for c in &chunks {
            assert_eq!(c.offset, joined.len());
            assert_eq!(c.first_line, joined.matches('\n').count() + 1);
            assert!(c.text.ends_with('\n'));
            joined.push_str(&c.text);
        }
        assert_eq!(joined, text);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let bytes = b"ok\n\xff\xfe broken\nend\n";
        let mut chunks = Vec::new();
        read_chunks(0, &bytes[..], 1024, |c| chunks.push(c)).unwrap();
        assert!(chunks[0].text.contains("\u{FFFD}"));
        assert!(chunks[0].text.ends_with("end\n"));
    }

    #[test]
    fn har_is_read_whole_and_capped() {
        let entry = "      {\"request\": {\"method\": \"GET\", \"url\": \"https://a/b\"}},\n";
        let har = format!(
            "{{\n  \"log\": {{\n    \"version\": \"1.2\",\n    \"entries\": [\n{}    ]\n  }}\n}}\n",
            entry.repeat(200)
        );
        let mut chunks = Vec::new();
        let n = read_chunks(0, har.as_bytes(), 256, |c| chunks.push(c)).unwrap();
        assert_eq!(n as usize, har.len());
        assert_eq!(chunks.len(), 1);
        let mut pending = b"{".to_vec();
        let err = read_whole(&mut &har.as_bytes()[..], &mut pending, 100).unwrap_err();
        assert!(err.to_string().contains("larger than"));
    }

    #[test]
    fn stray_continuation_bytes_after_a_newline_do_not_hang() {
        // Found by the fuzzer: the cut backed up to 0 and looped forever.
        let data =
            b"\x01\x00\x00\r\x87\x87\x00\x00\x00\x00\x00\x87\x87\x00\x06\xff\xff\xff\x00\x00";
        let mut joined = String::new();
        read_chunks(0, &data[..], 17, |c| joined.push_str(&c.text)).unwrap();
        assert_eq!(joined, String::from_utf8_lossy(data).replace("\r", "\n"));
    }

    #[test]
    fn cr_only_and_mixed_line_endings_read_like_lf() {
        let cr_only = b"a\rb\r\rc\r";
        let mixed = b"a\rb\r\nc\n\rprogress 1%\rprogress 2%\r\nd\r";
        for size in [1, 2, 3, 1024] {
            for (text, want) in [
                (&cr_only[..], "a\nb\n\nc\n"),
                (&mixed[..], "a\nb\r\nc\n\rprogress 1%\rprogress 2%\r\nd\r"),
            ] {
                let mut joined = String::new();
                read_chunks(0, text, size, |c| joined.push_str(&c.text)).unwrap();
                assert_eq!(joined, want, "chunk size {size}");
            }
        }
    }

    #[test]
    fn truncated_gzip_gives_its_readable_prefix_then_an_error() {
        use std::io::Write;
        let text = "line one\nHTTP/1.1 403 Forbidden\n".repeat(2000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let cut = &gz[..gz.len() / 2];
        let mut joined = String::new();
        let reader = decode(cut).unwrap();
        let err = read_chunks(0, reader, CHUNK_SIZE, |c| joined.push_str(&c.text)).unwrap_err();
        assert!(err.to_string().contains("cut short"), "{err}");
        assert!(joined.len() > 1000 && text.starts_with(&joined));
        let err =
            read_chunks(0, decode(&b"\x1f\x8bnot gzip"[..]).unwrap(), 64, |_| {}).unwrap_err();
        assert!(err.to_string().contains("not readable as gzip"), "{err}");
    }

    #[test]
    fn decompression_stops_at_its_cap_with_an_error() {
        use std::io::Write;
        let text = "x".repeat(99) + "\n";
        let text = text.repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        // Exactly at the cap: the whole text, no error.
        let mut joined = String::new();
        let reader = decode_capped(&gz[..], text.len() as u64).unwrap();
        read_chunks(0, reader, CHUNK_SIZE, |c| joined.push_str(&c.text)).unwrap();
        assert_eq!(joined, text);
        // One byte under it: the first `cap` bytes, then an error that says why.
        let mut joined = String::new();
        let cap = text.len() as u64 - 1;
        let reader = decode_capped(&gz[..], cap).unwrap();
        let err = read_chunks(0, reader, CHUNK_SIZE, |c| joined.push_str(&c.text)).unwrap_err();
        assert!(
            err.to_string().contains("decompressed to more than"),
            "{err}"
        );
        assert_eq!(joined, text[..cap as usize]);
        // Plain text is not decompressed, so not capped.
        let mut joined = String::new();
        read_chunks(0, decode_capped(text.as_bytes(), 10).unwrap(), 64, |c| {
            joined.push_str(&c.text)
        })
        .unwrap();
        assert_eq!(joined, text);
    }

    #[test]
    fn a_chunk_never_ends_between_an_http_head_and_its_body() {
        let filler = "2026-11-24 00:00:01 INFO worker: item done\n".repeat(40);
        let heads = [
            "HTTP/1.1 400 Bad Request\nContent-Type: application/json\nCache-Control: no-store\n\n",
            "< HTTP/2 401\r\n< www-authenticate: Bearer error=\"invalid_token\"\r\n\n",
            "POST /oauth/token HTTP/1.1\nHost: login.example.com\n\n",
        ];
        for head in heads {
            let body = "{\"error\":\"invalid_grant\"}\n";
            let text = format!("{filler}{head}{body}{filler}");
            // The chunk size puts the head's blank line last in the first
            // buffer, where the reader would cut.
            let size = filler.len() + head.len() + 4;
            let mut chunks = Vec::new();
            read_chunks(0, text.as_bytes(), size, |c| chunks.push(c.text)).unwrap();
            assert_eq!(chunks.concat(), text);
            let start = head.lines().next().unwrap();
            let holder = chunks.iter().find(|c| c.contains(start)).unwrap();
            assert!(
                holder.contains(body),
                "{head:?} cut from its body: {chunks:?}"
            );
            // Not an HTTP head: a blank line is still a fine place to cut.
            let prose = format!("{filler}Summary of the run:\n\n{body}{filler}");
            let mut first = None;
            read_chunks(0, prose.as_bytes(), filler.len() + 24, |c| {
                first.get_or_insert(c.text);
            })
            .unwrap();
            assert!(first.unwrap().ends_with("run:\n\n"));
        }
    }

    #[test]
    fn sizes_read_with_suffixes() {
        assert_eq!(parse_size("4G"), Some(4 << 30));
        assert_eq!(parse_size("512k"), Some(512 << 10));
        assert_eq!(parse_size(" 100 "), Some(100));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("99999999999G"), None);
    }

    #[test]
    fn line_index_positions() {
        let chunk = Chunk {
            source: 0,
            offset: 100,
            first_line: 10,
            text: "ab\ncd\n".into(),
        };
        let idx = LineIndex::new(&chunk);
        assert_eq!(idx.position(100), (10, 1));
        assert_eq!(idx.position(104), (11, 2));
    }

    #[test]
    fn line_index_searches_forward_as_the_whole_chunk() {
        let chunk = Chunk {
            source: 0,
            offset: 100,
            first_line: 10,
            text: "ab\n\ncd\nefghij\n\n\nk\nlmnopq\nr".into(),
        };
        let idx = LineIndex::new(&chunk);
        let end = 100 + chunk.text.len();
        for at in 90..end + 3 {
            // Every hint: before, on, after the line, and out of the chunk.
            for from in 0..30 {
                assert_eq!(idx.position_from(at, from), idx.position(at), "{at} {from}");
            }
            for to in at..end + 3 {
                let span = Span::new(at, to);
                let last = to.saturating_sub(1).max(at);
                let want = (idx.position(at).0, idx.position(last).0);
                for from in 0..30 {
                    assert_eq!(idx.lines_from(span, from), want, "{at}..{to} {from}");
                }
            }
        }
    }
}
