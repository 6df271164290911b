//! Integration tests, compiled as one binary. Every test talks to a mock on
//! a loopback port chosen by the system (port 0), never a fixed one.

mod abuse;
mod compare;
mod faults;
mod html;
mod mock;
mod openmetrics;
mod props;
mod report;
mod robust;
mod run;
mod scenario;
mod shards;
mod thresholds;
mod transport;
mod warm_up;
