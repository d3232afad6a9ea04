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

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Notify;
use tracing::Instrument;

use crate::metrics::JobMetrics;
use kiln_store::{now_ms, Store, Webhook, WebhookAttempt};

/// What delivering webhooks takes.
pub struct Deliverer {
    /// Where deliveries are stored, with the tenants' webhook secrets.
    pub store: Arc<dyn Store>,
    /// Woken when a delivery is stored or an attempt ends.
    pub wake: Arc<Notify>,
    /// Delivery counters.
    pub metrics: Arc<JobMetrics>,
    /// Only public receivers (`--webhook-deny-private`).
    pub deny_private: bool,
    /// Attempts per delivery before giving up.
    pub attempts: u32,
    /// Delay before the first retry, doubled each time (ms).
    pub backoff_ms: u64,
}

/// HMAC-SHA256 of `body` under `secret`, hex: the value of `X-Kiln-Signature` after
/// `sha256=`, which receivers recompute with the tenant's webhook secret.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Longest wait for a receiver's answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Longest delay between attempts.
const MAX_BACKOFF_MS: u64 = 600_000;

/// Whether `ip` is a public unicast address: not loopback, private, link-local,
/// site-local, shared, documentation, benchmarking, multicast, unspecified, broadcast or
/// reserved; IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are
/// judged by it.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240) // reserved
        }
        IpAddr::V6(v6) => {
            if v6.is_loopback() || v6.is_unspecified() {
                return false;
            }
            let embedded = |hi: u16, lo: u16| {
                let [h1, h2] = hi.to_be_bytes();
                let [l1, l2] = lo.to_be_bytes();
                is_public(IpAddr::V4(Ipv4Addr::new(h1, h2, l1, l2)))
            };
            let seg = v6.segments();
            match seg {
                // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d).
                [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => embedded(hi, lo),
                // NAT64, well-known prefix (64:ff9b::/96).
                [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => embedded(hi, lo),
                // NAT64 local-use prefix (64:ff9b:1::/48).
                [0x64, 0xff9b, 1, ..] => false,
                // 6to4 (2002:a.b.c.d::/48).
                [0x2002, hi, lo, ..] => embedded(hi, lo),
                // Documentation (2001:db8::/32).
                [0x2001, 0xdb8, ..] => false,
                _ => {
                    !(v6.is_multicast()
                        || v6.is_unique_local()
                        || v6.is_unicast_link_local()
                        || (seg[0] & 0xffc0) == 0xfec0) // site-local (deprecated)
                }
            }
        }
    }
}

/// Checks a webhook URL at submission when only public receivers are allowed: a URL whose
/// host is a non-public address (however it is written: `127.1`, `2130706433`, `[::1]`)
/// or `localhost` is refused. Host names are checked when they are resolved, at delivery.
pub fn check_target(url: &str, deny_private: bool) -> Result<(), String> {
    if !deny_private {
        return Ok(());
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("webhook_url {url:?}: {e}"))?;
    let inward = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => {
            let h = d.trim_end_matches('.').to_ascii_lowercase();
            h == "localhost" || h.ends_with(".localhost")
        }
        None => true,
    };
    if inward {
        return Err(format!(
            "webhook_url {url:?}: {} is not a public address, and this server only \
             delivers webhooks to public ones",
            parsed.host_str().unwrap_or("")
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

/// Most deliveries attempted at once.
const MAX_IN_FLIGHT: usize = 64;

/// Delivers due webhooks forever: each attempt runs on its own, so a receiver that is slow
/// to answer delays only its own deliveries (up to `MAX_IN_FLIGHT` at once).
pub async fn deliver(state: Arc<Deliverer>) {
    let agent = agent(state.deny_private);
    let in_flight: Arc<Mutex<HashSet<i64>>> = Arc::default();
    loop {
        let busy = lock(&in_flight).len();
        let due = match state
            .store
            .due_webhooks(now_ms(), (MAX_IN_FLIGHT + busy) as u32)
            .await
        {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(target: crate::TARGET, error = %e, "cannot read pending webhooks");
                Vec::new()
            }
        };
        let mut started = 0;
        for w in due {
            let mut flying = lock(&in_flight);
            if flying.len() >= MAX_IN_FLIGHT || !flying.insert(w.id) {
                continue;
            }
            drop(flying);
            started += 1;
            let (st, agent, flying) = (state.clone(), agent.clone(), in_flight.clone());
            let span = tracing::info_span!(target: crate::TARGET, "webhook", job = %w.job_id, delivery = w.id, attempt = w.attempts + 1);
            tokio::spawn(
                async move {
                    let id = w.id;
                    attempt(&st, agent, w).await;
                    lock(&flying).remove(&id);
                    st.wake.notify_one();
                }
                .instrument(span),
            );
        }
        if started > 0 {
            continue;
        }
        // Nothing new to start: sleep until the next one is due, a new one is stored, or an
        // attempt ends (what is due now is already being attempted).
        let wait = match state.store.next_webhook_at().await {
            Ok(Some(at)) if at > now_ms() => (at - now_ms()).clamp(10, 5_000) as u64,
            _ => 5_000,
        };
        let _ = tokio::time::timeout(Duration::from_millis(wait), state.wake.notified()).await;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The HTTP client deliveries go through (only to public addresses with `deny_private`).
fn agent(deny_private: bool) -> ureq::Agent {
    let mut builder = ureq::AgentBuilder::new().timeout(TIMEOUT).redirects(0);
    if deny_private {
        builder = builder.resolver(PublicOnly);
    }
    builder.build()
}

async fn attempt(state: &Deliverer, agent: ureq::Agent, w: Webhook) {
    let secret = match state.store.get_tenant(&w.tenant_id).await {
        Ok(Some(t)) => t.webhook_secret,
        _ => {
            tracing::warn!(target: crate::TARGET, "tenant gone; dropping the webhook");
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
            state.metrics.webhooks_delivered.inc();
            tracing::info!(target: crate::TARGET, "webhook delivered");
            WebhookAttempt::Delivered { at: now }
        }
        Some(error) => {
            state.metrics.webhook_failures.inc();
            let made = w.attempts + 1;
            if made >= state.attempts {
                tracing::warn!(target: crate::TARGET, %error, "webhook failed; out of attempts, giving up");
                WebhookAttempt::GaveUp { at: now, error }
            } else {
                let delay = state
                    .backoff_ms
                    .saturating_mul(1u64 << w.attempts.min(20))
                    .min(MAX_BACKOFF_MS);
                tracing::info!(target: crate::TARGET, %error, retry_in_ms = delay, "webhook failed; will retry");
                WebhookAttempt::Retry {
                    retry_at: now + delay as i64,
                    error,
                }
            }
        }
    };
    if let Err(e) = state.store.webhook_attempted(w.id, &result).await {
        tracing::error!(target: crate::TARGET, error = %e, "cannot record the webhook attempt");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

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
            "http://127.1:9000/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://[::ffff:7f00:1]/",
        ] {
            assert!(check_target(url, true).is_err(), "{url}");
            assert!(check_target(url, false).is_ok(), "{url}");
        }
        for url in ["https://hooks.example.com/kiln", "http://8.8.8.8:80/x?a=b"] {
            assert!(check_target(url, true).is_ok(), "{url}");
        }
        let e = ureq::Resolver::resolve(&PublicOnly, "localhost:80").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}");
    }

    #[test]
    fn deliveries_never_connect_inward_when_private_targets_are_denied() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let e = agent(true).post(&url).send_string("{}").unwrap_err();
        assert!(e.to_string().contains("non-public"), "{e}");
        assert!(listener.accept().is_err(), "a connection was made");
        // The same agent without the restriction does connect.
        let open = std::thread::spawn(move || agent(false).post(&url).send_string("{}").is_ok());
        let t0 = std::time::Instant::now();
        while listener.accept().is_err() {
            assert!(
                t0.elapsed() < std::time::Duration::from_secs(10),
                "no connection"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        drop(listener);
        let _ = open.join();
    }
}
