//! Cold start as Lambda runs it: fresh execution environments, the
//! bootstrap alone in a CPU cgroup with the whole CPU and with the share a
//! memory size gets (`cpu_share.rs`), TLS on every hop, one endpoint per
//! AWS service, variants interleaved; with the CPU each used and the init
//! steps each logged.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use test_world::fault_proxy::Call;

use crate::bench::{Bench, Case, Network, Transport, cases, github, network, root};
use crate::cpu_share::{Cpu, CpuGroup, Usage};
use crate::launch::{Lambda, Launch, binary, template_memory_mb};
use crate::report::section;
use crate::rie::{Function, init_duration};
use crate::stats::{ms, percentile};

/// `BENCH_COLD_STARTS` per row (default 15).
fn cold_starts() -> usize {
    std::env::var("BENCH_COLD_STARTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(15)
}
const COLD_LATENCIES_MS: [u64; 2] = [0, 20];
/// Dependent round trips of a cold disconnect with a webhook, at best: the
/// yardstick the issue measures the whole-CPU figure against.
const FLOOR_ROUND_TRIPS: u64 = 6;

/// `BENCH_MEMORY_MB`, else the disconnect's size in `template.yaml`.
pub fn bench_memory_mb() -> u64 {
    std::env::var("BENCH_MEMORY_MB")
        .ok()
        .and_then(|mb| mb.parse().ok())
        .unwrap_or_else(|| template_memory_mb(Lambda::Disconnect))
}

/// A binary, for the comparison.
struct Variant {
    name: String,
    binary: PathBuf,
}

fn variants() -> Vec<Variant> {
    let mut variants = vec![Variant {
        name: "this build".into(),
        binary: binary(),
    }];
    // Earlier builds to compare with in the same run, e.g. from before a
    // change: BENCH_BASELINE_BOOTSTRAP=path[:path...].
    if let Some(baselines) = std::env::var_os("BENCH_BASELINE_BOOTSTRAP") {
        for binary in std::env::split_paths(&baselines) {
            variants.push(Variant {
                name: format!("baseline {}", binary.display()),
                binary,
            });
        }
    }
    variants
}

/// Init steps as the function logs them (`name=12.3` fields).
const INIT_STEPS: [&str; 7] = [
    "sdk_config_ms",
    "clients_ms",
    "signing_keys_ms",
    "dynamodb_ms",
    "kms_ms",
    "github_ms",
    "warm_up_ms",
];

/// The init steps of a log of JSON lines.
fn logged_steps(log: &Path) -> BTreeMap<&'static str, f64> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    INIT_STEPS
        .iter()
        .filter_map(|step| Some((*step, lines.iter().find_map(|line| line[*step].as_f64())?)))
        .collect()
}

/// CPU time the process has used so far, over its live threads: where no
/// cgroup counts it.
fn cpu_time(pid: u32) -> Duration {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the process runs");
    let nanos: u64 = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

/// One fresh execution environment's first invocation.
pub struct ColdStart {
    /// The RIE's `INIT REPORT`: the bootstrap's start to its first poll.
    pub init: Duration,
    /// Invoke → first answer, init included.
    pub total: Duration,
    /// The bootstrap's CPU, user and system, from its start to its first
    /// answer, and how long the quota held it back.
    pub usage: Usage,
    pub steps: BTreeMap<&'static str, f64>,
    /// What the RIE billed the invocation (its `REPORT` line), init apart.
    pub billed: Option<Duration>,
    /// From the invocation to the first answer.
    pub window: Range<Instant>,
}

/// What a cold start is asked: the disconnect's webhook case, or one
/// batch for the worker.
pub enum Work<'a> {
    Disconnect(&'a Case),
    Worker(&'a str),
}

impl Bench {
    /// Starts `launch` fresh, invokes it once with `work`, stops it.
    pub async fn cold_start(&self, launch: &Launch<'_>, work: &Work<'_>) -> ColdStart {
        let before = launch.cpu.and_then(CpuGroup::usage);
        let function = self.launch(launch).await;
        let started = Instant::now();
        let total = self.invoke_work(&function, work).await;
        let window = started..started + total;
        let usage = match (before, launch.cpu.and_then(CpuGroup::usage)) {
            (Some(before), Some(after)) => after - before,
            // No cgroup: the live threads' run time, all counted as user.
            _ => Usage {
                total: cpu_time(function.bootstrap_pid()),
                ..Usage::default()
            },
        };
        function.stop();
        let log = root().join("target/bench").join(launch.log);
        ColdStart {
            init: init_duration(&log),
            total,
            usage,
            steps: logged_steps(&log),
            billed: crate::rie::billed_duration(&log),
            window,
        }
    }

    pub async fn invoke_work(&self, function: &Function, work: &Work<'_>) -> Duration {
        match work {
            Work::Disconnect(case) => self.invoke(function, case).await,
            Work::Worker(batch) => self.invoke_worker(function, batch).await,
        }
    }
}

/// Median and range, in ms.
fn range(samples: &mut [Duration]) -> String {
    samples.sort();
    format!(
        "{:.1} ms ({:.1}–{:.1})",
        ms(percentile(samples, 50.0)),
        ms(samples[0]),
        ms(*samples.last().unwrap())
    )
}

/// Each variant's cold starts at one L and one CPU.
#[derive(Default)]
struct Samples {
    inits: Vec<Duration>,
    firsts: Vec<Duration>,
    totals: Vec<Duration>,
    cpus: Vec<Duration>,
    users: Vec<Duration>,
    systems: Vec<Duration>,
    throttled: Vec<Duration>,
    steps: BTreeMap<&'static str, Vec<f64>>,
}

impl Samples {
    fn push(&mut self, cold: ColdStart) {
        self.inits.push(cold.init);
        self.firsts.push(cold.total.saturating_sub(cold.init));
        self.totals.push(cold.total);
        self.cpus.push(cold.usage.total);
        self.users.push(cold.usage.user);
        self.systems.push(cold.usage.system);
        self.throttled.push(cold.usage.throttled);
        for (step, value) in cold.steps {
            self.steps.entry(step).or_default().push(value);
        }
    }

    fn init_steps(&mut self) -> String {
        INIT_STEPS
            .iter()
            .filter_map(|step| {
                let values = self.steps.get_mut(step)?;
                values.sort_by(f64::total_cmp);
                Some(format!(
                    "{} {:.1}",
                    step.trim_end_matches("_ms"),
                    values[values.len() / 2]
                ))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn median_total(&mut self) -> Duration {
        self.totals.sort();
        percentile(&self.totals, 50.0)
    }
}

pub async fn cold_start(bench: &Bench, report: &mut String) {
    let github = github().await;
    let case = &cases()[0];
    let variants = variants();
    let memory_mb = bench_memory_mb();
    let groups = [
        CpuGroup::new(Cpu::Whole),
        CpuGroup::new(Cpu::ShareOf { memory_mb }),
    ];
    let cgroups: Vec<String> = groups.iter().map(CpuGroup::describe).collect();
    section(
        report,
        "Cold start as Lambda runs it",
        &[
            &format!(
                "{} fresh execution environments per row, variants and CPUs interleaved, each an RIE whose first invocation starts the bootstrap, as Lambda's on-demand init does; the webhook case, warm-up at init as deployed. Every call over TLS (a CA made for the run, trusted through SSL_CERT_FILE), one endpoint per AWS service, L added to every call and 2·L to every new connection. The bootstrap runs alone in a CPU cgroup, everything else outside it: {}.",
                cold_starts(),
                cgroups.join("; ")
            ),
            "Init is the RIE's `INIT REPORT` (the bootstrap's start to its first poll, Lambda's Init Duration). CPU is the bootstrap's user and system time (utime + stime) from its start to its first answer, every thread, as the cgroup counts it (the launcher's `sh`, which joins the cgroup and `exec`s the bootstrap, is in it too); throttled is how long the quota held it back. Init steps are the function's own log lines (median, ms).",
        ],
        "L | CPU | variant | init (median, min–max) | first invocation less init | invoke → first answer | CPU time (user + system) | of it user / system, at the tick's granularity (medians) | throttled (median) | init steps",
    );
    let mut summary = Vec::new();
    let mut timeline = String::new();
    for latency_ms in COLD_LATENCIES_MS {
        let latency = Duration::from_millis(latency_ms);
        let net = network(bench, &github.uri(), latency, Transport::Tls).await;
        let mut samples: Vec<Vec<Samples>> = groups
            .iter()
            .map(|_| variants.iter().map(|_| Samples::default()).collect())
            .collect();
        for n in 0..cold_starts() {
            for (g, group) in groups.iter().enumerate() {
                for (v, variant) in variants.iter().enumerate() {
                    let log = format!("cold-{latency_ms}ms-{g}-{v}-{n}.log");
                    let cold = bench
                        .cold_start(
                            &launch(
                                Lambda::Disconnect,
                                &variant.binary,
                                &net,
                                &log,
                                group,
                                memory_mb,
                            ),
                            &Work::Disconnect(case),
                        )
                        .await;
                    if latency_ms > 0 && g == 0 && v == 0 && n + 1 == cold_starts() {
                        timeline = calls_of(&net, &cold.window);
                    }
                    samples[g][v].push(cold);
                }
            }
        }
        for (group, by_variant) in groups.iter().zip(&mut samples) {
            for (variant, samples) in variants.iter().zip(by_variant.iter_mut()) {
                let init_steps = samples.init_steps();
                let median = |samples: &mut Vec<Duration>| {
                    samples.sort();
                    ms(percentile(samples, 50.0))
                };
                let _ = writeln!(
                    report,
                    "| {latency_ms} ms | {} | {} | {} | {} | {} | {} | {:.1} / {:.1} ms | {:.1} ms | {init_steps} |",
                    group.cpu,
                    variant.name,
                    range(&mut samples.inits),
                    range(&mut samples.firsts),
                    range(&mut samples.totals),
                    range(&mut samples.cpus),
                    median(&mut samples.users),
                    median(&mut samples.systems),
                    median(&mut samples.throttled),
                );
            }
        }
        if latency_ms > 0 {
            for (v, variant) in variants.iter().enumerate() {
                let whole = samples[0][v].median_total();
                let share = samples[1][v].median_total();
                let floor = Duration::from_millis(FLOOR_ROUND_TRIPS * latency_ms);
                summary.push(format!(
                    "- {}, L = {latency_ms} ms: {memory_mb} MB's share / whole CPU = {:.2} ({:.1} / {:.1} ms); whole CPU / {FLOOR_ROUND_TRIPS}·L = {:.2} ({:.1} / {:.1} ms).",
                    variant.name,
                    ms(share) / ms(whole),
                    ms(share),
                    ms(whole),
                    ms(whole) / ms(floor),
                    ms(whole),
                    ms(floor),
                ));
            }
        }
    }
    let _ = writeln!(report, "\n{}\n", summary.join("\n"));
    let _ = writeln!(
        report,
        "The calls of this build's last cold start at the largest L, whole CPU, in ms from the invocation (a call's start is when its request reached the proxy, after any TCP and TLS handshake; the first call on a connection waits 2·L more there; upstream is how long moto or the GitHub stub took to answer it, L excluded):\n\n| call | start | end | upstream |\n|---|---|---|---|\n{timeline}"
    );
    let binaries: BTreeMap<&Path, u64> = variants
        .iter()
        .map(|v| {
            (
                v.binary.as_path(),
                std::fs::metadata(&v.binary).unwrap().len(),
            )
        })
        .collect();
    for (binary, size) in binaries {
        let _ = writeln!(
            report,
            "- {}: {size} bytes ({:.2} MB, x86_64)",
            binary.display(),
            size as f64 / 1e6
        );
    }
}

/// `lambda`, deployed as the template has it (warm-up at init), in `group`.
pub fn launch<'a>(
    lambda: Lambda,
    binary: &'a Path,
    net: &'a Network,
    log: &'a str,
    group: &'a CpuGroup,
    memory_mb: u64,
) -> Launch<'a> {
    Launch {
        lambda,
        binary,
        network: net,
        log,
        warm_up: true,
        graph: None,
        cpu: Some(group),
        memory_mb,
    }
}

/// One cold start's calls, in the order they arrived, relative to its start.
fn calls_of(net: &Network, window: &Range<Instant>) -> String {
    let mut calls: Vec<(String, Call)> = net
        .by_service()
        .into_iter()
        .flat_map(|(service, proxy)| {
            proxy
                .calls()
                .into_iter()
                .map(move |call| (format!("{service} {}", call.operation), call))
        })
        .filter(|(_, call)| window.contains(&call.arrived))
        .collect();
    calls.sort_by_key(|(_, call)| call.arrived);
    calls
        .iter()
        .map(|(name, call)| {
            format!(
                "| {name} | {:.1} | {:.1} | {} |\n",
                ms(call.arrived - window.start),
                ms(call.answered - window.start),
                call.upstream_time
                    .map_or("answered by the proxy".into(), |t| format!("{:.1}", ms(t)))
            )
        })
        .collect()
}
