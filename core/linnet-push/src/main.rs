//! `linnet-push --config FILE`: runs the push app server (the same as `linnet push-server`).

fn main() {}
