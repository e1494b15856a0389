//! Mainland China mobile numbers: the login identity of residents and grid workers.

use serde::{Deserialize, Serialize};

/// An 11-digit mainland mobile number (1[3-9]xxxxxxxxx). Personal data:
/// `Display` and `Debug` show it masked (138****1234); only `as_str` gives
/// the whole number, for the owner and for roles that need it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Accepts spaces, dashes and a +86 / 0086 prefix, as people type them.
    pub fn parse(input: &str) -> Result<Phone, crate::ErrorCode> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{3000}')).collect();
        let digits = digits.strip_prefix("+86").or_else(|| digits.strip_prefix("0086")).unwrap_or(&digits);
        let b = digits.as_bytes();
        let ok = b.len() == 11 && b.iter().all(|c| c.is_ascii_digit()) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
        if ok {
            Ok(Phone(digits.to_string()))
        } else {
            Err(crate::ErrorCode::InvalidPhone)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 138****1234
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Masks the middle four digits of an 11-digit number; anything else is
/// masked all but its last two characters.
/// A number residents call (a community office's landline, a property
/// service's hotline): 3 to 20 digits, written with spaces, "-", "+" or
/// brackets as people write them ("0571-8888 1234", "(0571) 88881234",
/// "12345"). Kept as typed, trimmed; `tel()` is the number to dial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactNumber(String);

impl ContactNumber {
    pub fn parse(input: &str) -> Result<ContactNumber, crate::ErrorCode> {
        let s = input.trim();
        let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
        let allowed = s.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')'));
        if !allowed || !(3..=20).contains(&digits) || s.chars().count() > 30 {
            return Err(crate::ErrorCode::InvalidContactNumber);
        }
        Ok(ContactNumber(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// What a `tel:` link dials: the digits, with a leading "+" kept.
    pub fn tel(shown: &str) -> String {
        let plus = shown.trim_start().starts_with('+');
        let digits: String = shown.chars().filter(|c| c.is_ascii_digit()).collect();
        if plus {
            format!("+{digits}")
        } else {
            digits
        }
    }
}

pub fn mask_phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() == 11 {
        format!("{}****{}", chars[..3].iter().collect::<String>(), chars[7..].iter().collect::<String>())
    } else {
        let keep = chars.len().saturating_sub(2);
        chars.iter().enumerate().map(|(i, c)| if i < keep { '*' } else { *c }).collect()
    }
}

impl std::fmt::Display for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl TryFrom<String> for Phone {
    type Error = crate::ErrorCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Phone::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

/// A six-digit one-time code as typed by the user.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

impl OtpCode {
    pub fn parse(input: &str) -> Result<OtpCode, crate::ErrorCode> {
        let t = input.trim();
        if t.len() == 6 && t.bytes().all(|c| c.is_ascii_digit()) {
            Ok(OtpCode(t.to_string()))
        } else {
            Err(crate::ErrorCode::InvalidCode)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtpCode(******)")
    }
}

#[cfg(test)]
mod contact_tests {
    use super::ContactNumber;

    #[test]
    fn contact_numbers_as_people_write_them() {
        assert_eq!(ContactNumber::parse(" 0571-8888 1234 ").unwrap().as_str(), "0571-8888 1234");
        assert!(ContactNumber::parse("12345").is_ok());
        assert!(ContactNumber::parse("(0571) 88881234").is_ok());
        assert!(ContactNumber::parse("12").is_err());
        assert!(ContactNumber::parse("call 110").is_err());
        assert!(ContactNumber::parse("").is_err());
        assert_eq!(ContactNumber::tel("0571-8888 1234"), "057188881234");
        assert_eq!(ContactNumber::tel("+86 571 8888 1234"), "+8657188881234");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_spellings() {
        for s in ["13800138000", "138 0013 8000", "+86 138-0013-8000", "008613800138000"] {
            assert_eq!(Phone::parse(s).unwrap().as_str(), "13800138000", "{s}");
        }
    }

    #[test]
    fn rejects_bad_numbers() {
        for s in ["", "1380013800", "138001380001", "12800138000", "23800138000", "1380013800a"] {
            assert!(Phone::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn masks_by_default() {
        let p = Phone::parse("13800138000").unwrap();
        assert_eq!(p.to_string(), "138****8000");
        assert_eq!(format!("{p:?}"), "Phone(138****8000)");
        assert_eq!(mask_phone("12345"), "***45");
    }

    #[test]
    fn otp_is_six_digits() {
        assert!(OtpCode::parse(" 123456 ").is_ok());
        assert!(OtpCode::parse("12345").is_err());
        assert!(OtpCode::parse("12345a").is_err());
    }
}
