//! A short memory of credentials already checked, so that a busy client does not cost one
//! database lookup per request. Entries live at most the configured time to live (default
//! 1 s; 0 turns the memory off). Logging out or revoking a key forgets its entry at once in
//! this process; another replica may still accept the credential until its own entry expires,
//! so the time to live is the bound on how late a logout or a revoke takes effect elsewhere.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::accounts::{CredentialKind, Principal};

/// Beyond this many entries, expired ones are dropped; if none were, all are (a flood of
/// distinct credentials then costs lookups, never memory).
const MAX_ENTRIES: usize = 10_000;

pub struct CredentialCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl CredentialCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The principal remembered under `key`, if its entry has not expired.
    pub fn get(&self, key: &str) -> Option<Principal> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(principal, _)| principal.clone())
    }

    /// Remembers `principal` under `key` for the time to live, or less when the credential
    /// itself expires sooner.
    pub fn put(&self, key: String, principal: Principal, expires_in: Option<Duration>) {
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
        entries.insert(key, (principal, until));
    }

    /// Forgets every entry for this credential (a logout, a revoked key).
    pub fn forget(&self, credential: &CredentialKind) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (principal, _)| &principal.credential != credential);
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
        let cache = CredentialCache::new(Duration::from_millis(30));
        let session = principal(CredentialKind::Session("s1".into()));
        cache.put("s:s1".into(), session.clone(), None);
        assert_eq!(cache.get("s:s1"), Some(session));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get("s:s1"), None);
    }

    #[test]
    fn a_credential_that_expires_sooner_is_remembered_until_then() {
        let cache = CredentialCache::new(Duration::from_secs(60));
        let key = principal(CredentialKind::ApiKey("k1".into()));
        cache.put("k:h".into(), key, Some(Duration::from_millis(10)));
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(cache.get("k:h"), None);
    }

    #[test]
    fn forgetting_a_credential_drops_its_entries_and_no_others() {
        let cache = CredentialCache::new(Duration::from_secs(60));
        let revoked = principal(CredentialKind::ApiKey("k1".into()));
        let other = principal(CredentialKind::ApiKey("k2".into()));
        cache.put("k:a".into(), revoked.clone(), None);
        cache.put("k:b".into(), other.clone(), None);
        cache.forget(&revoked.credential);
        assert_eq!(cache.get("k:a"), None);
        assert_eq!(cache.get("k:b"), Some(other));
    }

    #[test]
    fn a_zero_time_to_live_remembers_nothing() {
        let cache = CredentialCache::new(Duration::ZERO);
        cache.put("s:s1".into(), principal(CredentialKind::Local), None);
        assert_eq!(cache.get("s:s1"), None);
    }

    #[test]
    fn a_flood_of_credentials_is_bounded() {
        let cache = CredentialCache::new(Duration::from_secs(60));
        for n in 0..MAX_ENTRIES + 5 {
            cache.put(format!("k:{n}"), principal(CredentialKind::Local), None);
        }
        let len = cache.entries.lock().map(|e| e.len()).unwrap_or(0);
        assert!(len <= MAX_ENTRIES, "{len} entries");
    }
}
