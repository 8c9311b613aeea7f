//! HOMER `.motif` files: `>consensus<TAB>name<TAB>threshold…` headers
//! followed by rows of 4 probabilities.

use std::path::Path;

use super::{MotifSet, check_prob_rows, from_rows, parse_row};
use crate::error::{Error, Result};

/// Parses HOMER format. The id is the header's second field (else the
/// consensus).
///
/// # Errors
/// Names the line of a row without 4 probabilities or a motif with no rows.
pub fn parse_homer(text: &str, path: &Path) -> Result<MotifSet> {
    let mut set = MotifSet::default();
    let mut cur: Option<(String, usize)> = None;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut flush = |cur: &mut Option<(String, usize)>, rows: &mut Vec<Vec<f64>>| -> Result<()> {
        if let Some((id, ln)) = cur.take() {
            if rows.is_empty() {
                return Err(Error::parse(path, ln, format!("motif `{id}` has no rows")));
            }
            check_prob_rows(&id, rows, path, ln + 1, &mut set.warnings);
            set.motifs.push(from_rows(&id, rows, path, ln)?);
            rows.clear();
        }
        Ok(())
    };
    for (i, raw) in text.lines().enumerate() {
        let ln = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('>') {
            flush(&mut cur, &mut rows)?;
            let fields: Vec<&str> = rest.split('\t').collect();
            let id = fields.get(1).filter(|s| !s.is_empty()).unwrap_or(&fields[0]);
            cur = Some(((*id).to_owned(), ln));
            continue;
        }
        if cur.is_none() {
            return Err(Error::parse(path, ln, "row before any `>` header"));
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() != 4 {
            return Err(Error::parse(
                path,
                ln,
                format!("row has {} values, expected 4", words.len()),
            ));
        }
        rows.push(parse_row(&words, path, ln)?);
    }
    flush(&mut cur, &mut rows)?;
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_homer() {
        let t = ">ACGT\tmyb/Homer\t6.5\n0.9 0.1 0 0\n0 1 0 0\n>TT\tt2\t3\n0 0 0 1\n";
        let s = parse_homer(t, Path::new("h.motif")).unwrap();
        assert_eq!(s.motifs.len(), 2);
        assert_eq!(s.motifs[0].id, "myb/Homer");
        assert_eq!(s.motifs[0].len(), 2);
        let e = parse_homer(">A\tx\n0.1 0.2\n", Path::new("h.motif")).unwrap_err().to_string();
        assert!(e.starts_with("h.motif:2:"), "{e}");
    }
}
