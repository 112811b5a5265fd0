//! Archive sync (XEP-0313): every device shows the same history.
//!
//! - The first sync on a device fetches the newest page first (the chat list is right at once),
//!   records the older history as a gap, and fills it backwards a few pages per run.
//! - Every later sync catches up forward from the last archive id synced, page by page until
//!   the server says complete, storing each page before moving the cursor: an interrupted
//!   catch-up leaves its gap in the store and resumes where it stopped.
//! - A conversation's timeline pages further back on demand (`load_older`: `with` + RSM before).
//!
//! Archive results never raise `ClientEvent::Message` (no notifications for history); a
//! `HistoryChanged` tells views to reload. Receipts and markers found in the archive update
//! message states. Rows are deduplicated by the archive id (= the live stanza-id), so live
//! messages, carbons, resends and archive results of one message end up as one row.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use linnet_store::{ArchiveCursor, ArchiveGap, Direction, MessageState, NewMessage, Placement};
use linnet_xmpp::chat::{self, ChatEvent};
use linnet_xmpp::mam::{self, ArchivePage, MamError, Page, Query};
use linnet_xmpp::session::SessionHandle;

use super::{Client, ClientEvent, HISTORY_GAP_SINCE, lock, now_ms};
use crate::error::LinnetError;

/// How archive sync runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveConfig {
    /// Catch up after every new session (and after a resumption when a gap is open).
    pub auto_sync: bool,
    /// Page size asked for (servers clamp it silently: Prosody to 50, ejabberd to 250).
    pub page_size: u32,
    /// The first sync on a device: size of the newest page, fetched first.
    pub first_page: u32,
    /// Pages of older history fetched per sync run after the newest page (the rest follows on
    /// later runs, or as timelines scroll back).
    pub backfill_pages: u32,
    /// How long one page may take.
    pub page_timeout: Duration,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        Self {
            auto_sync: true,
            page_size: 250,
            first_page: 50,
            backfill_pages: 10,
            page_timeout: Duration::from_secs(30),
        }
    }
}

/// What a sync run is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPhase {
    /// Forward from the last archive id synced, to now.
    CatchUp,
    /// The newest page, on a device's first sync.
    Newest,
    /// Older history, backwards.
    Backfill,
}

/// Progress of a sync run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncProgress {
    pub phase: SyncPhase,
    /// Archive results received in this run.
    pub fetched: u64,
    /// New rows stored in this run.
    pub stored: u64,
    /// Results the catch-up will bring in all, when the server says (ejabberd does).
    pub total: Option<u64>,
    /// Archive time of the first and of the latest result of the catch-up (ms).
    pub first_ms: Option<i64>,
    pub reached_ms: Option<i64>,
}

impl SyncProgress {
    /// How far the catch-up is, 0 to 1: by count when the server gave a total, else by archive
    /// time between the first result and now. `None` when neither is known yet.
    pub fn fraction_now(&self) -> Option<f32> {
        self.fraction(now_ms())
    }

    /// `fraction_now` at `now_ms`.
    pub fn fraction(&self, now_ms: i64) -> Option<f32> {
        if let Some(total) = self.total.filter(|t| *t > 0) {
            return Some((self.fetched as f32 / total as f32).min(1.0));
        }
        let (first, reached) = (self.first_ms?, self.reached_ms?);
        let span = now_ms - first;
        if span <= 0 {
            return Some(1.0);
        }
        Some(((reached - first) as f32 / span as f32).clamp(0.0, 1.0))
    }
}

/// Whether a sync runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SyncState {
    #[default]
    Idle,
    Syncing(SyncProgress),
}

/// What a sync run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncReport {
    /// Archive results received.
    pub fetched: u64,
    /// New rows stored.
    pub stored: u64,
    pub pages: u32,
    /// No gap is left: the catch-up reached now and older history is complete.
    pub complete: bool,
}

/// What `load_older` brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OlderPage {
    pub fetched: u32,
    pub stored: u32,
    /// The conversation's history is stored back to its start.
    pub complete: bool,
}

/// How archived incoming messages are stored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arrival {
    /// Missed while away: unread.
    CaughtUp,
    /// Older history: read.
    Backfilled,
}

/// A page that brought no new archive id: the server repeats itself, stop.
struct NoProgress;

impl From<MamError> for LinnetError {
    fn from(e: MamError) -> Self {
        if e.is_unsupported() {
            return LinnetError::Refused {
                reason: "the server keeps no message archive for this account".into(),
            };
        }
        match e {
            MamError::Iq(e) => e.into(),
            other => LinnetError::Protocol {
                reason: other.to_string(),
            },
        }
    }
}

/// A forward page query.
fn forward(after: Option<String>, start_ms: Option<i64>, max: u32) -> Query {
    Query {
        with: None,
        start_ms,
        page: Page::After(after),
        max,
    }
}

/// Runs one page query on its own task, so that it goes out (and the server answers) while the
/// caller stores the previous page.
fn fetch_page(
    handle: &SessionHandle,
    query: Query,
    timeout: Duration,
) -> tokio::task::JoinHandle<Result<ArchivePage, MamError>> {
    let handle = handle.clone();
    tokio::spawn(async move { mam::query(&handle, &query, timeout).await })
}

/// Where the next forward page starts: after the last result whose id differs from the page's
/// last id, so that the next page repeats the last result (a duplicate, folded away) and every
/// result sharing its id. ejabberd stamps ids by the microsecond: two messages can share one,
/// and `after` that id would skip the second if the page ended between them.
fn resume_after(page: &ArchivePage) -> Option<&str> {
    let last = &page.results.last()?.archive_id;
    let earlier = page
        .results
        .iter()
        .rev()
        .map(|r| &r.archive_id)
        .find(|id| *id != last);
    Some(earlier.unwrap_or(last))
}

/// Incoming rows the archive stored without a `Message` event, most recent first: if the same
/// message then arrives live (the archive query raced its delivery, or the server delivers what
/// it kept offline), that arrival is announced once.
#[derive(Default)]
pub(super) struct Unannounced {
    ids: HashSet<i64>,
    order: std::collections::VecDeque<i64>,
}

impl Unannounced {
    /// How many are remembered: enough for a catch-up racing the live stream.
    const CAPACITY: usize = 10_000;

    fn add(&mut self, id: i64) {
        if self.ids.insert(id) {
            self.order.push_back(id);
        }
        while self.order.len() > Self::CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
    }

    /// Whether `id` was stored unannounced; it counts as announced from now on.
    pub(super) fn take(&mut self, id: i64) -> bool {
        self.ids.remove(&id)
    }
}

/// One sync run's counters.
struct Run {
    report: SyncReport,
    progress: SyncProgress,
    seen: HashSet<String>,
}

impl Run {
    fn new(phase: SyncPhase) -> Self {
        Run {
            report: SyncReport::default(),
            progress: SyncProgress {
                phase,
                fetched: 0,
                stored: 0,
                total: None,
                first_ms: None,
                reached_ms: None,
            },
            seen: HashSet::new(),
        }
    }
}

impl Client {
    /// The sync state (also reported as `ClientEvent::Sync`).
    pub fn sync_state(&self) -> SyncState {
        lock(&self.inner.sync_state).clone()
    }

    /// Where archive sync stands, in words (the doctor report).
    pub(super) fn archive_summary(&self) -> Result<String, LinnetError> {
        let account = self.inner.account.id;
        if self.inner.store.archive_cursor(account)? == ArchiveCursor::NeverSynced {
            return Ok("never synced on this device".into());
        }
        let gaps = self.inner.store.archive_gaps(account)?;
        let catching_up = gaps.iter().any(|g| g.before_id.is_none());
        let older = gaps.len() - usize::from(catching_up);
        let running = matches!(self.sync_state(), SyncState::Syncing(_));
        Ok(format!(
            "{}{}{}",
            if running { "syncing" } else { "synced" },
            if catching_up {
                "; the catch-up is not finished"
            } else {
                ""
            },
            match older {
                0 => String::new(),
                n => format!(
                    "; older history not fetched yet ({n} gap{})",
                    if n == 1 { "" } else { "s" }
                ),
            }
        ))
    }

    /// The ranges of the archive not fetched yet.
    pub fn archive_gaps(&self) -> Result<Vec<ArchiveGap>, LinnetError> {
        Ok(self.inner.store.archive_gaps(self.inner.account.id)?)
    }

    /// Catches up with the account's archive now. One run at a time: a call during a run waits
    /// for it, then runs (quickly: there is little left).
    pub async fn sync_archive(&self) -> Result<SyncReport, LinnetError> {
        let _one_at_a_time = self.inner.archive_sync.lock().await;
        let handle = self.require_session()?;
        let mut run = Run::new(SyncPhase::CatchUp);
        let result = self.sync_run(&handle, &mut run).await;
        self.set_sync_state(SyncState::Idle);
        let report = result?;
        tracing::info!(
            fetched = report.fetched,
            stored = report.stored,
            pages = report.pages,
            complete = report.complete,
            "archive sync done"
        );
        Ok(report)
    }

    async fn sync_run(
        &self,
        handle: &SessionHandle,
        run: &mut Run,
    ) -> Result<SyncReport, LinnetError> {
        let store = &self.inner.store;
        let account = self.inner.account.id;
        if store.archive_cursor(account)? == ArchiveCursor::NeverSynced {
            self.fetch_newest(handle, run).await?;
        }
        let caught_up = self.catch_up(handle, run).await?;
        if caught_up {
            // What a lost session may have missed is in the store now.
            if store.delete_state(account, HISTORY_GAP_SINCE)? {
                tracing::info!("the history gap is filled");
            }
        }
        // A wake fetches what is new, not older history (memory and time are short there).
        if !self.is_waking() {
            self.backfill(handle, run).await?;
        }
        run.report.complete = caught_up && store.archive_gaps(account)?.is_empty();
        Ok(run.report)
    }

    /// First sync on this device: the newest page, then the rest of the archive is a gap.
    async fn fetch_newest(&self, handle: &SessionHandle, run: &mut Run) -> Result<(), LinnetError> {
        let config = &self.inner.config.archive;
        run.progress.phase = SyncPhase::Newest;
        let query = Query {
            with: None,
            start_ms: None,
            page: Page::Before(None),
            max: config.first_page,
        };
        let page = mam::query(handle, &query, config.page_timeout).await?;
        // After what is stored: what this session received live so far (offline messages
        // delivered on login, oldest first) is the older part of this same page.
        self.store_page(&page, Placement::ArchiveNewer, Arrival::Backfilled, run)?;
        let newest = resume_after(&page);
        let oldest = page.results.first().map(|r| r.archive_id.as_str());
        let store = &self.inner.store;
        let account = self.inner.account.id;
        match oldest {
            Some(oldest) if !page.fin.complete => {
                store.open_archive_gap(account, None, Some(oldest), Some(newest))?;
            }
            // All of it fit (or it is empty): the catch-up continues after the newest.
            _ => store.set_archive_cursor(account, newest)?,
        }
        Ok(())
    }

    /// Forward from the cursor until the server says complete. Returns whether it got there.
    async fn catch_up(&self, handle: &SessionHandle, run: &mut Run) -> Result<bool, LinnetError> {
        let store = &self.inner.store;
        let account = self.inner.account.id;
        let config = &self.inner.config.archive;
        run.progress.phase = SyncPhase::CatchUp;
        let gaps = store.archive_gaps(account)?;
        let gap = match gaps.into_iter().find(|g| g.before_id.is_none()) {
            Some(open) => open,
            None => {
                let ArchiveCursor::After(cursor) = store.archive_cursor(account)? else {
                    return Ok(false);
                };
                store.open_archive_gap(account, cursor.as_deref(), None, None)?
            }
        };
        let mut after = gap.after_id.clone();
        let mut start_ms = None;
        let timeout = config.page_timeout;
        let mut pending = fetch_page(
            handle,
            forward(after.clone(), None, config.page_size),
            timeout,
        );
        loop {
            let page = match pending.await.map_err(|e| LinnetError::Protocol {
                reason: format!("the archive query stopped: {e}"),
            })? {
                Err(e) if e.is_unknown_id() && start_ms.is_none() => {
                    // The archive no longer holds our cursor (it expired): go on from its time.
                    let since = match &after {
                        Some(id) => store.archived_at(account, id)?.unwrap_or(0),
                        None => 0,
                    };
                    tracing::warn!(since, "the archive lost our cursor; catching up by time");
                    start_ms = Some(since);
                    after = None;
                    pending =
                        fetch_page(handle, forward(None, start_ms, config.page_size), timeout);
                    continue;
                }
                other => other?,
            };
            if run.progress.total.is_none() {
                run.progress.total = page.fin.count;
            }
            let progressed = matches!(self.last_new_id(&page, run), Ok(Some(_)));
            let resume = resume_after(&page).map(str::to_string);
            // The next page is asked for before this one is stored: the server works on it
            // meanwhile (the catch-up is a chain of round trips).
            let next = (!page.fin.complete && progressed).then(|| {
                let query = forward(resume.clone(), start_ms, config.page_size);
                fetch_page(handle, query, config.page_timeout)
            });
            self.store_page(&page, Placement::ArchiveNewer, Arrival::CaughtUp, run)?;
            if let Some(resume) = resume.as_ref().filter(|_| progressed) {
                store.archive_gap_fetched_after(account, gap.id, resume, true)?;
                after = Some(resume.clone());
            }
            if page.fin.complete {
                store.close_archive_gap(account, gap.id)?;
                return Ok(true);
            }
            pending = match next {
                Some(next) => next,
                None => {
                    // An empty page, or one of results seen before, that does not end the
                    // archive: asking again would bring the same.
                    tracing::warn!(?after, "the archive made no progress; the gap stays open");
                    return Ok(false);
                }
            };
        }
    }

    /// Older history, backwards from the oldest gap's end, a few pages per run.
    async fn backfill(&self, handle: &SessionHandle, run: &mut Run) -> Result<(), LinnetError> {
        let store = &self.inner.store;
        let account = self.inner.account.id;
        let config = &self.inner.config.archive;
        let Some(gap) = store
            .archive_gaps(account)?
            .into_iter()
            .find(|g| g.before_id.is_some())
        else {
            return Ok(());
        };
        run.progress.phase = SyncPhase::Backfill;
        let mut before = gap.before_id.clone();
        for _ in 0..config.backfill_pages {
            let query = Query {
                with: None,
                start_ms: None,
                page: Page::Before(before.clone()),
                max: config.page_size,
            };
            let page = mam::query(handle, &query, config.page_timeout).await?;
            self.store_page(&page, Placement::ArchiveOlder, Arrival::Backfilled, run)?;
            let first = page.results.first().map(|r| r.archive_id.clone());
            if page.fin.complete || first.is_none() {
                store.close_archive_gap(account, gap.id)?;
                return Ok(());
            }
            if first == before || self.last_new_id(&page, run).is_err() {
                tracing::warn!(?before, "the archive repeated a page; the gap stays open");
                return Ok(());
            }
            if let Some(first) = &first {
                store.archive_gap_fetched_before(account, gap.id, first)?;
            }
            before = first;
        }
        Ok(())
    }

    /// Older history of the conversation with `peer` from the archive (XEP-0313 `with`, RSM
    /// before the oldest archive id stored), placed before what is stored. For a timeline
    /// scrolled to the top of what is stored; returns at once once the history is complete.
    pub async fn load_older(&self, peer: &str, max: u32) -> Result<OlderPage, LinnetError> {
        let peer = crate::account::normalise_jid(peer)?;
        let store = &self.inner.store;
        let account = self.inner.account.id;
        if store.history_complete(account, peer.as_str())? {
            return Ok(OlderPage {
                complete: true,
                ..OlderPage::default()
            });
        }
        let handle = self.require_session()?;
        let query = Query {
            page: Page::Before(store.oldest_archive_id(account, peer.as_str())?),
            with: Some(peer.clone()),
            start_ms: None,
            max,
        };
        let page = mam::query(&handle, &query, self.inner.config.archive.page_timeout).await?;
        let mut run = Run::new(SyncPhase::Backfill);
        self.store_page(
            &page,
            Placement::ArchiveOlder,
            Arrival::Backfilled,
            &mut run,
        )?;
        // A conversation with no message at all is complete too (its archive is empty).
        let complete = page.fin.complete || page.results.is_empty();
        if complete {
            store.get_or_create_conversation(account, peer.as_str())?;
            store.set_history_complete(account, peer.as_str(), true)?;
        }
        Ok(OlderPage {
            fetched: page.results.len() as u32,
            stored: run.report.stored as u32,
            complete,
        })
    }

    /// The newest archive id of `page` not seen before in this run; `Err` when the page had
    /// results but none was new.
    fn last_new_id(&self, page: &ArchivePage, run: &mut Run) -> Result<Option<String>, NoProgress> {
        let mut any_new = false;
        for r in &page.results {
            any_new |= run.seen.insert(r.archive_id.clone());
        }
        match page.results.last() {
            None => Ok(None),
            Some(_) if !any_new => Err(NoProgress),
            Some(last) => Ok(Some(last.archive_id.clone())),
        }
    }

    /// Stores one page: messages in one transaction per run between receipts and markers (which
    /// apply in archive order), receipts and markers as state changes.
    fn store_page(
        &self,
        page: &ArchivePage,
        placement: Placement,
        arrival: Arrival,
        run: &mut Run,
    ) -> Result<(), LinnetError> {
        let own = &self.inner.own;
        let mut batch = Vec::new();
        let mut peers = BTreeSet::new();
        let mut stored = 0;
        // Older history goes in as one batch (its rows are placed below everything stored, in
        // order); its receipts and markers apply after it.
        let mut deferred = Vec::new();
        for result in &page.results {
            let event = match chat::classify_archived(
                &result.message,
                own,
                &result.archive_id,
                result.stamp_ms,
            ) {
                Ok(event) if event.error.is_none() => event,
                Ok(_) => continue,
                Err(reason) => {
                    tracing::debug!(%reason, "archived message skipped");
                    continue;
                }
            };
            if event.receipt_for.is_some() || event.displayed_for.is_some() {
                if placement == Placement::ArchiveNewer {
                    stored += self.store_batch(&mut batch, placement)?;
                    self.apply_receipts_and_markers(&event)?;
                } else {
                    deferred.push(event.clone());
                }
            }
            if event.body.is_some() {
                peers.insert(event.peer.to_string());
                batch.push(self.archived_message(&event, arrival));
            }
        }
        stored += self.store_batch(&mut batch, placement)?;
        for event in &deferred {
            self.apply_receipts_and_markers(event)?;
        }
        run.report.pages += 1;
        run.report.fetched += page.results.len() as u64;
        run.report.stored += stored;
        run.progress.fetched = run.report.fetched;
        run.progress.stored = run.report.stored;
        if let Some(stamp) = page.results.iter().rev().find_map(|r| r.stamp_ms) {
            run.progress.first_ms.get_or_insert(stamp);
            run.progress.reached_ms = Some(stamp);
        }
        if page.malformed > 0 {
            tracing::warn!(
                malformed = page.malformed,
                "malformed archive results skipped"
            );
        }
        self.set_sync_state(SyncState::Syncing(run.progress.clone()));
        if stored > 0 {
            self.emit(ClientEvent::HistoryChanged {
                peers: peers.into_iter().collect(),
            });
        }
        Ok(())
    }

    /// Inserts and empties `batch`; returns how many rows were new. An outgoing message the
    /// archive holds reached the server: if we still wait for its ack, it has it.
    fn store_batch(
        &self,
        batch: &mut Vec<NewMessage>,
        placement: Placement,
    ) -> Result<u64, LinnetError> {
        if batch.is_empty() {
            return Ok(0);
        }
        let outcomes = self.inner.store.insert_messages(batch, placement)?;
        let mut stored = 0;
        for (outcome, new) in outcomes.iter().zip(batch.iter()) {
            if outcome.is_new() {
                stored += 1;
                if new.direction == Direction::Incoming {
                    lock(&self.inner.unannounced).add(outcome.id());
                }
            } else if new.direction == Direction::Outgoing {
                self.on_acked(&[outcome.id() as u64])?;
            }
        }
        batch.clear();
        Ok(stored)
    }

    fn archived_message(&self, event: &ChatEvent, arrival: Arrival) -> NewMessage {
        let state = match (event.direction, arrival) {
            (chat::Direction::Outgoing, _) => MessageState::Acked,
            (chat::Direction::Incoming, Arrival::CaughtUp) => MessageState::Received,
            (chat::Direction::Incoming, Arrival::Backfilled) => MessageState::Displayed,
        };
        self.new_message(event, state)
    }

    fn set_sync_state(&self, state: SyncState) {
        *lock(&self.inner.sync_state) = state.clone();
        self.emit(ClientEvent::Sync(state));
    }

    /// Starts a sync in the background when the config asks for it (after a connect).
    pub(super) fn spawn_archive_sync(&self) {
        // A wake runs its catch-up itself, in the foreground.
        if !self.inner.config.archive.auto_sync || self.is_waking() {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            if let Err(e) = me.sync_archive().await {
                tracing::warn!(error = %e, "archive sync stopped");
            }
        });
    }

    /// Whether a gap of the archive is open (a resumed session then syncs too).
    pub(super) fn has_archive_gap(&self) -> bool {
        self.archive_gaps().is_ok_and(|g| !g.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(
        total: Option<u64>,
        first_ms: Option<i64>,
        reached_ms: Option<i64>,
    ) -> SyncProgress {
        SyncProgress {
            phase: SyncPhase::CatchUp,
            fetched: 50,
            stored: 50,
            total,
            first_ms,
            reached_ms,
        }
    }

    #[test]
    fn progress_is_by_count_when_the_server_says_else_by_archive_time() {
        assert_eq!(progress(Some(200), None, None).fraction(0), Some(0.25));
        // A total smaller than what came (ejabberd counts the query, not the remainder).
        assert_eq!(progress(Some(10), None, None).fraction(0), Some(1.0));
        assert_eq!(
            progress(None, Some(1_000), Some(1_500)).fraction(2_000),
            Some(0.5)
        );
        assert_eq!(
            progress(None, Some(1_000), Some(5_000)).fraction(2_000),
            Some(1.0)
        );
        assert_eq!(
            progress(None, Some(3_000), Some(3_000)).fraction(2_000),
            Some(1.0)
        );
        assert_eq!(progress(None, None, None).fraction(2_000), None);
    }
}
