//! What the engine tells the transport: the target and the connection
//! policy, already resolved from the scenario and the command line.

use std::net::IpAddr;
use std::time::Duration;

use crate::scenario::HttpVersion;

/// Settings for every [`Transport`](super::Transport) of one run.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Scheme and authority of the target, such as
    /// `https://127.0.0.1:8443`. A path prefix is refused.
    pub base_url: String,
    /// HTTP version policy; it also sets the ALPN offer over TLS.
    pub http: HttpVersion,
    /// PEM holding extra trusted roots: a CA file's contents, or the
    /// embedded mock's certificate.
    pub ca_cert_pem: Option<Vec<u8>>,
    /// Trust the system's roots too. Off for the embedded mock, which must
    /// be trusted through its own certificate only.
    pub use_system_roots: bool,
    /// Skip certificate verification altogether. Only when the user asks.
    pub insecure: bool,
    /// Longest time for one exchange once a connection slot is held,
    /// connecting and reading the whole body included.
    pub request_timeout: Duration,
    /// Cap on requests in flight over HTTP/1.1 per transport, which is the
    /// number of connections it needs; `None` means no cap. HTTP/2
    /// multiplexes requests on one connection, so the cap does not apply.
    pub max_connections: Option<usize>,
    /// Local addresses to bind new connections to, in turn; empty lets
    /// the system choose.
    pub source_addrs: Vec<IpAddr>,
}
