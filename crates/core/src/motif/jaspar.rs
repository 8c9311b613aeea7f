//! JASPAR count matrices: `>ID name` headers with `A [ … ]` rows, or bare
//! 4-row `.pfm` files.

use std::path::Path;

use ndarray::Array2;

use super::{Motif, MotifSet, parse_row};
use crate::error::{Error, Result};

/// Parses JASPAR format. Counts are normalised per column; `nsites` is the
/// first column's total (the pyjaspar/Biopython convention).
///
/// # Errors
/// Names the line of a malformed row or a matrix without 4 rows of equal length.
pub fn parse_jaspar(text: &str, path: &Path) -> Result<MotifSet> {
    let mut set = MotifSet::default();
    let mut header: Option<(String, Option<String>, usize)> = None;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("motif").to_owned();
    let flush = |header: &mut Option<(String, Option<String>, usize)>,
                 rows: &mut Vec<Vec<f64>>,
                 set: &mut MotifSet,
                 end: usize|
     -> Result<()> {
        if rows.is_empty() && header.is_none() {
            return Ok(());
        }
        let (id, name, ln) = header.take().unwrap_or_else(|| (stem.clone(), None, end));
        if rows.len() != 4 {
            return Err(Error::parse(
                path,
                ln,
                format!("matrix `{id}` has {} rows, expected 4", rows.len()),
            ));
        }
        let w = rows[0].len();
        if rows.iter().any(|r| r.len() != w) {
            return Err(Error::parse(path, ln, format!("matrix `{id}` rows differ in length")));
        }
        let m = Array2::from_shape_fn((4, w), |(i, j)| rows[i][j]);
        let nsites = m.column(0).sum();
        let mut motif =
            Motif::from_matrix(&id, m).map_err(|e| Error::parse(path, ln, e.to_string()))?;
        motif.name = name;
        motif.nsites = Some(nsites);
        set.motifs.push(motif);
        rows.clear();
        Ok(())
    };
    for (i, raw) in text.lines().enumerate() {
        let ln = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('>') {
            flush(&mut header, &mut rows, &mut set, ln)?;
            let mut w = rest.split_whitespace();
            let id = w.next().ok_or_else(|| Error::parse(path, ln, "header without an id"))?;
            header = Some((id.to_owned(), w.next().map(str::to_owned), ln));
            continue;
        }
        let body = line.trim_start_matches(['A', 'C', 'G', 'T']).trim();
        let body = body.trim_start_matches('[').trim_end_matches(']');
        let words: Vec<&str> = body.split_whitespace().filter(|w| *w != "[" && *w != "]").collect();
        if words.is_empty() {
            return Err(Error::parse(path, ln, "empty matrix row"));
        }
        if rows.len() == 4 {
            return Err(Error::parse(path, ln, "more than 4 rows in a matrix"));
        }
        rows.push(parse_row(&words, path, ln)?);
    }
    flush(&mut header, &mut rows, &mut set, text.lines().count())?;
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bracketed_and_bare() {
        let t = ">MA0001.1 AGL3\nA  [ 3 0 ]\nC  [ 1 4 ]\nG  [ 0 0 ]\nT  [ 0 0 ]\n";
        let s = parse_jaspar(t, Path::new("x.jaspar")).unwrap();
        let m = &s.motifs[0];
        assert_eq!(
            (m.id.as_str(), m.name.as_deref(), m.nsites),
            ("MA0001.1", Some("AGL3"), Some(4.0))
        );
        assert_eq!(m.probs[(0, 0)], 0.75);
        let bare = "1 2\n1 0\n1 0\n1 2\n";
        let s = parse_jaspar(bare, Path::new("MA9.pfm")).unwrap();
        assert_eq!(s.motifs[0].id, "MA9");
        assert_eq!(s.motifs[0].probs[(3, 1)], 0.5);
    }

    #[test]
    fn three_rows_is_an_error() {
        let t = ">M\nA [1]\nC [1]\nG [1]\n>N\nA [1]\nC [1]\nG [1]\nT [1]\n";
        let e = parse_jaspar(t, Path::new("b.jaspar")).unwrap_err().to_string();
        assert!(e.starts_with("b.jaspar:1:") && e.contains("3 rows"), "{e}");
        let e = parse_jaspar(">M\nA [1 x]\n", Path::new("c.jaspar")).unwrap_err().to_string();
        assert!(e.starts_with("c.jaspar:2:"), "{e}");
    }
}
