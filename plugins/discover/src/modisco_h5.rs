//! TF-MoDISco's results file (modisco-lite's `save_hdf5`): the attribute
//! `window_size`, groups `pos_patterns` and `neg_patterns` of
//! `pattern_<i>`, each with `sequence`, `contrib_scores` and
//! `hypothetical_contribs` `(len, 4)` float64, a `seqlets` group
//! (`n_seqlets`, `start`, `end`, `example_idx` int64, `is_revcomp` as
//! h5py's boolean enum, and each seqlet's three `(len, 4)` float32
//! tracks) and its `subpattern_<k>` groups in the same layout. Written
//! with the pure-Rust `hdf5-pure`; `modisco report` and `modisco meme`
//! read it.

use std::path::Path;

use hdf5_pure::{AttrValue, EnumTypeBuilder, FileBuilder, GroupBuilder, make_i8_type};
use ndarray::{Array2, Array3};

/// Why the file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum H5Error {
    /// The HDF5 encoder refused the data.
    #[error("{path}: {msg}")]
    Encode {
        /// The file.
        path: String,
        /// Why.
        msg: String,
    },
    /// The file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// One seqlet of a pattern, its tracks in the pattern's orientation.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqletRecord {
    /// Row of the input.
    pub example: usize,
    /// Window coordinates, half-open.
    pub start: usize,
    /// One past the last.
    pub end: usize,
    /// Taken from the reverse strand.
    pub revcomp: bool,
    /// One-hot `(len, 4)`.
    pub sequence: Array2<f32>,
    /// Contributions `(len, 4)`.
    pub contrib: Array2<f32>,
    /// Hypothetical contributions `(len, 4)`.
    pub hypothetical: Array2<f32>,
}

/// A pattern as the file holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternRecord {
    /// Position frequency matrix `(len, 4)`.
    pub sequence: Array2<f64>,
    /// Contribution weight matrix.
    pub contrib: Array2<f64>,
    /// Hypothetical contribution weight matrix.
    pub hypothetical: Array2<f64>,
    /// Its seqlets.
    pub seqlets: Vec<SeqletRecord>,
    /// Subpatterns (`subpattern_<k>`), if it was subclustered.
    pub subpatterns: Vec<PatternRecord>,
}

fn dims(a: &[usize]) -> Vec<u64> {
    a.iter().map(|&d| d as u64).collect()
}

fn put_pattern(g: &mut GroupBuilder, p: &PatternRecord) -> Result<(), String> {
    for (name, a) in [
        ("sequence", &p.sequence),
        ("contrib_scores", &p.contrib),
        ("hypothetical_contribs", &p.hypothetical),
    ] {
        let v: Vec<f64> = a.iter().copied().collect();
        g.create_dataset(name).with_f64_data(&v).with_shape(&dims(a.shape()));
    }
    let mut s = g.create_group("seqlets");
    let n = p.seqlets.len();
    let ints = |f: &dyn Fn(&SeqletRecord) -> usize| -> Vec<i64> {
        p.seqlets.iter().map(|q| f(q) as i64).collect()
    };
    s.create_dataset("n_seqlets").with_i64_data(&[n as i64]);
    s.create_dataset("start").with_i64_data(&ints(&|q| q.start));
    s.create_dataset("end").with_i64_data(&ints(&|q| q.end));
    s.create_dataset("example_idx").with_i64_data(&ints(&|q| q.example));
    // h5py's numpy.bool_: an enum of int8 with FALSE = 0, TRUE = 1.
    let boolean = EnumTypeBuilder::with_base(make_i8_type())
        .value("FALSE", 0)
        .value("TRUE", 1)
        .build()
        .map_err(|e| e.to_string())?;
    let rc: Vec<u8> = p.seqlets.iter().map(|q| u8::from(q.revcomp)).collect();
    s.create_dataset("is_revcomp").with_enum_u8_data(boolean, &rc);
    let len = p.seqlets.first().map_or(0, |q| q.sequence.nrows());
    for (name, pick) in [
        ("sequence", (|q: &SeqletRecord| &q.sequence) as fn(&SeqletRecord) -> &Array2<f32>),
        ("contrib_scores", |q| &q.contrib),
        ("hypothetical_contribs", |q| &q.hypothetical),
    ] {
        let mut all = Array3::<f32>::zeros((n, len, 4));
        for (k, q) in p.seqlets.iter().enumerate() {
            let t = pick(q);
            if t.dim() != (len, 4) {
                return Err(format!("seqlet {k}'s {name} is {:?}, not ({len}, 4)", t.dim()));
            }
            all.index_axis_mut(ndarray::Axis(0), k).assign(t);
        }
        let v: Vec<f32> = all.iter().copied().collect();
        s.create_dataset(name).with_f32_data(&v).with_shape(&dims(all.shape()));
    }
    g.add_group(s.finish());
    for (k, sub) in p.subpatterns.iter().enumerate() {
        let mut sg = g.create_group(&format!("subpattern_{k}"));
        put_pattern(&mut sg, sub)?;
        g.add_group(sg.finish());
    }
    Ok(())
}

impl PatternRecord {
    /// The record of `pattern` over `tracks`, with `subpatterns`.
    #[must_use]
    pub fn of(
        pattern: &crate::pattern::Pattern,
        subpatterns: &[crate::pattern::Pattern],
        tracks: &crate::pattern::Tracks,
    ) -> Self {
        use crate::pattern::Track;
        let seqlets = pattern
            .seqlets
            .iter()
            .map(|s| SeqletRecord {
                example: s.example,
                start: s.start,
                end: s.end,
                revcomp: s.revcomp,
                sequence: tracks.rows(s, Track::Sequence).to_owned(),
                contrib: tracks.rows(s, Track::Contrib).to_owned(),
                hypothetical: tracks.rows(s, Track::Hypothetical).to_owned(),
            })
            .collect();
        Self {
            sequence: pattern.ppm(),
            contrib: pattern.cwm(),
            hypothetical: pattern.hcwm(),
            seqlets,
            subpatterns: subpatterns.iter().map(|p| Self::of(p, &[], tracks)).collect(),
        }
    }
}

/// Writes `path` atomically (a temp file beside it, then a rename). A
/// metacluster that ran gets its group even when it found no pattern
/// (`Some(&[])`), as modisco writes it; one that did not run (`None`, too
/// few seqlets) gets none.
///
/// # Errors
/// If a seqlet's tracks differ in shape, or the file cannot be written.
pub fn write(
    path: &Path,
    window_size: usize,
    positive: Option<&[PatternRecord]>,
    negative: Option<&[PatternRecord]>,
) -> Result<(), H5Error> {
    let shown = path.display().to_string();
    let encode = |msg: String| H5Error::Encode { path: shown.clone(), msg };
    let mut f = FileBuilder::new();
    f.set_attr("window_size", AttrValue::I64(window_size as i64));
    for (name, set) in [("pos_patterns", positive), ("neg_patterns", negative)] {
        let Some(set) = set else { continue };
        let mut g = f.create_group(name);
        for (i, p) in set.iter().enumerate() {
            let mut pg = g.create_group(&format!("pattern_{i}"));
            put_pattern(&mut pg, p).map_err(encode)?;
            g.add_group(pg.finish());
        }
        f.add_group(g.finish());
    }
    // Streamed to the file: the whole file is never held in memory.
    motif_core::fsio::write_atomic_with(path, |file| {
        f.finish_to(&mut *file).map_err(std::io::Error::other)
    })
    .map_err(|source| H5Error::Io { path: shown, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqlet(k: usize, rc: bool) -> SeqletRecord {
        let t = Array2::from_shape_fn((5, 4), |(l, c)| (l * 4 + c + k) as f32);
        SeqletRecord {
            example: k,
            start: k,
            end: k + 5,
            revcomp: rc,
            sequence: t.clone(),
            contrib: -&t,
            hypothetical: t * 2.0,
        }
    }

    /// The layout read back: attribute, groups, dtypes, shapes, values, the
    /// boolean enum, and subpatterns nested in their pattern.
    #[test]
    fn results_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.h5");
        let pm = Array2::from_shape_fn((5, 4), |(l, c)| (l + c) as f64 / 10.0);
        let sub = PatternRecord {
            sequence: pm.clone(),
            contrib: pm.clone(),
            hypothetical: pm.clone(),
            seqlets: vec![seqlet(0, false)],
            subpatterns: vec![],
        };
        let pat = PatternRecord {
            sequence: pm.clone(),
            contrib: -&pm,
            hypothetical: pm.clone() * 3.0,
            seqlets: vec![seqlet(0, false), seqlet(3, true)],
            subpatterns: vec![sub],
        };
        write(&p, 400, Some(&[pat]), None).unwrap();
        let f = hdf5_pure::File::open(&p).unwrap();
        let ds = |n: &str| f.dataset(n).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(
            ds("pos_patterns/pattern_0/contrib_scores").read_f64().unwrap(),
            (-&pm).iter().copied().collect::<Vec<_>>()
        );
        assert_eq!(ds("pos_patterns/pattern_0/seqlets/start").read_i64().unwrap(), [0, 3]);
        assert_eq!(ds("pos_patterns/pattern_0/seqlets/n_seqlets").read_i64().unwrap(), [2]);
        assert_eq!(ds("pos_patterns/pattern_0/seqlets/is_revcomp").read_raw().unwrap(), [0, 1]);
        assert_eq!(ds("pos_patterns/pattern_0/seqlets/sequence").shape().unwrap(), [2, 5, 4]);
        let h = ds("pos_patterns/pattern_0/seqlets/hypothetical_contribs").read_f32().unwrap();
        assert_eq!(h[20..], (seqlet(3, true).hypothetical).iter().copied().collect::<Vec<_>>()[..]);
        assert_eq!(ds("pos_patterns/pattern_0/subpattern_0/seqlets/end").read_i64().unwrap(), [5]);
        assert!(f.dataset("neg_patterns/pattern_0/sequence").is_err());
        // A seqlet of another length is refused, naming it.
        let bad = PatternRecord {
            sequence: pm.clone(),
            contrib: pm.clone(),
            hypothetical: pm,
            seqlets: vec![
                seqlet(0, false),
                SeqletRecord { sequence: Array2::zeros((6, 4)), ..seqlet(1, false) },
            ],
            subpatterns: vec![],
        };
        let e = write(&p, 400, None, Some(&[bad])).unwrap_err().to_string();
        assert!(e.contains("seqlet 1") && e.contains("m.h5"), "{e}");
    }
}
