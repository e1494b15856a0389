//! Keeps what a user typed into a form that failed, for plain (no-JavaScript)
//! form posts: the server answers those with a redirect back to the form, and
//! the form is filled again from here. Short-lived and in-process; a user is
//! normally redirected to the same instance within a second.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

const TTL: Duration = Duration::from_secs(600);

/// (stored at, owner, fields)
type Entry = (Instant, Option<i64>, Vec<(String, String)>);

#[derive(Default)]
pub struct FlashStore {
    entries: Mutex<HashMap<String, Entry>>,
}

impl FlashStore {
    /// Stores the fields for `user_id`; returns the key to put in the redirect URL.
    pub fn put(&self, user_id: Option<i64>, fields: Vec<(String, String)>) -> String {
        let key = uuid::Uuid::new_v4().simple().to_string();
        let mut m = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        m.retain(|_, (t, _, _)| now.duration_since(*t) < TTL);
        m.insert(key.clone(), (now, user_id, fields));
        key
    }

    /// The fields stored under `key`, only for the same user.
    pub fn get(&self, key: &str, user_id: Option<i64>) -> Vec<(String, String)> {
        let m = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match m.get(key) {
            Some((t, owner, fields)) if *owner == user_id && t.elapsed() < TTL => fields.clone(),
            _ => Vec::new(),
        }
    }
}
