//! Terminal summary, results files and progress.
