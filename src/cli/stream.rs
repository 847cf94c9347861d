//! What a long or endless run needs around the analysis: Ctrl-C that stops
//! reading but lets the streamed output end on a whole line, a progress bar
//! on stderr, and `--follow` (read as the input grows, report after a
//! quiet gap).

use std::io::{self, IsTerminal, Read, Seek, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use faultline::input::{self, InputProblem};
use faultline::{Feed, SourceInfo};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Ctrl-C was pressed (once [`catch_interrupt`] is in place).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The exit status of a run stopped by Ctrl-C, as a shell reports SIGINT.
pub const INTERRUPTED_STATUS: u8 = 130;

#[cfg(unix)]
extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Until dropped, Ctrl-C sets a flag instead of killing the process:
/// reading stops, what was read is finished and the output ends on a whole
/// line. No SA_RESTART, so a read blocked on a pipe returns and sees the
/// flag. Dropping it puts the previous handler back (the Python package
/// runs the command line inside an interpreter that has its own).
pub struct InterruptGuard {
    #[cfg(unix)]
    previous: libc::sigaction,
}

#[cfg(unix)]
pub fn catch_interrupt() -> InterruptGuard {
    INTERRUPTED.store(false, Ordering::SeqCst);
    // SAFETY: the handler only stores to an atomic (async-signal-safe);
    // both structs are fully initialised before use.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_interrupt as *const () as usize;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        let mut previous: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGINT, &action, &mut previous);
        InterruptGuard { previous }
    }
}

#[cfg(unix)]
impl Drop for InterruptGuard {
    fn drop(&mut self) {
        // SAFETY: restores the action saved by `catch_interrupt`.
        unsafe {
            libc::sigaction(libc::SIGINT, &self.previous, std::ptr::null_mut());
        }
    }
}

#[cfg(not(unix))]
pub fn catch_interrupt() -> InterruptGuard {
    InterruptGuard {}
}

// ------------------------------------------------------------------ progress

/// Runs shorter than this never show a bar (it would only flicker).
const PROGRESS_AFTER: Duration = Duration::from_millis(500);

/// The progress bar on stderr: bytes read, MiB/s and failing calls so far.
/// Shown only on a terminal, never with --quiet, and only once the run has
/// taken [`PROGRESS_AFTER`]. `FAULTLINE_PROGRESS=always` (undocumented,
/// for the test suite) draws it to stderr even when that is not a terminal.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    forced: bool,
    shown: std::cell::Cell<bool>,
}

/// stderr as indicatif's terminal, for the forced bar.
#[derive(Debug)]
struct ForcedStderr;

impl indicatif::TermLike for ForcedStderr {
    fn width(&self) -> u16 {
        80
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.write_str(&format!("\x1b[{n}A"))
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.write_str(&format!("\x1b[{n}B"))
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.write_str(&format!("\x1b[{n}C"))
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.write_str(&format!("\x1b[{n}D"))
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        self.write_str(&format!("{s}\n"))
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        io::stderr().write_all(s.as_bytes())
    }
    fn clear_line(&self) -> io::Result<()> {
        self.write_str("\r\x1b[2K")
    }
    fn flush(&self) -> io::Result<()> {
        io::stderr().flush()
    }
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        let forced = std::env::var("FAULTLINE_PROGRESS").is_ok_and(|v| v == "always");
        let wanted = forced || (!quiet && io::stderr().is_terminal());
        let bar = wanted.then(|| {
            let bar = indicatif::ProgressBar::hidden();
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} {bytes} read, {binary_bytes_per_sec}, {msg} failing calls so far",
            )
            .expect("a valid template");
            bar.set_style(style);
            bar.set_message("0");
            bar
        });
        Progress {
            bar,
            start: Instant::now(),
            forced,
            shown: std::cell::Cell::new(false),
        }
    }

    pub fn update(&self, bytes: u64, incidents: usize) {
        let Some(bar) = &self.bar else {
            return;
        };
        bar.set_position(bytes);
        bar.set_message(incidents.to_string());
        if !self.shown.get() && self.start.elapsed() >= PROGRESS_AFTER {
            self.shown.set(true);
            let target = if self.forced {
                indicatif::ProgressDrawTarget::term_like(Box::new(ForcedStderr))
            } else {
                indicatif::ProgressDrawTarget::stderr()
            };
            bar.set_draw_target(target);
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    }

    /// Runs `f` (a write to stdout) with the bar out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) if self.shown.get() => bar.suspend(f),
            _ => f(),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

// -------------------------------------------------------------------- follow

/// The default `--follow-gap`: long enough for a request and its response
/// logged apart, short enough to feel live.
pub const DEFAULT_GAP: &str = "2s";

/// Parses `--follow-gap`: `500ms`, `2s`, `1m`, or plain seconds.
pub fn parse_gap(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 500ms, 2s, 1m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("`{s}`: the unit is ms, s or m")),
    };
    if !(0.01..=3600.0).contains(&secs) {
        return Err(format!("`{s}`: the gap must be between 10ms and 1h"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// How often a followed file is checked for growth, as `tail -f` does.
const POLL: Duration = Duration::from_millis(200);

/// Reads `path` (None: stdin) on a thread, sending what it reads; a file is
/// read to its end and then watched for growth (and read from the start
/// again when truncated, as a rotated log is). The channel closes at
/// stdin's end or on a read error.
fn spawn_reader(path: Option<PathBuf>) -> io::Result<mpsc::Receiver<Vec<u8>>> {
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(16);
    let mut file = match &path {
        Some(p) => Some(std::fs::File::open(p)?),
        None => None,
    };
    std::thread::Builder::new()
        .name("faultline-follow".into())
        .spawn(move || {
            let mut buf = vec![0u8; 64 << 10];
            let mut stdin = io::stdin().lock();
            let mut read_so_far = 0u64;
            loop {
                let n = match &mut file {
                    Some(f) => f.read(&mut buf),
                    None => stdin.read(&mut buf),
                };
                match n {
                    Ok(0) if file.is_some() => {
                        let f = file.as_mut().expect("a file");
                        if f.metadata().is_ok_and(|m| m.len() < read_so_far) {
                            read_so_far = 0;
                            let _ = f.seek(io::SeekFrom::Start(0));
                        }
                        std::thread::sleep(POLL);
                    }
                    Ok(0) => return,
                    Ok(n) => {
                        read_so_far += n as u64;
                        if tx.send(buf[..n].to_vec()).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
        })?;
    Ok(rx)
}

/// Feeds a followed input to `feed` as it comes. What was written is
/// scanned and reported once the input has been quiet for `gap` (an
/// exchange still open then is closed), or, under a steady trickle, once
/// the oldest unreported line is five gaps old. Returns the bytes read;
/// ends at stdin's end, on Ctrl-C, or when the output's reader went away.
pub fn follow(
    path: Option<PathBuf>,
    gap: Duration,
    feed: &mut Feed,
    progress: &Progress,
) -> Result<u64, InputProblem> {
    let name = path
        .as_ref()
        .map_or("<stdin>".to_string(), |p| p.display().to_string());
    let rx = spawn_reader(path).map_err(|e| InputProblem {
        name,
        message: e.to_string(),
    })?;
    let mut pending: Vec<u8> = Vec::new();
    let (mut offset, mut line, mut total) = (0usize, 1usize, 0u64);
    let mut last_data = Instant::now();
    let mut oldest: Option<Instant> = None;
    // Scans `text` as the continuation of what came before.
    let mut push = |text: &[u8], feed: &mut Feed| {
        let _ = input::read_chunks(0, text, input::CHUNK_SIZE, |mut c| {
            c.offset += offset;
            c.first_line += line - 1;
            offset += c.text.len();
            line += c.text.matches('\n').count();
            feed.push(c);
        });
    };
    let tick = gap.min(Duration::from_millis(100));
    loop {
        if interrupted() || feed.stopped() {
            break;
        }
        match rx.recv_timeout(tick) {
            Ok(bytes) => {
                total += bytes.len() as u64;
                pending.extend_from_slice(&bytes);
                last_data = Instant::now();
                oldest.get_or_insert(last_data);
                progress.update(total, feed.incidents());
                // A steady flood is scanned a chunk at a time, as any input.
                if pending.len() >= input::CHUNK_SIZE
                    && let Some(end) = memchr_last_newline(&pending)
                {
                    let rest = pending.split_off(end);
                    push(&pending, feed);
                    pending = rest;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let due =
                    last_data.elapsed() >= gap || oldest.is_some_and(|t| t.elapsed() >= gap * 5);
                if due && let Some(end) = memchr_last_newline(&pending) {
                    let rest = pending.split_off(end);
                    push(&pending, feed);
                    pending = rest;
                    oldest = (!pending.is_empty()).then(Instant::now);
                    feed.flush();
                    progress.update(total, feed.incidents());
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if !pending.is_empty() && !feed.stopped() {
        push(&pending, feed);
    }
    Ok(total)
}

/// Just past the last line feed of `bytes`.
fn memchr_last_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().rposition(|&b| b == b'\n').map(|i| i + 1)
}

/// The source record of a followed input.
pub fn followed_source(path: &Option<PathBuf>, bytes: u64) -> SourceInfo {
    SourceInfo {
        name: path
            .as_ref()
            .map_or("<stdin>".to_string(), |p| p.display().to_string()),
        bytes,
    }
}
