//! ChromBPNet's contribution-score HDF5 layout (`attribute --h5`), as its
//! `{prefix}.counts_scores.h5` holds it: `raw/seq` the one-hot input
//! (int8, N as zeros), `shap/seq` the hypothetical contributions and
//! `projected_shap/seq` them times the one-hot input (float16), each
//! `(N, 4, L)`, deflate-compressed in chunks of one sequence. Written with
//! the pure-Rust `hdf5-pure` (no libhdf5); h5py reads it.

use std::path::Path;

use hdf5_pure::{Datatype, DatatypeByteOrder, FileBuilder, FloatingPointLayout};
use motif_core::npz::NpzStream;

use crate::{Result, invalid};

/// IEEE 754 binary16, little endian.
fn float16() -> Datatype {
    Datatype::FloatingPoint {
        size: 2,
        byte_order: DatatypeByteOrder::LittleEndian,
        layout: FloatingPointLayout {
            bit_offset: 0,
            bit_precision: 16,
            exponent_location: 10,
            exponent_size: 5,
            mantissa_location: 0,
            mantissa_size: 10,
            exponent_bias: 15,
        },
    }
}

/// Writes `path` from the finished rows of `ohe` and `hyp` (`(4, len)`
/// each). The datasets are built in memory: 5 bytes per value.
pub(crate) fn write(
    path: &Path,
    ohe: &mut NpzStream,
    hyp: &mut NpzStream,
    len: usize,
) -> Result<()> {
    let n = ohe.rows();
    let mut raw: Vec<i8> = Vec::with_capacity(n * 4 * len);
    let mut shap: Vec<u8> = Vec::with_capacity(n * 8 * len);
    let mut projected: Vec<u8> = Vec::with_capacity(n * 8 * len);
    for i in 0..n {
        let (x, h) = (ohe.row(i)?, hyp.row(i)?);
        for (&a, &b) in x.iter().zip(&h) {
            raw.push(i8::from(a == 1.0));
            shap.extend_from_slice(&half::f16::from_f32(b).to_le_bytes());
            projected.extend_from_slice(&half::f16::from_f32(a * b).to_le_bytes());
        }
    }
    let shape = [n as u64, 4, len as u64];
    let chunk = [1, 4, len as u64];
    let mut f = FileBuilder::new();
    let mut g = f.create_group("raw");
    let d = g.create_dataset("seq");
    d.with_i8_data(&raw).with_shape(&shape);
    if n > 0 {
        d.with_chunks(&chunk).with_deflate(4);
    }
    f.add_group(g.finish());
    for (name, bytes) in [("shap", shap), ("projected_shap", projected)] {
        let mut g = f.create_group(name);
        let d = g.create_dataset("seq");
        d.with_raw_data(float16(), bytes, (n * 4 * len) as u64).with_shape(&shape);
        if n > 0 {
            d.with_chunks(&chunk).with_deflate(4);
        }
        f.add_group(g.finish());
    }
    let bytes = f.finish().map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    motif_core::fsio::write_atomic(path, &bytes)
        .map_err(|e| invalid(format!("{}: {e}", path.display())))
}
