//! Writing results to stdout: aligned tables, key-value blocks, JSON documents and lines.
//!
//! Everything goes through `std::io::Write` on a locked stdout; a closed pipe (`riskctl ... | head`)
//! ends the output quietly instead of panicking as `println!` would.

use std::io::{self, Write};

use crate::error::{CliError, CliResult};

/// Writes `text` to stdout. A broken pipe is not an error: the reader has seen enough.
pub(crate) fn write(text: &str) -> CliResult<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(CliError::Other(format!("cannot write to stdout: {err}"))),
    }
}

/// Writes a pretty-printed JSON document and a newline.
pub(crate) fn json(value: &serde_json::Value) -> CliResult<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|err| CliError::Other(format!("cannot encode JSON: {err}")))?;
    write(&format!("{text}\n"))
}

/// Writes one compact JSON object on one line (JSON Lines, for `watch`).
pub(crate) fn json_line(value: &serde_json::Value) -> CliResult<()> {
    write(&format!("{value}\n"))
}

/// A table: a header row and data rows, printed with columns padded to their widest cell.
#[derive(Debug)]
pub(crate) struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column headers.
    pub(crate) fn new(headers: &[&'static str]) -> Self {
        Self {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (one cell per header).
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text; `empty` is printed instead when there are no rows.
    pub(crate) fn render(&self, empty: &str) -> String {
        if self.rows.is_empty() {
            return format!("{empty}\n");
        }
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let last = cells.len().saturating_sub(1);
            let mut text = String::new();
            for (index, (cell, width)) in cells.iter().zip(&widths).enumerate() {
                if index == last {
                    text.push_str(cell);
                } else {
                    text.push_str(&format!("{cell:<width$}  "));
                }
            }
            text.trim_end().to_owned() + "\n"
        };
        let mut text = line(self.headers.clone());
        for row in &self.rows {
            text.push_str(&line(row.iter().map(String::as_str).collect()));
        }
        text
    }
}

/// `key: value` lines with the keys aligned, for `show` commands.
pub(crate) fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    pairs
        .iter()
        .map(|(key, value)| format!("{:<width$} {value}\n", format!("{key}:")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{fields, Table};

    #[test]
    fn tables_pad_every_column_but_the_last() {
        let mut table = Table::new(&["ID", "STATE"]);
        table.row(vec!["lookout".into(), "enabled".into()]);
        table.row(vec!["z".into(), "not_set_up".into()]);
        assert_eq!(
            table.render("none"),
            "ID       STATE\nlookout  enabled\nz        not_set_up\n"
        );
        assert_eq!(Table::new(&["ID"]).render("no rows"), "no rows\n");
    }

    #[test]
    fn fields_align_their_values() {
        assert_eq!(
            fields(&[("id", "a".into()), ("vendor", "b".into())]),
            "id:     a\nvendor: b\n"
        );
    }
}
