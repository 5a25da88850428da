//! Lambda's CPU, here. Lambda gives a function CPU in proportion to its
//! memory, 1,769 MB to one vCPU, so a 256 MB function gets about 14.5 % of
//! a core. The bench runs the bootstrap alone in a CPU cgroup whose CFS
//! quota is that share of one CPU, everything else (moto, the proxies, the
//! RIE, the bench) outside it: cgroup v1's `cpu` controller
//! (`cpu.cfs_quota_us` over `cpu.cfs_period_us`) or v2's `cpu.max`. The
//! same cgroup counts the CPU the bootstrap used (v1's `cpuacct.usage`,
//! v2's `cpu.stat`): user and system time of every thread, exited ones
//! included. Where no cgroup can be written (not root, no controller),
//! the bench says so and measures at the whole CPU.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::bench::root;

/// Lambda's memory size that gets one whole vCPU.
pub const ONE_VCPU_MB: u64 = 1_769;
/// The CFS period the quota is a share of, Linux's default.
const PERIOD_US: u64 = 100_000;

/// How much CPU a function gets: the whole machine, or a memory size's
/// share of one CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cpu {
    Whole,
    ShareOf { memory_mb: u64 },
}

impl Cpu {
    /// The quota in µs per period; `None` for no limit.
    fn quota_us(self) -> Option<u64> {
        match self {
            Self::Whole => None,
            Self::ShareOf { memory_mb } => Some((memory_mb * PERIOD_US / ONE_VCPU_MB).max(1_000)),
        }
    }
}

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Whole => f.write_str("whole CPU"),
            Self::ShareOf { memory_mb } => write!(
                f,
                "{memory_mb} MB's share ({:.1} %)",
                *memory_mb as f64 * 100.0 / ONE_VCPU_MB as f64
            ),
        }
    }
}

/// The cgroup files a function's CPU is limited and counted by.
enum Controller {
    /// `cpu` and `cpuacct`, each its own hierarchy or mounted together.
    V1 { cpu: PathBuf, cpuacct: PathBuf },
    /// The unified hierarchy: `cpu.max` and `cpu.stat` in one directory.
    V2 { dir: PathBuf },
}

/// One cgroup for the functions the bench starts with `cpu`.
pub struct CpuGroup {
    pub cpu: Cpu,
    controller: Option<Controller>,
    /// Why there is no cgroup, when there is none.
    pub unavailable: Option<String>,
    /// What the RIE starts instead of the bootstrap: a script that joins
    /// the cgroup and then `exec`s the bootstrap, so nothing of the
    /// bootstrap's runs outside it.
    launcher: PathBuf,
}

const V1_ROOT: &str = "/sys/fs/cgroup";

impl CpuGroup {
    /// A cgroup named after `cpu`, made (or reused) and set; without one,
    /// `unavailable` says why and `launcher_for` hands back the bootstrap.
    pub fn new(cpu: Cpu) -> Self {
        let name = match cpu {
            Cpu::Whole => "nectr-bench-whole".to_owned(),
            Cpu::ShareOf { memory_mb } => format!("nectr-bench-{memory_mb}mb"),
        };
        let launcher = root().join("target/bench").join(format!("{name}.sh"));
        match controller(&name).and_then(|controller| set(&controller, cpu).map(|()| controller)) {
            Ok(controller) => Self {
                cpu,
                controller: Some(controller),
                unavailable: None,
                launcher,
            },
            Err(reason) => Self {
                cpu,
                controller: None,
                unavailable: Some(reason),
                launcher,
            },
        }
    }

    /// Whether the share is really applied (always, for the whole CPU).
    pub fn limits(&self) -> bool {
        self.cpu == Cpu::Whole || self.controller.is_some()
    }

    /// What the RIE runs: the bootstrap inside the cgroup, or the bootstrap
    /// itself when there is no cgroup.
    pub fn launcher_for(&self, bootstrap: &Path) -> PathBuf {
        let Some(controller) = &self.controller else {
            return bootstrap.to_owned();
        };
        let joins: String = controller
            .procs()
            .iter()
            .map(|procs| format!("echo $$ > {}\n", procs.display()))
            .collect();
        let script = format!("#!/bin/sh\n{joins}exec {}\n", bootstrap.display());
        std::fs::write(&self.launcher, script).expect("the launcher is written");
        make_executable(&self.launcher);
        self.launcher.clone()
    }

    /// The CPU the cgroup's processes have used, and the time the quota
    /// held them back, since the cgroup was made: the caller takes
    /// differences.
    pub fn usage(&self) -> Option<Usage> {
        match self.controller.as_ref()? {
            Controller::V1 { cpu, cpuacct } => {
                let nanos =
                    |file: &str| -> Option<u64> { read(&cpuacct.join(file))?.trim().parse().ok() };
                let throttled = stat(&read(&cpu.join("cpu.stat"))?, "throttled_time")?;
                Some(Usage {
                    total: Duration::from_nanos(nanos("cpuacct.usage")?),
                    user: Duration::from_nanos(nanos("cpuacct.usage_user")?),
                    system: Duration::from_nanos(nanos("cpuacct.usage_sys")?),
                    throttled: Duration::from_nanos(throttled),
                })
            }
            Controller::V2 { dir } => {
                let stat_text = read(&dir.join("cpu.stat"))?;
                let micros = |key| stat(&stat_text, key).map(Duration::from_micros);
                Some(Usage {
                    total: micros("usage_usec")?,
                    user: micros("user_usec")?,
                    system: micros("system_usec")?,
                    throttled: micros("throttled_usec")?,
                })
            }
        }
    }

    /// One line for the report: what the function ran with.
    pub fn describe(&self) -> String {
        match (&self.unavailable, self.cpu.quota_us()) {
            (Some(reason), _) => format!(
                "{}: NOT APPLIED ({reason}); these rows ran with the whole CPU",
                self.cpu
            ),
            (None, Some(quota)) => format!(
                "{}: CFS quota {quota} µs per {PERIOD_US} µs, {}",
                self.cpu,
                self.kind()
            ),
            (None, None) => format!("{}: no quota, {}", self.cpu, self.kind()),
        }
    }

    fn kind(&self) -> &'static str {
        match self.controller {
            Some(Controller::V1 { .. }) => "cgroup v1",
            Some(Controller::V2 { .. }) => "cgroup v2",
            None => "no cgroup",
        }
    }
}

/// The CPU a function's processes used (utime and stime, every thread,
/// exited ones included), and how long the quota stopped them. `total`
/// is counted to the nanosecond; cgroup v1 splits it into `user` and
/// `system` only at the scheduler tick's granularity (4 ms here).
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub total: Duration,
    pub user: Duration,
    pub system: Duration,
    pub throttled: Duration,
}

impl std::ops::Sub for Usage {
    type Output = Self;

    fn sub(self, earlier: Self) -> Self {
        Self {
            total: self.total.saturating_sub(earlier.total),
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
            throttled: self.throttled.saturating_sub(earlier.throttled),
        }
    }
}

impl Controller {
    fn procs(&self) -> Vec<PathBuf> {
        match self {
            Self::V1 { cpu, cpuacct } if cpu == cpuacct => vec![cpu.join("cgroup.procs")],
            Self::V1 { cpu, cpuacct } => {
                vec![cpu.join("cgroup.procs"), cpuacct.join("cgroup.procs")]
            }
            Self::V2 { dir } => vec![dir.join("cgroup.procs")],
        }
    }
}

/// The cgroup `name`, made where this machine's controllers are.
fn controller(name: &str) -> Result<Controller, String> {
    let v1_cpu = Path::new(V1_ROOT).join("cpu");
    if v1_cpu.join("cpu.cfs_quota_us").exists() {
        // cpuacct is its own hierarchy, or the same one as cpu
        // (`cpu,cpuacct`, which `cpu` then links to).
        let v1_cpuacct = Path::new(V1_ROOT).join("cpuacct");
        let cpu = make(&v1_cpu.join(name))?;
        let cpuacct = if v1_cpuacct.join("cpuacct.usage").exists()
            && std::fs::canonicalize(&v1_cpuacct).ok() != std::fs::canonicalize(&v1_cpu).ok()
        {
            make(&v1_cpuacct.join(name))?
        } else {
            cpu.clone()
        };
        return Ok(Controller::V1 { cpu, cpuacct });
    }
    let v2 = Path::new(V1_ROOT);
    let controllers = read(&v2.join("cgroup.controllers")).unwrap_or_default();
    if controllers.split_whitespace().any(|c| c == "cpu") {
        // The children of the root get the cpu controller only when the
        // root hands it down.
        let _ = std::fs::write(v2.join("cgroup.subtree_control"), "+cpu");
        let dir = make(&v2.join(name))?;
        if !dir.join("cpu.max").exists() {
            return Err(format!("{} has no cpu.max", dir.display()));
        }
        return Ok(Controller::V2 { dir });
    }
    Err("no cgroup v1 cpu controller at /sys/fs/cgroup/cpu, no cgroup v2 cpu controller at /sys/fs/cgroup".into())
}

fn make(dir: &Path) -> Result<PathBuf, String> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(dir.to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(dir.to_owned()),
        Err(e) => Err(format!("cannot make {}: {e}", dir.display())),
    }
}

fn set(controller: &Controller, cpu: Cpu) -> Result<(), String> {
    let write = |file: PathBuf, value: String| {
        std::fs::write(&file, &value).map_err(|e| format!("cannot write {}: {e}", file.display()))
    };
    match controller {
        Controller::V1 { cpu: dir, .. } => {
            write(dir.join("cpu.cfs_period_us"), PERIOD_US.to_string())?;
            let quota = cpu.quota_us().map_or("-1".to_owned(), |q| q.to_string());
            write(dir.join("cpu.cfs_quota_us"), quota)
        }
        Controller::V2 { dir } => {
            let quota = cpu.quota_us().map_or("max".to_owned(), |q| q.to_string());
            write(dir.join("cpu.max"), format!("{quota} {PERIOD_US}"))
        }
    }
}

fn read(file: &Path) -> Option<String> {
    std::fs::read_to_string(file).ok()
}

/// `key value` from a `cpu.stat`.
fn stat(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(' ')?;
        (name == key).then(|| value.trim().parse().ok())?
    })
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    permissions.set_mode(0o755);
    std::fs::set_permissions(path, permissions).unwrap();
}
