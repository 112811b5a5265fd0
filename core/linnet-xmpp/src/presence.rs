//! Presence and subscriptions (RFC 6121 §3-4).

use jid::{BareJid, Jid};
use xmpp_parsers::presence::{Presence, Show, Type};

/// An incoming presence, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresenceUpdate {
    Available {
        from: Jid,
        show: Option<String>,
        status: Option<String>,
    },
    Unavailable {
        from: Jid,
    },
    /// Someone asks to see our presence.
    SubscriptionRequest {
        from: BareJid,
    },
    /// Our request was approved.
    Subscribed {
        from: BareJid,
    },
    /// Our subscription was denied or cancelled.
    Unsubscribed {
        from: BareJid,
    },
    /// The contact stopped following our presence.
    Unsubscribe {
        from: BareJid,
    },
    Error {
        from: Option<Jid>,
    },
}

pub fn classify(p: &Presence) -> Option<PresenceUpdate> {
    let from = p.from.clone();
    let bare = || from.as_ref().map(|f| f.to_bare());
    Some(match p.type_ {
        Type::None => PresenceUpdate::Available {
            from: from?,
            show: p.show.as_ref().map(|s| show_name(s).to_string()),
            status: p.statuses.values().next().cloned(),
        },
        Type::Unavailable => PresenceUpdate::Unavailable { from: from? },
        Type::Subscribe => PresenceUpdate::SubscriptionRequest { from: bare()? },
        Type::Subscribed => PresenceUpdate::Subscribed { from: bare()? },
        Type::Unsubscribed => PresenceUpdate::Unsubscribed { from: bare()? },
        Type::Unsubscribe => PresenceUpdate::Unsubscribe { from: bare()? },
        Type::Error => PresenceUpdate::Error { from },
        Type::Probe => return None,
    })
}

fn show_name(s: &Show) -> &'static str {
    match s {
        Show::Away => "away",
        Show::Chat => "chat",
        Show::Dnd => "dnd",
        Show::Xa => "xa",
    }
}

pub fn initial() -> Presence {
    Presence::available()
}

pub fn unavailable() -> Presence {
    Presence::unavailable()
}

/// Ask to see a contact's presence.
pub fn subscribe(to: BareJid) -> Presence {
    Presence::subscribe().with_to(to)
}

/// Approve a contact's request (or pre-approve).
pub fn approve(to: BareJid) -> Presence {
    Presence::subscribed().with_to(to)
}

/// Deny a request, or cancel a subscription we granted.
pub fn deny(to: BareJid) -> Presence {
    Presence::new(Type::Unsubscribed).with_to(to)
}

/// Stop seeing a contact's presence.
pub fn unsubscribe(to: BareJid) -> Presence {
    Presence::unsubscribe().with_to(to)
}
