//! The demo's stdout: plain lines, a progress line, and whether the board is redrawn in place (a
//! terminal, not `--headless`) or printed line by line. Drawing the board is `view`'s; this module
//! knows nothing of it, so that building and starting processes can report without it.

use std::{
    io::{IsTerminal as _, Write as _},
    sync::Mutex,
};

/// The demo's stdout.
#[derive(Debug)]
pub(crate) struct Out {
    /// Redraw in place (a terminal, not headless) rather than print lines.
    redraw: bool,
    /// How many narrative lines were printed (line mode).
    printed: Mutex<usize>,
    /// How many progress updates came (line mode prints only some).
    progress_updates: Mutex<usize>,
}

impl Out {
    pub(crate) fn new(headless: bool) -> Self {
        Self {
            redraw: !headless && std::io::stdout().is_terminal(),
            printed: Mutex::new(0),
            progress_updates: Mutex::new(0),
        }
    }

    /// Prints one line.
    pub(crate) fn line(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    }

    /// Shows a progress line: rewritten in place on a terminal, else printed every so often.
    pub(crate) fn progress(&self, text: &str) {
        if self.redraw {
            let mut stdout = std::io::stdout().lock();
            let _ = write!(stdout, "\r\x1b[K{text}");
            let _ = stdout.flush();
        } else {
            let mut updates = self
                .progress_updates
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            // Without a terminal, one line per 25 updates is progress enough.
            if updates.is_multiple_of(25) {
                self.line(text);
            }
            *updates += 1;
        }
    }

    /// Ends the progress line.
    pub(crate) fn progress_done(&self) {
        if self.redraw {
            let mut stdout = std::io::stdout().lock();
            let _ = write!(stdout, "\r\x1b[K");
            let _ = stdout.flush();
        }
    }

    /// Whether the board is redrawn in place rather than printed line by line.
    pub(crate) fn redraws(&self) -> bool {
        self.redraw
    }

    /// Prints the lines of `log` not printed yet (line mode).
    pub(crate) fn print_new_lines(&self, log: &[String]) {
        let mut printed = self.printed.lock().unwrap_or_else(|e| e.into_inner());
        let mut stdout = std::io::stdout().lock();
        for line in log.iter().skip(*printed) {
            let _ = writeln!(stdout, "{line}");
        }
        let _ = stdout.flush();
        *printed = log.len();
    }
}
