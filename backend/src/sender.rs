//! Where one-time codes go. Production adapters (SMS, WeChat) implement
//! `CodeSender`; the development sender logs the code with the phone masked
//! and keeps the latest codes for the development-only page /dev/codes.

use async_trait::async_trait;
use domain::Phone;
use std::{collections::VecDeque, sync::Mutex};

use crate::error::AppResult;

#[async_trait]
pub trait CodeSender: Send + Sync {
    async fn send(&self, phone: &Phone, code: &str) -> AppResult<()>;
}

#[derive(Clone, Debug)]
pub struct SentCode {
    pub phone: String,
    pub code: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
pub struct DevSender {
    recent: Mutex<VecDeque<SentCode>>,
}

impl DevSender {
    pub fn recent(&self) -> Vec<SentCode> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner()).iter().rev().cloned().collect()
    }
    /// The latest code sent to `phone` (tests and the dev page).
    pub fn latest_for(&self, phone: &str) -> Option<String> {
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .rev()
            .find(|c| c.phone == phone)
            .map(|c| c.code.clone())
    }
}

#[async_trait]
impl CodeSender for DevSender {
    async fn send(&self, phone: &Phone, code: &str) -> AppResult<()> {
        tracing::info!(phone = %phone.masked(), code, "development code sender: one-time code");
        let mut q = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        q.push_back(SentCode { phone: phone.as_str().to_string(), code: code.to_string(), at: chrono::Utc::now() });
        while q.len() > 50 {
            q.pop_front();
        }
        Ok(())
    }
}
