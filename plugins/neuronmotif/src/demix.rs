//! Demixing (NeuronMotif's `kmeans.py`): recursive, activation-weighted
//! clustering of a neuron's samples on the feature maps of the layers
//! below it, one split per max-pool shift, then one PPM per cluster.

use motif_core::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::kmeans::weighted_kmeans;
use crate::ppm::{binned_ppm, consensus};
use crate::{Crm, Result};
use motif_core::plugin::{NeuronNetwork, Seqs};

/// Clusters smaller than this are not split further (the main version's rule).
pub const MIN_CLUSTER: usize = 50;

/// Demixing settings: the `neuronmotif` decoupler's config.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DemixConfig {
    /// The exponent m: each layer with pool P splits a cluster into P^m.
    pub motifs: u32,
    /// Do not split clusters smaller than this.
    pub min_cluster: usize,
}

impl Default for DemixConfig {
    fn default() -> Self {
        Self { motifs: 1, min_cluster: MIN_CLUSTER }
    }
}

/// Recursively clusters `idx` from layer `level` down to layer 0; pushes
/// the leaves with their path of cluster labels.
#[allow(
    clippy::too_many_arguments,
    reason = "the recursion carries the split state of the original"
)]
fn split(
    net: &dyn NeuronNetwork,
    seqs: &Seqs,
    v: &[f32],
    idx: Vec<usize>,
    level: usize,
    path: Vec<usize>,
    cfg: &DemixConfig,
    rng: &mut Rng,
    leaves: &mut Vec<(Vec<usize>, Vec<usize>)>,
) -> Result<()> {
    let k = net.pools()[level].pow(cfg.motifs);
    let next = |idx: Vec<usize>, path: Vec<usize>, rng: &mut Rng, leaves: &mut Vec<_>| {
        if level == 0 {
            leaves.push((path, idx));
            Ok(())
        } else {
            split(net, seqs, v, idx, level - 1, path, cfg, rng, leaves)
        }
    };
    if k <= 1 {
        return next(idx, path, rng, leaves);
    }
    if idx.len() < k || idx.len() < cfg.min_cluster {
        leaves.push((path, idx));
        return Ok(());
    }
    let sub = seqs.select(&idx);
    let x = net.layer_values(&sub, level)?;
    let w: Vec<f64> = idx.iter().map(|&i| f64::from(v[i])).collect();
    let labels = weighted_kmeans(x.view(), &w, k, rng);
    for c in 0..k {
        let members: Vec<usize> =
            labels.iter().enumerate().filter(|(_, l)| **l == c).map(|(i, _)| idx[i]).collect();
        if members.is_empty() {
            continue;
        }
        let mut p = path.clone();
        p.push(c);
        next(members, p, rng, leaves)?;
    }
    Ok(())
}

/// The CRM clusters of neuron `k` from its samples (`seqs`, `v` > 0):
/// clustered at layers L−1 … 0 into pool^m clusters per layer, each with
/// its activation-bin PPM and the activation of its consensus sequence.
///
/// # Errors
/// If the engine fails.
pub fn demix(
    net: &dyn NeuronNetwork,
    k: usize,
    seqs: &Seqs,
    v: &[f32],
    cfg: &DemixConfig,
    rng: &mut Rng,
) -> Result<Vec<Crm>> {
    if v.is_empty() {
        return Ok(Vec::new());
    }
    let l = net.pools().len() - 1;
    let all: Vec<usize> = (0..v.len()).collect();
    let mut leaves = Vec::new();
    if l == 0 {
        leaves.push((Vec::new(), all));
    } else {
        split(net, seqs, v, all, l - 1, Vec::new(), cfg, rng, &mut leaves)?;
    }
    let ppms: Vec<_> = leaves.iter().map(|(_, idx)| binned_ppm(seqs, v, idx)).collect();
    let mut cons = Seqs::new(seqs.len);
    for p in &ppms {
        cons.push(&consensus(p));
    }
    let conact = net.neuron_values(&cons, k)?;
    Ok(leaves
        .into_iter()
        .zip(ppms)
        .enumerate()
        .map(|(i, ((path, idx), ppm))| Crm {
            index: i,
            path,
            size: idx.len(),
            max_act: idx.iter().map(|&j| v[j]).fold(0.0, f32::max),
            conact: conact[i],
            ppm: Crm::rows(&ppm),
        })
        .collect())
}

/// NeuronMotif's r for one neuron: the largest conact / max activation over its clusters.
#[must_use]
pub fn ratio(crms: &[Crm]) -> Option<f64> {
    crms.iter()
        .filter(|c| c.max_act > 0.0)
        .map(|c| f64::from(c.conact) / f64::from(c.max_act))
        .max_by(f64::total_cmp)
}

/// The decision rule for m over a layer's neurons (their r values): accept
/// when the one-sample t-test against 0.95 gives t > 0 and p < 0.1, or with
/// fewer than 10 neurons when the mean r exceeds 0.95.
#[must_use]
pub fn accept(r: &[f64]) -> bool {
    if r.is_empty() {
        return true;
    }
    if r.len() < 10 {
        return r.iter().sum::<f64>() / r.len() as f64 > 0.95;
    }
    let (t, p) = crate::stats::ttest_1samp(r, 0.95);
    t > 0.0 && p < 0.1
}
