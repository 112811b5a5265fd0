//! Linnet store.
