//! The incoming XML stream reader with limits, and stream writing helpers.
