//! One scenario's table: requests to each API by endpoint (HTTP requests, the sub-requests
//! inside `$batch`, 429 answers), writes, failures, wall time and peak memory, ours next to
//! the naive strategy with their ratio.

use std::fmt::Write as _;

use crate::measure::Measured;

/// `ours / naive`, written as a fraction `1/x` too when under a half.
fn ratio(ours: f64, naive: f64) -> String {
    if naive <= 0.0 {
        return "-".into();
    }
    if ours <= 0.0 {
        return "0".into();
    }
    let r = ours / naive;
    if r < 0.5 {
        format!("{r:.3} (1/{:.1})", naive / ours)
    } else {
        format!("{r:.2}")
    }
}

/// KiB as MiB with one decimal, or `n/a`.
fn fmt_kib(k: Option<u64>) -> String {
    k.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// The table of one scenario, titled `title`; `changed` adds the writes per changed pair.
pub(crate) fn table(
    title: &str,
    ours: &Measured,
    naive: Option<&Measured>,
    changed: Option<usize>,
    members: usize,
) -> String {
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    let n = |f: &dyn Fn(&Measured) -> f64| naive.map(f);
    let mut row = |label: &str, o: f64, nv: Option<f64>, digits: usize| {
        let fmt = |v: f64| format!("{v:.digits$}");
        rows.push((
            label.to_owned(),
            fmt(o),
            nv.map_or_else(|| "-".into(), fmt),
            nv.map_or_else(|| "-".into(), |v| ratio(o, v)),
        ));
    };
    row(
        "Raynet requests",
        ours.raynet_total() as f64,
        n(&|m| m.raynet_total() as f64),
        0,
    );
    if ours.raynet_scan > 0 {
        row(
            "  (of which the deletion scan)",
            ours.raynet_scan as f64,
            n(&|m| m.raynet_scan as f64),
            0,
        );
    }
    let mut endpoints: Vec<&String> = ours.raynet.keys().collect();
    if let Some(nv) = naive {
        endpoints.extend(nv.raynet.keys());
    }
    endpoints.sort();
    endpoints.dedup();
    for e in endpoints {
        let get = |m: &Measured| m.raynet.get(e).copied().unwrap_or(0) as f64;
        row(&format!("  {e}"), get(ours), n(&|m| get(m)), 0);
    }
    row(
        "Raynet 429 (concurrency)",
        ours.raynet_429 as f64,
        n(&|m| m.raynet_429 as f64),
        0,
    );
    row(
        "Graph HTTP requests",
        ours.graph_total() as f64,
        n(&|m| m.graph_total() as f64),
        0,
    );
    let mut endpoints: Vec<&String> = ours.graph_http.keys().collect();
    if let Some(nv) = naive {
        endpoints.extend(nv.graph_http.keys());
    }
    endpoints.sort();
    endpoints.dedup();
    for e in endpoints {
        let get = |m: &Measured| m.graph_http.get(e).copied().unwrap_or(0) as f64;
        row(&format!("  {e}"), get(ours), n(&|m| get(m)), 0);
    }
    row(
        "Graph requests inside $batch",
        ours.graph_sub_total() as f64,
        n(&|m| m.graph_sub_total() as f64),
        0,
    );
    let mut endpoints: Vec<&String> = ours.graph_sub.keys().collect();
    if let Some(nv) = naive {
        endpoints.extend(nv.graph_sub.keys());
    }
    endpoints.sort();
    endpoints.dedup();
    for e in endpoints {
        let get = |m: &Measured| m.graph_sub.get(e).copied().unwrap_or(0) as f64;
        row(&format!("  (batched) {e}"), get(ours), n(&|m| get(m)), 0);
    }
    row(
        "Graph 429 answers",
        ours.graph_429 as f64,
        n(&|m| m.graph_429 as f64),
        0,
    );
    let all = |m: &Measured| m.raynet_total() as f64 + m.graph_total() as f64;
    row("All HTTP requests", all(ours), n(&all), 0);
    row(
        "Graph HTTP requests per member",
        ours.graph_total() as f64 / members as f64,
        n(&|m| m.graph_total() as f64 / members as f64),
        2,
    );
    row("Writes", ours.writes as f64, n(&|m| m.writes as f64), 0);
    if let Some(c) = changed {
        let per = |m: &Measured| m.writes as f64 / c.max(1) as f64;
        row("Writes per changed pair", per(ours), n(&per), 3);
    }
    row(
        "Failures reported",
        ours.failures as f64,
        n(&|m| m.failures as f64),
        0,
    );
    row(
        "Wall time (s)",
        ours.wall.as_secs_f64(),
        n(&|m| m.wall.as_secs_f64()),
        2,
    );
    let mut out = String::new();
    let _ = writeln!(out, "\n### {title}\n");
    let w0 = rows
        .iter()
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(10)
        .max(6);
    let _ = writeln!(
        out,
        "| {:<w0$} | {:>12} | {:>12} | {:>16} |",
        "", "ours", "naive", "ours/naive"
    );
    let _ = writeln!(
        out,
        "|{}|{}|{}|{}|",
        "-".repeat(w0 + 2),
        "-".repeat(14),
        "-".repeat(14),
        "-".repeat(18)
    );
    for (a, b, c, d) in &rows {
        let _ = writeln!(out, "| {a:<w0$} | {b:>12} | {c:>12} | {d:>16} |");
    }
    let peak = |m: &Measured| {
        format!(
            "{} (RSS before {})",
            fmt_kib(m.peak_rss_kib),
            fmt_kib(m.rss_before_kib)
        )
    };
    let _ = writeln!(
        out,
        "| {:<w0$} | {} | naive: {} |",
        "Peak RSS (process, incl. fakes)",
        peak(ours),
        naive.map_or_else(|| "-".into(), peak)
    );
    out
}
