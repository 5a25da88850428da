//! Cold start: fresh execution environments per L and transport, the variants
//! interleaved, with the CPU they use and the init steps they log.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::bench::{Bench, Transport, cases, github, network, root};
use crate::launch::{Launch, binary};
use crate::report::section;
use crate::rie::init_duration;
use crate::stats::{ms, percentile};

const COLD_STARTS: usize = 15;
const COLD_LATENCIES_MS: [u64; 2] = [0, 20];

/// A binary and how it starts, for the cold-start comparison.
struct Variant {
    name: String,
    binary: PathBuf,
    warm_up: bool,
}

fn variants() -> Vec<Variant> {
    let mut variants = vec![
        Variant {
            name: "no network work at init".into(),
            binary: binary(),
            warm_up: false,
        },
        Variant {
            name: "warm-up at init".into(),
            binary: binary(),
            warm_up: true,
        },
    ];
    // Earlier builds to compare with in the same run, e.g. from before a
    // dependency change: BENCH_BASELINE_BOOTSTRAP=path[:path...].
    if let Some(baselines) = std::env::var_os("BENCH_BASELINE_BOOTSTRAP") {
        for binary in std::env::split_paths(&baselines) {
            variants.push(Variant {
                name: format!("baseline {}", binary.display()),
                binary,
                warm_up: false,
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

/// The init steps of a log of JSON lines; the bench stops when a log has
/// none, so the column can never be silently empty.
fn logged_steps(log: &Path) -> BTreeMap<&'static str, f64> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let steps: BTreeMap<&'static str, f64> = INIT_STEPS
        .iter()
        .filter_map(|step| Some((*step, lines.iter().find_map(|line| line[*step].as_f64())?)))
        .collect();
    assert!(
        !steps.is_empty(),
        "no init steps in {}: {text}",
        log.display()
    );
    steps
}

/// CPU time the process has used so far, over all its threads.
fn cpu_time(pid: u32) -> Duration {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the process runs");
    let nanos: u64 = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

/// What one variant's cold starts measured, sample by sample.
#[derive(Default)]
struct Samples {
    /// The RIE's `INIT REPORT`: the bootstrap's start to its first poll.
    inits: Vec<Duration>,
    /// The first invocation less that init.
    firsts: Vec<Duration>,
    /// Invoke → first answer, init included.
    totals: Vec<Duration>,
    cpus: Vec<Duration>,
    steps: BTreeMap<&'static str, Vec<f64>>,
}

fn range(samples: &mut [Duration]) -> String {
    samples.sort();
    format!(
        "{:.1} ms ({:.1}–{:.1})",
        ms(percentile(samples, 50.0)),
        ms(samples[0]),
        ms(*samples.last().unwrap())
    )
}

pub async fn cold_start(bench: &Bench, report: &mut String) {
    let github = github().await;
    let case = &cases()[0];
    let variants = variants();
    section(
        report,
        "Cold start",
        &[&format!(
            "{COLD_STARTS} fresh execution environments per row, variants interleaved, each an RIE whose first invocation starts the bootstrap, as Lambda's on-demand init does; the webhook case; L added to every call and 2·L to every new connection, as above; the proxies answer in plain text or over TLS (a CA made for the run, trusted through SSL_CERT_FILE). Init is the RIE's `INIT REPORT` (the bootstrap's start to its first poll, Lambda's Init Duration). CPU is the bootstrap's own (all threads, /proc schedstat) from start to its first answer. Init steps are the function's own log lines (median, ms)."
        )],
        "L | transport | variant | init (median, min–max) | first invocation less init (median, min–max) | invoke → first answer (median) | CPU to first answer (median, min–max) | init steps",
    );
    for latency_ms in COLD_LATENCIES_MS {
        let latency = Duration::from_millis(latency_ms);
        for transport in [Transport::Plain, Transport::Tls] {
            let (aws, github) = network(bench, &github.uri(), latency, transport).await;
            let mut samples: Vec<Samples> = variants.iter().map(|_| Samples::default()).collect();
            let scheme = match transport {
                Transport::Tls => "tls",
                Transport::Plain => "plain",
            };
            for n in 0..COLD_STARTS {
                for (v, variant) in variants.iter().enumerate() {
                    let log = format!("cold-{latency_ms}ms-{scheme}-{v}-{n}.log");
                    let function = bench
                        .launch(&Launch {
                            binary: &variant.binary,
                            aws_endpoint: &aws.endpoint,
                            github: &github.endpoint,
                            log: &log,
                            warm_up: variant.warm_up,
                            graph: None,
                        })
                        .await;
                    let total = bench.invoke(&function, case).await;
                    let cpu = cpu_time(function.bootstrap_pid());
                    function.stop();
                    let log = root().join("target/bench").join(&log);
                    let init = init_duration(&log);
                    let samples = &mut samples[v];
                    samples.inits.push(init);
                    samples.firsts.push(total.saturating_sub(init));
                    samples.totals.push(total);
                    samples.cpus.push(cpu);
                    for (step, value) in logged_steps(&log) {
                        samples.steps.entry(step).or_default().push(value);
                    }
                }
            }
            for (variant, samples) in variants.iter().zip(&mut samples) {
                let init_steps = INIT_STEPS
                    .iter()
                    .filter_map(|step| {
                        let values = samples.steps.get_mut(step)?;
                        values.sort_by(f64::total_cmp);
                        Some(format!(
                            "{} {:.1}",
                            step.trim_end_matches("_ms"),
                            values[values.len() / 2]
                        ))
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                samples.totals.sort();
                let _ = writeln!(
                    report,
                    "| {latency_ms} ms | {} | {} | {} | {} | {:.1} ms | {} | {init_steps} |",
                    match transport {
                        Transport::Tls => "TLS",
                        Transport::Plain => "plain",
                    },
                    variant.name,
                    range(&mut samples.inits),
                    range(&mut samples.firsts),
                    ms(percentile(&samples.totals, 50.0)),
                    range(&mut samples.cpus),
                );
            }
        }
    }
    let _ = writeln!(report);
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
