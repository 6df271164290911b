//! Counting panics during a run. A panic in a client's task is caught by
//! the worker's runtime and would otherwise vanish with the task, leaving
//! figures that look whole but miss what the task was doing; a panic is a
//! bug in chatload, so the run says so in its summary instead.

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

/// Panics seen by the hook since the process started, on any thread.
static PANICS: AtomicU64 = AtomicU64::new(0);

static INSTALL: Once = Once::new();

/// Panics counted from the moment it was made.
pub struct PanicWatch {
    before: u64,
}

impl PanicWatch {
    /// Starts counting, installing the process's counting hook the first
    /// time. The hook keeps the one before it, so messages still print.
    pub fn start() -> PanicWatch {
        INSTALL.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                PANICS.fetch_add(1, Ordering::Relaxed);
                previous(info);
            }));
        });
        PanicWatch {
            before: PANICS.load(Ordering::Relaxed),
        }
    }

    /// Panics since [`PanicWatch::start`]. In a process that runs several
    /// things at once (a test binary), it counts theirs too.
    pub fn count(&self) -> u64 {
        PANICS.load(Ordering::Relaxed) - self.before
    }

    /// The summary's warning, when there was a panic.
    pub fn warning(&self) -> Option<String> {
        let count = self.count();
        (count > 0).then(|| {
            format!(
                "{count} panics inside chatload during the run: a bug, not the target's \
                 fault; the figures may miss what the panicking tasks were doing; please \
                 report it with the output of --log debug"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_task_is_counted() {
        let watch = PanicWatch::start();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let joined = runtime.block_on(async { tokio::spawn(async { panic!("on purpose") }).await });
        assert!(joined.is_err());
        assert!(watch.count() >= 1);
        assert!(watch.warning().unwrap().contains("panics inside chatload"));
    }
}
