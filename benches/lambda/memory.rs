//! Memory: one process over many invocations, RSS sampled as it goes.

use std::fmt::Write as _;
use std::time::Duration;

use crate::bench::{Bench, Transport, cases, github, network};
use crate::launch::{Launch, binary};
use crate::report::section;

/// `BENCH_MEMORY_INVOCATIONS` runs longer, to see where RSS settles.
fn memory_invocations() -> usize {
    std::env::var("BENCH_MEMORY_INVOCATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000)
}

pub async fn memory(bench: &Bench, report: &mut String) {
    let github = github().await;
    let case = &cases()[0];
    let net = network(bench, &github.uri(), Duration::ZERO, Transport::Plain).await;
    let function = bench
        .launch(&Launch::disconnect(&binary(), &net, "memory.log"))
        .await;
    bench.invoke(&function, case).await;
    let pid = function.bootstrap_pid();
    let mut samples = Vec::new();
    let invocations = memory_invocations();
    for n in 2..=invocations {
        bench.invoke(&function, case).await;
        if (n <= 1_000 && n % 100 == 0) || n % 1_000 == 0 {
            samples.push((n, rss_kib(pid, "VmRSS:")));
        }
    }
    let peak = rss_kib(pid, "VmHWM:");
    function.stop();
    let header: Vec<String> = samples.iter().map(|(n, _)| n.to_string()).collect();
    let values: Vec<String> = samples.iter().map(|(_, kib)| kib.to_string()).collect();
    section(
        report,
        "Memory",
        &[&format!(
            "One process, warm-up at init, {invocations} webhook-case invocations at L = 0 (through the proxies, plain text). RSS (VmRSS) every 100 invocations up to 1,000, then every 1,000, in KiB:"
        )],
        &format!("after | {}", header.join(" | ")),
    );
    let _ = writeln!(report, "| RSS | {} |", values.join(" | "));
    let growth = samples.last().unwrap().1 as i64 - samples[0].1 as i64;
    let _ = writeln!(
        report,
        "\nPeak RSS (VmHWM): {:.1} MiB. From the 100th to the {invocations}th invocation: {growth:+} KiB.",
        peak as f64 / 1024.0
    );
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap()
}
