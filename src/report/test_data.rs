//! A small run, built through the real recorder and harvester, that the
//! report's unit tests share.

use std::time::{Duration, Instant, SystemTime};

use crate::api::Endpoint;
use crate::metrics::{ErrorKind, Harvester, Measure, Outcome, RunData, WorkerMetrics};

use super::run_info::RunInfo;

const MS: Duration = Duration::from_millis(1);

/// 2 s and a half: chats requested, messages sent, one poll failing with
/// 503 and one timing out, one chat completed, one failed, one dropped.
pub fn run() -> (RunInfo, RunData) {
    let started_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_320_800);
    let mut harvester = Harvester::new(started_at);
    let mut worker = WorkerMetrics::new();

    first_second(&mut worker);
    harvester.add_interval(0, Duration::from_secs(1), worker.take());
    second_second(&mut worker);
    harvester.add_interval(1, Duration::from_secs(1), worker.take());
    worker.chat_failed();
    worker.chat_dropped();
    worker.set_active(0, 0);
    harvester.add_interval(2, MS * 500, worker.take());

    (info(started_at), harvester.finish())
}

fn request(worker: &mut WorkerMetrics, endpoint: Endpoint, lag: u64, ms: u64, outcome: Outcome) {
    let intended = Instant::now();
    let sent = intended + MS * lag as u32;
    worker.record_request(endpoint, intended, sent, sent + MS * ms as u32, outcome);
}

fn first_second(worker: &mut WorkerMetrics) {
    let ok = Outcome::Status(200);
    request(worker, Endpoint::Availability, 0, 1, ok);
    request(worker, Endpoint::RequestChat, 0, 5, ok);
    request(worker, Endpoint::RequestChat, 0, 7, ok);
    worker.client_started();
    worker.client_started();
    worker.chat_started();
    worker.chat_started();
    worker.record_measure(Measure::QueueWait, MS * 300);
    worker.set_active(2, 2);
}

fn second_second(worker: &mut WorkerMetrics) {
    for _ in 0..3 {
        request(worker, Endpoint::SendEvents, 0, 2, Outcome::Status(200));
    }
    request(worker, Endpoint::PollEvents, 10, 10, Outcome::Status(503));
    request(
        worker,
        Endpoint::PollEvents,
        40,
        30,
        Outcome::Error(ErrorKind::Timeout),
    );
    worker.chat_completed();
    worker.unknown_event();
    worker.set_active(2, 1);
}

fn info(started_at: SystemTime) -> RunInfo {
    RunInfo {
        scenario: "quickstart".into(),
        target: "https://127.0.0.1:8443".into(),
        started_at,
        duration: MS * 2500,
        segment: "1/1".into(),
        insecure: false,
        http: "auto".into(),
        connections: "shared".into(),
        scenario_toml: "name = \"quickstart\"\n".into(),
    }
}
