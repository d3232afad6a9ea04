//! Webhook delivery: each final job state of a job submitted with a `webhook_url` is POSTed
//! there as the job's JSON, signed with the tenant's webhook secret:
//!
//! - `X-Kiln-Signature: sha256=<hex HMAC-SHA256 of the body>`
//! - `X-Kiln-Event: job.<status>`, `X-Kiln-Delivery: <delivery id>`, `X-Kiln-Job: <job id>`
//!
//! Deliveries are stored (with the job's outcome, in one transaction), so they survive a
//! restart; a failed attempt (no answer, or not 2xx) is retried after `backoff · 2^n`
//! (capped at 10 minutes) until the attempts run out.
//!
//! With `--webhook-deny-private`, receivers must be public: a URL naming a loopback,
//! private, link-local or otherwise non-public address is refused at submission, and a
//! host name is resolved at each delivery with such addresses left out (so a name that
//! resolves inward, now or later, is never connected to).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
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

/// Whether `ip` is a public unicast address (not loopback, private, link-local, shared,
/// documentation, multicast, unspecified or broadcast; IPv4-mapped IPv6 as its IPv4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240) // reserved
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local())
            }
        },
    }
}

/// The host of an `http(s)://` URL, without brackets or port.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split_once(']').map(|(h, _)| h);
    }
    Some(host_port.rsplit_once(':').map_or(host_port, |(h, _)| h))
}

/// Checks a webhook URL at submission when only public receivers are allowed: an address
/// or `localhost` that is not public is refused (other names are checked at delivery).
pub fn check_target(url: &str, deny_private: bool) -> Result<(), String> {
    if !deny_private {
        return Ok(());
    }
    let host = url_host(url).unwrap_or("");
    let inward = match host.parse::<IpAddr>() {
        Ok(ip) => !is_public(ip),
        Err(_) => {
            let h = host.trim_end_matches('.').to_ascii_lowercase();
            h == "localhost" || h.ends_with(".localhost")
        }
    };
    if inward {
        return Err(format!(
            "webhook_url {url:?}: {host} is not a public address, and this server only \
             delivers webhooks to public ones"
        ));
    }
    Ok(())
}

/// Resolves receivers' host names, leaving out non-public addresses.
struct PublicOnly;

impl ureq::Resolver for PublicOnly {
    fn resolve(&self, netloc: &str) -> std::io::Result<Vec<SocketAddr>> {
        let all: Vec<SocketAddr> = netloc.to_socket_addrs()?.collect();
        let public: Vec<SocketAddr> = all.iter().copied().filter(|a| is_public(a.ip())).collect();
        if public.is_empty() && !all.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "{netloc} resolves only to non-public addresses, and this server only \
                     delivers webhooks to public ones"
                ),
            ));
        }
        Ok(public)
    }
}

/// Delivers due webhooks forever.
pub async fn deliver(state: Arc<AppState>) {
    let mut builder = ureq::AgentBuilder::new().timeout(TIMEOUT).redirects(0);
    if state.cfg.webhook_deny_private {
        builder = builder.resolver(PublicOnly);
    }
    let agent = builder.build();
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
            // Keep the error small: a receiver's non-2xx answer, or the transport error.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass_when_private_ones_are_denied() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "198.18.0.1",
            "240.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn webhook_urls_naming_inward_hosts_are_refused() {
        for url in [
            "http://127.0.0.1:9000/hook",
            "https://[::1]/x",
            "http://user:pw@10.0.0.5/x",
            "http://localhost:8080",
            "http://api.LOCALHOST./x",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(check_target(url, true).is_err(), "{url}");
            assert!(check_target(url, false).is_ok(), "{url}");
        }
        for url in ["https://hooks.example.com/kiln", "http://8.8.8.8:80/x?a=b"] {
            assert!(check_target(url, true).is_ok(), "{url}");
        }
        let e = ureq::Resolver::resolve(&PublicOnly, "localhost:80").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}");
        assert_eq!(url_host("http://[fe80::1]:80/x"), Some("fe80::1"));
        assert_eq!(url_host("https://a.b:1/x"), Some("a.b"));
    }
}
