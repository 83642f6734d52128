//! What the demo shows on stdout. On a terminal (and without `--headless`) the board is redrawn in
//! place with plain ANSI escapes: a table of devices with their vendor, threat level, compliance,
//! and per resource riskgate's decision beside the HTTP status the device gets through Envoy, the step being played, the latest event and the recent narrative.
//! Otherwise every narrative line (steps, flips, results) is printed once, as it happens.
//! Logs go to stderr through `tracing`, never here.

use std::{convert::Infallible, io::Write as _};

use riskgate_proto::v1 as api;
use tokio::sync::watch;

use crate::{
    board::{compliance_name, decision_name, level_name, Board},
    out::Out,
    resources::RESOURCES,
};

/// How many narrative lines the redrawn view keeps under the table.
const RECENT_LINES: usize = 10;

/// Drawing the board: in place on a terminal, else its new narrative lines.
impl Out {
    /// Shows every change of the board until dropped.
    pub(crate) async fn render(&self, mut board: watch::Receiver<Board>) -> Infallible {
        loop {
            let snapshot = board.borrow_and_update().clone();
            self.show(&snapshot);
            if board.changed().await.is_err() {
                // The sender is gone; nothing will change any more.
                return std::future::pending().await;
            }
        }
    }

    /// Shows the board once more: the final frame, or the lines not printed yet.
    pub(crate) fn show(&self, board: &Board) {
        if self.redraws() {
            self.draw(board);
        } else {
            self.print_new_lines(&board.log);
        }
    }

    /// Redraws the screen in place: home, each line cleared to its end, then the rest of the
    /// screen cleared, which does not flicker as clearing everything first would.
    fn draw(&self, board: &Board) {
        let mut lines = vec![
            "\x1b[1mriskgate demo\x1b[0m: access to company resources revoked while a device is compromised, granted again once it is remediated".to_owned(),
            "policy: device threat level at or under LOW; exchange and sharepoint require a compliant device".to_owned(),
            board.processes.clone(),
            String::new(),
        ];
        lines.push(match &board.step {
            Some((number, total, title)) => format!("\x1b[1mstep {number}/{total}\x1b[0m  {title}"),
            None => String::new(),
        });
        lines.push(String::new());
        let mut header = format!(
            "{:<14}{:<11}{:<14}{:<15}",
            "DEVICE", "VENDOR", "THREAT LEVEL", "COMPLIANCE"
        );
        for resource in RESOURCES {
            header.push_str(&format!(
                "{:<24}",
                format!("{} (ENVOY)", resource.to_uppercase())
            ));
        }
        lines.push(format!("\x1b[1m{}\x1b[0m", header.trim_end()));
        for row in &board.rows {
            let mut line = format!("{:<14}{:<11}", row.device, row.vendor);
            line.push_str(&paint(level_name(row.level), 14, level_colour(row.level)));
            line.push_str(&paint(
                compliance_name(row.compliance),
                15,
                compliance_colour(row.compliance),
            ));
            for (decision, status) in row.access.iter().zip(row.http) {
                line.push_str(&paint(
                    decision_name(*decision),
                    6,
                    decision_colour(*decision),
                ));
                let status = status.map_or_else(|| "-".to_owned(), |status| status.to_string());
                line.push_str(&format!("{:<18}", format!("(HTTP {status})")));
            }
            lines.push(line);
        }
        lines.push(String::new());
        lines.push(format!("latest event: {}", board.latest_event));
        lines.push(String::new());
        let recent = board.log.len().saturating_sub(RECENT_LINES);
        lines.extend(board.log[recent..].iter().map(|line| format!("  {line}")));
        if board.step.is_some() {
            lines.push(String::new());
            lines.push("Ctrl-C stops everything".to_owned());
        }
        let mut frame = String::from("\x1b[H");
        for line in lines {
            frame.push_str(&line);
            frame.push_str("\x1b[K\n");
        }
        frame.push_str("\x1b[J");
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(frame.as_bytes());
        let _ = stdout.flush();
    }
}

/// `text` padded to `width`, in `colour` (an SGR code; 0 is none). Padding first, so that the
/// escapes do not count in the column width.
fn paint(text: &str, width: usize, colour: u8) -> String {
    let padded = format!("{text:<width$}");
    if colour == 0 {
        padded
    } else {
        format!("\x1b[{colour}m{padded}\x1b[0m")
    }
}

const RED: u8 = 31;
const GREEN: u8 = 32;
const YELLOW: u8 = 33;
const CYAN: u8 = 36;

fn level_colour(level: api::ThreatLevel) -> u8 {
    match level {
        api::ThreatLevel::Secured => GREEN,
        api::ThreatLevel::Low => CYAN,
        api::ThreatLevel::Medium => YELLOW,
        api::ThreatLevel::High => RED,
        api::ThreatLevel::Unspecified => 0,
    }
}

fn compliance_colour(status: api::ComplianceStatus) -> u8 {
    match status {
        api::ComplianceStatus::Compliant => GREEN,
        api::ComplianceStatus::InGracePeriod => YELLOW,
        api::ComplianceStatus::Noncompliant | api::ComplianceStatus::Error => RED,
        _ => 0,
    }
}

fn decision_colour(decision: api::Decision) -> u8 {
    match decision {
        api::Decision::Allow => GREEN,
        api::Decision::Deny => RED,
        api::Decision::Unspecified => 0,
    }
}
