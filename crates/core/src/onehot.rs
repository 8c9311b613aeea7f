//! One-hot encoding of DNA: shape (4, len), rows A, C, G, T; `N` → 0.25 in
//! every row; lowercase accepted.

use ndarray::{Array2, Array3, ArrayViewMut2};

/// What a byte encodes to: 0..=3 a base, 4 = N, 255 = invalid.
const fn code_table() -> [u8; 256] {
    let mut t = [255u8; 256];
    t[b'A' as usize] = 0;
    t[b'a' as usize] = 0;
    t[b'C' as usize] = 1;
    t[b'c' as usize] = 1;
    t[b'G' as usize] = 2;
    t[b'g' as usize] = 2;
    t[b'T' as usize] = 3;
    t[b't' as usize] = 3;
    t[b'N' as usize] = 4;
    t[b'n' as usize] = 4;
    t
}

static CODE: [u8; 256] = code_table();

/// The 0-based position and byte of the first letter that is not A, C, G, T
/// or N (either case), if any.
#[must_use]
pub fn first_invalid(seq: &[u8]) -> Option<(usize, u8)> {
    seq.iter().position(|&b| CODE[b as usize] == 255).map(|i| (i, seq[i]))
}

/// One-hot encode `seq` into a new array of shape (4, len).
///
/// # Errors
/// The 0-based position and byte of the first invalid letter.
pub fn one_hot(seq: &[u8]) -> Result<Array2<f32>, (usize, u8)> {
    let mut x = Array2::zeros((4, seq.len()));
    fill_one_hot(seq, x.view_mut())?;
    Ok(x)
}

/// Encode a batch of sequences of one length into shape (n, 4, len).
///
/// # Errors
/// The index of the sequence, and the position and byte of its first invalid letter.
///
/// # Panics
/// If the sequences differ in length.
pub fn one_hot_batch<S: AsRef<[u8]>>(seqs: &[S]) -> Result<Array3<f32>, (usize, usize, u8)> {
    let len = seqs.first().map_or(0, |s| s.as_ref().len());
    let mut x = Array3::zeros((seqs.len(), 4, len));
    for (i, (s, out)) in seqs.iter().zip(x.outer_iter_mut()).enumerate() {
        assert_eq!(s.as_ref().len(), len, "one_hot_batch needs sequences of one length");
        fill_one_hot(s.as_ref(), out).map_err(|(p, b)| (i, p, b))?;
    }
    Ok(x)
}

/// The kernel: writes the encoding of `seq` into `out` (shape (4, len), all
/// zeros on entry). Allocates nothing.
///
/// # Errors
/// The 0-based position and byte of the first invalid letter.
pub fn fill_one_hot(seq: &[u8], mut out: ArrayViewMut2<'_, f32>) -> Result<(), (usize, u8)> {
    debug_assert_eq!(out.dim(), (4, seq.len()));
    for (j, &b) in seq.iter().enumerate() {
        match CODE[b as usize] {
            c @ 0..=3 => out[(c as usize, j)] = 1.0,
            4 => {
                for r in 0..4 {
                    out[(r, j)] = 0.25;
                }
            }
            _ => return Err((j, b)),
        }
    }
    Ok(())
}

/// Reverse complement of a (4, len) matrix: flips both axes (A↔T, C↔G, and
/// position order).
#[must_use]
pub fn reverse_complement(x: ndarray::ArrayView2<'_, f32>) -> Array2<f32> {
    x.slice(ndarray::s![..;-1, ..;-1]).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn encodes_bases_and_n() {
        let x = one_hot(b"AcGtN").unwrap();
        let want = array![
            [1.0, 0.0, 0.0, 0.0, 0.25],
            [0.0, 1.0, 0.0, 0.0, 0.25],
            [0.0, 0.0, 1.0, 0.0, 0.25],
            [0.0, 0.0, 0.0, 1.0, 0.25],
        ];
        assert_eq!(x, want);
    }

    #[test]
    fn rejects_other_letters_with_position() {
        assert_eq!(one_hot(b"ACRT").unwrap_err(), (2, b'R'));
        assert_eq!(first_invalid(b"ACGTNx"), Some((5, b'x')));
        assert_eq!(first_invalid(b"acgtn"), None);
    }

    #[test]
    fn batch_reports_sequence_index() {
        let err = one_hot_batch(&[b"ACGT".as_slice(), b"AC-T"]).unwrap_err();
        assert_eq!(err, (1, 2, b'-'));
        let x = one_hot_batch(&[b"AC", b"GT"]).unwrap();
        assert_eq!(x.dim(), (2, 4, 2));
        assert_eq!(x[(1, 3, 1)], 1.0);
    }

    #[test]
    fn reverse_complement_flips_both_axes() {
        let x = one_hot(b"AACG").unwrap();
        assert_eq!(reverse_complement(x.view()), one_hot(b"CGTT").unwrap());
    }
}
