//! A contact's availability, as shown next to a name.

use linnet_sdk::PresenceInfo;

/// Best availability over all of the contact's online resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Availability {
    Offline,
    Online,
    Away,
    ExtendedAway,
    DoNotDisturb,
}

impl Availability {
    /// Maps the SDK's presence (its best resource) to what a UI shows.
    pub fn from_presence(presence: &PresenceInfo) -> Self {
        if !presence.available {
            return Availability::Offline;
        }
        match presence.show.as_deref() {
            Some("away") => Availability::Away,
            Some("xa") => Availability::ExtendedAway,
            Some("dnd") => Availability::DoNotDisturb,
            _ => Availability::Online,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_maps_to_availability() {
        for (available, show, expected) in [
            (false, None, Availability::Offline),
            (false, Some("away"), Availability::Offline),
            (true, None, Availability::Online),
            (true, Some("chat"), Availability::Online),
            (true, Some("away"), Availability::Away),
            (true, Some("xa"), Availability::ExtendedAway),
            (true, Some("dnd"), Availability::DoNotDisturb),
        ] {
            let presence = PresenceInfo {
                available,
                show: show.map(str::to_string),
                status: None,
            };
            assert_eq!(Availability::from_presence(&presence), expected, "{show:?}");
        }
    }
}
