//! A contact's availability, as shown next to a name.

/// Best availability over all of the contact's online resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Availability {
    Offline,
    Online,
    Away,
    ExtendedAway,
    DoNotDisturb,
}
