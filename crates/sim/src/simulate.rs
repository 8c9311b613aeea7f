//! The simulated data sets.

use motif_core::motif::{Motif, MotifSet};
use motif_core::rng::Rng;

use crate::Error;

/// Deepprune's stand-in motifs (JASPAR base IDs and names) for data sets
/// 1–5. The paper used TRANSFAC matrices that cannot be redistributed; these
/// JASPAR matrices give each set a comparable character:
/// 1 two distinct, information-rich motifs; 2 two similar motifs (ETS
/// family); 3 two weak, AT-rich motifs; 4 four and 5 eight distinct ones.
pub const DEEPPRUNE_MOTIFS: [&[(&str, &str)]; 5] = [
    &[("MA0139", "CTCF"), ("MA0035", "GATA1")],
    &[("MA0062", "GABPA"), ("MA0028", "ELK1")],
    &[("MA0108", "TBP"), ("MA0151", "Arid3a")],
    &[("MA0139", "CTCF"), ("MA0035", "GATA1"), ("MA0083", "SRF"), ("MA0106", "TP53")],
    &[
        ("MA0139", "CTCF"),
        ("MA0035", "GATA1"),
        ("MA0083", "SRF"),
        ("MA0106", "TP53"),
        ("MA0506", "NRF1"),
        ("MA0046", "HNF1A"),
        ("MA0148", "FOXA1"),
        ("MA0062", "GABPA"),
    ],
];

/// Koo & Eddy's 12 TFs (JASPAR IDs as in their data, versions of 2016).
pub const KOO_EDDY_MOTIFS: [(&str, &str); 12] = [
    ("MA0151.1", "Arid3a"),
    ("MA0466.2", "CEBPB"),
    ("MA0477.1", "FOSL1"),
    ("MA0062.2", "Gabpa"),
    ("MA0496.1", "MAFK"),
    ("MA0058.3", "MAX"),
    ("MA0052.3", "MEF2A"),
    ("MA0502.1", "NFYB"),
    ("MA0079.3", "SP1"),
    ("MA0083.3", "SRF"),
    ("MA0137.3", "STAT1"),
    ("MA0095.2", "YY1"),
];

/// NeuronMotif check 1 (`nm-shift`): ZEB1 (as in NeuronMotif's demo1) at
/// one of two starts 1 bp apart.
pub const NM_SHIFT_MOTIF: (&str, &str) = ("MA0103", "ZEB1");

/// NeuronMotif check 2 (`nm-grammar`): motif A, then motif B after a fixed gap.
pub const NM_GRAMMAR_MOTIFS: [(&str, &str); 2] = [("MA0035", "GATA1"), ("MA0871", "TFEC")];

/// The gap (bp between the end of A and the start of B) of `nm-grammar` positives.
pub const NM_GRAMMAR_GAP: usize = 6;

/// A data-set recipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Deepprune's simulated data set 1–5.
    Deepprune(u8),
    /// Koo & Eddy's 12-TF multi-label set.
    KooEddy,
    /// NeuronMotif check 1: positives hold ZEB1 starting at one of two
    /// positions 1 bp apart (the middle of the sequence); negatives are
    /// uniform background.
    NmShift,
    /// NeuronMotif check 2: positives hold GATA1 then TFEC with a gap of
    /// [`NM_GRAMMAR_GAP`] bp; negatives hold GATA1 alone, TFEC alone, TFEC
    /// then GATA1, or GATA1 then TFEC at a gap at least 4 bp off.
    NmGrammar,
}

impl Preset {
    /// Parses `deepprune1`…`deepprune5` or `koo-eddy`.
    ///
    /// # Errors
    /// On any other name.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "koo-eddy" => Ok(Self::KooEddy),
            "nm-shift" => Ok(Self::NmShift),
            "nm-grammar" => Ok(Self::NmGrammar),
            _ => match s.strip_prefix("deepprune").and_then(|d| d.parse::<u8>().ok()) {
                Some(d @ 1..=5) => Ok(Self::Deepprune(d)),
                _ => Err(Error::Invalid(format!(
                    "unknown preset `{s}` (one of: deepprune1 … deepprune5, koo-eddy, nm-shift, nm-grammar)"
                ))),
            },
        }
    }

    /// Default sequence length.
    #[must_use]
    pub fn default_len(self) -> usize {
        match self {
            Self::Deepprune(_) => 101,
            Self::KooEddy => 200,
            Self::NmShift => 8,
            Self::NmGrammar => 82,
        }
    }

    /// Default number of sequences: the training set for Deepprune (the
    /// test set is as large), the whole set for Koo & Eddy.
    #[must_use]
    pub fn default_n(self) -> usize {
        match self {
            Self::Deepprune(_) | Self::NmGrammar => 10_000,
            Self::KooEddy => 25_000,
            Self::NmShift => 4_000,
        }
    }

    /// The preset's name.
    #[must_use]
    pub fn name(self) -> String {
        match self {
            Self::Deepprune(d) => format!("deepprune{d}"),
            Self::KooEddy => "koo-eddy".into(),
            Self::NmShift => "nm-shift".into(),
            Self::NmGrammar => "nm-grammar".into(),
        }
    }
}

/// One planted motif instance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Instance {
    /// Index into [`Dataset::motifs`].
    pub motif: usize,
    /// 0-based start in the sequence.
    pub start: usize,
    /// `+` or `-` (the reverse complement was planted).
    pub strand: char,
}

/// One simulated sequence.
#[derive(Debug, Clone)]
pub struct SimSeq {
    /// Identifier (`train_000001`, …).
    pub id: String,
    /// Bases (A, C, G, T).
    pub seq: Vec<u8>,
    /// Labels: one (Deepprune) or one per class (Koo & Eddy).
    pub labels: Vec<u8>,
    /// Planted instances.
    pub instances: Vec<Instance>,
}

/// A named split.
#[derive(Debug, Clone)]
pub struct Split {
    /// `train`, `valid` or `test`.
    pub name: &'static str,
    /// Its sequences.
    pub seqs: Vec<SimSeq>,
}

/// A simulated data set.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The splits in order.
    pub splits: Vec<Split>,
    /// The motifs planted (as found in the database).
    pub motifs: Vec<Motif>,
    /// Class names, one per label.
    pub classes: Vec<String>,
    /// Notes for the user (e.g. a newer JASPAR version used).
    pub notes: Vec<String>,
}

fn find(
    db: &MotifSet,
    db_name: &str,
    id: &str,
    name: &str,
    notes: &mut Vec<String>,
) -> Result<Motif, Error> {
    if let Some(m) = db.motifs.iter().find(|m| m.id == id) {
        return Ok(m.clone());
    }
    let base = id.split('.').next().unwrap_or(id);
    let same_base = |m: &&Motif| m.id.split('.').next() == Some(base);
    let m = db
        .motifs
        .iter()
        .filter(same_base)
        .max_by(|a, b| version(&a.id).cmp(&version(&b.id)))
        .ok_or_else(|| Error::MissingMotif {
        db: db_name.to_owned(),
        id: id.to_owned(),
        name: name.to_owned(),
    })?;
    if id.contains('.') {
        notes.push(format!("{name}: {id} is not in {db_name}; using {}", m.id));
    }
    Ok(m.clone())
}

fn version(id: &str) -> u32 {
    id.split('.').nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn background(len: usize, rng: &mut Rng) -> Vec<u8> {
    (0..len).map(|_| b"ACGT"[rng.below(4)]).collect()
}

/// Samples a site from `m`'s columns, on strand `+` or `-`.
fn sample_site(m: &Motif, strand: char, rng: &mut Rng) -> Vec<u8> {
    let site: Vec<u8> = (0..m.len())
        .map(|j| {
            let col = [m.probs[(0, j)], m.probs[(1, j)], m.probs[(2, j)], m.probs[(3, j)]];
            b"ACGT"[rng.pick(&col)]
        })
        .collect();
    if strand == '-' {
        site.iter()
            .rev()
            .map(|&b| match b {
                b'A' => b'T',
                b'C' => b'G',
                b'G' => b'C',
                _ => b'A',
            })
            .collect()
    } else {
        site
    }
}

/// Builds the data set `preset` describes from motifs of `db` (named
/// `db_name` in messages): `n` sequences of `len` bp (see
/// [`Preset::default_n`]), both strands planted when `both_strands`
/// (Koo & Eddy always plant both).
///
/// # Errors
/// If a motif is missing from `db`, or `len` is shorter than a motif.
pub fn simulate(
    preset: Preset,
    db: &MotifSet,
    db_name: &str,
    n: usize,
    len: usize,
    seed: u64,
    both_strands: bool,
) -> Result<Dataset, Error> {
    let mut notes = Vec::new();
    let mut rng = Rng::new(seed);
    match preset {
        Preset::Deepprune(d) => {
            let motifs = DEEPPRUNE_MOTIFS[usize::from(d) - 1]
                .iter()
                .map(|(id, name)| find(db, db_name, id, name, &mut notes))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(m) = motifs.iter().find(|m| m.len() > len) {
                return Err(Error::Invalid(format!(
                    "motif {} ({} bp) is longer than --len {len}",
                    m.id,
                    m.len()
                )));
            }
            let mut splits = Vec::new();
            for name in ["train", "test"] {
                let mut seqs: Vec<SimSeq> = (0..n)
                    .map(|i| {
                        let mut r = rng.fork(i as u64);
                        let mut seq = background(len, &mut r);
                        let positive = i < n / 2;
                        let mut instances = Vec::new();
                        if positive {
                            let k = r.below(motifs.len());
                            let strand = if both_strands && r.below(2) == 1 { '-' } else { '+' };
                            let start = r.below(len - motifs[k].len() + 1);
                            let site = sample_site(&motifs[k], strand, &mut r);
                            seq[start..start + site.len()].copy_from_slice(&site);
                            instances.push(Instance { motif: k, start, strand });
                        }
                        SimSeq {
                            id: String::new(),
                            seq,
                            labels: vec![u8::from(positive)],
                            instances,
                        }
                    })
                    .collect();
                rng.shuffle(&mut seqs);
                for (i, s) in seqs.iter_mut().enumerate() {
                    s.id = format!("{name}_{:06}", i + 1);
                }
                splits.push(Split { name, seqs });
                rng = rng.fork(0x5eed);
            }
            let classes = vec!["bound".to_owned()];
            Ok(Dataset { splits, motifs, classes, notes })
        }
        Preset::NmShift => {
            let (id, name) = NM_SHIFT_MOTIF;
            let motifs = vec![find(db, db_name, id, name, &mut notes)?];
            let splits = nm_shift(&motifs[0], len, n, &mut rng)?;
            Ok(Dataset { splits, motifs, classes: vec!["bound".to_owned()], notes })
        }
        Preset::NmGrammar => {
            let motifs = NM_GRAMMAR_MOTIFS
                .iter()
                .map(|(id, name)| find(db, db_name, id, name, &mut notes))
                .collect::<Result<Vec<_>, _>>()?;
            let splits = nm_grammar(&motifs, len, n, &mut rng)?;
            Ok(Dataset { splits, motifs, classes: vec!["grammar".to_owned()], notes })
        }
        Preset::KooEddy => {
            let motifs = KOO_EDDY_MOTIFS
                .iter()
                .map(|(id, name)| find(db, db_name, id, name, &mut notes))
                .collect::<Result<Vec<_>, _>>()?;
            let classes = KOO_EDDY_MOTIFS.iter().map(|(_, n)| (*n).to_owned()).collect();
            let mut seqs: Vec<SimSeq> = (0..n)
                .map(|i| {
                    let mut r = rng.fork(i as u64);
                    koo_eddy_sequence(&motifs, len, &mut r)
                })
                .collect::<Result<_, _>>()?;
            rng.shuffle(&mut seqs);
            let n_train = n * 7 / 10;
            let n_valid = n / 10;
            let mut rest = seqs;
            let test = rest.split_off(n_train + n_valid);
            let valid = rest.split_off(n_train);
            let mut splits = vec![
                Split { name: "train", seqs: rest },
                Split { name: "valid", seqs: valid },
                Split { name: "test", seqs: test },
            ];
            for s in &mut splits {
                for (i, q) in s.seqs.iter_mut().enumerate() {
                    q.id = format!("{}_{:06}", s.name, i + 1);
                }
            }
            Ok(Dataset { splits, motifs, classes, notes })
        }
    }
}

/// Makes one sequence and its planted instances, given whether it is positive.
type MakeSeq<'a> = &'a dyn Fn(bool, &mut Rng) -> (Vec<u8>, Vec<Instance>);

/// Train and test splits of `n` sequences each, half of them positive, made by `make(positive, rng)`.
fn two_splits(n: usize, rng: &mut Rng, make: MakeSeq<'_>) -> Vec<Split> {
    let mut splits = Vec::new();
    for name in ["train", "test"] {
        let mut seqs: Vec<SimSeq> = (0..n)
            .map(|i| {
                let mut r = rng.fork(i as u64);
                let positive = i < n / 2;
                let (seq, instances) = make(positive, &mut r);
                SimSeq { id: String::new(), seq, labels: vec![u8::from(positive)], instances }
            })
            .collect();
        rng.shuffle(&mut seqs);
        for (i, s) in seqs.iter_mut().enumerate() {
            s.id = format!("{name}_{:06}", i + 1);
        }
        splits.push(Split { name, seqs });
        *rng = rng.fork(0x5eed);
    }
    splits
}

/// `nm-shift`: the motif at start `s0` or `s0 + 1`, `s0 = (len − w − 1) / 2`.
fn nm_shift(motif: &Motif, len: usize, n: usize, rng: &mut Rng) -> Result<Vec<Split>, Error> {
    let w = motif.len();
    if len < w + 1 {
        return Err(Error::Invalid(format!(
            "nm-shift needs --len ≥ {} (the motif {} is {w} bp, at two starts)",
            w + 1,
            motif.id
        )));
    }
    let s0 = (len - w - 1) / 2;
    Ok(two_splits(n, rng, &|positive, r| {
        let mut seq = background(len, r);
        let mut inst = Vec::new();
        if positive {
            let start = s0 + r.below(2);
            let site = sample_site(motif, '+', r);
            seq[start..start + w].copy_from_slice(&site);
            inst.push(Instance { motif: 0, start, strand: '+' });
        }
        (seq, inst)
    }))
}

/// `nm-grammar`: A then B at [`NM_GRAMMAR_GAP`] (positives), or the decoys.
fn nm_grammar(motifs: &[Motif], len: usize, n: usize, rng: &mut Rng) -> Result<Vec<Split>, Error> {
    let (wa, wb) = (motifs[0].len(), motifs[1].len());
    let max_gap = NM_GRAMMAR_GAP + 12;
    if len < wa + wb + max_gap + 1 {
        return Err(Error::Invalid(format!(
            "nm-grammar needs --len ≥ {} (two motifs of {wa} and {wb} bp, gaps up to {max_gap})",
            wa + wb + max_gap + 1
        )));
    }
    Ok(two_splits(n, rng, &|positive, r| {
        let mut seq = background(len, r);
        let mut inst = Vec::new();
        let mut plant = |m: usize, start: usize, seq: &mut Vec<u8>, r: &mut Rng| {
            let site = sample_site(&motifs[m], '+', r);
            seq[start..start + site.len()].copy_from_slice(&site);
            inst.push(Instance { motif: m, start, strand: '+' });
        };
        // (first, second, gap) or a single motif.
        let pair = |first: usize, gap: usize, r: &mut Rng| {
            let span = motifs[first].len() + gap + motifs[1 - first].len();
            let a = r.below(len - span + 1);
            (a, a + motifs[first].len() + gap)
        };
        let kind = if positive { 0 } else { 1 + r.below(4) };
        match kind {
            0 => {
                let (a, b) = pair(0, NM_GRAMMAR_GAP, r);
                plant(0, a, &mut seq, r);
                plant(1, b, &mut seq, r);
            }
            1 | 2 => {
                let m = kind - 1;
                let start = r.below(len - motifs[m].len() + 1);
                plant(m, start, &mut seq, r);
            }
            3 => {
                let (b, a) = pair(1, NM_GRAMMAR_GAP, r);
                plant(1, b, &mut seq, r);
                plant(0, a, &mut seq, r);
            }
            _ => {
                // A gap at least 4 bp off: 0..=gap−4 or gap+4..=gap+12.
                let choices: Vec<usize> =
                    (0..=max_gap).filter(|g| g.abs_diff(NM_GRAMMAR_GAP) >= 4).collect();
                let gap = choices[r.below(choices.len())];
                let (a, b) = pair(0, gap, r);
                plant(0, a, &mut seq, r);
                plant(1, b, &mut seq, r);
            }
        }
        (seq, inst)
    }))
}

/// One sequence of Koo & Eddy's protocol: 1–5 motifs (P = .50, .25, .17,
/// .05, .03) drawn with replacement from the 12 TFs × 2 strands, uniform
/// gaps summing to the free length, rounded (redrawn unless exact).
fn koo_eddy_sequence(motifs: &[Motif], len: usize, r: &mut Rng) -> Result<SimSeq, Error> {
    let u = r.f64();
    let count = 1 + [0.5, 0.75, 0.92, 0.97].iter().filter(|&&t| u > t).count();
    let mut tries = 0;
    loop {
        tries += 1;
        if tries > 10_000 {
            return Err(Error::Invalid(format!("cannot fit {count} motifs into {len} bp")));
        }
        let picks: Vec<usize> = (0..count).map(|_| r.below(2 * motifs.len())).collect();
        let width: usize = picks.iter().map(|&p| motifs[p / 2].len()).sum();
        if width == 0 || width >= len {
            continue;
        }
        let free = (len - width) as f64;
        let raw: Vec<f64> = (0..=count).map(|_| r.f64()).collect();
        let total: f64 = raw.iter().sum();
        let gaps: Vec<usize> = raw.iter().map(|g| (g / total * free).round() as usize).collect();
        if gaps.iter().sum::<usize>() != len - width {
            continue;
        }
        let mut seq = Vec::with_capacity(len);
        let mut instances = Vec::new();
        let mut labels = vec![0u8; motifs.len()];
        for (k, &p) in picks.iter().enumerate() {
            seq.extend(background(gaps[k], r));
            let strand = if p % 2 == 1 { '-' } else { '+' };
            instances.push(Instance { motif: p / 2, start: seq.len(), strand });
            seq.extend(sample_site(&motifs[p / 2], strand, r));
            labels[p / 2] = 1;
        }
        seq.extend(background(gaps[count], r));
        return Ok(SimSeq { id: String::new(), seq, labels, instances });
    }
}

/// Each preset and the motifs it plants (JASPAR IDs; the newest version in
/// the motif database is used), one line each, for help texts.
#[must_use]
pub fn describe_presets() -> String {
    let mut s = String::from(
        "Presets and their motifs (JASPAR IDs; the newest version in --motifs is used):\n",
    );
    for (i, set) in DEEPPRUNE_MOTIFS.iter().enumerate() {
        let names: Vec<String> = set.iter().map(|(id, n)| format!("{n} {id}")).collect();
        s.push_str(&format!("  deepprune{}  {}\n", i + 1, names.join(", ")));
    }
    let names: Vec<String> = KOO_EDDY_MOTIFS.iter().map(|(id, n)| format!("{n} {id}")).collect();
    s.push_str(&format!("  koo-eddy    {}\n", names.join(", ")));
    let (id, name) = NM_SHIFT_MOTIF;
    s.push_str(&format!(
        "  nm-shift    {name} {id} at one of two starts 1 bp apart (default 8 bp, 4000 per split)\n"
    ));
    let [(ia, na), (ib, nb)] = NM_GRAMMAR_MOTIFS;
    s.push_str(&format!(
        "  nm-grammar  {na} {ia} then {nb} {ib}, {NM_GRAMMAR_GAP} bp apart (default 82 bp); decoys: one motif, the reverse order, or a gap ≥ 4 bp off\n"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn db() -> MotifSet {
        let mut motifs = Vec::new();
        let ids: Vec<&str> = DEEPPRUNE_MOTIFS
            .iter()
            .flat_map(|s| s.iter().map(|(id, _)| *id))
            .chain(KOO_EDDY_MOTIFS.iter().map(|(id, _)| id.split('.').next().unwrap()))
            .collect();
        for (i, id) in ids.iter().enumerate() {
            // A deterministic, sharp motif of width 6–11: letter (i + j) % 4.
            let w = 6 + i % 6;
            let m =
                Array2::from_shape_fn((4, w), |(b, j)| if b == (i + j) % 4 { 0.97 } else { 0.01 });
            motifs.push(Motif::from_matrix(format!("{id}.9"), m).unwrap());
        }
        for (id, w) in [("MA0103", 6), ("MA0871", 8)] {
            let m =
                Array2::from_shape_fn((4, w), |(b, j)| if b == (j * 3) % 4 { 0.97 } else { 0.01 });
            motifs.push(Motif::from_matrix(format!("{id}.9"), m).unwrap());
        }
        MotifSet { motifs, background: [0.25; 4], has_background: false, warnings: vec![] }
    }

    #[test]
    fn deepprune_sets_plant_one_instance_per_positive() {
        let db = db();
        for d in 1..=5u8 {
            let (mut agree, mut total) = (0, 0);
            let ds = simulate(Preset::Deepprune(d), &db, "db", 200, 101, 3, false).unwrap();
            assert_eq!(ds.motifs.len(), [2, 2, 2, 4, 8][usize::from(d) - 1]);
            assert_eq!(ds.splits.len(), 2);
            for s in &ds.splits {
                assert_eq!(s.seqs.len(), 200);
                let pos = s.seqs.iter().filter(|q| q.labels[0] == 1).count();
                assert_eq!(pos, 100);
                for q in &s.seqs {
                    assert_eq!(q.seq.len(), 101);
                    assert_eq!(q.instances.len(), usize::from(q.labels[0]));
                    for inst in &q.instances {
                        let m = &ds.motifs[inst.motif];
                        assert_eq!(inst.strand, '+');
                        // Planted bases follow the motif's columns (97 % consensus).
                        let site = &q.seq[inst.start..inst.start + m.len()];
                        agree += site
                            .iter()
                            .zip(m.consensus().bytes())
                            .filter(|(a, b)| **a == *b)
                            .count();
                        total += m.len();
                    }
                }
            }
            let rate = agree as f64 / total as f64;
            assert!((rate - 0.97).abs() < 0.02, "set {d}: {rate}");
            // The version found stands in for a missing one silently (no
            // version was asked for).
            assert!(ds.notes.is_empty());
        }
        let a = simulate(Preset::Deepprune(4), &db, "db", 50, 101, 9, true).unwrap();
        let b = simulate(Preset::Deepprune(4), &db, "db", 50, 101, 9, true).unwrap();
        assert_eq!(a.splits[1].seqs[7].seq, b.splits[1].seqs[7].seq);
        assert!(
            a.splits
                .iter()
                .flat_map(|s| &s.seqs)
                .flat_map(|q| &q.instances)
                .any(|i| i.strand == '-')
        );
    }

    #[test]
    fn koo_eddy_follows_the_protocol() {
        let db = db();
        let ds = simulate(Preset::KooEddy, &db, "db", 2000, 200, 33, false).unwrap();
        let sizes: Vec<usize> = ds.splits.iter().map(|s| s.seqs.len()).collect();
        assert_eq!(sizes, vec![1400, 200, 400]);
        assert_eq!(ds.notes.len(), 12, "every 2016 version replaced by the database's");
        let mut counts = [0usize; 6];
        let mut minus = 0;
        for q in ds.splits.iter().flat_map(|s| &s.seqs) {
            assert_eq!(q.seq.len(), 200);
            counts[q.instances.len()] += 1;
            let mut want = vec![0u8; 12];
            let mut end = 0;
            for i in &q.instances {
                want[i.motif] = 1;
                assert!(i.start >= end, "instances do not overlap");
                end = i.start + ds.motifs[i.motif].len();
                minus += usize::from(i.strand == '-');
            }
            assert!(end <= 200);
            assert_eq!(q.labels, want);
        }
        // P(n = 1) = 0.5 ± 4 sd (sd ≈ 0.011 for 2000).
        assert!((counts[1] as f64 / 2000.0 - 0.5).abs() < 0.045, "{counts:?}");
        assert!(counts[5] > 0 && counts[0] == 0);
        assert!(minus > 0);
    }

    #[test]
    fn neuronmotif_presets_plant_what_they_say() {
        let db = db();
        let ds = simulate(Preset::NmShift, &db, "db", 400, 8, 2, false).unwrap();
        let starts: std::collections::BTreeSet<usize> =
            ds.splits[0].seqs.iter().flat_map(|q| q.instances.iter().map(|i| i.start)).collect();
        assert_eq!(starts.into_iter().collect::<Vec<_>>(), vec![0, 1]);
        for q in &ds.splits[0].seqs {
            assert_eq!(q.instances.len(), usize::from(q.labels[0]));
            assert_eq!(q.seq.len(), 8);
        }
        let ds = simulate(Preset::NmGrammar, &db, "db", 400, 82, 2, false).unwrap();
        let wa = ds.motifs[0].len();
        for q in &ds.splits[1].seqs {
            let i = &q.instances;
            let pair_gap = (i.len() == 2 && i[0].motif == 0 && i[1].motif == 1)
                .then(|| i[1].start - (i[0].start + wa));
            if q.labels[0] == 1 {
                assert_eq!(pair_gap, Some(NM_GRAMMAR_GAP));
            } else if let Some(g) = pair_gap {
                assert!(g.abs_diff(NM_GRAMMAR_GAP) >= 4, "decoy gap {g}");
            }
        }
        assert!(simulate(Preset::NmShift, &db, "db", 10, 5, 2, false).is_err());
    }

    #[test]
    fn presets_parse() {
        assert_eq!(Preset::parse("deepprune4").unwrap(), Preset::Deepprune(4));
        assert_eq!(Preset::parse("koo-eddy").unwrap(), Preset::KooEddy);
        assert!(Preset::parse("deepprune6").unwrap_err().to_string().contains("unknown preset"));
    }
}
