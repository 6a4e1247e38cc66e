//! Limits that keep hostile traffic from exhausting the server: per-source
//! rate limits on sign-in and on platform callbacks, and the settings of the
//! connection layer ([`crate::http::serve_with`]).
//!
//! The rate limiter is a token bucket per source address. `governor` is not
//! in the dependency tree and the bucket is a few lines; what matters here is
//! bounded memory, which the map gets from a key cap plus a sweep of idle
//! keys (an idle bucket is full, so forgetting it changes nothing).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::ApiError;

/// Settings of the HTTP edge; `qunban serve` exposes each as a flag.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// A connection that has not sent a complete request head within this
    /// time (also between keep-alive requests) is closed.
    pub header_read_timeout: Duration,
    /// Longest a request may take, body included; then 503.
    pub request_timeout: Duration,
    /// Open connections at most; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Sign-in and first-account attempts per source address and minute (0: no limit).
    pub sign_in_per_minute: u32,
    pub sign_in_burst: u32,
    /// Platform callbacks per source address and second (0: no limit).
    pub callbacks_per_second: u32,
    pub callback_burst: u32,
    /// Take the source address from the last `X-Forwarded-For` entry (the
    /// one a reverse proxy in front of qunban appended). Only behind such a
    /// proxy: otherwise clients could choose their own address.
    pub trust_forwarded_for: bool,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 512,
            sign_in_per_minute: 10,
            sign_in_burst: 10,
            callbacks_per_second: 300,
            callback_burst: 1000,
            trust_forwarded_for: false,
        }
    }
}

/// Where a request comes from, as the rate limits and the sign-in lockout
/// see it. Absent when the router runs without peer addresses (embedded in
/// tests through `axum::serve`): then nothing is limited per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The limiter's key: IPv4 addresses as they are, IPv6 by /64 (one host
/// usually owns a whole /64, and would otherwise get 2^64 buckets).
fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Buckets {
    map: HashMap<IpAddr, Bucket>,
    last_sweep: Instant,
}

/// Token buckets keyed by source address, with at most `max_keys` entries.
pub struct KeyedLimiter {
    per_sec: f64,
    burst: f64,
    max_keys: usize,
    inner: Mutex<Buckets>,
}

impl KeyedLimiter {
    pub fn new(per_sec: f64, burst: u32, max_keys: usize) -> KeyedLimiter {
        KeyedLimiter {
            per_sec,
            burst: f64::from(burst.max(1)),
            max_keys: max_keys.max(1),
            inner: Mutex::new(Buckets {
                map: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        }
    }

    /// Takes one token for `ip` at `now`, or says how long to wait for one.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = bucket_key(ip);
        let mut b = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !b.map.contains_key(&key) && b.map.len() >= self.max_keys {
            // At most one sweep a second, so a flood of new addresses costs
            // one pass over the map per second, not one per request.
            if now.duration_since(b.last_sweep) >= Duration::from_secs(1) {
                let (per_sec, burst) = (self.per_sec, self.burst);
                b.map.retain(|_, v| {
                    v.tokens + now.duration_since(v.at).as_secs_f64() * per_sec < burst
                });
                b.last_sweep = now;
            }
            if b.map.len() >= self.max_keys {
                // Known sources keep their buckets; a new one waits.
                return Err(Duration::from_secs(1));
            }
        }
        let e = b.map.entry(key).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        e.tokens =
            (e.tokens + now.duration_since(e.at).as_secs_f64() * self.per_sec).min(self.burst);
        e.at = now;
        if e.tokens >= 1.0 {
            e.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - e.tokens) / self.per_sec))
        }
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Sources tracked per limiter at most (about 100 bytes each).
const MAX_KEYS: usize = 65_536;

/// The limiters of one router.
pub struct Guard {
    trust_forwarded_for: bool,
    sign_in: Option<KeyedLimiter>,
    callbacks: Option<KeyedLimiter>,
}

impl Guard {
    pub fn new(limits: &HttpLimits) -> Arc<Guard> {
        let sign_in = (limits.sign_in_per_minute > 0).then(|| {
            KeyedLimiter::new(
                f64::from(limits.sign_in_per_minute) / 60.0,
                limits.sign_in_burst,
                MAX_KEYS,
            )
        });
        let callbacks = (limits.callbacks_per_second > 0).then(|| {
            KeyedLimiter::new(
                f64::from(limits.callbacks_per_second),
                limits.callback_burst,
                MAX_KEYS,
            )
        });
        Arc::new(Guard {
            trust_forwarded_for: limits.trust_forwarded_for,
            sign_in,
            callbacks,
        })
    }

    fn client_ip(&self, req: &Request) -> Option<IpAddr> {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())?;
        if self.trust_forwarded_for {
            let forwarded = req
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                .next_back();
            return Some(forwarded.unwrap_or(peer));
        }
        Some(peer)
    }
}

/// Whether a request is a sign-in attempt (password hashing behind it).
fn is_sign_in(req: &Request) -> bool {
    req.method() == axum::http::Method::POST
        && matches!(req.uri().path(), "/api/v1/session" | "/api/v1/setup")
}

fn is_callback(path: &str) -> bool {
    [
        "/wecom/",
        "/wecom-bot/",
        "/dingtalk/",
        "/feishu/",
        "/hooks/generic/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// Middleware: records the [`ClientIp`] and applies the per-source limits
/// before anything else (the body is not read yet).
pub async fn limit(State(guard): State<Arc<Guard>>, mut req: Request, next: Next) -> Response {
    let Some(ip) = guard.client_ip(&req) else {
        return next.run(req).await;
    };
    req.extensions_mut().insert(ClientIp(ip));
    let limiter = if is_sign_in(&req) {
        guard.sign_in.as_ref()
    } else if is_callback(req.uri().path()) {
        guard.callbacks.as_ref()
    } else {
        None
    };
    if let Some(l) = limiter {
        if let Err(wait) = l.check(ip, Instant::now()) {
            tracing::warn!(%ip, path = req.uri().path(), "rate limited");
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            return ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests from your address; try again in {secs} s"),
            )
            .retry_after(secs)
            .into_response();
        }
    }
    next.run(req).await
}

/// Middleware: a request that takes longer than `timeout` (reading its body
/// included) is answered 503, as JSON like every other error.
pub async fn deadline(State(timeout): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!(?timeout, "request timed out");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "the request took too long",
            )
            .retry_after(1)
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let l = KeyedLimiter::new(2.0, 3, 10);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check(ip, t0).is_ok());
        }
        let wait = l.check(ip, t0).unwrap_err();
        assert!(
            wait <= Duration::from_millis(500) && wait > Duration::from_millis(400),
            "{wait:?}"
        );
        assert!(
            l.check(ip, t0 + Duration::from_millis(500)).is_ok(),
            "refilled at 2/s"
        );
        assert!(
            l.check("10.0.0.2".parse().unwrap(), t0).is_ok(),
            "other sources have their own bucket"
        );
    }

    #[test]
    fn ipv6_hosts_share_their_64() {
        let l = KeyedLimiter::new(1.0, 1, 10);
        let t0 = Instant::now();
        assert!(l.check("2001:db8:1:2::1".parse().unwrap(), t0).is_ok());
        assert!(l.check("2001:db8:1:2::ffff".parse().unwrap(), t0).is_err());
        assert!(l.check("2001:db8:1:3::1".parse().unwrap(), t0).is_ok());
    }

    #[test]
    fn memory_is_bounded_and_idle_sources_are_forgotten() {
        let l = KeyedLimiter::new(10.0, 2, 100);
        let t0 = Instant::now();
        for i in 0..100u32 {
            assert!(l.check(IpAddr::from(i.to_be_bytes()), t0).is_ok());
        }
        assert_eq!(l.len(), 100);
        // Full, and everybody is still refilling: a new source waits, known ones go on.
        assert!(l
            .check("192.0.2.1".parse().unwrap(), t0 + Duration::from_millis(10))
            .is_err());
        assert!(l
            .check(
                IpAddr::from(5u32.to_be_bytes()),
                t0 + Duration::from_millis(10)
            )
            .is_ok());
        assert_eq!(l.len(), 100);
        // A second later all buckets are full again: swept, the newcomer gets one.
        assert!(l
            .check("192.0.2.1".parse().unwrap(), t0 + Duration::from_secs(2))
            .is_ok());
        assert!(l.len() <= 100);
        assert!(l.len() < 10, "idle sources were dropped, {} kept", l.len());
    }
}
