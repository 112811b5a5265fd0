//! Message archive sync (issue 5, XEP-0313 MAM) against both real servers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use linnet_tests::archive::archived_bodies;
use linnet_tests::seed::{archive_contents, fill_archive};
use linnet_tests::*;

/// The seeding helper itself: every message is in the target's archive exactly once, in
/// sending order, with its direction (every 3rd from the target's other device), and nothing
/// else is.
async fn seeding_fills_the_archive_in_order(server: TestServer) {
    let (target, password) = create_account(&server, "seedtarget");
    let seeded = fill_archive(&server, &target, &password, 4, 60, 3, "seed").await;
    eprintln!(
        "seed: {}: {} messages over {} conversations in {:.2} s",
        server.name,
        seeded.total(),
        seeded.conversations.len(),
        seeded.elapsed.as_secs_f64()
    );
    assert_eq!(seeded.total(), 240);
    assert_eq!(
        seeded
            .messages
            .values()
            .flatten()
            .filter(|m| m.outgoing)
            .count(),
        80
    );
    let archived = archive_contents(&server, &target, &password).await;
    assert_eq!(archived, seeded.messages, "{}", server.name);
    // The older test-only query sees the same conversation, both directions.
    let (peer, bodies) = seeded.conversations.iter().next().unwrap();
    assert_eq!(
        &archived_bodies(&server, &target, &password, peer).await,
        bodies
    );
}
on_both_servers!(seeding_fills_the_archive_in_order);
