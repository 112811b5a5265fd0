//! The command line: options, commands and their arguments. There is deliberately no option that
//! takes a password: it comes from `LINNET_PASSWORD` or standard input only.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A small XMPP messenger for the command line.
#[derive(Debug, Parser)]
#[command(name = "linnet", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 ok, 1 local error, 2 usage, 3 authentication, \
4 network or timeout, 5 TLS/certificate, 6 server refused or protocol error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Where accounts, messages and secrets are kept
    /// [default: $XDG_DATA_HOME/linnet or ~/.local/share/linnet]
    #[arg(long, global = true, value_name = "DIR", env = "LINNET_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Print one JSON object per line on standard output, each with a "type" field
    #[arg(long, global = true)]
    pub json: bool,

    /// The account to use (needed only when there are several)
    #[arg(long, global = true, value_name = "JID")]
    pub account: Option<String>,

    /// What to log on standard error, in RUST_LOG syntax (e.g. "debug", "linnet_xmpp=trace"); the
    /// call media stack (webrtc, rtc_*) logs errors only unless named (e.g. "warn,rtc_ice=debug")
    #[arg(
        long,
        global = true,
        value_name = "FILTER",
        env = "LINNET_LOG",
        default_value = "warn"
    )]
    pub log: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add, list or remove accounts
    #[command(subcommand)]
    Account(AccountCommand),
    /// Send a message and wait until the server has it
    Send(SendArgs),
    /// Stay connected and print messages and other events as they come
    Listen(ListenArgs),
    /// List conversations with unread counts and the last message
    Chats,
    /// Show the conversation with someone, oldest first (from this device's store)
    History(HistoryArgs),
    /// Fetch the history from the server archive: what arrived while away, then older history
    Sync(SyncArgs),
    /// Send a file (HTTP upload through the server) and wait until the server has the message
    SendFile(SendFileArgs),
    /// Download the file of a received message (its id from 'listen' or 'history --json')
    Download(DownloadArgs),
    /// Call someone (an address, or a phone number through the account's phone gateway),
    /// send audio from a WAV file or a tone, record what comes back
    Call(CallArgs),
    /// List contacts and pending requests, or change the roster
    Roster(RosterArgs),
    /// Connect and report what the server offers and what was negotiated
    Doctor,
    /// Run the push app server (XEP-0357) that wakes the apps' devices through APNs and FCM
    /// (the same as the `linnet-push` binary; see the README). Logs go by RUST_LOG.
    PushServer(PushServerArgs),
    /// What a push wake-up does: connect, fetch and store what arrived, print the
    /// notifications to show (one line each), disconnect
    Wake(WakeArgs),
    /// Push notifications (XEP-0357): show or change this account's registration
    #[command(subcommand)]
    Push(PushCommand),
}

#[derive(Debug, Subcommand)]
pub enum PushCommand {
    /// Show the push settings and registration (connects to tell whether push is enabled)
    Status,
    /// Set the device token, its platform and the app server; then connect and reconcile
    Set(PushSetArgs),
    /// Allow notifications: connect, register with the app server and enable push
    Permit,
    /// Withdraw the permission: connect, disable push and unregister
    Revoke,
}

#[derive(Debug, Args)]
pub struct PushSetArgs {
    /// The app server's address (a linnet-push component, e.g. push.example.org)
    #[arg(long, value_name = "JID")]
    pub app_server: Option<String>,

    /// The device token from APNs or FCM
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,

    /// Which push service the token belongs to
    #[arg(long, value_name = "PLATFORM", value_parser = ["apns", "apns-sandbox", "fcm"])]
    pub platform: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Add an account; the password is read from LINNET_PASSWORD or the first line of stdin
    Add(AccountAddArgs),
    /// List the accounts
    List,
    /// Remove an account with its messages and stored password
    Remove {
        /// The account's address
        jid: String,
    },
}

#[derive(Debug, Args)]
pub struct AccountAddArgs {
    /// The account's address, e.g. alice@example.org
    pub jid: String,

    /// Connect to this server instead of looking it up in DNS (port 5222 if omitted, 5223 with
    /// --direct-tls)
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_server)]
    pub server: Option<ServerAddr>,

    /// The server speaks TLS from the first byte (XEP-0368) instead of STARTTLS
    #[arg(long, requires = "server")]
    pub direct_tls: bool,

    /// Also trust the CA certificate(s) in this PEM file
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Keep the account without first checking that it can sign in
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The recipient's address
    pub to: String,

    /// The message, words joined by spaces; "-" reads it from standard input
    #[arg(required = true, num_args = 1.., value_name = "TEXT")]
    pub text: Vec<String>,

    /// Seconds to wait for each step (the server's acknowledgement, then delivery, then reading)
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// How far to follow the message before exiting: acknowledged by the server, delivered to
    /// the recipient's device (receipt), or read (displayed marker)
    #[arg(long, value_enum, default_value_t = WaitFor::Acked)]
    pub wait: WaitFor,
}

/// How far `send` follows a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WaitFor {
    Acked,
    Delivered,
    Read,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Mark each incoming message's conversation read (tells the sender it was displayed)
    #[arg(long)]
    pub mark_read: bool,

    /// Exit after this many incoming messages
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Exit after this many seconds (an error if --count messages have not arrived by then)
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,

    /// Answer calls from contacts (strangers' calls never ring): record each to a WAV file,
    /// report the DTMF digits the caller presses
    #[arg(long)]
    pub answer_calls: bool,

    #[command(flatten)]
    pub audio: CallAudioArgs,

    /// Where answered calls are recorded, one WAV file per call (<DIR>/<call id>.wav; default
    /// <data dir>/calls)
    #[arg(long, value_name = "DIR", requires = "answer_calls")]
    pub record_dir: Option<PathBuf>,
}

/// What a call sends: a WAV file, else a tone.
#[derive(Debug, Clone, clap::Args)]
pub struct CallAudioArgs {
    /// Send this WAV file's audio (16-bit PCM, any rate; silence after its end)
    #[arg(long, value_name = "WAV", conflicts_with = "tone")]
    pub play: Option<PathBuf>,

    /// Send a sine tone of this frequency (the default when no --play: 440 Hz)
    #[arg(long, value_name = "HZ", value_parser = clap::value_parser!(u32).range(20..20000))]
    pub tone: Option<u32>,
}

#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// Who to call: an address, or a phone number (+15551234567) with an optional dial string
    /// after it (',' pauses 2 s, digits are pressed once connected)
    pub to: String,

    /// Press these keys once connected (0-9, *, #, A-D; ',' pauses 2 s)
    #[arg(long, value_name = "DIGITS")]
    pub dtmf: Option<String>,

    #[command(flatten)]
    pub audio: CallAudioArgs,

    /// Record what the other side sends to this WAV file (48 kHz mono)
    #[arg(long, value_name = "WAV")]
    pub record: Option<PathBuf>,

    /// Hang up this many seconds after the call connected (default: stay until the other side
    /// hangs up or Ctrl-C)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub hangup_after: Option<u64>,

    /// Give up if the call has not connected within this many seconds
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct SendFileArgs {
    /// The recipient's address
    pub to: String,

    /// The file to send
    pub path: PathBuf,

    /// Seconds to wait for the upload and the server's acknowledgement (failed attempts are
    /// retried meanwhile)
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

/// `linnet push-server`
#[derive(Args, Debug)]
pub struct PushServerArgs {
    /// The app server's configuration file (TOML; its keys are in the README)
    #[arg(long, short = 'c', env = "LINNET_PUSH_CONFIG", value_name = "FILE")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The id of the message carrying the file
    pub message_id: i64,

    /// Seconds to wait for the download (failed attempts are retried meanwhile)
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct WakeArgs {
    /// Seconds until the wake stops waiting and prints what was stored so far
    #[arg(long, value_name = "S", default_value_t = 20)]
    pub timeout: u64,
    /// Also notify messages from strangers (message requests)
    #[arg(long)]
    pub requests: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Also fetch the whole older history of the conversation with this address
    #[arg(long, value_name = "JID")]
    pub all_with: Option<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The other party's address
    pub with: String,

    /// How many of the newest messages to show
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,

    /// Only messages older than the message with this id (to page back)
    #[arg(long, value_name = "ID")]
    pub before: Option<i64>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RosterArgs {
    /// Connect first to fetch the latest roster from the server
    #[arg(long)]
    pub refresh: bool,

    #[command(subcommand)]
    pub action: Option<RosterAction>,
}

#[derive(Debug, Subcommand)]
pub enum RosterAction {
    /// Add a contact and ask to see their presence
    Add {
        jid: String,
        /// A name to show instead of the address
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove a contact (and both subscriptions)
    Remove { jid: String },
    /// Let someone who asked see your presence
    Approve { jid: String },
    /// Refuse someone's request to see your presence (or revoke it)
    Deny { jid: String },
}

/// `HOST[:PORT]`, with `[v6addr]:PORT` for IPv6 literals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddr {
    pub host: String,
    pub port: Option<u16>,
}

impl ServerAddr {
    /// The port to use: the given one, else the usual one for the connection mode.
    pub fn port_or_default(&self, direct_tls: bool) -> u16 {
        self.port.unwrap_or(if direct_tls { 5223 } else { 5222 })
    }
}

pub fn parse_server(input: &str) -> Result<ServerAddr, String> {
    let input = input.trim();
    let (host, port) = if let Some(rest) = input.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "missing ']' after the IPv6 address".to_string())?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err("expected ':PORT' after ']'".into()),
            },
        }
    } else {
        match input.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => {
                return Err("write IPv6 addresses in brackets: [::1]:5222".into());
            }
            Some((host, port)) => (host, Some(port)),
            None => (input, None),
        }
    };
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return Err("expected HOST:PORT".into());
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return Err(format!("'{p}' is not a port number (1-65535)")),
            Ok(n) => Some(n),
        },
    };
    Ok(ServerAddr {
        host: host.to_string(),
        port,
    })
}

/// The data directory: `--data-dir` / `LINNET_DATA_DIR` (already in `explicit`), else
/// `$XDG_DATA_HOME/linnet` (when absolute), else `$HOME/.local/share/linnet`.
pub fn data_dir(
    explicit: Option<PathBuf>,
    xdg_data_home: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    if let Some(dir) = explicit.filter(|d| !d.as_os_str().is_empty()) {
        return Some(dir);
    }
    if let Some(xdg) = xdg_data_home.map(PathBuf::from).filter(|p| p.is_absolute()) {
        return Some(xdg.join("linnet"));
    }
    home.filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".local/share/linnet"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("linnet").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn send_joins_words_and_takes_options_anywhere() {
        let cli = parse(&["--json", "send", "bob@example.test", "hello", "there"]).unwrap();
        assert!(cli.global.json);
        let Command::Send(args) = cli.command else {
            panic!("not send")
        };
        assert_eq!(args.to, "bob@example.test");
        assert_eq!(args.text.join(" "), "hello there");
        assert_eq!(args.wait, WaitFor::Acked);
        assert_eq!(args.timeout, 30);

        let cli = parse(&["send", "bob@x", "hi", "--timeout", "5", "--account", "a@x"]).unwrap();
        assert_eq!(cli.global.account.as_deref(), Some("a@x"));
        let Command::Send(args) = cli.command else {
            panic!("not send")
        };
        assert_eq!(args.timeout, 5);
        assert_eq!(args.text, ["hi"]);
    }

    #[test]
    fn send_file_and_download_take_a_target_and_a_timeout() {
        let Command::SendFile(args) = parse(&["send-file", "bob@x", "my photo.jpg"])
            .unwrap()
            .command
        else {
            panic!("not send-file")
        };
        assert_eq!(args.to, "bob@x");
        assert_eq!(args.path, PathBuf::from("my photo.jpg"));
        assert_eq!(args.timeout, 300);
        let Command::Download(args) = parse(&["download", "42", "--timeout", "9"])
            .unwrap()
            .command
        else {
            panic!("not download")
        };
        assert_eq!((args.message_id, args.timeout), (42, 9));
        assert_eq!(parse(&["send-file", "bob@x"]).unwrap_err().exit_code(), 2);
        assert_eq!(parse(&["download", "x"]).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn send_accepts_stdin_dash_and_text_after_double_dash() {
        let Command::Send(args) = parse(&["send", "bob@x", "-"]).unwrap().command else {
            panic!("not send")
        };
        assert_eq!(args.text, ["-"]);
        let Command::Send(args) = parse(&["send", "bob@x", "--", "--not-an-option", "x"])
            .unwrap()
            .command
        else {
            panic!("not send")
        };
        assert_eq!(args.text, ["--not-an-option", "x"]);
    }

    #[test]
    fn send_needs_text_and_a_positive_timeout() {
        let e = parse(&["send", "bob@x"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(parse(&["send", "bob@x", "hi", "--timeout", "0"]).is_err());
    }

    #[test]
    fn there_is_no_way_to_pass_a_password_on_the_command_line() {
        for flag in ["--password", "--pass", "-p", "--secret"] {
            let e = parse(&["account", "add", "a@example.test", flag, "hunter2"]).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{flag} was accepted");
        }
        let cmd = Cli::command();
        let add = cmd
            .find_subcommand("account")
            .and_then(|a| a.find_subcommand("add"))
            .unwrap();
        for arg in add.get_arguments() {
            assert!(
                !arg.get_id().as_str().contains("pass"),
                "{} looks like a password option",
                arg.get_id()
            );
        }
    }

    #[test]
    fn account_add_options() {
        let cli = parse(&[
            "account",
            "add",
            "alice@example.test",
            "--server",
            "localhost:5223",
            "--direct-tls",
            "--ca-file",
            "/tmp/ca.pem",
            "--no-verify",
        ])
        .unwrap();
        let Command::Account(AccountCommand::Add(args)) = cli.command else {
            panic!("not account add")
        };
        assert_eq!(args.jid, "alice@example.test");
        assert_eq!(
            args.server,
            Some(ServerAddr {
                host: "localhost".into(),
                port: Some(5223)
            })
        );
        assert!(args.direct_tls && args.no_verify);
        assert_eq!(args.ca_file, Some(PathBuf::from("/tmp/ca.pem")));
    }

    #[test]
    fn direct_tls_needs_a_server() {
        assert!(parse(&["account", "add", "a@x", "--direct-tls"]).is_err());
    }

    #[test]
    fn account_list_and_remove() {
        assert!(matches!(
            parse(&["account", "list"]).unwrap().command,
            Command::Account(AccountCommand::List)
        ));
        let Command::Account(AccountCommand::Remove { jid }) =
            parse(&["account", "remove", "a@x"]).unwrap().command
        else {
            panic!("not account remove")
        };
        assert_eq!(jid, "a@x");
    }

    #[test]
    fn listen_options() {
        let cli = parse(&["listen", "--mark-read", "--count", "3", "--timeout", "10"]).unwrap();
        let Command::Listen(args) = cli.command else {
            panic!("not listen")
        };
        assert!(args.mark_read);
        assert_eq!(args.count, Some(3));
        assert_eq!(args.timeout, Some(10));
        let Command::Listen(args) = parse(&["listen"]).unwrap().command else {
            panic!("not listen")
        };
        assert_eq!(
            (args.count, args.timeout, args.mark_read),
            (None, None, false)
        );
        assert!(parse(&["listen", "--count", "0"]).is_err());
        assert!(parse(&["listen", "--count", "many"]).is_err());
    }

    #[test]
    fn history_defaults_to_twenty() {
        let Command::History(args) = parse(&["history", "bob@x"]).unwrap().command else {
            panic!("not history")
        };
        assert_eq!(
            (args.with.as_str(), args.limit, args.before),
            ("bob@x", 20, None)
        );
        let Command::History(args) = parse(&["history", "bob@x", "--limit", "5"])
            .unwrap()
            .command
        else {
            panic!("not history")
        };
        assert_eq!(args.limit, 5);
        assert!(parse(&["history"]).is_err());
    }

    #[test]
    fn roster_lists_or_acts() {
        let Command::Roster(args) = parse(&["roster"]).unwrap().command else {
            panic!("not roster")
        };
        assert!(args.action.is_none() && !args.refresh);
        let Command::Roster(args) = parse(&["roster", "add", "bob@x", "--name", "Bob"])
            .unwrap()
            .command
        else {
            panic!("not roster")
        };
        let Some(RosterAction::Add { jid, name }) = args.action else {
            panic!("not roster add")
        };
        assert_eq!((jid.as_str(), name.as_deref()), ("bob@x", Some("Bob")));
        for (verb, want) in [("remove", 0), ("approve", 1), ("deny", 2)] {
            let Command::Roster(args) = parse(&["roster", verb, "bob@x"]).unwrap().command else {
                panic!("not roster")
            };
            let got = match args.action {
                Some(RosterAction::Remove { .. }) => 0,
                Some(RosterAction::Approve { .. }) => 1,
                Some(RosterAction::Deny { .. }) => 2,
                _ => 9,
            };
            assert_eq!(got, want, "{verb}");
        }
        assert!(parse(&["roster", "add"]).is_err());
    }

    #[test]
    fn global_options_work_after_the_command() {
        let cli = parse(&["chats", "--json", "--data-dir", "/tmp/l", "--log", "debug"]).unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.global.data_dir, Some(PathBuf::from("/tmp/l")));
        assert_eq!(cli.global.log, "debug");
        assert!(matches!(cli.command, Command::Chats));
        assert!(matches!(
            parse(&["doctor"]).unwrap().command,
            Command::Doctor
        ));
    }

    #[test]
    fn unknown_commands_are_usage_errors() {
        assert_eq!(parse(&["fly"]).unwrap_err().exit_code(), 2);
        assert_eq!(parse(&[]).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn server_addresses() {
        let ok = |s: &str| parse_server(s).unwrap();
        assert_eq!(ok("example.org:5222").port, Some(5222));
        assert_eq!(ok("example.org").port, None);
        assert_eq!(ok("example.org").port_or_default(false), 5222);
        assert_eq!(ok("example.org").port_or_default(true), 5223);
        assert_eq!(
            ok("[::1]:5223"),
            ServerAddr {
                host: "::1".into(),
                port: Some(5223)
            }
        );
        assert_eq!(ok("[::1]").port, None);
        for bad in [
            "",
            ":5222",
            "host:",
            "host:0",
            "host:70000",
            "host:x",
            "::1:5222",
            "[::1",
            "[::1]x",
        ] {
            assert!(parse_server(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn data_dir_resolution_order() {
        let some = |s: &str| Some(OsString::from(s));
        assert_eq!(
            data_dir(Some("/d".into()), some("/x"), some("/h")),
            Some(PathBuf::from("/d"))
        );
        assert_eq!(
            data_dir(None, some("/x"), some("/h")),
            Some(PathBuf::from("/x/linnet"))
        );
        assert_eq!(
            data_dir(None, some("relative"), some("/h")),
            Some(PathBuf::from("/h/.local/share/linnet"))
        );
        assert_eq!(
            data_dir(None, None, some("/h")),
            Some(PathBuf::from("/h/.local/share/linnet"))
        );
        assert_eq!(data_dir(None, None, None), None);
        assert_eq!(data_dir(None, some(""), some("")), None);
    }
}
