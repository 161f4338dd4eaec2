//! Benchmark support: the bare-reqwest baseline, CPU time and process-tree memory from /proc
//! (Linux).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use meta_graph_sim::RecordedRequest;

/// Builds the release CLI (what users run) and returns its path.
pub fn release_cli() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["build", "--release", "--locked", "-p", "meta-monitor-cli"])
        .status()
        .expect("cargo build");
    assert!(status.success(), "building the release CLI failed");
    crate::target_dir().join("meta-monitor")
}

/// Runs the CLI under a small Python parent whose `RUSAGE_CHILDREN` then holds exactly this
/// command's peak resident memory (sampling /proc misses short commands; `wait4` would need
/// unsafe code here).
pub fn measured(bin: &Path, env: &[(String, String)], args: &[&str]) -> (Duration, u64, String) {
    const PARENT: &str = "import resource, subprocess, sys, time\n\
        t = time.monotonic()\n\
        code = subprocess.run(sys.argv[1:]).returncode\n\
        t = time.monotonic() - t\n\
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, t, file=sys.stderr)\n\
        sys.exit(code)";
    let output = Command::new("python3")
        .arg("-c")
        .arg(PARENT)
        .arg(bin)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("python3 runs meta-monitor");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default().to_owned();
    let mut parts = last.split_whitespace();
    let peak_kb = parts.next().and_then(|v| v.parse::<u64>().ok());
    let secs = parts.next().and_then(|v| v.parse::<f64>().ok());
    let (Some(peak_kb), Some(secs)) = (peak_kb, secs) else {
        panic!("no peak RSS and time from the parent: {stderr}");
    };
    (
        Duration::from_secs_f64(secs),
        peak_kb,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// Replays recorded requests with a bare reqwest client: the baseline for client overhead.
pub async fn replay_bare(
    http: &reqwest::Client,
    base: &str,
    requests: &[RecordedRequest],
    auth: &str,
) {
    for r in requests {
        let url = format!("{base}{}?{}", r.path, r.query);
        let req = if r.method == "POST" {
            http.post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(r.body.clone())
        } else {
            http.get(url)
        };
        let token = if r.path.ends_with("/subscriptions") || r.path.ends_with("/debug_token") {
            auth
        } else {
            meta_graph_sim::DEMO_TOKEN
        };
        let body = req
            .bearer_auth(token)
            .send()
            .await
            .expect("replay")
            .bytes()
            .await
            .expect("body");
        std::hint::black_box(body);
    }
}

/// User + system CPU milliseconds from a `/proc/.../stat` file's text.
fn stat_cpu_ms(stat: &str) -> Option<f64> {
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let (utime, stime): (f64, f64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    Some((utime + stime) * 10.0) // USER_HZ is 100 on Linux
}

/// Process CPU time (user + system) in milliseconds.
pub fn process_cpu_ms() -> Option<f64> {
    stat_cpu_ms(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// CPU milliseconds of this process's threads whose name does (`true`) or does not
/// (`false`) start with `prefix` — to separate the monitor from an in-process simulator.
pub fn threads_cpu_ms(prefix: &str, matching: bool) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    tasks
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with(prefix) == matching)
        })
        .filter_map(|task| stat_cpu_ms(&std::fs::read_to_string(task.path().join("stat")).ok()?))
        .sum()
}

/// Children by parent, from `/proc/*/stat`.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The parent is the second field after the parenthesized command name.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            all.push((pid, ppid));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(all.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    tree
}

/// A `kB` field of a `/proc` file, in bytes.
pub fn proc_kb(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// One sample of a process tree: RSS and PSS summed over the process and its descendants (RSS
/// counts shared libraries once per process, PSS splits them, so PSS is the honest total for a
/// multi-process WebKit app), and the RSS of its WebKit web processes alone — where a page's
/// memory lives.
pub struct TreeMemory {
    pub rss: u64,
    pub pss: u64,
    pub web_rss: u64,
    pub procs: usize,
}

pub fn tree_memory(root: u32) -> TreeMemory {
    let pids = descendants(root);
    let rss = |p: &u32| proc_kb(&format!("/proc/{p}/status"), "VmRSS:");
    let is_web = |p: &&u32| {
        std::fs::read_to_string(format!("/proc/{p}/comm"))
            .is_ok_and(|c| c.starts_with("WebKitWebProces"))
    };
    TreeMemory {
        rss: pids.iter().map(rss).sum(),
        pss: pids
            .iter()
            .map(|p| proc_kb(&format!("/proc/{p}/smaps_rollup"), "Pss:"))
            .sum(),
        web_rss: pids.iter().filter(is_web).map(rss).sum(),
        procs: pids.len(),
    }
}

/// p50 and p95 of `runs` timings of `f`, in milliseconds.
pub fn timings(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = std::time::Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    (ms[runs / 2], ms[(runs * 95 / 100).min(runs - 1)])
}
