//! Prometheus metrics, kept in process and rendered as the text exposition format.
//!
//! Counters and histograms live here; gauges that the store or the queue already know
//! (jobs by state, queue depth) are read when `/metrics` is scraped.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Upper bounds (seconds) of the latency histograms' buckets.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// A cumulative histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    inner: Mutex<HistogramData>,
}

#[derive(Debug, Default, Clone)]
struct HistogramData {
    counts: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    /// Records one observation (seconds).
    pub fn observe(&self, v: f64) {
        let mut d = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
            if v <= *b {
                d.counts[i] += 1;
            }
        }
        d.count += 1;
        d.sum += v;
    }

    /// Mean of the observations, if any.
    pub fn mean(&self) -> Option<f64> {
        let d = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        (d.count > 0).then(|| d.sum / d.count as f64)
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let d = self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {}", d.counts[i]);
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", d.count);
        let _ = writeln!(out, "{name}_sum {}", d.sum);
        let _ = writeln!(out, "{name}_count {}", d.count);
    }
}

/// The daemon's own counters and histograms.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Jobs accepted.
    pub jobs_submitted: AtomicU64,
    /// HTTP requests answered with 4xx.
    pub client_errors: AtomicU64,
    /// HTTP requests answered with 5xx.
    pub server_errors: AtomicU64,
    /// Webhook deliveries that got a 2xx.
    pub webhooks_delivered: AtomicU64,
    /// Webhook attempts that failed.
    pub webhook_failures: AtomicU64,
    /// Submission to end, for jobs that succeeded.
    pub proof_latency: Histogram,
    /// Time on the device per proof.
    pub prove_duration: Histogram,
}

/// What the scrape adds from elsewhere.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Jobs by state (all tenants).
    pub jobs_by_state: Vec<(&'static str, u64)>,
    /// Jobs waiting in the in-memory queue.
    pub queue_depth: u64,
    /// Per device: (spec, busy ratio since start, jobs done, faults).
    pub devices: Vec<(String, f64, u64, u64)>,
    /// Resident proving keys.
    pub resident_keys: u64,
    /// Bytes of queued jobs' witnesses held in memory for the prover.
    pub handoff_bytes: u64,
    /// Seconds since start.
    pub uptime_secs: f64,
}

impl Metrics {
    /// Renders everything in the Prometheus text format (version 0.0.4).
    pub fn render(&self, s: &Snapshot) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        let gauge = |out: &mut String, name: &str, help: &str, v: f64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(
            &mut out,
            "kiln_queue_depth",
            "Jobs waiting for a device.",
            s.queue_depth as f64,
        );
        let _ = writeln!(
            out,
            "# HELP kiln_jobs Jobs by state.\n# TYPE kiln_jobs gauge"
        );
        for (state, n) in &s.jobs_by_state {
            let _ = writeln!(out, "kiln_jobs{{state=\"{state}\"}} {n}");
        }
        counter(
            &mut out,
            "kiln_jobs_submitted_total",
            "Jobs accepted since start.",
            self.jobs_submitted.load(Ordering::Relaxed),
        );
        self.proof_latency.render(
            &mut out,
            "kiln_proof_latency_seconds",
            "Submission to proof, for jobs that succeeded.",
        );
        self.prove_duration.render(
            &mut out,
            "kiln_prove_duration_seconds",
            "Device time per proof (key load excluded).",
        );
        let _ = writeln!(
            out,
            "# HELP kiln_device_busy_ratio Fraction of time since start each device spent proving.\n# TYPE kiln_device_busy_ratio gauge"
        );
        for (spec, ratio, _, _) in &s.devices {
            let _ = writeln!(out, "kiln_device_busy_ratio{{device=\"{spec}\"}} {ratio}");
        }
        let _ = writeln!(
            out,
            "# HELP kiln_device_jobs_total Proofs run per device.\n# TYPE kiln_device_jobs_total counter"
        );
        for (spec, _, jobs, _) in &s.devices {
            let _ = writeln!(out, "kiln_device_jobs_total{{device=\"{spec}\"}} {jobs}");
        }
        let _ = writeln!(
            out,
            "# HELP kiln_device_faults_total Device errors per device.\n# TYPE kiln_device_faults_total counter"
        );
        for (spec, _, _, faults) in &s.devices {
            let _ = writeln!(
                out,
                "kiln_device_faults_total{{device=\"{spec}\"}} {faults}"
            );
        }
        gauge(
            &mut out,
            "kiln_resident_keys",
            "Proving keys resident on devices.",
            s.resident_keys as f64,
        );
        gauge(
            &mut out,
            "kiln_witness_handoff_bytes",
            "Bytes of queued jobs' witnesses held in memory for the prover.",
            s.handoff_bytes as f64,
        );
        counter(
            &mut out,
            "kiln_http_client_errors_total",
            "Requests answered 4xx.",
            self.client_errors.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "kiln_http_server_errors_total",
            "Requests answered 5xx.",
            self.server_errors.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "kiln_webhooks_delivered_total",
            "Webhook deliveries answered 2xx.",
            self.webhooks_delivered.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "kiln_webhook_failures_total",
            "Webhook attempts that failed.",
            self.webhook_failures.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "kiln_uptime_seconds",
            "Seconds since the server started.",
            s.uptime_secs,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative() {
        let m = Metrics::default();
        m.proof_latency.observe(0.2);
        m.proof_latency.observe(3.0);
        let text = m.render(&Snapshot::default());
        assert!(text.contains("kiln_proof_latency_seconds_bucket{le=\"0.25\"} 1"));
        assert!(text.contains("kiln_proof_latency_seconds_bucket{le=\"5\"} 2"));
        assert!(text.contains("kiln_proof_latency_seconds_count 2"));
        assert_eq!(m.proof_latency.mean(), Some(1.6));
    }
}
