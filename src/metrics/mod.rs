//! Per-worker histograms and counters.
