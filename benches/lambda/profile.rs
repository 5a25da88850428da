//! Where a cold start's CPU goes, counted in instructions: the release
//! build with its symbols (`[profile.profiling]`, built by `make profile`)
//! under valgrind's callgrind, started by the RIE as every cold start here
//! is, from the process's first instruction to its first answer, L = 0,
//! TLS on every hop. callgrind counts instructions, not time: the same
//! binary and inputs give the same count whatever else the machine runs.
//! It counts user space only; the kernel's share (syscalls, page faults)
//! is not in it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::bench::{Bench, Transport, cases, github, network, root};
use crate::launch::Launch;
use crate::report::section;

/// What a cold start spends its instructions on, each the inclusive count
/// of the functions whose names start with one of its prefixes (the
/// largest per prefix, so a function's own recursion is not counted
/// twice). Rows nest: a "within" row is part of the row above it, and a
/// trust store is loaded inside whichever client or connection needs it
/// first; so the rows do not add up.
const COMPONENTS: &[(&str, &[&str])] = &[
    (
        "`main`, on the main thread (tokio's workers run what it spawns)",
        &["nectr_disconnect::main"],
    ),
    ("configuration read", &["nectr_disconnect::config::"]),
    (
        "aws-config: region, credentials, the SDK's configuration",
        &["aws_config::loader::ConfigLoader::load"],
    ),
    (
        "GitHub client built (reqwest)",
        &["reqwest::async_impl::client::ClientBuilder::build"],
    ),
    (
        "the warm-up, polled beside the first invocation",
        &["nectr_disconnect::Built::warm_up"],
    ),
    (
        "the first invocation (lambda_runtime's processing of it)",
        &["lambda_runtime::runtime::process_invocation"],
    ),
    (
        "the use case's reads, decrypt, removal and update (their own polls)",
        &[
            "nectr_disconnect::disconnect::DisconnectRepository<P>::find::",
            "nectr_disconnect::disconnect::DisconnectRepository<P>::disconnect_installations::",
        ],
    ),
    (
        "AWS SDK connections opened (TCP, TLS handshake, its trust store's first load)",
        &[
            "aws_smithy_http_client::client::tls::rustls_provider::connect::RustTlsConnector<R>::handle_direct_connection",
        ],
    ),
    (
        "trust stores loaded, every load (rustls-native-certs)",
        &["rustls_native_certs::load_native_certs"],
    ),
    (
        "within: PEM decoding",
        &["rustls_pki_types::pem::from_buf_inner"],
    ),
    (
        "TLS handshakes, every connection's",
        &["rustls::conn::ConnectionCore<Data>::process_new_packets"],
    ),
    (
        "within: certificate chains verified",
        &[
            "<rustls::webpki::server_verifier::WebPkiServerVerifier as rustls::verify::ServerCertVerifier>::verify_server_cert",
        ],
    ),
    (
        "within: handshake signatures verified",
        &[
            "<rustls::webpki::server_verifier::WebPkiServerVerifier as rustls::verify::ServerCertVerifier>::verify_tls13_signature",
        ],
    ),
    (
        "CPU-jitter entropy (AWS-LC's DRBG seeding)",
        &["jent_", "aws_lc_0_47_0_jent_"],
    ),
    (
        "AWS-LC's random numbers, all",
        &["aws_lc_0_47_0_RAND_bytes"],
    ),
];

/// The unstripped release build `make profile` makes.
fn profiled_binary() -> PathBuf {
    let path = root().join("target/profiling/nectr-disconnect");
    assert!(
        path.exists(),
        "{} is missing: run `make profile`",
        path.display()
    );
    path
}

pub async fn profile(bench: &Bench, report: &mut String) {
    let github = github().await;
    let case = &cases()[0];
    let net = network(bench, &github.uri(), Duration::ZERO, Transport::Tls).await;
    let out = root().join("target/bench/callgrind.out");
    let _ = std::fs::remove_file(&out);
    let launcher = root().join("target/bench/callgrind.sh");
    std::fs::write(
        &launcher,
        format!(
            "#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file={} {}\n",
            out.display(),
            profiled_binary().display()
        ),
    )
    .unwrap();
    make_executable(&launcher);
    let function = bench
        .launch(&Launch::disconnect(&launcher, &net, "profile.log"))
        .await;
    bench.invoke(&function, case).await;
    let pid = function.bootstrap_pid();
    // The count up to the first answer: callgrind writes it on request.
    let dumped = Command::new("callgrind_control")
        .args(["--dump=first-answer", &pid.to_string()])
        .status()
        .expect("callgrind_control runs");
    assert!(dumped.success(), "callgrind_control --dump failed");
    function.stop();
    let dump = dump_file(&out);
    let functions = inclusive_counts(&dump);
    let total = total_count(&dump);
    section(
        report,
        "Where a cold start's CPU goes",
        &[
            "The release build with symbols (`make profile`) under callgrind, started by the RIE as deployed (the warm-up beside the first event), the webhook case at L = 0 over TLS: instructions from the process's first to its first answer, user space only (the kernel's share is in the cold-start table's system time). Rows are inclusive counts and nest (\"within\" is part of the row above; a trust store is loaded inside whichever client or connection needs it first), so they do not add up.",
        ],
        "component | instructions | share of the total",
    );
    for (component, prefixes) in COMPONENTS {
        let count = phase_count(&functions, prefixes);
        let _ = writeln!(
            report,
            "| {component} | {count} | {:.1} % |",
            count as f64 * 100.0 / total as f64
        );
    }
    let _ = writeln!(
        report,
        "| **total to the first answer** | **{total}** | 100 % |"
    );
    let _ = writeln!(report, "\nThe heaviest functions, inclusive:\n");
    let mut heaviest: Vec<&(u64, String)> = functions.iter().collect();
    heaviest.sort_by_key(|f| std::cmp::Reverse(f.0));
    for (count, name) in heaviest.into_iter().take(25) {
        let _ = writeln!(report, "- {count} {name}");
    }
}

/// callgrind's dump for the request: `<out>.<n>`, or `<out>` itself.
fn dump_file(out: &Path) -> PathBuf {
    let dir = out.parent().unwrap();
    let prefix = out.file_name().unwrap().to_string_lossy().into_owned();
    let mut dumps: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with(&format!("{prefix}.")))
        })
        .collect();
    dumps.sort();
    dumps.into_iter().next().unwrap_or_else(|| out.to_owned())
}

/// Every function's inclusive instruction count, by `callgrind_annotate`.
fn inclusive_counts(dump: &Path) -> Vec<(u64, String)> {
    let output = Command::new("callgrind_annotate")
        .args(["--inclusive=yes", "--threshold=100"])
        .arg(dump)
        .output()
        .expect("callgrind_annotate runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (count, rest) = line.trim().split_once(' ')?;
            let count: u64 = count.replace(',', "").parse().ok()?;
            // "file:function [object]"
            let name = rest.trim().split_once(':').map_or(rest, |(_, f)| f);
            let name = name.split(" [").next().unwrap_or(name).trim().to_owned();
            Some((count, name))
        })
        .collect()
}

/// The dump's total, its `summary:` or `totals:` line.
fn total_count(dump: &Path) -> u64 {
    std::fs::read_to_string(dump)
        .unwrap()
        .lines()
        .find_map(|line| {
            line.strip_prefix("summary: ")
                .or_else(|| line.strip_prefix("totals: "))
        })
        .and_then(|count| count.trim().parse().ok())
        .expect("a callgrind dump has a total")
}

/// The instructions of the outermost calls of functions under `prefixes`:
/// a function is counted only where no caller of it is, by taking the
/// largest inclusive count per prefix.
fn phase_count(functions: &[(u64, String)], prefixes: &[&str]) -> u64 {
    prefixes
        .iter()
        .map(|prefix| {
            functions
                .iter()
                .filter(|(_, name)| name.starts_with(prefix))
                .map(|(count, _)| *count)
                .max()
                .unwrap_or(0)
        })
        .sum()
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    permissions.set_mode(0o755);
    std::fs::set_permissions(path, permissions).unwrap();
}
