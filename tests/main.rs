//! Integration tests, compiled as one binary. Every test talks to a mock on
//! a loopback port chosen by the system (port 0), never a fixed one.

mod mock;
mod report;
mod run;
mod scenario;
mod shards;
mod transport;
