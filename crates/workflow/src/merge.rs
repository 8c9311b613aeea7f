//! `merge`: the outputs of a job's shards (`--shard i/n`) put back
//! together, byte for byte as one run writes them.
//!
//! A shard's output says which shard it is and where its block starts, so
//! the parts may be given in any order and a missing, repeated, foreign or
//! misplaced part is named instead of merged: a predict shard's TSV starts
//! with a `#shard<TAB>i/n<TAB>FIRST` line ([`crate::predict::SHARD_LINE`]).
//! The merge writes the shards' rows one shard after the other, streaming.
//! Attribute folders merge through [`crate::attribute_merge`].

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use motif_core::shard::{Shard, order};

use crate::predict::SHARD_LINE;
use crate::{Error, Result, invalid};

/// What a merge combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// What the parts were (`predict`).
    pub kind: &'static str,
    /// How many shards.
    pub shards: usize,
    /// Rows (sequences) written.
    pub rows: usize,
}

/// One shard's TSV after its shard line: its header (none when the shard
/// got no row) and the reader at its first row.
struct Part {
    path: PathBuf,
    first: usize,
    header: Option<Vec<u8>>,
    rest: BufReader<File>,
}

fn read_line(path: &Path, r: &mut impl BufRead) -> Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = r
        .read_until(b'\n', &mut line)
        .map_err(|e| invalid(format!("{}: cannot read: {e}", path.display())))?;
    Ok((n > 0).then_some(line))
}

fn open(path: &Path) -> Result<(Shard, Part)> {
    let file = File::open(path).map_err(|e| Error::Core(motif_core::Error::io(path, e)))?;
    let mut r = BufReader::new(file);
    let not_shard = || {
        invalid(format!(
            "{}: not a shard's output (a `predict --shard` TSV starts with `{SHARD_LINE}<TAB>i/n<TAB>FIRST`)",
            path.display()
        ))
    };
    let first = read_line(path, &mut r)?.ok_or_else(not_shard)?;
    let first = String::from_utf8(first).map_err(|_| not_shard())?;
    let spec =
        first.trim_end_matches(['\n', '\r']).strip_prefix(SHARD_LINE).ok_or_else(not_shard)?;
    let mut fields = spec.strip_prefix('\t').ok_or_else(not_shard)?.split('\t');
    let shard: Shard = fields
        .next()
        .unwrap_or_default()
        .parse()
        .map_err(|e| invalid(format!("{}: line 1: {e}", path.display())))?;
    let first: usize = fields.next().and_then(|f| f.parse().ok()).ok_or_else(not_shard)?;
    let header = read_line(path, &mut r)?;
    Ok((shard, Part { path: path.to_path_buf(), first, header, rest: r }))
}

/// Merges the shard outputs `parts` (any order) into `out`.
///
/// # Errors
/// A part that is not a shard's output, shards of different jobs, a shard
/// missing or given twice, different headers, or row counts one job cannot
/// give (each naming the file or shard); I/O errors.
pub fn merge(parts: &[PathBuf], out: &mut dyn Write) -> Result<Merged> {
    let opened = parts.iter().map(|p| open(p)).collect::<Result<Vec<_>>>()?;
    let shards: Vec<Shard> = opened.iter().map(|(s, _)| *s).collect();
    let at = order(&shards)?;
    let mut slots: Vec<Option<Part>> = opened.into_iter().map(|(_, p)| Some(p)).collect();
    let parts: Vec<Part> = at.iter().filter_map(|&k| slots[k].take()).collect();
    // Every shard with rows has the same header line.
    let mut header: Option<(&Path, &[u8])> = None;
    for p in &parts {
        if let Some(h) = &p.header {
            match header {
                None => header = Some((&p.path, h)),
                Some((first, h0)) if h0 != h.as_slice() => {
                    return Err(invalid(format!(
                        "{}: its columns differ from {}'s (shards of different runs?)",
                        p.path.display(),
                        first.display()
                    )));
                }
                Some(_) => {}
            }
        }
    }
    if let Some((_, h)) = header {
        out.write_all(h)?;
    }
    // The blocks one after the other, each starting where the last ended.
    let mut n = 0usize;
    for mut p in parts {
        if p.first != n {
            return Err(invalid(format!(
                "{}: its block starts at sequence {} where {n} was expected (shards of different \
                 inputs or batch sizes?)",
                p.path.display(),
                p.first
            )));
        }
        while let Some(line) = read_line(&p.path, &mut p.rest)? {
            out.write_all(&line)?;
            n += 1;
        }
    }
    Ok(Merged { kind: "predict", shards: shards.len(), rows: n })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_file as write;

    #[test]
    fn merges_in_input_order_whatever_the_order_given() {
        let d = tempfile::tempdir().unwrap();
        let a = write(d.path(), "a", "#shard\t1/3\t0\nid\ty\ns0\t0\ns1\t1\n");
        let b = write(d.path(), "b", "#shard\t2/3\t2\nid\ty\ns2\t2\n");
        let c = write(d.path(), "c", "#shard\t3/3\t3\nid\ty\ns3\t3\n");
        let mut out = Vec::new();
        let m = merge(&[c, a, b], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "id\ty\ns0\t0\ns1\t1\ns2\t2\ns3\t3\n");
        assert_eq!((m.shards, m.rows), (3, 4));
    }

    #[test]
    fn empty_shards_and_bad_parts() {
        let d = tempfile::tempdir().unwrap();
        let a = write(d.path(), "a", "#shard\t1/2\t0\nid\ty\ns0\t0\n");
        let b = write(d.path(), "b", "#shard\t2/2\t1\n");
        let mut out = Vec::new();
        assert_eq!(merge(&[a.clone(), b], &mut out).unwrap().rows, 1);
        assert_eq!(out, b"id\ty\ns0\t0\n");
        let plain = write(d.path(), "plain", "id\ty\n");
        let e = merge(&[a.clone(), plain], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("plain") && e.contains("not a shard"), "{e}");
        let other = write(d.path(), "other", "#shard\t2/2\t1\nid\tz\ns1\t1\n");
        let e = merge(&[a.clone(), other], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("columns differ"), "{e}");
        let gap = write(d.path(), "gap", "#shard\t2/2\t3\nid\ty\ns3\t3\n");
        let e = merge(&[a.clone(), gap], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("starts at sequence 3 where 1 was expected"), "{e}");
        let e = merge(&[a], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("missing shard(s): 2/2"), "{e}");
    }
}
