//! Where a load run's CPU goes: CPU seconds (user + system) by process name,
//! read from `/proc` (Linux) at the start and the end of the load window.
//!
//! Rule: a process alive at the end counts for what it spent since the
//! start, or all it ever spent if it was born in between (a PostgreSQL
//! backend opened by a gateway's pool during the load). A process gone by
//! the end takes its CPU with it (a gateway killed by a fault run), so the
//! figures are meant for runs without faults, such as `loadtest bench`.

use std::collections::HashMap;

/// CPU seconds by (pid, name) at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    by_pid: HashMap<u32, (String, f64)>,
}

fn ticks_per_second() -> f64 {
    // USER_HZ is 100 on every Linux ABI this runs on.
    100.0
}

/// Reads every process's CPU time. Unreadable entries are skipped.
pub fn snapshot() -> Snapshot {
    let mut by_pid = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Snapshot { by_pid };
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some((name, seconds)) = parse_stat(&stat) {
            by_pid.insert(pid, (name, seconds));
        }
    }
    Snapshot { by_pid }
}

/// `comm` and utime + stime (seconds) from a `/proc/<pid>/stat` line.
fn parse_stat(stat: &str) -> Option<(String, f64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    // Fields after the name start at field 3 (state); utime and stime are 14 and 15.
    let rest: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    let utime: f64 = rest.get(11)?.parse().ok()?;
    let stime: f64 = rest.get(12)?.parse().ok()?;
    Some((name, (utime + stime) / ticks_per_second()))
}

/// CPU seconds spent between `before` and `after`, summed by process name.
pub fn spent(before: &Snapshot, after: &Snapshot) -> HashMap<String, f64> {
    let mut by_name: HashMap<String, f64> = HashMap::new();
    for (pid, (name, end)) in &after.by_pid {
        let start = match before.by_pid.get(pid) {
            Some((earlier, start)) if earlier == name => *start,
            _ => 0.0, // born (or re-used pid) since the start
        };
        *by_name.entry(name.clone()).or_default() += (end - start).max(0.0);
    }
    by_name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_even_with_spaces_and_parentheses_in_the_name() {
        let line =
            "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 0 0";
        let (name, seconds) = parse_stat(line).unwrap();
        assert_eq!(name, "my (odd) name");
        assert!((seconds - 3.0).abs() < 1e-9, "{seconds}");
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn this_process_is_seen_and_its_cpu_only_grows() {
        let before = snapshot();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let after = snapshot();
        let spent = spent(&before, &after);
        assert!(spent.values().all(|s| *s >= 0.0));
        assert!(after.by_pid.contains_key(&std::process::id()));
    }
}
