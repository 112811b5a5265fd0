//! Contacts: the roster with presence, and pending subscription requests.

use std::collections::HashSet;

use linnet_sdk::{Client, ClientEvent, LinnetError, store::Subscription};
use tokio::sync::watch;

use crate::observe::observe_list;
use crate::presence::Availability;
use crate::{ListListener, TaskHandle, display_name};

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
    client: Client,
    /// Bumped after our own changes that the client reports no event for (an answered request
    /// leaves the store quietly), so subscribers recompute.
    changed: watch::Sender<u64>,
}

impl Contacts {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            changed: watch::Sender::new(0),
        }
    }

    /// Pending requests first, then contacts by display name.
    pub fn items(&self) -> Result<Vec<ContactItem>, LinnetError> {
        items(&self.client)
    }

    pub fn subscribe(
        &self,
        listener: ListListener<ContactItem>,
    ) -> Result<TaskHandle, LinnetError> {
        let client = self.client.clone();
        observe_list(
            &self.client,
            move || items(&client),
            relevant,
            |item: &ContactItem| item.jid.clone(),
            Some(self.changed.subscribe()),
            listener,
        )
    }

    pub async fn add(&self, jid: &str, name: Option<&str>) -> Result<(), LinnetError> {
        let result = self.client.add_contact(jid, name).await;
        self.touch();
        result
    }

    pub async fn remove(&self, jid: &str) -> Result<(), LinnetError> {
        let result = self.client.remove_contact(jid).await;
        self.touch();
        result
    }

    pub fn approve(&self, jid: &str) -> Result<(), LinnetError> {
        let result = self.client.approve(jid);
        self.touch();
        result
    }

    pub fn deny(&self, jid: &str) -> Result<(), LinnetError> {
        let result = self.client.deny(jid);
        self.touch();
        result
    }

    fn touch(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }
}

fn relevant(event: &ClientEvent) -> bool {
    matches!(
        event,
        ClientEvent::RosterChanged
            | ClientEvent::Presence { .. }
            | ClientEvent::SubscriptionRequest { .. }
            | ClientEvent::Subscription { .. }
            | ClientEvent::Connection(_)
    )
}

fn items(client: &Client) -> Result<Vec<ContactItem>, LinnetError> {
    let roster = client.roster()?;
    let requests = client.subscription_requests()?;
    let pending: HashSet<&str> = requests.iter().map(|r| r.jid.as_str()).collect();
    let in_roster: HashSet<&str> = roster.iter().map(|c| c.jid.as_str()).collect();
    let row = |jid: &str, name: Option<&str>, subscription, awaiting_approval| {
        let presence = client.presence(jid);
        ContactItem {
            jid: jid.to_string(),
            display_name: display_name(name, jid),
            subscription,
            presence: Availability::from_presence(&presence),
            status: presence.status,
            pending_request: pending.contains(jid),
            awaiting_approval,
        }
    };
    let mut items: Vec<ContactItem> = roster
        .iter()
        .map(|c| row(&c.jid, c.name.as_deref(), Some(c.subscription), c.ask))
        .chain(
            requests
                .iter()
                .filter(|r| !in_roster.contains(r.jid.as_str()))
                .map(|r| row(&r.jid, None, None, false)),
        )
        .collect();
    items.sort_by_cached_key(|c| {
        (
            !c.pending_request,
            c.display_name.to_lowercase(),
            c.jid.clone(),
        )
    });
    Ok(items)
}
