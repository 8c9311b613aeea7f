//! bigWig files (Kent et al. 2010, version 4), written from runs of
//! per-base values: the chromosome B+ tree, zlib-compressed `fixedStep`
//! sections of span 1, and the R-tree index over them; no zoom levels
//! (readers compute summaries from the data then). What genome browsers,
//! pyBigWig and deepTools read.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::ZlibEncoder;

use crate::error::{Error, Result};

const MAGIC: u32 = 0x888F_FC26;
const CHROM_TREE_MAGIC: u32 = 0x78CA_8C91;
const INDEX_MAGIC: u32 = 0x2468_ACE0;
/// Children per R-tree node (Kent's default).
const BLOCK: usize = 256;
/// Values per data section.
const SECTION: usize = 1024;

/// A run of per-base values: `values[i]` covers base `start + i` of
/// chromosome `chrom` (an index into the writer's chromosome list).
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Chromosome index in the list given to [`write`].
    pub chrom: usize,
    /// 0-based start.
    pub start: u32,
    /// One value per base.
    pub values: Vec<f32>,
}

/// One data section as the index sees it.
struct Block {
    chrom: u32,
    start: u32,
    end: u32,
    offset: u64,
    size: u64,
}

fn put_u16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_le_bytes());
}
fn put_u32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}
fn put_u64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

/// Writes `runs` (not overlapping, in any order) to `path` atomically.
/// `chroms` are (name, length) in the order the runs' indices refer to.
///
/// # Errors
/// If the runs overlap or leave a chromosome, or the file cannot be
/// written.
pub fn write(path: &Path, chroms: &[(String, u32)], runs: &[Run]) -> Result<()> {
    let mut w = Writer::create(path, chroms)?;
    let mut sorted: Vec<&Run> = runs.iter().collect();
    sorted.sort_by_key(|r| (w.rank(r.chrom), r.start));
    for r in sorted {
        w.push(r.chrom, r.start, &r.values)?;
    }
    w.finish()
}

/// A bigWig written as its runs arrive (sorted by [`Writer::rank`] of
/// their chromosome, then start): only the section index stays in memory,
/// so tracks of any size take little. The file appears at `path` on
/// [`Writer::finish`] (a temp file until then, removed if dropped).
pub struct Writer {
    path: std::path::PathBuf,
    tmp: std::path::PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    pos: u64,
    chroms: Vec<(String, u32)>,
    id: Vec<u32>,
    blocks: Vec<Block>,
    max_raw: usize,
    /// Bases, min, max, sum, sum of squares.
    summary: (u64, f64, f64, f64, f64),
    prev: Option<(u32, u32)>,
    summary_offset: u64,
    tree_offset: u64,
    data_offset: u64,
}

impl Writer {
    /// Starts `path` for chromosomes `chroms` (name, length).
    ///
    /// # Errors
    /// If the temp file cannot be written.
    pub fn create(path: &Path, chroms: &[(String, u32)]) -> Result<Self> {
        // Chromosome ids follow the names' sort order (the B+ tree's key order).
        let mut order: Vec<usize> = (0..chroms.len()).collect();
        order.sort_by(|&a, &b| chroms[a].0.cmp(&chroms[b].0));
        let mut id = vec![0u32; chroms.len()];
        for (k, &c) in order.iter().enumerate() {
            id[c] = k as u32;
        }
        let dir = crate::fsio::parent_dir(path);
        std::fs::create_dir_all(dir).map_err(|e| Error::io(path, e))?;
        let tmp = dir.join(format!(
            "{}{}.tmp",
            crate::fsio::temp_prefix(),
            path.file_name().map_or("out".into(), |n| n.to_string_lossy())
        ));
        crate::fsio::register_temp(&tmp);
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut w = Self {
            path: path.to_path_buf(),
            tmp,
            file: Some(std::io::BufWriter::new(file)),
            pos: 0,
            chroms: chroms.to_vec(),
            id,
            blocks: Vec::new(),
            max_raw: 0,
            summary: (0, f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0),
            prev: None,
            summary_offset: 0,
            tree_offset: 0,
            data_offset: 0,
        };
        // Header and summary (filled in by `finish`), the chromosome tree,
        // the section count (likewise), then the sections.
        w.emit(&[0u8; 64])?;
        w.summary_offset = w.pos;
        w.emit(&[0u8; 40])?;
        w.tree_offset = w.pos;
        let mut tree = Vec::new();
        put_chrom_tree(&mut tree, chroms, &order, &w.id);
        w.emit(&tree)?;
        w.data_offset = w.pos;
        w.emit(&[0u8; 8])?;
        Ok(w)
    }

    /// The order runs must come in: by this rank of their chromosome (its
    /// name's sort order), then by start.
    #[must_use]
    pub fn rank(&self, chrom: usize) -> u32 {
        self.id[chrom]
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<()> {
        let f = self.file.as_mut().expect("open until finish");
        f.write_all(bytes).map_err(|e| Error::io(&self.tmp, e))?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Appends `values` for bases `start..` of chromosome `chrom`.
    ///
    /// # Errors
    /// If the run leaves the chromosome, comes before or overlaps the
    /// previous one, or cannot be written.
    pub fn push(&mut self, chrom: usize, start: u32, values: &[f32]) -> Result<()> {
        let bad = |m: String| Error::Invalid(format!("{}: {m}", self.path.display()));
        if values.is_empty() {
            return Ok(());
        }
        let (name, len) = self.chroms[chrom].clone();
        let end = u64::from(start) + values.len() as u64;
        if end > u64::from(len) {
            return Err(bad(format!("values past the end of {name}")));
        }
        let id = self.id[chrom];
        if let Some((c, e)) = self.prev {
            if c == id && start < e {
                return Err(bad(format!("overlapping values on {name}")));
            }
            if c > id {
                return Err(bad(format!("{name} comes after a chromosome that sorts later")));
            }
        }
        self.prev = Some((id, end as u32));
        for v in values {
            let v = f64::from(*v);
            let s = &mut self.summary;
            s.0 += 1;
            s.1 = s.1.min(v);
            s.2 = s.2.max(v);
            s.3 += v;
            s.4 += v * v;
        }
        for (k, chunk) in values.chunks(SECTION).enumerate() {
            let start = start + (k * SECTION) as u32;
            let end = start + chunk.len() as u32;
            let mut raw = Vec::with_capacity(24 + 4 * chunk.len());
            for v in [id, start, end, 1, 1] {
                put_u32(&mut raw, v);
            }
            raw.push(3); // fixedStep
            raw.push(0);
            put_u16(&mut raw, chunk.len() as u16);
            for v in chunk {
                raw.extend_from_slice(&v.to_le_bytes());
            }
            self.max_raw = self.max_raw.max(raw.len());
            let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
            z.write_all(&raw).map_err(|e| Error::io(&self.tmp, e))?;
            let packed = z.finish().map_err(|e| Error::io(&self.tmp, e))?;
            self.blocks.push(Block {
                chrom: id,
                start,
                end,
                offset: self.pos,
                size: packed.len() as u64,
            });
            self.emit(&packed)?;
        }
        Ok(())
    }

    /// Writes the index and header and moves the file to its path.
    ///
    /// # Errors
    /// If the file cannot be written or renamed.
    pub fn finish(mut self) -> Result<()> {
        use std::io::{Seek, SeekFrom};
        let index_offset = self.pos;
        let mut tail = Vec::new();
        write_index(&mut tail, &self.blocks, index_offset, index_offset);
        put_u32(&mut tail, MAGIC);
        self.emit(&tail)?;
        let mut h = Vec::with_capacity(64);
        put_u32(&mut h, MAGIC);
        put_u16(&mut h, 4);
        put_u16(&mut h, 0); // zoom levels
        put_u64(&mut h, self.tree_offset);
        put_u64(&mut h, self.data_offset);
        put_u64(&mut h, index_offset);
        put_u16(&mut h, 0);
        put_u16(&mut h, 0);
        put_u64(&mut h, 0); // autoSql
        put_u64(&mut h, self.summary_offset);
        put_u32(&mut h, self.max_raw as u32);
        put_u64(&mut h, 0);
        let (n, lo, hi, sum, sq) = self.summary;
        let mut summary = Vec::with_capacity(40);
        put_u64(&mut summary, n);
        for v in [if n > 0 { lo } else { 0.0 }, if n > 0 { hi } else { 0.0 }, sum, sq] {
            summary.extend_from_slice(&v.to_le_bytes());
        }
        let count = (self.blocks.len() as u64).to_le_bytes();
        let tmp = self.tmp.clone();
        let io = |e: std::io::Error| Error::io(&tmp, e);
        let mut f = self.file.take().expect("open until finish");
        for (at, bytes) in
            [(0, &h[..]), (self.summary_offset, &summary[..]), (self.data_offset, &count[..])]
        {
            f.seek(SeekFrom::Start(at)).map_err(io)?;
            f.write_all(bytes).map_err(io)?;
        }
        f.flush().map_err(io)?;
        drop(f);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        crate::fsio::unregister_temp(&self.tmp);
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
            crate::fsio::unregister_temp(&self.tmp);
        }
    }
}

/// The chromosome B+ tree: one leaf holding every chromosome, keys in
/// `order` (sorted names), ids `id`.
fn put_chrom_tree(out: &mut Vec<u8>, chroms: &[(String, u32)], order: &[usize], id: &[u32]) {
    let key = chroms.iter().map(|c| c.0.len()).max().unwrap_or(1).max(1);
    put_u32(out, CHROM_TREE_MAGIC);
    put_u32(out, chroms.len().max(1) as u32);
    put_u32(out, key as u32);
    put_u32(out, 8);
    put_u64(out, chroms.len() as u64);
    put_u64(out, 0);
    out.push(1);
    out.push(0);
    put_u16(out, chroms.len() as u16);
    for &c in order {
        let mut k = chroms[c].0.as_bytes().to_vec();
        k.resize(key, 0);
        out.extend_from_slice(&k);
        put_u32(out, id[c]);
        put_u32(out, chroms[c].1);
    }
}

/// The R-tree over the sections: leaves of up to [`BLOCK`] sections,
/// parents of up to [`BLOCK`] children, root first; nodes padded to full
/// size as Kent's writer does.
/// `out` starts at file offset `base`.
fn write_index(out: &mut Vec<u8>, blocks: &[Block], data_end: u64, base: u64) {
    // Bounds per level, leaves first: (chrom, start, chrom, end).
    type Bounds = (u32, u32, u32, u32);
    let mut levels: Vec<Vec<Bounds>> =
        vec![blocks.iter().map(|b| (b.chrom, b.start, b.chrom, b.end)).collect()];
    while levels.last().expect("a level").len() > BLOCK {
        let below = levels.last().expect("a level");
        let up = below
            .chunks(BLOCK)
            .map(|c| (c[0].0, c[0].1, c[c.len() - 1].2, c[c.len() - 1].3))
            .collect();
        levels.push(up);
    }
    let all = levels.last().expect("a level");
    let first = all.first().copied().unwrap_or((0, 0, 0, 0));
    let last = all.last().copied().unwrap_or((0, 0, 0, 0));
    put_u32(out, INDEX_MAGIC);
    put_u32(out, BLOCK as u32);
    put_u64(out, blocks.len() as u64);
    for v in [first.0, first.1, last.2, last.3] {
        put_u32(out, v);
    }
    put_u64(out, data_end);
    put_u32(out, SECTION as u32);
    put_u32(out, 0);
    // Node sizes and where each level starts (root level first).
    let leaf_node = 4 + BLOCK * 32;
    let inner_node = 4 + BLOCK * 24;
    let nodes = |level: usize| levels[level].len().div_ceil(BLOCK).max(1);
    let mut starts = vec![0u64; levels.len()];
    let mut at = base + out.len() as u64;
    for level in (0..levels.len()).rev() {
        starts[level] = at;
        at += (nodes(level) * if level == 0 { leaf_node } else { inner_node }) as u64;
    }
    for level in (0..levels.len()).rev() {
        let items = &levels[level];
        let chunks: Vec<&[Bounds]> =
            if items.is_empty() { vec![&[][..]] } else { items.chunks(BLOCK).collect() };
        for (node, chunk) in chunks.iter().enumerate() {
            out.push(u8::from(level == 0));
            out.push(0);
            put_u16(out, chunk.len() as u16);
            for (k, b) in chunk.iter().enumerate() {
                for v in [b.0, b.1, b.2, b.3] {
                    put_u32(out, v);
                }
                let i = node * BLOCK + k;
                if level == 0 {
                    put_u64(out, blocks[i].offset);
                    put_u64(out, blocks[i].size);
                } else {
                    // Child i of the level below.
                    let child = if level - 1 == 0 { leaf_node } else { inner_node };
                    put_u64(out, starts[level - 1] + (i * child) as u64);
                }
            }
            let slot = if level == 0 { 32 } else { 24 };
            out.resize(out.len() + (BLOCK - chunk.len()) * slot, 0);
        }
    }
}

/// Every value of a bigWig as written here (fixedStep and bedGraph
/// sections): (chromosome, start, values) per section, in file order.
///
/// # Errors
/// If the file is not such a bigWig (naming it).
pub fn read(path: &Path) -> Result<Vec<(String, u32, Vec<f32>)>> {
    let b = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |m: &str| Error::Invalid(format!("{}: {m}", path.display()));
    let u16_at =
        |at: usize| b.get(at..at + 2).map(|s| u16::from_le_bytes(s.try_into().expect("2")));
    let u32_at =
        |at: usize| b.get(at..at + 4).map(|s| u32::from_le_bytes(s.try_into().expect("4")));
    let u64_at =
        |at: usize| b.get(at..at + 8).map(|s| u64::from_le_bytes(s.try_into().expect("8")));
    if u32_at(0) != Some(MAGIC) {
        return Err(bad("not a bigWig"));
    }
    let tree = u64_at(8).ok_or_else(|| bad("short header"))? as usize;
    let key = u32_at(tree + 8).ok_or_else(|| bad("short chromosome tree"))? as usize;
    let count = u16_at(tree + 34).ok_or_else(|| bad("short chromosome tree"))? as usize;
    let mut names = std::collections::HashMap::new();
    for k in 0..count {
        let at = tree + 36 + k * (key + 8);
        let name = b.get(at..at + key).ok_or_else(|| bad("short chromosome tree"))?;
        let name = String::from_utf8_lossy(name).trim_end_matches('\0').to_owned();
        names.insert(u32_at(at + key).ok_or_else(|| bad("short chromosome tree"))?, name);
    }
    let data = u64_at(16).ok_or_else(|| bad("short header"))? as usize;
    let sections = u64_at(data).ok_or_else(|| bad("no data"))? as usize;
    let index = u64_at(24).ok_or_else(|| bad("short header"))? as usize;
    let mut out = Vec::with_capacity(sections);
    let mut at = data + 8;
    while at < index {
        // Each section is a zlib stream; its compressed length is what the
        // decoder consumed.
        let mut dec = flate2::bufread::ZlibDecoder::new(&b[at..index]);
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut dec, &mut raw).map_err(|_| bad("bad section"))?;
        at += dec.total_in() as usize;
        let r32 =
            |o: usize| raw.get(o..o + 4).map(|s| u32::from_le_bytes(s.try_into().expect("4")));
        let (chrom, start) = (r32(0).ok_or_else(|| bad("short section"))?, r32(4).unwrap_or(0));
        let n = raw.get(22..24).map_or(0, |s| usize::from(u16::from_le_bytes([s[0], s[1]])));
        let f32_at =
            |o: usize| raw.get(o..o + 4).map(|s| f32::from_le_bytes(s.try_into().expect("4")));
        let values: Vec<f32> = match raw.get(20) {
            Some(3) => (0..n).filter_map(|i| f32_at(24 + 4 * i)).collect(),
            Some(1) => {
                let mut v = Vec::new();
                for i in 0..n {
                    let o = 24 + 12 * i;
                    let (s0, e0, x) = (r32(o), r32(o + 4), f32_at(o + 8));
                    let (Some(s0), Some(e0), Some(x)) = (s0, e0, x) else { break };
                    v.resize(s0.saturating_sub(start) as usize, f32::NAN);
                    v.resize(e0.saturating_sub(start) as usize, x);
                }
                v
            }
            _ => return Err(bad("only fixedStep and bedGraph sections are read")),
        };
        let name = names.get(&chrom).cloned().ok_or_else(|| bad("unknown chromosome id"))?;
        out.push((name, start, values));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    /// The layout a reader walks: header offsets, the chromosome tree's
    /// sorted keys, every section decompressing to its values, the index
    /// pointing at each section.
    #[test]
    fn sections_and_index_are_where_the_header_says() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bw");
        let chroms = vec![("chr2".to_string(), 5000), ("chr1".to_string(), 300_000)];
        let long: Vec<f32> = (0..300_000u32).map(|i| (i % 97) as f32 * 0.5 - 3.0).collect();
        let runs = vec![
            Run { chrom: 0, start: 10, values: vec![1.0, -2.0, 3.5] },
            Run { chrom: 1, start: 0, values: long.clone() },
        ];
        write(&p, &chroms, &runs).unwrap();
        let b = std::fs::read(&p).unwrap();
        assert_eq!(u32_at(&b, 0), MAGIC);
        assert_eq!(u32_at(&b, b.len() - 4), MAGIC);
        let (tree, data, index) =
            (u64_at(&b, 8) as usize, u64_at(&b, 16) as usize, u64_at(&b, 24) as usize);
        assert_eq!(u32_at(&b, tree), CHROM_TREE_MAGIC);
        // chr1 sorts first: id 0.
        assert_eq!(&b[tree + 36..tree + 40], b"chr1");
        let sections = u64_at(&b, data) as usize;
        assert_eq!(sections, 1 + 300_000usize.div_ceil(SECTION));
        assert_eq!(u32_at(&b, index), INDEX_MAGIC);
        // Two levels (294 sections > 256): the root's first child is a leaf
        // whose first item is chr1's first section.
        let root = index + 48;
        assert_eq!(b[root], 0);
        let child = u64_at(&b, root + 4 + 16) as usize;
        assert_eq!(b[child], 1);
        let (off, size) =
            (u64_at(&b, child + 4 + 16) as usize, u64_at(&b, child + 4 + 24) as usize);
        let mut raw = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::ZlibDecoder::new(&b[off..off + size]),
            &mut raw,
        )
        .unwrap();
        assert_eq!(u32_at(&raw, 0), 0);
        assert_eq!(raw[20], 3);
        let first: Vec<f32> =
            raw[24..].chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(first, long[..SECTION]);
        // Read back: every value where it was written.
        let back = read(&p).unwrap();
        assert_eq!(back.len(), sections);
        let chr2: Vec<_> = back.iter().filter(|s| s.0 == "chr2").collect();
        assert_eq!(chr2.len(), 1);
        assert_eq!((chr2[0].1, chr2[0].2.clone()), (10, vec![1.0, -2.0, 3.5]));
        let all: Vec<f32> =
            back.iter().filter(|s| s.0 == "chr1").flat_map(|s| s.2.clone()).collect();
        assert_eq!(all, long);
        // Overlaps are refused.
        let bad = vec![
            Run { chrom: 0, start: 10, values: vec![1.0; 5] },
            Run { chrom: 0, start: 12, values: vec![1.0; 5] },
        ];
        assert!(write(&p, &chroms, &bad).unwrap_err().to_string().contains("overlapping"));
    }
}
