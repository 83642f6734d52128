use super::{Change, Follow, Hub};

fn event(position: u64, device: &str) -> Change {
    Change::Event {
        position,
        device_id: Some(device.to_owned()),
    }
}

#[test]
fn a_page_resumes_with_what_it_missed_then_new_changes() {
    let hub = Hub::default();
    hub.publish(Change::Reset { position: 10 });
    hub.publish(event(11, "a"));
    hub.publish(event(12, "b"));
    let Follow::Resume(missed, mut receiver) = hub.follow(11) else {
        panic!("11 is remembered");
    };
    assert_eq!(missed, [event(12, "b")]);
    hub.publish(event(13, "c"));
    assert_eq!(receiver.try_recv().ok(), Some(event(13, "c")));
}

#[test]
fn a_page_at_the_head_gets_only_new_changes() {
    let hub = Hub::default();
    hub.publish(Change::Reset { position: 10 });
    let Follow::Resume(missed, _) = hub.follow(10) else {
        panic!("at the head");
    };
    assert!(missed.is_empty());
}

#[test]
fn a_page_older_than_what_the_hub_remembers_reloads() {
    let hub = Hub::default();
    hub.publish(Change::Reset { position: 10 });
    hub.publish(event(11, "a"));
    assert!(matches!(hub.follow(3), Follow::Reload));
    assert!(
        matches!(hub.follow(9), Follow::Resume(..)),
        "9 is covered: the reset at 10 follows it"
    );
}
