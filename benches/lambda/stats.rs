//! The statistics every measurement shares: percentiles, milliseconds, the
//! time an invocation spent waiting on its calls, moto's own service times.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::{Duration, Instant};

use test_world::fault_proxy::Call;

/// Time inside `window` during which at least one call was in flight at a
/// proxy: the invocation's wait on its dependencies.
pub fn time_in_calls(window: &Range<Instant>, calls: &[Call]) -> Duration {
    let mut spans: Vec<(Instant, Instant)> = calls
        .iter()
        .filter(|c| c.arrived >= window.start && c.arrived < window.end)
        .map(|c| (c.arrived, c.answered.min(window.end)))
        .collect();
    spans.sort();
    let mut total = Duration::ZERO;
    let mut covered_until = window.start;
    for (start, end) in spans {
        let start = start.max(covered_until);
        if end > start {
            total += end - start;
            covered_until = end;
        }
    }
    total
}

pub fn sorted(mut samples: Vec<Duration>) -> Vec<Duration> {
    samples.sort();
    samples
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// moto's median service time per operation over a set of calls.
pub struct MotoTimes(BTreeMap<String, Duration>);

impl MotoTimes {
    pub fn of(calls: &[Call]) -> Self {
        let mut by_operation: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
        for call in calls {
            if let Some(time) = call.upstream_time {
                by_operation
                    .entry(call.operation.clone())
                    .or_default()
                    .push(time);
            }
        }
        Self(
            by_operation
                .into_iter()
                .map(|(operation, mut times)| {
                    times.sort();
                    (operation, percentile(&times, 50.0))
                })
                .collect(),
        )
    }

    /// The slowest call of each step, summed; calls that do not go to moto
    /// (GitHub) count as zero.
    pub fn critical_path(&self, steps: &[&[&str]]) -> Duration {
        steps
            .iter()
            .map(|step| {
                step.iter()
                    .filter_map(|operation| self.0.get(*operation).copied())
                    .max()
                    .unwrap_or_default()
            })
            .sum()
    }

    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|(operation, time)| format!("{operation} {:.1} ms", ms(*time)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
