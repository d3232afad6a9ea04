//! Webhook delivery: each final job state of a job submitted with a `webhook_url` is POSTed
//! there as the job's JSON, signed with the tenant's webhook secret:
//!
//! - `X-Kiln-Signature: sha256=<hex HMAC-SHA256 of the body>`
//! - `X-Kiln-Event: job.<status>`, `X-Kiln-Delivery: <delivery id>`, `X-Kiln-Job: <job id>`
//!
//! Deliveries are stored (with the job's outcome, in one transaction), so they survive a
//! restart; a failed attempt (no answer, or not 2xx) is retried after `backoff · 2^n`
//! (capped at 10 minutes) until the attempts run out.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use super::scheduler::now_ms;
use crate::server::secrets::sign;
use crate::server::state::AppState;
use crate::store::{Webhook, WebhookAttempt};

/// Longest wait for a receiver's answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Longest delay between attempts.
const MAX_BACKOFF_MS: u64 = 600_000;

/// Delivers due webhooks forever.
pub async fn deliver(state: Arc<AppState>) {
    let agent = ureq::AgentBuilder::new()
        .timeout(TIMEOUT)
        .redirects(0)
        .build();
    loop {
        let due = match state.store.due_webhooks(now_ms(), 32).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read pending webhooks");
                Vec::new()
            }
        };
        if due.is_empty() {
            let wait = match state.store.next_webhook_at().await {
                Ok(Some(at)) => (at - now_ms()).clamp(10, 5_000) as u64,
                _ => 5_000,
            };
            let _ =
                tokio::time::timeout(Duration::from_millis(wait), state.webhook_wake.notified())
                    .await;
            continue;
        }
        let tasks: Vec<_> = due
            .into_iter()
            .map(|w| {
                let st = state.clone();
                let agent = agent.clone();
                let span = tracing::info_span!("webhook", job = %w.job_id, delivery = w.id, attempt = w.attempts + 1);
                tokio::spawn(async move { attempt(&st, agent, w).await }.instrument(span))
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
    }
}

async fn attempt(state: &AppState, agent: ureq::Agent, w: Webhook) {
    let secret = match state.store.get_tenant(&w.tenant_id).await {
        Ok(Some(t)) => t.webhook_secret,
        _ => {
            tracing::warn!("tenant gone; dropping the webhook");
            let _ = state
                .store
                .webhook_attempted(
                    w.id,
                    &WebhookAttempt::GaveUp {
                        at: now_ms(),
                        error: "tenant not found".into(),
                    },
                )
                .await;
            return;
        }
    };
    let signature = format!("sha256={}", sign(&secret, w.body.as_bytes()));
    let event = serde_json::from_str::<serde_json::Value>(&w.body)
        .ok()
        .and_then(|v| v["status"].as_str().map(|s| format!("job.{s}")))
        .unwrap_or_else(|| "job".into());
    let (url, body, id, job) = (w.url.clone(), w.body.clone(), w.id, w.job_id.clone());
    let sent = tokio::task::spawn_blocking(move || {
        agent
            .post(&url)
            .set("Content-Type", "application/json")
            .set("X-Kiln-Signature", &signature)
            .set("X-Kiln-Event", &event)
            .set("X-Kiln-Delivery", &id.to_string())
            .set("X-Kiln-Job", &job)
            .send_string(&body)
            .map(|r| r.status())
            .map_err(|e| match e {
                ureq::Error::Status(code, _) => format!("receiver answered {code}"),
                other => other.to_string(),
            })
    })
    .await;
    let error = match sent {
        Ok(Ok(status)) if (200..300).contains(&status) => None,
        Ok(Ok(status)) => Some(format!("receiver answered {status}")),
        Ok(Err(e)) => Some(e),
        Err(e) => Some(format!("delivery thread failed: {e}")),
    };
    let now = now_ms();
    let result = match error {
        None => {
            state
                .metrics
                .webhooks_delivered
                .fetch_add(1, Ordering::Relaxed);
            tracing::info!("webhook delivered");
            WebhookAttempt::Delivered { at: now }
        }
        Some(error) => {
            state
                .metrics
                .webhook_failures
                .fetch_add(1, Ordering::Relaxed);
            let made = w.attempts + 1;
            if made >= state.cfg.webhook_attempts {
                tracing::warn!(%error, "webhook failed; out of attempts, giving up");
                WebhookAttempt::GaveUp { at: now, error }
            } else {
                let delay = state
                    .cfg
                    .webhook_backoff_ms
                    .saturating_mul(1u64 << w.attempts.min(20))
                    .min(MAX_BACKOFF_MS);
                tracing::info!(%error, retry_in_ms = delay, "webhook failed; will retry");
                WebhookAttempt::Retry {
                    retry_at: now + delay as i64,
                    error,
                }
            }
        }
    };
    if let Err(e) = state.store.webhook_attempted(w.id, &result).await {
        tracing::error!(error = %e, "cannot record the webhook attempt");
    }
}
