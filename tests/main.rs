//! Integration tests, compiled as one binary. Every test talks to a mock on
//! a loopback port chosen by the system (port 0), never a fixed one.

mod abuse;
mod mock;
mod props;
mod report;
mod robust;
mod run;
mod scenario;
mod transport;
