//! The `tomtom` matcher plugin: [`MotifMatcher`] over the library API.

use motif_core::Result;
use motif_core::plugin::{Configured, Match, MatcherInput, MotifMatcher, Status};

use crate::{Config, Database, MemeRng, compare_with};

/// Tomtom-equivalent matcher (MEME 5.5.8 statistics).
#[derive(Debug, Clone, Default)]
pub struct TomtomMatcher {
    cfg: Config,
}

impl TomtomMatcher {
    /// A matcher with `cfg`.
    ///
    /// # Errors
    /// If the configuration is invalid.
    pub fn new(cfg: Config) -> Result<Self> {
        cfg.validate()?;
        Ok(Self { cfg })
    }
}

impl Configured for TomtomMatcher {
    type Config = Config;

    fn from_config(config: Config) -> Result<Self> {
        Self::new(config)
    }
}

impl MotifMatcher for TomtomMatcher {
    fn compare(&self, input: MatcherInput<'_>) -> Result<Vec<Match>> {
        let db = Database::new(input.targets, self.cfg.background_for(input.queries), &self.cfg)?;
        let results = compare_with(&db, &input.queries.motifs, &mut MemeRng::new())?;
        let mut out = Vec::new();
        for (qi, r) in results.iter().enumerate() {
            for h in r.reported(&self.cfg) {
                let t = &db.targets[h.target];
                out.push(Match {
                    query: r.scored.id.clone(),
                    query_index: qi,
                    target: t.id.clone(),
                    target_index: t.index,
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

motif_core::register_plugin!(MotifMatcher, TomtomMatcher,
    name: "tomtom",
    summary: "MEME tomtom 5.5.8's motif comparison: same p-, E- and q-values, in process",
    status: Status::Stable("0.1.0"));
