//! `tradeengine doctor`: what the machine offers a latency-critical thread,
//! and the pinning layout to use. Reads `/proc` and `/sys`; cold path.

use std::fmt::Write as _;
use std::path::Path;

use crate::config::Config;
use crate::pinning::CoreLayout;

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(Path::new(path)).ok().map(|s| s.trim().to_string())
}

/// Parses a kernel CPU list such as `2-3,6` (empty for none).
pub fn parse_cpu_list(s: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    out.extend(a..=b);
                }
            }
            None => {
                if let Ok(a) = part.parse() {
                    out.push(a);
                }
            }
        }
    }
    out
}

/// The `[bracketed]` choice of a sysfs multiple-choice file (e.g. THP).
fn bracketed(s: &str) -> Option<&str> {
    let a = s.find('[')?;
    let b = s[a..].find(']')?;
    Some(&s[a + 1..a + b])
}

/// The doctor's report, human-readable, ending with a recommendation.
pub fn report(cfg: &Config) -> String {
    let mut s = String::new();
    let online = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let layout = CoreLayout::resolve(cfg);
    let _ = writeln!(s, "cores available to this process: {:?} ({} online)", layout.available, online);
    let allowed = read("/proc/self/status")
        .and_then(|st| st.lines().find(|l| l.starts_with("Cpus_allowed_list")).map(|l| l.to_string()));
    let _ = writeln!(s, "current affinity: {}", allowed.as_deref().unwrap_or("unknown"));
    let isolated = read("/sys/devices/system/cpu/isolated").map(|v| parse_cpu_list(&v)).unwrap_or_default();
    let nohz = read("/sys/devices/system/cpu/nohz_full").map(|v| parse_cpu_list(&v)).unwrap_or_default();
    let cmdline = read("/proc/cmdline").unwrap_or_default();
    let _ = writeln!(
        s,
        "isolated cores (isolcpus): {}",
        if isolated.is_empty() { "none".into() } else { format!("{isolated:?}") }
    );
    let _ = writeln!(
        s,
        "tickless cores (nohz_full): {}",
        if nohz.is_empty() { "none".into() } else { format!("{nohz:?}") }
    );
    if cmdline.contains("rcu_nocbs") {
        let _ = writeln!(s, "rcu_nocbs: set on the kernel command line");
    }
    let mut governors = Vec::new();
    for c in &layout.available {
        let g = read(&format!("/sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor"));
        let f = read(&format!("/sys/devices/system/cpu/cpu{c}/cpufreq/scaling_cur_freq"));
        governors.push(g.clone());
        let _ = writeln!(
            s,
            "cpu{c}: governor {}, frequency {}",
            g.as_deref().unwrap_or("not exposed (VM or no cpufreq)"),
            f.map(|khz| format!("{} MHz", khz.parse::<u64>().unwrap_or(0) / 1000)).unwrap_or_else(|| "unknown".into())
        );
    }
    let thp = read("/sys/kernel/mm/transparent_hugepage/enabled");
    let thp_mode = thp.as_deref().and_then(bracketed).unwrap_or("unknown").to_string();
    let _ = writeln!(s, "transparent huge pages: {thp_mode}");
    let _ = writeln!(
        s,
        "configured layout: hot thread on {}, cold threads on {:?}",
        layout.hot.map_or("no core (unpinned)".to_string(), |c| format!("core {c}")),
        layout.cold
    );
    for w in &layout.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    let _ = writeln!(s, "\nrecommendation:");
    let hot =
        isolated.iter().rev().find(|c| layout.available.contains(c)).copied().or(layout.available.last().copied());
    match hot {
        Some(h) if layout.available.len() >= 2 => {
            let cold: Vec<usize> = layout.available.iter().copied().filter(|&c| c != h).collect();
            let _ = writeln!(s, "  [engine]\n  hot_core = {h}\n  cold_cores = {cold:?}\n  hot_wait = \"busy-spin\"\n  cold_wait = \"spin-then-park\"");
            if !isolated.contains(&h) {
                let _ = writeln!(
                    s,
                    "  - isolate core {h} from the scheduler: boot with isolcpus={h} nohz_full={h} rcu_nocbs={h}"
                );
            }
        }
        _ => {
            let _ = writeln!(
                s,
                "  only one core: the hot thread cannot have a core of its own; use hot_wait = \"spin-then-yield\""
            );
        }
    }
    if governors.iter().flatten().any(|g| g != "performance") {
        let _ = writeln!(s, "  - set the frequency governor to performance (cpupower frequency-set -g performance)");
    }
    if thp_mode == "always" {
        let _ = writeln!(
            s,
            "  - transparent huge pages are `always`: khugepaged can stall the hot thread; prefer `madvise`"
        );
    }
    let _ = writeln!(
        s,
        "  - keep cold threads off the hot core; on 2 cores they share the other one, so they must park when idle"
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_and_choices_parse() {
        assert_eq!(parse_cpu_list("0-2,5, 7-8"), vec![0, 1, 2, 5, 7, 8]);
        assert_eq!(parse_cpu_list(""), Vec::<usize>::new());
        assert_eq!(bracketed("always [madvise] never"), Some("madvise"));
        assert_eq!(bracketed("none"), None);
    }

    #[test]
    fn report_recommends_a_layout() {
        let r = report(&Config::builtin());
        assert!(
            r.contains("cores available") && r.contains("transparent huge pages") && r.contains("recommendation"),
            "{r}"
        );
    }
}
