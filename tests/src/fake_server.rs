//! Scripted fake server (adversarial cases). Filled in by the harness work.
