//! Mergeable quantile sketches (DDSketch with 1 % relative accuracy). Rollups store one per
//! bucket, so p50/p95/p99 over any window come from merged sketches — never from averaged
//! percentiles.

use sketches_ddsketch::{Config, DDSketch};

/// Every quantile is within this relative error of the true value.
pub const RELATIVE_ACCURACY: f64 = 0.01;

#[derive(Clone)]
pub struct Sketch(DDSketch);

impl Default for Sketch {
    fn default() -> Self {
        Self(DDSketch::new(Config::defaults()))
    }
}

impl std::fmt::Debug for Sketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sketch(count {})", self.count())
    }
}

impl Sketch {
    pub fn add(&mut self, value: f64) {
        if value.is_finite() {
            self.0.add(value);
        }
    }

    /// Merges `other` in; both use the same configuration, so this cannot fail in practice.
    pub fn merge(&mut self, other: &Sketch) -> Result<(), String> {
        self.0
            .merge(&other.0)
            .map_err(|e| format!("cannot merge sketches: {e}"))
    }

    /// DataDog's portable binary encoding.
    pub fn encode(&self) -> Vec<u8> {
        self.0.to_java_bytes()
    }

    /// Reads a stored sketch; a damaged blob is an error, never a crash.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        // The library trusts the counts it decodes and overflows (a panic in debug builds)
        // on crafted ones, found by the property tests; a damaged database must not take the
        // app down, so such a panic becomes this error.
        std::panic::catch_unwind(|| {
            let decoded =
                DDSketch::from_java_bytes(bytes).map_err(|e| format!("corrupt sketch: {e}"))?;
            // Re-home the decoded bins into a sketch with our exact configuration, so merges
            // never fail on floating-point differences in the decoded mapping.
            let mut out = Sketch::default();
            match out.0.merge(&decoded) {
                Ok(()) => Ok(out),
                Err(_) => Ok(Self(decoded)),
            }
        })
        .unwrap_or_else(|_| Err("corrupt sketch: impossible counts".to_owned()))
    }

    pub fn count(&self) -> usize {
        self.0.count()
    }

    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.0.quantile(q).ok().flatten()
    }

    pub fn sum(&self) -> Option<f64> {
        self.0.sum()
    }

    pub fn min(&self) -> Option<f64> {
        self.0.min()
    }

    pub fn max(&self) -> Option<f64> {
        self.0.max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_sketches_merge_and_keep_their_accuracy() {
        let mut exact: Vec<f64> = Vec::new();
        let mut merged = Sketch::default();
        for part in 0..24u32 {
            let mut s = Sketch::default();
            for i in 0..500u32 {
                let v = f64::from((i * 7919 + part * 104_729) % 2000) + 20.0;
                s.add(v);
                exact.push(v);
            }
            let round_trip = Sketch::decode(&s.encode()).expect("decodes");
            merged.merge(&round_trip).expect("merges");
        }
        exact.sort_by(f64::total_cmp);
        for q in [0.5, 0.95, 0.99] {
            let truth = exact[(q * (exact.len() - 1) as f64) as usize];
            let got = merged.quantile(q).expect("quantile");
            assert!(
                (got - truth).abs() <= truth * RELATIVE_ACCURACY + 1e-9,
                "q{q}: {got} vs {truth}"
            );
        }
        assert_eq!(merged.count(), exact.len());
        assert!(
            Sketch::decode(b"garbage").is_err(),
            "corrupt bytes are an error, not a panic"
        );
    }
}
