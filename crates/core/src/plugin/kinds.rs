//! One trait per plugin kind, and the inputs each receives.
//!
//! The inputs are plain data (arrays and motif sets), so plugins depend on
//! motif-core alone and never on each other or on an engine.

use ndarray::{Array1, ArrayView1, ArrayView2, ArrayView3};

use crate::error::Result;
use crate::motif::MotifSet;

/// What a pruning criterion sees of one conv layer and the dense layer after it.
#[derive(Debug, Clone)]
pub struct CriterionInput<'a> {
    /// Conv kernels, shape (kernels, 4 or in-channels, width).
    pub kernels: ArrayView3<'a, f32>,
    /// Dense weights applied to the pooled kernel outputs, shape (outputs, kernels).
    pub dense: ArrayView2<'a, f32>,
    /// Pooled activations on a data set, shape (sequences, kernels), when the
    /// criterion asked for data (Deepprune: all training sequences, the
    /// validation part included).
    pub pooled: Option<ArrayView2<'a, f32>>,
    /// The 0/1 label of each row of [`CriterionInput::pooled`] (the first
    /// output's), when the criterion asked for data.
    pub labels: Option<ArrayView1<'a, f32>>,
}

/// Deepprune kernel-importance criterion: a score per kernel, higher = keep.
pub trait PruningCriterion: Send + Sync {
    /// Whether [`CriterionInput::pooled`] must be filled (data-dependent criteria).
    fn needs_data(&self) -> bool {
        false
    }
    /// One score per kernel; the lowest are pruned first.
    ///
    /// # Errors
    /// If the input lacks what the criterion needs.
    fn score(&self, input: &CriterionInput<'_>) -> Result<Array1<f32>>;
}

/// What a motif extractor sees of one conv layer.
#[derive(Debug, Clone)]
pub struct ExtractInput<'a> {
    /// Kernels of the layer, shape (filters, in-channels, width).
    pub kernels: ArrayView3<'a, f32>,
    /// One-hot sequences, shape (n, 4, len), when the extractor needs data.
    pub x: Option<ArrayView3<'a, f32>>,
    /// The layer's activation maps on `x`, shape (n, filters, positions).
    pub activations: Option<ArrayView3<'a, f32>>,
    /// Receptive field (bp) of one neuron of the layer.
    pub receptive_field: usize,
    /// Input stride (bp) between adjacent neurons of the layer.
    pub stride: usize,
    /// Input offset (bp) of position 0 of the activation map (negative with padding).
    pub offset: isize,
}

/// Turns conv filters into motifs, one per filter (in filter order).
pub trait MotifExtractor: Send + Sync {
    /// Whether [`ExtractInput::x`] and [`ExtractInput::activations`] must be filled.
    fn needs_data(&self) -> bool {
        true
    }
    /// The motifs.
    ///
    /// # Errors
    /// If the input lacks what the extractor needs.
    fn extract(&self, input: &ExtractInput<'_>) -> Result<MotifSet>;
}

/// What a matcher compares: queries against targets.
#[derive(Debug, Clone, Copy)]
pub struct MatcherInput<'a> {
    /// Query motifs.
    pub queries: &'a MotifSet,
    /// Target database.
    pub targets: &'a MotifSet,
}

/// One query–target match.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Match {
    /// Query id.
    pub query: String,
    /// Index of the query in [`MatcherInput::queries`].
    pub query_index: usize,
    /// Target id.
    pub target: String,
    /// Index of the target in [`MatcherInput::targets`].
    pub target_index: usize,
    /// Offset of the alignment: target column = query column + offset, in
    /// the reported strand's orientation (tomtom's `Optimal_offset`).
    pub offset: i32,
    /// Number of aligned columns.
    pub overlap: usize,
    /// True when the target was reverse-complemented (orientation `-`).
    pub reverse: bool,
    /// p-value.
    pub p_value: f64,
    /// E-value.
    pub e_value: f64,
    /// q-value.
    pub q_value: f64,
}

/// Compares motifs against a database.
pub trait MotifMatcher: Send + Sync {
    /// All matches passing the matcher's threshold, grouped by query in
    /// query order, best first within a query.
    ///
    /// # Errors
    /// If a motif cannot be scored.
    fn compare(&self, input: MatcherInput<'_>) -> Result<Vec<Match>>;
}

/// What a decoupler sees: samples of sequences that activate one neuron.
#[derive(Debug, Clone)]
pub struct DecoupleInput<'a> {
    /// Sampled one-hot sequences, shape (n, 4, receptive field).
    pub samples: ArrayView3<'a, f32>,
    /// The neuron's activation on each sample, shape (n,).
    pub activation: ndarray::ArrayView1<'a, f32>,
}

/// Decouples a deeper neuron into motifs.
pub trait NeuronDecoupler: Send + Sync {
    /// The motifs the neuron combines.
    ///
    /// # Errors
    /// If the samples cannot be decoupled.
    fn decouple(&self, input: &DecoupleInput<'_>) -> Result<MotifSet>;
}

/// Draws a report figure from JSON data, as SVG.
pub trait Figure: Send + Sync {
    /// The SVG text.
    ///
    /// # Errors
    /// If the data does not have the figure's shape.
    fn render(&self, data: &serde_json::Value) -> Result<String>;
}
