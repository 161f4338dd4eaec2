//! One scrubber for text that came from a server (Meta's error messages, quoted bodies, an
//! endpoint's answer) before it is stored, shown, logged or sent: Meta echoes a malformed
//! token verbatim in its 190 error ("Malformed access token EAAB…"), `paging.next` links carry
//! `access_token=`, and an operator's endpoint may echo anything it was sent.
//!
//! In the order the reference gives: the account's known secret values first, then anything
//! shaped like a Meta token (`EA…`/`IGAA…`, 20+ token characters, or an app token `id|secret`),
//! then the values of secret-bearing query parameters. Written by hand (a few dozen lines) so
//! the core needs no regex engine for three fixed shapes.

/// What a secret becomes.
pub const REDACTED: &str = "[redacted]";

/// Known values shorter than this are not searched for: a one-letter "secret" would turn every
/// message into confetti, and nothing Meta issues is that short.
const MIN_KNOWN: usize = 8;

/// Token-shaped runs at least this long are redacted. Meta's tokens are far longer; a
/// truncated paste (the first 20 characters and "...") is still mostly secret.
const MIN_TOKEN_RUN: usize = 20;

/// Query parameters whose values are secrets wherever they appear.
const SECRET_PARAMETERS: [&str; 6] = [
    "access_token=",
    "client_secret=",
    "appsecret_proof=",
    "input_token=",
    "fb_exchange_token=",
    "hub.verify_token=",
];

/// Scrubs text with an account's known secret values (token, app secret, verify token, team
/// webhook URL) and the shapes of any other.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a value containing another is replaced whole.
    known: Vec<String>,
}

impl Redactor {
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut known: Vec<String> = values
            .into_iter()
            .map(str::trim)
            .filter(|v| v.len() >= MIN_KNOWN)
            .map(str::to_owned)
            .collect();
        known.sort_by_key(|v| std::cmp::Reverse(v.len()));
        known.dedup();
        Self { known }
    }

    /// `text` with every known value and every secret-shaped run replaced by `[redacted]`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for value in &self.known {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), REDACTED);
            }
        }
        scrub_shapes(&out)
    }
}

/// `text` with token-shaped runs and secret query values replaced (no known values needed).
pub fn scrub_shapes(text: &str) -> String {
    parameters(&token_runs(text))
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Replaces maximal alphanumeric runs that look like Meta tokens: `EA…` or `IGAA…` of at least
/// [`MIN_TOKEN_RUN`] characters, and the secret half of an app token `<digits>|<secret>`.
fn token_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_token_char) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let end = from.find(|c| !is_token_char(c)).unwrap_or(from.len());
        let (run, after) = from.split_at(end);
        let tokenish =
            (run.starts_with("EA") || run.starts_with("IGAA")) && run.len() >= MIN_TOKEN_RUN;
        let app_token_secret = out.ends_with('|')
            && run.len() >= MIN_TOKEN_RUN
            && out[..out.len() - 1]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_digit());
        out.push_str(if tokenish || app_token_secret {
            REDACTED
        } else {
            run
        });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Replaces the value of every secret-bearing query parameter, up to the next `&`, quote,
/// whitespace or bracket.
fn parameters(text: &str) -> String {
    let mut out = text.to_owned();
    for name in SECRET_PARAMETERS {
        let mut from = 0;
        while let Some(found) = out[from..].find(name) {
            let value_start = from + found + name.len();
            let value_len = out[value_start..]
                .find(|c: char| {
                    c == '&' || c == '"' || c == '\'' || c.is_whitespace() || "<>)]}".contains(c)
                })
                .unwrap_or(out.len() - value_start);
            let value = &out[value_start..value_start + value_len];
            if value.is_empty() || value == REDACTED {
                from = value_start;
                continue;
            }
            out.replace_range(value_start..value_start + value_len, REDACTED);
            from = value_start + REDACTED.len();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Obviously fake, and assembled so no token-shaped literal sits in the source.
    const TOKEN: &str = concat!("EA", "AfakeTestToken", "0000ZZZZ0000ZZZZ");

    #[test]
    fn metas_echoed_token_and_its_relatives_are_redacted() {
        let r = Redactor::new([TOKEN, "0123456789abcdef0123456789abcdef", "short"]);
        let cases = [
            (
                format!("Malformed access token {TOKEN}"),
                "Malformed access token [redacted]",
            ),
            (
                concat!("Malformed access token EA", "AfakeTestToken0000Z...ZDZD").to_owned(),
                "Malformed access token [redacted]...ZDZD",
            ),
            (
                "next: https://graph.facebook.com/v25.0/1/x?access_token=abc%7Cdef&after=QVFI"
                    .to_owned(),
                "next: https://graph.facebook.com/v25.0/1/x?access_token=[redacted]&after=QVFI",
            ),
            (
                "app token 1234567890|0123456789abcdef0123456789abcdef used".to_owned(),
                "app token 1234567890|[redacted] used",
            ),
            (
                "app token 1234567890|ffffeeeeddddccccbbbbaaaa99998888 (unknown)".to_owned(),
                "app token 1234567890|[redacted] (unknown)",
            ),
            (
                concat!("IGAA", "fakeInstagramToken0000ZZ", " from Instagram").to_owned(),
                "[redacted] from Instagram",
            ),
            // Ordinary words and ids stay readable; a short "secret" is not searched for.
            (
                "(#100) EASYPOST shipping for act_1234567890123456 failed: short".to_owned(),
                "(#100) EASYPOST shipping for act_1234567890123456 failed: short",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(r.scrub(&input), want, "{input}");
        }
    }

    #[test]
    fn a_known_value_is_replaced_whole_even_inside_a_longer_text() {
        let hook = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX";
        let r = Redactor::new([hook, "XXXXXXXXXXXXXXXX"]);
        assert_eq!(
            r.scrub(&format!("POST {hook}: 404")),
            "POST [redacted]: 404"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Whatever surrounds it, a known secret never survives, and scrubbing never panics.
        #[test]
        fn a_known_secret_never_survives(
            before in "\\PC{0,40}",
            after in "\\PC{0,40}",
            secret in "[A-Za-z0-9|_-]{8,64}",
        ) {
            let r = Redactor::new([secret.as_str()]);
            let text = format!("{before}{secret}{after}");
            let out = r.scrub(&text);
            prop_assert!(!out.contains(&secret), "{out:?}");
        }

        /// Any Meta-shaped token in any text is gone afterwards; text without one is unchanged.
        #[test]
        fn token_shapes_never_survive(
            before in "[ -~]{0,30}",
            body in "[A-Za-z0-9]{18,80}",
            after in "[ -~]{0,30}",
        ) {
            let token = format!("EA{body}");
            let text = format!("{before} {token} {after}");
            let out = scrub_shapes(&text);
            prop_assert!(!out.contains(&token), "{out:?}");
        }

        #[test]
        fn scrubbing_arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let r = Redactor::new([concat!("EA", "Afaketoken1234567890")]);
            let out = r.scrub(&text);
            prop_assert!(!out.contains(concat!("EA", "Afaketoken1234567890")));
        }
    }
}
