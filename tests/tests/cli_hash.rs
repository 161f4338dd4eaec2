//! `meta-monitor hash`: the hash (or `--normalized` value) of one customer-information value,
//! exit 2 with the field and reason for an invalid one.

use meta_monitor_e2e::{describe, run_cli};

fn hash(args: &[&str]) -> (Option<i32>, String, String) {
    let mut full = vec!["hash"];
    full.extend_from_slice(args);
    let out = run_cli(&[], &full, None);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    )
}

#[test]
fn hashes_normalized_values_and_refuses_invalid_ones_with_the_reason() {
    // Meta's documented example digests.
    let (code, out, _) = hash(&["em", "  John_Smith@Gmail.com "]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
    );
    let (_, out, _) = hash(&["ph", "+1 (650) 555-1212"]);
    assert_eq!(
        out,
        "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
    );
    for (field, input, normalized) in [
        ("ln", "O'Brien", "obrien"),
        ("db", "May 17, 1990", "19900517"),
        ("st", "New York", "ny"),
        ("zp", "94025-1234", "94025"),
        ("ge", "Female", "f"),
        ("ct", "São Paulo", "sãopaulo"),
    ] {
        let (code, out, err) = hash(&["--normalized", field, input]);
        assert_eq!(
            (code, out.as_str()),
            (Some(0), normalized),
            "{field} {input}: {err}"
        );
    }

    // Already hashed: passed through, and said so.
    let digest = "E323EC626319CA94EE8BFF2E4C87CF613BE6EA19919ED1364124E16807AB3176";
    let (code, out, err) = hash(&["ph", digest]);
    assert_eq!((code, out), (Some(0), digest.to_lowercase()));
    assert!(err.contains("not hashed again"), "{err}");

    let (code, out, err) = hash(&["country", "Germany"]);
    assert_eq!(code, Some(2), "invalid input is a usage error");
    assert!(out.is_empty(), "nothing printed to stdout: {out}");
    assert!(
        err.contains("country:") && err.contains("ISO 3166-1"),
        "{err}"
    );
    let out = run_cli(&[], &["hash", "phone", "1"], None);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one of: em, ph"));
}
