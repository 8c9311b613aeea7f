//! Reading numbers out of `TensorProto`s.

use ndarray::{ArrayD, IxDyn};

use crate::error::{Error, Result};
use crate::pb::{TensorProto, tensor_proto::DataType};

fn err(t: &TensorProto, msg: impl Into<String>) -> Error {
    Error::Tensor { name: t.name().to_owned(), msg: msg.into() }
}

/// Most elements a tensor may have: element counts (and every product of
/// some of a shape's dims) stay far from overflowing.
pub const MAX_ELEMENTS: usize = 1 << 48;

/// The element count of `dims`, `None` past [`MAX_ELEMENTS`] or on overflow
/// (dims come from files, and files can say anything).
#[must_use]
pub fn numel(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |p, &d| p.checked_mul(d)).filter(|&n| n <= MAX_ELEMENTS)
}

/// The tensor's dims as `usize`.
///
/// # Errors
/// On negative dims, or more than [`MAX_ELEMENTS`] elements.
pub fn dims(t: &TensorProto) -> Result<Vec<usize>> {
    let d: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| err(t, format!("negative dim {d}"))))
        .collect::<Result<_>>()?;
    // Every product of these dims must fit: no tensor has 2^48 elements.
    if numel(&d).is_none() {
        return Err(err(t, format!("dims {d:?}: too many elements")));
    }
    Ok(d)
}

/// The tensor as f32 (from FLOAT, DOUBLE, FLOAT16, INT32 or INT64 data).
///
/// # Errors
/// On other data types, external data not yet inlined, or a size mismatch.
pub fn to_f32(t: &TensorProto) -> Result<ArrayD<f32>> {
    if t.data_location == Some(1) {
        return Err(err(t, "external data not loaded"));
    }
    let shape = dims(t)?;
    let n: usize = shape.iter().product();
    let raw = t.raw_data.as_deref();
    let dt = DataType::try_from(t.data_type()).map_err(|_| err(t, "unknown data type"))?;
    let values: Vec<f32> = match (dt, raw) {
        (DataType::Float, Some(r)) => {
            r.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
        }
        (DataType::Float, None) => t.float_data.clone(),
        (DataType::Double, Some(r)) => r
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
            .collect(),
        (DataType::Double, None) => t.double_data.iter().map(|&v| v as f32).collect(),
        (DataType::Float16, Some(r)) => {
            r.chunks_exact(2).map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]]))).collect()
        }
        (DataType::Float16, None) => t.int32_data.iter().map(|&v| f16_to_f32(v as u16)).collect(),
        (DataType::Int64, _) => to_i64(t)?.into_iter().map(|v| v as f32).collect(),
        (DataType::Int32, Some(r)) => {
            r.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32).collect()
        }
        (DataType::Int32, None) => t.int32_data.iter().map(|&v| v as f32).collect(),
        (other, _) => {
            return Err(err(t, format!("data type {} is not numeric", other.as_str_name())));
        }
    };
    if values.len() != n {
        return Err(err(t, format!("holds {} values, dims {:?} need {n}", values.len(), shape)));
    }
    ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| err(t, e.to_string()))
}

/// The tensor as i64 (INT64 or INT32 data).
///
/// # Errors
/// On other data types.
pub fn to_i64(t: &TensorProto) -> Result<Vec<i64>> {
    let raw = t.raw_data.as_deref();
    match (DataType::try_from(t.data_type()), raw) {
        (Ok(DataType::Int64), Some(r)) => Ok(r
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect()),
        (Ok(DataType::Int64), None) => Ok(t.int64_data.clone()),
        (Ok(DataType::Int32), Some(r)) => Ok(r
            .chunks_exact(4)
            .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect()),
        (Ok(DataType::Int32), None) => Ok(t.int32_data.iter().map(|&v| i64::from(v)).collect()),
        _ => Err(err(t, "expected integer data")),
    }
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let frac = u32::from(h & 0x3ff);
    let bits = match exp {
        0 if frac == 0 => sign,
        0 => {
            // subnormal: normalise
            let mut e = 127 - 15 + 1;
            let mut f = frac;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | (e << 23) | ((f & 0x3ff) << 13)
        }
        0x1f => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// A FLOAT tensor proto holding `values` with `dims`.
#[must_use]
pub fn from_f32(name: &str, dims: &[usize], values: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.to_owned()),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: Some(DataType::Float as i32),
        raw_data: Some(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ..Default::default()
    }
}

/// An INT64 tensor proto holding `values` with `dims`.
#[must_use]
pub fn from_i64(name: &str, dims: &[usize], values: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.to_owned()),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: Some(DataType::Int64 as i32),
        raw_data: Some(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_raw_and_field_data_agree() {
        let t = from_f32("w", &[2, 2], &[1.0, -2.0, 3.5, 0.0]);
        let a = to_f32(&t).unwrap();
        let t2 = TensorProto {
            name: Some("w".into()),
            dims: vec![2, 2],
            data_type: Some(DataType::Float as i32),
            float_data: vec![1.0, -2.0, 3.5, 0.0],
            ..Default::default()
        };
        assert_eq!(a, to_f32(&t2).unwrap());
        assert_eq!(a[[1, 0]], 3.5);
    }

    #[test]
    fn size_mismatch_is_an_error() {
        let mut t = from_f32("w", &[3], &[1.0, 2.0]);
        t.dims = vec![3];
        assert!(to_f32(&t).unwrap_err().to_string().contains("holds 2 values"));
    }

    #[test]
    fn half_precision() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
    }
}
