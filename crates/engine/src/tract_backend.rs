//! The tract backend: pure Rust, CPU, single-threaded per run (so batches
//! run in parallel). One optimised plan per input shape, cached.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ndarray::{ArrayD, ArrayView3, IxDyn};
use tract_onnx::prelude::*;

use crate::error::{Error, Result};
use crate::{Device, EngineKind, Session};

/// tract-onnx's version.
pub(crate) const VERSION: &str = "0.23.9";

type Plan = Arc<TypedSimplePlan>;

pub(crate) struct TractSession {
    path: PathBuf,
    model: InferenceModel,
    layout: motif_onnx::Layout,
    fixed_len: Option<usize>,
    outputs: Vec<String>,
    plans: Mutex<HashMap<[usize; 3], Plan>>,
}

fn load_err(path: &Path, e: &TractError) -> Error {
    Error::Load { path: path.into(), engine: EngineKind::Tract, msg: format!("{e:#}") }
}

/// Reads an ONNX model and selects `outputs` by name.
fn load(path: &Path, bytes: &[u8], outputs: &[String]) -> Result<InferenceModel> {
    let mut model = tract_onnx::onnx()
        .model_for_read(&mut std::io::Cursor::new(bytes))
        .map_err(|e| load_err(path, &e))?;
    model.select_outputs_by_name(outputs).map_err(|e| load_err(path, &e))?;
    Ok(model)
}

/// A plan's outputs as f32 arrays; errors are tract's message.
fn to_arrays(out: TVec<TValue>) -> std::result::Result<Vec<ArrayD<f32>>, String> {
    out.into_iter()
        .map(|v| {
            let t = v.into_tensor().cast_to::<f32>().map_err(|e| format!("{e:#}"))?.into_owned();
            let shape = t.shape().to_vec();
            let data: Vec<f32> = t
                .to_plain_array_view::<f32>()
                .map_err(|e| format!("{e:#}"))?
                .iter()
                .copied()
                .collect();
            ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(|e| e.to_string())
        })
        .collect()
}

impl TractSession {
    pub(crate) fn new(
        path: &Path,
        bytes: &[u8],
        input: &motif_onnx::InputInfo,
        outputs: Vec<String>,
    ) -> Result<Self> {
        let model = load(path, bytes, &outputs)?;
        let s = Self {
            path: path.into(),
            model,
            layout: input.layout,
            fixed_len: input.length,
            outputs,
            plans: Mutex::new(HashMap::new()),
        };
        // Fail now, naming the node, on ops tract cannot run (at a typical length).
        s.plan([1, 4, input.length.unwrap_or(101)])?;
        Ok(s)
    }

    fn plan(&self, shape: [usize; 3]) -> Result<Plan> {
        if let Some(p) = self.plans.lock().expect("plan cache").get(&shape) {
            return Ok(p.clone());
        }
        let [n, c, l] = shape;
        let dims: [usize; 3] = match self.layout {
            motif_onnx::Layout::Ncw => [n, c, l],
            motif_onnx::Layout::Nwc => [n, l, c],
        };
        let plan = self
            .model
            .clone()
            .with_input_fact(0, f32::fact(dims).into())
            .and_then(tract_onnx::prelude::InferenceModelExt::into_optimized)
            .and_then(tract_onnx::prelude::IntoRunnable::into_runnable)
            .map_err(|e| load_err(&self.path, &e))?;
        self.plans.lock().expect("plan cache").insert(shape, plan.clone());
        Ok(plan)
    }
}

impl Session for TractSession {
    fn run(&self, x: ArrayView3<'_, f32>) -> Result<Vec<ArrayD<f32>>> {
        let (n, c, l) = x.dim();
        let shape = [n, c, l];
        let run_err = |msg: String| Error::Run {
            path: self.path.clone(),
            engine: EngineKind::Tract,
            shape,
            msg,
        };
        crate::check_input(&self.path, self.fixed_len, &x)?;
        let plan = self.plan(shape)?;
        let x = crate::to_layout(x, self.layout);
        let t = Tensor::from_shape(x.shape(), x.as_slice().expect("standard layout"))
            .map_err(|e| run_err(format!("{e:#}")))?;
        let out = plan.run(tvec!(t.into_tvalue())).map_err(|e| run_err(format!("{e:#}")))?;
        to_arrays(out).map_err(run_err)
    }

    fn output_names(&self) -> &[String] {
        &self.outputs
    }

    fn engine(&self) -> EngineKind {
        EngineKind::Tract
    }

    fn device(&self) -> Device {
        Device::Cpu
    }

    fn parallel_batches(&self) -> bool {
        true
    }
}

/// A graph with named float inputs on tract; one plan per set of input shapes.
pub(crate) struct TractGraph {
    path: PathBuf,
    model: InferenceModel,
    inputs: Vec<String>,
    outputs: Vec<String>,
    plans: Mutex<HashMap<Vec<Vec<usize>>, Plan>>,
}

impl TractGraph {
    pub(crate) fn new(path: &Path, bytes: &[u8], outputs: Vec<String>) -> Result<Self> {
        let model = load(path, bytes, &outputs)?;
        // tract's input order is the graph's (initializers excluded)
        let order: Vec<String> = model
            .input_outlets()
            .map_err(|e| load_err(path, &e))?
            .iter()
            .map(|o| model.node(o.node).name.clone())
            .collect();
        Ok(Self { path: path.into(), model, inputs: order, outputs, plans: Mutex::default() })
    }
}

impl crate::GraphSession for TractGraph {
    fn run(&self, given: &[(&str, ndarray::ArrayViewD<'_, f32>)]) -> Result<Vec<ArrayD<f32>>> {
        let xs = crate::graph::order_inputs(&self.path, EngineKind::Tract, &self.inputs, given)?;
        let err =
            |msg: String| Error::Graph { path: self.path.clone(), engine: EngineKind::Tract, msg };
        let shapes: Vec<Vec<usize>> = xs.iter().map(|x| x.shape().to_vec()).collect();
        let cached = self.plans.lock().expect("plan cache").get(&shapes).cloned();
        let plan = if let Some(p) = cached {
            p
        } else {
            let mut m = self.model.clone();
            for (i, s) in shapes.iter().enumerate() {
                m = m.with_input_fact(i, f32::fact(s).into()).map_err(|e| err(format!("{e:#}")))?;
            }
            let p = m
                .into_optimized()
                .and_then(tract_onnx::prelude::IntoRunnable::into_runnable)
                .map_err(|e| err(format!("{e:#}")))?;
            self.plans.lock().expect("plan cache").insert(shapes, p.clone());
            p
        };
        let tensors: TVec<TValue> = xs
            .iter()
            .map(|x| {
                let x = x.as_standard_layout();
                Tensor::from_shape(x.shape(), x.as_slice().expect("standard layout"))
                    .map(IntoTValue::into_tvalue)
            })
            .collect::<TractResult<_>>()
            .map_err(|e| err(format!("{e:#}")))?;
        let out = plan.run(tensors).map_err(|e| err(format!("{e:#}")))?;
        to_arrays(out).map_err(err)
    }

    fn run_state(
        &self,
        given: &[(&str, ndarray::ArrayViewD<'_, f32>)],
        state: &mut crate::State,
    ) -> Result<Vec<ArrayD<f32>>> {
        crate::graph::run_state_host(self, &self.inputs, given, state)
    }

    fn output_names(&self) -> &[String] {
        &self.outputs
    }

    fn engine(&self) -> EngineKind {
        EngineKind::Tract
    }

    fn device(&self) -> Device {
        Device::Cpu
    }
}
