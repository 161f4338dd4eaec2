//! `Secret`: a value that can be used but never printed, logged or serialized.

use std::fmt;

/// An access token or app secret. `Debug` and `Display` print `<redacted>`; there is no
/// `Serialize`, so a secret cannot leak into JSON, the database or IPC by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for the one place that must send it (an HTTP header or an HMAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A masked form safe to show: the last four characters only.
    pub fn masked(&self) -> String {
        let tail: String = self
            .0
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("••••{tail}")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("fake-token-abcdef");
        assert_eq!(format!("{secret:?}"), "<redacted>", "Debug must redact");
        assert_eq!(format!("{secret}"), "<redacted>", "Display must redact");
        let nested = format!("{:?}", Some(vec![secret.clone()]));
        assert!(
            !nested.contains("abcdef"),
            "redaction must hold inside containers: {nested}"
        );
        assert_eq!(
            secret.masked(),
            "••••cdef",
            "masked shows only the last four characters"
        );
    }
}
