//! Message archive sync (issue 5, XEP-0313 MAM) against both real servers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use linnet_tests::archive::archived_bodies;
use linnet_tests::seed::fill_archive;
use linnet_tests::*;

/// The seeding helper itself: 2,000 messages over 20 conversations (every 10th from the
/// target's other device) are in the target's archive, in sending order, exactly once.
async fn seeds_2000_messages(server: TestServer) {
    let (target, password) = create_account(&server, "seedtarget");
    let seeded = fill_archive(&server, &target, &password, 20, 100, 10, "seed").await;
    eprintln!(
        "seed: {}: {} messages over {} conversations in {:.2} s",
        server.name,
        seeded.total(),
        seeded.conversations.len(),
        seeded.elapsed.as_secs_f64()
    );
    assert_eq!(seeded.total(), 2000);
    for (peer, bodies) in &seeded.conversations {
        let archived = archived_bodies(&server, &target, &password, peer).await;
        assert_eq!(&archived, bodies, "{}: archive of {peer}", server.name);
    }
}
on_both_servers!(seeds_2000_messages);
