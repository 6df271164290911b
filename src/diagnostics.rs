//! Diagnostics through `tracing`, on stderr, apart from the report (stdout)
//! and the progress display.

use tracing_subscriber::EnvFilter;

/// Installs the stderr subscriber. `RUST_LOG`, when set, wins over `level`.
/// Calling it twice is harmless, so tests may call it too.
pub fn init(level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
