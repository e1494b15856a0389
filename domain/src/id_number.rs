//! 居民身份证号码 (GB 11643-1999): 18 characters, six of address code, eight
//! of birth date, three of sequence, one check character (ISO 7064 MOD 11-2,
//! `X` for 10). Personal data: kept encrypted, shown masked.

/// A citizen ID number whose birth date is a real date and whose check
/// character is right. `Display` and `Debug` show it masked
/// (`310***********123X`); only `as_str` gives the whole number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

impl IdNumber {
    /// Accepts spaces as people type them and a lower-case `x`.
    pub fn parse(input: &str) -> Result<IdNumber, crate::ErrorCode> {
        let s: String =
            input.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{3000}')).map(|c| c.to_ascii_uppercase()).collect();
        let b = s.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(crate::ErrorCode::InvalidIdNumber);
        }
        let digit = |i: usize| u32::from(b[i] - b'0');
        let num = |from: usize, to: usize| (from..to).fold(0u32, |n, i| n * 10 + digit(i));
        let (year, month, day) = (num(6, 10), num(10, 12), num(12, 14));
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
            2 => 28,
            _ => 0,
        };
        if !(1900..=2100).contains(&year) || day == 0 || day > days_in_month {
            return Err(crate::ErrorCode::InvalidIdNumber);
        }
        let sum: u32 = WEIGHTS.iter().enumerate().map(|(i, w)| w * digit(i)).sum();
        if CHECK[(sum % 11) as usize] != b[17] {
            return Err(crate::ErrorCode::InvalidIdNumber);
        }
        Ok(IdNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `310***********123X`: the province and city, and the last four.
    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }
}

/// Masks all but the first three and the last four characters (all but the
/// last two of anything shorter than eight).
pub fn mask_id_number(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if (n >= 8 && (i < 3 || i >= n - 4)) || (n < 8 && i + 2 >= n) { *c } else { '*' })
        .collect()
}

impl std::fmt::Display for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn accepts_valid_numbers_and_masks_them() {
        // GB 11643's own example
        let n = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(n.as_str(), "11010519491231002X");
        assert_eq!(n.masked(), "110***********002X");
        assert_eq!(format!("{n}"), "110***********002X");
        assert_eq!(format!("{n:?}"), "IdNumber(110***********002X)");
        assert_eq!(IdNumber::parse("110105 19491231 002x").unwrap().as_str(), "11010519491231002X");
        assert!(IdNumber::parse("440524188001010014").is_err(), "1880 is before 1900");
        assert_eq!(IdNumber::parse("310101200002290015").map(|n| n.masked().len()), Ok(18), "2000-02-29 exists");
    }

    #[test]
    fn refuses_wrong_check_digits_dates_and_shapes() {
        for bad in [
            "",
            "11010519491231002",
            "110105194912310021",
            "11010519491231002Y",
            "1101051949123100XX",
            "110105194913310021",
            "310101190002290019",
            "３１０１０１２０００",
            "11010519491231002X1",
        ] {
            assert_eq!(IdNumber::parse(bad), Err(ErrorCode::InvalidIdNumber), "{bad}");
        }
    }

    #[test]
    fn masking_anything() {
        assert_eq!(mask_id_number("1234567"), "*****67");
        assert_eq!(mask_id_number("12345678"), "123*5678");
        assert_eq!(mask_id_number(""), "");
    }
}
