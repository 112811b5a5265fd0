//! Chat State Notifications (XEP-0085): typing indicators.

use minidom::Element;
use xmpp_parsers::message::Message;

use crate::ns;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatState {
    Active,
    Composing,
    Paused,
    Inactive,
    Gone,
}

impl ChatState {
    pub fn name(self) -> &'static str {
        match self {
            ChatState::Active => "active",
            ChatState::Composing => "composing",
            ChatState::Paused => "paused",
            ChatState::Inactive => "inactive",
            ChatState::Gone => "gone",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "active" => ChatState::Active,
            "composing" => ChatState::Composing,
            "paused" => ChatState::Paused,
            "inactive" => ChatState::Inactive,
            "gone" => ChatState::Gone,
            _ => return None,
        })
    }

    pub fn element(self) -> Element {
        Element::builder(self.name(), ns::CHATSTATES).build()
    }
}

pub fn of(message: &Message) -> Option<ChatState> {
    message
        .payloads
        .iter()
        .filter(|p| p.ns() == ns::CHATSTATES)
        .find_map(|p| ChatState::parse(p.name()))
}
