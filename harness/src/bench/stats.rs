//! A figure's spread over its runs: min, median, p95, max (nearest rank), and the ratio of two
//! medians.

use serde::Serialize;

/// The spread of one series of samples (milliseconds or any other unit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub(crate) struct Spread {
    pub n: usize,
    pub min: f64,
    pub median: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Spread {
    pub(crate) fn of(samples: &[f64]) -> Self {
        let mut sorted: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let Some((&min, &max)) = sorted.first().zip(sorted.last()) else {
            return Spread::default();
        };
        let median = if sorted.len() % 2 == 1 {
            sorted[sorted.len() / 2]
        } else {
            (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / 2.0
        };
        Spread {
            n: sorted.len(),
            min,
            median,
            p50: rank(&sorted, 50.0),
            p95: rank(&sorted, 95.0),
            p99: rank(&sorted, 99.0),
            max,
        }
    }
}

/// Nearest-rank percentile of sorted samples.
fn rank(sorted: &[f64], percent: f64) -> f64 {
    let n = sorted.len();
    let index = ((percent / 100.0) * n as f64).ceil() as usize;
    sorted[index.clamp(1, n) - 1]
}

/// `aima / baseline` of two medians; `None` when the baseline is zero or missing.
pub(crate) fn ratio(aima: &Spread, baseline: &Spread) -> Option<f64> {
    (baseline.n > 0 && aima.n > 0 && baseline.median > 0.0).then(|| aima.median / baseline.median)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_samples() {
        let s = Spread::of(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((s.n, s.min, s.median, s.max), (5, 1.0, 3.0, 5.0));
        assert_eq!(s.p95, 5.0);
        let even = Spread::of(&[1.0, 2.0, 3.0, 10.0]);
        assert_eq!(even.median, 2.5);
        assert_eq!(even.p50, 2.0);
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Spread::of(&hundred);
        assert_eq!((s.p95, s.p99), (95.0, 99.0));
    }

    #[test]
    fn empty_series_and_zero_baselines_have_no_ratio() {
        assert_eq!(Spread::of(&[]).n, 0);
        let a = Spread::of(&[2.0]);
        assert_eq!(ratio(&a, &Spread::of(&[4.0])), Some(0.5));
        assert_eq!(ratio(&a, &Spread::of(&[])), None);
        assert_eq!(ratio(&a, &Spread::of(&[0.0])), None);
    }
}
