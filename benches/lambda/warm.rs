//! Warm latency per L: what each case costs once the instance is warm, and
//! how much of it is waiting on calls.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::time::{Duration, Instant};

use test_world::fault_proxy::{Call, FaultProxy};

use crate::bench::{Bench, Transport, cases, github, network};
use crate::launch::{Launch, binary};
use crate::report::section;
use crate::stats::{MotoTimes, ms, percentile, time_in_calls};

pub const LATENCIES_MS: [u64; 3] = [0, 20, 50];
const WARM_SAMPLES: usize = 100;

pub async fn warm_latency(bench: &Bench, report: &mut String) {
    let cases = cases();
    section(
        report,
        "Warm invocations",
        &[
            &format!(
                "{WARM_SAMPLES} invocations per row, after 5 warm-ups; a proxy in front of moto and one in front of the GitHub stub add L to every call to DynamoDB, KMS, Secrets Manager and GitHub, and 2·L more to the first call on a new connection (TCP and TLS handshakes)."
            ),
            "`(p50 − p50 at L = 0) / L` counts the calls that wait on each other: what L adds, in units of L. Each invocation splits into time *in calls* (at least one call in flight at a proxy: L, moto's service time, forwarding) and time *outside calls* (the function's own work, the HTTP client, the runtime API's two hops). `moto` is moto's median service time summed over the critical path (the slower call of each step).",
        ],
        "L | case | p50 | p99 | min | max | p50 / L | (p50 − p50 at L = 0) / L | in calls (p50) | outside calls (p50) | moto | Secrets Manager calls while warm",
    );
    let mut p50_at_zero: BTreeMap<&str, Duration> = BTreeMap::new();
    let mut service_times = String::new();
    let github = github().await;
    for latency_ms in LATENCIES_MS {
        let latency = Duration::from_millis(latency_ms);
        let net = network(bench, &github.uri(), latency, Transport::Plain).await;
        let function = bench
            .launch(&Launch::disconnect(
                &binary(),
                &net,
                &format!("warm-{latency_ms}ms.log"),
            ))
            .await;
        for case in &cases {
            for _ in 0..5 {
                bench.invoke(&function, case).await;
            }
        }
        let calls_before = net.aws_calls().len();
        let secrets_before = secret_fetches(&net.secrets_manager);
        let mut windows: Vec<Vec<Range<Instant>>> = vec![Vec::new(); cases.len()];
        for _ in 0..WARM_SAMPLES {
            for (case, windows) in cases.iter().zip(&mut windows) {
                windows.push(bench.invoke_in(&function, case).await);
            }
        }
        let secret_calls = secret_fetches(&net.secrets_manager) - secrets_before;
        let calls: Vec<Call> = net.calls();
        let moto = MotoTimes::of(&net.aws_calls()[calls_before..]);
        let _ = writeln!(service_times, "| {latency_ms} ms | {} |", moto.describe());
        for (case, windows) in cases.iter().zip(windows) {
            let sorted = |mut v: Vec<Duration>| {
                v.sort();
                v
            };
            let totals = sorted(windows.iter().map(|w| w.end - w.start).collect());
            let inside = sorted(windows.iter().map(|w| time_in_calls(w, &calls)).collect());
            let outside = sorted(
                windows
                    .iter()
                    .map(|w| (w.end - w.start) - time_in_calls(w, &calls))
                    .collect(),
            );
            let p50 = percentile(&totals, 50.0);
            let p50_at_zero = *p50_at_zero.entry(case.name).or_insert(p50);
            let (ratio, steps) = if latency_ms == 0 {
                ("—".to_owned(), "—".to_owned())
            } else {
                let per_l = |d: Duration| format!("{:.2}", ms(d) / latency_ms as f64);
                (per_l(p50), per_l(p50.saturating_sub(p50_at_zero)))
            };
            let _ = writeln!(
                report,
                "| {latency_ms} ms | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {ratio} | {steps} | {:.1} ms | {:.1} ms | {:.1} ms | {secret_calls} |",
                case.name,
                ms(p50),
                ms(percentile(&totals, 99.0)),
                ms(totals[0]),
                ms(*totals.last().unwrap()),
                ms(percentile(&inside, 50.0)),
                ms(percentile(&outside, 50.0)),
                ms(moto.critical_path(case.steps)),
            );
        }
        function.stop();
    }
    let _ = writeln!(
        report,
        "\nmoto's median service time per operation, as the proxy measured it (request forwarded → answer read):\n"
    );
    let _ = writeln!(report, "| L | per operation |\n|---|---|\n{service_times}");
}

fn secret_fetches(proxy: &FaultProxy) -> usize {
    proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "GetSecretValue")
        .count()
}
