//! The goals of issues #9, #17, #18 and #19 and the closing table that says, for each, what was measured and whether it was met.

use crate::stats::print_table;

/// One goal with its measured value.
#[derive(Debug, Clone)]
pub(crate) struct Goal {
    /// What is measured, such as "CheckAccess p99 at 10 in flight".
    pub(crate) name: &'static str,
    /// The target, such as "< 1 ms".
    pub(crate) target: &'static str,
    /// The measured value, formatted.
    pub(crate) measured: String,
    /// Whether the measured value meets the target.
    pub(crate) met: bool,
}

impl Goal {
    /// A goal and its outcome.
    pub(crate) fn new(
        name: &'static str,
        target: &'static str,
        measured: String,
        met: bool,
    ) -> Self {
        Self {
            name,
            target,
            measured,
            met,
        }
    }
}

/// Prints the goals table. In quick mode the verdicts are printed too, but they say nothing about speed.
pub(crate) fn print(goals: &[Goal], quick: bool) {
    let title = if quick {
        "Goals of issues #9, #17, #18 and #19 (QUICK MODE: tiny samples on a debug build; verdicts check the harness, not the speed)"
    } else {
        "Goals of issues #9, #17, #18 and #19"
    };
    let rows: Vec<Vec<String>> = goals
        .iter()
        .map(|goal| {
            vec![
                goal.name.to_owned(),
                goal.target.to_owned(),
                goal.measured.clone(),
                if goal.met { "MET" } else { "MISSED" }.to_owned(),
            ]
        })
        .collect();
    print_table(title, &["goal", "target", "measured", "verdict"], &rows);
}
