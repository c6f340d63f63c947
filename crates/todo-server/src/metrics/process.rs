//! Process metrics under their standard Prometheus names (`process_*`), read from `/proc` at
//! scrape time. Written by hand rather than through the recorder so that the CPU counter keeps
//! its fractions; on systems without `/proc` nothing is written.

use std::fmt::Write;

/// Linux reports CPU time in clock ticks of `USER_HZ`, which is 100 on every architecture
/// Linux supports for user space (reading `sysconf` would need `unsafe`).
const TICKS_PER_SECOND: f64 = 100.0;

pub fn render(out: &mut String) {
    let Some(sample) = Sample::read() else {
        return;
    };
    let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n\n"
        );
    };
    metric(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        sample.cpu_seconds,
    );
    metric(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        sample.resident_bytes,
    );
    metric(
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
        sample.open_fds,
    );
    if let Some(max) = sample.max_fds {
        metric(
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
            max,
        );
    }
    metric(
        "process_threads",
        "gauge",
        "Number of OS threads in the process.",
        sample.threads,
    );
}

struct Sample {
    cpu_seconds: f64,
    resident_bytes: f64,
    open_fds: f64,
    max_fds: Option<f64>,
    threads: f64,
}

impl Sample {
    fn read() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        // Fields after the command name, which is in parentheses and may contain spaces.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        let kib = |key: &str| -> Option<f64> {
            let line = status.lines().find(|l| l.starts_with(key))?;
            line.split_whitespace().nth(1)?.parse().ok()
        };
        let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as f64;
        let max_fds = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|limits| {
                let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
                line.split_whitespace().nth(3)?.parse().ok()
            });
        Some(Self {
            cpu_seconds: ticks / TICKS_PER_SECOND,
            resident_bytes: kib("VmRSS:")? * 1024.0,
            open_fds,
            max_fds,
            threads: kib("Threads:")?,
        })
    }
}
