//! The resident memory of the `serve` child alone (VmRSS from `/proc/<pid>/status`), sampled
//! every few seconds while the traffic runs.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::child::rss_kib;

/// Samples in the background until stopped.
pub(crate) struct Sampler {
    samples: Arc<Mutex<Vec<(Duration, u64)>>>,
    task: tokio::task::JoinHandle<()>,
}

/// What the samples show.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Memory {
    pub(crate) samples: usize,
    pub(crate) over: Duration,
    pub(crate) start_kib: u64,
    pub(crate) max_kib: u64,
    pub(crate) end_kib: u64,
    /// The highest sample of the first and of the last third.
    pub(crate) first_third_max_kib: u64,
    pub(crate) last_third_max_kib: u64,
}

/// How much the last third may exceed the first before memory counts as growing.
pub(crate) const GROWTH_ALLOWANCE_KIB: u64 = 5 * 1024;

impl Sampler {
    /// Samples process `pid` every `every`.
    pub(crate) fn start(pid: u32, every: Duration) -> Self {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let out = Arc::clone(&samples);
        let task = tokio::spawn(async move {
            let started = Instant::now();
            loop {
                if let Some(kib) = rss_kib(pid) {
                    out.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push((started.elapsed(), kib));
                }
                tokio::time::sleep(every).await;
            }
        });
        Self { samples, task }
    }

    /// Stops sampling (after one last sample) and sums up.
    pub(crate) fn stop(self, pid: u32) -> Option<Memory> {
        self.task.abort();
        let mut s = self
            .samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let (Some(kib), Some(&(at, _))) = (rss_kib(pid), s.last()) {
            s.push((at, kib));
        }
        let (&(_, start), &(over, end)) = (s.first()?, s.last()?);
        let third = (s.len() / 3).max(1);
        let max_of = |part: &[(Duration, u64)]| part.iter().map(|&(_, k)| k).max().unwrap_or(0);
        Some(Memory {
            samples: s.len(),
            over,
            start_kib: start,
            max_kib: max_of(&s),
            end_kib: end,
            first_third_max_kib: max_of(&s[..third]),
            last_third_max_kib: max_of(&s[s.len() - third..]),
        })
    }
}

impl Memory {
    /// Whether the last third of the samples stays within [`GROWTH_ALLOWANCE_KIB`] of the
    /// first third's highest.
    pub(crate) fn flat(&self) -> bool {
        self.last_third_max_kib <= self.first_third_max_kib + GROWTH_ALLOWANCE_KIB
    }
}

/// KiB (what `/proc` says) in MB (10^6 bytes).
pub(crate) fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 * 1024.0 / 1e6)
}

/// The 100 MB target in KiB.
pub(crate) const TARGET_KIB: u64 = 100_000_000 / 1024;
