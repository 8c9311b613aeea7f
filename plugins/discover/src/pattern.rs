//! Patterns: sets of aligned seqlets and their per-column averages (PPM,
//! CWM, hypothetical CWM), built as modisco-lite builds them — the greedy
//! merge of a cluster's seqlets into its strongest one, edges filled, and
//! the polish that re-centres a pattern on its most informative window.

use crate::affinity::align_cj;
use crate::numpy::pairwise_sum;
use ndarray::{Array2, Array3, ArrayView2, CowArray, Ix2, s};
use std::collections::HashSet;

/// The per-base tracks of every window: one-hot sequence, hypothetical
/// contributions, and actual contributions (their product). Held as the
/// inputs come, `(N, 4, L)`, with the window a range of columns; an
/// exactly one-hot sequence is kept as one base code per position, and
/// the actual contributions are formed when read — one float array in
/// memory instead of three.
#[derive(Debug, Clone)]
pub struct Tracks {
    hypothetical: Array3<f32>,
    sequence: Sequence,
    /// First column of the window.
    offset: usize,
    /// Window length.
    len: usize,
}

/// The sequence track: base codes (4 = no base) when one-hot, else as
/// given.
#[derive(Debug, Clone)]
enum Sequence {
    Codes(Array2<u8>),
    Dense(Array3<f32>),
}

/// Which of the three tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    /// One-hot sequence.
    Sequence,
    /// Actual contributions.
    Contrib,
    /// Hypothetical contributions.
    Hypothetical,
}

impl Tracks {
    /// The tracks of one-hot `onehot` and hypothetical `hypothetical`
    /// contributions, both `(N, L, 4)`.
    ///
    /// # Panics
    /// If the shapes differ.
    #[must_use]
    pub fn new(onehot: Array3<f32>, hypothetical: Array3<f32>) -> Self {
        assert_eq!(onehot.dim(), hypothetical.dim(), "track shapes");
        let t = |x: Array3<f32>| x.permuted_axes([0, 2, 1]).as_standard_layout().into_owned();
        let len = onehot.dim().1;
        Self::assemble(t(onehot), t(hypothetical), 0, len)
    }

    /// `(N, 4, L)` arrays, window `[offset, offset + len)`.
    fn assemble(onehot: Array3<f32>, hypothetical: Array3<f32>, offset: usize, len: usize) -> Self {
        let exact = onehot.lanes(ndarray::Axis(1)).into_iter().all(|col| {
            col.iter().all(|&v| v == 0.0 || v == 1.0)
                && col.iter().filter(|&&v| v == 1.0).count() <= 1
        });
        let sequence = if exact {
            let (n, _, l) = onehot.dim();
            Sequence::Codes(Array2::from_shape_fn((n, l), |(i, p)| {
                (0..4u8).find(|&b| onehot[(i, usize::from(b), p)] == 1.0).unwrap_or(4)
            }))
        } else {
            Sequence::Dense(onehot)
        };
        Self { hypothetical, sequence, offset, len }
    }

    /// The tracks of modisco's inputs — one-hot and hypothetical
    /// contributions `(N, 4, L)` — cropped as its CLI crops them to the
    /// central `window` columns (`[L/2 − w/2, L/2 + w/2)`). Takes the
    /// arrays (the contributions are kept as they are, not copied).
    ///
    /// # Errors
    /// When the shapes differ, the second axis is not 4, `window` is odd,
    /// zero, or longer than `L`.
    pub fn from_modisco(
        onehot: Array3<f32>,
        hypothetical: Array3<f32>,
        window: usize,
    ) -> Result<Self, String> {
        if onehot.dim() != hypothetical.dim() {
            return Err(format!(
                "one-hot {:?} and attributions {:?} differ in shape",
                onehot.dim(),
                hypothetical.dim()
            ));
        }
        let (_, c, len) = onehot.dim();
        if c != 4 {
            return Err(format!("expected (N, 4, L) arrays, got (_, {c}, {len})"));
        }
        if window == 0 || window % 2 == 1 {
            return Err(format!("window {window} must be even and positive"));
        }
        if window > len {
            return Err(format!("window {window} is longer than the sequences ({len})"));
        }
        let std = |x: Array3<f32>| {
            if x.is_standard_layout() { x } else { x.as_standard_layout().into_owned() }
        };
        Ok(Self::assemble(std(onehot), std(hypothetical), len / 2 - window / 2, window))
    }

    /// Window length `L`.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Number of windows `N`.
    #[must_use]
    pub fn n(&self) -> usize {
        self.hypothetical.dim().0
    }

    /// Whether there are no windows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.n() == 0
    }

    /// One-hot value of base `b` at window `i`, column `l`.
    #[must_use]
    pub fn onehot(&self, i: usize, l: usize, b: usize) -> f32 {
        match &self.sequence {
            Sequence::Codes(c) => hot(c[(i, self.offset + l)], b),
            Sequence::Dense(x) => x[(i, b, self.offset + l)],
        }
    }

    /// Actual contribution of base `b` at window `i`, column `l`.
    #[must_use]
    pub fn contrib(&self, i: usize, l: usize, b: usize) -> f32 {
        self.onehot(i, l, b) * self.hypothetical[(i, b, self.offset + l)]
    }

    /// A site's rows `(len, 4)` of one track, in the site's orientation
    /// (a view of the hypothetical contributions; the others are formed).
    #[must_use]
    pub fn rows<'a>(&'a self, site: &Site, t: Track) -> CowArray<'a, f32, Ix2> {
        let (a, b) = (self.offset + site.start, self.offset + site.end);
        let orient = |v: ArrayView2<'a, f32>| -> ArrayView2<'a, f32> {
            if site.revcomp { v.slice_move(s![..;-1, ..;-1]) } else { v }
        };
        let h = self.hypothetical.slice(s![site.example, .., a..b]).reversed_axes();
        let x = match (&self.sequence, t) {
            (_, Track::Hypothetical) => return CowArray::from(orient(h)),
            (Sequence::Dense(x), Track::Sequence) => {
                return CowArray::from(orient(x.slice(s![site.example, .., a..b]).reversed_axes()));
            }
            (Sequence::Dense(x), Track::Contrib) => {
                let x = x.slice(s![site.example, .., a..b]).reversed_axes();
                let mut c = x.to_owned();
                c.zip_mut_with(&h, |v, &w| *v *= w);
                c
            }
            (Sequence::Codes(codes), _) => {
                let codes = codes.slice(s![site.example, a..b]);
                let mut x = Array2::<f32>::zeros((b - a, 4));
                for (row, &c) in x.rows_mut().into_iter().zip(codes) {
                    for (k, v) in row.into_iter().enumerate() {
                        *v = hot(c, k);
                    }
                }
                if t == Track::Contrib {
                    x.zip_mut_with(&h, |v, &w| *v *= w);
                }
                x
            }
        };
        if site.revcomp {
            CowArray::from(x.slice_move(s![..;-1, ..;-1]).as_standard_layout().into_owned())
        } else {
            CowArray::from(x)
        }
    }

    /// Whether `[start, end)` lies inside a window.
    fn fits(&self, start: isize, end: isize) -> bool {
        start >= 0 && end <= self.len() as isize
    }
}

/// The one-hot value of base `b` at a position coded `code` (4: no base).
fn hot(code: u8, b: usize) -> f32 {
    f32::from(u8::from(usize::from(code) == b))
}

impl motif_core::plugin::Contributions for Tracks {
    fn n(&self) -> usize {
        Tracks::n(self)
    }

    fn positions(&self) -> usize {
        self.len
    }

    fn window(&self, i: usize, out: &mut Vec<f32>) {
        out.clear();
        for l in 0..self.len {
            for b in 0..4 {
                out.push(self.contrib(i, l, b));
            }
        }
    }
}

/// A seqlet: window `example`, columns `[start, end)`, and its strand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Site {
    /// Window (input row).
    pub example: usize,
    /// First column.
    pub start: usize,
    /// One past the last column.
    pub end: usize,
    /// Read on the reverse strand.
    pub revcomp: bool,
}

impl Site {
    /// Length in columns.
    #[must_use]
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether it has no columns.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// modisco's identity key (the strand is not part of it).
    #[must_use]
    pub fn key(&self) -> (usize, usize, usize) {
        (self.example, self.start, self.end)
    }

    /// The other strand.
    #[must_use]
    pub fn flipped(&self) -> Self {
        Self { revcomp: !self.revcomp, ..*self }
    }

    /// Extended by `left` and `right` columns in its own orientation (the
    /// sides swap on the reverse strand); `None` when it leaves the window.
    fn extended(&self, left: isize, right: isize, tracks: &Tracks) -> Option<Self> {
        let (l, r) = if self.revcomp { (right, left) } else { (left, right) };
        let (start, end) = (self.start as isize - l, self.end as isize + r);
        tracks.fits(start, end).then_some(Self {
            start: start as usize,
            end: end as usize,
            ..*self
        })
    }

    /// Columns `[a, b)` in its own orientation.
    fn trimmed(&self, a: usize, b: usize) -> Self {
        if self.revcomp {
            Self { start: self.end - b, end: self.end - a, ..*self }
        } else {
            Self { start: self.start + a, end: self.start + b, ..*self }
        }
    }
}

/// A set of seqlets stacked from column 0, keeping per-column sums of the
/// three tracks and per-column counts (modisco's `SeqletSet`).
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Seqlets in insertion order (the first of each key).
    pub seqlets: Vec<Site>,
    keys: HashSet<(usize, usize, usize)>,
    sums: [Array2<f64>; 3],
    counts: Vec<f64>,
}

impl Pattern {
    /// The set of `sites` (first of each key kept), as long as the longest.
    ///
    /// # Panics
    /// If `sites` is empty.
    #[must_use]
    pub fn new(sites: &[Site], tracks: &Tracks) -> Self {
        let len = sites.iter().map(Site::len).max().expect("at least one seqlet");
        let mut p = Self {
            seqlets: Vec::with_capacity(sites.len()),
            keys: HashSet::with_capacity(sites.len()),
            sums: std::array::from_fn(|_| Array2::zeros((len, 4))),
            counts: vec![0.0; len],
        };
        for s in sites {
            p.add(*s, tracks);
        }
        p
    }

    /// Adds `site` at column 0 unless its key is present.
    fn add(&mut self, site: Site, tracks: &Tracks) {
        if !self.keys.insert(site.key()) {
            return;
        }
        let n = site.len();
        for (sum, t) in
            self.sums.iter_mut().zip([Track::Sequence, Track::Contrib, Track::Hypothetical])
        {
            let rows = tracks.rows(&site, t);
            let mut dst = sum.slice_mut(s![..n, ..]);
            dst.zip_mut_with(&rows, |a, &b| *a += f64::from(b));
        }
        for c in &mut self.counts[..n] {
            *c += 1.0;
        }
        self.seqlets.push(site);
    }

    /// Length in columns.
    #[must_use]
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether it has no columns.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Whether the set holds a seqlet with this key.
    #[must_use]
    pub fn contains(&self, site: &Site) -> bool {
        self.keys.contains(&site.key())
    }

    /// Per-column average of a track (sum / max(count, 1e−7)).
    #[must_use]
    pub fn average(&self, t: Track) -> Array2<f64> {
        let i = match t {
            Track::Sequence => 0,
            Track::Contrib => 1,
            Track::Hypothetical => 2,
        };
        let mut a = self.sums[i].clone();
        for (mut row, &c) in a.rows_mut().into_iter().zip(&self.counts) {
            row.mapv_inplace(|v| v / c.max(1e-7));
        }
        a
    }

    /// The PPM.
    #[must_use]
    pub fn ppm(&self) -> Array2<f64> {
        self.average(Track::Sequence)
    }

    /// The CWM.
    #[must_use]
    pub fn cwm(&self) -> Array2<f64> {
        self.average(Track::Contrib)
    }

    /// The hypothetical CWM.
    #[must_use]
    pub fn hcwm(&self) -> Array2<f64> {
        self.average(Track::Hypothetical)
    }

    /// Every seqlet extended to span the pattern plus `left` and `right`
    /// flanks (`_expand_seqlets_to_fill_pattern`); `None` when every one
    /// leaves the window.
    #[must_use]
    pub fn expanded(&self, left: usize, right: usize, tracks: &Tracks) -> Option<Self> {
        let len = self.len();
        let sites: Vec<Site> = self
            .seqlets
            .iter()
            .filter_map(|s| {
                let r = (len - s.len() + right) as isize;
                s.extended(left as isize, r, tracks)
            })
            .collect();
        if sites.is_empty() {
            return None;
        }
        // Every seqlet kept, each spanning the pattern, keys still distinct:
        // the middle columns' sums are this pattern's (the same additions in
        // the same order), so only the flanks are added up.
        let spans =
            sites.len() == self.seqlets.len() && self.seqlets.iter().all(|s| s.len() == len);
        let keys: HashSet<(usize, usize, usize)> = sites.iter().map(Site::key).collect();
        if !spans || keys.len() != sites.len() {
            return Some(Self::new(&sites, tracks));
        }
        let new_len = left + len + right;
        let mut sums: [Array2<f64>; 3] = std::array::from_fn(|_| Array2::zeros((new_len, 4)));
        for (i, t) in [Track::Sequence, Track::Contrib, Track::Hypothetical].into_iter().enumerate()
        {
            sums[i].slice_mut(s![left..left + len, ..]).assign(&self.sums[i]);
            for site in &sites {
                let rows = tracks.rows(site, t);
                for range in [0..left, left + len..new_len] {
                    let mut dst = sums[i].slice_mut(s![range.clone(), ..]);
                    dst.zip_mut_with(&rows.slice(s![range, ..]), |a, &b| *a += f64::from(b));
                }
            }
        }
        Some(Self { seqlets: sites, keys, sums, counts: vec![self.seqlets.len() as f64; new_len] })
    }

    /// Every seqlet cut to columns `[a, b)`.
    #[must_use]
    pub fn trimmed(&self, a: usize, b: usize, tracks: &Tracks) -> Self {
        let sites: Vec<Site> = self.seqlets.iter().map(|s| s.trimmed(a, b)).collect();
        Self::new(&sites, tracks)
    }

    /// The columns with at least `min(min_num, frac·max count)` seqlets
    /// (`trim_to_support`).
    fn support_window(&self, frac: f64, min_num: f64) -> (usize, usize) {
        let max = self.counts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let num = min_num.min(max * frac);
        let mut a = 0;
        while a < self.len() && self.counts[a] < num {
            a += 1;
        }
        let mut b = self.len();
        while b > a && self.counts[b - 1] < num {
            b -= 1;
        }
        (a, b)
    }
}

/// How seqlets are compared when merged into a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Continuous Jaccard on `[l1(hyp) | l1(contrib)]` (clusters → patterns).
    Jaccard,
    /// Cosine on the centred, normalised contributions (pattern merging).
    Magnitude,
}

/// A `(len, k)` block divided by its summed magnitude (`l1`), in float64.
fn l1_f64(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let flat: Vec<f64> = x.iter().map(|v| v.abs()).collect();
    let sum = pairwise_sum(&flat);
    if sum == 0.0 { x.to_owned() } else { x.mapv(|v| v / sum) }
}

/// `(X − mean) / (‖X − mean‖ + 1e−7)` (modisco's `magnitude`).
fn magnitude(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let flat: Vec<f64> = x.iter().copied().collect();
    let mean = pairwise_sum(&flat) / flat.len() as f64;
    let c = x.mapv(|v| v - mean);
    let norm = c.iter().map(|v| v * v).sum::<f64>().sqrt();
    c.mapv(|v| v / (norm + 1e-7))
}

/// Reverse complement of a `(len, 4·k)` block whose channel groups are
/// each ACGT.
fn rc_blocks(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let (len, m) = x.dim();
    Array2::from_shape_fn((len, m), |(l, c)| {
        let (g, b) = (c / 4, c % 4);
        x[(len - 1 - l, g * 4 + 3 - b)]
    })
}

/// The data a metric compares, forward and reverse, of raw tracks
/// (hypothetical, contributions).
fn data(metric: Metric, hyp: ArrayView2<'_, f64>, contrib: ArrayView2<'_, f64>) -> Array2<f64> {
    match metric {
        Metric::Jaccard => {
            let (a, b) = (l1_f64(hyp), l1_f64(contrib));
            ndarray::concatenate(ndarray::Axis(1), &[a.view(), b.view()]).expect("same length")
        }
        Metric::Magnitude => magnitude(contrib),
    }
}

/// Cosine of `child` against each window of `parent` zero-padded by
/// `pad` (a zero-norm window scores 0): the first best score and where the
/// child starts in the parent.
fn align_cosine(
    child: ArrayView2<'_, f64>,
    parent: ArrayView2<'_, f64>,
    pad: usize,
) -> (f64, isize) {
    let (lc, m) = child.dim();
    let lp = parent.nrows();
    let total = lp + 2 * pad;
    let cn = child.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut best = (f64::NEG_INFINITY, 0isize);
    if total < lc {
        return (0.0, 0);
    }
    for o in 0..=total - lc {
        let (mut dot, mut nn) = (0.0, 0.0);
        for j in 0..lc {
            let Some(r) = (o + j).checked_sub(pad).filter(|&r| r < lp) else { continue };
            for k in 0..m {
                let y = parent[(r, k)];
                dot += child[(j, k)] * y;
                nn += y * y;
            }
        }
        let mut score = dot / cn / nn.sqrt();
        if !score.is_finite() {
            score = 0.0;
        }
        if score > best.0 {
            best = (score, o as isize - pad as isize);
        }
    }
    best
}

/// The padding modisco aligns a child of `len` columns with:
/// `ceil(len·(1 − 0.7))` (16 for 50 columns).
#[must_use]
pub fn alignment_pad(len: usize) -> usize {
    (len as f64 * (1.0 - 0.7)).ceil() as usize
}

/// Best alignment of a child (forward and reverse data) to a parent's
/// forward data: `(offset, reverse won, score)`; the reverse strand wins
/// only when strictly better.
fn best_alignment(
    metric: Metric,
    parent: &Array2<f64>,
    child_fwd: &Array2<f64>,
    child_rev: &Array2<f64>,
) -> (isize, bool, f64) {
    let pad = alignment_pad(child_fwd.nrows());
    let (f, r) = match metric {
        Metric::Jaccard => {
            let p = parent.mapv(|v| v as f32);
            let a = align_cj(child_fwd.mapv(|v| v as f32).view(), p.view(), pad);
            let b = align_cj(child_rev.mapv(|v| v as f32).view(), p.view(), pad);
            ((f64::from(a.0), a.1), (f64::from(b.0), b.1))
        }
        Metric::Magnitude => (
            align_cosine(child_fwd.view(), parent.view(), pad),
            align_cosine(child_rev.view(), parent.view(), pad),
        ),
    };
    if r.0 > f.0 { (r.1, true, r.0) } else { (f.1, false, f.0) }
}

/// Forward and reverse comparison data of one seqlet.
fn site_data(metric: Metric, site: &Site, tracks: &Tracks) -> (Array2<f64>, Array2<f64>) {
    let h = tracks.rows(site, Track::Hypothetical).mapv(f64::from);
    let c = tracks.rows(site, Track::Contrib).mapv(f64::from);
    let f = data(metric, h.view(), c.view());
    let r = data(metric, rc_blocks(h.view()).view(), rc_blocks(c.view()).view());
    (f, r)
}

/// Comparison data of a pattern (forward only; the parent side).
fn pattern_data(metric: Metric, p: &Pattern) -> Array2<f64> {
    data(metric, p.hcwm().view(), p.cwm().view())
}

/// The alignment of pattern `child` onto `parent` by the metric
/// (`_align_patterns`): `(offset, reverse, score)`.
#[must_use]
pub fn align_patterns(metric: Metric, parent: &Pattern, child: &Pattern) -> (isize, bool, f64) {
    let pf = pattern_data(metric, parent);
    let (h, c) = (child.hcwm(), child.cwm());
    let cf = data(metric, h.view(), c.view());
    let cr = data(metric, rc_blocks(h.view()).view(), rc_blocks(c.view()).view());
    best_alignment(metric, &pf, &cf, &cr)
}

/// Merges `sites` one at a time into a copy of `parent`
/// (`merge_in_seqlets_filledges`): each is aligned (flipped when its
/// reverse strand aligns strictly better), extended to span the pattern,
/// and the pattern's seqlets extended when it overhangs; sites that would
/// leave their window are skipped.
#[must_use]
pub fn merge_in(parent: &Pattern, sites: &[Site], metric: Metric, tracks: &Tracks) -> Pattern {
    let mut p = parent.clone();
    let mut pdata: Option<Array2<f64>> = None;
    for site in sites {
        let pd = pdata.get_or_insert_with(|| pattern_data(metric, &p));
        let (f, r) = site_data(metric, site, tracks);
        let (o, rc, _) = best_alignment(metric, pd, &f, &r);
        let site = if rc { site.flipped() } else { *site };
        let (plen, slen) = (p.len() as isize, site.len() as isize);
        let left = o.max(0);
        let right = (plen - (o + slen)).max(0);
        let Some(ext) = site.extended(left, right, tracks) else { continue };
        let (pl, pr) = ((-o).max(0), (o + slen - plen).max(0));
        if pl > 0 || pr > 0 {
            let Some(grown) = p.expanded(pl as usize, pr as usize, tracks) else { continue };
            p = grown;
            pdata = None;
        }
        if !p.contains(&ext) {
            p.add(ext, tracks);
            pdata = None;
        }
    }
    p
}

/// First index of the largest sum of `w` consecutive values, the sums
/// kept running as modisco's `cpu_sliding_window_sum` keeps them.
fn best_window(v: &[f64], w: usize) -> usize {
    let mut sum = pairwise_sum(&v[..w]);
    let (mut best, mut at) = (sum, 0);
    for i in w..v.len() {
        sum += v[i] - v[i - w];
        if sum > best {
            (best, at) = (sum, i + 1 - w);
        }
    }
    at
}

/// Polish settings: flank added each side, and the information window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polish {
    /// Fraction of the largest column count a column needs to be kept.
    pub min_frac: f64,
    /// Column count that is always enough.
    pub min_num: f64,
    /// Columns added each side (10).
    pub flank: usize,
    /// Width of the most informative window kept (30).
    pub window: usize,
}

impl Default for Polish {
    fn default() -> Self {
        Self { min_frac: 0.2, min_num: 30.0, flank: 10, window: 30 }
    }
}

/// `polish_pattern`: trim to support, add the flanks, keep the most
/// informative window (IC against `bg`), add the flanks again. `None` when
/// every seqlet falls off its window.
#[must_use]
pub fn polish(p: &Pattern, s: &Polish, bg: &[f64; 4], tracks: &Tracks) -> Option<Pattern> {
    let (a, b) = p.support_window(s.min_frac, s.min_num);
    let p = p.trimmed(a, b, tracks);
    let p = p.expanded(s.flank, s.flank, tracks)?;
    let ic = crate::motif::per_position_ic(p.ppm().view(), bg, 0.001);
    let w = s.window.min(ic.len());
    let start = best_window(&ic, w);
    let p = p.trimmed(start, start + w, tracks);
    p.expanded(s.flank, s.flank, tracks)
}

/// Summed |contribution| of a seqlet (modisco's sort key, negated).
#[must_use]
pub fn strength(site: &Site, tracks: &Tracks) -> f64 {
    tracks.rows(site, Track::Contrib).iter().map(|v| f64::from(v.abs())).sum()
}

/// A cluster's pattern (`_pattern_from_cluster`): seeded with its
/// strongest seqlet, the rest merged in by strength, polished; `None` when
/// polishing drops it or its CWM's sign is not `sign`.
#[must_use]
pub fn from_cluster(
    sites: &[Site],
    sign: f64,
    polish_with: &Polish,
    bg: &[f64; 4],
    tracks: &Tracks,
) -> Option<Pattern> {
    let mut order: Vec<(f64, Site)> = sites.iter().map(|s| (-strength(s, tracks), *s)).collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    let sorted: Vec<Site> = order.into_iter().map(|(_, s)| s).collect();
    let seed = Pattern::new(&sorted[..1], tracks);
    let merged = merge_in(&seed, &sorted[1..], Metric::Jaccard, tracks);
    let p = polish(&merged, polish_with, bg, tracks)?;
    let total: f64 = p.cwm().iter().sum();
    (total.signum() == sign && total != 0.0).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    /// Tracks of `n` random windows of `len` with `motif` (indices into
    /// ACGT) planted at `at[i]` (forward, or reversed where negative)
    /// carrying all the contribution.
    fn planted(n: usize, len: usize, motif: &[usize], at: &[isize]) -> Tracks {
        let mut r = crate::numpy::RandomState::new(7);
        let mut x = Array3::<f32>::zeros((n, len, 4));
        let mut h = Array3::<f32>::zeros((n, len, 4));
        for i in 0..n {
            for l in 0..len {
                x[(i, l, r.interval(3) as usize)] = 1.0;
                for b in 0..4 {
                    h[(i, l, b)] = (r.random_sample() as f32 - 0.5) * 0.01;
                }
            }
            let (pos, rc) = (at[i].unsigned_abs(), at[i] < 0);
            for (k, &b) in motif.iter().enumerate() {
                let (l, b) = if rc { (pos + motif.len() - 1 - k, 3 - b) } else { (pos + k, b) };
                for c in 0..4 {
                    x[(i, l, c)] = if c == b { 1.0 } else { 0.0 };
                    h[(i, l, c)] = if c == b { 1.0 } else { -0.1 };
                }
            }
        }
        Tracks::new(x, h)
    }

    /// A track read at (window, base, column).
    type Read<'a> = &'a dyn Fn(usize, usize, usize) -> f32;

    /// The tracks read back from base codes (an exact one-hot input) and
    /// from a float sequence (a soft one) equal the inputs and their
    /// product, cropped to the window, on both strands.
    #[test]
    fn tracks_read_back_the_inputs() {
        let mut r = crate::numpy::RandomState::new(3);
        let (n, len, w) = (3, 20, 12);
        let mut x = Array3::<f32>::zeros((n, 4, len));
        let h = Array3::from_shape_fn((n, 4, len), |_| r.random_sample() as f32 - 0.5);
        for i in 0..n {
            for l in 0..len {
                if l != 7 {
                    x[(i, r.interval(3) as usize, l)] = 1.0;
                }
            }
        }
        let mut soft = x.clone();
        soft[(1, 2, 9)] = 0.5;
        for input in [x, soft] {
            let t = Tracks::from_modisco(input.clone(), h.clone(), w).unwrap();
            assert_eq!((t.n(), t.len()), (n, w));
            let a = len / 2 - w / 2;
            for rc in [false, true] {
                let site = Site { example: 1, start: 2, end: 9, revcomp: rc };
                let seq = |i: usize, b: usize, l: usize| input[(i, b, l)];
                let hyp = |i: usize, b: usize, l: usize| h[(i, b, l)];
                let con = |i: usize, b: usize, l: usize| input[(i, b, l)] * h[(i, b, l)];
                let tracks: [(Track, Read<'_>); 3] =
                    [(Track::Sequence, &seq), (Track::Hypothetical, &hyp), (Track::Contrib, &con)];
                for (track, f) in tracks {
                    let rows = t.rows(&site, track);
                    for j in 0..7 {
                        for b in 0..4 {
                            let (l, base) = if rc { (8 - j, 3 - b) } else { (2 + j, b) };
                            assert_eq!(rows[(j, b)], f(1, base, a + l), "{track:?} {rc} {j} {b}");
                        }
                    }
                }
            }
            assert_eq!(t.contrib(1, 3, 2), input[(1, 2, a + 3)] * h[(1, 2, a + 3)]);
        }
    }

    /// Seqlets around a motif planted on both strands merge into one
    /// pattern with the motif's bases at a common offset and orientation,
    /// whatever strand each seqlet was called on; polishing gives 50
    /// columns centred on the motif.
    #[test]
    fn merging_aligns_both_strands() {
        let motif = [0, 2, 3, 3, 1, 0, 2];
        let n = 12;
        let at: Vec<isize> =
            (0..n).map(|i| if i % 3 == 0 { -(40 + i as isize) } else { 40 + i as isize }).collect();
        let tracks = planted(n, 120, &motif, &at);
        // Seqlets of 30 columns starting 5–12 before the motif.
        let sites: Vec<Site> = (0..n)
            .map(|i| {
                let start = at[i].unsigned_abs() - 5 - (i % 8);
                Site { example: i, start, end: start + 30, revcomp: false }
            })
            .collect();
        let bg = [0.25; 4];
        let p = from_cluster(&sites, 1.0, &Polish::default(), &bg, &tracks).expect("a pattern");
        assert_eq!(p.len(), 50);
        assert_eq!(p.seqlets.len(), n);
        let ppm = p.ppm();
        // The motif, or its reverse complement, appears with frequency 1.
        let hit = |fwd: bool| {
            (0..=50 - motif.len()).find(|&o| {
                motif.iter().enumerate().all(|(k, &b)| {
                    let (l, b) = if fwd { (o + k, b) } else { (o + motif.len() - 1 - k, 3 - b) };
                    (ppm[(l, b)] - 1.0).abs() < 1e-12
                })
            })
        };
        let o = hit(true).or_else(|| hit(false)).expect("motif in the PPM");
        // Inside the 30-column window of greatest information, flanked by 10.
        assert!((10..=33).contains(&o), "motif at {o}");
        // Duplicates are kept once; trims map reverse sites to the other end.
        let again = merge_in(&p, &p.seqlets.clone(), Metric::Jaccard, &tracks);
        assert_eq!(again.seqlets.len(), n);
        let s = Site { example: 0, start: 10, end: 40, revcomp: true };
        assert_eq!(s.trimmed(2, 5), Site { example: 0, start: 35, end: 38, revcomp: true });
        assert_eq!(s.extended(1, 3, &tracks).unwrap().key(), (0, 7, 41));
    }

    #[test]
    fn running_window_and_pads() {
        assert_eq!(best_window(&[0.0, 1.0, 3.0, 0.5, 3.0, 0.0], 2), 1);
        assert_eq!(alignment_pad(30), 10);
        assert_eq!(alignment_pad(50), 16);
        let x = ndarray::array![[1.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]];
        let y = ndarray::array![[0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]];
        let (score, o) = align_cosine(x.view(), y.view(), 1);
        assert!((score - 1.0).abs() < 1e-12 && o == 1, "{score} {o}");
    }
}
