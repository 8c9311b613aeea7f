//! Streaming readers of labelled DNA sequences: FASTA (`>id label`),
//! DeepBind `.seq` (`FoldID EventID seq Bound`) and TSV (`seq<TAB>label`),
//! each optionally gzip-compressed (detected from the magic bytes).
//!
//! Records are validated as they are read: any letter other than A, C, G, T
//! or N (either case) is an error naming the file and line. Memory stays
//! bounded: one record at a time.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::onehot::first_invalid;

/// A sequence file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqFormat {
    /// FASTA; the header's second word, if numeric, is the label.
    Fasta,
    /// DeepBind's whitespace table `FoldID EventID seq Bound` (header optional).
    DeepBind,
    /// `seq<TAB>label` (or a bare `seq` per line), or a table with a header
    /// row naming its columns (see [`Columns`]).
    Tsv,
    /// Comma-separated table with a header row (fields may be quoted).
    Csv,
}

/// Which columns of a table with a header row hold the sequence, the
/// label(s) and the id. Unset: the sequence column is the one named `seq`,
/// `sequence` (any case) or else the only column of DNA letters; labels are
/// the columns named `label`, `labels`, `y`, `target`, `bound` or `class`;
/// the id is the column named `id`, `name` or `seq_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    /// Sequence column name.
    pub seq: Option<String>,
    /// Label column names (several for multi-task data).
    pub labels: Vec<String>,
    /// Id column name.
    pub id: Option<String>,
}

impl Columns {
    /// Whether any column was named.
    #[must_use]
    pub fn is_set(&self) -> bool {
        self.seq.is_some() || !self.labels.is_empty() || self.id.is_some()
    }
}

/// Column positions resolved from a header row.
#[derive(Debug, Clone)]
struct Layout {
    /// `None` until the first data row when no column is named for it:
    /// then the one column holding DNA.
    seq: Option<usize>,
    /// The header's column names.
    names: Vec<String>,
    labels: Vec<usize>,
    id: Option<usize>,
    width: usize,
}

impl SeqFormat {
    /// The format implied by a file name (`.gz` is looked through), if any.
    #[must_use]
    pub fn from_path(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let ext = name.rsplit('.').next()?;
        match ext {
            "fa" | "fasta" | "fna" | "fas" => Some(Self::Fasta),
            "seq" => Some(Self::DeepBind),
            "tsv" | "txt" => Some(Self::Tsv),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    /// Name used in messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Fasta => "FASTA",
            Self::DeepBind => "DeepBind .seq",
            Self::Tsv => "TSV",
            Self::Csv => "CSV",
        }
    }
}

/// One sequence with its optional label.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqRecord {
    /// Identifier (FASTA id, DeepBind EventID, or `seq<line>` for TSV).
    pub id: String,
    /// The sequence as given (letters validated, case kept).
    pub seq: Vec<u8>,
    /// The label, if the file (or a labels file) gives one.
    pub label: Option<f32>,
    /// Every label the record gives (a FASTA header may carry several,
    /// `>id 0 1 0`, for multi-label data); `label` is the first.
    pub labels: Vec<f32>,
    /// 1-based line where the record starts.
    pub line: usize,
    /// Where the sequence lies in a genome, when it was cut from one.
    pub locus: Option<Locus>,
}

/// A sequence's place in a genome: 0-based, half-open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locus {
    /// Chromosome.
    pub chrom: String,
    /// First base (0-based).
    pub start: u64,
    /// One past the last base.
    pub end: u64,
    /// The sequence is the reverse complement of the genome's there.
    pub minus: bool,
}

/// Opens a possibly gzip-compressed file as a buffered byte stream.
///
/// # Errors
/// If the file cannot be opened or read.
pub fn open_maybe_gz(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = BufReader::with_capacity(1 << 16, f);
    let head = r.fill_buf().map_err(|e| Error::io(path, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(1 << 16, flate2::read::MultiGzDecoder::new(r))))
    } else {
        Ok(Box::new(r))
    }
}

/// A streaming reader of [`SeqRecord`]s.
pub struct SeqReader {
    path: PathBuf,
    format: SeqFormat,
    input: Box<dyn BufRead + Send>,
    line_no: usize,
    buf: Vec<u8>,
    /// FASTA: a header line read ahead (id, label, line).
    pending: Option<(String, Vec<f32>, usize)>,
    labels: Option<HashMap<String, f32>>,
    columns: Columns,
    layout: Option<Layout>,
    header_checked: bool,
    count: usize,
    done: bool,
}

impl std::fmt::Debug for SeqReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeqReader")
            .field("path", &self.path)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl SeqReader {
    /// Opens `path`; the format is `format`, else guessed from the name,
    /// else sniffed from the first line.
    ///
    /// # Errors
    /// If the file cannot be opened, or its content is binary.
    pub fn open(path: &Path, format: Option<SeqFormat>) -> Result<Self> {
        let mut input = open_maybe_gz(path)?;
        let head = input.fill_buf().map_err(|e| Error::io(path, e))?;
        if looks_binary(head) {
            return Err(Error::Format {
                path: path.into(),
                msg: "binary data, not a sequence file (FASTA, DeepBind .seq or TSV)".into(),
            });
        }
        let format = match format.or_else(|| SeqFormat::from_path(path)) {
            Some(f) => f,
            None => sniff(head),
        };
        Ok(Self {
            path: path.into(),
            format,
            input,
            line_no: 0,
            buf: Vec::new(),
            pending: None,
            labels: None,
            columns: Columns::default(),
            layout: None,
            header_checked: false,
            count: 0,
            done: false,
        })
    }

    /// Names the table columns to read (`--seq-col`, `--label-col`,
    /// `--id-col`); the file must then be a TSV or CSV with a header row.
    ///
    /// # Errors
    /// If the file is not a table.
    pub fn with_columns(mut self, columns: Columns) -> Result<Self> {
        if columns.is_set() && !matches!(self.format, SeqFormat::Tsv | SeqFormat::Csv) {
            return Err(Error::Format {
                path: self.path.clone(),
                msg: format!(
                    "--seq-col/--label-col/--id-col name table columns, but this is read as {}",
                    self.format.name()
                ),
            });
        }
        self.columns = columns;
        Ok(self)
    }

    /// Supplies labels by record id (used where the file itself has none).
    #[must_use]
    pub fn with_labels(mut self, labels: HashMap<String, f32>) -> Self {
        self.labels = Some(labels);
        self
    }

    /// The format being read.
    #[must_use]
    pub fn format(&self) -> SeqFormat {
        self.format
    }

    /// The file being read.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next line into `self.buf` (without the line break); false at EOF.
    fn next_line(&mut self) -> Result<bool> {
        self.buf.clear();
        let n =
            self.input.read_until(b'\n', &mut self.buf).map_err(|e| Error::io(&self.path, e))?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        if self.buf.contains(&0) {
            return Err(Error::parse(
                &self.path,
                self.line_no,
                "binary data (NUL byte) in a text file",
            ));
        }
        Ok(true)
    }

    fn line_str(&self) -> Result<&str> {
        std::str::from_utf8(&self.buf)
            .map_err(|_| Error::parse(&self.path, self.line_no, "not valid UTF-8 text"))
    }

    fn parse_label(&self, s: &str, what: &str) -> Result<f32> {
        s.parse::<f32>().map_err(|_| {
            Error::parse(&self.path, self.line_no, format!("{what} `{s}` is not a number"))
        })
    }

    fn check_letters(&self, id: &str, seq: &[u8], offset: usize) -> Result<()> {
        if let Some((pos, b)) = first_invalid(seq) {
            return Err(Error::Alphabet {
                path: self.path.clone(),
                line: self.line_no,
                id: id.to_owned(),
                letter: char::from(b),
                pos: offset + pos + 1,
            });
        }
        Ok(())
    }

    fn next_fasta(&mut self) -> Result<Option<SeqRecord>> {
        let (id, labels, line) = match self.pending.take() {
            Some(h) => h,
            None => loop {
                if !self.next_line()? {
                    return Ok(None);
                }
                if self.buf.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if self.buf[0] != b'>' {
                    return Err(Error::parse(
                        &self.path,
                        self.line_no,
                        "expected a FASTA header starting with `>`",
                    ));
                }
                break self.parse_header()?;
            },
        };
        let mut seq = Vec::new();
        loop {
            if !self.next_line()? {
                break;
            }
            if self.buf.first() == Some(&b'>') {
                self.pending = Some(self.parse_header()?);
                break;
            }
            let trimmed = self.buf.trim_ascii();
            self.check_letters(&id, trimmed, seq.len())?;
            seq.extend_from_slice(trimmed);
        }
        if seq.is_empty() {
            return Err(Error::parse(
                &self.path,
                line,
                format!("record `{id}` has an empty sequence"),
            ));
        }
        let label = labels.first().copied();
        Ok(Some(SeqRecord { id, seq, label, labels, line, locus: None }))
    }

    fn parse_header(&self) -> Result<(String, Vec<f32>, usize)> {
        let text = self.line_str()?;
        let mut words = text[1..].split_whitespace();
        let Some(id) = words.next() else {
            return Err(Error::parse(&self.path, self.line_no, "FASTA header without an id"));
        };
        let labels = words.map_while(|w| w.parse::<f32>().ok()).collect();
        Ok((id.to_owned(), labels, self.line_no))
    }

    fn next_table(&mut self) -> Result<Option<SeqRecord>> {
        loop {
            if !self.next_line()? {
                return Ok(None);
            }
            let line = self.line_no;
            let text = self.line_str()?;
            if text.trim().is_empty() || text.starts_with('#') {
                continue;
            }
            let fields: Vec<String> = match self.format {
                SeqFormat::Tsv => text.split('\t').map(|f| f.trim().to_owned()).collect(),
                SeqFormat::Csv => split_csv(text),
                _ => text.split_whitespace().map(str::to_owned).collect(),
            };
            if !self.header_checked && matches!(self.format, SeqFormat::Tsv | SeqFormat::Csv) {
                self.header_checked = true;
                if let Some(layout) = self.header(&fields, line)? {
                    self.layout = Some(layout);
                    continue;
                }
            }
            // A header naming no sequence column: find it in the first row.
            let found = match self.layout.as_ref().filter(|l| l.seq.is_none()) {
                Some(lay) => Some(self.seq_by_content(&fields, lay, line)?),
                None => None,
            };
            if let (Some(col), Some(lay)) = (found, self.layout.as_mut()) {
                lay.seq = Some(col);
            }
            if let Some(lay) = &self.layout {
                return self.table_record(&fields, lay, line).map(Some);
            }
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            let (id, seq, label) = if self.format == SeqFormat::DeepBind {
                if line == 1 && fields.first() == Some(&"FoldID") {
                    continue;
                }
                if fields.len() != 4 {
                    return Err(Error::parse(
                        &self.path,
                        line,
                        format!(
                            "expected 4 fields `FoldID EventID seq Bound`, found {}",
                            fields.len()
                        ),
                    ));
                }
                let label = self.parse_label(fields[3], "Bound")?;
                (fields[1].to_owned(), fields[2].as_bytes().to_vec(), Some(label))
            } else {
                if line == 1
                    && matches!(fields[0].to_ascii_lowercase().as_str(), "seq" | "sequence")
                {
                    continue;
                }
                if fields.len() > 2 {
                    return Err(Error::parse(
                        &self.path,
                        line,
                        format!("expected `seq<TAB>label`, found {} fields", fields.len()),
                    ));
                }
                let label = match fields.get(1) {
                    Some(s) if !s.is_empty() => Some(self.parse_label(s, "label")?),
                    _ => None,
                };
                (format!("seq{line}"), fields[0].as_bytes().to_vec(), label)
            };
            if seq.is_empty() {
                return Err(Error::parse(&self.path, line, "empty sequence"));
            }
            self.check_letters(&id, &seq, 0)?;
            let labels = label.into_iter().collect();
            return Ok(Some(SeqRecord { id, seq, label, labels, line, locus: None }));
        }
    }
}

impl SeqReader {
    /// The first row of a table: a header (columns resolved) or data.
    fn header(&self, fields: &[String], line: usize) -> Result<Option<Layout>> {
        let is_data = |f: &str| {
            f.is_empty()
                || f.parse::<f64>().is_ok()
                || f.bytes().all(|b| b.is_ascii_alphabetic())
                    && f.bytes().all(|b| b"ACGTNacgtn".contains(&b))
        };
        // A header has a field that is neither a number nor DNA, and no
        // field that reads as a sequence.
        let looks_header = fields.iter().any(|f| !is_data(f)) && !fields.iter().any(|f| is_dna(f))
            || fields
                .first()
                .is_some_and(|f| matches!(f.to_ascii_lowercase().as_str(), "seq" | "sequence"));
        if !looks_header {
            if self.columns.is_set() {
                return Err(Error::parse(
                    &self.path,
                    line,
                    "--seq-col/--label-col/--id-col need a header row naming the columns",
                ));
            }
            if self.format == SeqFormat::Csv {
                return Err(Error::parse(&self.path, line, "a CSV file needs a header row"));
            }
            return Ok(None);
        }
        let names: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
        let find = |flag: &str, name: &str| -> Result<usize> {
            names.iter().position(|n| *n == name.to_ascii_lowercase()).ok_or_else(|| {
                Error::parse(
                    &self.path,
                    line,
                    format!(
                        "{flag} {name}: no such column (the header has: {})",
                        fields.join(", ")
                    ),
                )
            })
        };
        let named = |set: &[&str]| names.iter().position(|n| set.contains(&n.as_str()));
        let seq = match &self.columns.seq {
            Some(n) => Some(find("--seq-col", n)?),
            // Else found by content in the first data row.
            None => named(&["seq", "sequence", "sequences", "dna"]),
        };
        let labels = if self.columns.labels.is_empty() {
            named(&["label", "labels", "y", "target", "bound", "class"]).into_iter().collect()
        } else {
            self.columns
                .labels
                .iter()
                .map(|n| find("--label-col", n))
                .collect::<Result<Vec<_>>>()?
        };
        let id = match &self.columns.id {
            Some(n) => Some(find("--id-col", n)?),
            None => named(&["id", "name", "seq_id", "peak", "peak_id"]),
        };
        Ok(Some(Layout { seq, names: fields.to_vec(), labels, id, width: fields.len() }))
    }

    /// The sequence column of a header that names none: the one column of
    /// the first data row (other than the label and id columns) holding
    /// DNA ([`is_dna`]).
    fn seq_by_content(&self, fields: &[String], lay: &Layout, line: usize) -> Result<usize> {
        let dna: Vec<usize> = (0..fields.len())
            .filter(|&i| !lay.labels.contains(&i) && lay.id != Some(i) && is_dna(&fields[i]))
            .collect();
        match dna.as_slice() {
            [i] => Ok(*i),
            [] => Err(Error::parse(
                &self.path,
                line,
                format!(
                    "no sequence column: none is named seq or sequence and none of this row holds DNA; name it with --seq-col (the header has: {})",
                    lay.names.join(", ")
                ),
            )),
            many => Err(Error::parse(
                &self.path,
                line,
                format!(
                    "columns {} all hold DNA; choose one with --seq-col",
                    many.iter().map(|&i| lay.names[i].as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    /// One data row of a table with a header.
    fn table_record(&self, fields: &[String], lay: &Layout, line: usize) -> Result<SeqRecord> {
        if fields.len() != lay.width {
            return Err(Error::parse(
                &self.path,
                line,
                format!("{} fields, the header has {}", fields.len(), lay.width),
            ));
        }
        let Some(seq_col) = lay.seq else {
            return Err(Error::parse(
                &self.path,
                line,
                "no sequence column; name it with --seq-col",
            ));
        };
        let seq = fields[seq_col].as_bytes().to_vec();
        let id = lay.id.map_or_else(|| format!("seq{line}"), |i| fields[i].clone());
        if seq.is_empty() {
            return Err(Error::parse(&self.path, line, "empty sequence"));
        }
        self.check_letters(&id, &seq, 0)?;
        let labels: Vec<f32> = lay
            .labels
            .iter()
            .map(|&i| self.parse_label(&fields[i], "label"))
            .collect::<Result<_>>()?;
        Ok(SeqRecord { id, seq, label: labels.first().copied(), labels, line, locus: None })
    }
}

/// Splits one CSV line: commas separate fields, double quotes enclose
/// fields that hold commas (`""` is a quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_owned()),
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_owned());
    out
}

impl Iterator for SeqReader {
    type Item = Result<SeqRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = match self.format {
            SeqFormat::Fasta => self.next_fasta(),
            _ => self.next_table(),
        };
        match r {
            Ok(Some(mut rec)) => {
                self.count += 1;
                if let Some(map) = &self.labels {
                    fill_label(&mut rec, map);
                }
                Some(Ok(rec))
            }
            Ok(None) => {
                self.done = true;
                if self.count == 0 {
                    return Some(Err(Error::Format {
                        path: self.path.clone(),
                        msg: format!("no sequences found (read as {})", self.format.name()),
                    }));
                }
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Whether a table field reads as a sequence: 4 or more of A, C, G, T, N.
fn is_dna(f: &str) -> bool {
    f.len() >= 4 && f.bytes().all(|b| b"ACGTNacgtn".contains(&b))
}

/// Gives `rec` its label from `labels` (by id) when its file gave none.
pub fn fill_label<S: std::hash::BuildHasher>(
    rec: &mut SeqRecord,
    labels: &HashMap<String, f32, S>,
) {
    if rec.label.is_none() {
        rec.label = labels.get(&rec.id).copied();
        rec.labels = rec.label.into_iter().collect();
    }
}

/// Reads a labels file: `id<whitespace>label` per line (`#` comments and
/// blank lines skipped).
///
/// # Errors
/// On I/O errors and malformed lines (naming the line).
pub fn read_labels(path: &Path) -> Result<HashMap<String, f32>> {
    let mut text = String::new();
    open_maybe_gz(path)?.read_to_string(&mut text).map_err(|e| Error::io(path, e))?;
    let mut map = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut w = line.split_whitespace();
        let (Some(id), Some(v), None) = (w.next(), w.next(), w.next()) else {
            return Err(Error::parse(path, i + 1, "expected `id label`"));
        };
        let v: f32 = v
            .parse()
            .map_err(|_| Error::parse(path, i + 1, format!("label `{v}` is not a number")))?;
        map.insert(id.to_owned(), v);
    }
    Ok(map)
}

fn looks_binary(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(4096)];
    sample.contains(&0) || std::str::from_utf8(sample).is_err() && sample.len() < 4096
}

fn sniff(head: &[u8]) -> SeqFormat {
    let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first.starts_with('>') {
        SeqFormat::Fasta
    } else if first.starts_with("FoldID") || first.split_whitespace().count() == 4 {
        SeqFormat::DeepBind
    } else if first.contains(',') && !first.contains('\t') {
        SeqFormat::Csv
    } else {
        SeqFormat::Tsv
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::File::create(&p).unwrap().write_all(content).unwrap();
        (dir, p)
    }

    fn read_all(p: &Path) -> Result<Vec<SeqRecord>> {
        SeqReader::open(p, None)?.collect()
    }

    #[test]
    fn fasta_multiline_with_labels() {
        let (_d, p) = write("a.fa", b">s1 1\nACGT\nac\n\n>s2 0 extra words\nNNGT\n>s3\nA\n");
        let r = read_all(&p).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].seq, b"ACGTac");
        assert_eq!(r[0].label, Some(1.0));
        assert_eq!(r[1].label, Some(0.0));
        assert_eq!(r[2].label, None);
        assert_eq!(r[2].line, 7);
    }

    #[test]
    fn fasta_bad_letter_names_line_and_position() {
        let (_d, p) = write("a.fa", b">s1\nACGT\nACXT\n");
        let e = read_all(&p).unwrap_err().to_string();
        assert!(e.contains("a.fa:3:"), "{e}");
        assert!(e.contains("`X` at position 7"), "{e}");
    }

    #[test]
    fn deepbind_seq_gz() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"FoldID\tEventID\tseq\tBound\nA\tpeak1\tACGT\t1\nA\tpeak1_shuf\tTTGA\t0\n")
            .unwrap();
        let (_d, p) = write("x.seq.gz", &gz.finish().unwrap());
        let r = read_all(&p).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[1].id.as_str(), r[1].label), ("peak1_shuf", Some(0.0)));
        assert_eq!(r[1].line, 3);
    }

    #[test]
    fn tsv_with_header_and_bad_label() {
        let (_d, p) = write("x.tsv", b"seq\tlabel\nACGT\t1\nAC\t0.5\n");
        let r = read_all(&p).unwrap();
        assert_eq!(r[1].label, Some(0.5));
        let (_d2, p2) = write("y.tsv", b"ACGT\tyes\n");
        let e = read_all(&p2).unwrap_err().to_string();
        assert!(e.contains("y.tsv:1:") && e.contains("`yes`"), "{e}");
    }

    #[test]
    fn tables_with_a_header_find_their_columns() {
        // By name, any column order, CSV with quotes, several labels.
        let (_d, p) = write(
            "peaks.csv",
            b"chrom,\"name, long\",Sequence,ctcf,rest\nchr1,p1,ACGTAC,1,0\nchr2,p2,acgtNN,0,1\n",
        );
        let r = SeqReader::open(&p, None).unwrap().with_columns(Columns {
            labels: vec!["ctcf".into(), "REST".into()],
            id: Some("name, long".into()),
            ..Columns::default()
        });
        let recs: Vec<SeqRecord> = r.unwrap().collect::<Result<_>>().unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].id, "p2");
        assert_eq!(recs[1].seq, b"acgtNN");
        assert_eq!(recs[1].labels, [0.0, 1.0]);
        assert_eq!(recs[1].line, 3);
        // Found by name without flags: `label` and `id`.
        let (_d, p) = write("t.tsv", b"id\tlabel\tsequence\nx\t1\tACGT\n");
        let recs = read_all(&p).unwrap();
        assert_eq!(
            (recs[0].id.as_str(), recs[0].label, recs[0].seq.as_slice()),
            ("x", Some(1.0), &b"ACGT"[..])
        );
        // A named column that is missing lists the header.
        let (_d, p) = write("t.tsv", b"id\tlabel\tsequence\nx\t1\tACGT\n");
        let e = SeqReader::open(&p, None)
            .unwrap()
            .with_columns(Columns { labels: vec!["bound".into()], ..Columns::default() })
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("t.tsv:1")
                && e.contains("--label-col bound")
                && e.contains("id, label, sequence"),
            "{e}"
        );
        // No sequence column by name: the one column holding DNA.
        let (_d, p) = write("t.tsv", b"peak\tbases\tbound\np1\tACGTAC\t1\np2\tGGGG\t0\n");
        let recs = read_all(&p).unwrap();
        assert_eq!(
            (recs[1].id.as_str(), recs[1].label, recs[1].seq.as_slice()),
            ("p2", Some(0.0), &b"GGGG"[..])
        );
        // None, or two: say how to name it.
        let (_d, p) = write("t.csv", b"a,b\nfoo,1\n");
        let e = read_all(&p).unwrap_err().to_string();
        assert!(e.contains("t.csv:2") && e.contains("--seq-col") && e.contains("a, b"), "{e}");
        let (_d, p) = write("t.csv", b"fwd,rev,y\nACGT,ACGT,1\n");
        let e = read_all(&p).unwrap_err().to_string();
        assert!(e.contains("fwd, rev") && e.contains("--seq-col"), "{e}");
        // A ragged row names its line.
        let (_d, p) = write("t.tsv", b"seq\tlabel\nACGT\t1\nACGT\n");
        let e = read_all(&p).unwrap_err().to_string();
        assert!(e.contains("t.tsv:3") && e.contains("1 fields"), "{e}");
        // Headerless TSV still reads, and a bad letter still names line and position.
        let (_d, p) = write("t.tsv", b"ACGT\t1\nACGR\t0\n");
        let e = read_all(&p).unwrap_err().to_string();
        assert!(e.contains("t.tsv:2"), "{e}");
    }

    #[test]
    fn empty_and_binary_files_are_errors() {
        let (_d, p) = write("e.fa", b"");
        assert!(read_all(&p).unwrap_err().to_string().contains("no sequences"));
        let (_d2, p2) = write("b.fa", &[0x7f, b'E', b'L', b'F', 0, 0, 1, 2]);
        assert!(read_all(&p2).unwrap_err().to_string().contains("binary"));
    }

    #[test]
    fn labels_file_fills_missing_labels() {
        let (_d, p) = write("a.fa", b">s1\nACGT\n>s2\nAAAA\n");
        let (_d2, l) = write("labels.txt", b"s1 1\ns2\t0\n");
        let r: Vec<_> = SeqReader::open(&p, None)
            .unwrap()
            .with_labels(read_labels(&l).unwrap())
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(r[0].label, Some(1.0));
        assert_eq!(r[1].label, Some(0.0));
    }
}
