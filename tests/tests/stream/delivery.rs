//! Snapshot, live delivery, progress, backpressure, fan-out and the stream limit.

use std::time::Duration;

use riskgate_proto::v1::{subscribe_response::Message, HealthState, Platform, SubscriptionFilter};
use riskgate_tests::{batch, ingest, now, report, wait_until};
use tonic::Code;

use crate::support::{
    next_message, read_snapshot, read_until, report_once, start_core, subscribe, CONNECTOR,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_then_snapshot_end_then_live_events() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_core(dir.path(), &[]).await?;
    report_once(&core, 1, "phone-a", HealthState::Secured).await?;
    report_once(&core, 2, "phone-b", HealthState::LowSeverity).await?;
    let mut stream = subscribe(&core, SubscriptionFilter::default(), "", 0).await?;
    let (mut devices, _cursor, position) = read_snapshot(&mut stream).await?;
    devices.sort();
    assert_eq!(devices, ["phone-a", "phone-b"]);
    let acked = report_once(&core, 3, "phone-a", HealthState::HighSeverity).await?;
    assert!(acked > position);
    let events = read_until(&mut stream, acked).await?;
    assert!(
        events.iter().all(|(at, ..)| *at > position),
        "live events come after the snapshot"
    );
    assert!(events
        .iter()
        .any(|(_, kind, device, _)| *kind == "device_reported" && device == "phone-a"));
    assert_eq!(events.last().map(|e| e.0), Some(acked));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stream_gets_progress_carrying_the_head_cursor() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_core(dir.path(), &[]).await?;
    let head = report_once(&core, 1, "phone", HealthState::Secured).await?;
    // A filter that matches nothing that happens: only progress can arrive.
    let filter = SubscriptionFilter {
        device_ids: vec!["nobody".into()],
        ..Default::default()
    };
    let mut stream = subscribe(&core, filter, "", 100).await?;
    let (devices, _, _) = read_snapshot(&mut stream).await?;
    assert!(devices.is_empty());
    let later = report_once(&core, 2, "phone", HealthState::LowSeverity).await?;
    loop {
        match next_message(&mut stream).await? {
            Message::Progress(progress) if progress.position >= later => {
                assert!(!progress.cursor.is_empty());
                assert!(later > head);
                return Ok(());
            }
            Message::Progress(_) => {}
            other => anyhow::bail!("only progress was expected, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_interval_outside_its_bounds_is_invalid_argument() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_core(dir.path(), &[]).await?;
    for interval in [50, 60_001] {
        let status = subscribe(&core, SubscriptionFilter::default(), "", interval)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().contains("progress_interval_ms"),
            "{status:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_does_not_stop_ingest_and_catches_up_from_the_log(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_core(dir.path(), &[]).await?;
    let mut stalled = subscribe(&core, SubscriptionFilter::default(), "", 0).await?;
    let (_, _, start) = read_snapshot(&mut stalled).await?;
    // Far more events than the subscriber's buffers and the live broadcast hold, while it reads nothing.
    let mut client = core.ingest_client().await?;
    let batches: Vec<_> = (1..=60u64)
        .map(|seq| {
            let reports = (0..100)
                .map(|i| {
                    report(
                        &format!("dev-{seq}-{i}"),
                        Platform::Ios,
                        HealthState::Secured,
                        now(),
                    )
                })
                .collect();
            batch(CONNECTOR, seq, b"cp", reports)
        })
        .collect();
    let acks = tokio::time::timeout(Duration::from_secs(60), ingest(&mut client, batches))
        .await
        .expect("ingest completed while a subscriber was stalled")?;
    assert_eq!(acks.len(), 60);
    let head = acks.last().unwrap().position;
    // The stalled subscriber now reads everything, in order and without gaps.
    let events = read_until(&mut stalled, head).await?;
    let positions: Vec<u64> = events.iter().map(|e| e.0).collect();
    let expected: Vec<u64> = (start + 1..=head).collect();
    assert_eq!(positions, expected);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_subscribers_all_receive_a_change() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_core(dir.path(), &["--max-streams-per-client", "2000"]).await?;
    let filter = SubscriptionFilter {
        device_ids: vec!["watched".into()],
        ..Default::default()
    };
    let mut streams = Vec::new();
    // Ten connections of a hundred streams each, within HTTP/2's per-connection stream limit.
    for _ in 0..10 {
        let channel = core.channel().await?;
        for _ in 0..100 {
            let mut client =
                riskgate_proto::v1::risk_stream_client::RiskStreamClient::new(channel.clone());
            let request = riskgate_proto::v1::SubscribeRequest {
                filter: Some(filter.clone()),
                cursor: String::new(),
                progress_interval_ms: 0,
            };
            let mut stream = client.subscribe(request).await?.into_inner();
            read_snapshot(&mut stream).await?;
            streams.push(stream);
        }
    }
    let position = report_once(&core, 1, "watched", HealthState::HighSeverity).await?;
    let readers = streams.into_iter().map(|mut stream| {
        tokio::spawn(async move {
            let events = read_until(&mut stream, position).await?;
            anyhow::ensure!(events
                .iter()
                .any(|(_, kind, device, _)| *kind == "device_reported" && device == "watched"));
            Ok::<_, anyhow::Error>(())
        })
    });
    let results = futures::future::join_all(readers).await;
    assert_eq!(results.len(), 1000);
    for result in results {
        result??;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_stream_limit_subscribe_is_resource_exhausted_until_one_closes(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_core(dir.path(), &["--max-subscriptions", "2"]).await?;
    let mut first = subscribe(&core, SubscriptionFilter::default(), "", 0).await?;
    read_snapshot(&mut first).await?;
    let mut second = subscribe(&core, SubscriptionFilter::default(), "", 0).await?;
    read_snapshot(&mut second).await?;
    let status = subscribe(&core, SubscriptionFilter::default(), "", 0)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    drop(first);
    // The server notices the closed stream and frees its slot.
    wait_until(Duration::from_secs(20), "a slot frees up", || async {
        subscribe(&core, SubscriptionFilter::default(), "", 0)
            .await
            .is_ok()
    })
    .await?;
    // Everyone else is still served.
    let position = report_once(&core, 1, "phone", HealthState::Secured).await?;
    read_until(&mut second, position).await?;
    Ok(())
}
