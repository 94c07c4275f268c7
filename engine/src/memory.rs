//! Memory figures of the process (Linux `/proc`; 0 where unavailable).

fn status_kib(field: &str) -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0)
}

/// Peak resident set size of this process in bytes (VmHWM), 0 if unknown.
pub fn peak_rss() -> u64 {
    status_kib("VmHWM:") * 1024
}

/// Current resident set size of this process in bytes (VmRSS), 0 if unknown.
pub fn current_rss() -> u64 {
    status_kib("VmRSS:") * 1024
}

/// Total memory of the machine in bytes (MemTotal), or 8 GiB if unknown.
pub fn total_ram() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok())
        })
        .map(|kib| kib * 1024)
        .unwrap_or(8 << 30)
}

/// The default visited-set budget: half of the machine's memory, leaving the
/// rest for the frontier, the model and everything else on the machine.
pub fn default_budget() -> u64 {
    total_ram() / 2
}

#[cfg(test)]
mod tests {
    #[test]
    fn figures_are_plausible_on_linux() {
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(super::peak_rss() >= super::current_rss() / 2);
            assert!(super::current_rss() > 0);
            assert!(super::total_ram() > super::current_rss());
        }
    }
}
