//! Per-provider rate limit from `rateLimitPerMinute`, within one Lambda container (each container counts
//! its own calls; the limit across containers is this number times the concurrency). A sliding window of
//! the last minute's call times.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct RateLimiter {
    calls: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// Reserves a slot for `provider` and says how long to wait before using it, or `None` when the wait
    /// would end after `latest` (the caller then fails with `ProviderThrottled`).
    pub fn reserve(
        &self,
        provider: &str,
        per_minute: u32,
        now: Instant,
        latest: Instant,
    ) -> Option<Duration> {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let window = calls.entry(provider.to_string()).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW && *t <= now)
        {
            window.pop_front();
        }
        let at = if window.len() < per_minute as usize {
            now
        } else {
            // The slot frees when the call `per_minute` places back leaves the window.
            window[window.len() - per_minute as usize] + WINDOW
        };
        if at > latest {
            return None;
        }
        window.push_back(at);
        Some(at.saturating_duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_the_oldest_call_to_leave_the_window() {
        let r = RateLimiter::default();
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(600);
        assert_eq!(r.reserve("p", 2, t0, far), Some(Duration::ZERO));
        assert_eq!(r.reserve("p", 2, t0, far), Some(Duration::ZERO));
        assert_eq!(r.reserve("p", 2, t0, far), Some(WINDOW));
        assert_eq!(r.reserve("p", 2, t0, t0 + Duration::from_secs(1)), None);
        assert_eq!(r.reserve("other", 2, t0, far), Some(Duration::ZERO));
    }
}
