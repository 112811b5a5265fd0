//! What is only known while online, kept in memory and never stored: each contact's available
//! resources (presence) and the last chat state (XEP-0085) each peer sent. Both are cleared when
//! the connection ends: everyone is offline when we are.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use linnet_xmpp::chatstates::ChatState;

/// How long "composing" lasts without news from the peer: clients send "paused" after about
/// this long without typing, so a "composing" older than this is shown as paused.
pub const COMPOSING_EXPIRES: Duration = Duration::from_secs(30);

/// A contact's presence: the best of its available resources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceInfo {
    pub available: bool,
    /// `None` (plain available), "chat", "away", "xa" or "dnd".
    pub show: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Resource {
    show: Option<String>,
    status: Option<String>,
    priority: i8,
}

/// How available a `show` value is: lower is more available.
fn show_rank(show: Option<&str>) -> u8 {
    match show {
        Some("chat") => 0,
        None => 1,
        Some("away") => 2,
        Some("xa") => 3,
        Some("dnd") => 4,
        Some(_) => 5,
    }
}

/// Available resources per bare JID.
#[derive(Debug, Default)]
pub(crate) struct PresenceCache {
    contacts: HashMap<String, HashMap<String, Resource>>,
}

impl PresenceCache {
    pub(crate) fn available(
        &mut self,
        bare: &str,
        resource: &str,
        show: Option<String>,
        status: Option<String>,
        priority: i8,
    ) {
        self.contacts.entry(bare.to_string()).or_default().insert(
            resource.to_string(),
            Resource {
                show,
                status,
                priority,
            },
        );
    }

    /// A resource went offline; unavailable from the bare JID means all of them.
    pub(crate) fn unavailable(&mut self, bare: &str, resource: Option<&str>) {
        match resource {
            Some(r) => {
                if let Some(resources) = self.contacts.get_mut(bare) {
                    resources.remove(r);
                    if resources.is_empty() {
                        self.contacts.remove(bare);
                    }
                }
            }
            None => {
                self.contacts.remove(bare);
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.contacts.clear();
    }

    /// The best resource: highest priority, then the most available `show`.
    pub(crate) fn get(&self, bare: &str) -> PresenceInfo {
        let best = self.contacts.get(bare).and_then(|resources| {
            resources.values().min_by(|a, b| {
                b.priority
                    .cmp(&a.priority)
                    .then_with(|| show_rank(a.show.as_deref()).cmp(&show_rank(b.show.as_deref())))
                    .then_with(|| a.status.cmp(&b.status))
            })
        });
        match best {
            Some(r) => PresenceInfo {
                available: true,
                show: r.show.clone(),
                status: r.status.clone(),
            },
            None => PresenceInfo::default(),
        }
    }
}

/// The last chat state received from each peer, with when it arrived.
#[derive(Debug, Default)]
pub(crate) struct ChatStates {
    states: HashMap<String, (ChatState, Instant)>,
}

impl ChatStates {
    /// Records a state; returns the time stamp to check an expiry against.
    pub(crate) fn set(&mut self, peer: &str, state: ChatState) -> Instant {
        let now = Instant::now();
        self.states.insert(peer.to_string(), (state, now));
        now
    }

    /// A message with a body ends "composing".
    pub(crate) fn message_arrived(&mut self, peer: &str) -> bool {
        self.states.remove(peer).is_some()
    }

    pub(crate) fn clear(&mut self) {
        self.states.clear();
    }

    /// Turns a "composing" set at `since` into "paused" (if nothing newer came); returns whether it did.
    pub(crate) fn expire(&mut self, peer: &str, since: Instant) -> bool {
        match self.states.get_mut(peer) {
            Some(entry) if entry.0 == ChatState::Composing && entry.1 == since => {
                entry.0 = ChatState::Paused;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn get(&self, peer: &str) -> Option<ChatState> {
        self.states.get(peer).map(|&(state, since)| {
            if state == ChatState::Composing && since.elapsed() >= COMPOSING_EXPIRES {
                ChatState::Paused
            } else {
                state
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_resource_is_highest_priority_then_most_available() {
        let mut c = PresenceCache::default();
        assert!(!c.get("a@x").available);
        c.available("a@x", "phone", Some("away".into()), None, 0);
        c.available("a@x", "laptop", Some("dnd".into()), Some("busy".into()), 0);
        assert_eq!(c.get("a@x").show.as_deref(), Some("away"));
        c.available("a@x", "desk", Some("xa".into()), None, 5);
        assert_eq!(c.get("a@x").show.as_deref(), Some("xa"), "priority wins");
        c.available("a@x", "tab", None, None, 5);
        assert_eq!(c.get("a@x").show, None, "plain available beats xa");
        c.unavailable("a@x", Some("tab"));
        c.unavailable("a@x", Some("desk"));
        assert_eq!(c.get("a@x").show.as_deref(), Some("away"));
        c.unavailable("a@x", None);
        assert_eq!(c.get("a@x"), PresenceInfo::default());
        c.available("b@x", "r", None, None, 0);
        c.clear();
        assert!(!c.get("b@x").available);
    }

    #[test]
    fn composing_ends_with_a_message_or_expires() {
        let mut s = ChatStates::default();
        let since = s.set("a@x", ChatState::Composing);
        assert_eq!(s.get("a@x"), Some(ChatState::Composing));
        assert!(s.expire("a@x", since));
        assert_eq!(s.get("a@x"), Some(ChatState::Paused));
        let newer = s.set("a@x", ChatState::Composing);
        assert!(!s.expire("a@x", since), "a newer composing is kept");
        assert_eq!(s.get("a@x"), Some(ChatState::Composing));
        assert!(s.message_arrived("a@x"));
        assert_eq!(s.get("a@x"), None);
        assert!(!s.expire("a@x", newer));
    }
}
