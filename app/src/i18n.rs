//! The reader's language: `domain::i18n`, the one mechanism every crate
//! uses (`Lang`, `t(lang, "中文", "English")`).

pub use domain::i18n::*;
