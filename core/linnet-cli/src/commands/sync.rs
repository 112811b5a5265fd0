//! `sync`: catch up with the server archive (XEP-0313) with a progress bar, optionally page
//! back through one conversation's whole history, and say what was stored.

use indicatif::{ProgressBar, ProgressStyle};
use linnet_sdk::{Client, ClientEvent, Linnet, SyncProgress, SyncState, normalise_jid};
use tokio::sync::broadcast;

use crate::cli::SyncArgs;
use crate::error::CliError;
use crate::output::{self, Printer};

/// Messages asked for per page when paging back through one conversation.
const OLDER_PAGE: u32 = 250;

pub async fn run(
    linnet: &Linnet,
    account: Option<&str>,
    args: SyncArgs,
    printer: Printer,
) -> Result<(), CliError> {
    let client = linnet.client(account)?;
    let with = args
        .all_with
        .as_deref()
        .map(normalise_jid)
        .transpose()?
        .map(|j| j.to_string());
    // Progress is for people at a terminal; indicatif draws nothing elsewhere.
    let bar = (!printer.is_json()).then(ProgressBar::new_spinner);
    let watcher = bar
        .clone()
        .map(|bar| tokio::spawn(show_progress(client.subscribe(), bar)));
    let outcome =
        super::connected(&client, |c| async move { sync(&c, with.as_deref()).await }).await;
    if let Some(w) = watcher {
        w.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let summary = outcome?;
    printer.print(&output::sync_summary(&summary))
}

async fn sync(client: &Client, with: Option<&str>) -> Result<output::SyncSummary, CliError> {
    let report = client.sync_archive().await?;
    let mut summary = output::SyncSummary {
        report,
        older: None,
        gaps: 0,
    };
    if let Some(with) = with {
        let (mut fetched, mut stored) = (0u64, 0u64);
        loop {
            let page = client.load_older(with, OLDER_PAGE).await?;
            fetched += u64::from(page.fetched);
            stored += u64::from(page.stored);
            // A page that added nothing new would come again: stop there.
            if page.complete || page.stored == 0 {
                break;
            }
        }
        summary.older = Some((with.to_string(), fetched, stored));
    }
    summary.gaps = client.archive_gaps()?.len();
    Ok(summary)
}

/// Draws the sync's progress until aborted.
async fn show_progress(mut events: broadcast::Receiver<ClientEvent>, bar: ProgressBar) {
    bar.set_message("connecting");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    loop {
        match events.recv().await {
            Ok(ClientEvent::Sync(SyncState::Syncing(p))) => draw(&bar, &p),
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn draw(bar: &ProgressBar, p: &SyncProgress) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    match p.fraction(now) {
        Some(fraction) => {
            if bar.length().is_none() {
                bar.set_length(1000);
                bar.set_style(
                    ProgressStyle::with_template("{bar:30} {percent:>3}% {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            }
            bar.set_position((fraction * 1000.0) as u64);
        }
        None => bar.tick(),
    }
    bar.set_message(output::sync_progress_human(p));
}
