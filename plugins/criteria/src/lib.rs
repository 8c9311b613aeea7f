//! Deepprune's kernel-importance criteria as plugins (kind `criterion`).
//!
//! Each scores the kernels of the conv layer behind the dense layer; a
//! pruning step keeps those scoring strictly above the median (see
//! `motif-prune`). With `w_j` the dense weight of kernel j and `o_j(x)` its
//! globally pooled (post-activation) output on sequence x, P the positives
//! and N the negatives of the whole training file:
//!
//! * [`Weight`] (`weight`, Deepprune's `modep=0`): `s_j` = |`w_j`|;
//! * [`Score`] (`score`, `modep=1`): `s_j` = |`mean_P` `o_j` − `mean_N` `o_j`|;
//! * [`ScoreWeight`] (`score-weight`, `modep=2`):
//!   `s_j` = |`mean_P(o_j·w_j)` − `mean_N(o_j·w_j)`|;
//! * [`PositiveMean`] (`positive-mean`): `s_j` = `mean_P` `o_j`, the worked
//!   example of the README's "Writing a criterion plugin".
//!
//! With several outputs, the weight terms sum over outputs
//! (`Σ_o` |`w_oj`| and `Σ_o` |`Δmean(o_j·w_oj)`|); with one output this is the
//! definition above.

mod positive_mean;
mod score;
mod score_weight;
mod weight;

pub use positive_mean::PositiveMean;
pub use score::Score;
pub use score_weight::ScoreWeight;
pub use weight::Weight;

use motif_core::plugin::CriterionInput;
use motif_core::{Error, Result};
use ndarray::{ArrayView1, ArrayView2};

/// No settings: the criteria are defined exactly by the spec.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct NoConfig {}

/// The pooled outputs and labels of a data criterion, checked: one label
/// per row, both classes present.
///
/// # Errors
/// When the input has no data, the shapes disagree, or a class is empty.
pub fn class_data<'a>(
    input: &CriterionInput<'a>,
    plugin: &str,
) -> Result<(ArrayView2<'a, f32>, ArrayView1<'a, f32>)> {
    let (Some(o), Some(y)) = (input.pooled, input.labels) else {
        return Err(Error::Config {
            plugin: plugin.into(),
            msg: "needs the pooled kernel outputs and labels of the training data".into(),
        });
    };
    let k = input.kernels.shape()[0];
    if o.ncols() != k || o.nrows() != y.len() {
        return Err(Error::Invalid(format!(
            "{plugin}: pooled outputs are {:?} for {k} kernels and {} labels",
            o.shape(),
            y.len()
        )));
    }
    let pos = y.iter().filter(|&&v| v > 0.5).count();
    if pos == 0 || pos == y.len() {
        return Err(Error::Invalid(format!(
            "{plugin}: needs positives and negatives; the {} training labels are all {}",
            y.len(),
            i32::from(pos != 0)
        )));
    }
    Ok((o, y))
}

/// Per-kernel means over the positives and over the negatives of
/// `f(row, kernel)`, in f64.
pub fn class_means(
    o: ArrayView2<'_, f32>,
    y: ArrayView1<'_, f32>,
    f: impl Fn(usize, f32) -> f64,
) -> (Vec<f64>, Vec<f64>) {
    let k = o.ncols();
    let (mut p, mut n) = (vec![0.0; k], vec![0.0; k]);
    let (mut np, mut nn) = (0usize, 0usize);
    for (row, &label) in o.outer_iter().zip(y) {
        let (acc, count) = if label > 0.5 { (&mut p, &mut np) } else { (&mut n, &mut nn) };
        *count += 1;
        for (j, &v) in row.iter().enumerate() {
            acc[j] += f(j, v);
        }
    }
    let div = |v: Vec<f64>, c: usize| v.into_iter().map(|s| s / c.max(1) as f64).collect();
    (div(p, np), div(n, nn))
}

/// The dense weights as (outputs, kernels), checked against the kernels.
///
/// # Errors
/// When the dense layer does not take one input per kernel.
pub fn dense<'a>(input: &CriterionInput<'a>, plugin: &str) -> Result<ArrayView2<'a, f32>> {
    let k = input.kernels.shape()[0];
    if input.dense.ncols() != k {
        return Err(Error::Invalid(format!(
            "{plugin}: the dense weights are {:?}, not (outputs, {k})",
            input.dense.shape()
        )));
    }
    Ok(input.dense)
}

#[cfg(test)]
pub(crate) mod testdata {
    //! A small fixed input: 3 kernels, 1 output, 6 sequences (3 positive).
    use ndarray::{Array1, Array2, Array3, array};

    pub struct Owned {
        pub kernels: Array3<f32>,
        pub dense: Array2<f32>,
        pub pooled: Array2<f32>,
        pub labels: Array1<f32>,
    }

    pub fn input() -> Owned {
        Owned {
            kernels: Array3::zeros((3, 4, 5)),
            dense: array![[0.5, -2.0, 0.25]],
            pooled: array![
                [1.0, 0.0, 2.0],
                [3.0, 1.0, 2.0],
                [2.0, 2.0, 2.0],
                [0.0, 4.0, 1.0],
                [1.0, 5.0, 1.0],
                [2.0, 3.0, 1.0],
            ],
            labels: array![1.0, 1.0, 1.0, 0.0, 0.0, 0.0],
        }
    }

    impl Owned {
        pub fn view(&self) -> motif_core::plugin::CriterionInput<'_> {
            motif_core::plugin::CriterionInput {
                kernels: self.kernels.view(),
                dense: self.dense.view(),
                pooled: Some(self.pooled.view()),
                labels: Some(self.labels.view()),
            }
        }
    }
}

#[cfg(test)]
mod readme {
    /// The README's "Writing a criterion plugin" listing is this crate's
    /// `positive_mean.rs`, so the worked example is the compiled and tested one.
    #[test]
    fn readme_example_is_the_compiled_file() {
        let readme = include_str!("../../../README.md");
        let start =
            readme.find("<!-- criterion-example:start -->\n```rust\n").expect("start marker");
        let body = &readme[start..];
        let body = &body[body.find("```rust\n").unwrap() + 8..];
        let end = body.find("```\n<!-- criterion-example:end -->").expect("end marker");
        assert_eq!(&body[..end], include_str!("positive_mean.rs"));
    }
}
