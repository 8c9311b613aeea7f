//! The `tomtom` matcher plugin: [`MotifMatcher`] over the library API.

use motif_core::Result;
use motif_core::motif::{Motif, MotifSet};
use motif_core::plugin::{Configured, Hit, MotifMatcher, PreparedTargets, QueryMatches, Status};

use crate::{Config, Database, MemeRng, TSV_HEADER, compare_with, format, tsv_footer};

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

/// A prepared tomtom database and the random stream its q-values draw
/// from (MEME's, carried across calls in query order).
struct Prepared {
    db: Database,
    rng: MemeRng,
}

impl PreparedTargets for Prepared {
    fn compare(&mut self, queries: &[Motif]) -> Result<Vec<QueryMatches>> {
        for q in queries {
            self.db.config().check_scorable(q)?;
        }
        let results = compare_with(&self.db, queries, &mut self.rng)?;
        let cfg = self.db.config();
        Ok(results
            .into_iter()
            .map(|r| {
                let mask = r.reported_mask(cfg);
                let hits =
                    r.scored.hits.iter().zip(mask).map(|(h, rep)| h.typed(&self.db, rep)).collect();
                QueryMatches { query: r.scored.id, consensus: r.scored.consensus, hits }
            })
            .collect())
    }

    fn skip(&mut self, queries: usize) {
        let per_query = crate::qvalue::draws_per_query(self.db.entries.len());
        self.rng.skip_draws(queries.saturating_mul(per_query));
    }

    fn len(&self) -> usize {
        self.db.targets.len()
    }

    fn warnings(&self) -> &[String] {
        &self.db.warnings
    }

    fn target_consensus(&self, hit: &Hit) -> String {
        // kept targets are in input order
        self.db
            .targets
            .binary_search_by_key(&hit.target, |t| t.index)
            .map(|t| self.db.consensus_of(t, hit.reverse).to_owned())
            .unwrap_or_default()
    }

    fn tsv_frame(&self, command: &str) -> (String, String) {
        (TSV_HEADER.to_owned(), tsv_footer(command))
    }

    fn tsv_rows(&self, results: &[QueryMatches], targets: &MotifSet) -> String {
        let mut out = String::new();
        for r in results {
            for h in r.reported() {
                let id = targets.motifs.get(h.target).map_or("", |m| m.id.as_str());
                format::push_row(
                    &mut out,
                    &r.query,
                    id,
                    h,
                    &r.consensus,
                    &self.target_consensus(h),
                );
            }
        }
        out
    }
}

impl MotifMatcher for TomtomMatcher {
    fn prepare(
        &self,
        targets: &MotifSet,
        background: [f64; 4],
    ) -> Result<Box<dyn PreparedTargets>> {
        for t in &targets.motifs {
            self.cfg.check_scorable(t)?;
        }
        let query_bg = MotifSet { background, ..MotifSet::default() };
        let db = Database::new(targets, self.cfg.background_for(&query_bg), &self.cfg)?;
        Ok(Box::new(Prepared { db, rng: MemeRng::new() }))
    }
}

motif_core::register_plugin!(MotifMatcher, TomtomMatcher,
    name: "tomtom",
    summary: "MEME tomtom 5.5.8's motif comparison: same p-, E- and q-values, in process",
    status: Status::Stable("0.1.0"));

#[cfg(test)]
mod tests {
    use std::path::Path;

    use motif_core::motif::parse_meme;

    use super::*;
    use crate::{compare, tsv_rows};

    fn sets() -> (MotifSet, MotifSet) {
        let q = include_str!("../../../data/tomtom/reference_queries.meme");
        let db = include_str!("../../../data/motifs/JASPAR2024_CORE_vertebrates_nonredundant.meme");
        (parse_meme(q, Path::new("q.meme")).unwrap(), parse_meme(db, Path::new("db.meme")).unwrap())
    }

    /// The prepared matcher gives the library's numbers and rows, chunked
    /// or not, with every hit typed and the reported ones flagged.
    #[test]
    fn prepared_matches_equal_the_library_and_tomtom_rows() {
        let (queries, targets) = sets();
        let cfg = Config { dist: crate::Distance::Pearson, min_overlap: 5, ..Config::default() };
        let direct = compare(&queries, &targets, &cfg).unwrap();
        let m = TomtomMatcher::new(cfg.clone()).unwrap();
        let mut whole = m.prepare(&targets, queries.background).unwrap();
        let all = whole.compare(&queries.motifs).unwrap();
        let mut chunked = m.prepare(&targets, queries.background).unwrap();
        let (a, b) = queries.motifs.split_at(queries.motifs.len() / 2);
        let mut parts = chunked.compare(a).unwrap();
        parts.extend(chunked.compare(b).unwrap());
        assert_eq!(all, parts, "chunks continue the q-value stream");
        // a block compared after skipping the queries before it gets the
        // whole run's q-values (`match --shard`)
        for at in [1, queries.motifs.len() / 3, queries.motifs.len() - 1] {
            let mut later = m.prepare(&targets, queries.background).unwrap();
            later.skip(at);
            assert_eq!(later.compare(&queries.motifs[at..]).unwrap(), all[at..], "from query {at}");
        }

        let db = Database::new(&targets, cfg.background_for(&queries), &cfg).unwrap();
        let mut rows = String::from(TSV_HEADER);
        for (d, p) in direct.iter().zip(&all) {
            assert_eq!(d.scored.hits.len(), p.hits.len(), "every entry of both strands");
            for (x, y) in d.scored.hits.iter().zip(&p.hits) {
                assert_eq!(db.targets[x.target].index, y.target);
                assert_eq!((x.offset, x.overlap, x.reverse), (y.offset, y.overlap, y.reverse));
                assert_eq!((x.p_value, x.e_value, x.q_value), (y.p_value, y.e_value, y.q_value));
            }
            assert_eq!(d.reported(&cfg).count(), p.reported().count());
            rows.push_str(&tsv_rows(&db, d, &cfg));
        }
        assert!(all.iter().any(|q| q.reported().count() > 0), "some queries report hits");
        rows.push_str(&tsv_footer("cmd"));
        assert_eq!(whole.tsv(&all, &targets, "cmd"), rows);
    }
}
