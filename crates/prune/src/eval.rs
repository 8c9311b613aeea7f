//! Predictions, pooled kernel outputs and AUCs of a model on a data set.

use motif_engine::SessionOptions;
use motif_onnx::Model;
use motif_train::Data;
use ndarray::{Array2, Axis};

use crate::{Error, Head, Result};

/// A model's outputs on one data set.
#[derive(Debug, Clone)]
pub struct Scored {
    /// Model outputs, (n, outputs).
    pub pred: Array2<f32>,
    /// Globally pooled kernel outputs, (n, kernels).
    pub pooled: Array2<f32>,
}

/// Runs `model` on `data` in chunks of `batch`, returning its first output
/// and the pooled kernel outputs `head.pooled`.
///
/// # Errors
/// If the engine fails or a tensor has an unexpected size.
pub fn evaluate(
    model: &Model,
    head: &Head,
    data: &Data,
    opts: &SessionOptions,
    batch: usize,
) -> Result<Scored> {
    let out = model
        .structure()
        .outputs
        .first()
        .ok_or_else(|| Error::Invalid(format!("{}: no output", model.path().display())))?
        .name
        .clone();
    let mut o = opts.clone();
    o.outputs = vec![out, head.pooled.clone()];
    let session = motif_engine::open(model, &o)?;
    let n = data.len();
    let (mut pred, mut pooled) = (Vec::new(), Vec::with_capacity(n * head.kernels));
    let mut outs = 0;
    for chunk in data.x.axis_chunks_iter(Axis(0), batch.max(1)) {
        let m = chunk.len_of(Axis(0));
        let r = session.run(chunk)?;
        if r[1].len() != m * head.kernels || r[0].len() % m != 0 {
            return Err(Error::Invalid(format!(
                "{}: `{}` has shape {:?} for {m} sequences and {} kernels",
                model.path().display(),
                head.pooled,
                r[1].shape(),
                head.kernels
            )));
        }
        outs = r[0].len() / m;
        pred.extend(r[0].iter().copied());
        pooled.extend(r[1].iter().copied());
    }
    let pred =
        Array2::from_shape_vec((n, outs), pred).map_err(|e| Error::Invalid(e.to_string()))?;
    let pooled = Array2::from_shape_vec((n, head.kernels), pooled)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(Scored { pred, pooled })
}

/// Mean ROC AUC over the outputs (predictions column j against labels
/// column j).
///
/// # Errors
/// If the shapes differ or a label column has one class only.
pub fn auc(pred: &Array2<f32>, y: &Array2<f32>) -> Result<f64> {
    if pred.dim() != y.dim() {
        return Err(Error::Invalid(format!(
            "predictions are {:?}, labels {:?}",
            pred.dim(),
            y.dim()
        )));
    }
    let mut sum = 0.0;
    for j in 0..y.ncols() {
        let s: Vec<f32> = pred.column(j).to_vec();
        let l: Vec<bool> = y.column(j).iter().map(|&v| v > 0.5).collect();
        sum += motif_core::metrics::roc_auc(&s, &l)?;
    }
    Ok(sum / y.ncols() as f64)
}

/// Checks that every label of `data` is 0 or 1 and each output has both
/// classes; `what` names the set in the error.
///
/// # Errors
/// [`Error::Invalid`] naming the set, the row and the value.
pub fn check_labels(data: &Data, what: &str) -> Result<()> {
    if data.is_empty() {
        return Err(Error::Invalid(format!("{what}: no sequences")));
    }
    if let Some(((i, j), v)) = data.y.indexed_iter().find(|(_, v)| **v != 0.0 && **v != 1.0) {
        return Err(Error::Invalid(format!(
            "{what}: sequence {} has label {v} (output {}); Deepprune needs 0/1 labels",
            i + 1,
            j + 1
        )));
    }
    for (j, col) in data.y.columns().into_iter().enumerate() {
        let pos = col.iter().filter(|&&v| v == 1.0).count();
        if pos == 0 || pos == col.len() {
            return Err(Error::Invalid(format!(
                "{what}: all {} sequences are labelled {} (output {}); AUC and the data criteria \
                 need positives and negatives",
                col.len(),
                i32::from(pos != 0),
                j + 1
            )));
        }
    }
    Ok(())
}
