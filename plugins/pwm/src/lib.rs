//! Extractor plugins: turn the filters of a conv layer into motifs.
//!
//! * [`ActivationAlignment`] (`activation-alignment`): Koo & Eddy's
//!   activation-weighted alignment of the windows whose activation reaches a
//!   fraction of the filter's maximum over the data set.
//! * [`TopWindows`] (`top-windows`): per sequence, the window at the filter's
//!   maximum when it is positive (DeepBind / DanQ practice).
//! * [`KernelPwm`] (`kernel-pwm`): a data-free PWM from first-layer kernel
//!   weights read as log-odds; [`log_odds_kernels`] is its inverse.
//! * [`trim`]: Koo's clip by information content, with padding.
//!
//! The extractors see plain arrays ([`ExtractInput`]): the one-hot input,
//! the layer's activation maps and the geometry that maps an activation
//! position to its window of the input (receptive field, stride, offset).
//! They never run a model themselves.

mod align;
mod kernel;
mod trim;

pub use align::{ActivationAlignment, AlignConfig, Threshold, TopConfig, TopWindows};
pub use kernel::{KernelConfig, KernelPwm, log_odds_kernels};
pub use trim::{TrimConfig, information_content, trim};

use motif_core::plugin::ExtractInput;
use motif_core::{Error, Result};

/// The activation maps and one-hot input an extractor needs, or an error
/// naming what is missing.
pub(crate) fn data<'a>(
    input: &ExtractInput<'a>,
    plugin: &str,
) -> Result<(ndarray::ArrayView3<'a, f32>, ndarray::ArrayView3<'a, f32>)> {
    let (Some(x), Some(a)) = (input.x, input.activations) else {
        return Err(Error::Config {
            plugin: plugin.into(),
            msg: "needs sequences and activation maps".into(),
        });
    };
    if x.shape()[0] != a.shape()[0] {
        return Err(Error::Invalid(format!(
            "{plugin}: {} sequences but activation maps for {}",
            x.shape()[0],
            a.shape()[0]
        )));
    }
    if a.shape()[1] != input.kernels.shape()[0] {
        return Err(Error::Invalid(format!(
            "{plugin}: {} filters but activation maps for {}",
            input.kernels.shape()[0],
            a.shape()[1]
        )));
    }
    Ok((x, a))
}

/// Shared by the extractors' unit tests.
#[cfg(test)]
pub(crate) mod test_util {
    use motif_core::plugin::ExtractInput;
    use ndarray::Array3;

    /// An input with stride 1: kernels, optional one-hot and activations.
    pub fn input<'a>(
        kernels: &'a Array3<f32>,
        data: Option<(&'a Array3<f32>, &'a Array3<f32>)>,
        receptive_field: usize,
        offset: isize,
    ) -> ExtractInput<'a> {
        ExtractInput {
            kernels: kernels.view(),
            x: data.map(|d| d.0.view()),
            activations: data.map(|d| d.1.view()),
            receptive_field,
            stride: 1,
            offset,
        }
    }
}
