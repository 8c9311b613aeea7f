//! The registered plugins: the seqlet caller, affinity and clustering that
//! discovery uses by default (each replaceable by another plugin of its
//! kind).

use motif_core::plugin::{
    CalledSeqlet, Configured, Contributions, GraphClusterer, SeqletAffinity, SeqletCaller,
    SeqletCalls, SparseGraph, Status, Table,
};
use motif_core::{Error, Result};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::density::Csr;
use crate::leiden::{Graph, best_of};

/// `modisco-seqlets`: modisco-lite's `extract_seqlets` ([`crate::seqlets`]).
#[derive(Debug, Clone)]
pub struct ModiscoSeqlets {
    settings: crate::seqlets::Settings,
}

/// Settings of `modisco-seqlets`: [`crate::seqlets::Settings`].
pub type SeqletConfig = crate::seqlets::Settings;

impl Configured for ModiscoSeqlets {
    type Config = SeqletConfig;

    fn from_config(c: SeqletConfig) -> Result<Self> {
        let bad = |msg: &str| Error::Config { plugin: "modisco-seqlets".into(), msg: msg.into() };
        if c.window == 0 {
            return Err(bad("window must be at least 1"));
        }
        if !(c.target_fdr > 0.0 && c.target_fdr < 1.0) {
            return Err(bad("target-fdr must lie in (0, 1)"));
        }
        if !(0.0..=1.0).contains(&c.min_passing_frac)
            || !(0.0..=1.0).contains(&c.max_passing_frac)
            || c.min_passing_frac > c.max_passing_frac
        {
            return Err(bad("min-passing-frac ≤ max-passing-frac, both in [0, 1]"));
        }
        Ok(Self { settings: c })
    }
}

impl SeqletCaller for ModiscoSeqlets {
    fn call(&self, contrib: &dyn Contributions) -> Result<SeqletCalls> {
        let c = crate::seqlets::call(contrib, &self.settings);
        let seqlets = c
            .positive
            .iter()
            .map(|q| (q, 1))
            .chain(c.negative.iter().map(|q| (q, -1)))
            .map(|(q, sign)| CalledSeqlet { example: q.example, start: q.start, end: q.end, sign })
            .collect();
        Ok(SeqletCalls {
            seqlets,
            thresholds: c.thresholds,
            null: c.null,
            sign_threshold: c.sign_threshold,
        })
    }
}

motif_core::register_plugin!(SeqletCaller, ModiscoSeqlets, name: "modisco-seqlets",
    summary: "TF-MoDISco-lite's seqlets: windowed sums, Laplace null, isotonic FDR thresholds, sign split",
    status: Status::Preview("0.1.0"));

/// `continuous-jaccard`: modisco's fine affinity, the best continuous
/// Jaccard over offsets and strands ([`crate::affinity::fine_affinity`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ContinuousJaccard;

/// `continuous-jaccard` has no settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct NoConfig {}

impl Configured for ContinuousJaccard {
    type Config = NoConfig;

    fn from_config(_: NoConfig) -> Result<Self> {
        Ok(Self)
    }
}

impl SeqletAffinity for ContinuousJaccard {
    fn affinities(
        &self,
        fwd: Vec<Array2<f32>>,
        rev: Vec<Array2<f32>>,
        neighbors: &Table<u32>,
    ) -> Result<Table<f32>> {
        if fwd.len() != rev.len() || neighbors.len() != fwd.len() {
            return Err(Error::Invalid("one representation per strand and neighbour row".into()));
        }
        if let Some(j) = neighbors.flat().iter().find(|&&j| j as usize >= fwd.len()) {
            return Err(Error::Invalid(format!("neighbour {j} of {} seqlets", fwd.len())));
        }
        Ok(crate::affinity::fine_affinity(fwd, rev, neighbors))
    }
}

motif_core::register_plugin!(SeqletAffinity, ContinuousJaccard, name: "continuous-jaccard",
    summary: "modisco's fine affinity: the best continuous Jaccard over offsets and both strands",
    status: Status::Preview("0.1.0"));

/// `leiden`: modularity Leiden, best of several seeded runs
/// ([`crate::leiden`]).
#[derive(Debug, Clone, Copy)]
pub struct Leiden {
    config: LeidenConfig,
}

/// Settings of `leiden`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct LeidenConfig {
    /// Runs (modisco-lite's `-l`); the best modularity is kept.
    pub runs: usize,
    /// Run r uses seed 100·(r + seed) (0: modisco's seeds).
    pub seed: u64,
}

impl Default for LeidenConfig {
    fn default() -> Self {
        Self { runs: 2, seed: 0 }
    }
}

impl Configured for Leiden {
    type Config = LeidenConfig;

    fn from_config(config: LeidenConfig) -> Result<Self> {
        if config.runs == 0 {
            return Err(Error::Config {
                plugin: "leiden".into(),
                msg: "runs must be at least 1".into(),
            });
        }
        Ok(Self { config })
    }
}

impl GraphClusterer for Leiden {
    fn cluster(&self, g: SparseGraph) -> Result<Vec<usize>> {
        let n = g.indptr.len().saturating_sub(1);
        if g.indptr.first().is_some_and(|&s| s != 0)
            || g.indptr.last() != Some(&g.indices.len())
            || g.indptr.windows(2).any(|w| w[0] > w[1])
            || g.indices.len() != g.data.len()
        {
            return Err(Error::Invalid("malformed sparse graph".into()));
        }
        if let Some(&j) = g.indices.iter().find(|&&j| j as usize >= n) {
            return Err(Error::Invalid(format!("column {j} in a graph of {n} nodes")));
        }
        if (0..n).any(|i| g.indices[g.indptr[i]..g.indptr[i + 1]].windows(2).any(|w| w[0] >= w[1]))
        {
            return Err(Error::Invalid("graph columns must be sorted and distinct per row".into()));
        }
        let m = Csr { indptr: g.indptr, indices: g.indices, data: g.data };
        Ok(best_of(&Graph::from_matrix(m), self.config.runs, self.config.seed).1)
    }
}

motif_core::register_plugin!(GraphClusterer, Leiden, name: "leiden",
    summary: "Leiden community detection on modularity, best of seeded runs (as modisco calls leidenalg)",
    status: Status::Preview("0.1.0"));
