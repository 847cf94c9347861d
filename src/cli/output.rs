//! Where output goes and how it looks: stdout, a file (`--output`) or a
//! pager; the terminal's width, colour and hyperlink support. A reader that
//! goes away (`faultline rules list | head -1`) ends the output quietly.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    Always,
    Never,
}

/// How the human output should look.
#[derive(Debug, Clone, Copy)]
pub struct Look {
    pub color: bool,
    pub links: bool,
    pub width: usize,
}

/// Narrowest layout; below this, prose and snippets stop being readable.
pub const MIN_WIDTH: usize = 40;

/// Decides colour, links and width. `--width` wins; else a terminal's real
/// width (COLUMNS when it cannot be asked); a pipe or a file gets 80
/// columns whatever COLUMNS says, so saved reports do not depend on the
/// shell they were made in.
pub fn look(color: ColorChoice, width: Option<usize>, to_file: bool) -> Look {
    let terminal = !to_file && io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
        || std::env::var("TERM").is_ok_and(|t| t == "dumb");
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !no_color,
    };
    let width = width
        .or_else(|| terminal.then(terminal_width).flatten())
        .unwrap_or(80)
        .max(MIN_WIDTH);
    let links = color && terminal && supports_hyperlinks::on(supports_hyperlinks::Stream::Stdout);
    Look {
        color,
        links,
        width,
    }
}

/// The terminal's columns: asked of the terminal, else `COLUMNS`.
fn terminal_width() -> Option<usize> {
    terminal_size::terminal_size_of(io::stdout())
        .map(|(w, _)| w.0 as usize)
        .filter(|w| *w > 0)
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
}

/// The output of one command. Write errors other than a closed pipe are
/// kept and reported by [`Output::finish`].
pub struct Output {
    writer: Option<Box<dyn Write>>,
    pager: Option<Child>,
    path: Option<PathBuf>,
    error: Option<io::Error>,
}

impl Output {
    pub fn stdout() -> Self {
        Output {
            writer: Some(Box::new(io::stdout().lock())),
            pager: None,
            path: None,
            error: None,
        }
    }

    /// `--output FILE` (`-` is stdout).
    pub fn file(path: &Path) -> io::Result<Self> {
        if path.as_os_str() == "-" {
            return Ok(Self::stdout());
        }
        Ok(Output {
            writer: Some(Box::new(io::BufWriter::new(File::create(path)?))),
            pager: None,
            path: Some(path.to_path_buf()),
            error: None,
        })
    }

    /// stdout, through a pager when stdout is a terminal, as git does:
    /// `$FAULTLINE_PAGER`, else `$PAGER`, else `less` (with `LESS=FRX`, so
    /// short text is printed and the pager exits). An empty or `cat` pager,
    /// or one that cannot start, means no pager.
    pub fn paged() -> Self {
        if !io::stdout().is_terminal() {
            return Self::stdout();
        }
        let pager = std::env::var("FAULTLINE_PAGER")
            .or_else(|_| std::env::var("PAGER"))
            .unwrap_or_else(|_| "less".into());
        let Some(words) = shlex::split(&pager).filter(|w| !w.is_empty()) else {
            return Self::stdout();
        };
        if words[0] == "cat" {
            return Self::stdout();
        }
        let mut cmd = Command::new(&words[0]);
        cmd.args(&words[1..]).stdin(Stdio::piped());
        if std::env::var_os("LESS").is_none() {
            cmd.env("LESS", "FRX");
        }
        if std::env::var_os("LV").is_none() {
            cmd.env("LV", "-c");
        }
        match cmd.spawn() {
            Ok(mut child) => {
                let stdin = child.stdin.take().map(|s| Box::new(s) as Box<dyn Write>);
                Output {
                    writer: stdin,
                    pager: Some(child),
                    path: None,
                    error: None,
                }
            }
            Err(_) => Self::stdout(),
        }
    }

    pub fn write_str(&mut self, s: &str) {
        let Some(w) = self.writer.as_mut() else {
            return;
        };
        if let Err(e) = w.write_all(s.as_bytes()) {
            self.fail(e);
        }
    }

    /// Writes a report as it is made (a long report is never held whole).
    pub fn write_with(&mut self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        let Some(w) = self.writer.as_mut() else {
            return;
        };
        if let Err(e) = write(w) {
            self.fail(e);
        }
    }

    /// Writes `s` and pushes it out now (streamed records must not wait
    /// in a buffer).
    pub fn write_now(&mut self, s: &str) {
        self.write_str(s);
        if let Some(w) = self.writer.as_mut()
            && let Err(e) = w.flush()
        {
            self.fail(e);
        }
    }

    /// The reader went away (or writing failed): nothing more gets out.
    pub fn closed(&self) -> bool {
        self.writer.is_none()
    }

    fn fail(&mut self, e: io::Error) {
        // The reader is gone: stop writing, and say nothing.
        self.writer = None;
        if e.kind() != io::ErrorKind::BrokenPipe {
            self.error = Some(e);
        }
    }

    /// Flushes and waits for the pager. `Err` holds a message for a write
    /// that failed for a reason other than a closed pipe.
    pub fn finish(mut self) -> Result<(), String> {
        if let Some(mut w) = self.writer.take()
            && let Err(e) = w.flush()
        {
            self.fail(e);
        }
        if let Some(mut child) = self.pager.take() {
            let _ = child.wait();
        }
        match self.error {
            None => Ok(()),
            Some(e) => Err(match &self.path {
                Some(p) => format!("cannot write {}: {e}", p.display()),
                None => format!("cannot write the output: {e}"),
            }),
        }
    }
}
