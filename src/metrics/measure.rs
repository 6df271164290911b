//! The chat-level measures recorded beside the endpoint latencies: what a
//! capacity plan is made of, rather than what one HTTP call cost.

use std::fmt;

/// A duration measured across several requests of one chat, or around one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    /// From Request Chat to the agent joining.
    QueueWait,
    /// From a customer message sent to the agent's next message received.
    AgentReply,
    /// From Request Chat to the chat's end.
    ChatDuration,
    /// Time a request waited for a free pooled connection.
    PoolWait,
    /// From a request's intended start to the moment the generator asked
    /// for a connection for it: the generator's own lateness (its timer,
    /// its event loop, its core), whatever the target does.
    SchedLag,
    /// From a request's intended start to its actual send: `sched_lag`
    /// plus `pool_wait`. What coordinated omission hides.
    SendLag,
}

impl Measure {
    /// Every measure, in the order reports list them.
    pub const ALL: [Measure; 6] = [
        Measure::QueueWait,
        Measure::AgentReply,
        Measure::ChatDuration,
        Measure::PoolWait,
        Measure::SchedLag,
        Measure::SendLag,
    ];

    /// The stable name used in results, thresholds and logs.
    pub fn name(self) -> &'static str {
        match self {
            Measure::QueueWait => "queue_wait",
            Measure::AgentReply => "agent_reply",
            Measure::ChatDuration => "chat_duration",
            Measure::PoolWait => "pool_wait",
            Measure::SchedLag => "sched_lag",
            Measure::SendLag => "send_lag",
        }
    }

    /// The measure with this result name.
    pub fn from_name(name: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Position in [`Measure::ALL`], for array-indexed recorders.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_into_all() {
        for measure in Measure::ALL {
            assert_eq!(Measure::from_name(measure.name()), Some(measure));
            assert_eq!(Measure::ALL[measure.index()], measure);
        }
        assert_eq!(Measure::from_name("request_chat"), None);
    }
}
