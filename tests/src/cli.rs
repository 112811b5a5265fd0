//! Running the `linnet` command-line client in tests: the binary of this workspace, a data dir
//! per test, JSON output read line by line.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::TestServer;

/// The `linnet` binary of this workspace (`make test` builds every target first).
pub fn linnet_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> -> target/<profile>/linnet
    let bin = exe.parent().unwrap().parent().unwrap().join("linnet");
    assert!(
        bin.exists(),
        "{} is missing: cargo build -p linnet-cli",
        bin.display()
    );
    bin
}

fn command(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(linnet_bin());
    c.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("LINNET_PASSWORD")
        .env_remove("LINNET_LOG");
    c
}

/// Runs `linnet --data-dir DATA ARGS` with `stdin`; panics unless it exits with 0.
pub fn linnet(data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = command(data, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "linnet {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `linnet account add` for `jid` on `server` (the server's CA trusted, its address given).
pub fn add_account(data: &Path, server: &TestServer, jid: &str, password: &str) {
    let ca = data.with_extension("ca.pem");
    std::fs::write(&ca, &server.ca_pem).unwrap();
    let address = format!("{}:{}", server.host, server.starttls_port);
    linnet(
        data,
        &[
            "account",
            "add",
            jid,
            "--server",
            &address,
            "--ca-file",
            ca.to_str().unwrap(),
        ],
        &format!("{password}\n"),
    );
}

/// A running `linnet --json ...` (e.g. `listen`) whose JSON lines are read as they come.
pub struct Running {
    child: Child,
    lines: std::sync::mpsc::Receiver<Value>,
}

impl Running {
    pub fn start(data: &Path, args: &[&str]) -> Running {
        let mut child = command(data, args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Ok(v) = serde_json::from_str(&line)
                    && tx.send(v).is_err()
                {
                    return;
                }
            }
        });
        Running { child, lines }
    }

    /// The first JSON line for which `pick` returns something, within `within`.
    pub fn wait_for<T>(&self, within: Duration, mut pick: impl FnMut(&Value) -> Option<T>) -> T {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    if let Some(t) = pick(&v) {
                        return t;
                    }
                }
                Err(e) => panic!("no matching line from linnet within {within:?}: {e}"),
            }
        }
    }

    /// Asks it to stop (SIGTERM: a clean disconnect) and waits.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
