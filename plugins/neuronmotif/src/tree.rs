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
}

impl Pair {
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
/// motif's length, at start = segment start − offset.
///
/// # Errors
/// If the matcher fails.
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
    // Best match per segment.
    let mut best: BTreeMap<usize, &motif_core::plugin::Match> = BTreeMap::new();
    for x in m
        .iter()
        .filter(|x| !x.reverse && x.q_value <= 1e-3 && 2 * x.overlap >= lens[x.target_index])
    {
        let e = best.entry(x.query_index).or_insert(x);
        if x.q_value < e.q_value {
            *e = x;
        }
    }
    for (&qi, x) in &best {
        let s = segs[qi];
        let p = Placed { entry: x.target_index, start: s.start as i64 - i64::from(x.offset) };
        let list = out.placed.entry(s.crm).or_default();
        if !list.contains(&p) {
            list.push(p);
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
                Pair {
                    left: key[i],
                    right: key[i + 1],
                    min,
                    max,
                    mean: d.iter().sum::<i64>() as f64 / d.len().max(1) as f64,
                    n: d.len(),
                    gap_min: min - left_len,
                    gap_max: max - left_len,
                }
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
        let p =
            Pair { left: 0, right: 1, min: 10, max: 10, mean: 10.0, n: 3, gap_min: 3, gap_max: 3 };
        assert_eq!(p.label(), "Gap size: 3 bp");
        let p = Pair { gap_max: 5, ..p };
        assert_eq!(p.label(), "Gap range: 3~5 bp");
    }
}
