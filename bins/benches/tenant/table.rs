//! One scenario's table: requests to each API by endpoint (HTTP requests, the sub-requests
//! inside `$batch`, 429 answers), writes, failures, wall time and peak memory, ours next to
//! the naive strategy with their ratio.

use std::collections::BTreeSet;
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

/// The endpoints counted in ours or naive, sorted, each once.
fn endpoints<'a>(
    ours: impl Iterator<Item = &'a String>,
    naive: Option<impl Iterator<Item = &'a String>>,
) -> BTreeSet<&'a String> {
    ours.chain(naive.into_iter().flatten()).collect()
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
    // One row: `value` of ours and of naive, with `digits` decimals, and their ratio.
    let mut row = |label: &str, value: &dyn Fn(&Measured) -> f64, digits: usize| {
        let fmt = |v: f64| format!("{v:.digits$}");
        let o = value(ours);
        let nv = naive.map(value);
        rows.push((
            label.to_owned(),
            fmt(o),
            nv.map_or_else(|| "-".into(), fmt),
            nv.map_or_else(|| "-".into(), |v| ratio(o, v)),
        ));
    };
    row("Raynet requests", &|m| m.raynet_total() as f64, 0);
    if ours.raynet_scan > 0 {
        row(
            "  (of which the deletion scan)",
            &|m| m.raynet_scan as f64,
            0,
        );
    }
    for e in endpoints(ours.raynet.keys(), naive.map(|m| m.raynet.keys())) {
        let get = |m: &Measured| m.raynet.get(e).copied().unwrap_or(0) as f64;
        row(&format!("  {e}"), &get, 0);
    }
    row("Raynet 429 (concurrency)", &|m| m.raynet_429 as f64, 0);
    row("Graph HTTP requests", &|m| m.graph_total() as f64, 0);
    for e in endpoints(ours.graph_http.keys(), naive.map(|m| m.graph_http.keys())) {
        let get = |m: &Measured| m.graph_http.get(e).copied().unwrap_or(0) as f64;
        row(&format!("  {e}"), &get, 0);
    }
    row(
        "Graph requests inside $batch",
        &|m| m.graph_sub_total() as f64,
        0,
    );
    for e in endpoints(ours.graph_sub.keys(), naive.map(|m| m.graph_sub.keys())) {
        let get = |m: &Measured| m.graph_sub.get(e).copied().unwrap_or(0) as f64;
        row(&format!("  (batched) {e}"), &get, 0);
    }
    row("Graph 429 answers", &|m| m.graph_429 as f64, 0);
    row(
        "All HTTP requests",
        &|m| m.raynet_total() as f64 + m.graph_total() as f64,
        0,
    );
    row(
        "Graph HTTP requests per member",
        &|m| m.graph_total() as f64 / members as f64,
        2,
    );
    row("Writes", &|m| m.writes as f64, 0);
    if let Some(c) = changed {
        row(
            "Writes per changed pair",
            &|m| m.writes as f64 / c.max(1) as f64,
            3,
        );
    }
    row("Failures reported", &|m| m.failures as f64, 0);
    row("Wall time (s)", &|m| m.wall.as_secs_f64(), 2);
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
