//! End-to-end checks of the `linnet` binary that need no XMPP server: local commands, exit codes,
//! JSON lines, and `listen`'s deadline and signal handling against a TCP port that never speaks.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_linnet"));
        cmd.args(args)
            .env("LINNET_DATA_DIR", self.dir.path().join("data"))
            .env_remove("LINNET_PASSWORD")
            .env_remove("LINNET_LOG")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let written = child.stdin.take().unwrap().write_all(input.as_bytes());
        // A command that fails before reading stdin (e.g. the account exists) may close it
        // first: its exit code and output are what the test checks.
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        child.wait_with_output().unwrap()
    }

    /// An account whose server is `port` on localhost, added without signing in.
    fn add_account(&self, jid: &str, port: u16) {
        let out = self.run_with_stdin(
            &[
                "account",
                "add",
                jid,
                "--server",
                &format!("127.0.0.1:{port}"),
                "--no-verify",
            ],
            "pw\n",
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A port nobody listens on: bound, then closed.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn accounts_can_be_added_listed_and_removed() {
    let env = Env::new();
    let out = env.run_with_stdin(
        &[
            "--json",
            "account",
            "add",
            "Alice@Example.test",
            "--no-verify",
        ],
        "secret pw\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines[0]["type"], "account_added");
    assert_eq!(lines[0]["jid"], "alice@example.test");

    let out = env.run(&["account", "list", "--json"]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["type"], "account");
    assert_eq!(lines[0]["jid"], "alice@example.test");

    // The password is in the 0600 secrets file, not the database.
    let db = std::fs::read(env.dir.path().join("data/linnet.db")).unwrap();
    assert!(!db.windows(9).any(|w| w == b"secret pw"));

    let again = env.run_with_stdin(&["account", "add", "alice@example.test"], "x\n");
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).starts_with("linnet: "));

    let out = env.run(&["account", "remove", "alice@example.test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = env.run(&["account", "list", "--json"]);
    assert!(stdout(&out).is_empty());
}

#[test]
fn an_account_that_cannot_sign_in_is_not_kept() {
    let env = Env::new();
    let port = closed_port();
    let out = env.run_with_stdin(
        &[
            "--json",
            "account",
            "add",
            "bob@localhost",
            "--server",
            &format!("127.0.0.1:{port}"),
        ],
        "pw\n",
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.last().unwrap()["type"], "error");
    assert_eq!(lines.last().unwrap()["kind"], "network");
    assert!(stderr(&out).contains("not added"), "{}", stderr(&out));
    let out = env.run(&["account", "list", "--json"]);
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
}

#[test]
fn the_password_never_comes_from_argv_and_an_empty_one_is_refused() {
    let env = Env::new();
    let out = env.run(&["account", "add", "a@example.test", "--password", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = env.run(&["account", "add", "a@example.test", "--no-verify"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("LINNET_PASSWORD"));
    let out = env
        .cmd(&["account", "add", "a@example.test", "--no-verify"])
        .env("LINNET_PASSWORD", "from env")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_two() {
    let env = Env::new();
    // No account yet.
    let out = env.run(&["--json", "chats"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("linnet account add"));
    assert_eq!(json_lines(&out)[0]["kind"], "usage");

    env.add_account("a@example.test", closed_port());
    for args in [
        &["send", "not an address@@", "hi"][..],
        &["send", "bob@example.test", "   "],
        &["history", "@@"],
        &["account", "remove", "nobody@example.test"],
        &["bogus"],
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }

    // Several accounts and no --account.
    env.add_account("b@example.test", closed_port());
    let out = env.run(&["chats"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--account"));
    let out = env.run(&["chats", "--account", "b@example.test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn an_unreachable_server_exits_four() {
    let env = Env::new();
    env.add_account("a@example.test", closed_port());
    for args in [
        &["send", "bob@example.test", "hello"][..],
        &["doctor"],
        &["roster", "approve", "bob@example.test"],
        &["listen"],
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn local_listings_are_empty_at_first() {
    let env = Env::new();
    env.add_account("a@example.test", closed_port());
    assert_eq!(stdout(&env.run(&["chats"])), "no conversations yet\n");
    assert_eq!(stdout(&env.run(&["roster"])), "no contacts\n");
    assert_eq!(
        stdout(&env.run(&["history", "bob@example.test"])),
        "no messages with bob@example.test\n"
    );
    for args in [&["--json", "chats"][..], &["--json", "roster"]] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(0));
        assert!(stdout(&out).is_empty());
    }
}

/// A server that accepts connections and never says anything: `listen` stays "connecting".
fn silent_server() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

#[test]
fn listen_timeout_exits_zero_without_count_and_four_with_it() {
    let env = Env::new();
    let (_server, port) = silent_server();
    env.add_account("a@example.test", port);

    let started = Instant::now();
    let out = env.run(&["--json", "listen", "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(10));
    let lines = json_lines(&out);
    assert_eq!(lines[0]["type"], "connection");
    assert_eq!(lines[0]["state"], "connecting");
    assert_eq!(lines.last().unwrap()["state"], "offline");

    let out = env.run(&["--json", "listen", "--timeout", "1", "--count", "2"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let last = json_lines(&out).pop().unwrap();
    assert_eq!(last["type"], "error");
    assert!(
        last["message"].as_str().unwrap().contains("timed out"),
        "{last}"
    );
}

#[cfg(unix)]
#[test]
fn listen_exits_cleanly_on_sigterm_and_sigint() {
    let env = Env::new();
    let (_server, port) = silent_server();
    env.add_account("a@example.test", port);
    for signal in ["-TERM", "-INT"] {
        let mut child = env
            .cmd(&["--json", "listen"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The first line comes after the signal handlers are in place.
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        assert!(first.contains("connecting"), "{first}");
        let killed = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let mut rest = String::new();
        reader.read_to_string(&mut rest).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{signal}");
        let last: Value = serde_json::from_str(rest.lines().last().unwrap()).unwrap();
        assert_eq!(last["state"], "offline", "{signal}");
    }
}
