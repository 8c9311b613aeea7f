//! Files of a decoupling run: atomic writes and the binary sample pool.

use std::path::Path;

use crate::net::Seqs;
use crate::sample::{Method, Samples};
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"NMSMPL01";

fn file_err(path: &Path, msg: impl Into<String>) -> Error {
    Error::File { path: path.into(), msg: msg.into() }
}

/// Writes `bytes` to `path` atomically ([`motif_core::fsio::write_atomic`]).
///
/// # Errors
/// If the folder or file cannot be written (naming the file).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    motif_core::fsio::write_atomic(path, bytes).map_err(|e| file_err(path, e.to_string()))
}

/// The sample pool as bytes: magic, window length, count, method,
/// iterations (u32 LE each), then the bases (one byte each, 0–3) and the
/// activations (f32 LE).
#[must_use]
pub fn encode_samples(s: &Samples) -> Vec<u8> {
    let n = s.v.len();
    let mut out = Vec::with_capacity(24 + n * (s.seqs.len + 4));
    out.extend_from_slice(MAGIC);
    let method = match s.method {
        Method::Exhaustive => 0u32,
        Method::Genetic => 1,
        Method::NeverFires => 2,
    };
    for v in [s.seqs.len as u32, n as u32, method, s.iterations as u32] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&s.seqs.bases);
    for v in &s.v {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Reads what [`encode_samples`] wrote (`path` names it in errors).
///
/// # Errors
/// If the bytes are not a sample pool or are truncated.
pub fn decode_samples(bytes: &[u8], path: &Path) -> Result<Samples> {
    if bytes.len() < 24 || &bytes[..8] != MAGIC {
        return Err(file_err(path, "not a motiftool sample pool (bad header)"));
    }
    let u = |k: usize| {
        u32::from_le_bytes(bytes[8 + 4 * k..12 + 4 * k].try_into().expect("4 bytes")) as usize
    };
    let (len, n, method, iterations) = (u(0), u(1), u(2), u(3));
    let need = 24 + n * len + 4 * n;
    if bytes.len() != need {
        return Err(file_err(
            path,
            format!(
                "truncated: {} bytes, expected {need} for {n} sequences of {len} bp",
                bytes.len()
            ),
        ));
    }
    let bases = bytes[24..24 + n * len].to_vec();
    if bases.iter().any(|&b| b > 3) {
        return Err(file_err(path, "a base code above 3"));
    }
    let v = bytes[24 + n * len..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect();
    let method = match method {
        0 => Method::Exhaustive,
        1 => Method::Genetic,
        2 => Method::NeverFires,
        m => return Err(file_err(path, format!("unknown sampling method code {m}"))),
    };
    Ok(Samples { seqs: Seqs { len, bases }, v, method, iterations, ..Samples::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_round_trip_and_truncation_is_caught() {
        let mut s = Samples {
            seqs: Seqs::new(3),
            method: Method::Genetic,
            iterations: 7,
            ..Samples::default()
        };
        s.seqs.push(&[0, 1, 2]);
        s.seqs.push(&[3, 3, 0]);
        s.v = vec![0.5, 2.25];
        let b = encode_samples(&s);
        let back = decode_samples(&b, Path::new("x.bin")).unwrap();
        assert_eq!(back.seqs, s.seqs);
        assert_eq!(back.v, s.v);
        assert_eq!(back.iterations, 7);
        let e = decode_samples(&b[..b.len() - 1], Path::new("x.bin")).unwrap_err().to_string();
        assert!(e.contains("x.bin") && e.contains("truncated"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.bin");
        write_atomic(&p, &b).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b);
    }
}
