//! `merge`: the outputs of a job's shards (`--shard i/n`) put back
//! together, byte for byte as one run writes them.
//!
//! A shard's output says which shard it is, where its block starts and how
//! large the whole input is, so the parts may be given in any order and a
//! missing, repeated, foreign, misplaced or truncated part is named instead
//! of merged. Every TSV shard starts with a `#shard` line
//! ([`crate::predict::SHARD_LINE`]):
//! - predict and saliency: `#shard<TAB>i/n<TAB>FIRST<TAB>of=N<TAB>batch=B`,
//!   then the header and rows led by an `index` column (the sequence's
//!   index in the input). A shard holds whole batches of the single run,
//!   which with mixed lengths interleave, and saliency's rows are
//!   positions, several per sequence; the merge puts the rows back in
//!   input order without the index.
//! - match: `#shard<TAB>i/n<TAB>FIRST<TAB>QUERIES<TAB>of=N`, then tomtom's
//!   header, its block's matches (any number per query) and a footer after
//!   a blank line, the same in every shard; the merge writes the blocks one
//!   after the other and the footer once.
//!
//! Both stream. Attribute folders merge through [`crate::attribute_merge`].

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use motif_core::shard::{Shard, order};

use crate::predict::SHARD_LINE;
use crate::{Error, Result, invalid};

/// What a merge combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// What the parts were (`predict`, `saliency` or `match`).
    pub kind: &'static str,
    /// How many shards.
    pub shards: usize,
    /// Items of the input covered: sequences (predict, saliency) or
    /// queries (match).
    pub items: usize,
    /// Table rows written.
    pub rows: usize,
}

/// How a shard's rows are laid out, as its shard line says.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// match: the block's queries (their rows vary in number), then a
    /// footer.
    Block { queries: usize },
    /// predict, saliency: rows led by their sequence's index, from whole
    /// batches of `batch`.
    Indexed { batch: usize },
}

/// One shard's TSV after its shard line: where its block starts, its
/// layout, the whole input's size (`of=`), its header (without the index
/// column; none when a predict shard got no row) and the reader at its
/// first row.
struct Part {
    path: PathBuf,
    first: usize,
    layout: Layout,
    of: usize,
    header: Option<Vec<u8>>,
    rest: BufReader<File>,
}

impl Part {
    /// The batch size of an indexed shard.
    fn batch(&self) -> Option<usize> {
        match self.layout {
            Layout::Indexed { batch } => Some(batch),
            Layout::Block { .. } => None,
        }
    }
}

/// The next line with its newline; a last line without one is a truncated
/// file.
fn read_line(path: &Path, r: &mut impl BufRead) -> Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = r
        .read_until(b'\n', &mut line)
        .map_err(|e| invalid(format!("{}: cannot read: {e}", path.display())))?;
    if n > 0 && !line.ends_with(b"\n") {
        return Err(invalid(format!(
            "{}: its last line ends without a newline (a truncated file?)",
            path.display()
        )));
    }
    Ok((n > 0).then_some(line))
}

fn open(path: &Path) -> Result<(Shard, Part)> {
    let file = File::open(path).map_err(|e| Error::Core(motif_core::Error::io(path, e)))?;
    let mut r = BufReader::new(file);
    let not_shard = || {
        invalid(format!(
            "{}: not a shard's output (a `predict`, `saliency` or `match` TSV written with \
             --shard starts with `{SHARD_LINE}<TAB>i/n<TAB>FIRST`)",
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
    let (mut items, mut of, mut batch) = (None, None, None);
    for f in fields {
        let number = |v: &str| v.parse::<usize>().map_err(|_| not_shard());
        match f.split_once('=') {
            None if items.is_none() && of.is_none() => items = Some(number(f)?),
            Some(("of", v)) => of = Some(number(v)?),
            Some(("batch", v)) => batch = Some(number(v)?),
            _ => return Err(not_shard()),
        }
    }
    let (layout, of) = match (items, batch, of) {
        (Some(queries), None, Some(of)) => (Layout::Block { queries }, of),
        (None, Some(batch), Some(of)) => (Layout::Indexed { batch }, of),
        _ => return Err(not_shard()),
    };
    let mut header = read_line(path, &mut r)?;
    if let (Layout::Indexed { .. }, Some(h)) = (layout, &mut header) {
        *h = h.strip_prefix(b"index\t").ok_or_else(not_shard)?.to_vec();
    }
    Ok((shard, Part { path: path.to_path_buf(), first, layout, of, header, rest: r }))
}

/// Merges the shard outputs `parts` (any order) into `out`.
///
/// # Errors
/// A part that is not a shard's output, shards of different jobs, a shard
/// missing or given twice, different headers or footers, or blocks one job
/// cannot give (each naming the file or shard); I/O errors.
pub fn merge(parts: &[PathBuf], out: &mut dyn Write) -> Result<Merged> {
    let opened = parts.iter().map(|p| open(p)).collect::<Result<Vec<_>>>()?;
    let shards: Vec<Shard> = opened.iter().map(|(s, _)| *s).collect();
    let at = order(&shards)?;
    let mut slots: Vec<Option<Part>> = opened.into_iter().map(|(_, p)| Some(p)).collect();
    let parts: Vec<Part> = at.iter().filter_map(|&k| slots[k].take()).collect();
    let blocks_of = |p: &Part| matches!(p.layout, Layout::Block { .. });
    if let Some(p) = parts.iter().find(|p| blocks_of(p) != blocks_of(&parts[0])) {
        return Err(invalid(format!(
            "{}: a shard of another command than {}'s",
            p.path.display(),
            parts[0].path.display()
        )));
    }
    // One input, one batch size, and every shard with rows has the same
    // header line.
    if let Some(p) = parts.iter().find(|p| (p.of, p.batch()) != (parts[0].of, parts[0].batch())) {
        let run = |p: &Part| {
            let batches = p.batch().map(|b| format!(" in batches of {b}")).unwrap_or_default();
            format!("{} items{batches}", p.of)
        };
        return Err(invalid(format!(
            "{}: a shard of a run over {}, {}'s over {} (shards of different runs?)",
            p.path.display(),
            run(p),
            parts[0].path.display(),
            run(&parts[0])
        )));
    }
    let (of, last) = (parts[0].of, parts[parts.len() - 1].path.clone());
    same(
        parts.iter().filter_map(|p| p.header.as_deref().map(|h| (p.path.as_path(), h))),
        "columns",
    )?;
    if let Some(h) = parts.iter().find_map(|p| p.header.as_ref()) {
        out.write_all(h)?;
    }
    // saliency writes a row per position: a sequence's rows share its index
    let per_position = parts.iter().find_map(|p| p.header.as_deref()).is_some_and(|h| {
        h.strip_suffix(b"\n").is_some_and(|h| h == crate::saliency::HEADER.as_bytes())
    });
    let (kind, (items, rows)) = if blocks_of(&parts[0]) {
        ("match", blocks(parts, out)?)
    } else {
        (if per_position { "saliency" } else { "predict" }, interleave(parts, per_position, out)?)
    };
    if items != of {
        return Err(invalid(format!(
            "{}: the shards hold {items} of the input's {of} items (rows missing at the end?)",
            last.display()
        )));
    }
    Ok(Merged { kind, shards: shards.len(), items, rows })
}

/// Match shards: the blocks one after the other, each starting where the
/// last ended, then the footer (after a blank line), which every shard
/// has the same. Queries and rows written.
fn blocks(parts: Vec<Part>, out: &mut dyn Write) -> Result<(usize, usize)> {
    let (mut items, mut rows) = (0usize, 0usize);
    let mut footers = Vec::with_capacity(parts.len());
    for mut p in parts {
        if p.first != items {
            return Err(invalid(format!(
                "{}: its block starts at query {} where {items} was expected (shards of \
                 different inputs?)",
                p.path.display(),
                p.first
            )));
        }
        let mut footer = Vec::new();
        let mut own = 0;
        while let Some(line) = read_line(&p.path, &mut p.rest)? {
            if !footer.is_empty() || line == b"\n" || line == b"\r\n" {
                footer.extend_from_slice(&line);
            } else {
                out.write_all(&line)?;
                own += 1;
            }
        }
        rows += own;
        let Layout::Block { queries } = p.layout else {
            return Err(invalid(format!("{}: not a match shard", p.path.display())));
        };
        items = items.checked_add(queries).ok_or_else(|| {
            invalid(format!("{}: its query count is out of range", p.path.display()))
        })?;
        footers.push((p.path, footer));
    }
    same(footers.iter().map(|(p, f)| (p.as_path(), f.as_slice())), "footer lines")?;
    if let Some((_, f)) = footers.first() {
        out.write_all(f)?;
    }
    Ok((items, rows))
}

/// A predict shard's next row: its sequence's index and the row after it.
fn next_row(p: &mut Part) -> Result<Option<(usize, Vec<u8>)>> {
    let Some(line) = read_line(&p.path, &mut p.rest)? else { return Ok(None) };
    let tab = line.iter().position(|&b| b == b'\t');
    let index = tab
        .and_then(|t| std::str::from_utf8(&line[..t]).ok())
        .and_then(|f| f.parse::<usize>().ok())
        .ok_or_else(|| {
            invalid(format!("{}: a row without its sequence's index", p.path.display()))
        })?;
    Ok(Some((index, line[tab.unwrap_or_default() + 1..].to_vec())))
}

/// Predict and saliency shards: each row carries its sequence's index (a
/// shard holds whole batches, which for mixed lengths interleave), so the
/// rows are merged back into input order, every index once (a run of rows
/// with `per_position`). Sequences and rows written.
fn interleave(
    mut parts: Vec<Part>,
    per_position: bool,
    out: &mut dyn Write,
) -> Result<(usize, usize)> {
    let mut heads = parts.iter_mut().map(next_row).collect::<Result<Vec<_>>>()?;
    for (p, h) in parts.iter().zip(&heads) {
        if let Some((i, _)) = h.as_ref().filter(|(i, _)| *i != p.first) {
            return Err(invalid(format!(
                "{}: its first row is sequence {i}, its shard line says {}",
                p.path.display(),
                p.first
            )));
        }
    }
    let (mut n, mut rows) = (0usize, 0usize);
    while let Some((i, k)) =
        heads.iter().enumerate().filter_map(|(k, h)| h.as_ref().map(|(i, _)| (*i, k))).min()
    {
        if i != n {
            return Err(invalid(format!(
                "{}: sequence {i} where {n} was expected (shards of different inputs or batch \
                 sizes?)",
                parts[k].path.display()
            )));
        }
        loop {
            if let Some((_, row)) = heads[k].take() {
                out.write_all(&row)?;
                rows += 1;
            }
            heads[k] = next_row(&mut parts[k])?;
            if !per_position || heads[k].as_ref().is_none_or(|(j, _)| *j != i) {
                break;
            }
        }
        n += 1;
    }
    Ok((n, rows))
}

/// Checks that every part's `what` (its bytes) is the first one's.
fn same<'a>(mut parts: impl Iterator<Item = (&'a Path, &'a [u8])>, what: &str) -> Result<()> {
    let Some((first, bytes)) = parts.next() else { return Ok(()) };
    match parts.find(|(_, b)| *b != bytes) {
        Some((p, _)) => Err(invalid(format!(
            "{}: its {what} differ from {}'s (shards of different runs?)",
            p.display(),
            first.display()
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_file as write;

    /// A predict (or saliency) shard: its line for an input of `of`
    /// sequences in batches of 2, the header led by `index`, and `rows`.
    fn tsv(shard: &str, first: usize, of: usize, header: &str, rows: &str) -> String {
        format!("#shard\t{shard}\t{first}\tof={of}\tbatch=2\nindex\t{header}\n{rows}")
    }

    #[test]
    fn merges_in_input_order_whatever_the_order_given() {
        let d = tempfile::tempdir().unwrap();
        // mixed lengths: shards' rows interleave
        let a = write(d.path(), "a", &tsv("1/3", 0, 4, "id\ty", "0\ts0\t0\n2\ts2\t2\n"));
        let b = write(d.path(), "b", &tsv("2/3", 1, 4, "id\ty", "1\ts1\t1\n"));
        let c = write(d.path(), "c", &tsv("3/3", 3, 4, "id\ty", "3\ts3\t3\n"));
        let mut out = Vec::new();
        let m = merge(&[c, a, b], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "id\ty\ns0\t0\ns1\t1\ns2\t2\ns3\t3\n");
        assert_eq!((m.kind, m.shards, m.items, m.rows), ("predict", 3, 4, 4));
    }

    /// Match shards: any number of rows per query, counted by the shard
    /// line; the footer once, at the end; a truncated shard is refused.
    #[test]
    fn match_shards_keep_one_footer() {
        let d = tempfile::tempdir().unwrap();
        let a = write(d.path(), "a", "#shard\t1/3\t0\t2\tof=5\nQ\tT\nq0\tt1\nq0\tt2\n\n# cmd\n");
        let b = write(d.path(), "b", "#shard\t2/3\t2\t1\tof=5\nQ\tT\n\n# cmd\n");
        let c = write(d.path(), "c", "#shard\t3/3\t3\t2\tof=5\nQ\tT\nq4\tt1\n\n# cmd\n");
        let mut out = Vec::new();
        let m = merge(&[b.clone(), c.clone(), a.clone()], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "Q\tT\nq0\tt1\nq0\tt2\nq4\tt1\n\n# cmd\n");
        assert_eq!((m.kind, m.shards, m.items, m.rows), ("match", 3, 5, 3));
        let cut = write(d.path(), "cut", "#shard\t3/3\t3\t2\tof=5\nQ\tT\nq4\tt1\n");
        let e = merge(&[a.clone(), b.clone(), cut], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("cut: its footer lines differ from") && e.ends_with("runs?)"), "{e}");
        let late = write(d.path(), "late", "#shard\t3/3\t4\t1\tof=5\nQ\tT\n\n# cmd\n");
        let e = merge(&[a.clone(), b.clone(), late], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("starts at query 4 where 3 was expected"), "{e}");
        let short = write(d.path(), "short", "#shard\t3/3\t3\t1\tof=5\nQ\tT\n\n# cmd\n");
        let e = merge(&[a.clone(), b.clone(), short], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("short: the shards hold 4 of the input's 5"), "{e}");
        let predict = write(d.path(), "p", &tsv("3/3", 3, 5, "Q\tT", "3\tq3\tt1\n"));
        let e = merge(&[a, b, predict], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("another command"), "{e}");
    }

    /// Saliency shards: several rows (positions) per sequence, interleaved
    /// by sequence; a sequence's rows split across shards are refused.
    #[test]
    fn saliency_rows_stay_with_their_sequence() {
        let d = tempfile::tempdir().unwrap();
        let h = crate::saliency::HEADER;
        let a = write(d.path(), "a", &tsv("1/2", 0, 3, h, "0\ts0\t1\n0\ts0\t2\n2\ts2\t1\n"));
        let b = write(d.path(), "b", &tsv("2/2", 1, 3, h, "1\ts1\t1\n1\ts1\t2\n"));
        let mut out = Vec::new();
        let m = merge(&[b, a.clone()], &mut out).unwrap();
        let want = format!("{h}\ns0\t1\ns0\t2\ns1\t1\ns1\t2\ns2\t1\n");
        assert_eq!(String::from_utf8(out).unwrap(), want);
        assert_eq!((m.kind, m.shards, m.items, m.rows), ("saliency", 2, 3, 5));
        let split = write(d.path(), "split", &tsv("2/2", 0, 3, h, "0\ts0\t3\n1\ts1\t1\n"));
        let e = merge(&[a, split], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("sequence 0 where 1 was expected"), "{e}");
    }

    #[test]
    fn empty_shards_and_bad_parts() {
        let d = tempfile::tempdir().unwrap();
        let a = write(d.path(), "a", &tsv("1/2", 0, 1, "id\ty", "0\ts0\t0\n"));
        let b = write(d.path(), "b", "#shard\t2/2\t1\tof=1\tbatch=2\n");
        let mut out = Vec::new();
        assert_eq!(merge(&[a.clone(), b], &mut out).unwrap().rows, 1);
        assert_eq!(out, b"id\ty\ns0\t0\n");
        let plain = write(d.path(), "plain", "id\ty\n");
        let e = merge(&[a.clone(), plain], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("plain") && e.contains("not a shard"), "{e}");
        let other = write(d.path(), "other", &tsv("2/2", 1, 1, "id\tz", "1\ts1\t1\n"));
        let e = merge(&[a.clone(), other], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("columns differ"), "{e}");
        let gap = write(d.path(), "gap", &tsv("2/2", 3, 1, "id\ty", "3\ts3\t3\n"));
        let e = merge(&[a.clone(), gap], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("sequence 3 where 1 was expected"), "{e}");
        let twice = write(d.path(), "twice", &tsv("2/2", 0, 1, "id\ty", "0\ts0\t0\n"));
        let e = merge(&[a.clone(), twice], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("sequence 0 where 1 was expected"), "{e}");
        let bare = write(d.path(), "bare", &tsv("2/2", 1, 1, "id\ty", "s1\t1\n"));
        let e = merge(&[a.clone(), bare], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("bare: a row without its sequence's index"), "{e}");
        let cut = write(d.path(), "cut", &tsv("2/2", 1, 2, "id\ty", "1\ts1\t1"));
        let a2 = write(d.path(), "a2", &tsv("1/2", 0, 2, "id\ty", "0\ts0\t0\n"));
        let e = merge(&[a2.clone(), cut], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("cut: its last line ends without a newline"), "{e}");
        let batch =
            write(d.path(), "batch", "#shard\t2/2\t1\tof=2\tbatch=4\nindex\tid\ty\n1\ts1\t1\n");
        let e = merge(&[a2, batch], &mut Vec::new()).unwrap_err().to_string();
        assert!(
            e.contains("over 2 items in batches of 4, ") && e.contains("different runs"),
            "{e}"
        );
        let unindexed = write(d.path(), "u", "#shard\t2/2\t1\tof=1\tbatch=2\nid\ty\n1\ts1\t1\n");
        let e = merge(&[a.clone(), unindexed], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("not a shard"), "{e}");
        let e = merge(&[a], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("missing shard(s): 2/2"), "{e}");
    }
}
