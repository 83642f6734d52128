//! The overview's chart of noncompliant devices over time, drawn as SVG on the server.
//!
//! The count now comes from the fleet summary; walking the log's compliance changes back from now
//! undoes each one (a change into NONCOMPLIANT added a device, one out of it removed one), which gives
//! the count at every moment of the window as a step line.

use maud::{html, Markup};

/// One compliance change of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// When it happened, in Unix seconds.
    pub at: i64,
    /// Whether the device was noncompliant before it.
    pub was: bool,
    /// Whether it is noncompliant after it.
    pub is: bool,
}

/// The count of noncompliant devices from `start` to `now`: the count just after each change and at the
/// window's ends, oldest first. `changes` are newest first, as the log is read back.
pub fn series(
    count_now: u64,
    changes_newest_first: &[Step],
    start: i64,
    now: i64,
) -> Vec<(i64, u64)> {
    let mut points = vec![(now, count_now)];
    let mut count = count_now;
    for change in changes_newest_first
        .iter()
        .filter(|change| change.at >= start)
    {
        points.push((change.at, count));
        count = match (change.was, change.is) {
            (false, true) => count.saturating_sub(1),
            (true, false) => count + 1,
            _ => count,
        };
    }
    points.push((start, count));
    points.reverse();
    points
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 24.0;

/// The step line of `points` between `start` and `now`, with its axis labels. The SVG scales to its
/// container's width (viewBox), so it reads at 390 px as at 1280 px.
pub fn svg(points: &[(i64, u64)], start: i64, now: i64, label: &str) -> Markup {
    let peak = points
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(0)
        .max(1);
    let width = (now - start).max(1) as f64;
    let x = |at: i64| LEFT + (at - start) as f64 / width * (WIDTH - LEFT - 8.0);
    let y = |count: u64| 8.0 + (1.0 - count as f64 / peak as f64) * (HEIGHT - BOTTOM - 8.0);
    let mut path = String::new();
    for (index, (at, count)) in points.iter().enumerate() {
        if index == 0 {
            path.push_str(&format!("M{:.1},{:.1}", x(*at), y(*count)));
        } else {
            // A step: along at the previous count, then up or down.
            path.push_str(&format!("H{:.1}V{:.1}", x(*at), y(*count)));
        }
    }
    let span = crate::view::words::span(std::time::Duration::from_secs(
        u64::try_from(now - start).unwrap_or(0),
    ));
    html! {
        svg class="chart" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(label) {
            title { (label) }
            line x1=(LEFT) y1=(HEIGHT - BOTTOM) x2=(WIDTH - 8.0) y2=(HEIGHT - BOTTOM) class="axis" {}
            line x1=(LEFT) y1="8" x2=(LEFT) y2=(HEIGHT - BOTTOM) class="axis" {}
            text x=(LEFT - 6.0) y=(y(peak) + 4.0) text-anchor="end" { (peak) }
            text x=(LEFT - 6.0) y=(HEIGHT - BOTTOM + 4.0) text-anchor="end" { "0" }
            text x=(LEFT) y=(HEIGHT - 6.0) { (format!("{span} ago")) }
            text x=(WIDTH - 8.0) y=(HEIGHT - 6.0) text-anchor="end" { "now" }
            path d=(path) class="series" {}
        }
    }
}

#[cfg(test)]
mod tests;
