//! Unix permission strings such as `"0644"`: validation, parsing and formatting.

/// Why a permission string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PermissionError {
    #[error("it has {0} characters, but a permission has 3 or 4 octal digits")]
    WrongLength(usize),
    #[error("'{0}' is not an octal digit (0-7)")]
    NotOctal(char),
}

/// Parses 3 or 4 octal digits (`"644"`, `"0644"`, `"1777"`) into mode bits.
pub(crate) fn parse(text: &str) -> Result<u32, PermissionError> {
    let length = text.chars().count();
    if !(3..=4).contains(&length) {
        return Err(PermissionError::WrongLength(length));
    }
    text.chars().try_fold(0u32, |mode, c| match c.to_digit(8) {
        Some(digit) => Ok(mode * 8 + digit),
        None => Err(PermissionError::NotOctal(c)),
    })
}

/// Formats mode bits the way `ls`-literate users write them: four octal digits.
pub(crate) fn format(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_three_and_four_digits() {
        assert_eq!(parse("644"), Ok(0o644));
        assert_eq!(parse("0600"), Ok(0o600));
        assert_eq!(parse("1777"), Ok(0o1777));
    }

    #[test]
    fn rejects_non_octal_and_wrong_lengths() {
        assert_eq!(parse("0648"), Err(PermissionError::NotOctal('8')));
        assert_eq!(parse("rw-"), Err(PermissionError::NotOctal('r')));
        assert_eq!(parse("64"), Err(PermissionError::WrongLength(2)));
        assert_eq!(parse("00644"), Err(PermissionError::WrongLength(5)));
        assert_eq!(parse(""), Err(PermissionError::WrongLength(0)));
    }

    #[test]
    fn formats_four_digits() {
        assert_eq!(format(0o644), "0644");
        assert_eq!(format(0o100_644), "0644");
        assert_eq!(format(0o1777), "1777");
    }
}
