//! Motif syntax (NeuronMotif's `build_tree.py`): where each dictionary
//! motif sits in each CRM, the motif orders the CRMs share, the gaps
//! between adjacent motifs, and a binary tree merging the tightest gaps first.

use std::collections::BTreeMap;

use motif_core::plugin::{MatcherInput, MotifMatcher};
use serde::{Deserialize, Serialize};

use crate::dict::{Dictionary, motif_set};
use crate::segment::Segment;
use crate::{Crm, Result};

/// A dictionary motif placed in a CRM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placed {
    /// Dictionary entry (0-based; motif `D{entry+1}`).
    pub entry: usize,
    /// Start of the dictionary motif in the CRM (may be negative).
    pub start: i64,
}

/// The gap statistics of one adjacent pair in a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    /// Left motif (entry).
    pub left: usize,
    /// Right motif (entry).
    pub right: usize,
    /// Smallest start distance kept.
    pub min: i64,
    /// Largest start distance kept.
    pub max: i64,
    /// Mean start distance kept.
    pub mean: f64,
    /// CRMs contributing.
    pub n: usize,
    /// Gap = distance − the left motif's length: the label's numbers.
    pub gap_min: i64,
    /// Largest gap.
    pub gap_max: i64,
    /// Smallest gap between the two motifs' informative cores (first to
    /// last column above 1 bit), independent of segment padding.
    #[serde(default)]
    pub core_gap_min: i64,
    /// Largest core gap.
    #[serde(default)]
    pub core_gap_max: i64,
}

/// Columns of a dictionary motif that another motif occupies: a database
/// match's aligned target, or the informative core. `start` may be
/// negative when it begins before the dictionary motif.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// First column, relative to the dictionary motif's first column.
    pub start: i64,
    /// Length.
    pub len: i64,
}

impl Anchor {
    /// The informative core of `ppm` (rows A, C, G, T per column): first to
    /// last column above 1 bit, or the whole motif when none is.
    #[must_use]
    pub fn core(ppm: &[[f64; 4]]) -> Self {
        match crate::ppm::informative_span(&Crm::array(ppm), 1.0) {
            Some((f, l)) => Self { start: f as i64, len: (l - f + 1) as i64 },
            None => Self { start: 0, len: ppm.len() as i64 },
        }
    }

    /// Where a matched target sits in the query: its column 0 faces query
    /// column −offset (the matcher's `target column = query column + offset`).
    #[must_use]
    pub fn of_match(offset: i32, target_len: usize) -> Self {
        Self { start: -i64::from(offset), len: target_len as i64 }
    }
}

impl Pair {
    /// Smallest and largest gap between `left` (inside the left motif) and
    /// `right` (inside the right motif) over the pair's distances.
    #[must_use]
    pub fn gap_between(&self, left: Anchor, right: Anchor) -> (i64, i64) {
        let f = |d: i64| d + right.start - (left.start + left.len);
        (f(self.min), f(self.max))
    }

    /// "Gap size: N bp" or "Gap range: a~b bp".
    #[must_use]
    pub fn label(&self) -> String {
        if self.gap_min == self.gap_max {
            format!("Gap size: {} bp", self.gap_min)
        } else {
            format!("Gap range: {}~{} bp", self.gap_min, self.gap_max)
        }
    }
}

/// A node of the syntax tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Node {
    /// A dictionary motif.
    Motif {
        /// Entry (0-based).
        motif: usize,
    },
    /// Two adjacent sub-trees and the gap between them.
    Join {
        /// The gap label.
        gap: String,
        /// The pair at the junction.
        pair: Pair,
        /// Left sub-tree.
        left: Box<Node>,
        /// Right sub-tree.
        right: Box<Node>,
    },
}

impl Node {
    /// The dictionary entries of this sub-tree, left to right.
    #[must_use]
    pub fn motifs(&self) -> Vec<usize> {
        match self {
            Self::Motif { motif } => vec![*motif],
            Self::Join { left, right, .. } => {
                let mut v = left.motifs();
                v.extend(right.motifs());
                v
            }
        }
    }

    /// Every sub-tree, root first.
    #[must_use]
    pub fn nodes(&self) -> Vec<&Node> {
        let mut out = vec![self];
        if let Self::Join { left, right, .. } = self {
            out.extend(left.nodes());
            out.extend(right.nodes());
        }
        out
    }
}

/// CRMs sharing one motif order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// The motif order (entries), the longest in the group.
    pub motifs: Vec<usize>,
    /// CRMs in the group (their order is this one or a part of it).
    pub crms: Vec<usize>,
    /// Adjacent pairs of `motifs`.
    pub pairs: Vec<Pair>,
    /// The tree.
    pub tree: Node,
}

/// The syntax of one neuron.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Syntax {
    /// Motifs placed per CRM, by start.
    pub placed: BTreeMap<usize, Vec<Placed>>,
    /// Groups, largest motif order first.
    pub groups: Vec<Group>,
}

fn is_subsequence(short: &[usize], long: &[usize]) -> bool {
    let mut it = long.iter();
    short.iter().all(|s| it.any(|l| l == s))
}

/// All increasing embeddings of `short` into `long` (matching entries).
fn embeddings(
    short: &[usize],
    long: &[usize],
    from: usize,
    acc: &mut Vec<usize>,
    out: &mut Vec<Vec<usize>>,
) {
    if acc.len() == short.len() {
        out.push(acc.clone());
        return;
    }
    if out.len() > 10_000 {
        return;
    }
    for j in from..long.len() {
        if long[j] == short[acc.len()] {
            acc.push(j);
            embeddings(short, long, j + 1, acc, out);
            acc.pop();
        }
    }
}

/// Builds the syntax of `crms` from their dictionary `dict`, with
/// `matcher` comparing forward strands (`-norc`): a segment places a
/// dictionary motif when it matches it at q ≤ 1e-3 over at least half the
/// motif's length, at start = segment start − offset; a segment places
/// every such motif whose informative core overlaps no better one's by
/// more than a column (the original places only the best).
///
/// # Errors
/// If the matcher fails.
#[allow(
    clippy::too_many_lines,
    reason = "NeuronMotif's syntax tree construction as the original runs it"
)]
pub fn syntax(crms: &[Crm], dict: &Dictionary, matcher: &dyn MotifMatcher) -> Result<Syntax> {
    let mut out = Syntax::default();
    if dict.entries.is_empty() || dict.segments.is_empty() {
        return Ok(out);
    }
    let segs: Vec<&Segment> = dict.segments.iter().collect();
    let qs = motif_set(&segs, crms);
    let ts = dict.motifs();
    let m = matcher.compare(MatcherInput { queries: &qs, targets: &ts })?;
    let lens: Vec<usize> = dict.entries.iter().map(|e| e.ppm.len()).collect();
    let cores: Vec<Anchor> = dict.entries.iter().map(|e| Anchor::core(&e.ppm)).collect();
    // Per segment, its matches best first, each kept unless its core
    // overlaps a kept one's by more than a column. Departure from the
    // original (one motif per segment): a segment holding two abutting
    // motifs places both.
    let mut per_seg: BTreeMap<usize, Vec<&motif_core::plugin::Match>> = BTreeMap::new();
    for x in m
        .iter()
        .filter(|x| !x.reverse && x.q_value <= 1e-3 && 2 * x.overlap >= lens[x.target_index])
    {
        per_seg.entry(x.query_index).or_default().push(x);
    }
    for (&qi, xs) in &mut per_seg {
        xs.sort_by(|a, b| {
            a.q_value.total_cmp(&b.q_value).then(a.target_index.cmp(&b.target_index))
        });
        let s = segs[qi];
        let mut kept: Vec<(i64, i64)> = Vec::new();
        for x in xs.iter() {
            let start = s.start as i64 - i64::from(x.offset);
            let c = cores[x.target_index];
            let span = (start + c.start, start + c.start + c.len);
            if kept.iter().any(|k| span.1.min(k.1) - span.0.max(k.0) > 1) {
                continue;
            }
            kept.push(span);
            let p = Placed { entry: x.target_index, start };
            let list = out.placed.entry(s.crm).or_default();
            if !list.contains(&p) {
                list.push(p);
            }
        }
    }
    for list in out.placed.values_mut() {
        list.sort_by_key(|p| (p.start, p.entry));
    }
    // Group CRMs by motif order: longest orders first, each CRM into the
    // first group whose order contains its own.
    let mut orders: Vec<(usize, Vec<usize>)> =
        out.placed.iter().map(|(&c, l)| (c, l.iter().map(|p| p.entry).collect())).collect();
    orders.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let mut groups: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    for (c, o) in orders {
        match groups.iter_mut().find(|g| is_subsequence(&o, &g.0)) {
            Some(g) => g.1.push(c),
            None => groups.push((o, vec![c])),
        }
    }
    for (key, members) in groups {
        let n = key.len();
        // Mean positions from the full-length members.
        let full: Vec<&Vec<Placed>> =
            members.iter().map(|c| &out.placed[c]).filter(|l| l.len() == n).collect();
        let mean: Vec<f64> = (0..n)
            .map(|i| full.iter().map(|l| l[i].start as f64).sum::<f64>() / full.len().max(1) as f64)
            .collect();
        // Each member aligned to the key: the embedding closest to the means.
        let mut aligned: Vec<Vec<Option<i64>>> = Vec::new();
        for c in &members {
            let l = &out.placed[c];
            let short: Vec<usize> = l.iter().map(|p| p.entry).collect();
            let mut embs = Vec::new();
            embeddings(&short, &key, 0, &mut Vec::new(), &mut embs);
            let Some(e) = embs.into_iter().min_by(|a, b| {
                let cost = |e: &Vec<usize>| -> f64 {
                    e.iter().zip(l).map(|(&j, p)| (p.start as f64 - mean[j]).powi(2)).sum()
                };
                cost(a).total_cmp(&cost(b))
            }) else {
                continue;
            };
            let mut row = vec![None; n];
            for (&j, p) in e.iter().zip(l) {
                row[j] = Some(p.start);
            }
            aligned.push(row);
        }
        let pairs: Vec<Pair> = (0..n.saturating_sub(1))
            .map(|i| {
                let mut d: Vec<i64> =
                    aligned.iter().filter_map(|r| Some(r[i + 1]? - r[i]?)).collect();
                let mu = d.iter().sum::<i64>() as f64 / d.len().max(1) as f64;
                let near: Vec<i64> =
                    d.iter().copied().filter(|&x| (x as f64 - mu).abs() <= 4.0).collect();
                if !d.is_empty() && near.len() as f64 > 0.8 * d.len() as f64 {
                    d = near;
                }
                let (min, max) =
                    (d.iter().copied().min().unwrap_or(0), d.iter().copied().max().unwrap_or(0));
                let left_len = lens[key[i]] as i64;
                let mut p = Pair {
                    left: key[i],
                    right: key[i + 1],
                    min,
                    max,
                    mean: d.iter().sum::<i64>() as f64 / d.len().max(1) as f64,
                    n: d.len(),
                    gap_min: min - left_len,
                    gap_max: max - left_len,
                    core_gap_min: 0,
                    core_gap_max: 0,
                };
                (p.core_gap_min, p.core_gap_max) = p.gap_between(cores[key[i]], cores[key[i + 1]]);
                p
            })
            .collect();
        // Merge adjacent pairs, tightest range first (ties: smallest mean).
        let mut nodes: Vec<Node> = key.iter().map(|&e| Node::Motif { motif: e }).collect();
        let mut junctions: Vec<Pair> = pairs.clone();
        while nodes.len() > 1 {
            let i = (0..junctions.len())
                .min_by(|&a, &b| {
                    let (pa, pb) = (&junctions[a], &junctions[b]);
                    (pa.max - pa.min).cmp(&(pb.max - pb.min)).then(pa.mean.total_cmp(&pb.mean))
                })
                .expect("n > 1");
            let pair = junctions.remove(i);
            let right = nodes.remove(i + 1);
            let left = nodes.remove(i);
            nodes.insert(
                i,
                Node::Join {
                    gap: pair.label(),
                    pair,
                    left: Box::new(left),
                    right: Box::new(right),
                },
            );
        }
        out.groups.push(Group {
            motifs: key,
            crms: members,
            pairs,
            tree: nodes.pop().expect("one root"),
        });
    }
    Ok(out)
}

/// Lower-layer segments place a dictionary motif at q below this
/// (NeuronMotif's "occurs in layer").
pub const OCCURS_Q: f64 = 1e-5;

/// Where a tree node's motifs first occur together: the first lower layer
/// with one neuron whose segments match all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// The node's dictionary entries, left to right.
    pub motifs: Vec<usize>,
    /// The layer.
    pub layer: usize,
    /// The first such neuron of that layer.
    pub neuron: usize,
}

/// The dictionary entries each lower-layer neuron's segments match on the
/// forward strand at q < [`OCCURS_Q`]. `lower` holds each neuron's
/// segments and the CRMs they cut.
///
/// # Errors
/// If the matcher fails.
pub fn lower_matches(
    lower: &[(&[Segment], &[Crm])],
    dict: &Dictionary,
    matcher: &dyn MotifMatcher,
) -> Result<Vec<std::collections::BTreeSet<usize>>> {
    let mut out = vec![std::collections::BTreeSet::new(); lower.len()];
    let mut owner = Vec::new();
    let mut qs = motif_set(&[], &[]);
    for (i, (segs, crms)) in lower.iter().enumerate() {
        let set = motif_set(&segs.iter().collect::<Vec<_>>(), crms);
        owner.extend(std::iter::repeat_n(i, set.motifs.len()));
        qs.motifs.extend(set.motifs);
    }
    if qs.motifs.is_empty() || dict.entries.is_empty() {
        return Ok(out);
    }
    let ts = dict.motifs();
    for x in matcher.compare(MatcherInput { queries: &qs, targets: &ts })? {
        if !x.reverse && x.q_value < OCCURS_Q {
            out[owner[x.query_index]].insert(x.target_index);
        }
    }
    Ok(out)
}

/// For every node of `tree` (root first), the first `(layer, neuron)` of
/// `lower` (in layer order) whose matched entries include all the node's
/// motifs; nodes found nowhere are left out.
#[must_use]
pub fn occurrences(
    tree: &Node,
    lower: &[(usize, usize, std::collections::BTreeSet<usize>)],
) -> Vec<Occurrence> {
    let mut order: Vec<&(usize, usize, _)> = lower.iter().collect();
    order.sort_by_key(|(l, n, _)| (*l, *n));
    tree.nodes()
        .into_iter()
        .filter_map(|node| {
            let motifs = node.motifs();
            order
                .iter()
                .find(|(_, _, m)| motifs.iter().all(|e| m.contains(e)))
                .map(|(l, n, _)| Occurrence { motifs: motifs.clone(), layer: *l, neuron: *n })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsequences_and_embeddings() {
        assert!(is_subsequence(&[1, 3], &[1, 2, 3]));
        assert!(!is_subsequence(&[3, 1], &[1, 2, 3]));
        let mut out = Vec::new();
        embeddings(&[0], &[0, 1, 0], 0, &mut Vec::new(), &mut out);
        assert_eq!(out, vec![vec![0], vec![2]]);
    }

    #[test]
    fn labels() {
        let p = Pair {
            left: 0,
            right: 1,
            min: 10,
            max: 10,
            mean: 10.0,
            n: 3,
            gap_min: 3,
            gap_max: 3,
            core_gap_min: 0,
            core_gap_max: 0,
        };
        assert_eq!(p.label(), "Gap size: 3 bp");
        let p = Pair { gap_max: 5, ..p };
        assert_eq!(p.label(), "Gap range: 3~5 bp");
    }
}
