use super::*;

fn set(jti: &str) -> Signed {
    Signed {
        jti: jti.to_owned(),
        jwt: format!("jwt-{jti}"),
    }
}

fn at(position: u64, jtis: &[&str]) -> Batch {
    Batch {
        position: Some(Position {
            position,
            cursor: format!("c{position}"),
        }),
        sets: jtis.iter().map(|jti| set(jti)).collect(),
    }
}

fn ack(queue: &PollQueue, jtis: &[&str]) -> Acked {
    queue.acknowledge(&jtis.iter().map(|jti| (*jti).to_owned()).collect())
}

#[test]
fn polls_return_the_oldest_unacknowledged_sets_and_say_when_more_wait() {
    let queue = PollQueue::default();
    queue.push(at(1, &["a"]));
    queue.push(at(2, &["b", "c"]));
    let (sets, more) = queue.take(2);
    assert_eq!(sets, vec![set("a"), set("b")]);
    assert!(more);
    let (again, _) = queue.take(2);
    assert_eq!(again, sets, "unacknowledged SETs come again");
}

#[test]
fn the_position_moves_only_past_fully_acknowledged_positions() {
    let queue = PollQueue::default();
    queue.push(at(1, &["a"]));
    queue.push(at(2, &["b", "c"]));
    let acked = ack(&queue, &["b"]);
    assert_eq!(acked.position, None);
    assert_eq!(acked.still_queued, vec!["b".to_owned()]);
    let acked = ack(&queue, &["a"]);
    assert_eq!(acked.position.map(|p| p.position), Some(1));
    let acked = ack(&queue, &["c"]);
    assert_eq!(acked.position.map(|p| p.position), Some(2));
    assert!(acked.still_queued.is_empty());
    assert_eq!(queue.unacked(), 0);
    assert_eq!(queue.take(10), (Vec::new(), false));
}

#[test]
fn sets_without_a_position_leave_the_position_where_it_was() {
    let queue = PollQueue::default();
    queue.push(Batch {
        position: None,
        sets: vec![set("v")],
    });
    let acked = ack(&queue, &["v", "unknown"]);
    assert_eq!(acked, Acked::default());
}

#[test]
fn a_restart_keeps_the_transmitters_own_sets_and_drops_those_made_from_the_log() {
    let queue = PollQueue::default();
    queue.push(at(1, &["a"]));
    queue.push(Batch {
        position: None,
        sets: vec![set("v")],
    });
    queue.restart();
    assert_eq!(queue.take(10), (vec![set("v")], false));
    assert_eq!(queue.unacked(), 1);
    queue.clear();
    assert_eq!(queue.unacked(), 0);
}
