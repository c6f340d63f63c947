//! Users' provider keys at rest: sealed with AES-256-GCM under `TODO_ENCRYPTION_KEY`, a fresh
//! random nonce per value, and the owner's id as associated data (a sealed key copied to
//! another user's row does not open). Sealed text is `v1.<base64url(nonce ‖ ciphertext ‖ tag)>`;
//! the version leaves room for another algorithm or key later.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

const VERSION: &str = "v1.";
const KEY_LEN: usize = 32;

/// The server's encryption key, parsed from `TODO_ENCRYPTION_KEY`.
pub struct Cipher {
    key: LessSafeKey,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher([redacted])")
    }
}

impl Cipher {
    /// 32 bytes as base64 (standard or URL-safe, padded or not) or as 64 hex digits, e.g. the
    /// output of `openssl rand -base64 32`.
    pub fn from_config(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let bytes = if raw.len() == 2 * KEY_LEN && raw.chars().all(|c| c.is_ascii_hexdigit()) {
            (0..KEY_LEN)
                .map(|i| u8::from_str_radix(&raw[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|e| e.to_string())?
        } else {
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(raw).ok())
                .unwrap_or_default()
        };
        if bytes.len() != KEY_LEN {
            return Err(
                "TODO_ENCRYPTION_KEY must be 32 random bytes in base64 or hex; make one with \
                 `openssl rand -base64 32`"
                    .into(),
            );
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|e| e.to_string())?;
        Ok(Self {
            key: LessSafeKey::new(key),
        })
    }

    /// Seals `plaintext` for `owner`.
    pub fn seal(&self, owner: &str, plaintext: &str) -> Result<String, String> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let mut buffer = plaintext.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(owner.as_bytes()),
                &mut buffer,
            )
            .map_err(|_| "sealing failed".to_owned())?;
        let mut sealed = nonce_bytes.to_vec();
        sealed.extend_from_slice(&buffer);
        Ok(format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// Opens what [`Cipher::seal`] made for `owner`; fails under another key or owner.
    pub fn open(&self, owner: &str, sealed: &str) -> Result<String, String> {
        let body = sealed
            .strip_prefix(VERSION)
            .ok_or("unknown sealed-value version")?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| "sealed value is not base64")?;
        if bytes.len() < NONCE_LEN {
            return Err("sealed value is too short".into());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| "bad nonce")?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(owner.as_bytes()), &mut buffer)
            .map_err(|_| "the sealed value does not open with this key (was TODO_ENCRYPTION_KEY changed?)")?;
        String::from_utf8(plaintext.to_vec()).map_err(|_| "sealed value is not text".into())
    }
}

/// What may be shown of a key: its last four characters, when it is long enough that they
/// give nothing away.
pub fn key_hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() >= 16 {
        chars[chars.len() - 4..].iter().collect()
    } else {
        String::new()
    }
}

/// The masked form shown to the owner, e.g. `••••wxyz`.
pub fn masked(hint: &str) -> String {
    format!("••••{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn sealed_keys_open_for_their_owner_only() {
        let cipher = Cipher::from_config(KEY).expect("key");
        let sealed = cipher.seal("alice", "sk-secret-value").expect("seal");
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("sk-secret-value"));
        assert_eq!(
            cipher.open("alice", &sealed).as_deref(),
            Ok("sk-secret-value")
        );
        assert!(cipher.open("bob", &sealed).is_err());
        let other = Cipher::from_config(&"ab".repeat(32)).expect("hex key");
        assert!(other.open("alice", &sealed).is_err());
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let cipher = Cipher::from_config(KEY).expect("key");
        assert_ne!(
            cipher.seal("a", "same").expect("seal"),
            cipher.seal("a", "same").expect("seal")
        );
    }

    #[test]
    fn short_or_malformed_keys_are_refused_with_advice() {
        for bad in ["", "short", &"zz".repeat(32)] {
            let error = Cipher::from_config(bad).expect_err("refused");
            assert!(error.contains("openssl rand"), "{error}");
        }
    }

    #[test]
    fn hints_show_only_the_end_of_long_keys() {
        assert_eq!(key_hint("sk-abcdefghijklmnopqrstuvwxyz"), "wxyz");
        assert_eq!(key_hint("short-key"), "");
        assert_eq!(masked("wxyz"), "••••wxyz");
    }
}
