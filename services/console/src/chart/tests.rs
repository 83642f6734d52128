use super::{series, svg, Step};

#[test]
fn walking_back_undoes_each_change() {
    // Now 2 noncompliant; at 50 one became noncompliant, at 30 one recovered, at 20 one was reported
    // compliant from unknown (no change to the count).
    let changes = [
        Step {
            at: 50,
            was: false,
            is: true,
        },
        Step {
            at: 30,
            was: true,
            is: false,
        },
        Step {
            at: 20,
            was: false,
            is: false,
        },
    ];
    assert_eq!(
        series(2, &changes, 0, 100),
        [(0, 2), (20, 2), (30, 1), (50, 2), (100, 2)]
    );
}

#[test]
fn changes_before_the_window_are_left_out() {
    let changes = [Step {
        at: 5,
        was: false,
        is: true,
    }];
    assert_eq!(series(1, &changes, 10, 100), [(10, 1), (100, 1)]);
}

#[test]
fn the_svg_names_what_it_shows_and_draws_a_step_line() {
    let drawn = svg(&[(0, 0), (50, 3), (100, 3)], 0, 100, "Noncompliant devices").into_string();
    assert!(drawn.contains("<title>Noncompliant devices</title>"));
    assert!(drawn.contains("class=\"series\""));
    assert!(drawn.contains(">3<"), "the peak is labelled: {drawn}");
}
