//! Which faults hit one request: rolled once, before the request is
//! handled, from the faults that name its method.
//!
//! Several faults may name the same method. Holds add up (a stall, then
//! added latency); of the faults that replace the answer or reshape its
//! body only the first hit in file order applies, since a response can
//! have one shape only.

use std::time::Duration;

use rand::Rng;

use crate::api::Endpoint;
use crate::scenario::{DurationRange, Fault, FaultKind, ResetPoint, ServerEnd};

use super::stall;

/// What the faults decided for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Plan {
    /// How long to answer nothing before the request is handled.
    pub hold: Duration,
    /// An answer that replaces the handler's, if any.
    pub refusal: Option<Refusal>,
    /// A change to the shape of the handler's answer, if any.
    pub body: Option<BodyFault>,
    /// How the request's chat is ended after the answer, if at all.
    pub end_chat: Option<ServerEnd>,
}

/// An answer given instead of the handler's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The connection closes before anything is read or answered.
    Reset,
    /// An API error response.
    Error {
        /// HTTP status.
        status: u16,
        /// API error code.
        code: u16,
    },
}

/// How the handler's answer is reshaped on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyFault {
    /// The body is replaced by text that is not JSON.
    Malformed,
    /// The full length is declared, half the body sent, then the
    /// connection closes.
    Truncate,
    /// Half the body is sent with no length declared, then the connection
    /// is torn down.
    Reset,
    /// One byte at a time, with this pause before each.
    Slow(Duration),
}

impl Plan {
    /// Rolls the `faults` for a request to `endpoint` arriving at
    /// `wall_time` (since the Unix epoch), drawing from `rng`.
    pub fn roll(
        faults: &[Fault],
        endpoint: Endpoint,
        wall_time: Duration,
        rng: &mut impl Rng,
    ) -> Plan {
        let mut plan = Plan::default();
        for fault in faults.iter().filter(|f| names(f, endpoint)) {
            if let FaultKind::Stall { every, hold } = fault.kind {
                plan.hold += stall::wait(wall_time, every, hold);
            } else if hits(fault.rate, rng) {
                plan.apply(fault.kind, rng);
            }
        }
        plan
    }

    fn apply(&mut self, kind: FaultKind, rng: &mut impl Rng) {
        match kind {
            FaultKind::Latency { delay } => self.hold += draw(delay, rng),
            FaultKind::Error { status, code } => {
                self.refusal.get_or_insert(Refusal::Error { status, code });
            }
            FaultKind::Reset {
                at: ResetPoint::Request,
            } => {
                self.refusal.get_or_insert(Refusal::Reset);
            }
            FaultKind::Reset {
                at: ResetPoint::Response,
            } => self.reshape(BodyFault::Reset),
            FaultKind::Malformed => self.reshape(BodyFault::Malformed),
            FaultKind::Truncate => self.reshape(BodyFault::Truncate),
            FaultKind::SlowBody { byte_every } => self.reshape(BodyFault::Slow(byte_every)),
            FaultKind::EndChat { how } => {
                self.end_chat.get_or_insert(how);
            }
            FaultKind::Stall { .. } => {}
        }
    }

    fn reshape(&mut self, fault: BodyFault) {
        self.body.get_or_insert(fault);
    }
}

fn names(fault: &Fault, endpoint: Endpoint) -> bool {
    fault.endpoints.is_empty() || fault.endpoints.contains(&endpoint)
}

/// A comparison instead of `random_bool`, which panics on a rate outside
/// 0..=1 or NaN; a configuration built in code is not validated.
fn hits(rate: f64, rng: &mut impl Rng) -> bool {
    rate >= 1.0 || rng.random::<f64>() < rate
}

fn draw(range: DurationRange, rng: &mut impl Rng) -> Duration {
    if range.max > range.min {
        rng.random_range(range.min..=range.max)
    } else {
        range.min
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    fn fault(kind: FaultKind, rate: f64, endpoints: &[Endpoint]) -> Fault {
        Fault {
            endpoints: endpoints.to_vec(),
            rate,
            kind,
        }
    }

    fn roll(faults: &[Fault], endpoint: Endpoint) -> Plan {
        let mut rng = SmallRng::seed_from_u64(7);
        Plan::roll(faults, endpoint, Duration::from_secs(10), &mut rng)
    }

    #[test]
    fn faults_touch_only_the_methods_they_name() {
        let error = FaultKind::Error {
            status: 503,
            code: 5001,
        };
        let faults = [fault(error, 1.0, &[Endpoint::RequestChat])];
        assert_eq!(roll(&faults, Endpoint::Version), Plan::default());
        let refusal = roll(&faults, Endpoint::RequestChat).refusal;
        assert_eq!(
            refusal,
            Some(Refusal::Error {
                status: 503,
                code: 5001
            })
        );
    }

    #[test]
    fn a_fault_hits_about_its_rate_of_requests() {
        let faults = [fault(FaultKind::Malformed, 0.2, &[])];
        let mut rng = SmallRng::seed_from_u64(1);
        let hit = (0..10_000)
            .filter(|_| {
                let plan = Plan::roll(&faults, Endpoint::Version, Duration::ZERO, &mut rng);
                plan.body.is_some()
            })
            .count();
        assert!((1_800..2_200).contains(&hit), "{hit} of 10000");
    }

    #[test]
    fn holds_add_up_and_the_first_body_fault_wins() {
        let delay = DurationRange::fixed(Duration::from_millis(30));
        let faults = [
            fault(FaultKind::Latency { delay }, 1.0, &[]),
            fault(FaultKind::Latency { delay }, 1.0, &[]),
            fault(FaultKind::Truncate, 1.0, &[]),
            fault(FaultKind::Malformed, 1.0, &[]),
        ];
        let plan = roll(&faults, Endpoint::PollEvents);
        assert_eq!(plan.hold, Duration::from_millis(60));
        assert_eq!(plan.body, Some(BodyFault::Truncate));
    }

    #[test]
    fn a_stall_holds_until_its_end_whatever_the_rate() {
        let stall = FaultKind::Stall {
            every: Duration::from_secs(1),
            hold: Duration::from_millis(250),
        };
        let faults = [fault(stall, 0.0, &[])];
        let mut rng = SmallRng::seed_from_u64(3);
        let at = Duration::from_millis(10_100);
        let plan = Plan::roll(&faults, Endpoint::Availability, at, &mut rng);
        assert_eq!(plan.hold, Duration::from_millis(150));
    }

    #[test]
    fn a_rate_outside_zero_to_one_does_not_panic() {
        let faults = [
            fault(FaultKind::Malformed, f64::NAN, &[]),
            fault(FaultKind::Truncate, -1.0, &[]),
        ];
        assert_eq!(roll(&faults, Endpoint::Version).body, None);
    }
}
