//! The verification code printed on every document: twelve random
//! characters (60 bits) and a check character, in Crockford's base 32, shown
//! as `XXXX-XXXX-XXXX-C`.
//!
//! Rules: people type it, so reading forgives what people do — lower case,
//! spaces and hyphens anywhere, `O` for `0`, `I` and `L` for `1` — and the
//! check character (Luhn mod 32) catches every single mistyped character and
//! every swap of two neighbours but `0`↔`Z` before anything is looked up. What is stored
//! and compared is the 13 characters without hyphens.

use std::fmt;

/// Crockford's base-32 alphabet: no I, L, O or U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random characters before the check character.
const DATA_CHARS: usize = 12;

/// A well-formed verification code (its check character holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerificationCode([u8; DATA_CHARS + 1]);

/// Why typed text is not a verification code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("a verification code has 13 characters")]
    Length,
    #[error("a verification code has only digits and letters other than U")]
    Character,
    #[error("the check character does not match")]
    Check,
}

fn value(c: u8) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        b'O' => b'0',
        b'I' | b'L' => b'1',
        c => c,
    };
    ALPHABET.iter().position(|&a| a == c).map(|v| v as u32)
}

/// Luhn mod 32 over the data characters' values: the character that makes
/// the whole code's sum a multiple of 32.
fn check_value(data: &[u32]) -> u32 {
    let mut sum = 0;
    // From the right, doubling every other value starting with the last.
    for (i, &v) in data.iter().rev().enumerate() {
        let addend = if i % 2 == 0 {
            let d = v * 2;
            d / 32 + d % 32
        } else {
            v
        };
        sum += addend;
    }
    (32 - sum % 32) % 32
}

impl VerificationCode {
    /// A new code from the operating system's random source.
    pub fn random() -> VerificationCode {
        let bytes: [u8; 8] = crate::gateway::random_bytes();
        let bits = u64::from_be_bytes(bytes);
        let data: Vec<u32> = (0..DATA_CHARS)
            .map(|i| ((bits >> (5 * i)) & 31) as u32)
            .collect();
        let mut out = [0u8; DATA_CHARS + 1];
        for (o, &v) in out.iter_mut().zip(&data) {
            *o = ALPHABET[v as usize];
        }
        out[DATA_CHARS] = ALPHABET[check_value(&data) as usize];
        VerificationCode(out)
    }

    /// Reads a code as a person typed it (see the module rules).
    pub fn parse(typed: &str) -> Result<VerificationCode, CodeError> {
        let mut values = Vec::with_capacity(DATA_CHARS + 1);
        for c in typed.bytes() {
            if matches!(c, b'-' | b' ') {
                continue;
            }
            if values.len() > DATA_CHARS {
                return Err(CodeError::Length);
            }
            values.push(value(c).ok_or(CodeError::Character)?);
        }
        if values.len() != DATA_CHARS + 1 {
            return Err(CodeError::Length);
        }
        let (data, check) = values.split_at(DATA_CHARS);
        if check_value(data) != check[0] {
            return Err(CodeError::Check);
        }
        let mut out = [0u8; DATA_CHARS + 1];
        for (o, &v) in out.iter_mut().zip(&values) {
            *o = ALPHABET[v as usize];
        }
        Ok(VerificationCode(out))
    }

    /// The 13 characters without hyphens: what the database stores.
    pub fn compact(&self) -> &str {
        std::str::from_utf8(&self.0).expect("alphabet is ASCII")
    }
}

/// As printed: `XXXX-XXXX-XXXX-C`.
impl fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.compact();
        write!(f, "{}-{}-{}-{}", &s[0..4], &s[4..8], &s[8..12], &s[12..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_random_code_reads_back_printed_compact_or_carelessly_typed() {
        for _ in 0..200 {
            let code = VerificationCode::random();
            let printed = code.to_string();
            assert_eq!(printed.len(), 16);
            assert_eq!(VerificationCode::parse(&printed), Ok(code));
            assert_eq!(VerificationCode::parse(code.compact()), Ok(code));
            let careless = printed.to_ascii_lowercase().replace('-', " ");
            assert_eq!(VerificationCode::parse(&careless), Ok(code));
            let confusable = printed.replace('0', "o").replace('1', "l");
            assert_eq!(VerificationCode::parse(&confusable), Ok(code));
        }
    }

    #[test]
    fn every_single_mistyped_character_and_neighbour_swap_is_caught() {
        let mut caught = 0;
        for _ in 0..50 {
            let code = VerificationCode::random();
            let s = code.compact().as_bytes().to_vec();
            for i in 0..s.len() {
                for &c in ALPHABET {
                    if c == s[i] {
                        continue;
                    }
                    let mut typo = s.clone();
                    typo[i] = c;
                    let typo = String::from_utf8(typo).unwrap();
                    assert_eq!(
                        VerificationCode::parse(&typo),
                        Err(CodeError::Check),
                        "{typo}"
                    );
                    caught += 1;
                }
                if i + 1 < s.len()
                    && s[i] != s[i + 1]
                    && !matches!((s[i], s[i + 1]), (b'0', b'Z') | (b'Z', b'0'))
                {
                    let mut swapped = s.clone();
                    swapped.swap(i, i + 1);
                    let swapped = String::from_utf8(swapped).unwrap();
                    assert_eq!(
                        VerificationCode::parse(&swapped),
                        Err(CodeError::Check),
                        "{swapped}"
                    );
                }
            }
        }
        assert!(caught > 10_000);
    }

    #[test]
    fn wrong_lengths_and_characters_are_refused() {
        let code = VerificationCode::random().to_string();
        assert_eq!(VerificationCode::parse(""), Err(CodeError::Length));
        assert_eq!(VerificationCode::parse(&code[..15]), Err(CodeError::Length));
        assert_eq!(
            VerificationCode::parse(&format!("{code}0")),
            Err(CodeError::Length)
        );
        assert_eq!(
            VerificationCode::parse("UUUU-UUUU-UUUU-U"),
            Err(CodeError::Character)
        );
        assert_eq!(
            VerificationCode::parse("ABCD-EFGH-JKMN-+"),
            Err(CodeError::Character)
        );
        assert_eq!(
            VerificationCode::parse("検証コード"),
            Err(CodeError::Character)
        );
    }
}
