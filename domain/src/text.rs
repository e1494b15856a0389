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
