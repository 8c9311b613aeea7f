//! Sampling sequences that activate one neuron (NeuronMotif's `vis.py`):
//! every sequence when the receptive field is short, else a genetic
//! algorithm whose mutation is a step along the input gradient, seeded
//! from the previous layer's motifs.

use std::collections::HashSet;

use motif_core::rng::Rng;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::net::{Network, Seqs};
use crate::ppm::{consensus, ic_bits};
use crate::{Crm, Result};

/// Sampling settings (the original's values by default).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SampleConfig {
    /// Enumerate all 4^RF sequences below this receptive field (bp).
    pub exhaustive_below: usize,
    /// Most GA iterations.
    pub max_iter: usize,
    /// Stop after this many iterations in a row without a higher mean activation.
    pub patience: usize,
    /// Most sequences kept in the pool.
    pub pool_cap: usize,
    /// Population size; default clamp(⌊RF/20⌋·1000, 2000, 5000).
    pub population: Option<usize>,
}

impl Default for SampleConfig {
    fn default() -> Self {
        Self {
            exhaustive_below: 11,
            max_iter: 200,
            patience: 10,
            pool_cap: 100_000,
            population: None,
        }
    }
}

/// A neuron's samples.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// Sequences with v > 0, deduplicated.
    pub seqs: Seqs,
    /// Their values.
    pub v: Vec<f32>,
    /// How they were found.
    pub method: Method,
    /// GA iterations run (0 when exhaustive).
    pub iterations: usize,
    /// Mean activation of the population per GA iteration.
    pub trace: Vec<f64>,
    /// Whether the GA started from the previous layer's motifs.
    pub seeded: bool,
}

/// How samples were found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// All 4^RF sequences.
    #[default]
    Exhaustive,
    /// The genetic algorithm.
    Genetic,
    /// The seeding weights show the neuron cannot fire; no samples.
    NeverFires,
}

/// Population size for a receptive field of `rf` bp.
#[must_use]
pub fn population(rf: usize) -> usize {
    ((rf / 20) * 1000).clamp(2000, 5000)
}

/// Keeps at most `cap` samples: at most cap/20 from each of 20 equal-width
/// activation bins over (0, max], drawn without replacement.
pub fn cap_pool(s: &mut Samples, cap: usize, rng: &mut Rng) {
    if s.v.len() <= cap {
        return;
    }
    let max = s.v.iter().copied().fold(0.0f32, f32::max);
    let per = cap / 20;
    let mut bins: Vec<Vec<usize>> = vec![Vec::new(); 20];
    for (i, &v) in s.v.iter().enumerate() {
        let b = ((v / max * 20.0).ceil() as usize).clamp(1, 20) - 1;
        bins[b].push(i);
    }
    let mut keep = Vec::new();
    for mut b in bins {
        rng.shuffle(&mut b);
        b.truncate(per);
        keep.extend(b);
    }
    keep.sort_unstable();
    s.seqs = s.seqs.select(&keep);
    s.v = keep.iter().map(|&i| s.v[i]).collect();
}

struct Pool {
    samples: Samples,
    seen: HashSet<Vec<u8>>,
}

impl Pool {
    fn add(&mut self, seqs: &Seqs, v: &[f32]) {
        for (i, &a) in v.iter().enumerate() {
            if a > 0.0 && self.seen.insert(seqs.get(i).to_vec()) {
                self.samples.seqs.push(seqs.get(i));
                self.samples.v.push(a);
            }
        }
    }
}

/// Every sequence of the window length with v > 0.
fn exhaustive(net: &Network, k: usize, cap: usize, rng: &mut Rng) -> Result<Samples> {
    let rf = net.window();
    let total = 1usize << (2 * rf);
    let mut out = Samples { seqs: Seqs::new(rf), ..Samples::default() };
    let block = 1 << 16;
    for lo in (0..total).step_by(block) {
        let hi = (lo + block).min(total);
        let mut s = Seqs::new(rf);
        s.bases.reserve((hi - lo) * rf);
        for code in lo..hi {
            for j in (0..rf).rev() {
                s.bases.push(((code >> (2 * j)) & 3) as u8);
            }
        }
        let v = net.neuron(&s, k)?;
        for (i, &a) in v.iter().enumerate() {
            if a > 0.0 {
                out.seqs.push(s.get(i));
                out.v.push(a);
            }
        }
    }
    cap_pool(&mut out, cap, rng);
    Ok(out)
}

/// Equal-mass binning of positive weights: 20 equal-width bins over
/// (0, max]; each non-empty bin gets mass 1/20 shared in proportion to the
/// values; an empty bin's mass goes to the previous non-empty bin.
/// Returns (entry index, probability) for the positive entries.
#[must_use]
pub fn equal_mass(values: &[f64]) -> Vec<(usize, f64)> {
    let max = values.iter().copied().fold(0.0f64, f64::max);
    if max <= 0.0 {
        return Vec::new();
    }
    let mut bins: Vec<Vec<usize>> = vec![Vec::new(); 20];
    for (i, &v) in values.iter().enumerate() {
        if v > 0.0 {
            let b = ((v / max * 20.0).ceil() as usize).clamp(1, 20) - 1;
            bins[b].push(i);
        }
    }
    let mut prob = vec![0.0f64; values.len()];
    let mut last: Option<usize> = None;
    for b in 0..20 {
        let target = if bins[b].is_empty() { last } else { Some(b) };
        if let Some(t) = target {
            let sum: f64 = bins[t].iter().map(|&i| values[i]).sum();
            for &i in &bins[t] {
                prob[i] += values[i] / sum / 20.0;
            }
        }
        if !bins[b].is_empty() {
            last = Some(b);
        }
    }
    let total: f64 = prob.iter().sum();
    prob.iter().enumerate().filter(|(_, p)| **p > 0.0).map(|(i, p)| (i, p / total)).collect()
}

/// The first and last position with IC > 1 bit, when more than 3 positions have it.
fn core(ppm: &Array2<f64>) -> Option<(usize, usize)> {
    let ic = ic_bits(ppm);
    let hits: Vec<usize> = (0..ic.len()).filter(|&j| ic[j] > 1.0).collect();
    (hits.len() > 3).then(|| (hits[0], *hits.last().expect("non-empty")))
}

/// A previous-layer PPM ready for seeding: consensus, core, whether its consensus fires.
type SeedPpm = (Vec<u8>, Option<(usize, usize)>, bool);

/// The seeded initial population (NeuronMotif's seeding from the previous
/// layer's motifs), or `None` when the neuron cannot fire.
fn seeded(net: &Network, k: usize, prev: &[Vec<Crm>], size: usize, rng: &mut Rng) -> Option<Seqs> {
    let layers = net.layers();
    let l = layers.len() - 1;
    let (lower, top) = (&layers[l - 1], &layers[l]);
    let w = net.kernel();
    let (cin, width) = (top.in_channels, top.width);
    // a_c: summed max activations of channel c's clusters.
    let a: Vec<f64> = (0..cin)
        .map(|c| prev.get(c).map_or(0.0, |cl| cl.iter().map(|x| f64::from(x.max_act)).sum()))
        .collect();
    let m: Vec<f64> = (0..width)
        .flat_map(|p| {
            let a = &a;
            (0..cin).map(move |c| f64::from(w[[k, c, p]]) * a[c])
        })
        .collect();
    if m.iter().copied().fold(f64::NEG_INFINITY, f64::max) <= 0.0 {
        return None;
    }
    let dist = equal_mass(&m);
    let probs: Vec<f64> = dist.iter().map(|d| d.1).collect();
    let rf = net.window();
    let ppms: Vec<Vec<SeedPpm>> = prev
        .iter()
        .map(|cl| {
            cl.iter()
                .map(|x| {
                    let p = x.ppm_array();
                    (consensus(&p), core(&p), x.conact > 0.0)
                })
                .collect()
        })
        .collect();
    let mut out = Seqs::new(rf);
    let draws = lower.pool.min(dist.len());
    for _ in 0..size {
        let mut s: Vec<u8> = (0..rf).map(|_| rng.below(4) as u8).collect();
        let mut marked = vec![false; rf];
        let mut chosen: Vec<usize> = Vec::with_capacity(draws);
        while chosen.len() < draws {
            let e = rng.pick(&probs);
            if !chosen.contains(&e) {
                chosen.push(e);
            }
        }
        for e in chosen {
            let (p, c) = (dist[e].0 / cin, dist[e].0 % cin);
            let Some(list) = ppms.get(c) else { continue };
            let mut order: Vec<usize> = (0..list.len()).collect();
            rng.shuffle(&mut order);
            for i in order {
                let (cons, core, fires) = &list[i];
                let u = rng.below(lower.pool);
                let off = p * top.jump + lower.jump * u;
                if off + cons.len() > rf {
                    continue;
                }
                if let Some((a0, a1)) = core
                    && (off + a0..=off + a1).any(|j| marked[j])
                {
                    continue;
                }
                for (j, &b) in cons.iter().enumerate() {
                    if !marked[off + j] {
                        s[off + j] = b;
                    }
                }
                if let (Some((a0, a1)), true) = (core, fires) {
                    for m in &mut marked[off + a0..=off + a1] {
                        *m = true;
                    }
                }
            }
        }
        out.push(&s);
    }
    Some(out)
}

/// Cumulative weights for repeated draws.
struct Wheel(Vec<f64>);

impl Wheel {
    fn new(w: &[f64]) -> Self {
        let mut acc = 0.0;
        Self(
            w.iter()
                .map(|x| {
                    acc += x;
                    acc
                })
                .collect(),
        )
    }
    fn draw(&self, rng: &mut Rng) -> usize {
        let total = *self.0.last().unwrap_or(&0.0);
        let u = rng.f64() * total;
        self.0.partition_point(|&c| c <= u).min(self.0.len() - 1)
    }
}

/// Samples sequences activating target neuron `k` of `net`. `prev` holds
/// the previous layer's clusters per channel (for seeding; `None` on the
/// first layer or to start from uniform sequences). `progress` gets
/// (iteration, mean activation, pool size).
///
/// # Errors
/// If the engine fails.
#[allow(clippy::too_many_lines, reason = "NeuronMotif's genetic algorithm as the original runs it")]
pub fn sample(
    net: &Network,
    k: usize,
    prev: Option<&[Vec<Crm>]>,
    cfg: &SampleConfig,
    rng: &mut Rng,
    progress: &mut dyn FnMut(usize, f64, usize),
) -> Result<Samples> {
    let rf = net.window();
    if rf < cfg.exhaustive_below {
        return exhaustive(net, k, cfg.pool_cap, rng);
    }
    let size = cfg.population.unwrap_or_else(|| population(rf));
    let layers = net.layers();
    let from_prev = prev.is_some() && layers.len() > 1;
    let mut pop = match prev {
        Some(prev) if layers.len() > 1 => match seeded(net, k, prev, size, rng) {
            Some(p) => p,
            None => {
                return Ok(Samples {
                    seqs: Seqs::new(rf),
                    method: Method::NeverFires,
                    seeded: true,
                    ..Samples::default()
                });
            }
        },
        _ => {
            let mut p = Seqs::new(rf);
            p.bases = (0..size * rf).map(|_| rng.below(4) as u8).collect();
            p
        }
    };
    let jump = net.top().jump;
    let mut pool = Pool {
        samples: Samples {
            seqs: Seqs::new(rf),
            method: Method::Genetic,
            seeded: from_prev,
            ..Samples::default()
        },
        seen: HashSet::new(),
    };
    let (mut best, mut stall) = (f64::NEG_INFINITY, 0usize);
    let n_elite = (size / 10).max(1);
    let cross_frac = if jump > 1 { 0.35 } else { 0.45 };
    for iter in 1..=cfg.max_iter {
        // Mutation: a gradient step on the one-hot input, then sampling.
        let (_, g) = net.gradient(&pop, k)?;
        let mut mutated = Seqs::new(rf);
        mutated.bases.reserve(size * rf);
        for i in 0..pop.n() {
            let s = pop.get(i);
            for (j, &b) in s.iter().enumerate() {
                let mut w = [0.0f64; 4];
                for (c, wc) in w.iter_mut().enumerate() {
                    let x = if usize::from(b) == c { 1.0 } else { 0.0 };
                    *wc = (x + f64::from(g[[i, c, j]])).max(0.0);
                }
                if w.iter().sum::<f64>() <= 0.0 {
                    w = [1.0; 4];
                }
                mutated.bases.push(rng.pick(&w) as u8);
            }
        }
        let v = net.neuron(&mutated, k)?;
        let v: Vec<f32> = v.to_vec();
        pool.add(&mutated, &v);
        let mean = v.iter().map(|&a| f64::from(a)).sum::<f64>() / v.len().max(1) as f64;
        pool.samples.trace.push(mean);
        pool.samples.iterations = iter;
        progress(iter, mean, pool.samples.v.len());
        if mean > best {
            best = mean;
            stall = 0;
        } else {
            stall += 1;
            if stall > cfg.patience {
                break;
            }
        }
        // Selection.
        let fitness: Vec<f64> = v
            .iter()
            .map(|&a| if a >= 0.0 { f64::from(a) + 1.0 } else { f64::from(a).exp() })
            .collect();
        let wheel = Wheel::new(&fitness);
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&a, &b| v[b].total_cmp(&v[a]).then(a.cmp(&b)));
        let mut next = Seqs::new(rf);
        next.bases.reserve(size * rf);
        for &i in &order[..n_elite] {
            next.push(mutated.get(i));
        }
        if jump > 1 {
            for left in [true, false] {
                for &i in &order[..n_elite] {
                    let mut s = mutated.get(i).to_vec();
                    let by = 1 + rng.below(jump - 1);
                    if left {
                        s.rotate_left(by % rf);
                    } else {
                        s.rotate_right(by % rf);
                    }
                    next.push(&s);
                }
            }
        }
        let pairs = (cross_frac * size as f64).round() as usize;
        let mut p = 0;
        while next.n() < size || p < pairs {
            let (a, b) = (wheel.draw(rng), wheel.draw(rng));
            let cut = 1 + rng.below(rf - 1);
            let (sa, sb) = (mutated.get(a), mutated.get(b));
            let c1: Vec<u8> = sa[..cut].iter().chain(&sb[cut..]).copied().collect();
            let c2: Vec<u8> = sb[..cut].iter().chain(&sa[cut..]).copied().collect();
            next.push(&c1);
            next.push(&c2);
            p += 1;
            if next.n() >= size && p >= pairs {
                break;
            }
        }
        next.bases.truncate(size * rf);
        pop = next;
        if iter % 5 == 0 && pool.samples.v.len() > cfg.pool_cap {
            cap_pool(&mut pool.samples, cfg.pool_cap, rng);
            pool.seen =
                (0..pool.samples.seqs.n()).map(|i| pool.samples.seqs.get(i).to_vec()).collect();
        }
    }
    let mut out = pool.samples;
    cap_pool(&mut out, cfg.pool_cap, rng);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_mass_gives_each_bin_a_twentieth() {
        // Two values in the top bin, one in the bottom bin, 18 empty bins in between.
        let m = [10.0, 9.8, 0.1, -3.0, 0.0];
        let d = equal_mass(&m);
        let p = |i: usize| d.iter().find(|x| x.0 == i).map_or(0.0, |x| x.1);
        assert_eq!(p(3), 0.0);
        assert_eq!(p(4), 0.0);
        // Bin 0 holds 0.1 and takes the mass of the 18 empty bins after it: 19/20.
        assert!((p(2) - 19.0 / 20.0).abs() < 1e-12, "{d:?}");
        assert!((p(0) - 10.0 / 19.8 / 20.0).abs() < 1e-12);
        assert!((p(0) + p(1) + p(2) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn pool_cap_keeps_every_activation_stratum() {
        let mut s = Samples { seqs: Seqs::new(1), ..Samples::default() };
        for i in 0..1000 {
            s.seqs.push(&[(i % 4) as u8]);
            // 900 low values, 100 high ones.
            s.v.push(if i < 900 { 0.01 + (i as f32) * 1e-5 } else { 1.0 });
        }
        cap_pool(&mut s, 200, &mut Rng::new(1));
        assert_eq!(s.v.iter().filter(|&&v| v == 1.0).count(), 10);
        assert_eq!(s.v.iter().filter(|&&v| v < 0.05).count(), 10);
        assert_eq!(s.v.len(), s.seqs.n());
    }
}
