//! The open-file limit. Every connection is a file descriptor, and the
//! common default soft limit (1024) is far below what thousands of virtual
//! clients need, while the hard limit usually allows much more.

use rlimit::Resource;

/// Raises the soft open-file limit towards `wanted` (up to the hard limit);
/// returns the limit now in force. Logs at warn when it stays below
/// `wanted`.
pub fn raise_fd_limit(wanted: u64) -> u64 {
    let limit = match rlimit::increase_nofile_limit(wanted) {
        Ok(limit) => limit,
        Err(err) => {
            tracing::warn!(%err, wanted, "could not raise the open-file limit");
            current_soft_limit()
        }
    };

    if limit < wanted {
        tracing::warn!(
            wanted,
            limit,
            "the open-file limit stays below what this run may need; raise the hard limit \
             (ulimit -Hn) or lower the connection count"
        );
    } else {
        tracing::debug!(wanted, limit, "open-file limit");
    }
    limit
}

fn current_soft_limit() -> u64 {
    match Resource::NOFILE.get() {
        Ok((soft, _hard)) => soft,
        Err(err) => {
            tracing::warn!(%err, "could not read the open-file limit");
            0
        }
    }
}
