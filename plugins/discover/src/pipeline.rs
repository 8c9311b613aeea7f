//! The whole of TF-MoDISco-lite's `motifs` on one set of windows: seqlets
//! called and split by sign, and per sign (metacluster) two rounds of
//! coarse gapped-k-mer neighbours → fine aligned affinities → density
//! adaptation → Leiden → patterns, then subclustering and collapsing of
//! similar patterns, the final support/information filter, and each final
//! pattern's subpatterns.

use crate::collapse::{CollapseSettings, collapse, subclusters, subpatterns};
use crate::gkmer::{self, l2_normalized};
use crate::pattern::{Pattern, Polish, Site, Track, Tracks, from_cluster, strength};
use motif_core::Result;
use motif_core::plugin::{
    Configured, GraphClusterer, SeqletAffinity, SeqletCaller, SeqletCalls, Table,
};
use rayon::prelude::*;

/// Every setting, with modisco-lite's CLI defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// A metacluster runs only with more seqlets than this (100).
    pub min_metacluster_size: usize,
    /// Seqlets kept per metacluster, in calling order (`-n`, 20,000).
    pub max_seqlets_per_metacluster: usize,
    /// Coarse neighbours per seqlet (500, itself not counted).
    pub neighbors: usize,
    /// Round one drops seqlets whose fine and coarse affinities correlate
    /// no better than this (0.15).
    pub correlation_threshold: f64,
    /// Perplexity of the density adaptation (10).
    pub perplexity: f64,
    /// Perplexity of subclustering (50).
    pub subcluster_perplexity: f64,
    /// Polishing of cluster patterns (flank 10, window 30).
    pub polish: Polish,
    /// Columns added to final patterns each side (0).
    pub final_flank: usize,
    /// Fewest seqlets a final pattern keeps (20).
    pub final_min_cluster_size: usize,
    /// Least information in the best window of `min_ic_window` (0.6 bits).
    pub min_ic_in_window: f64,
    /// Window for that test (6).
    pub min_ic_window: usize,
    /// Merging of similar patterns.
    pub collapse: CollapseSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            min_metacluster_size: 100,
            max_seqlets_per_metacluster: 20_000,
            neighbors: 500,
            correlation_threshold: 0.15,
            perplexity: 10.0,
            subcluster_perplexity: 50.0,
            polish: Polish::default(),
            final_flank: 0,
            final_min_cluster_size: 20,
            min_ic_in_window: 0.6,
            min_ic_window: 6,
            collapse: CollapseSettings::default(),
        }
    }
}

/// What a long step reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// Seqlets called: positive and negative counts.
    Seqlets {
        /// Positive seqlets.
        positive: usize,
        /// Negative seqlets.
        negative: usize,
    },
    /// A clustering round starts on `seqlets` of metacluster `sign`.
    Round {
        /// +1 or −1.
        sign: i8,
        /// 1 or 2.
        round: usize,
        /// Seqlets clustered.
        seqlets: usize,
    },
    /// A round's clusters: how many, and how many gave a pattern.
    Clusters {
        /// +1 or −1.
        sign: i8,
        /// Leiden clusters.
        clusters: usize,
        /// Patterns built from them.
        patterns: usize,
    },
    /// Subclustering and merging of a metacluster's patterns.
    Merging {
        /// +1 or −1.
        sign: i8,
        /// Patterns before merging.
        patterns: usize,
    },
    /// A metacluster is done.
    Done {
        /// +1 or −1.
        sign: i8,
        /// Final patterns.
        patterns: usize,
    },
}

/// A final pattern and its subpatterns.
#[derive(Debug, Clone)]
pub struct Found {
    /// The pattern.
    pub pattern: Pattern,
    /// Its subclusters as patterns, largest first.
    pub subpatterns: Vec<Pattern>,
}

/// The plugins discovery runs: the seqlet caller, the seqlet affinity and
/// the clustering (of seqlets into patterns, and of patterns into
/// subpatterns).
pub struct Plugins {
    /// Seqlet caller.
    pub caller: Box<dyn SeqletCaller>,
    /// Seqlet affinity.
    pub affinity: Box<dyn SeqletAffinity>,
    /// Clustering.
    pub clustering: Box<dyn GraphClusterer>,
}

impl Plugins {
    /// modisco-lite's: `modisco-seqlets` with `seqlets`, `continuous-jaccard`
    /// and `leiden` with `runs` runs from `seed`.
    ///
    /// # Errors
    /// If a setting is out of range.
    pub fn modisco(seqlets: crate::plugins::SeqletConfig, runs: usize, seed: u64) -> Result<Self> {
        Ok(Self {
            caller: Box::new(crate::plugins::ModiscoSeqlets::from_config(seqlets)?),
            affinity: Box::new(crate::plugins::ContinuousJaccard),
            clustering: Box::new(crate::plugins::Leiden::from_config(
                crate::plugins::LeidenConfig { runs, seed },
            )?),
        })
    }
}

/// The result of discovery.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The seqlet calling, thresholds and null included.
    pub called: SeqletCalls,
    /// Background (mean one-hot over the metacluster's seqlets) per sign.
    pub background: [Option<[f64; 4]>; 2],
    /// Positive patterns; `None` when the metacluster did not run.
    pub positive: Option<Vec<Found>>,
    /// Negative patterns; `None` when the metacluster did not run.
    pub negative: Option<Vec<Found>>,
}

/// Runs discovery on `tracks` (windows in modisco's frame). Large blocks
/// are mapped on their own from here on ([`crate::memory`]).
///
/// # Errors
/// If a plugin fails.
pub fn discover(
    tracks: &Tracks,
    s: &Settings,
    plugins: &Plugins,
    progress: &mut dyn FnMut(Stage),
) -> Result<Discovery> {
    crate::memory::map_large_blocks();
    let called = plugins.caller.call(tracks)?;
    let of = |sign: i8| -> Vec<Site> {
        called
            .seqlets
            .iter()
            .filter(|q| q.sign == sign)
            .map(|q| Site { example: q.example, start: q.start, end: q.end, revcomp: false })
            .collect()
    };
    let (pos, neg) = (of(1), of(-1));
    progress(Stage::Seqlets { positive: pos.len(), negative: neg.len() });
    let mut background = [None, None];
    let mut run =
        |sign: f64, list: &[Site], progress: &mut dyn FnMut(Stage)| -> Result<Option<Vec<Found>>> {
            if list.len() <= s.min_metacluster_size {
                return Ok(None);
            }
            let sites = &list[..list.len().min(s.max_seqlets_per_metacluster)];
            let bg = mean_onehot(sites, tracks);
            background[usize::from(sign < 0.0)] = Some(bg);
            metacluster(sites, sign, &bg, tracks, s, plugins, progress).map(Some)
        };
    let positive = run(1.0, &pos, progress)?;
    let negative = run(-1.0, &neg, progress)?;
    Ok(Discovery { called, background, positive, negative })
}

/// The mean one-hot over every position of `sites`.
fn mean_onehot(sites: &[Site], tracks: &Tracks) -> [f64; 4] {
    let mut sum = [0f64; 4];
    let mut count = 0usize;
    for s in sites {
        for row in tracks.rows(s, Track::Sequence).rows() {
            for b in 0..4 {
                sum[b] += f64::from(row[b]);
            }
            count += 1;
        }
    }
    sum.map(|v| v / count.max(1) as f64)
}

/// The gapped-k-mer vector (L2-normalised) of `site` read forward or
/// reverse-complemented (`rc`), importance signed by `sign`, in this
/// thread's scratch room.
fn gkmer_vector(site: &Site, rc: bool, sign: f32, tracks: &Tracks) -> Vec<(u64, f64)> {
    thread_local! {
        static SCRATCH: std::cell::RefCell<gkmer::Scratch> =
            std::cell::RefCell::new(gkmer::Scratch::default());
    }
    let (x, h) = (tracks.rows(site, Track::Sequence), tracks.rows(site, Track::Hypothetical));
    let g = gkmer::Settings::default();
    SCRATCH.with(|scratch| {
        let v = gkmer::seqlet_vector(x.view(), h.view(), rc, sign, &g, &mut scratch.borrow_mut());
        l2_normalized(&v)
    })
}

/// The `k` coarse neighbours of each seqlet, best first, and which of
/// their similarities equal the one before ([`crate::affinity::ties`]:
/// all the filter needs of them). Each k-mer vector is formed once.
fn coarse_neighbors(
    seqlets: &[Site],
    sign: f32,
    tracks: &Tracks,
    k: usize,
) -> (Table<u32>, Table<bool>) {
    let stride = gkmer::Settings::default().max_entries;
    let knn = crate::knn::knn(
        seqlets.len(),
        stride,
        &|i| gkmer_vector(&seqlets[i], false, sign, tracks),
        &|j| gkmer_vector(&seqlets[j], true, sign, tracks),
        k,
    );
    let tied = crate::affinity::ties(&knn.sims);
    (knn.neighbors, tied)
}

/// Rounds from this many k-mer entries on hand freed memory back between
/// stages.
const LARGE_ENTRIES: usize = 4 << 20;

/// One clustering round (`seqlets` sorted as modisco sorts them): coarse
/// gapped-k-mer neighbours, fine aligned affinities (round one drops
/// seqlets whose two disagree), density adaptation, Leiden. The seqlets
/// clustered and their labels; `None` when none is left.
fn cluster(
    seqlets: &[Site],
    round: usize,
    sign: f64,
    tracks: &Tracks,
    s: &Settings,
    plugins: &Plugins,
) -> Result<Option<(Vec<Site>, Vec<usize>)>> {
    let large = seqlets.len() * gkmer::Settings::default().max_entries >= LARGE_ENTRIES;
    let (neighbors, tied) = coarse_neighbors(seqlets, sign as f32, tracks, s.neighbors + 1);
    // Large rounds hand freed memory back between stages.
    let release = || {
        if large {
            crate::memory::release_freed();
        }
    };
    release();
    let (rf, rr): (Vec<_>, Vec<_>) = seqlets
        .par_iter()
        .map(|q| {
            crate::affinity::representation(
                tracks.rows(q, Track::Hypothetical).view(),
                tracks.rows(q, Track::Contrib).view(),
            )
        })
        .unzip();
    let fine = plugins.affinity.affinities(rf, rr, &neighbors)?;
    release();
    let (kept, neighbors, fine) = if round == 1 {
        let (kept, nb, aff) = crate::affinity::filter_by_correlation(
            &neighbors,
            &tied,
            &fine,
            s.correlation_threshold,
        );
        drop((neighbors, tied, fine));
        (kept.iter().map(|&i| seqlets[i]).collect::<Vec<_>>(), nb, aff)
    } else {
        drop(tied);
        (seqlets.to_vec(), neighbors, fine)
    };
    release();
    if kept.is_empty() {
        return Ok(None);
    }
    let (mut fine, mut neighbors) = (fine, neighbors);
    let adapted = crate::density::density_adapted(&mut fine, &mut neighbors, s.perplexity);
    drop((fine, neighbors));
    let labels = plugins.clustering.cluster(adapted.into())?;
    release();
    Ok(Some((kept, labels)))
}

/// One metacluster (`seqlets_to_patterns`).
fn metacluster(
    sites: &[Site],
    sign: f64,
    bg: &[f64; 4],
    tracks: &Tracks,
    s: &Settings,
    plugins: &Plugins,
    progress: &mut dyn FnMut(Stage),
) -> Result<Vec<Found>> {
    let sign8: i8 = if sign > 0.0 { 1 } else { -1 };
    let mut keyed: Vec<(f64, Site)> = sites.iter().map(|q| (-strength(q, tracks), *q)).collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut seqlets: Vec<Site> = keyed.into_iter().map(|(_, q)| q).collect();
    let mut patterns: Vec<Pattern> = Vec::new();
    for round in 1..=2 {
        if seqlets.is_empty() {
            return Ok(Vec::new());
        }
        progress(Stage::Round { sign: sign8, round, seqlets: seqlets.len() });
        let Some((kept, labels)) = cluster(&seqlets, round, sign, tracks, s, plugins)? else {
            return Ok(Vec::new());
        };
        let k = labels.iter().max().map_or(0, |&c| c + 1);
        let mut clusters: Vec<Vec<Site>> = vec![Vec::new(); k];
        for (q, &c) in kept.iter().zip(&labels) {
            clusters[c].push(*q);
        }
        patterns = clusters
            .par_iter()
            .map(|c| from_cluster(c, sign, &s.polish, bg, tracks))
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect();
        progress(Stage::Clusters { sign: sign8, clusters: k, patterns: patterns.len() });
        if round == 1 {
            // Unique by key: the first position, the last strand seen.
            let mut at: std::collections::HashMap<(usize, usize, usize), usize> =
                std::collections::HashMap::new();
            seqlets = Vec::new();
            for q in patterns.iter().flat_map(|p| p.seqlets.iter()) {
                if let Some(&i) = at.get(&q.key()) {
                    seqlets[i] = *q;
                } else {
                    at.insert(q.key(), seqlets.len());
                    seqlets.push(*q);
                }
            }
        }
    }
    progress(Stage::Merging { sign: sign8, patterns: patterns.len() });
    let min_in_subcluster = s.final_min_cluster_size.max(s.subcluster_perplexity as usize);
    // Each pattern on its own (in parallel, kept in order).
    let listed: Vec<Vec<Pattern>> = patterns
        .into_par_iter()
        .map(|p| -> Result<Vec<Pattern>> {
            if p.seqlets.len() > min_in_subcluster {
                let labels =
                    subclusters(&p, s.subcluster_perplexity, &*plugins.clustering, tracks)?;
                let subs = subpatterns(&p, &labels, tracks);
                Ok(collapse(subs, &s.collapse, bg, tracks))
            } else {
                Ok(vec![p])
            }
        })
        .collect::<Result<_>>()?;
    let listed: Vec<Pattern> = listed.into_iter().flatten().collect();
    let mut merged = collapse(listed, &s.collapse, bg, tracks);
    merged.sort_by_key(|p| std::cmp::Reverse(p.seqlets.len()));
    let kept: Vec<Pattern> = merged
        .into_iter()
        .filter(|p| p.seqlets.len() >= s.final_min_cluster_size && passes_ic(p, bg, s))
        .filter_map(|p| p.expanded(s.final_flank, s.final_flank, tracks))
        .collect();
    let found: Vec<Found> = kept
        .into_par_iter()
        .map(|pattern| -> Result<Found> {
            let labels =
                subclusters(&pattern, s.subcluster_perplexity, &*plugins.clustering, tracks)?;
            let subpatterns = subpatterns(&pattern, &labels, tracks);
            Ok(Found { pattern, subpatterns })
        })
        .collect::<Result<_>>()?;
    progress(Stage::Done { sign: sign8, patterns: found.len() });
    Ok(found)
}

/// The final filter's information test: the best `min_ic_window` columns
/// (all, when shorter) hold at least `min_ic_in_window` bits.
fn passes_ic(p: &Pattern, bg: &[f64; 4], s: &Settings) -> bool {
    let ic = crate::motif::per_position_ic(p.ppm().view(), bg, 0.001);
    if ic.len() < s.min_ic_window {
        return ic.iter().sum::<f64>() >= s.min_ic_in_window;
    }
    ic.windows(s.min_ic_window).map(|w| w.iter().sum::<f64>()).fold(f64::NEG_INFINITY, f64::max)
        >= s.min_ic_in_window
}
