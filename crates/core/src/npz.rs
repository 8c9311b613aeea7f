//! NumPy `.npz` files of one float32 array (`arr_0`, what
//! `numpy.savez(path, array)` writes and TF-MoDISco reads), streamed: rows
//! go to a temp file as they come, and the archive is written when their
//! number is known, through a temp file and a rename. Memory stays bounded
//! however many rows there are (zip64 past 4 GiB).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use crate::error::{Error, Result};
use crate::fsio::{parent_dir, register_temp, temp_prefix, unregister_temp};

/// The `.npy` header of a C-order little-endian float32 array of `shape`.
fn npy_header(shape: &[usize]) -> Vec<u8> {
    let dims = match shape {
        [d] => format!("({d},)"),
        _ => format!("({})", shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")),
    };
    let mut dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {dims}, }}");
    // magic (6) + version (2) + length (2) + dict + padding + '\n', a multiple of 64.
    let total = (10 + dict.len() + 1).div_ceil(64) * 64;
    dict.push_str(&" ".repeat(total - 10 - dict.len() - 1));
    dict.push('\n');
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h
}

/// Float32 rows of one shape buffered in a temp file beside the outputs
/// (removed when dropped): what [`NpzStream`] writes out, and what a
/// workflow may read back row by row.
pub struct RowBuffer {
    row: Vec<usize>,
    rows: usize,
    tmp: PathBuf,
    data: BufWriter<File>,
    reader: Option<File>,
}

impl RowBuffer {
    /// A buffer of rows shaped `row` in a temp file in `dir`.
    ///
    /// # Errors
    /// If the temp file cannot be created.
    pub fn new(dir: &Path, name: &str, row: &[usize]) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let tmp = dir.join(format!("{}{name}.rows.tmp", temp_prefix()));
        register_temp(&tmp);
        let f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(Self { row: row.to_vec(), rows: 0, tmp, data: BufWriter::new(f), reader: None })
    }

    /// Appends rows: `a` is `(k, row…)`.
    ///
    /// # Errors
    /// If `a`'s row shape differs, or the write fails.
    pub fn push(&mut self, a: ArrayViewD<'_, f32>) -> Result<()> {
        if a.shape().get(1..) != Some(self.row.as_slice()) {
            return Err(Error::Invalid(format!(
                "rows of shape {:?} pushed to a buffer of rows {:?}",
                &a.shape()[1.min(a.ndim())..],
                self.row
            )));
        }
        for v in &a {
            self.data.write_all(&v.to_le_bytes()).map_err(|e| Error::io(&self.tmp, e))?;
        }
        self.rows += a.shape()[0];
        Ok(())
    }

    /// Rows pushed so far.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The buffered bytes, flushed, read from the start.
    fn contents(&mut self) -> Result<File> {
        self.data.flush().map_err(|e| Error::io(&self.tmp, e))?;
        File::open(&self.tmp).map_err(|e| Error::io(&self.tmp, e))
    }

    /// Row `i`, flattened.
    ///
    /// # Errors
    /// If `i` is past the rows pushed, or the read fails.
    pub fn row(&mut self, i: usize) -> Result<Vec<f32>> {
        if i >= self.rows {
            return Err(Error::Invalid(format!("row {i} of {} buffered", self.rows)));
        }
        if self.reader.is_none() {
            self.reader = Some(self.contents()?);
        }
        let n: usize = self.row.iter().product();
        let mut raw = vec![0u8; n * 4];
        let f = self.reader.as_mut().expect("opened above");
        f.seek(SeekFrom::Start((i * n * 4) as u64)).map_err(|e| Error::io(&self.tmp, e))?;
        f.read_exact(&mut raw).map_err(|e| Error::io(&self.tmp, e))?;
        Ok(raw.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4"))).collect())
    }
}

impl Drop for RowBuffer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp);
        unregister_temp(&self.tmp);
    }
}

/// Rows of a float32 array, each of shape `row`, streamed to an `.npz`.
pub struct NpzStream(RowBuffer);

impl NpzStream {
    /// A stream holding `rows` so far.
    #[must_use]
    pub fn from_rows(rows: RowBuffer) -> Self {
        Self(rows)
    }

    /// Row `i` pushed so far, flattened.
    ///
    /// # Errors
    /// If `i` is past the rows pushed, or the read fails.
    pub fn row(&mut self, i: usize) -> Result<Vec<f32>> {
        self.0.row(i)
    }

    /// A stream of rows shaped `row`, buffered in a temp file in `dir`.
    ///
    /// # Errors
    /// If the temp file cannot be created.
    pub fn new(dir: &Path, name: &str, row: &[usize]) -> Result<Self> {
        Ok(Self(RowBuffer::new(dir, name, row)?))
    }

    /// Appends rows: `a` is `(k, row…)`.
    ///
    /// # Errors
    /// If `a`'s row shape differs, or the write fails.
    pub fn push(&mut self, a: ArrayViewD<'_, f32>) -> Result<()> {
        self.0.push(a)
    }

    /// Rows pushed so far.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.0.rows()
    }

    /// Writes `path` (`arr_0.npy` of shape `(rows, row…)`), atomically; the
    /// buffer is removed.
    ///
    /// # Errors
    /// If a write fails.
    pub fn finish(mut self, path: &Path) -> Result<()> {
        let io = |e: std::io::Error| Error::io(path, e);
        let mut shape = vec![self.0.rows];
        shape.extend(&self.0.row);
        let src = self.0.contents()?;
        let out_tmp = parent_dir(path).join(format!(
            "{}{}.tmp",
            temp_prefix(),
            path.file_name().map_or("out".into(), |n| n.to_string_lossy())
        ));
        register_temp(&out_tmp);
        let r = (|| -> Result<()> {
            let f = File::create(&out_tmp).map_err(io)?;
            let mut z = zip::ZipWriter::new(BufWriter::new(f));
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .large_file(true);
            z.start_file("arr_0.npy", opts).map_err(|e| Error::Invalid(e.to_string()))?;
            z.write_all(&npy_header(&shape)).map_err(io)?;
            std::io::copy(&mut BufReader::new(src), &mut z).map_err(io)?;
            z.finish().map_err(|e| Error::Invalid(e.to_string()))?.flush().map_err(io)?;
            std::fs::rename(&out_tmp, path).map_err(io)
        })();
        if r.is_err() {
            let _ = std::fs::remove_file(&out_tmp);
        }
        unregister_temp(&out_tmp);
        r
    }
}

/// Reads the first array of an `.npz` (or a bare `.npy`) as float32:
/// little-endian float32 or float64, or 8-bit integers or booleans, in C
/// order.
///
/// # Errors
/// If the file is not such an array (naming it).
pub fn read(path: &Path) -> Result<ArrayD<f32>> {
    let bad = |msg: String| Error::Invalid(format!("{}: {msg}", path.display()));
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = BufReader::new(f);
    let mut magic = [0u8; 6];
    r.read_exact(&mut magic).map_err(|e| Error::io(path, e))?;
    r.rewind().map_err(|e| Error::io(path, e))?;
    if &magic == b"\x93NUMPY" {
        return read_npy(&mut r, &bad);
    }
    let mut z = zip::ZipArchive::new(r).map_err(|e| bad(format!("not an .npz ({e})")))?;
    if z.is_empty() {
        return Err(bad("the archive holds no array".into()));
    }
    let at = z.index_for_name("arr_0.npy").unwrap_or(0);
    let mut entry = z.by_index(at).map_err(|e| bad(e.to_string()))?;
    read_npy(&mut entry, &bad)
}

/// Rows of an `.npz`'s float32 array read in order, one at a time (the
/// archive uncompressed, as [`NpzStream`] and `numpy.savez` write it):
/// memory holds one row.
pub struct RowReader {
    file: BufReader<File>,
    path: PathBuf,
    shape: Vec<usize>,
    row_len: usize,
    left: usize,
}

impl RowReader {
    /// Opens `path` at its first row.
    ///
    /// # Errors
    /// If it is not an uncompressed `.npz` of one float32 array (naming it).
    pub fn open(path: &Path) -> Result<Self> {
        let bad = |msg: String| Error::Invalid(format!("{}: {msg}", path.display()));
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut z = zip::ZipArchive::new(BufReader::new(f))
            .map_err(|e| bad(format!("not an .npz ({e})")))?;
        let at = z.index_for_name("arr_0.npy").unwrap_or(0);
        let (start, method) = {
            let e = z.by_index_raw(at).map_err(|e| bad(e.to_string()))?;
            (e.data_start(), e.compression())
        };
        if method != zip::CompressionMethod::Stored {
            return Err(bad("a compressed .npz; rows are read from uncompressed ones".into()));
        }
        let start = start.ok_or_else(|| bad("no data offset".into()))?;
        let mut file = z.into_inner();
        file.seek(SeekFrom::Start(start)).map_err(|e| Error::io(path, e))?;
        let (descr, shape) = npy_header_fields(&mut file, &bad)?;
        if descr != "<f4" {
            return Err(bad(format!("dtype `{descr}`; rows are read from float32 arrays")));
        }
        let (left, row_len) = match shape.split_first() {
            Some((&n, row)) => (n, row.iter().product()),
            None => return Err(bad("a 0-d array has no rows".into())),
        };
        Ok(Self { file, path: path.to_path_buf(), shape, row_len, left })
    }

    /// The array's shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The next row, flattened; `None` after the last.
    ///
    /// # Errors
    /// If the file ends early.
    pub fn next_row(&mut self) -> Result<Option<Vec<f32>>> {
        if self.left == 0 {
            return Ok(None);
        }
        let mut raw = vec![0u8; self.row_len * 4];
        self.file.read_exact(&mut raw).map_err(|e| Error::io(&self.path, e))?;
        self.left -= 1;
        Ok(Some(
            raw.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4"))).collect(),
        ))
    }
}

/// The dtype and shape of the `.npy` header `r` is at (C order only).
fn npy_header_fields(
    r: &mut dyn Read,
    bad: &dyn Fn(String) -> Error,
) -> Result<(String, Vec<usize>)> {
    let mut pre = [0u8; 8];
    r.read_exact(&mut pre).map_err(|e| bad(e.to_string()))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy array".into()));
    }
    let hlen = if pre[6] == 1 {
        let mut b = [0u8; 2];
        r.read_exact(&mut b).map_err(|e| bad(e.to_string()))?;
        usize::from(u16::from_le_bytes(b))
    } else {
        let mut b = [0u8; 4];
        r.read_exact(&mut b).map_err(|e| bad(e.to_string()))?;
        u32::from_le_bytes(b) as usize
    };
    let mut h = vec![0u8; hlen];
    r.read_exact(&mut h).map_err(|e| bad(e.to_string()))?;
    let h = String::from_utf8_lossy(&h);
    let field = |key: &str| -> Option<String> {
        let at = h.find(&format!("'{key}'"))? + key.len() + 2;
        let rest = h[at..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest.to_owned())
    };
    let descr = field("descr").and_then(|v| v.split('\'').nth(1).map(str::to_owned));
    let descr = descr.ok_or_else(|| bad("no dtype in the .npy header".into()))?;
    if field("fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(bad("Fortran-order arrays are not supported (save in C order)".into()));
    }
    let shape_s = field("shape").ok_or_else(|| bad("no shape in the .npy header".into()))?;
    let inner = shape_s.trim_start_matches('(').split(')').next().unwrap_or("");
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad(format!("bad shape `{shape_s}`"))))
        .collect::<Result<_>>()?;
    Ok((descr, shape))
}

fn read_npy(r: &mut dyn Read, bad: &dyn Fn(String) -> Error) -> Result<ArrayD<f32>> {
    let (descr, shape) = npy_header_fields(r, bad)?;
    let n: usize = shape.iter().product();
    let width = match descr.as_str() {
        "<f4" => 4,
        "<f8" => 8,
        "|u1" | "|i1" | "|b1" => 1,
        d => return Err(bad(format!("dtype `{d}` is not supported (float32, float64, int8)"))),
    };
    // Converted a block at a time: the float array is the only full copy.
    let short = |_| bad(format!("data shorter than shape {shape:?}"));
    let mut v: Vec<f32> = Vec::with_capacity(n);
    let mut raw = vec![0u8; (1 << 16) * width];
    while v.len() < n {
        let take = (n - v.len()).min(1 << 16);
        let block = &mut raw[..take * width];
        r.read_exact(block).map_err(short)?;
        match descr.as_str() {
            "<f4" => v.extend(
                block.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4"))),
            ),
            "<f8" => v.extend(
                block.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8")) as f32),
            ),
            "|i1" => v.extend(block.iter().map(|&b| f32::from(b as i8))),
            _ => v.extend(block.iter().map(|&b| f32::from(b))),
        }
    }
    ArrayD::from_shape_vec(IxDyn(&shape), v).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_an_npz() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = NpzStream::new(dir.path(), "x", &[4, 3]).unwrap();
        let a =
            ArrayD::from_shape_fn(IxDyn(&[2, 4, 3]), |i| (i[0] * 100 + i[1] * 10 + i[2]) as f32);
        let b = ArrayD::from_shape_fn(IxDyn(&[1, 4, 3]), |i| -((i[1] * 10 + i[2]) as f32) - 0.5);
        s.push(a.view()).unwrap();
        s.push(b.view()).unwrap();
        assert!(s.push(ArrayD::zeros(IxDyn(&[1, 3, 4])).view()).is_err());
        let p = dir.path().join("x.npz");
        s.finish(&p).unwrap();
        let r = read(&p).unwrap();
        assert_eq!(r.shape(), &[3, 4, 3]);
        assert_eq!(r.slice(ndarray::s![0..2, .., ..]).to_owned().into_dyn(), a);
        assert_eq!(r[[2, 3, 2]], -32.5);
        // Row by row, the same values.
        let mut rows = RowReader::open(&p).unwrap();
        assert_eq!(rows.shape(), &[3, 4, 3]);
        for i in 0..3 {
            let want: Vec<f32> = r.index_axis(ndarray::Axis(0), i).iter().copied().collect();
            assert_eq!(rows.next_row().unwrap().unwrap(), want);
        }
        assert!(rows.next_row().unwrap().is_none());
        // Only the archive is left.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(npy_header(&[3, 4, 3]).len() % 64, 0);
        // A buffer read back row by row, in any order.
        let mut buf = RowBuffer::new(dir.path(), "y", &[3]).unwrap();
        let rows = ArrayD::from_shape_fn(IxDyn(&[4, 3]), |i| (i[0] * 3 + i[1]) as f32);
        buf.push(rows.view()).unwrap();
        assert_eq!(buf.row(2).unwrap(), vec![6.0, 7.0, 8.0]);
        assert_eq!(buf.row(0).unwrap(), vec![0.0, 1.0, 2.0]);
        assert!(buf.row(4).is_err());
        drop(buf);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.npz");
        std::fs::write(&p, b"not a zip").unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("x.npz") && e.contains("not an .npz"), "{e}");
    }
}
