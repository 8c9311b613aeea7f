//! One trait per plugin kind, and the inputs each receives.
//!
//! The inputs are plain data (arrays and motif sets), so plugins depend on
//! motif-core alone and never on each other or on an engine.

use ndarray::{Array1, ArrayView1, ArrayView2, ArrayView3};

use crate::error::{Error, Result};
use crate::motif::{Motif, MotifSet};

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

/// One target entry's best alignment with a query: a typed hit of a
/// prepared comparison ([`PreparedTargets::compare`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hit {
    /// Index of the target in the set given to [`MotifMatcher::prepare`].
    pub target: usize,
    /// True when the target was reverse-complemented (orientation `-`).
    pub reverse: bool,
    /// Target column = query column + offset, in this strand's orientation.
    pub offset: i32,
    /// Number of aligned columns.
    pub overlap: usize,
    /// p-value.
    pub p_value: f64,
    /// E-value.
    pub e_value: f64,
    /// q-value.
    pub q_value: f64,
    /// Whether the matcher reports this hit under its own threshold (as
    /// tomtom prints it: the better strand of a target, q ≤ thresh).
    pub reported: bool,
}

/// One query compared with every entry of a prepared database.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QueryMatches {
    /// Query id.
    pub query: String,
    /// The query's consensus as the matcher scored it.
    pub consensus: String,
    /// Every target entry (each strand), best first.
    pub hits: Vec<Hit>,
}

impl QueryMatches {
    /// The hits the matcher reports, best first.
    pub fn reported(&self) -> impl Iterator<Item = &Hit> {
        self.hits.iter().filter(|h| h.reported)
    }

    /// The best hit of each target (its better strand), best first.
    pub fn best_per_target(&self) -> impl Iterator<Item = &Hit> {
        let mut seen = std::collections::HashSet::new();
        self.hits.iter().filter(move |h| seen.insert(h.target))
    }
}

/// A database prepared once by [`MotifMatcher::prepare`], compared with any
/// number of query sets.
pub trait PreparedTargets: Send + Sync {
    /// Compares each query with every target, in query order. A matcher
    /// whose statistics draw random numbers (tomtom's q-values) continues
    /// its stream from one call to the next, so comparing a set in chunks
    /// gives what comparing it at once gives.
    ///
    /// # Errors
    /// If a query cannot be scored.
    fn compare(&mut self, queries: &[Motif]) -> Result<Vec<QueryMatches>>;

    /// Moves on as if `queries` queries had been compared, without
    /// comparing them (a random stream skips their draws), so that a block
    /// of a query file compared next gets what comparing the whole file
    /// gives its queries (`match --shard`).
    fn skip(&mut self, queries: usize);

    /// The targets kept (an index of [`Hit::target`] may be missing when the
    /// matcher dropped a target, e.g. a duplicate id).
    fn len(&self) -> usize;

    /// Whether no target was kept.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Problems repaired while preparing (dropped duplicates …).
    fn warnings(&self) -> &[String];

    /// A hit's target consensus as aligned (its strand).
    fn target_consensus(&self, hit: &Hit) -> String;

    /// The reported hits of `results` as rows of the matcher's text table
    /// (MEME tomtom's `-text` TSV), in order. Target ids come from
    /// `targets`, the set that was prepared.
    fn tsv_rows(&self, results: &[QueryMatches], targets: &MotifSet) -> String;

    /// The text table's header and its footer naming `command`.
    fn tsv_frame(&self, command: &str) -> (String, String);

    /// The whole text table of `results`: header, rows, footer.
    fn tsv(&self, results: &[QueryMatches], targets: &MotifSet, command: &str) -> String {
        let (head, foot) = self.tsv_frame(command);
        head + &self.tsv_rows(results, targets) + &foot
    }
}

/// When a workflow calls a filter, kernel or neuron motif "matched" to a
/// database motif: the matcher and its column score, the fewest aligned
/// columns, and the E-value below which a best hit counts. Workflows build
/// their matcher from it ([`MatchPolicy::matcher`]) and record it in
/// run.json, so a report's "matched" always means one stated thing.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MatchPolicy {
    /// Column similarity (the `tomtom` matcher's `dist`).
    pub dist: std::borrow::Cow<'static, str>,
    /// Fewest aligned columns of a hit.
    pub min_overlap: usize,
    /// A best hit with E below this is a match.
    pub max_evalue: f64,
}

/// The policy of analyze and prune: Pearson column scores (as Koo & Eddy
/// and Deepprune compared filters), at least 5 aligned columns, E < 0.05.
pub const FILTER_MATCHES: MatchPolicy =
    MatchPolicy { dist: std::borrow::Cow::Borrowed("pearson"), min_overlap: 5, max_evalue: 0.05 };

impl MatchPolicy {
    /// The matcher plugin that scores under this policy.
    pub const MATCHER: &'static str = "tomtom";

    /// The matcher's config under this policy (its other settings default).
    #[must_use]
    pub fn matcher_config(&self) -> serde_json::Value {
        serde_json::json!({ "dist": self.dist, "min-overlap": self.min_overlap })
    }

    /// The matcher, from the registry.
    ///
    /// # Errors
    /// If the matcher plugin is not linked in.
    pub fn matcher(&self) -> Result<Box<dyn MotifMatcher>> {
        super::build::<dyn MotifMatcher>(Self::MATCHER, &self.matcher_config())
    }

    /// In words, for reports: `pearson, min overlap 5`.
    #[must_use]
    pub fn describe(&self) -> String {
        format!("{}, min overlap {}", self.dist, self.min_overlap)
    }

    /// Whether a best hit with E-value `e` is a match.
    #[must_use]
    pub fn calls(&self, e: f64) -> bool {
        e < self.max_evalue
    }
}

/// Compares motifs against a database.
pub trait MotifMatcher: Send + Sync {
    /// Prepares `targets` once for queries whose letter background is
    /// `background` (A, C, G, T; the matcher's own setting may override it).
    ///
    /// # Errors
    /// If no target is usable.
    fn prepare(&self, targets: &MotifSet, background: [f64; 4])
    -> Result<Box<dyn PreparedTargets>>;

    /// The reported matches of `input.queries` against `input.targets`,
    /// grouped by query in query order, best first within a query.
    ///
    /// # Errors
    /// If a motif cannot be scored.
    fn compare(&self, input: MatcherInput<'_>) -> Result<Vec<Match>> {
        let mut prepared = self.prepare(input.targets, input.queries.background)?;
        let results = prepared.compare(&input.queries.motifs)?;
        let mut out = Vec::new();
        for (qi, r) in results.iter().enumerate() {
            for h in r.reported() {
                out.push(Match {
                    query: r.query.clone(),
                    query_index: qi,
                    target: input.targets.motifs[h.target].id.clone(),
                    target_index: h.target,
                    offset: h.offset,
                    overlap: h.overlap,
                    reverse: h.reverse,
                    p_value: h.p_value,
                    e_value: h.e_value,
                    q_value: h.q_value,
                });
            }
        }
        Ok(out)
    }
}

/// Windows of one length as base indices (0 = A … 3 = T), row-major: the
/// sequences a decoupler clusters and a [`NeuronNetwork`] reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seqs {
    /// Window length.
    pub len: usize,
    /// Bases, `n · len`.
    pub bases: Vec<u8>,
}

impl Seqs {
    /// No sequences of length `len`.
    #[must_use]
    pub fn new(len: usize) -> Self {
        Self { len, bases: Vec::new() }
    }

    /// Number of sequences.
    #[must_use]
    pub fn n(&self) -> usize {
        self.bases.len().checked_div(self.len).unwrap_or(0)
    }

    /// Sequence `i`.
    #[must_use]
    pub fn get(&self, i: usize) -> &[u8] {
        &self.bases[i * self.len..(i + 1) * self.len]
    }

    /// Appends one sequence.
    pub fn push(&mut self, s: &[u8]) {
        debug_assert_eq!(s.len(), self.len);
        self.bases.extend_from_slice(s);
    }

    /// The sequences at `idx`.
    #[must_use]
    pub fn select(&self, idx: &[usize]) -> Self {
        let mut out = Self::new(self.len);
        out.bases.reserve(idx.len() * self.len);
        for &i in idx {
            out.push(self.get(i));
        }
        out
    }

    /// Sequence `i` as letters.
    #[must_use]
    pub fn letters(&self, i: usize) -> String {
        self.get(i).iter().map(|&b| char::from(b"ACGT"[usize::from(b)])).collect()
    }
}

/// The conv layers up to one neuron, as a decoupler reads them: every
/// sequence is a window of the neuron's receptive field.
pub trait NeuronNetwork: Sync {
    /// The max-pool size after each conv layer, from the first (0) to the
    /// neuron's own.
    fn pools(&self) -> Vec<usize>;

    /// The values of every neuron of conv layer `layer` on each window, one
    /// row per window (positions · channels).
    ///
    /// # Errors
    /// If the network cannot be run.
    fn layer_values(&self, seqs: &Seqs, layer: usize) -> Result<ndarray::Array2<f32>>;

    /// The value of the top layer's neuron `k` on each window.
    ///
    /// # Errors
    /// If the network cannot be run.
    fn neuron_values(&self, seqs: &Seqs, k: usize) -> Result<Array1<f32>>;
}

/// What a decoupler sees: one neuron, the network below it, and samples of
/// windows that activate it.
#[derive(Clone, Copy)]
pub struct DecoupleInput<'a> {
    /// The network up to the neuron's layer.
    pub network: &'a dyn NeuronNetwork,
    /// The neuron (a channel of the network's top layer).
    pub neuron: usize,
    /// Sampled windows.
    pub samples: &'a Seqs,
    /// The neuron's value on each sample (all > 0).
    pub activation: &'a [f32],
}

impl std::fmt::Debug for DecoupleInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecoupleInput")
            .field("neuron", &self.neuron)
            .field("samples", &self.samples.n())
            .finish_non_exhaustive()
    }
}

/// One CRM cluster of a neuron: samples that share one combination of the
/// lower layers' features (for NeuronMotif, of max-pool shifts), with
/// their PPM.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Crm {
    /// Index within the neuron.
    pub index: usize,
    /// Cluster labels from layer L−1 down (one per clustered layer).
    pub path: Vec<usize>,
    /// Samples in it.
    pub size: usize,
    /// Largest activation of its samples.
    pub max_act: f32,
    /// Activation of its PPM's consensus sequence.
    pub conact: f32,
    /// The PPM, one [A, C, G, T] row per position.
    pub ppm: Vec<[f64; 4]>,
}

impl Crm {
    /// Rows of a (4, len) PPM.
    #[must_use]
    pub fn rows(p: &ndarray::Array2<f64>) -> Vec<[f64; 4]> {
        (0..p.ncols()).map(|j| [p[[0, j]], p[[1, j]], p[[2, j]], p[[3, j]]]).collect()
    }

    /// Rows (A, C, G, T per column) as a (4, len) PPM; the inverse of [`Crm::rows`].
    #[must_use]
    pub fn array(rows: &[[f64; 4]]) -> ndarray::Array2<f64> {
        ndarray::Array2::from_shape_fn((4, rows.len()), |(b, j)| rows[j][b])
    }

    /// The PPM as (4, len).
    #[must_use]
    pub fn ppm_array(&self) -> ndarray::Array2<f64> {
        Self::array(&self.ppm)
    }
}

/// Decouples a deeper neuron into the CRM clusters of its samples.
pub trait NeuronDecoupler: Send + Sync {
    /// The neuron's CRMs; `rng` drives any random choice, so a run is
    /// deterministic given its seed.
    ///
    /// # Errors
    /// If the network cannot be run on the samples.
    fn decouple(&self, input: &DecoupleInput<'_>, rng: &mut crate::rng::Rng) -> Result<Vec<Crm>>;
}

/// Draws a report figure from JSON data: SVG, or an HTML fragment of SVG
/// pieces (a syntax tree of logos).
pub trait Figure: Send + Sync {
    /// The SVG or HTML text.
    ///
    /// # Errors
    /// If the data does not have the figure's shape.
    fn render(&self, data: &serde_json::Value) -> Result<String>;
}

/// The model as an attributor sees it: one scalar target `f` (an output
/// column, a sum of columns, a profile head's weighted logit) of one-hot
/// sequences `(n, 4, len)` (A, C, G, T rows; N = 0.25 in each), run on an
/// engine in batches.
pub trait AttributionModel: Sync {
    /// `f` of each sequence.
    ///
    /// # Errors
    /// If the engine fails.
    fn predict(&self, x: ArrayView3<'_, f32>) -> Result<Array1<f32>>;

    /// `f` and its gradient ∂f/∂x, `(n, 4, len)`.
    ///
    /// # Errors
    /// If the engine fails.
    fn gradient(&self, x: ArrayView3<'_, f32>) -> Result<(Array1<f32>, ndarray::Array3<f32>)>;

    /// DeepLIFT for `x` `(s, 4, len)` against `k` references each, `r`
    /// `(k·s, 4, len)` laid out reference-major (pair `p = j·s + i` is
    /// `(x[i], r[p])`, its reference `j`): `f(x)` `(s)`, `f(r)` `(k·s)` and
    /// the multipliers `m` `(k·s, 4, len)` (Σ (x[i] − r[p])·m[p] = f(x[i]) −
    /// f(r[p]) per pair, up to rounding). Each sequence's forward pass runs
    /// once for its `k` pairs where the model allows.
    ///
    /// # Errors
    /// If the engine fails.
    fn multipliers(
        &self,
        x: ArrayView3<'_, f32>,
        r: ArrayView3<'_, f32>,
    ) -> Result<(Array1<f32>, Array1<f32>, ndarray::Array3<f32>)>;

    /// How many sequences (or pairs) one engine call takes.
    fn batch(&self) -> usize;

    /// `f` of `x` `(4, len)` with each single substitution `(base,
    /// position)` of `edits` made. By default every mutant is predicted
    /// whole; a model may recompute only what a substitution changes.
    ///
    /// # Errors
    /// If the engine fails.
    fn substitutions(
        &self,
        x: ndarray::ArrayView2<'_, f32>,
        edits: &[(usize, usize)],
    ) -> Result<Array1<f32>> {
        predict_substitutions(self, x, edits)
    }
}

/// [`AttributionModel::substitutions`] the plain way: every mutant
/// predicted whole, in batches of the model's size.
///
/// # Errors
/// If the engine fails.
pub fn predict_substitutions<M: AttributionModel + ?Sized>(
    model: &M,
    x: ndarray::ArrayView2<'_, f32>,
    edits: &[(usize, usize)],
) -> Result<Array1<f32>> {
    let len = x.ncols();
    let mut out = Vec::with_capacity(edits.len());
    for chunk in edits.chunks(model.batch().max(1)) {
        let mut xb = ndarray::Array3::<f32>::zeros((chunk.len(), 4, len));
        for (b, &(c, l)) in chunk.iter().enumerate() {
            let mut m = xb.index_axis_mut(ndarray::Axis(0), b);
            m.assign(&x);
            m.column_mut(l).fill(0.0);
            m[(c, l)] = 1.0;
        }
        out.extend(model.predict(xb.view())?);
    }
    Ok(Array1::from(out))
}

/// What an attributor sees: the model and a chunk of sequences of one
/// length.
#[derive(Clone, Copy)]
pub struct AttributeInput<'a> {
    /// The model.
    pub model: &'a dyn AttributionModel,
    /// One-hot sequences `(n, 4, len)`.
    pub x: ArrayView3<'a, f32>,
    /// Index of the chunk's first sequence in the run's input (for
    /// per-sequence inputs such as given references).
    pub first: usize,
    /// The run's seed: reference `k` of every sequence is drawn from
    /// `seed + k` alone, so results do not depend on chunking or on the
    /// other sequences.
    pub seed: u64,
}

/// DeepLIFT's convergence check of one sequence over its references:
/// `δ_k = |f(x) − f(r_k) − Σ (x − r_k)·m_k|` on the raw multipliers.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Convergence {
    /// The largest δ.
    pub max_delta: f64,
    /// The mean δ.
    pub mean_delta: f64,
    /// The mean of |f(x) − f(`r_k`)|.
    pub mean_abs_df: f64,
}

/// An attributor's scores for a chunk of sequences.
#[derive(Debug, Clone)]
pub struct Attribution {
    /// Hypothetical contributions `(n, 4, len)`: what each base would
    /// contribute at each position (modisco's `hyp_scores`); the projected
    /// contributions are these times the one-hot input.
    pub hypothetical: ndarray::Array3<f32>,
    /// The target `f` of each sequence.
    pub prediction: Array1<f32>,
    /// Per sequence, DeepLIFT's convergence check (methods with references).
    pub convergence: Option<Vec<Convergence>>,
}

/// Per-base attribution: scores for every base at every position of each
/// sequence.
pub trait Attributor: Send + Sync {
    /// The chunk's attributions.
    ///
    /// # Errors
    /// If the model cannot be run, or a sequence cannot be used (naming it
    /// by its index in the chunk).
    fn attribute(&self, input: &AttributeInput<'_>) -> Result<Attribution>;
}

/// One seqlet: window `example`, columns `[start, end)`, and the sign of
/// its core's summed contribution (+1 or −1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalledSeqlet {
    /// Window (input row).
    pub example: usize,
    /// First column.
    pub start: usize,
    /// One past the last column.
    pub end: usize,
    /// +1 (positive metacluster) or −1.
    pub sign: i8,
}

/// What a seqlet caller found, with what a report shows of how.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqletCalls {
    /// Seqlets in calling order (positive and negative interleaved as
    /// found; discovery keeps this order per sign).
    pub seqlets: Vec<CalledSeqlet>,
    /// Window-sum thresholds (positive, negative), when the caller has them.
    pub thresholds: (f64, f64),
    /// The null distribution's parameters, when the caller fits one
    /// (modisco's Laplace: mode and the two rates).
    pub null: (f64, f64, f64),
    /// |core sum| a seqlet needs to be given a sign.
    pub sign_threshold: f64,
}

/// Actual contributions (one-hot × hypothetical) of `n` windows of `len`
/// positions × 4 bases, read one window at a time (so that they need not
/// all be held as floats at once).
pub trait Contributions: Sync {
    /// Windows.
    fn n(&self) -> usize;
    /// Positions per window.
    fn positions(&self) -> usize;
    /// Window `i`'s contributions, position-major (`out[l·4 + b]`), into
    /// `out` (cleared first).
    fn window(&self, i: usize, out: &mut Vec<f32>);
}

/// [`Contributions`] held in one row-major `(n, len, 4)` slice.
#[derive(Debug, Clone, Copy)]
pub struct DenseContributions<'a> {
    data: &'a [f32],
    n: usize,
    len: usize,
}

impl<'a> DenseContributions<'a> {
    /// `data` as `n` windows of `len × 4`.
    ///
    /// # Errors
    /// If `data` is not `n · len · 4` long.
    pub fn new(data: &'a [f32], n: usize, len: usize) -> Result<Self> {
        if data.len() != n * len * 4 {
            return Err(Error::Invalid(format!(
                "{} contributions for {n} windows of {len} × 4",
                data.len()
            )));
        }
        Ok(Self { data, n, len })
    }
}

impl Contributions for DenseContributions<'_> {
    fn n(&self) -> usize {
        self.n
    }

    fn positions(&self) -> usize {
        self.len
    }

    fn window(&self, i: usize, out: &mut Vec<f32>) {
        out.clear();
        out.extend_from_slice(&self.data[i * self.len * 4..(i + 1) * self.len * 4]);
    }
}

/// Seqlets from attributions.
pub trait SeqletCaller: Send + Sync {
    /// The seqlets of `contrib`.
    ///
    /// # Errors
    /// If the input cannot be used (naming why).
    fn call(&self, contrib: &dyn Contributions) -> Result<SeqletCalls>;
}

/// How alike seqlets are: for each seqlet `i` and each of its candidate
/// `neighbors[i]`, the similarity of the neighbour (child) to `i`
/// (parent), from their `(len, channels)` representations on the forward
/// strand and reverse-complemented.
pub trait SeqletAffinity: Send + Sync {
    /// One row of similarities per seqlet, in `neighbors[i]` order. The
    /// representations are handed over (an implementation may drop them as
    /// soon as it has its own form of them).
    ///
    /// # Errors
    /// If the representations cannot be compared (naming why).
    fn affinities(
        &self,
        fwd: Vec<ndarray::Array2<f32>>,
        rev: Vec<ndarray::Array2<f32>>,
        neighbors: &Table<u32>,
    ) -> Result<Table<f32>>;
}

/// Rows of varying length held in one block (row `i` is
/// `data[start[i]..start[i + 1]]`): a kNN table, or its affinities. One
/// allocation, handed back whole when dropped, where a `Vec` per row
/// would leave the allocator's heap in holes.
#[derive(Debug, Clone, PartialEq)]
pub struct Table<T> {
    start: Vec<usize>,
    data: Vec<T>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self { start: vec![0], data: Vec::new() }
    }
}

impl<T> Table<T> {
    /// An empty table with room for `rows` rows of `entries` in all.
    #[must_use]
    pub fn with_capacity(rows: usize, entries: usize) -> Self {
        let mut start = Vec::with_capacity(rows + 1);
        start.push(0);
        Self { start, data: Vec::with_capacity(entries) }
    }

    /// The table of `rows`.
    pub fn from_rows<R: IntoIterator<Item = T>>(rows: impl IntoIterator<Item = R>) -> Self {
        let mut t = Self::default();
        for row in rows {
            t.push_row(row);
        }
        t
    }

    /// `rows` rows of `width` entries each, row-major in `data`.
    ///
    /// # Panics
    /// If `data` does not hold `rows · width` entries.
    #[must_use]
    pub fn uniform(rows: usize, width: usize, data: Vec<T>) -> Self {
        assert_eq!(data.len(), rows * width, "a table of {rows} rows of {width}");
        Self { start: (0..=rows).map(|i| i * width).collect(), data }
    }

    /// A table shaped as `other`, every entry `value`.
    #[must_use]
    pub fn shaped_as<U>(other: &Table<U>, value: T) -> Self
    where
        T: Clone,
    {
        Self { start: other.start.clone(), data: vec![value; other.data.len()] }
    }

    /// A table shaped as `other` holding `data`.
    ///
    /// # Panics
    /// If `data` is not as long as `other` has entries.
    #[must_use]
    pub fn shaped_with<U>(other: &Table<U>, data: Vec<T>) -> Self {
        assert_eq!(data.len(), other.data.len(), "one value per entry");
        Self { start: other.start.clone(), data }
    }

    /// Where row `i` starts among all entries ([`Table::flat`]).
    #[must_use]
    pub fn offset(&self, i: usize) -> usize {
        self.start[i]
    }

    /// Drops repeats of an entry that follow it within its row (as
    /// `Vec::dedup` per row), in place.
    pub fn dedup_rows(&mut self)
    where
        T: PartialEq + Copy,
    {
        self.dedup_rows_by(|a, b| a == b);
    }

    /// Drops, within each row, every entry `same(entry, kept)` says
    /// repeats the last one kept (which it may update), as `Vec::dedup_by`
    /// per row; in place.
    pub fn dedup_rows_by(&mut self, mut same: impl FnMut(&T, &mut T) -> bool)
    where
        T: Copy,
    {
        let mut w = 0;
        let mut from = 0;
        for i in 0..self.len() {
            let end = self.start[i + 1];
            let row_start = w;
            for e in from..end {
                let x = self.data[e];
                if w == row_start || !same(&x, &mut self.data[w - 1]) {
                    self.data[w] = x;
                    w += 1;
                }
            }
            from = end;
            self.start[i + 1] = w;
        }
        self.data.truncate(w);
        self.data.shrink_to_fit();
    }

    /// Appends a row.
    pub fn push_row(&mut self, row: impl IntoIterator<Item = T>) {
        self.data.extend(row);
        self.start.push(self.data.len());
    }

    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.start.len() - 1
    }

    /// Whether there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries in all rows.
    #[must_use]
    pub fn entries(&self) -> usize {
        self.data.len()
    }

    /// The rows in order.
    #[must_use]
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[T]> + '_ {
        self.start.windows(2).map(|w| &self.data[w[0]..w[1]])
    }

    /// Every row, mutable (disjoint: for working on rows in parallel).
    pub fn rows_mut(&mut self) -> Vec<&mut [T]> {
        split_rows(&mut self.data, &self.start)
    }

    /// Every entry, rows one after another.
    #[must_use]
    pub fn flat(&self) -> &[T] {
        &self.data
    }
}

/// `data` cut into its rows `starts[i]..starts[i + 1]` (ascending, the
/// last at most `data.len()`), each mutable on its own: for filling rows of
/// a CSR-shaped array in parallel.
pub fn split_rows<'a, T>(data: &'a mut [T], starts: &[usize]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(starts.len().saturating_sub(1));
    let mut rest = &mut data[starts.first().copied().unwrap_or(0)..];
    for w in starts.windows(2) {
        let (row, tail) = rest.split_at_mut(w[1] - w[0]);
        out.push(row);
        rest = tail;
    }
    out
}

impl<T> std::ops::Index<usize> for Table<T> {
    type Output = [T];

    fn index(&self, i: usize) -> &[T] {
        &self.data[self.start[i]..self.start[i + 1]]
    }
}

impl<T> std::ops::IndexMut<usize> for Table<T> {
    fn index_mut(&mut self, i: usize) -> &mut [T] {
        &mut self.data[self.start[i]..self.start[i + 1]]
    }
}

/// A square sparse matrix in CSR form (columns sorted per row), handed
/// over to the clusterer (which may reuse its storage).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseGraph {
    /// Row starts (`n + 1`).
    pub indptr: Vec<usize>,
    /// Column of each entry.
    pub indices: Vec<u32>,
    /// Weight of each entry.
    pub data: Vec<f64>,
}

/// Clusters of a weighted graph: each stored entry of the matrix is an
/// undirected edge (modisco's convention).
pub trait GraphClusterer: Send + Sync {
    /// A label per node, `0..k`, the largest cluster first.
    ///
    /// # Errors
    /// If the graph cannot be clustered (naming why).
    fn cluster(&self, graph: SparseGraph) -> Result<Vec<usize>>;
}

#[cfg(test)]
mod table_tests {
    use super::Table;

    /// Rows of any length in one block: indexing, mutation in parallel
    /// slices, shape copies, and repeats dropped per row (not across rows).
    #[test]
    fn rows_in_one_block() {
        let mut t = Table::from_rows([vec![3, 3, 1], vec![], vec![1, 1, 2, 2, 2]]);
        assert_eq!((t.len(), t.entries()), (3, 8));
        assert_eq!(&t[0], &[3, 3, 1]);
        assert!(t[1].is_empty());
        for row in t.rows_mut() {
            row.reverse();
        }
        assert_eq!(&t[2], &[2, 2, 2, 1, 1]);
        let s = Table::shaped_as(&t, 0.5);
        assert_eq!(s.rows().map(<[f64]>::len).collect::<Vec<_>>(), [3, 0, 5]);
        let mut flat = [1, 2, 3, 4, 5, 6];
        let cut = super::split_rows(&mut flat, &[1, 3, 3, 5]);
        assert_eq!(
            cut.iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
            [vec![2, 3], vec![], vec![4, 5]]
        );
        t.dedup_rows();
        assert_eq!(t, Table::from_rows([vec![1, 3], vec![], vec![2, 1]]));
        assert_eq!(Table::uniform(2, 2, vec![1, 2, 3, 4]), Table::from_rows([[1, 2], [3, 4]]));
        assert!(Table::<u8>::default().is_empty());
    }
}
