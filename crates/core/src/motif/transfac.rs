//! TRANSFAC matrix format: `AC`/`ID`/`NA` fields, a `P0` (or `PO`) header
//! naming the letters, numbered count rows, `//` between matrices.

use std::path::Path;

use super::{MotifSet, from_rows, parse_row};
use crate::error::{Error, Result};

/// Parses TRANSFAC format. The id is `AC` (else `ID`), the name `ID` or `NA`;
/// `nsites` is the first row's total.
///
/// # Errors
/// Names the line of a row without 4 counts, or a `P0` header that is not A C G T.
pub fn parse_transfac(text: &str, path: &Path) -> Result<MotifSet> {
    let mut set = MotifSet::default();
    let mut ac: Option<String> = None;
    let mut id: Option<String> = None;
    let mut na: Option<String> = None;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut in_matrix = false;
    let mut start = 1;
    for (i, raw) in text.lines().enumerate() {
        let ln = i + 1;
        let line = raw.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        let (key, rest) = line.split_at(line.find(char::is_whitespace).unwrap_or(line.len()));
        let rest = rest.trim();
        match key {
            "//" => {
                if !rows.is_empty() {
                    let name = ac
                        .take()
                        .or_else(|| id.clone())
                        .unwrap_or_else(|| format!("motif{}", set.motifs.len() + 1));
                    let mut m = from_rows(&name, &rows, path, start)?;
                    m.nsites = Some(rows[0].iter().sum());
                    m.name = id.take().filter(|n| *n != name).or(na.take());
                    set.motifs.push(m);
                }
                rows.clear();
                (ac, id, na, in_matrix) = (None, None, None, false);
            }
            "AC" => ac = Some(rest.to_owned()),
            "ID" => id = Some(rest.to_owned()),
            "NA" => na = Some(rest.to_owned()),
            "P0" | "PO" => {
                let letters: Vec<&str> = rest.split_whitespace().collect();
                if letters[..letters.len().min(4)] != ["A", "C", "G", "T"] {
                    return Err(Error::parse(
                        path,
                        ln,
                        format!("expected `P0 A C G T`, found `{line}`"),
                    ));
                }
                in_matrix = true;
                start = ln;
            }
            "XX" => in_matrix = false,
            k if in_matrix && k.chars().all(|c| c.is_ascii_digit()) => {
                let words: Vec<&str> = rest.split_whitespace().collect();
                if words.len() < 4 {
                    return Err(Error::parse(
                        path,
                        ln,
                        format!("row has {} counts, expected 4", words.len()),
                    ));
                }
                rows.push(parse_row(&words[..4], path, ln)?);
            }
            _ => {}
        }
    }
    if !rows.is_empty() {
        return Err(Error::parse(path, start, "matrix not closed by `//`"));
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_two_matrices() {
        let t = "AC  M00001\nID  V$MYOD_01\nXX\nP0      A      C      G      T\n01      1      2      2      0      S\n02      2      1      2      0      R\nXX\n//\nAC  M2\nP0 A C G T\n01 0 0 0 5 T\n//\n";
        let s = parse_transfac(t, Path::new("t.dat")).unwrap();
        assert_eq!(s.motifs.len(), 2);
        assert_eq!(s.motifs[0].id, "M00001");
        assert_eq!(s.motifs[0].name.as_deref(), Some("V$MYOD_01"));
        assert_eq!(s.motifs[0].nsites, Some(5.0));
        assert!((s.motifs[0].probs[(1, 0)] - 0.4).abs() < 1e-12);
        assert_eq!(s.motifs[1].len(), 1);
    }

    #[test]
    fn short_row_names_line() {
        let t = "AC M\nP0 A C G T\n01 1 2 3\n//\n";
        let e = parse_transfac(t, Path::new("t.dat")).unwrap_err().to_string();
        assert!(e.starts_with("t.dat:3:"), "{e}");
    }
}
