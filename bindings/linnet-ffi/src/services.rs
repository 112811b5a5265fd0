//! One object per view-model service of linnet-ui, plus the listeners and the handle that
//! stops them. Each method converts and delegates.

use std::sync::Arc;

use linnet_sdk::LinnetError;
use linnet_ui::{
    ChatList, ConnectionService, Contacts, Diagnostics, ListListener, Settings, Timeline, VecDiff,
};

use crate::calls::CallService;
use crate::errors::{ChatError, ConnectError, ContactError, DiagnosticsError, TaskFailed};
use crate::runtime::{in_runtime, in_runtime_or_log, on_runtime};
use crate::types::{
    ChatListDiff, ChatListItem, ConnectionState, ContactItem, ContactsDiff, DoctorReport,
    Preferences, SyncStatus, TimelineDiff, TimelineItem,
};

fn convert<A, B: From<A>>(values: Vec<A>) -> Vec<B> {
    values.into_iter().map(Into::into).collect()
}

/// Stops a subscription: after `cancel` returns no new callback starts. Dropping it (or the
/// garbage collector finalising it) cancels too.
#[derive(uniffi::Object)]
pub struct TaskHandle(linnet_ui::TaskHandle);

#[uniffi::export]
impl TaskHandle {
    pub fn cancel(&self) {
        self.0.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

pub(crate) fn handle(h: linnet_ui::TaskHandle) -> Arc<TaskHandle> {
    Arc::new(TaskHandle(h))
}

/// Subscribes `on_update` (a foreign listener's method) to a core list, converting each diff.
fn subscribe_list<Core, Ffi, E>(
    subscribe: impl FnOnce(ListListener<Core>) -> Result<linnet_ui::TaskHandle, LinnetError>,
    on_update: impl Fn(Vec<Ffi>) + Send + Sync + 'static,
) -> Result<Arc<TaskHandle>, E>
where
    Ffi: From<VecDiff<Core>>,
    E: From<LinnetError> + From<TaskFailed>,
{
    let h = in_runtime(|| subscribe(Box::new(move |diffs| on_update(convert(diffs)))))??;
    Ok(handle(h))
}

#[uniffi::export(with_foreign)]
pub trait ChatListListener: Send + Sync {
    /// A batch of diffs; the first batch is one `Reset` with the whole list.
    fn on_update(&self, diffs: Vec<ChatListDiff>);
}

#[uniffi::export(with_foreign)]
pub trait TimelineListener: Send + Sync {
    fn on_update(&self, diffs: Vec<TimelineDiff>);
}

#[uniffi::export(with_foreign)]
pub trait TypingListener: Send + Sync {
    /// The peer started (true) or stopped (false) typing.
    fn on_typing(&self, typing: bool);
}

#[uniffi::export(with_foreign)]
pub trait ContactsListener: Send + Sync {
    fn on_update(&self, diffs: Vec<ContactsDiff>);
}

#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    /// The current status first, then its changes.
    fn on_sync(&self, status: SyncStatus);
}

#[uniffi::export(with_foreign)]
pub trait ConnectionListener: Send + Sync {
    /// The current state first, then every change.
    fn on_state(&self, state: ConnectionState);
}

/// One account: its connection and the services of its screens.
#[derive(uniffi::Object)]
pub struct LinnetClient {
    jid: String,
    connection: Arc<ConnectionController>,
    chat_list: Arc<ChatListService>,
    contacts: Arc<ContactsService>,
    settings: Arc<SettingsService>,
    diagnostics: Arc<DiagnosticsService>,
    calls: Arc<CallService>,
    push: Arc<crate::push::PushService>,
    client: linnet_sdk::Client,
}

impl LinnetClient {
    pub(crate) fn new(client: linnet_sdk::Client) -> Arc<Self> {
        Arc::new(Self {
            jid: client.jid().to_string(),
            connection: Arc::new(ConnectionController(Arc::new(ConnectionService::new(
                client.clone(),
            )))),
            chat_list: Arc::new(ChatListService(ChatList::new(client.clone()))),
            contacts: Arc::new(ContactsService(Arc::new(Contacts::new(client.clone())))),
            settings: Arc::new(SettingsService(Settings::new(client.clone()))),
            diagnostics: Arc::new(DiagnosticsService(Arc::new(Diagnostics::new(
                client.clone(),
            )))),
            calls: CallService::new(client.clone()),
            push: crate::push::PushService::new(client.clone()),
            client,
        })
    }

    pub(crate) fn core(&self) -> &linnet_sdk::Client {
        &self.client
    }

    pub(crate) fn connection_service(&self) -> &ConnectionController {
        &self.connection
    }
}

#[uniffi::export]
impl LinnetClient {
    /// The account's bare JID.
    pub fn jid(&self) -> String {
        self.jid.clone()
    }

    pub fn connection(&self) -> Arc<ConnectionController> {
        self.connection.clone()
    }

    pub fn chat_list(&self) -> Arc<ChatListService> {
        self.chat_list.clone()
    }

    /// The timeline of the conversation with `peer` (a bare JID).
    pub fn timeline(&self, peer: String) -> Result<Arc<TimelineService>, ChatError> {
        Ok(Arc::new(TimelineService(Arc::new(Timeline::new(
            self.client.clone(),
            &peer,
        )?))))
    }

    pub fn contacts(&self) -> Arc<ContactsService> {
        self.contacts.clone()
    }

    pub fn settings(&self) -> Arc<SettingsService> {
        self.settings.clone()
    }

    pub fn diagnostics(&self) -> Arc<DiagnosticsService> {
        self.diagnostics.clone()
    }

    /// Voice calls: the call screen, its controls, the call log.
    pub fn calls(&self) -> Arc<CallService> {
        self.calls.clone()
    }

    /// Push notifications: the platform's permission, token and app server.
    pub fn push(&self) -> Arc<crate::push::PushService> {
        self.push.clone()
    }
}

/// Offline / connecting / online / disconnected-with-reason, and the controls.
#[derive(uniffi::Object)]
pub struct ConnectionController(Arc<ConnectionService>);

#[uniffi::export]
impl ConnectionController {
    pub fn state(&self) -> ConnectionState {
        self.0.state().into()
    }

    /// Since when (Unix ms) messages may be missing on this device (a connection was lost
    /// without resumption), or null.
    pub fn history_gap_since(&self) -> Result<Option<i64>, ConnectError> {
        Ok(self.0.history_gap_since()?)
    }

    pub fn subscribe(
        &self,
        listener: Arc<dyn ConnectionListener>,
    ) -> Result<Arc<TaskHandle>, ConnectError> {
        let h = in_runtime(|| {
            self.0
                .subscribe(Box::new(move |state| listener.on_state(state.into())))
        })??;
        Ok(handle(h))
    }

    /// Connects and keeps the account connected (reconnecting with backoff) until `stop`.
    /// Throws the first attempt's failure; later ones arrive through the state.
    pub async fn start(&self) -> Result<(), ConnectError> {
        let service = self.0.clone();
        on_runtime(async move { Ok(service.start().await?) }).await
    }

    /// Tries again now, skipping the backoff (also after a wrong password, once fixed).
    pub fn reconnect_now(&self) {
        in_runtime_or_log("reconnect_now", || self.0.reconnect_now());
    }

    pub fn network_changed(&self, available: bool) {
        in_runtime_or_log("network_changed", || self.0.network_changed(available));
    }

    pub fn set_foreground(&self, foreground: bool) {
        in_runtime_or_log("set_foreground", || self.0.set_foreground(foreground));
    }

    /// Signs out of the server and stops reconnecting.
    pub async fn stop(&self) {
        let service = self.0.clone();
        let _: Result<(), ConnectError> = on_runtime(async move {
            service.stop().await;
            Ok(())
        })
        .await;
    }
}

/// Conversations by last activity, with unread counts, previews, typing and presence.
#[derive(uniffi::Object)]
pub struct ChatListService(ChatList);

#[uniffi::export]
impl ChatListService {
    pub fn items(&self) -> Result<Vec<ChatListItem>, ChatError> {
        Ok(convert(self.0.items()?))
    }

    pub fn subscribe(
        &self,
        listener: Arc<dyn ChatListListener>,
    ) -> Result<Arc<TaskHandle>, ChatError> {
        subscribe_list(
            |l| self.0.subscribe(l),
            move |diffs| listener.on_update(diffs),
        )
    }

    /// Whether history is being synced with the server archive, and how far.
    pub fn sync_status(&self) -> SyncStatus {
        self.0.sync_status().into()
    }

    /// The sync status now, then its changes (coalesced).
    pub fn subscribe_sync(
        &self,
        listener: Arc<dyn SyncListener>,
    ) -> Result<Arc<TaskHandle>, ChatError> {
        let h = in_runtime(|| {
            self.0
                .subscribe_sync(Box::new(move |status| listener.on_sync(status.into())))
        })?;
        Ok(handle(h))
    }
}

/// One conversation: paged history, local echo of sends with their delivery state.
#[derive(uniffi::Object)]
pub struct TimelineService(Arc<Timeline>);

#[uniffi::export]
impl TimelineService {
    pub fn peer(&self) -> String {
        self.0.peer().to_string()
    }

    pub fn items(&self) -> Result<Vec<TimelineItem>, ChatError> {
        Ok(convert(self.0.items()?))
    }

    pub fn subscribe(
        &self,
        listener: Arc<dyn TimelineListener>,
    ) -> Result<Arc<TaskHandle>, ChatError> {
        subscribe_list(
            |l| self.0.subscribe(l),
            move |diffs| listener.on_update(diffs),
        )
    }

    /// Whether the peer is typing now.
    pub fn peer_typing(&self) -> bool {
        self.0.peer_typing()
    }

    /// Whether the peer is typing: the current value first, then every change (also before
    /// the conversation's first message, when the chat list has no row for it yet).
    pub fn subscribe_typing(
        &self,
        listener: Arc<dyn TypingListener>,
    ) -> Result<Arc<TaskHandle>, ChatError> {
        let h = in_runtime(|| {
            self.0
                .subscribe_typing(Box::new(move |typing| listener.on_typing(typing)))
        })??;
        Ok(handle(h))
    }

    /// Loads up to `count` older messages (they arrive as inserts at the top). Returns true
    /// when the start of the conversation is reached.
    pub fn paginate_backwards(&self, count: u32) -> Result<bool, ChatError> {
        Ok(in_runtime(|| self.0.paginate_backwards(count))??)
    }

    /// `paginate_backwards`, then older history from the server archive once the stored
    /// history is exhausted. Returns true when the start of the conversation is reached (false
    /// offline: try again when connected).
    pub async fn load_older(&self, count: u32) -> Result<bool, ChatError> {
        let timeline = self.0.clone();
        on_runtime(async move { Ok(timeline.load_older(count).await?) }).await
    }

    /// Sends a message: it shows at once as `Queued`, then advances. Returns its id.
    pub fn send(&self, body: String) -> Result<i64, ChatError> {
        Ok(self.0.send(&body)?)
    }

    /// Sends a failed message again; a failed or cancelled upload is queued again first (in
    /// the runtime: the transfer workers may start here).
    pub fn retry(&self, message_id: i64) -> Result<(), ChatError> {
        Ok(in_runtime(|| self.0.retry(message_id))??)
    }

    /// Sends the file at `path`: it shows at once with its upload `Queued`, then its progress,
    /// then the message's delivery states. Returns the message's id. A missing file throws
    /// `FileUnreadable`; one over the server's known limit `FileTooLarge`.
    pub fn send_file(&self, path: String) -> Result<i64, ChatError> {
        Ok(in_runtime(|| {
            self.0.send_file(std::path::Path::new(&path))
        })??)
    }

    /// Downloads the file of an incoming message (offered, failed or cancelled).
    pub fn download(&self, message_id: i64) -> Result<(), ChatError> {
        Ok(in_runtime(|| self.0.download(message_id))??)
    }

    /// Cancels a transfer that has not finished.
    pub fn cancel_transfer(&self, message_id: i64) -> Result<(), ChatError> {
        Ok(in_runtime(|| self.0.cancel_transfer(message_id))??)
    }

    /// Marks the conversation read (and tells the peer, if the settings allow).
    pub fn mark_read(&self) -> Result<(), ChatError> {
        Ok(self.0.mark_read()?)
    }

    pub fn set_typing(&self, typing: bool) -> Result<(), ChatError> {
        Ok(self.0.set_typing(typing)?)
    }
}

/// The roster with presence, and pending subscription requests.
#[derive(uniffi::Object)]
pub struct ContactsService(Arc<Contacts>);

#[uniffi::export]
impl ContactsService {
    pub fn items(&self) -> Result<Vec<ContactItem>, ContactError> {
        Ok(convert(self.0.items()?))
    }

    pub fn subscribe(
        &self,
        listener: Arc<dyn ContactsListener>,
    ) -> Result<Arc<TaskHandle>, ContactError> {
        subscribe_list(
            |l| self.0.subscribe(l),
            move |diffs| listener.on_update(diffs),
        )
    }

    /// Adds a contact and asks to see their presence.
    pub async fn add(&self, jid: String, name: Option<String>) -> Result<(), ContactError> {
        let contacts = self.0.clone();
        on_runtime(async move { Ok(contacts.add(&jid, name.as_deref()).await?) }).await
    }

    pub async fn remove(&self, jid: String) -> Result<(), ContactError> {
        let contacts = self.0.clone();
        on_runtime(async move { Ok(contacts.remove(&jid).await?) }).await
    }

    pub fn approve(&self, jid: String) -> Result<(), ContactError> {
        Ok(self.0.approve(&jid)?)
    }

    pub fn deny(&self, jid: String) -> Result<(), ContactError> {
        Ok(self.0.deny(&jid)?)
    }
}

#[derive(uniffi::Object)]
pub struct SettingsService(Settings);

#[uniffi::export]
impl SettingsService {
    pub fn get(&self) -> Result<Preferences, DiagnosticsError> {
        Ok(self.0.get()?.into())
    }

    pub fn set(&self, preferences: Preferences) -> Result<(), DiagnosticsError> {
        Ok(self.0.set(preferences.into())?)
    }
}

/// What a tester shares: the doctor report and recent logs, redacted.
#[derive(uniffi::Object)]
pub struct DiagnosticsService(Arc<Diagnostics>);

#[uniffi::export]
impl DiagnosticsService {
    pub async fn doctor(&self) -> Result<DoctorReport, DiagnosticsError> {
        let diagnostics = self.0.clone();
        on_runtime(async move { Ok(diagnostics.doctor().await?.into()) }).await
    }

    /// Recent log lines, already redacted (no passwords, no message text).
    pub fn export_logs(&self) -> String {
        self.0.export_logs()
    }
}
