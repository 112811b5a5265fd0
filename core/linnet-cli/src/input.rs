//! What the CLI reads besides its arguments: the password (environment or standard input, never
//! the command line) and message bodies from standard input.

use std::io::{BufRead, IsTerminal as _, Read, Write as _};

use linnet_sdk::Secret;

use crate::error::CliError;

/// The environment variable a password may come from.
pub const PASSWORD_ENV: &str = "LINNET_PASSWORD";

/// The password: `$LINNET_PASSWORD` if set, else the first line of standard input (asked for,
/// without echo, when standard input is a terminal).
pub fn password(jid: &str) -> Result<Secret, CliError> {
    let value = match std::env::var_os(PASSWORD_ENV) {
        Some(v) => v
            .into_string()
            .map_err(|_| CliError::usage(format!("{PASSWORD_ENV} is not valid UTF-8")))?,
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                prompt_hidden(&format!("password for {jid}: "))?
            } else {
                first_line(stdin.lock())?.unwrap_or_default()
            }
        }
    };
    if value.is_empty() {
        return Err(CliError::usage(format!(
            "no password: set {PASSWORD_ENV} or write it on the first line of standard input"
        )));
    }
    // Blank it in every log line from now on, should it ever get near one.
    linnet_sdk::logging::register_secret(&value);
    Ok(Secret::new(value))
}

/// The first line, without its line ending (`\n` or `\r\n`); nothing else is trimmed, since
/// spaces may be part of a password. `None` on empty input.
pub fn first_line(mut reader: impl BufRead) -> Result<Option<String>, CliError> {
    let mut line = String::new();
    let n = reader
        .read_line(&mut line)
        .map_err(|e| CliError::usage(format!("cannot read standard input: {e}")))?;
    if n == 0 {
        return Ok(None);
    }
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    Ok(Some(line))
}

/// Asks on the terminal with echo switched off (through `stty`, so no unsafe code here).
fn prompt_hidden(prompt: &str) -> Result<String, CliError> {
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{prompt}");
    let _ = stderr.flush();
    let echo_off = set_echo(false);
    let line = first_line(std::io::stdin().lock());
    if echo_off {
        set_echo(true);
    }
    let _ = writeln!(stderr);
    Ok(line?.unwrap_or_default())
}

#[cfg(unix)]
fn set_echo(on: bool) -> bool {
    std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(not(unix))]
fn set_echo(_on: bool) -> bool {
    false
}

/// The message body from `send`'s words: joined by spaces, or all of standard input for "-".
pub fn body(words: &[String]) -> Result<String, CliError> {
    let body = match words {
        [dash] if dash == "-" => read_all(std::io::stdin().lock())?,
        _ => words.join(" "),
    };
    if body.trim().is_empty() {
        return Err(CliError::usage("the message is empty"));
    }
    Ok(body)
}

pub fn read_all(mut reader: impl Read) -> Result<String, CliError> {
    let mut text = String::new();
    reader.read_to_string(&mut text).map_err(|e| {
        CliError::usage(format!("cannot read the message from standard input: {e}"))
    })?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn first_line_keeps_spaces_and_drops_the_line_ending() {
        let line = |s: &str| first_line(s.as_bytes()).unwrap();
        assert_eq!(line("pass word \nnext\n"), Some("pass word ".into()));
        assert_eq!(line("secret\r\n"), Some("secret".into()));
        assert_eq!(line("no newline"), Some("no newline".into()));
        assert_eq!(line("\n"), Some(String::new()));
        assert_eq!(line(""), None);
    }

    #[test]
    fn body_joins_words_and_rejects_empty_text() {
        assert_eq!(
            body(&["hello".into(), "there".into()]).unwrap(),
            "hello there"
        );
        let e = body(&["  ".into()]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn read_all_takes_everything() {
        assert_eq!(read_all("a\nb\n".as_bytes()).unwrap(), "a\nb\n");
        let invalid: &[u8] = &[0xff, 0xfe];
        assert_eq!(read_all(invalid).unwrap_err().exit_code(), 2);
    }
}
