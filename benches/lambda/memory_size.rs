//! The memory size, measured as AWS Lambda Power Tuning would measure it if
//! it could run here: each function at each size's CPU share (Lambda gives
//! CPU in proportion to memory), its cold first answer, its warm p50 and
//! what a million invocations cost at arm64's price, init billed.

use std::fmt::Write as _;
use std::time::Duration;

use crate::bench::{Bench, Transport, cases, github, network, root, worker_batch};
use crate::cold::{Work, launch};
use crate::cpu_share::{Cpu, CpuGroup, ONE_VCPU_MB};
use crate::launch::{Lambda, binary_of};
use crate::report::section;
use crate::rie::billed_durations;
use crate::stats::{ms, percentile, sorted};

const SIZES_MB: [u64; 5] = [128, 256, 512, 1_024, ONE_VCPU_MB];
const COLD_STARTS: usize = 7;
const WARM_SAMPLES: usize = 30;
const LATENCY_MS: u64 = 20;
/// Lambda on arm64, us-east-1, the first 7.5 billion GB-s of a month.
const PRICE_PER_GB_SECOND: f64 = 0.000_013_333_4;
const PRICE_PER_MILLION_REQUESTS: f64 = 0.20;

/// A million invocations of `billed` each at `memory_mb`, in dollars.
fn cost_per_million(memory_mb: u64, billed: Duration) -> f64 {
    let gb_seconds = memory_mb as f64 / 1_024.0 * billed.as_secs_f64();
    1e6 * gb_seconds * PRICE_PER_GB_SECOND + PRICE_PER_MILLION_REQUESTS
}

pub async fn memory_sizes(bench: &Bench, report: &mut String) {
    let github = github().await;
    let case = &cases()[0];
    let batch = worker_batch();
    section(
        report,
        "Memory size (power tuning)",
        &[&format!(
            "Each function at each memory size's CPU share (a CFS quota of size/{ONE_VCPU_MB} of one CPU; {ONE_VCPU_MB} MB is one whole vCPU), L = {LATENCY_MS} ms, TLS, one endpoint per AWS service: the disconnect's webhook case, the worker's batch of one job whose hook GitHub removes. Cold: the median of {COLD_STARTS} fresh environments, invoke → first answer, and the duration Lambda bills (init + the invocation, as the RIE reports them; init is billed since 2025-08-01). Warm: one environment, {WARM_SAMPLES} invocations after 3. Cost per million invocations at arm64's ${PRICE_PER_GB_SECOND}/GB-s and ${PRICE_PER_MILLION_REQUESTS:.2} per million requests, all cold and all warm."
        )],
        "function | memory | CPU share | cold: invoke → first answer | cold: billed (init + invocation) | warm p50 | warm billed (p50) | $ per million, all cold | $ per million, all warm",
    );
    let net = network(
        bench,
        &github.uri(),
        Duration::from_millis(LATENCY_MS),
        Transport::Tls,
    )
    .await;
    for lambda in [Lambda::Disconnect, Lambda::Worker] {
        let binary = binary_of(lambda);
        let work = match lambda {
            Lambda::Disconnect => Work::Disconnect(case),
            Lambda::Worker => Work::Worker(&batch),
        };
        for memory_mb in SIZES_MB {
            let group = CpuGroup::new(Cpu::ShareOf { memory_mb });
            if !group.limits() {
                let _ = writeln!(
                    report,
                    "| {} | {memory_mb} MB | {} | | | | | | |",
                    lambda.name(),
                    group.describe()
                );
                continue;
            }
            let mut totals = Vec::new();
            let mut billed = Vec::new();
            for n in 0..COLD_STARTS {
                let log = format!("size-{}-{memory_mb}-{n}.log", lambda.name());
                let launch = launch(lambda, &binary, &net, &log, &group, memory_mb);
                let cold = bench.cold_start(&launch, &work).await;
                totals.push(cold.total);
                billed.push(cold.init + cold.billed.unwrap_or(cold.total));
            }
            let log = format!("size-{}-{memory_mb}-warm.log", lambda.name());
            let function = bench
                .launch(&launch(lambda, &binary, &net, &log, &group, memory_mb))
                .await;
            for _ in 0..3 {
                bench.invoke_work(&function, &work).await;
            }
            let mut warm = Vec::new();
            for _ in 0..WARM_SAMPLES {
                warm.push(bench.invoke_work(&function, &work).await);
            }
            function.stop();
            let warm_billed = sorted(
                billed_durations(&root().join("target/bench").join(&log))
                    .into_iter()
                    .skip(4)
                    .collect(),
            );
            let (totals, billed, warm) = (sorted(totals), sorted(billed), sorted(warm));
            let cold_billed = percentile(&billed, 50.0);
            let warm_billed = if warm_billed.is_empty() {
                percentile(&warm, 50.0)
            } else {
                percentile(&warm_billed, 50.0)
            };
            let _ = writeln!(
                report,
                "| {} | {memory_mb} MB | {:.1} % | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} | {:.2} |",
                lambda.name(),
                memory_mb as f64 * 100.0 / ONE_VCPU_MB as f64,
                ms(percentile(&totals, 50.0)),
                ms(cold_billed),
                ms(percentile(&warm, 50.0)),
                ms(warm_billed),
                cost_per_million(memory_mb, cold_billed),
                cost_per_million(memory_mb, warm_billed),
            );
        }
    }
}
