//! `ism`: in-silico saturation mutagenesis. Every single substitution of
//! every position is predicted; `D[c, l] = f(x with base c at l) − f(x)`
//! (0 for the base already there, which is not run), optionally
//! mean-centred over the four bases as tangermeme's default.

use motif_core::Result;
use motif_core::plugin::{AttributeInput, Attribution, Attributor, Configured, Status};
use ndarray::{Array1, Array3, Axis};

/// Settings of `ism`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct IsmConfig {
    /// Subtract each position's mean effect over the four bases
    /// (tangermeme's default); off: the raw deltas.
    pub center: bool,
    /// Recompute only what each substitution changes, where the model
    /// allows (fastISM's receptive-field rule; the same numbers); false:
    /// predict every mutant whole.
    pub fast: bool,
}

impl Default for IsmConfig {
    fn default() -> Self {
        Self { center: true, fast: true }
    }
}

/// In-silico mutagenesis.
#[derive(Debug, Clone)]
pub struct Ism {
    config: IsmConfig,
}

impl Configured for Ism {
    type Config = IsmConfig;
    fn from_config(config: IsmConfig) -> Result<Self> {
        Ok(Self { config })
    }
}

/// The base a column holds when it is exactly one-hot.
fn present(col: ndarray::ArrayView1<'_, f32>) -> Option<usize> {
    let hot = (0..4).filter(|&c| col[c] == 1.0).count();
    let zero = (0..4).filter(|&c| col[c] == 0.0).count();
    (hot == 1 && zero == 3).then(|| (0..4).find(|&c| col[c] == 1.0).expect("one hot"))
}

/// The raw deltas `(n, 4, len)` of every substitution, and `f(x)`.
pub(crate) fn deltas(input: &AttributeInput<'_>, fast: bool) -> Result<(Array3<f32>, Array1<f32>)> {
    let x = input.x;
    let (n, _, len) = x.dim();
    let f0 = input.model.predict(x)?;
    let mut d = Array3::<f32>::zeros((n, 4, len));
    for i in 0..n {
        let seq = x.index_axis(Axis(0), i);
        let edits: Vec<(usize, usize)> = (0..len)
            .flat_map(|l| {
                let have = present(seq.column(l));
                (0..4).filter(move |&c| Some(c) != have).map(move |c| (c, l))
            })
            .collect();
        let f = if fast {
            input.model.substitutions(seq, &edits)?
        } else {
            motif_core::plugin::predict_substitutions(input.model, seq, &edits)?
        };
        for (&(c, l), v) in edits.iter().zip(f.iter()) {
            d[(i, c, l)] = v - f0[i];
        }
    }
    Ok((d, f0))
}

impl Attributor for Ism {
    fn attribute(&self, input: &AttributeInput<'_>) -> Result<Attribution> {
        let (mut d, prediction) = deltas(input, self.config.fast)?;
        if self.config.center {
            crate::saliency::center(&mut d);
        }
        Ok(Attribution { hypothetical: d, prediction, convergence: None })
    }
}

motif_core::register_plugin!(Attributor, Ism, name: "ism",
    summary: "in-silico mutagenesis: the effect of every single substitution",
    status: Status::Preview("0.1.0"));
