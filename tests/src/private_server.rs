//! A private instance of one real test server, for a scenario that must stop or restart the
//! server: the shared instance (`tests/servers/servers.sh start`) serves every other test running
//! in parallel, so it is never touched.
//!
//! `PrivateServer::start("prosody")` runs `servers.sh start` with its own state dir
//! (`$TMPDIR/linnet-private-<test pid>-<random>`), only that server (`LINNET_TEST_SERVERS`) and
//! ports of its own (the `LINNET_*_PORT` overrides servers.sh reads): a block of ten ports in
//! 10000-32759, below the kernel's ephemeral range, so neither the shared instance, another
//! private one nor an outgoing connection holds them. It has its own CA, accounts and data.
//! Dropping it runs `servers.sh clean` for that state dir (stops the server, deletes the dir),
//! also when the test panics. A test process killed outright leaves its instance running: the
//! next `start` in any test process cleans up every private instance whose test process is gone.
//! With `LINNET_TEST_KEEP_PRIVATE=1` a dropped instance is only stopped, and its state dir (logs,
//! data) renamed to `$TMPDIR/linnet-kept-...` for a post-mortem (delete it by hand).

use std::io::ErrorKind;
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{TestServer, create_account_with, repo_root, server_in};

/// State dirs of private instances are named `<PREFIX><test pid>-<random>`.
const PREFIX: &str = "linnet-private-";

/// The port overrides each server needs, in the order of a port block.
fn port_vars(name: &str) -> &'static [&'static str] {
    match name {
        "prosody" => &[
            "LINNET_PROSODY_STARTTLS_PORT",
            "LINNET_PROSODY_DIRECT_TLS_PORT",
            "LINNET_PROSODY_UPLOAD_HTTPS_PORT",
        ],
        "ejabberd" => &[
            "LINNET_EJABBERD_STARTTLS_PORT",
            "LINNET_EJABBERD_DIRECT_TLS_PORT",
            "LINNET_EJABBERD_UPLOAD_HTTPS_PORT",
            "LINNET_EJABBERD_API_PORT",
            "LINNET_EJABBERD_DIST_PORT",
        ],
        other => panic!("no private instance of {other}: prosody or ejabberd"),
    }
}

/// The state dir and environment of one instance; cleans it up when dropped.
struct Instance {
    state: PathBuf,
    env: Vec<(String, String)>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        // No panic here: this may run while a failed test unwinds.
        if std::env::var_os("LINNET_TEST_KEEP_PRIVATE").is_some() {
            // For a post-mortem: stopped, and renamed out of the sweep's reach.
            let kept = self.state.with_file_name(format!(
                "linnet-kept-{}",
                self.state
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
            let stopped = run(&self.env, "stop");
            let renamed = std::fs::rename(&self.state, &kept);
            eprintln!(
                "private server: kept in {} (stop: {stopped:?}, rename: {renamed:?})",
                kept.display()
            );
            return;
        }
        if let Err(e) = clean(&self.state, &self.env) {
            eprintln!(
                "private server {}: clean-up failed: {e}",
                self.state.display()
            );
        }
    }
}

/// `servers.sh clean` for a state dir: stops its servers and deletes it.
fn clean(state: &Path, env: &[(String, String)]) -> Result<(), String> {
    let out = Command::new("bash")
        .arg(repo_root().join("tests/servers/servers.sh"))
        .arg("clean")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("LINNET_TEST_STATE", state)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Cleans up the private instances of test processes that are gone (killed before their
/// `Drop` ran). A live process's instances are left alone.
fn sweep_stale() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        match clean(&entry.path(), &[]) {
            Ok(()) => eprintln!("private server: cleaned up {name} (its test process is gone)"),
            Err(e) => eprintln!("private server: could not clean up {name}: {e}"),
        }
    }
}

/// Whether `port` can be bound on 127.0.0.1 and, when the machine has it, ::1.
fn port_is_free(port: u16) -> bool {
    if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err() {
        return false;
    }
    match TcpListener::bind((Ipv6Addr::LOCALHOST, port)) {
        Ok(_) => true,
        Err(e) => e.kind() == ErrorKind::AddrNotAvailable,
    }
}

/// `n` (at most 10) consecutive free ports from a random block of ten in 10000-32759, away
/// from the shared instance's ports (15222-15281, 25222-25281, 3478).
fn free_ports(n: usize) -> Vec<u16> {
    use rand::Rng as _;
    assert!(n <= 10);
    loop {
        let block: u16 = rand::rng().random_range(1000..3276);
        if (1522..=1528).contains(&block) || (2522..=2528).contains(&block) {
            continue;
        }
        let ports: Vec<u16> = (0..n as u16).map(|i| block * 10 + i).collect();
        if ports.iter().all(|&p| port_is_free(p)) {
            return ports;
        }
    }
}

/// A private instance of Prosody or ejabberd (see the module docs).
pub struct PrivateServer {
    server: TestServer,
    instance: Instance,
}

impl PrivateServer {
    /// Starts `name` ("prosody" or "ejabberd") alone in a new state dir on ports of its own.
    /// Blocks while it starts (~1.5 s for Prosody, ~3-6 s for ejabberd). A start that fails
    /// (e.g. a port taken in the meantime) is retried twice with other ports.
    pub fn start(name: &'static str) -> PrivateServer {
        sweep_stale();
        let vars = port_vars(name);
        let mut failures = Vec::new();
        for _ in 0..3 {
            let state = std::env::temp_dir().join(format!(
                "{PREFIX}{}-{}",
                std::process::id(),
                crate::unique_name(name)
            ));
            let mut env = vec![
                ("LINNET_TEST_SERVERS".to_string(), name.to_string()),
                (
                    "LINNET_TEST_STATE".to_string(),
                    state.to_string_lossy().into_owned(),
                ),
            ];
            for (var, port) in vars.iter().zip(free_ports(vars.len())) {
                env.push((var.to_string(), port.to_string()));
            }
            let instance = Instance { state, env };
            let t0 = Instant::now();
            match run(&instance.env, "start") {
                Ok(()) => {
                    let server = server_in(&instance.state, name);
                    eprintln!(
                        "private {name}: started in {:?} on port {} ({})",
                        t0.elapsed(),
                        server.starttls_port,
                        instance.state.display()
                    );
                    return PrivateServer { server, instance };
                }
                // `instance` is dropped here: whatever did start is cleaned up.
                Err(e) => failures.push(e),
            }
        }
        panic!(
            "private {name}: servers.sh start failed 3 times:\n{}",
            failures.join("\n")
        );
    }

    /// The server, as `crate::server` describes the shared one (its own ports and CA).
    pub fn server(&self) -> &TestServer {
        &self.server
    }

    /// A new account on this instance; returns (bare JID, password).
    pub fn create_account(&self, prefix: &str) -> (String, String) {
        create_account_with(&self.instance.env, &self.server, prefix)
    }

    /// Stops the server (SIGTERM, as an operator's restart would): every connection to it ends.
    /// Returns how long stopping took.
    pub async fn stop(&self) -> Duration {
        self.run_async("stop").await
    }

    /// Starts the stopped server again (same state dir, ports, accounts and data). Returns how
    /// long until it accepted connections.
    pub async fn start_again(&self) -> Duration {
        self.run_async("start").await
    }

    async fn run_async(&self, command: &'static str) -> Duration {
        let env = self.instance.env.clone();
        let t0 = Instant::now();
        tokio::task::spawn_blocking(move || run(&env, command))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("private {}: {e}", self.server.name));
        t0.elapsed()
    }
}

/// Runs `servers.sh <command>` for the instance `env` names.
fn run(env: &[(String, String)], command: &str) -> Result<(), String> {
    let out = Command::new("bash")
        .arg(repo_root().join("tests/servers/servers.sh"))
        .arg(command)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("servers.sh {command}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "servers.sh {command} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
