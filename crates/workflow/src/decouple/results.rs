//! What a decoupling run writes and reads back: typed, so nothing is read
//! by string keys.

use motif_neuronmotif::Crm;
use motif_neuronmotif::dict::Dictionary;
use motif_neuronmotif::sample::{Method, SampleConfig};
use motif_neuronmotif::segment::Segment;
use motif_neuronmotif::tree::{Occurrence, Syntax};
use motif_onnx::window::ChainLayer;
use serde::{Deserialize, Serialize};

/// A motif's best database match, or `target: null` when none is reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestMatch {
    /// The query motif's id.
    pub query: String,
    /// The target's id; `None`: no reported match.
    pub target: Option<String>,
    /// The match's statistics and alignment, with a target.
    #[serde(flatten)]
    pub hit: Option<MatchStats>,
}

/// A [`BestMatch`]'s statistics and alignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchStats {
    /// The target's name.
    pub name: Option<String>,
    /// p-value.
    pub p: f64,
    /// E-value.
    pub e: f64,
    /// q-value.
    pub q: f64,
    /// Target column = query column + offset.
    pub offset: i32,
    /// Aligned columns.
    pub overlap: usize,
    /// Matched on the target's reverse complement.
    pub reverse: bool,
}

/// A syntax pair's gap measured between matched database motifs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseGap {
    /// Syntax group.
    pub group: usize,
    /// Left dictionary entry (0-based).
    pub left: usize,
    /// Right dictionary entry.
    pub right: usize,
    /// The left entry's database motif (id and name).
    pub left_motif: String,
    /// The right entry's database motif.
    pub right_motif: String,
    /// Smallest gap (bp between the end of the left and the start of the right motif).
    pub min: i64,
    /// Largest gap.
    pub max: i64,
}

/// Seconds a neuron took per step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Seconds {
    /// Sampling (absent when the samples came from an older run).
    pub sampling: Option<f64>,
    /// Demixing with the chosen m.
    pub demixing: Option<f64>,
    /// Dictionary, syntax and matching.
    pub dictionary_and_syntax: f64,
}

/// What a neuron's finished decoupling holds (neuron.json).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NeuronResult {
    /// Layer.
    pub layer: usize,
    /// Neuron.
    pub neuron: usize,
    /// Motifs per neuron m used.
    pub motifs: u32,
    /// How samples were found.
    pub method: Method,
    /// Samples.
    pub samples: usize,
    /// Largest activation.
    pub max_act: f32,
    /// r = max over CRMs of conact / max act.
    pub r: Option<f64>,
    /// The CRMs.
    pub crms: Vec<Crm>,
    /// Database-matching segments (tochen selection).
    pub segments: Vec<Segment>,
    /// Best database match per CRM (whole PPM).
    pub crm_matches: Vec<BestMatch>,
    /// Best database match per segment.
    pub segment_matches: Vec<BestMatch>,
    /// The dictionary.
    pub dictionary: Dictionary,
    /// Database match per dictionary motif.
    pub dictionary_matches: Vec<BestMatch>,
    /// The syntax.
    pub syntax: Syntax,
    /// Per syntax pair, the gap between the database motifs its dictionary
    /// motifs match on the forward strand (E < 0.05): the gap in the
    /// database motifs' own coordinates, free of segment padding.
    #[serde(default)]
    pub database_gaps: Vec<DatabaseGap>,
    /// Per syntax group, where each tree node's motifs first occur together
    /// in one neuron of a lower layer decoupled into the same folder.
    #[serde(default)]
    pub occurs: Vec<Vec<Occurrence>>,
    /// Seconds: sampling, demixing, dictionary and syntax.
    pub seconds: Seconds,
    /// The neuron's plain activation alignment (`--align`), whose motif is
    /// aligned.meme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aligned: Option<Aligned>,
}

/// A neuron's activation alignment on `--align` sequences, for comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aligned {
    /// The sequence file.
    pub source: String,
    /// Its best database match.
    pub best: Option<BestMatch>,
}

/// A neuron's sampling record (sampling.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// How samples were found.
    pub method: Method,
    /// Samples kept.
    pub samples: usize,
    /// GA iterations (0 when exhaustive).
    pub iterations: usize,
    /// Whether the GA started from the previous layer's motifs.
    pub seeded: bool,
    /// Mean activation of the population per GA iteration.
    pub mean_activation_per_iteration: Vec<f64>,
    /// Seconds.
    pub seconds: f64,
    /// Engine that ran.
    pub engine: String,
}

/// Seconds of one demixing (m<M>/time.json).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DemixTime {
    /// Seconds.
    pub seconds: f64,
}

/// The settings a layer folder was made with (the fingerprint of its
/// `neurons.journal`, and run.json's config): a rerun with others is
/// refused, so results never mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The model's SHA-256.
    pub model_sha256: String,
    /// Layer.
    pub layer: usize,
    /// Seed.
    pub seed: u64,
    /// Sampling settings.
    pub sampling: SampleConfig,
    /// Whether the GA is seeded from the layer below.
    pub seeded: bool,
    /// Window (bp).
    pub window: usize,
}

/// One step of NeuronMotif's rule for m.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleStep {
    /// Motifs per neuron tried.
    pub m: u32,
    /// Each neuron's r = max conact / max activation.
    pub r: Vec<f64>,
    /// Whether the t-test accepted this m.
    pub accepted: bool,
}

/// The layer's result (layer.json and summary.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSummary {
    /// Layer.
    pub layer: usize,
    /// Its Conv node.
    pub node: String,
    /// Window (bp): the layer's receptive field.
    pub window: usize,
    /// Input stride between adjacent neurons (bp).
    pub jump: usize,
    /// Neurons (channels) of the layer.
    pub neurons: usize,
    /// Neurons finished so far.
    pub finished: usize,
    /// Motifs per neuron m used.
    pub motifs_per_neuron: u32,
    /// The rule's steps when m was chosen by it.
    pub rule: Vec<RuleStep>,
    /// Engine that ran.
    pub engine: String,
    /// The database, as messages name it.
    pub database: String,
    /// The conv chain up to this layer.
    pub geometry: Vec<ChainLayer>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A match and a miss serialise as neuron.json has always held them,
    /// and read back.
    #[test]
    fn best_matches_round_trip_in_their_file_shape() {
        let miss = BestMatch { query: "crm0".into(), target: None, hit: None };
        assert_eq!(
            serde_json::to_value(&miss).unwrap(),
            serde_json::json!({"query": "crm0", "target": null})
        );
        let hit = BestMatch {
            query: "crm1".into(),
            target: Some("MA0035.5".into()),
            hit: Some(MatchStats {
                name: Some("GATA1".into()),
                p: 1e-6,
                e: 1e-3,
                q: 2e-3,
                offset: -2,
                overlap: 9,
                reverse: true,
            }),
        };
        let v = serde_json::to_value(&hit).unwrap();
        assert_eq!(v["name"], "GATA1");
        assert_eq!(v["e"], 1e-3);
        for m in [miss, hit] {
            let back: BestMatch =
                serde_json::from_value(serde_json::to_value(&m).unwrap()).unwrap();
            assert_eq!(back, m);
        }
    }
}
