//! Cutting a CRM's PPM into informative segments (NeuronMotif's
//! `segment.ppm_segment` for the dictionary and `tochen.py` for matching
//! against a database). Both use the original's "IC" in nats.

use ndarray::{Array2, s};
use serde::{Deserialize, Serialize};

use crate::Crm;
use crate::ppm::{ic_nats, smooth};

/// A segment of one CRM's PPM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(
    clippy::unsafe_derive_deserialize,
    reason = "plain data; the unsafe its methods reach is the AVX2 k-means kernel, behind runtime feature detection"
)]
pub struct Segment {
    /// Id: `crm<index>_<start>_<end>` (1-based inclusive positions).
    pub id: String,
    /// The CRM's index.
    pub crm: usize,
    /// First position (0-based).
    pub start: usize,
    /// One past the last position.
    pub end: usize,
    /// Mean IC (nats, 1-pseudocount PPM) over the segment.
    pub ic: f64,
}

impl Segment {
    /// The segment's columns of the unsmoothed PPM.
    #[must_use]
    pub fn ppm(&self, crm: &Crm) -> Array2<f64> {
        crm.ppm_array().slice(s![.., self.start..self.end]).to_owned()
    }
}

/// Runs of `mark`, each extended by `pad` on both sides (clipped), merged
/// where they touch.
fn runs(mark: &[bool], pad: usize) -> Vec<(usize, usize)> {
    let n = mark.len();
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut j = 0;
    while j < n {
        if !mark[j] {
            j += 1;
            continue;
        }
        let st = j;
        while j < n && mark[j] {
            j += 1;
        }
        let (a, b) = (st.saturating_sub(pad), (j + pad).min(n));
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn make(crm: &Crm, runs: Vec<(usize, usize)>, min_len: usize) -> Vec<Segment> {
    let ic1 = ic_nats(&smooth(&crm.ppm_array(), crm.size, 1.0));
    runs.into_iter()
        .filter(|(a, b)| b - a >= min_len)
        .map(|(a, b)| Segment {
            id: format!("crm{}_{}_{}", crm.index, a + 1, b),
            crm: crm.index,
            start: a,
            end: b,
            ic: ic1[a..b].iter().sum::<f64>() / (b - a) as f64,
        })
        .collect()
}

/// Informative columns a motif core needs before [`split_cores`] cuts
/// between two of them.
pub const MIN_CORE: usize = 4;

/// Cuts a run `(a, b)` between motif cores: where non-informative columns
/// (`ic` ≤ 1) separate informative ones with at least [`MIN_CORE`]
/// informative columns on each side (counted to the previous cut and to
/// the run's end). Inner ends keep one flanking column, so the cut column
/// belongs to both pieces when the cores are 1 bp apart.
fn split_cores(ic: &[f64], (a, b): (usize, usize)) -> Vec<(usize, usize)> {
    let info: Vec<usize> = (a..b).filter(|&j| ic[j] > 1.0).collect();
    let mut out = Vec::new();
    let (mut start, mut since) = (a, 0usize);
    for (i, &j) in info.iter().enumerate() {
        since += 1;
        let Some(&next) = info.get(i + 1) else { break };
        let right = info.len() - i - 1;
        if next > j + 1 && since >= MIN_CORE && right >= MIN_CORE {
            out.push((start, j + 2));
            start = next - 1;
            since = 0;
        }
    }
    out.push((start, b));
    out
}

/// Dictionary segments (`ppm_segment`, flank 1, 30 pseudo-samples): IC of
/// the smoothed PPM, a 3-position moving average with both ends 0,
/// positions above 1, runs extended by 1 on each side, runs shorter than
/// 4 dropped. Also returns the background IC (mean over positions outside
/// every segment, 1-pseudocount PPM; 0 when there are none).
///
/// Departure from the original: a run holding two motif cores 1–2 bp
/// apart (which the moving average and the extension join) is cut between
/// them ([`split_cores`]), so that a chimera of two motifs does not enter
/// the dictionary in place of both.
#[must_use]
pub fn dictionary_segments(crm: &Crm) -> (Vec<Segment>, f64) {
    let ic = ic_nats(&smooth(&crm.ppm_array(), crm.size, 30.0));
    let n = ic.len();
    let mut ma = vec![0.0; n];
    for j in 1..n.saturating_sub(1) {
        ma[j] = (ic[j - 1] + ic[j] + ic[j + 1]) / 3.0;
    }
    let mark: Vec<bool> = ma.iter().map(|&v| v > 1.0).collect();
    let cut: Vec<(usize, usize)> =
        runs(&mark, 1).into_iter().flat_map(|r| split_cores(&ic, r)).collect();
    let segs = make(crm, cut, 4);
    let ic1 = ic_nats(&smooth(&crm.ppm_array(), crm.size, 1.0));
    let outside: Vec<f64> = (0..n)
        .filter(|&j| !segs.iter().any(|s| (s.start..s.end).contains(&j)))
        .map(|j| ic1[j])
        .collect();
    let bg =
        if outside.is_empty() { 0.0 } else { outside.iter().sum::<f64>() / outside.len() as f64 };
    (segs, bg)
}

/// Segments matched against a database (`tochen.py`): IC of the PPM with
/// 80 pseudo-samples; only CRMs with at least 3 positions above 1 are cut;
/// each informative run is padded by 2 on each side; segments longer than
/// 8 bp are kept.
#[must_use]
pub fn selected_segments(crm: &Crm) -> Vec<Segment> {
    let ic = ic_nats(&smooth(&crm.ppm_array(), crm.size, 80.0));
    let mark: Vec<bool> = ic.iter().map(|&v| v > 1.0).collect();
    if mark.iter().filter(|&&m| m).count() < 3 {
        return Vec::new();
    }
    make(crm, runs(&mark, 2), 9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crm(cols: &[usize]) -> Crm {
        // Columns: a base index (sharp) or 4 (uniform).
        let ppm = cols
            .iter()
            .map(|&b| {
                if b < 4 {
                    let mut r = [0.0; 4];
                    r[b] = 1.0;
                    r
                } else {
                    [0.25; 4]
                }
            })
            .collect();
        Crm { index: 3, path: vec![], size: 1000, max_act: 1.0, conact: 1.0, ppm }
    }

    #[test]
    fn informative_runs_become_segments() {
        // 6 uniform, 7 sharp, 8 uniform, 2 sharp, 6 uniform.
        let mut cols = vec![4; 6];
        cols.extend([0, 1, 2, 3, 0, 1, 2]);
        cols.extend([4; 8]);
        cols.extend([3, 3]);
        cols.extend([4; 6]);
        let (segs, bg) = dictionary_segments(&crm(&cols));
        // IC (nats, 30 pseudo-samples of 1000): sharp 1.87, uniform 0.614, so
        // the moving average exceeds 1 wherever a window holds a sharp
        // column: 5..=13 and 20..=23; extended by 1: [4, 15) and [19, 25).
        assert_eq!((segs[0].start, segs[0].end), (4, 15));
        assert_eq!(segs[0].id, "crm3_5_15");
        assert_eq!((segs[1].start, segs[1].end), (19, 25));
        assert_eq!(segs.len(), 2, "{segs:?}");
        assert!(bg < 0.7 && segs[0].ic > 1.0);
        let sel = selected_segments(&crm(&cols));
        // Two cores 1 bp apart (and 2 bp apart) are cut into two segments
        // sharing the column between them; a core of 3 stays joined.
        for gap in [1, 2] {
            let mut cols = vec![4; 5];
            cols.extend([0, 1, 2, 3, 0, 1, 2]);
            cols.extend(vec![4; gap]);
            cols.extend([3, 2, 1, 0, 3]);
            cols.extend([4; 5]);
            let (segs, _) = dictionary_segments(&crm(&cols));
            let spans: Vec<(usize, usize)> = segs.iter().map(|s| (s.start, s.end)).collect();
            assert_eq!(spans, vec![(3, 13), (11 + gap, 19 + gap)], "gap {gap}");
        }
        let mut cols = vec![4; 5];
        cols.extend([0, 1, 2, 3, 0, 1, 2, 4, 3, 2, 1]);
        cols.extend([4; 5]);
        let (segs, _) = dictionary_segments(&crm(&cols));
        assert_eq!(segs.len(), 1, "{segs:?}");
        assert_eq!(sel.len(), 1);
        assert_eq!((sel[0].start, sel[0].end), (4, 15));
    }
}
