//! The portal's password policy (パスワードの設定ルール) and the shapes of the passwords the federation issues.

use careplan_core::ErrorCode;
use rand::Rng;

/// Symbols a password may contain besides letters and digits.
pub const ALLOWED_SYMBOLS: &str = "!#$%&()*+-./;:<=>?@[]^_`{|}~";

/// One broken rule of the password policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PasswordViolation {
    /// Fewer than 8 characters.
    TooShort,
    /// More than 16 characters.
    TooLong,
    /// A character outside letters, digits and [`ALLOWED_SYMBOLS`].
    CharacterNotAllowed,
    /// No letter.
    NeedsLetter,
    /// No digit.
    NeedsDigit,
    /// Equal to the user ID.
    EqualsUserId,
}

impl PasswordViolation {
    /// The stable code of this violation.
    pub fn code(self) -> ErrorCode {
        match self {
            PasswordViolation::TooShort => ErrorCode::PasswordTooShort,
            PasswordViolation::TooLong => ErrorCode::PasswordTooLong,
            PasswordViolation::CharacterNotAllowed => ErrorCode::PasswordCharacterNotAllowed,
            PasswordViolation::NeedsLetter => ErrorCode::PasswordNeedsLetter,
            PasswordViolation::NeedsDigit => ErrorCode::PasswordNeedsDigit,
            PasswordViolation::EqualsUserId => ErrorCode::PasswordEqualsUserId,
        }
    }
}

/// Every rule `candidate` breaks for the account `user_id`, in policy order; empty when it is acceptable.
///
/// The policy: 8–16 characters from ASCII letters, digits and [`ALLOWED_SYMBOLS`]; at least one letter
/// and one digit; not the user ID. Letters are case-sensitive.
pub fn check_policy(user_id: &str, candidate: &str) -> Vec<PasswordViolation> {
    let mut violations = Vec::new();
    let length = candidate.chars().count();
    if length < 8 {
        violations.push(PasswordViolation::TooShort);
    }
    if length > 16 {
        violations.push(PasswordViolation::TooLong);
    }
    if !candidate
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ALLOWED_SYMBOLS.contains(c))
    {
        violations.push(PasswordViolation::CharacterNotAllowed);
    }
    if !candidate.chars().any(|c| c.is_ascii_alphabetic()) {
        violations.push(PasswordViolation::NeedsLetter);
    }
    if !candidate.chars().any(|c| c.is_ascii_digit()) {
        violations.push(PasswordViolation::NeedsDigit);
    }
    if candidate == user_id {
        violations.push(PasswordViolation::EqualsUserId);
    }
    violations
}

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";

fn pick(rng: &mut impl Rng, alphabet: &[u8]) -> char {
    char::from(alphabet[rng.random_range(0..alphabet.len())])
}

/// A temporary password in the shape of the federation's notice: 16 characters, upper, lower, four upper,
/// lower, nine digits (`UlUUUUlddddddddd`). Ambiguous letters (I, O, l, o) are left out.
pub(crate) fn temporary_password(rng: &mut impl Rng) -> String {
    let mut password = String::with_capacity(16);
    for class in "UlUUUUl".chars() {
        password.push(pick(rng, if class == 'U' { UPPER } else { LOWER }));
    }
    for _ in 0..9 {
        password.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    password
}

/// A certificate-issuance password (証明書発行用パスワード): 12 upper-case letters and digits (the real shape
/// is not public; assumed).
pub(crate) fn issuance_password(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..12).map(|_| pick(rng, ALPHABET)).collect()
}

/// A 4-digit confirmation code (確認コード).
pub(crate) fn confirmation_code(rng: &mut impl Rng) -> String {
    format!("{:04}", rng.random_range(0..10_000u16))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    const ID: &str = "KJ131310000001";

    #[test]
    fn each_rule_has_its_own_violation() {
        use PasswordViolation::*;
        assert_eq!(check_policy(ID, "abc12345"), []);
        assert_eq!(check_policy(ID, "Ab1!#$%&()*+-./;"), []);
        assert_eq!(check_policy(ID, "abc1234"), [TooShort]);
        assert_eq!(check_policy(ID, "abcdefgh123456789"), [TooLong]);
        assert_eq!(check_policy(ID, "abc 12345"), [CharacterNotAllowed]);
        assert_eq!(check_policy(ID, "abc12345あ"), [CharacterNotAllowed]);
        assert_eq!(check_policy(ID, "abc1234\""), [CharacterNotAllowed]);
        assert_eq!(check_policy(ID, "12345678"), [NeedsLetter]);
        assert_eq!(check_policy(ID, "abcdefgh"), [NeedsDigit]);
        assert_eq!(check_policy(ID, ID), [EqualsUserId]);
        assert_eq!(check_policy(ID, "!!!"), [TooShort, NeedsLetter, NeedsDigit]);
        assert_eq!(check_policy(ID, ""), [TooShort, NeedsLetter, NeedsDigit]);
    }

    #[test]
    fn issued_passwords_have_the_notice_shape_and_pass_the_policy() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..100 {
            let password = temporary_password(&mut rng);
            let classes: String = password
                .chars()
                .map(|c| match c {
                    'A'..='Z' => 'U',
                    'a'..='z' => 'l',
                    _ => 'd',
                })
                .collect();
            assert_eq!(classes, "UlUUUUlddddddddd");
            assert_eq!(check_policy(ID, &password), []);
            assert_eq!(confirmation_code(&mut rng).len(), 4);
            assert_eq!(issuance_password(&mut rng).len(), 12);
        }
    }

    proptest! {
        #[test]
        fn the_policy_never_panics_and_names_each_rule_once(candidate in "\\PC{0,20}") {
            let violations = check_policy(ID, &candidate);
            prop_assert!(violations.windows(2).all(|w| w[0] < w[1]));
            prop_assert_eq!(violations.contains(&PasswordViolation::TooLong), candidate.chars().count() > 16);
        }
    }
}
