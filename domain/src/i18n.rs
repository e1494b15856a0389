//! The reader's language, one mechanism for every crate: zh-CN first,
//! English second. Text stays next to the code that shows it, as
//! `t(lang, "中文", "English")` pairs in pages, `label(…)` pairs on domain
//! enums, and `domain::msg` keys for text the system stores. A user's
//! choice is kept in `users.lang` as this type (`zh` or `en`), and in the
//! `zhsq_lang` cookie.

use serde::{Deserialize, Serialize};

#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
    strum::VariantArray,
)]
#[cfg_attr(feature = "db", derive(sea_orm::DeriveValueType), sea_orm(value_type = "String"))]
pub enum Lang {
    #[default]
    #[strum(to_string = "zh", serialize = "zh-CN")]
    Zh,
    #[strum(to_string = "en")]
    En,
}

crate::coded!(Lang);

impl Lang {
    pub fn is_en(self) -> bool {
        self == Lang::En
    }
    /// The stored code (`zh`, `en`).
    pub fn code(self) -> &'static str {
        self.as_str()
    }
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    /// From an `Accept-Language` header: English only when the first
    /// language the browser names is English; Chinese otherwise.
    pub fn from_accept_language(header: &str) -> Lang {
        let first = header.split(',').next().unwrap_or("").trim().to_ascii_lowercase();
        if first.starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

/// The words for the reader: `t(lang, "中文", "English")`.
pub fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn accept_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh);
        assert_eq!(Lang::from_accept_language(""), Lang::Zh);
    }
    #[test]
    fn codes() {
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
        assert_eq!(Lang::parse("zh"), Some(Lang::Zh));
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!((Lang::Zh.as_str(), Lang::En.to_string().as_str()), ("zh", "en"));
    }
}
