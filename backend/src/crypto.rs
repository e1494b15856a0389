//! Personal data encrypted at rest (ID numbers): AES-256-GCM with the
//! deployment's data key (`DATA_ENCRYPTION_KEY`), a fresh 96-bit nonce per
//! value, and the owner's row bound in as associated data, so a ciphertext
//! copied onto another person's row does not open. Stored as
//! `v1:` + base64(nonce ‖ ciphertext ‖ tag).

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Key, Nonce,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use rand::RngCore;

use crate::error::{AppError, AppResult};

const PREFIX: &str = "v1:";

pub struct DataKey(Aes256Gcm);

impl DataKey {
    pub fn new(key: &[u8]) -> AppResult<DataKey> {
        let key: [u8; 32] =
            key.try_into().map_err(|_| AppError::internal(anyhow::anyhow!("the data key must be 32 bytes")))?;
        Ok(DataKey(Aes256Gcm::new(&Key::<Aes256Gcm>::from(key))))
    }

    /// Encrypts `plain`, bound to `context` (say `residence-user:42`).
    pub fn seal(&self, context: &str, plain: &str) -> AppResult<String> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .0
            .encrypt(&Nonce::from(nonce), Payload { msg: plain.as_bytes(), aad: context.as_bytes() })
            .map_err(|_| AppError::internal(anyhow::anyhow!("encryption failed")))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Decrypts what `seal` made with the same context; anything else (another
    /// key, another row, a changed byte) is an error, never garbage.
    pub fn open(&self, context: &str, sealed: &str) -> AppResult<String> {
        let fail = || AppError::internal(anyhow::anyhow!("stored personal data does not decrypt"));
        let raw = STANDARD.decode(sealed.strip_prefix(PREFIX).ok_or_else(fail)?).map_err(|_| fail())?;
        if raw.len() < 12 + 16 {
            return Err(fail());
        }
        let (nonce, ct) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| fail())?;
        let plain =
            self.0.decrypt(&Nonce::from(nonce), Payload { msg: ct, aad: context.as_bytes() }).map_err(|_| fail())?;
        String::from_utf8(plain).map_err(|_| fail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_bound_to_key_and_context() {
        let k = DataKey::new(&[7u8; 32]).unwrap();
        let a = k.seal("residence-user:1", "11010519491231002X").unwrap();
        let b = k.seal("residence-user:1", "11010519491231002X").unwrap();
        assert!(a.starts_with("v1:"));
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("1949"), "nothing of the number in the stored text");
        assert_eq!(k.open("residence-user:1", &a).unwrap(), "11010519491231002X");
        assert!(k.open("residence-user:2", &a).is_err(), "moved to another row");
        assert!(DataKey::new(&[8u8; 32]).unwrap().open("residence-user:1", &a).is_err(), "another key");
        let mut tampered = a.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(k.open("residence-user:1", &String::from_utf8(tampered).unwrap()).is_err());
        assert!(k.open("residence-user:1", "v1:").is_err());
        assert!(k.open("residence-user:1", "11010519491231002X").is_err());
        assert!(DataKey::new(&[1u8; 16]).is_err());
    }
}
