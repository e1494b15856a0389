//! People's names as a reader sees them. A resident who signs in for the
//! first time has given no name: the account is named by a message
//! (`domain::msg`, key `person`, the phone's last four digits) and read as
//! "居民0042" or "Resident 0042" in the reader's language. Every name that
//! leaves the backend for a page goes through here.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::{auth::CurrentUser, entities::user, error::AppResult, State};

/// The stored name of a new account: its phone's last four digits, put into
/// words when read.
pub fn default_name(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let last4 = &digits[digits.len().saturating_sub(4)..];
    domain::msg::Msg::new("person").with("n", last4).encode()
}

/// Whether the reader reads English.
pub fn english(reader: &CurrentUser) -> bool {
    reader.lang.is_en()
}

/// One user's name in the reader's words (the masked phone when it is blank).
pub fn name_of(u: &user::Model, en: bool) -> String {
    if u.name.trim().is_empty() {
        domain::phone::mask_phone(&u.phone)
    } else {
        domain::msg::render(&u.name, en)
    }
}

/// The names of users, by id, in the reader's words.
pub async fn names(state: &State, ids: impl Iterator<Item = i64>, en: bool) -> AppResult<HashMap<i64, String>> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, name_of(&u, en)))
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_new_account_is_named_by_its_last_four_digits_in_the_readers_words() {
        let n = super::default_name("13800000042");
        assert_eq!(domain::msg::render(&n, false), "居民0042");
        assert_eq!(domain::msg::render(&n, true), "Resident 0042");
    }
}
