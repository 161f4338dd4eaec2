//! Benchmark support: the bare-reqwest baseline and CPU time from /proc (Linux).

use meta_graph_sim::RecordedRequest;

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
