//! What the code graph read adds to a warm invocation: the same cases with
//! and without `NEO4J_URI`, ArcadeDB behind a Bolt proxy that adds the same
//! L as the AWS and GitHub proxies. The two variants alternate in rounds, so
//! both see the same machine.

use std::fmt::Write as _;
use std::time::Duration;

use crate::bench::{Bench, Transport, cases, github, network, root};
use crate::launch::{Launch, binary};
use crate::report::section;
use crate::rie::init_duration;
use crate::stats::{ms, percentile, sorted};
use crate::warm::LATENCIES_MS;
use test_world::arcadedb::ArcadeDb;
use test_world::bolt_proxy::BoltProxy;
use test_world::fixture_state::fixture_state;

const ROUNDS: usize = 4;
const SAMPLES_PER_ROUND: usize = 25;

pub async fn graph_read_cost(bench: &Bench, report: &mut String) {
    let arcadedb = ArcadeDb::start().await;
    arcadedb.write(&fixture_state().graph_cypher()).await;
    bench.store_neo4j_password(&arcadedb.password).await;
    let github = github().await;
    let cases = cases();
    section(
        report,
        "Code graph read",
        &[&format!(
            "The warm cases with `NEO4J_URI` unset and set (ArcadeDB as the Bolt server, behind a proxy adding L to every chunk the function sends and 2·L to a new connection), {ROUNDS} alternating rounds of {SAMPLES_PER_ROUND} invocations per case after 5 warm-ups each. Every 200 of the graph variant was checked to carry `graph`."
        )],
        "L | case | p50 without graph | p50 with graph | added (p50) | p99 without | p99 with",
    );
    let mut first_rows = String::new();
    for latency_ms in LATENCIES_MS {
        let latency = Duration::from_millis(latency_ms);
        let net = network(bench, &github.uri(), latency, Transport::Plain).await;
        let bolt = BoltProxy::start(&arcadedb.uri, latency).await;
        let mut samples = vec![[Vec::new(), Vec::new()]; cases.len()];
        let mut firsts = [Vec::new(), Vec::new()];
        for round in 0..ROUNDS {
            for (variant, graph) in [None, Some(bolt.uri.as_str())].into_iter().enumerate() {
                let log = format!("graph-{latency_ms}ms-{round}-{variant}.log");
                let function = bench
                    .launch(&Launch {
                        graph,
                        ..Launch::disconnect(&binary(), &net, &log)
                    })
                    .await;
                // The instance's first request, less the init the RIE
                // reports: the graph variant also fetches the credentials
                // and opens the Bolt connection.
                let first = bench
                    .invoke_with_graph(&function, &cases[0], graph.is_some())
                    .await;
                let init = init_duration(&root().join("target/bench").join(&log));
                firsts[variant].push((first.end - first.start).saturating_sub(init));
                for case in &cases {
                    for _ in 0..5 {
                        bench
                            .invoke_with_graph(&function, case, graph.is_some())
                            .await;
                    }
                }
                for _ in 0..SAMPLES_PER_ROUND {
                    for (case, samples) in cases.iter().zip(&mut samples) {
                        let window = bench
                            .invoke_with_graph(&function, case, graph.is_some())
                            .await;
                        samples[variant].push(window.end - window.start);
                    }
                }
                function.stop();
            }
        }
        for (case, [without, with]) in cases.iter().zip(samples) {
            let (without, with) = (sorted(without), sorted(with));
            let (p50_without, p50_with) = (percentile(&without, 50.0), percentile(&with, 50.0));
            let _ = writeln!(
                report,
                "| {latency_ms} ms | {} | {:.1} ms | {:.1} ms | {:+.1} ms | {:.1} ms | {:.1} ms |",
                case.name,
                ms(p50_without),
                ms(p50_with),
                ms(p50_with) - ms(p50_without),
                ms(percentile(&without, 99.0)),
                ms(percentile(&with, 99.0)),
            );
        }
        let [without, with] = firsts;
        let (without, with) = (sorted(without), sorted(with));
        let (without, with) = (percentile(&without, 50.0), percentile(&with, 50.0));
        let _ = writeln!(
            first_rows,
            "| {latency_ms} ms | {:.1} ms | {:.1} ms | {:+.1} ms |",
            ms(without),
            ms(with),
            ms(with) - ms(without),
        );
    }
    let _ = writeln!(
        report,
        "\nThe first invocation of each process ({ROUNDS} per variant, median; webhook case; warm-up at init on, which does not touch the graph):\n\n| L | first invocation without graph | with graph | added |\n|---|---|---|---|\n{first_rows}"
    );
}
