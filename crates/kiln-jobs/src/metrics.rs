//! The jobs' own Prometheus metrics (prometheus-client types), registered by the server
//! into its registry: proof latency and device time per proof, webhook outcomes.

use std::sync::{Mutex, PoisonError};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds (seconds) of the latency histograms' buckets.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Counters and histograms the runner and the webhook sender update.
#[derive(Debug)]
pub struct JobMetrics {
    /// Submission to end, for jobs that succeeded (`kiln_proof_latency_seconds`).
    pub proof_latency: Histogram,
    /// Time on the device per proof (`kiln_prove_duration_seconds`); see
    /// [`Self::observe_prove`].
    pub prove_duration: Histogram,
    /// Sum and count of `prove_duration`'s observations, for [`Self::mean_prove_seconds`].
    prove_totals: Mutex<(f64, u64)>,
    /// Webhook deliveries that got a 2xx (`kiln_webhooks_delivered_total`).
    pub webhooks_delivered: Counter,
    /// Webhook attempts that failed (`kiln_webhook_failures_total`).
    pub webhook_failures: Counter,
}

impl Default for JobMetrics {
    fn default() -> Self {
        JobMetrics {
            proof_latency: Histogram::new(LATENCY_BUCKETS),
            prove_duration: Histogram::new(LATENCY_BUCKETS),
            prove_totals: Mutex::new((0.0, 0)),
            webhooks_delivered: Counter::default(),
            webhook_failures: Counter::default(),
        }
    }
}

impl JobMetrics {
    /// Adds these metrics to `registry` (names without the `kiln_` prefix, which the
    /// server's registry adds; counters get their `_total` suffix from the encoder).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "proof_latency_seconds",
            "Submission to proof, for jobs that succeeded.",
            self.proof_latency.clone(),
        );
        registry.register(
            "prove_duration_seconds",
            "Device time per proof (key load excluded).",
            self.prove_duration.clone(),
        );
        registry.register(
            "webhooks_delivered",
            "Webhook deliveries answered 2xx.",
            self.webhooks_delivered.clone(),
        );
        registry.register(
            "webhook_failures",
            "Webhook attempts that failed.",
            self.webhook_failures.clone(),
        );
    }

    /// Records one proof's device time (seconds).
    pub fn observe_prove(&self, seconds: f64) {
        self.prove_duration.observe(seconds);
        let mut t = self
            .prove_totals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        t.0 += seconds;
        t.1 += 1;
    }

    /// Mean device time per proof so far (seconds), if any proof ran.
    pub fn mean_prove_seconds(&self) -> Option<f64> {
        let (sum, n) = *self
            .prove_totals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (n > 0).then(|| sum / n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_follows_the_observations() {
        let m = JobMetrics::default();
        assert_eq!(m.mean_prove_seconds(), None);
        m.observe_prove(0.2);
        m.observe_prove(3.0);
        assert_eq!(m.mean_prove_seconds(), Some(1.6));
    }
}
