//! Prometheus metrics, through the Prometheus project's Rust client (`prometheus-client`):
//! one registry with the `kiln_` prefix holding the server's own counters, the jobs'
//! histograms and counters ([`JobMetrics`]), and a collector for the gauges that the store,
//! the queue and the devices already know (jobs by state, queue depth, per-device busy
//! ratio), read when `/metrics` is scraped. The exposition is the OpenMetrics text format.

use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use kiln_jobs::metrics::JobMetrics;

/// The Content-Type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The daemon's metrics.
#[derive(Debug)]
pub struct Metrics {
    /// Everything `/metrics` shows; locked while a scrape renders.
    registry: Mutex<Registry>,
    /// What the scrape in progress read from elsewhere.
    snapshot: Arc<Mutex<Snapshot>>,
    /// The jobs' histograms and counters (shared with the runner and the webhook sender).
    pub jobs: Arc<JobMetrics>,
    /// Jobs accepted (`kiln_jobs_submitted_total`).
    pub jobs_submitted: Counter,
    /// HTTP requests answered with 4xx (`kiln_http_client_errors_total`).
    pub client_errors: Counter,
    /// HTTP requests answered with 5xx (`kiln_http_server_errors_total`).
    pub server_errors: Counter,
}

/// What a scrape reads from the store, the queue and the devices.
#[derive(Clone, Debug, Default)]
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

impl Default for Metrics {
    fn default() -> Self {
        let jobs = Arc::new(JobMetrics::default());
        let snapshot = Arc::new(Mutex::new(Snapshot::default()));
        let (jobs_submitted, client_errors, server_errors) = Default::default();
        let mut registry = Registry::with_prefix("kiln");
        registry.register(
            "jobs_submitted",
            "Jobs accepted since start.",
            Clone::clone(&jobs_submitted),
        );
        jobs.register(&mut registry);
        registry.register(
            "http_client_errors",
            "Requests answered 4xx.",
            Clone::clone(&client_errors),
        );
        registry.register(
            "http_server_errors",
            "Requests answered 5xx.",
            Clone::clone(&server_errors),
        );
        registry.register_collector(Box::new(SnapshotCollector(snapshot.clone())));
        Metrics {
            registry: Mutex::new(registry),
            snapshot,
            jobs,
            jobs_submitted,
            client_errors,
            server_errors,
        }
    }
}

impl Metrics {
    /// Renders every metric, with `snap` for the values read from elsewhere.
    pub fn render(&self, snap: Snapshot) -> String {
        let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        *self.snapshot.lock().unwrap_or_else(PoisonError::into_inner) = snap;
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

/// Encodes the scrape's [`Snapshot`] as gauges and counters.
#[derive(Debug)]
struct SnapshotCollector(Arc<Mutex<Snapshot>>);

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let s = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let gauge = |e: &mut DescriptorEncoder<'_>, name: &str, help: &str, v: i64| {
            let g = ConstGauge::new(v);
            g.encode(e.encode_descriptor(name, help, None, g.metric_type())?)
        };
        gauge(
            &mut encoder,
            "queue_depth",
            "Jobs waiting for a device.",
            s.queue_depth as i64,
        )?;
        let mut by_state = encoder.encode_descriptor(
            "jobs",
            "Jobs by state.",
            None,
            ConstGauge::new(0i64).metric_type(),
        )?;
        for (state, n) in &s.jobs_by_state {
            ConstGauge::new(*n as i64).encode(by_state.encode_family(&[("state", *state)])?)?;
        }
        let mut busy = encoder.encode_descriptor(
            "device_busy_ratio",
            "Fraction of time since start each device spent proving.",
            None,
            ConstGauge::new(0f64).metric_type(),
        )?;
        for (spec, ratio, _, _) in &s.devices {
            ConstGauge::new(*ratio).encode(busy.encode_family(&[("device", spec.as_str())])?)?;
        }
        for (name, help, pick) in [
            (
                "device_jobs",
                "Proofs run per device.",
                (|d| d.2) as fn(&(String, f64, u64, u64)) -> u64,
            ),
            ("device_faults", "Device errors per device.", |d| d.3),
        ] {
            let mut family = encoder.encode_descriptor(
                name,
                help,
                None,
                ConstCounter::new(0u64).metric_type(),
            )?;
            for d in &s.devices {
                ConstCounter::new(pick(d))
                    .encode(family.encode_family(&[("device", d.0.as_str())])?)?;
            }
        }
        gauge(
            &mut encoder,
            "resident_keys",
            "Proving keys resident on devices.",
            s.resident_keys as i64,
        )?;
        gauge(
            &mut encoder,
            "witness_handoff_bytes",
            "Bytes of queued jobs' witnesses held in memory for the prover.",
            s.handoff_bytes as i64,
        )?;
        let up = ConstGauge::new(s.uptime_secs);
        up.encode(encoder.encode_descriptor(
            "uptime_seconds",
            "Seconds since the server started.",
            None,
            up.metric_type(),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_exposed_with_its_name_and_labels() {
        let m = Metrics::default();
        m.jobs.proof_latency.observe(0.2);
        m.jobs.proof_latency.observe(3.0);
        m.jobs_submitted.inc();
        m.client_errors.inc_by(2);
        let text = m.render(Snapshot {
            jobs_by_state: vec![("queued", 1), ("succeeded", 6)],
            queue_depth: 1,
            devices: vec![("cpu:0".into(), 0.25, 6, 0), ("opencl:0".into(), 0.5, 2, 1)],
            resident_keys: 2,
            handoff_bytes: 4096,
            uptime_secs: 12.5,
        });
        for needle in [
            "kiln_queue_depth 1\n",
            "kiln_jobs{state=\"queued\"} 1\n",
            "kiln_jobs{state=\"succeeded\"} 6\n",
            "kiln_jobs_submitted_total 1\n",
            "kiln_proof_latency_seconds_bucket{le=\"0.25\"} 1\n",
            "kiln_proof_latency_seconds_bucket{le=\"5.0\"} 2\n",
            "kiln_proof_latency_seconds_bucket{le=\"+Inf\"} 2\n",
            "kiln_proof_latency_seconds_count 2\n",
            "kiln_prove_duration_seconds_count 0\n",
            "kiln_device_busy_ratio{device=\"opencl:0\"} 0.5\n",
            "kiln_device_jobs_total{device=\"cpu:0\"} 6\n",
            "kiln_device_faults_total{device=\"opencl:0\"} 1\n",
            "kiln_resident_keys 2\n",
            "kiln_witness_handoff_bytes 4096\n",
            "kiln_http_client_errors_total 2\n",
            "kiln_http_server_errors_total 0\n",
            "kiln_webhooks_delivered_total 0\n",
            "kiln_webhook_failures_total 0\n",
            "kiln_uptime_seconds 12.5\n",
            "# TYPE kiln_device_jobs counter\n",
            "# HELP kiln_queue_depth Jobs waiting for a device.\n",
        ] {
            assert!(text.contains(needle), "no {needle:?} in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
