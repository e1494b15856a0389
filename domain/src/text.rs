//! Validated user text.

use crate::ErrorCode;

fn bounded(input: &str, max_chars: usize, err: ErrorCode) -> Result<String, ErrorCode> {
    let t = input.trim();
    let n = t.chars().count();
    if n == 0 || n > max_chars || t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        Err(err)
    } else {
        Ok(t.replace("\r\n", "\n"))
    }
}

/// An announcement title: 1–60 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnouncementTitle(String);
impl AnnouncementTitle {
    pub const MAX: usize = 60;
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        let s = bounded(input, Self::MAX, ErrorCode::InvalidTitle)?;
        if s.contains('\n') {
            return Err(ErrorCode::InvalidTitle);
        }
        Ok(Self(s))
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An announcement body: 1–5000 characters of plain text (paragraphs by blank lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnouncementBody(String);
impl AnnouncementBody {
    pub const MAX: usize = 5000;
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        bounded(input, Self::MAX, ErrorCode::InvalidBody).map(Self)
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A person's display name, as they give it: 1–30 characters on one line,
/// not starting with the mark of a stored message (`domain::msg`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);
impl PersonName {
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        let s = bounded(input, 30, ErrorCode::InvalidName)?;
        if s.contains(['\n', '\r', '\t']) || s.starts_with('§') {
            return Err(ErrorCode::InvalidName);
        }
        Ok(Self(s))
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Text for XML or HTML content and attribute values: the five markup
/// characters as entities, and the control characters XML 1.0 cannot carry
/// left out. The escaper for the payment pages; GPX and Open311 XML are
/// written by `backend::support::xml`.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in xml_chars(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The text without the characters XML 1.0 cannot carry (control characters
/// other than tab, line feed and carriage return; U+FFFE and U+FFFF).
pub fn xml_chars(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| ((c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}');
    if s.chars().any(bad) {
        std::borrow::Cow::Owned(s.chars().filter(|c| !bad(*c)).collect())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn titles() {
        assert_eq!(AnnouncementTitle::parse("  停水通知 ").unwrap().into_inner(), "停水通知");
        assert!(AnnouncementTitle::parse("   ").is_err());
        assert!(AnnouncementTitle::parse(&"字".repeat(61)).is_err());
        assert!(AnnouncementTitle::parse(&"字".repeat(60)).is_ok());
        assert!(AnnouncementTitle::parse("a\nb").is_err());
        assert!(AnnouncementTitle::parse("a\u{0}b").is_err());
    }
    #[test]
    fn markup_is_escaped_once_and_control_characters_left_out() {
        assert_eq!(
            escape_xml(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;"
        );
        assert_eq!(escape_xml("巡逻\u{1}#1\n"), "巡逻#1\n");
    }
    #[test]
    fn names() {
        assert_eq!(PersonName::parse(" 陈阿姨 ").unwrap().into_inner(), "陈阿姨");
        assert_eq!(PersonName::parse(""), Err(ErrorCode::InvalidName));
        assert_eq!(PersonName::parse(&"字".repeat(31)), Err(ErrorCode::InvalidName));
        assert_eq!(PersonName::parse("§person|n=1"), Err(ErrorCode::InvalidName));
        assert_eq!(PersonName::parse("a\nb"), Err(ErrorCode::InvalidName));
    }
    #[test]
    fn bodies() {
        assert_eq!(AnnouncementBody::parse("第一段\r\n\r\n第二段").unwrap().into_inner(), "第一段\n\n第二段");
        assert!(AnnouncementBody::parse(&"字".repeat(5001)).is_err());
    }
}
