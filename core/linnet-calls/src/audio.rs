//! Filled in by the calls work (issue 7).
