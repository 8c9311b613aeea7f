//! Finite-difference checks of directional derivatives, robust to kinks.
//!
//! Networks of ReLU and max pooling are piecewise smooth: along a line
//! F(t) = f(x + t·v) the slope jumps where an activation crosses zero or
//! two candidates of a max swap. A central difference (F(ε) − F(−ε)) / 2ε
//! whose interval contains such a kink mixes the two slopes, however exact
//! the gradient at t = 0 is. The kink lies on one side of t = 0, so the
//! one-sided difference on the *other* side still measures the slope at 0.
//!
//! [`directional`] therefore accepts an analytic derivative when the
//! central, forward or backward difference agrees with it at one of
//! [`STEPS`] (several steps: a large one may cross a kink, a small one loses
//! digits to f32 rounding). It cannot be satisfied by a wrong derivative:
//! on both sides of t = 0 the one-sided slopes equal the true derivative
//! (up to O(ε) curvature), so a derivative that is off matches none of
//! the nine differences. The unit tests below check both directions.

/// Step sizes along the direction, largest first.
pub const STEPS: [f64; 3] = [1e-3, 3e-4, 1e-4];

/// The differences measured by [`directional`], for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Differences {
    /// Central differences at each of [`STEPS`].
    pub central: [f64; 3],
    /// Forward differences (F(ε) − F(0)) / ε.
    pub forward: [f64; 3],
    /// Backward differences (F(0) − F(−ε)) / ε.
    pub backward: [f64; 3],
}

impl std::fmt::Display for Differences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "central {:?}, forward {:?}, backward {:?} at steps {:?}",
            self.central, self.forward, self.backward, STEPS
        )
    }
}

/// Checks an analytic directional derivative `an` = dF/dt at t = 0 against
/// finite differences of `line` (t ↦ F(t)), with tolerance
/// `abs + rel · max(|an|, |difference|)`.
///
/// # Errors
/// The differences, when none agrees.
pub fn directional(
    an: f64,
    mut line: impl FnMut(f64) -> f64,
    abs: f64,
    rel: f64,
) -> Result<(), Differences> {
    let f0 = line(0.0);
    let mut d = Differences { central: [0.0; 3], forward: [0.0; 3], backward: [0.0; 3] };
    for (i, &e) in STEPS.iter().enumerate() {
        let (p, m) = (line(e), line(-e));
        d.central[i] = (p - m) / (2.0 * e);
        d.forward[i] = (p - f0) / e;
        d.backward[i] = (f0 - m) / e;
    }
    let close = |x: f64| (x - an).abs() <= abs + rel * an.abs().max(x.abs());
    let all = d.central.iter().chain(&d.forward).chain(&d.backward);
    if all.copied().any(close) { Ok(()) } else { Err(d) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ReLU-like kink at t = k: slope 0.3 before it, 0.3 + 2 after it.
    fn kinked(k: f64) -> impl Fn(f64) -> f64 {
        move |t| 0.3 * t + 2.0 * (t - k).max(0.0) + 1.0
    }

    #[test]
    fn smooth_functions_pass_and_wrong_slopes_fail() {
        let f = |t: f64| (1.0 + t).sin();
        let slope = 1f64.cos();
        assert!(directional(slope, f, 2e-3, 1e-2).is_ok());
        assert!(directional(slope * 1.05, f, 2e-3, 1e-2).is_err());
        assert!(directional(-slope, f, 2e-3, 1e-2).is_err());
    }

    #[test]
    fn a_kink_closer_than_every_step_is_tolerated() {
        // Every central difference straddles the kink at 5e-5 and is off
        // (0.3 + 2·(ε − 5e-5)/2ε); the backward differences measure 0.3.
        let f = kinked(5e-5);
        let d = directional(0.3, &f, 2e-3, 1e-2);
        assert!(d.is_ok());
        let cent = (f(1e-4) - f(-1e-4)) / 2e-4;
        assert!((cent - 0.3).abs() > 0.4, "{cent}");
        // On the other side of the kink the same holds with forward ones.
        let mirrored = |t: f64| kinked(5e-5)(-t) + 0.6 * t;
        assert!(directional(0.3, mirrored, 2e-3, 1e-2).is_ok());
        // The slope past the kink is not the derivative at 0, nor is a
        // slope in between.
        assert!(directional(2.3, &f, 2e-3, 1e-2).is_err());
        assert!(directional(0.6, &f, 2e-3, 1e-2).is_err());
    }
}
