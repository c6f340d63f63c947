//! A short memory of what a request looked up, so that a busy client does not cost one
//! database lookup per request: checked credentials, and each user's time zone. Entries live
//! at most the configured time to live (default 1 s, `AUTH_CACHE_TTL_MS`; 0 turns the memory
//! off). What changes here (a logout, a revoked key, a new time zone) is forgotten at once in
//! this process; another replica may still use its entry until it expires, so the time to live
//! is the bound on how late such a change takes effect elsewhere.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::accounts::{CredentialKind, Principal};

/// Beyond this many entries, expired ones are dropped; if none were, all are (a flood of
/// distinct keys then costs lookups, never memory).
const MAX_ENTRIES: usize = 10_000;

pub struct Memo<V> {
    ttl: Duration,
    entries: Mutex<HashMap<String, (V, Instant)>>,
}

/// Checked credentials, under `s:<session id>` or `k:<key hash>`.
pub type CredentialMemo = Memo<Principal>;

impl<V: Clone> Memo<V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// How long entries live at most.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The value remembered under `key`, if its entry has not expired.
    pub fn get(&self, key: &str) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(value, _)| value.clone())
    }

    /// Remembers `value` under `key` for the time to live, or less when it goes stale sooner
    /// (a credential that expires).
    pub fn put(&self, key: String, value: V, expires_in: Option<Duration>) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let until = now + expires_in.map_or(self.ttl, |left| left.min(self.ttl));
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, until)| now < *until);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (value, until));
    }

    /// Forgets the entry under `key`.
    pub fn forget(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(key);
    }

    /// Forgets every entry whose value matches.
    fn forget_where(&self, matches: impl Fn(&V) -> bool) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (value, _)| !matches(value));
    }
}

impl CredentialMemo {
    /// Forgets every entry for this credential (a logout, a revoked key).
    pub fn forget_credential(&self, credential: &CredentialKind) {
        self.forget_where(|principal| &principal.credential == credential);
    }

    /// Forgets every entry of this user (a deleted account).
    pub fn forget_user(&self, user_id: &crate::ids::UserId) {
        self.forget_where(|principal| &principal.user_id == user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_key::Scope;

    fn principal(credential: CredentialKind) -> Principal {
        Principal {
            user_id: "u1".into(),
            scopes: vec![Scope::Read],
            credential,
        }
    }

    #[test]
    fn remembers_for_the_time_to_live_only() {
        let cache = CredentialMemo::new(Duration::from_millis(30));
        let session = principal(CredentialKind::Session("s1".into()));
        cache.put("s:s1".into(), session.clone(), None);
        assert_eq!(cache.get("s:s1"), Some(session));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get("s:s1"), None);
    }

    #[test]
    fn a_credential_that_expires_sooner_is_remembered_until_then() {
        let cache = CredentialMemo::new(Duration::from_secs(60));
        let key = principal(CredentialKind::ApiKey("k1".into()));
        cache.put("k:h".into(), key, Some(Duration::from_millis(10)));
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(cache.get("k:h"), None);
    }

    #[test]
    fn forgetting_a_credential_drops_its_entries_and_no_others() {
        let cache = CredentialMemo::new(Duration::from_secs(60));
        let revoked = principal(CredentialKind::ApiKey("k1".into()));
        let other = principal(CredentialKind::ApiKey("k2".into()));
        cache.put("k:a".into(), revoked.clone(), None);
        cache.put("k:b".into(), other.clone(), None);
        cache.forget_credential(&revoked.credential);
        assert_eq!(cache.get("k:a"), None);
        assert_eq!(cache.get("k:b"), Some(other));
    }

    #[test]
    fn forgetting_a_key_drops_that_entry_only() {
        let zones = Memo::<&str>::new(Duration::from_secs(60));
        zones.put("u1".into(), "Europe/Paris", None);
        zones.put("u2".into(), "Asia/Tokyo", None);
        zones.forget("u1");
        assert_eq!(zones.get("u1"), None);
        assert_eq!(zones.get("u2"), Some("Asia/Tokyo"));
    }

    #[test]
    fn a_zero_time_to_live_remembers_nothing() {
        let cache = CredentialMemo::new(Duration::ZERO);
        cache.put("s:s1".into(), principal(CredentialKind::Local), None);
        assert_eq!(cache.get("s:s1"), None);
    }

    #[test]
    fn a_flood_of_credentials_is_bounded() {
        let cache = CredentialMemo::new(Duration::from_secs(60));
        for n in 0..MAX_ENTRIES + 5 {
            cache.put(format!("k:{n}"), principal(CredentialKind::Local), None);
        }
        let len = cache.entries.lock().map(|e| e.len()).unwrap_or(0);
        assert!(len <= MAX_ENTRIES, "{len} entries");
    }
}
