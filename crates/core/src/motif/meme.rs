//! MEME minimal motif format: read and write.

use std::fmt::Write as _;
use std::path::Path;

use super::{Motif, MotifSet, check_prob_rows, from_rows, parse_row};
use crate::error::{Error, Result};

/// Parses MEME minimal motif format (versions 4 and 5).
///
/// Reads the background (`Background letter frequencies`), each `MOTIF id
/// [name]`, its `letter-probability matrix:` header (`w=`, `nsites=`, `E=`)
/// and rows, and `URL` lines. Log-odds matrices are skipped.
///
/// # Errors
/// Names the line of anything malformed: a non-DNA alphabet, a row without
/// 4 numbers, fewer rows than `w=` promises.
#[allow(
    clippy::too_many_lines,
    reason = "one pass over MEME's line-oriented format, in the order of MEME's own reader"
)]
pub fn parse_meme(text: &str, path: &Path) -> Result<MotifSet> {
    let lines: Vec<&str> = text.lines().collect();
    let mut set = MotifSet::default();
    let mut i = 0;
    // (id, name, line) of the MOTIF being read
    let mut current: Option<(String, Option<String>, usize)> = None;
    while i < lines.len() {
        let line = lines[i].trim();
        let ln = i + 1;
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("ALPHABET=") {
            let a = rest.trim();
            if !a.eq_ignore_ascii_case("ACGT") && !a.starts_with("DNA") {
                return Err(Error::parse(path, ln, format!("alphabet `{a}` is not DNA (ACGT)")));
            }
        } else if line.starts_with("Background letter frequencies") {
            // frequencies may span several lines: collect until 4 letters are read
            let mut found = [None; 4];
            while i < lines.len() && found.iter().any(Option::is_none) {
                let words: Vec<&str> = lines[i].split_whitespace().collect();
                if words.is_empty() {
                    break;
                }
                for pair in words.chunks(2) {
                    let [letter, value] = pair else {
                        return Err(Error::parse(path, i + 1, "expected `letter frequency` pairs"));
                    };
                    let idx = match *letter {
                        "A" | "a" => 0,
                        "C" | "c" => 1,
                        "G" | "g" => 2,
                        "T" | "t" => 3,
                        _ => {
                            return Err(Error::parse(
                                path,
                                i + 1,
                                format!("unknown letter `{letter}`"),
                            ));
                        }
                    };
                    let v: f64 = value.parse().map_err(|_| {
                        Error::parse(path, i + 1, format!("`{value}` is not a number"))
                    })?;
                    found[idx] = Some(v);
                }
                i += 1;
            }
            for (k, f) in found.iter().enumerate() {
                set.background[k] =
                    f.ok_or_else(|| Error::parse(path, ln, "background lacks a letter of ACGT"))?;
            }
            let s: f64 = set.background.iter().sum();
            set.background.iter_mut().for_each(|b| *b /= s);
            set.has_background = true;
        } else if let Some(rest) = line.strip_prefix("MOTIF") {
            let mut w = rest.split_whitespace();
            let id = w.next().ok_or_else(|| Error::parse(path, ln, "MOTIF without an id"))?;
            current = Some((id.to_owned(), w.next().map(str::to_owned), ln));
        } else if let Some(rest) = line.strip_prefix("letter-probability matrix:") {
            let Some((id, name, _)) = current.take() else {
                return Err(Error::parse(path, ln, "matrix before any MOTIF line"));
            };
            let kv = parse_kv(rest);
            let get = |k: &str| kv.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
            let num = |k: &str| -> Result<Option<f64>> {
                get(k)
                    .map(|v| {
                        v.parse::<f64>().map_err(|_| {
                            Error::parse(path, ln, format!("`{k}= {v}` is not a number"))
                        })
                    })
                    .transpose()
            };
            if let Some(a) = num("alength")?
                && a != 4.0
            {
                return Err(Error::parse(path, ln, format!("alength= {a}, expected 4")));
            }
            let width = num("w")?.map(|w| w as usize);
            let mut rows = Vec::new();
            while i < lines.len() {
                let words: Vec<&str> = lines[i].split_whitespace().collect();
                let numeric = !words.is_empty() && words[0].parse::<f64>().is_ok();
                if !numeric || width.is_some_and(|w| rows.len() == w) {
                    break;
                }
                if words.len() != 4 {
                    return Err(Error::parse(
                        path,
                        i + 1,
                        format!("matrix row has {} values, expected 4", words.len()),
                    ));
                }
                rows.push(parse_row(&words, path, i + 1)?);
                i += 1;
            }
            if let Some(w) = width
                && rows.len() != w
            {
                {
                    return Err(Error::parse(
                        path,
                        i + 1,
                        format!("motif `{id}`: w= {w} but {} rows", rows.len()),
                    ));
                }
            }
            if rows.is_empty() {
                return Err(Error::parse(path, ln, format!("motif `{id}` has no rows")));
            }
            check_prob_rows(&id, &rows, path, ln + 1, &mut set.warnings);
            let mut m = from_rows(&id, &rows, path, ln)?;
            m.name = name;
            m.nsites = num("nsites")?;
            m.evalue = num("E")?;
            set.motifs.push(m);
        } else if line.starts_with("log-odds matrix:") {
            // skip its rows
            while i < lines.len()
                && lines[i].split_whitespace().next().is_some_and(|w| w.parse::<f64>().is_ok())
            {
                i += 1;
            }
        } else if let Some(url) = line.strip_prefix("URL")
            && let Some(m) = set.motifs.last_mut()
        {
            m.url = Some(url.trim().to_owned());
        }
    }
    if let Some((id, _, ln)) = current {
        return Err(Error::parse(
            path,
            ln,
            format!("motif `{id}` has no letter-probability matrix"),
        ));
    }
    Ok(set)
}

/// `alength= 4 w= 9 nsites= 20 E= 0` → [("alength","4"), …]; tolerates `w=9`.
fn parse_kv(s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut words = s.split_whitespace().peekable();
    while let Some(w) = words.next() {
        if let Some((k, v)) = w.split_once('=') {
            if v.is_empty() {
                if let Some(v) = words.next() {
                    out.push((k, v));
                }
            } else {
                out.push((k, v));
            }
        }
    }
    out
}

/// Writes `set` in MEME minimal motif format (version 4), with its
/// background, and `nsites`/`E` where known.
#[must_use]
pub fn write_meme(set: &MotifSet) -> String {
    let mut s = String::new();
    let b = &set.background;
    let _ = write!(
        s,
        "MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\nBackground letter frequencies\nA {} C {} G {} T {}\n\n",
        fmt_p(b[0]),
        fmt_p(b[1]),
        fmt_p(b[2]),
        fmt_p(b[3])
    );
    for m in &set.motifs {
        write_motif(&mut s, m);
    }
    s
}

fn write_motif(s: &mut String, m: &Motif) {
    let _ = match &m.name {
        Some(n) => writeln!(s, "MOTIF {} {n}", m.id),
        None => writeln!(s, "MOTIF {}", m.id),
    };
    let _ = write!(s, "letter-probability matrix: alength= 4 w= {}", m.len());
    if let Some(n) = m.nsites {
        let _ = write!(s, " nsites= {n}");
    }
    if let Some(e) = m.evalue {
        let _ = write!(s, " E= {e}");
    }
    s.push('\n');
    for col in m.probs.columns() {
        let _ =
            writeln!(s, " {} {} {} {}", fmt_p(col[0]), fmt_p(col[1]), fmt_p(col[2]), fmt_p(col[3]));
    }
    if let Some(u) = &m.url {
        let _ = writeln!(s, "URL {u}");
    }
    s.push('\n');
}

fn fmt_p(v: f64) -> String {
    format!("{v:.6}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "MEME version 5\n\nALPHABET= ACGT\n\nstrands: + -\n\n\
Background letter frequencies\nA 0.3 C 0.2\nG 0.2 T 0.3\n\n\
MOTIF M1 alpha\nletter-probability matrix: alength= 4 w= 2 nsites= 20 E= 1e-5\n\
 0.1 0.2 0.3 0.4\n 1 0 0 0\nURL http://x\n\n\
MOTIF M2\nletter-probability matrix: alength= 4 w= 1\n 0.25 0.25 0.25 0.25\n";

    #[test]
    fn reads_background_nsites_and_rows() {
        let set = parse_meme(TEXT, Path::new("t.meme")).unwrap();
        assert_eq!(set.background, [0.3, 0.2, 0.2, 0.3]);
        assert_eq!(set.motifs.len(), 2);
        let m = &set.motifs[0];
        assert_eq!((m.id.as_str(), m.name.as_deref()), ("M1", Some("alpha")));
        assert_eq!((m.nsites, m.evalue), (Some(20.0), Some(1e-5)));
        assert!((m.probs[(3, 0)] - 0.4).abs() < 1e-12);
        assert_eq!(m.url.as_deref(), Some("http://x"));
        assert_eq!(set.motifs[1].nsites, None);
    }

    #[test]
    fn round_trips() {
        let set = parse_meme(TEXT, Path::new("t.meme")).unwrap();
        let again = parse_meme(&write_meme(&set), Path::new("w.meme")).unwrap();
        assert_eq!(set, again);
    }

    #[test]
    fn errors_name_the_line() {
        let bad =
            "MEME version 4\n\nMOTIF X\nletter-probability matrix: alength= 4 w= 2\n0.1 0.2 0.7\n";
        let e = parse_meme(bad, Path::new("b.meme")).unwrap_err().to_string();
        assert!(e.starts_with("b.meme:5:"), "{e}");
        let short = "MEME version 4\nMOTIF X\nletter-probability matrix: alength= 4 w= 3\n0.1 0.2 0.3 0.4\n";
        let e = parse_meme(short, Path::new("s.meme")).unwrap_err().to_string();
        assert!(e.contains("w= 3 but 1 rows"), "{e}");
        let neg = "MEME version 4\nMOTIF X\nletter-probability matrix: alength= 4 w= 1\n0.1 -0.2 0.3 0.4\n";
        let e = parse_meme(neg, Path::new("n.meme")).unwrap_err().to_string();
        assert!(e.starts_with("n.meme:4:"), "{e}");
    }
}
