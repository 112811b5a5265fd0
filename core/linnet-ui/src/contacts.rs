//! Contacts: the roster with presence, and pending subscription requests.

use linnet_sdk::{Client, LinnetError, store::Subscription};

use crate::presence::Availability;
use crate::{ListListener, TaskHandle};

/// One row of the contacts screen. Pending requests from people not in the roster appear too.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactItem {
    /// Bare JID: the row's identity.
    pub jid: String,
    pub display_name: String,
    /// `None` for someone who only asked to subscribe.
    pub subscription: Option<Subscription>,
    pub presence: Availability,
    pub status: Option<String>,
    /// They asked to see our presence and wait for approve / deny.
    pub pending_request: bool,
    /// We asked to see theirs and wait for their answer.
    pub awaiting_approval: bool,
}

pub struct Contacts {
    #[allow(dead_code)]
    client: Client,
}

impl Contacts {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Pending requests first, then contacts by display name.
    pub fn items(&self) -> Result<Vec<ContactItem>, LinnetError> {
        unimplemented!("skeleton")
    }

    pub fn subscribe(
        &self,
        _listener: ListListener<ContactItem>,
    ) -> Result<TaskHandle, LinnetError> {
        unimplemented!("skeleton")
    }

    pub async fn add(&self, _jid: &str, _name: Option<&str>) -> Result<(), LinnetError> {
        unimplemented!("skeleton")
    }

    pub async fn remove(&self, _jid: &str) -> Result<(), LinnetError> {
        unimplemented!("skeleton")
    }

    pub fn approve(&self, _jid: &str) -> Result<(), LinnetError> {
        unimplemented!("skeleton")
    }

    pub fn deny(&self, _jid: &str) -> Result<(), LinnetError> {
        unimplemented!("skeleton")
    }
}
