//! A neuron's motif dictionary (NeuronMotif's `build_dict.py`), grown with
//! the matcher plugin comparing forward strands only (`-norc`).

use std::collections::{BTreeMap, BTreeSet};

use motif_core::motif::{Motif, MotifSet};
use motif_core::plugin::{Match, MatcherInput, MotifMatcher};
use serde::{Deserialize, Serialize};

use crate::segment::{Segment, dictionary_segments};
use crate::{Crm, Error, Result};

/// One dictionary motif.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The segment that represents it.
    pub segment: Segment,
    /// Its PPM rows.
    pub ppm: Vec<[f64; 4]>,
    /// Segments of the neuron's CRMs matching it (q < 1e-3).
    pub matched: usize,
}

/// The dictionary and what it explains.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dictionary {
    /// The motifs.
    pub entries: Vec<Entry>,
    /// Every dictionary segment of every CRM.
    pub segments: Vec<Segment>,
    /// CRMs with a segment matching an entry at q < 1e-3.
    pub explained: Vec<usize>,
    /// Rounds run.
    pub rounds: usize,
}

/// A motif set of `segs` (PPMs from `crms`).
#[must_use]
pub fn motif_set(segs: &[&Segment], crms: &[Crm]) -> MotifSet {
    MotifSet {
        motifs: segs
            .iter()
            .map(|s| {
                let mut m = Motif::from_matrix(s.id.clone(), s.ppm(&crms[s.crm]))
                    .expect("segments are non-empty PPMs");
                m.nsites = Some(crms[s.crm].size.max(1) as f64);
                m
            })
            .collect(),
        background: [0.25; 4],
        has_background: true,
        warnings: Vec::new(),
    }
}

fn compare(
    matcher: &dyn MotifMatcher,
    q: &[&Segment],
    t: &[&Segment],
    crms: &[Crm],
) -> Result<Vec<Match>> {
    if q.is_empty() || t.is_empty() {
        return Ok(Vec::new());
    }
    let (qs, ts) = (motif_set(q, crms), motif_set(t, crms));
    let m = matcher.compare(MatcherInput { queries: &qs, targets: &ts })?;
    Ok(m.into_iter().filter(|m| !m.reverse).collect())
}

/// Groups `dict` (indices into `segs`) whose members match each other at
/// q < 0.01; each group is represented by one segment.
///
/// Departures from the original (single-linkage groups of one-way matches,
/// represented by their longest segment), which let a chimera of two
/// motifs (TFEC's last base starting GATA1: `CACGTGACTAATCT`) join both
/// motifs' groups and then stand for them in the dictionary:
/// - a pair counts only when each matches the other (tomtom's q-values are
///   not symmetric);
/// - groups are complete-linkage: merged, strongest pair first, only when
///   every member pair across them matches;
/// - the representative is the member most similar to the rest (largest
///   sum of −log10 q over its matches in the group), then the longest.
fn dedupe(
    matcher: &dyn MotifMatcher,
    dict: &[usize],
    segs: &[Segment],
    crms: &[Crm],
) -> Result<Vec<usize>> {
    let d: Vec<&Segment> = dict.iter().map(|&i| &segs[i]).collect();
    let m = compare(matcher, &d, &d, crms)?;
    let n = d.len();
    let mut q = vec![f64::INFINITY; n * n];
    for x in m.iter().filter(|x| x.query_index != x.target_index) {
        let c = &mut q[x.query_index * n + x.target_index];
        *c = c.min(x.q_value);
    }
    // Strength of a mutual match: the weaker direction's −log10 q.
    let strength = |a: usize, b: usize| -> Option<f64> {
        let w = q[a * n + b].max(q[b * n + a]);
        (w < 0.01).then(|| -w.max(1e-300).log10())
    };
    let mut pairs: Vec<(usize, usize, f64)> = (0..n)
        .flat_map(|a| ((a + 1)..n).map(move |b| (a, b)))
        .filter_map(|(a, b)| strength(a, b).map(|s| (a, b, s)))
        .collect();
    pairs.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    let mut group: Vec<usize> = (0..n).collect();
    for (a, b, _) in pairs {
        let (ga, gb) = (group[a], group[b]);
        if ga == gb {
            continue;
        }
        let (ma, mb): (Vec<usize>, Vec<usize>) = (
            (0..n).filter(|&i| group[i] == ga).collect(),
            (0..n).filter(|&i| group[i] == gb).collect(),
        );
        if ma.iter().all(|&x| mb.iter().all(|&y| strength(x, y).is_some())) {
            for g in &mut group {
                if *g == gb {
                    *g = ga;
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &g) in group.iter().enumerate() {
        groups.entry(g).or_default().push(i);
    }
    Ok(groups
        .into_values()
        .map(|g| {
            let score = |i: usize| -> f64 {
                g.iter().filter(|&&j| j != i).filter_map(|&j| strength(i, j)).sum()
            };
            let len = |i: usize| d[i].end - d[i].start;
            let best = *g
                .iter()
                .max_by(|&&a, &&b| {
                    score(a)
                        .total_cmp(&score(b))
                        .then(len(a).cmp(&len(b)))
                        .then(d[b].id.cmp(&d[a].id))
                })
                .expect("non-empty group");
            dict[best]
        })
        .collect())
}

/// Builds the dictionary of one neuron's CRMs (`crms`, in index order)
/// with `matcher` (which must compare forward strands only, tomtom's
/// `-norc`):
/// 1. score each CRM: (segment IC − background IC)/max + conact/max act +
///    max act/max over CRMs;
/// 2. start from the best CRM's segments, grouping those that match each
///    other (q < 0.01; see `dedupe` for how this departs from the original);
/// 3. drop entries matched by at most one segment (q < 1e-4); a CRM is
///    explained when one of its segments matches an entry (q < 1e-3);
/// 4. add the best unexplained CRM's segments while each round explains at
///    least 3 more CRMs;
/// 5. among never-matched segments of explained CRMs, greedily add the one
///    matching (q < 1e-5) the most, while it matches ≥ 30 % of the CRMs.
///
/// # Errors
/// If the matcher fails.
#[allow(
    clippy::too_many_lines,
    reason = "NeuronMotif's dictionary rounds as the original runs them"
)]
pub fn dictionary(crms: &[Crm], matcher: &dyn MotifMatcher) -> Result<Dictionary> {
    if crms.iter().enumerate().any(|(i, c)| c.index != i) {
        return Err(Error::Invalid("CRMs must be in index order".into()));
    }
    let mut segs: Vec<Segment> = Vec::new();
    let mut bg = vec![0.0; crms.len()];
    for c in crms {
        let (s, b) = dictionary_segments(c);
        bg[c.index] = b;
        segs.extend(s);
    }
    let mut out = Dictionary { segments: segs.clone(), ..Dictionary::default() };
    if segs.is_empty() {
        return Ok(out);
    }
    // 1. Scores.
    let seg_ic: Vec<Option<f64>> = crms
        .iter()
        .map(|c| {
            let v: Vec<f64> = segs.iter().filter(|s| s.crm == c.index).map(|s| s.ic).collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64 - bg[c.index])
        })
        .collect();
    let max_ic = seg_ic.iter().flatten().copied().fold(f64::MIN, f64::max).max(1e-12);
    let max_act = crms.iter().map(|c| f64::from(c.max_act)).fold(0.0, f64::max).max(1e-12);
    let score: Vec<f64> = crms
        .iter()
        .map(|c| match seg_ic[c.index] {
            None => f64::NEG_INFINITY,
            Some(s) => {
                let m = f64::from(c.max_act).max(1e-12);
                s / max_ic + f64::from(c.conact) / m + m / max_act
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..crms.len()).filter(|&i| seg_ic[i].is_some()).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    let of_crm =
        |c: usize| -> Vec<usize> { (0..segs.len()).filter(|&i| segs[i].crm == c).collect() };
    let all: Vec<&Segment> = segs.iter().collect();
    // 2–4.
    let mut dict = dedupe(matcher, &of_crm(order[0]), &segs, crms)?;
    let mut explained: BTreeSet<usize> = BTreeSet::new();
    let mut matched_segs: BTreeSet<usize> = BTreeSet::new();
    // CRMs whose segments were added: each is added at most once, so the
    // loop runs at most one round per CRM whatever the grouping does (the
    // explained set is replaced each round and need not grow).
    let mut tried: BTreeSet<usize> = BTreeSet::from([order[0]]);
    loop {
        out.rounds += 1;
        let d: Vec<&Segment> = dict.iter().map(|&i| &segs[i]).collect();
        let m = compare(matcher, &all, &d, crms)?;
        let mut strong = vec![0usize; dict.len()];
        let mut matched = vec![0usize; dict.len()];
        for x in &m {
            if x.q_value < 1e-4 {
                strong[x.target_index] += 1;
            }
            if x.q_value < 1e-3 {
                matched[x.target_index] += 1;
            }
        }
        let keep: Vec<usize> = (0..dict.len()).filter(|&t| strong[t] > 1).collect();
        let kept: BTreeSet<usize> = keep.iter().copied().collect();
        let mut now: BTreeSet<usize> = BTreeSet::new();
        let mut now_segs: BTreeSet<usize> = BTreeSet::new();
        for x in m.iter().filter(|x| x.q_value < 1e-3 && kept.contains(&x.target_index)) {
            now.insert(segs[x.query_index].crm);
            now_segs.insert(x.query_index);
        }
        let new = now.difference(&explained).count();
        if out.rounds > 1 && new < 3 {
            break;
        }
        dict = keep.iter().map(|&t| dict[t]).collect();
        explained = now;
        matched_segs = now_segs;
        out.entries = dict
            .iter()
            .enumerate()
            .map(|(t, &i)| Entry {
                segment: segs[i].clone(),
                ppm: Crm::rows(&segs[i].ppm(&crms[segs[i].crm])),
                matched: matched[keep[t]],
            })
            .collect();
        let Some(&next) = order.iter().find(|c| !explained.contains(c) && !tried.contains(c))
        else {
            break;
        };
        tried.insert(next);
        let mut grown = dict.clone();
        grown.extend(of_crm(next));
        dict = dedupe(matcher, &grown, &segs, crms)?;
        if dict.is_empty() {
            break;
        }
    }
    // 5. Never-matched segments of explained CRMs.
    let rest: Vec<usize> = (0..segs.len())
        .filter(|i| explained.contains(&segs[*i].crm) && !matched_segs.contains(i))
        .collect();
    if !rest.is_empty() {
        let r: Vec<&Segment> = rest.iter().map(|&i| &segs[i]).collect();
        let m = compare(matcher, &r, &r, crms)?;
        // Queries matching each target at q < 1e-5 (one pass over the matches).
        let mut by_target: Vec<Vec<usize>> = vec![Vec::new(); rest.len()];
        for x in m.iter().filter(|x| x.q_value < 1e-5) {
            by_target[x.target_index].push(x.query_index);
        }
        let mut used = vec![false; rest.len()];
        loop {
            let best = (0..rest.len())
                .filter(|&t| !used[t])
                .map(|t| {
                    let crm_hits: BTreeSet<usize> = by_target[t]
                        .iter()
                        .filter(|&&q| !used[q])
                        .map(|&q| segs[rest[q]].crm)
                        .collect();
                    (t, crm_hits.len())
                })
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
            let Some((t, hits)) = best else { break };
            if (hits as f64) < 0.3 * crms.len() as f64 {
                break;
            }
            for &q in &by_target[t] {
                used[q] = true;
            }
            used[t] = true;
            let s = &segs[rest[t]];
            out.entries.push(Entry {
                segment: s.clone(),
                ppm: Crm::rows(&s.ppm(&crms[s.crm])),
                matched: hits,
            });
        }
    }
    out.explained = explained.into_iter().collect();
    Ok(out)
}

impl Dictionary {
    /// The entries as motifs (ids `D1`, `D2`, … in order).
    #[must_use]
    pub fn motifs(&self) -> MotifSet {
        MotifSet {
            motifs: self
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let mut m = Motif::from_matrix(format!("D{}", i + 1), Crm::array(&e.ppm))
                        .expect("non-empty");
                    m.name = Some(e.segment.id.clone());
                    m
                })
                .collect(),
            background: [0.25; 4],
            has_background: true,
            warnings: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Matches by a fixed pseudo-random relation between segment ids (a
    /// third of the pairs at q = 1e-6, the rest not at all), counting calls.
    struct Scrambled(AtomicUsize, u64);
    impl MotifMatcher for Scrambled {
        fn prepare(
            &self,
            _: &motif_core::motif::MotifSet,
            _: [f64; 4],
        ) -> motif_core::Result<Box<dyn motif_core::plugin::PreparedTargets>> {
            Err(motif_core::Error::Invalid("this test matcher only compares".into()))
        }

        fn compare(&self, input: MatcherInput<'_>) -> motif_core::Result<Vec<Match>> {
            self.0.fetch_add(1, Ordering::Relaxed);
            let h = |a: &str, b: &str| {
                let (a, b) = if a <= b { (a, b) } else { (b, a) };
                a.bytes().chain([0]).chain(b.bytes()).fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
                    (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
                })
            };
            let mut out = Vec::new();
            for (qi, q) in input.queries.motifs.iter().enumerate() {
                for (ti, t) in input.targets.motifs.iter().enumerate() {
                    if q.id == t.id || h(&q.id, &t.id) % self.1 == 0 {
                        out.push(Match {
                            query: q.id.clone(),
                            query_index: qi,
                            target: t.id.clone(),
                            target_index: ti,
                            offset: 0,
                            overlap: q.len().min(t.len()),
                            reverse: false,
                            p_value: 1e-9,
                            e_value: 1e-7,
                            q_value: 1e-6,
                        });
                    }
                }
            }
            Ok(out)
        }
    }

    /// 64 CRMs of 40 bp, each with three sharp 6 bp cores.
    fn crms() -> Vec<Crm> {
        let mut rng = motif_core::rng::Rng::new(3);
        (0..64)
            .map(|index| {
                let ppm = (0..40)
                    .map(|j| {
                        if [4..10, 16..22, 28..34].iter().any(|r| r.contains(&j)) {
                            let mut row = [0.01; 4];
                            row[rng.below(4)] = 0.97;
                            row
                        } else {
                            [0.25; 4]
                        }
                    })
                    .collect();
                Crm {
                    index,
                    path: vec![index],
                    size: 500,
                    max_act: 1.0 + index as f32 * 0.01,
                    conact: 0.9,
                    ppm,
                }
            })
            .collect()
    }

    #[test]
    fn the_dictionary_ends_within_one_round_per_crm() {
        let crms = crms();
        let m = Scrambled(AtomicUsize::new(0), 3);
        let d = dictionary(&crms, &m).unwrap();
        assert!(d.segments.len() >= 64 * 3, "{}", d.segments.len());
        // Each round tries a CRM not tried before: at most one per CRM,
        // each with one comparison and one grouping.
        assert!(d.rounds <= crms.len() + 1, "{} rounds", d.rounds);
        assert!(m.0.load(Ordering::Relaxed) <= 2 * (crms.len() + 1) + 2);
    }
}
