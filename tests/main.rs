//! Integration tests, compiled as one binary. Every test talks to a mock on
//! a loopback port chosen by the system (port 0), never a fixed one.

mod html;
mod openmetrics;
mod report;
mod scenario;
mod transport;
