//! CPU pinning for measured runs: the server under test on core 0, the load generator and
//! everything else on the others (with `taskset`), and back to every core afterwards.

use std::process::{Command, Stdio};

/// The machine's online CPUs as a list (`0-1`), and how many. Not this process's affinity
/// (`available_parallelism` follows it, so after pinning it would report one core).
pub(crate) fn online_cpus() -> (String, usize) {
    let list = std::fs::read_to_string("/sys/devices/system/cpu/online")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let count = list
        .split(',')
        .filter_map(|r| match r.split_once('-') {
            Some((a, b)) => Some(b.parse::<usize>().ok()? + 1 - a.parse::<usize>().ok()?),
            None => r.parse::<usize>().ok().map(|_| 1),
        })
        .sum();
    (list, count)
}

/// Lets this process (and what it starts next) run on every core again.
pub(crate) fn unpin() {
    let (list, count) = online_cpus();
    if count == 0 {
        return;
    }
    let _ = Command::new("taskset")
        .args(["-a", "-cp", &list, &std::process::id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Pins the measured processes (every thread) to core 0 and the load generator and origin to
/// core 1, when the machine has two cores or more and `taskset` is installed; whether it did.
pub(crate) fn pin(measured: &[u32], others: &[u32]) -> bool {
    if online_cpus().1 < 2 {
        return false;
    }
    let set = |core: &str, pid: u32| {
        Command::new("taskset")
            .args(["-a", "-cp", core, &pid.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    measured.iter().all(|p| set("0", *p)) & others.iter().all(|p| set("1", *p))
}

#[cfg(test)]
mod tests {
    /// Unpinning restores every online CPU, even after this process was pinned to one.
    #[test]
    fn unpin_restores_every_core_after_a_pin() {
        let (list, count) = super::online_cpus();
        assert!(count >= 1, "{list:?}");
        let allowed = || {
            std::fs::read_to_string("/proc/self/status")
                .unwrap()
                .lines()
                .find_map(|l| {
                    l.strip_prefix("Cpus_allowed_list:")
                        .map(|v| v.trim().to_string())
                })
                .unwrap()
        };
        if count < 2 || !super::pin(&[], &[std::process::id()]) {
            return; // One core or no taskset: nothing to pin.
        }
        assert_eq!(allowed(), "1");
        super::unpin();
        assert_eq!(allowed(), list);
    }
}
