//! Per-base attribution methods as plugins of kind `attributor`.
//!
//! Each sees the model only through
//! [`AttributionModel`](motif_core::plugin::AttributionModel) (predictions,
//! gradients and DeepLIFT multipliers, which the workflow runs on an
//! engine) and returns hypothetical contributions `(n, 4, len)`; the
//! projected contributions are those times the one-hot input.
//!
//! * [`DeepLiftShap`] (`deeplift-shap`): DeepLIFT's Rescale rule averaged
//!   over `n-shuffles` dinucleotide shuffles of each sequence
//!   ([`shuffle::reference`]), with each pair's convergence delta;
//!   hypothetical `h[c, l] = m[c, l] − Σ_c' r[c', l]·m[c', l]` averaged over
//!   references (tangermeme's `hypothetical_attributions`).
//! * [`Ism`] (`ism`): every single substitution's effect on the target.
//! * [`Saliency`] (`saliency`): the input gradient, mean-corrected.
//! * [`IntegratedGradients`] (`integrated-gradients`): Captum's integrated
//!   gradients.
//!
//! The method descriptions are `specs/attribution.md` of the design notes.

mod deeplift_shap;
mod integrated_gradients;
mod ism;
mod saliency;
pub mod shuffle;

pub use deeplift_shap::{DeepLiftShap, DeepLiftShapConfig};
pub use integrated_gradients::{
    Baseline, IntegratedGradients, IntegratedGradientsConfig, Rule, gauss_legendre,
};
pub use ism::{Ism, IsmConfig};
pub use saliency::{Saliency, SaliencyConfig};

#[cfg(test)]
mod tests {
    //! Each method on models whose attributions are known in closed form.
    use motif_core::Result;
    use motif_core::plugin::{self, AttributeInput, AttributionModel, Attributor};
    use ndarray::{Array1, Array2, Array3, ArrayView3, Axis};

    /// f(x) = Σ W·x + b.
    struct Linear(Array2<f32>, f32);
    impl AttributionModel for Linear {
        fn predict(&self, x: ArrayView3<'_, f32>) -> Result<Array1<f32>> {
            Ok(x.outer_iter().map(|s| (&s * &self.0).sum() + self.1).collect())
        }
        fn gradient(&self, x: ArrayView3<'_, f32>) -> Result<(Array1<f32>, Array3<f32>)> {
            let n = x.len_of(Axis(0));
            let g = self.0.broadcast((n, 4, self.0.ncols())).unwrap().to_owned();
            Ok((self.predict(x)?, g))
        }
        fn multipliers(
            &self,
            x: ArrayView3<'_, f32>,
            r: ArrayView3<'_, f32>,
        ) -> Result<(Array1<f32>, Array1<f32>, Array3<f32>)> {
            let (_, g) = self.gradient(r)?;
            Ok((self.predict(x)?, self.predict(r)?, g))
        }
        fn batch(&self) -> usize {
            7
        }
    }

    /// f(x) = (Σ W·x)²: a smooth nonlinearity with a closed-form gradient
    /// (2·s·W) and exact DeepLIFT multipliers (the secant: `(s(x) + s(r))·W`).
    struct Square(Array2<f32>);
    impl Square {
        fn s(&self, x: ArrayView3<'_, f32>) -> Array1<f32> {
            x.outer_iter().map(|s| (&s * &self.0).sum()).collect()
        }
    }
    impl AttributionModel for Square {
        fn predict(&self, x: ArrayView3<'_, f32>) -> Result<Array1<f32>> {
            Ok(self.s(x).mapv(|v| v * v))
        }
        fn gradient(&self, x: ArrayView3<'_, f32>) -> Result<(Array1<f32>, Array3<f32>)> {
            let s = self.s(x);
            let mut g = Array3::zeros(x.raw_dim());
            for (i, mut gi) in g.outer_iter_mut().enumerate() {
                gi.assign(&(&self.0 * (2.0 * s[i])));
            }
            Ok((s.mapv(|v| v * v), g))
        }
        fn multipliers(
            &self,
            x: ArrayView3<'_, f32>,
            r: ArrayView3<'_, f32>,
        ) -> Result<(Array1<f32>, Array1<f32>, Array3<f32>)> {
            // Reference-major pairs: pair p is sequence p % s.
            let (sx, sr) = (self.s(x), self.s(r));
            let mut m = Array3::zeros(r.raw_dim());
            for (p, mut mp) in m.outer_iter_mut().enumerate() {
                mp.assign(&(&self.0 * (sx[p % sx.len()] + sr[p])));
            }
            Ok((sx.mapv(|v| v * v), sr.mapv(|v| v * v), m))
        }
        fn batch(&self) -> usize {
            5
        }
    }

    fn onehot(rng: &mut motif_core::rng::Rng, n: usize, len: usize) -> Array3<f32> {
        let mut x = Array3::zeros((n, 4, len));
        for i in 0..n {
            for l in 0..len {
                x[(i, rng.below(4), l)] = 1.0;
            }
        }
        x
    }

    fn weights(rng: &mut motif_core::rng::Rng, len: usize) -> Array2<f32> {
        Array2::from_shape_fn((4, len), |_| rng.f64() as f32 - 0.5)
    }

    fn build(name: &str, cfg: serde_json::Value) -> Box<dyn Attributor> {
        plugin::build::<dyn Attributor>(name, &cfg).unwrap()
    }

    /// DeepSHAP on a linear model: hypothetical = `W − Σ_c r·W` averaged,
    /// i.e. each position's W centred on the references' bases; the
    /// projected sum is f(x) − mean f(r); convergence deltas vanish.
    #[test]
    fn deeplift_shap_on_a_linear_model() {
        let mut rng = motif_core::rng::Rng::new(4);
        let (n, len) = (3, 30);
        let w = weights(&mut rng, len);
        let model = Linear(w.clone(), 0.3);
        let x = onehot(&mut rng, n, len);
        let a = build("deeplift-shap", serde_json::json!({"n-shuffles": 5}));
        let out =
            a.attribute(&AttributeInput { model: &model, x: x.view(), first: 0, seed: 1 }).unwrap();
        for i in 0..n {
            let refs: Vec<Array2<f32>> =
                (0..5).map(|k| crate::shuffle::reference(x.index_axis(Axis(0), i), 1, k)).collect();
            for l in 0..len {
                for c in 0..4 {
                    let want: f32 = refs
                        .iter()
                        .map(|r| w[(c, l)] - (0..4).map(|cc| r[(cc, l)] * w[(cc, l)]).sum::<f32>())
                        .sum::<f32>()
                        / 5.0;
                    assert!((out.hypothetical[(i, c, l)] - want).abs() < 1e-6);
                }
            }
            let proj: f32 =
                (&out.hypothetical.index_axis(Axis(0), i) * &x.index_axis(Axis(0), i)).sum();
            let fx = model.predict(x.slice(ndarray::s![i..=i, .., ..])).unwrap()[0];
            let fr: f32 = refs.iter().map(|r| (r * &w).sum() + 0.3).sum::<f32>() / 5.0;
            assert!((proj - (fx - fr)).abs() < 1e-5, "Σ projected {proj} vs Δf {}", fx - fr);
            let c = out.convergence.as_ref().unwrap()[i];
            assert!(c.max_delta < 1e-5, "{c:?}");
        }
    }

    /// Batching and chunking do not change DeepSHAP: the references depend
    /// on the seed and the sequence alone.
    #[test]
    fn deeplift_shap_does_not_depend_on_the_chunk() {
        let mut rng = motif_core::rng::Rng::new(5);
        let (n, len) = (4, 25);
        let model = Square(weights(&mut rng, len));
        let x = onehot(&mut rng, n, len);
        let a = build("deeplift-shap", serde_json::json!({"n-shuffles": 3}));
        let all =
            a.attribute(&AttributeInput { model: &model, x: x.view(), first: 0, seed: 9 }).unwrap();
        let last = a
            .attribute(&AttributeInput {
                model: &model,
                x: x.slice(ndarray::s![3..4, .., ..]),
                first: 3,
                seed: 9,
            })
            .unwrap();
        assert_eq!(
            all.hypothetical.index_axis(Axis(0), 3),
            last.hypothetical.index_axis(Axis(0), 0)
        );
        let other = a
            .attribute(&AttributeInput { model: &model, x: x.view(), first: 0, seed: 10 })
            .unwrap();
        assert_ne!(all.hypothetical, other.hypothetical);
    }

    /// ISM equals the predictions of each mutant; identities are 0 and
    /// centred columns sum to 0.
    #[test]
    fn ism_is_each_substitution() {
        let mut rng = motif_core::rng::Rng::new(6);
        let (n, len) = (2, 12);
        let model = Square(weights(&mut rng, len));
        let mut x = onehot(&mut rng, n, len);
        x.slice_mut(ndarray::s![1, .., 4]).fill(0.25); // an N
        let raw = build("ism", serde_json::json!({"center": false}));
        let out = raw
            .attribute(&AttributeInput { model: &model, x: x.view(), first: 0, seed: 0 })
            .unwrap();
        for i in 0..n {
            let f0 = model.predict(x.slice(ndarray::s![i..=i, .., ..])).unwrap()[0];
            for l in 0..len {
                for c in 0..4 {
                    let mut m = x.slice(ndarray::s![i..=i, .., ..]).to_owned();
                    m.slice_mut(ndarray::s![0, .., l]).fill(0.0);
                    m[(0, c, l)] = 1.0;
                    let want = model.predict(m.view()).unwrap()[0] - f0;
                    let got = out.hypothetical[(i, c, l)];
                    if x[(i, c, l)] == 1.0 {
                        assert_eq!(got, 0.0, "identity edit");
                    } else {
                        assert!((got - want).abs() < 1e-5, "[{i},{c},{l}] {got} vs {want}");
                    }
                }
            }
        }
        let centred = build("ism", serde_json::json!({}));
        let out = centred
            .attribute(&AttributeInput { model: &model, x: x.view(), first: 0, seed: 0 })
            .unwrap();
        for s in out.hypothetical.outer_iter() {
            for col in s.columns() {
                assert!(col.sum().abs() < 1e-5);
            }
        }
    }

    /// Saliency: the gradient, mean-corrected by default.
    #[test]
    fn saliency_is_the_corrected_gradient() {
        let mut rng = motif_core::rng::Rng::new(7);
        let (n, len) = (3, 10);
        let model = Square(weights(&mut rng, len));
        let x = onehot(&mut rng, n, len);
        let plain = build("saliency", serde_json::json!({"correct": false}));
        let g = plain
            .attribute(&AttributeInput { model: &model, x: x.view(), first: 0, seed: 0 })
            .unwrap();
        assert_eq!(g.hypothetical, model.gradient(x.view()).unwrap().1);
        let corr = build("saliency", serde_json::json!({}));
        let h = corr
            .attribute(&AttributeInput { model: &model, x: x.view(), first: 0, seed: 0 })
            .unwrap();
        for (gs, hs) in g.hypothetical.outer_iter().zip(h.hypothetical.outer_iter()) {
            for (gc, hc) in gs.columns().into_iter().zip(hs.columns()) {
                let mean = gc.sum() / 4.0;
                for c in 0..4 {
                    assert!((hc[c] - (gc[c] - mean)).abs() < 1e-6);
                }
            }
        }
    }

    /// Integrated gradients of (Σ W·x)² from zero: exact with Gauss–Legendre
    /// (the path integral of a linear gradient), so IG = x ⊙ W·s(x) and
    /// Σ IG = f(x) − f(0).
    #[test]
    fn integrated_gradients_are_complete() {
        let mut rng = motif_core::rng::Rng::new(8);
        let (n, len) = (2, 15);
        let w = weights(&mut rng, len);
        let model = Square(w.clone());
        let x = onehot(&mut rng, n, len);
        let ig = build("integrated-gradients", serde_json::json!({"steps": 4}));
        let out = ig
            .attribute(&AttributeInput { model: &model, x: x.view(), first: 0, seed: 0 })
            .unwrap();
        for i in 0..n {
            let s = model.s(x.slice(ndarray::s![i..=i, .., ..]))[0];
            for l in 0..len {
                for c in 0..4 {
                    assert!((out.hypothetical[(i, c, l)] - w[(c, l)] * s).abs() < 1e-5);
                }
            }
            assert!(out.convergence.as_ref().unwrap()[i].max_delta < 1e-4);
        }
        // The uniform baseline: projected sums still give f(x) − f(b).
        let ig = build("integrated-gradients", serde_json::json!({"baseline": "uniform"}));
        let out = ig
            .attribute(&AttributeInput { model: &model, x: x.view(), first: 0, seed: 0 })
            .unwrap();
        for i in 0..n {
            let proj: f32 =
                (&out.hypothetical.index_axis(Axis(0), i) * &x.index_axis(Axis(0), i)).sum();
            let fx = model.predict(x.slice(ndarray::s![i..=i, .., ..])).unwrap()[0];
            let fb = model.predict(Array3::from_elem((1, 4, len), 0.25).view()).unwrap()[0];
            assert!((proj - (fx - fb)).abs() < 1e-4, "{proj} vs {}", fx - fb);
        }
    }
}
