//! The function as Lambda runs it: the release binary under AWS's Runtime
//! Interface Emulator (`rie.rs`), against moto for DynamoDB, KMS and Secrets Manager
//! and a wiremock GitHub, with a latency L added to every call (and 2·L to
//! every new connection) by proxies (`bench.rs`), each process started from
//! one `Launch` (`launch.rs`).
//! Measures warm latency per L (`warm.rs`), what the code graph read adds to
//! it with ArcadeDB as the Bolt server (`graph.rs`), cold start (`cold.rs`),
//! and memory over 1,000 invocations (`memory.rs`), over the statistics in
//! `stats.rs`, each written as a section through `report.rs`. `make bench`
//! builds the binary first; results go to stdout and
//! `target/bench/lambda.md`.

mod bench;
mod cold;
mod cpu_share;
mod graph;
mod launch;
mod memory;
mod memory_size;
mod profile;
mod report;
mod rie;
mod stats;
mod warm;

use bench::{Bench, root};

/// `BENCH_SECTIONS=warm,graph,cold,sizes,memory` (the default: all of
/// them), or `profile` (`make profile`, which builds what it needs).
fn sections() -> Vec<&'static str> {
    let wanted = std::env::var("BENCH_SECTIONS").unwrap_or_default();
    ["warm", "graph", "cold", "sizes", "memory", "profile"]
        .into_iter()
        .filter(|s| {
            if wanted.is_empty() {
                *s != "profile"
            } else {
                wanted.split(',').any(|w| w.trim() == *s)
            }
        })
        .collect()
}

#[tokio::main]
async fn main() {
    std::fs::create_dir_all(root().join("target/bench")).unwrap();
    let bench = Bench::start().await;
    let mut report = String::from("# nectr-disconnect under a local Lambda runtime\n");
    let sections = sections();
    if sections.contains(&"warm") {
        warm::warm_latency(&bench, &mut report).await;
    }
    if sections.contains(&"graph") {
        graph::graph_read_cost(&bench, &mut report).await;
    }
    if sections.contains(&"cold") {
        cold::cold_start(&bench, &mut report).await;
    }
    if sections.contains(&"sizes") {
        memory_size::memory_sizes(&bench, &mut report).await;
    }
    if sections.contains(&"profile") {
        profile::profile(&bench, &mut report).await;
    }
    if sections.contains(&"memory") {
        memory::memory(&bench, &mut report).await;
    }
    println!("{report}");
    std::fs::write(root().join("target/bench/lambda.md"), &report).unwrap();
}
