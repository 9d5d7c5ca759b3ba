//! The process protocol: an `edge` process prints one `ready k=v …` line on stdout when it
//! serves (its addresses, POP, revision: `ready http=127.0.0.1:41234 admin=… pop=…`), and
//! nothing on stdout before it. `wait_ready` reads a child's stdout until that line.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

/// The `k=v` pairs of a ready line, or `None` for any other line.
pub fn parse_ready(line: &str) -> Option<HashMap<String, String>> {
    let rest = line.strip_prefix("ready ")?;
    Some(
        rest.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// Why a process never said it was ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// Its stdout closed first (it exited).
    Exited,
    /// No ready line within the time given.
    TimedOut(Duration),
}

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotReady::Exited => write!(f, "it exited before it was ready"),
            NotReady::TimedOut(d) => write!(f, "it was not ready within {} s", d.as_secs()),
        }
    }
}

impl std::error::Error for NotReady {}

/// Reads `stdout` on a thread of its own (for the process's whole life, so it never blocks on
/// a full pipe), hands every line to `each`, and returns the ready line's pairs once it comes.
pub fn wait_ready(
    stdout: impl Read + Send + 'static,
    timeout: Option<Duration>,
    mut each: impl FnMut(&str) + Send + 'static,
) -> Result<HashMap<String, String>, NotReady> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(ready) = parse_ready(&line) {
                let _ = tx.send(ready);
            }
            each(&line);
        }
    });
    match timeout {
        Some(t) => rx.recv_timeout(t).map_err(|e| match e {
            std::sync::mpsc::RecvTimeoutError::Timeout => NotReady::TimedOut(t),
            std::sync::mpsc::RecvTimeoutError::Disconnected => NotReady::Exited,
        }),
        None => rx.recv().map_err(|_| NotReady::Exited),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_line_gives_its_pairs() {
        let r = parse_ready("ready http=127.0.0.1:1 pop=IAD89-C1").unwrap();
        assert_eq!(r["http"], "127.0.0.1:1");
        assert_eq!(r["pop"], "IAD89-C1");
        assert!(parse_ready("readyish x=1").is_none());
    }

    #[test]
    fn waiting_ends_with_the_ready_line_or_the_end_of_output() {
        let out: &[u8] = b"noise\nready http=1.2.3.4:5\nafter\n";
        let r = wait_ready(out, None, |_| {}).unwrap();
        assert_eq!(r["http"], "1.2.3.4:5");
        let silent: &[u8] = b"no ready here\n";
        assert_eq!(wait_ready(silent, None, |_| {}), Err(NotReady::Exited));
    }
}
