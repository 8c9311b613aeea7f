//! The ort backend: ONNX Runtime 1.31 loaded at run time (`load-dynamic`),
//! CPU or the CUDA execution provider (registered with error-on-failure:
//! never a silent CPU run).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ndarray::{ArrayD, ArrayView3, IxDyn};
use ort::ep::ExecutionProvider;
use ort::session::Session as OrtInner;
use ort::value::TensorRef;

use crate::error::{Error, Result};
use crate::{Device, EngineKind, Session, SessionOptions};

struct Env {
    env: ort::environment::Environment,
    lib: PathBuf,
}

static ENV: OnceLock<std::result::Result<Env, String>> = OnceLock::new();

fn env() -> std::result::Result<&'static Env, String> {
    ENV.get_or_init(|| {
        let lib = crate::locate::find_ort_library()?;
        let builder =
            ort::init_from(&lib).map_err(|e| format!("loading {}: {e}", lib.display()))?;
        let env = builder
            .with_name("motiftool")
            .build()
            .map_err(|e| format!("{}: {e}", lib.display()))?;
        Ok(Env { env, lib })
    })
    .as_ref()
    .map_err(Clone::clone)
}

pub(crate) fn status() -> std::result::Result<String, String> {
    let e = env()?;
    let from_name = e
        .lib
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split_once(".so."))
        .map(|(_, v)| v.to_owned());
    let from_info = ort::info()
        .split(',')
        .find_map(|p| p.trim().strip_prefix("git-branch=rel-").map(str::to_owned));
    let version = from_info
        .or(from_name)
        .map_or_else(|| "ONNX Runtime".to_owned(), |v| format!("ONNX Runtime {v}"));
    Ok(format!("{version} from {}", e.lib.display()))
}

pub(crate) fn devices() -> Vec<Device> {
    let mut d = vec![Device::Cpu];
    if env().is_ok() && <ort::ep::CUDA as ExecutionProvider>::is_available().unwrap_or(false) {
        d.push(Device::Cuda);
    }
    d
}

/// The named outputs of a run as f32 arrays; errors name the output.
fn extract(
    out: &ort::session::SessionOutputs<'_>,
    names: &[String],
) -> std::result::Result<Vec<ArrayD<f32>>, String> {
    names
        .iter()
        .map(|name| {
            let v = out.get(name).ok_or_else(|| format!("no output `{name}`"))?;
            let (shape, data) =
                v.try_extract_tensor::<f32>().map_err(|e| format!("output `{name}`: {e}"))?;
            let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
            ArrayD::from_shape_vec(IxDyn(&dims), data.to_vec()).map_err(|e| e.to_string())
        })
        .collect()
}

/// A session for `bytes` on the device asked for (CUDA errors are loud).
fn build(path: &Path, bytes: &[u8], opts: &SessionOptions) -> Result<OrtInner> {
    let e = env().map_err(|reason| Error::Unavailable { engine: EngineKind::Ort, reason })?;
    let load = |msg: String| Error::Load { path: path.into(), engine: EngineKind::Ort, msg };
    let mut builder = OrtInner::builder(&e.env).map_err(|e| load(e.to_string()))?;
    if let Some(t) = opts.threads {
        builder = builder.with_intra_threads(t).map_err(|e| load(e.to_string()))?;
    }
    if opts.device == Device::Cuda {
        let cuda = ort::ep::CUDA::default();
        if !<ort::ep::CUDA as ExecutionProvider>::is_available().unwrap_or(false) {
            return Err(Error::Device {
                msg: format!(
                    "--device cuda: the ONNX Runtime at {} has no CUDA execution provider; install \
                         onnxruntime-gpu==1.31.1 (pip) with CUDA 12 and cuDNN 9 and point ORT_DYLIB_PATH at its \
                         libonnxruntime.so, or use --device cpu",
                    e.lib.display()
                ),
            });
        }
        builder = builder.with_execution_providers([cuda.build().error_on_failure()]).map_err(|err| Error::Device {
                msg: format!(
                    "--device cuda: the CUDA execution provider failed to start: {err} (is libcudart/libcublas/libcudnn \
                     on LD_LIBRARY_PATH?), or use --device cpu"
                ),
            })?;
    }
    builder.commit_from_memory(bytes).map_err(|e| load(e.to_string()))
}

pub(crate) struct OrtSession {
    path: PathBuf,
    input: String,
    layout: motif_onnx::Layout,
    fixed_len: Option<usize>,
    outputs: Vec<String>,
    device: Device,
    inner: Mutex<OrtInner>,
}

impl OrtSession {
    pub(crate) fn new(
        path: &Path,
        bytes: &[u8],
        input: &motif_onnx::InputInfo,
        outputs: Vec<String>,
        opts: &SessionOptions,
    ) -> Result<Self> {
        let session = build(path, bytes, opts)?;
        Ok(Self {
            path: path.into(),
            input: input.name.clone(),
            layout: input.layout,
            fixed_len: input.length,
            outputs,
            device: opts.device,
            inner: Mutex::new(session),
        })
    }
}

impl Session for OrtSession {
    fn run(&self, x: ArrayView3<'_, f32>) -> Result<Vec<ArrayD<f32>>> {
        let (n, c, l) = x.dim();
        let run_err = |msg: String| Error::Run {
            path: self.path.clone(),
            engine: EngineKind::Ort,
            shape: [n, c, l],
            msg,
        };
        crate::check_input(&self.path, self.fixed_len, &x)?;
        let x = crate::to_layout(x, self.layout);
        let shape: Vec<usize> = x.shape().to_vec();
        let t = TensorRef::from_array_view((shape, x.as_slice().expect("standard layout")))
            .map_err(|e| run_err(e.to_string()))?;
        let mut session = self.inner.lock().expect("ort session");
        let out = session
            .run(ort::inputs![self.input.as_str() => t])
            .map_err(|e| run_err(e.to_string()))?;
        extract(&out, &self.outputs).map_err(run_err)
    }

    fn output_names(&self) -> &[String] {
        &self.outputs
    }

    fn engine(&self) -> EngineKind {
        EngineKind::Ort
    }

    fn device(&self) -> Device {
        self.device
    }

    fn parallel_batches(&self) -> bool {
        false
    }
}

/// A graph with named float inputs on ONNX Runtime.
pub(crate) struct OrtGraph {
    path: PathBuf,
    inputs: Vec<String>,
    outputs: Vec<String>,
    device: Device,
    inner: Mutex<OrtInner>,
}

impl OrtGraph {
    pub(crate) fn new(
        path: &Path,
        bytes: &[u8],
        inputs: Vec<String>,
        outputs: Vec<String>,
        opts: &SessionOptions,
    ) -> Result<Self> {
        let session = build(path, bytes, opts)?;
        Ok(Self {
            path: path.into(),
            inputs,
            outputs,
            device: opts.device,
            inner: Mutex::new(session),
        })
    }
}

impl crate::GraphSession for OrtGraph {
    fn run(&self, given: &[(&str, ndarray::ArrayViewD<'_, f32>)]) -> Result<Vec<ArrayD<f32>>> {
        let xs = crate::graph::order_inputs(&self.path, EngineKind::Ort, &self.inputs, given)?;
        let err =
            |msg: String| Error::Graph { path: self.path.clone(), engine: EngineKind::Ort, msg };
        let owned: Vec<ndarray::ArrayD<f32>> =
            xs.iter().map(|x| x.as_standard_layout().into_owned()).collect();
        let mut values = Vec::with_capacity(owned.len());
        for (name, x) in self.inputs.iter().zip(&owned) {
            let t = TensorRef::from_array_view((
                x.shape().to_vec(),
                x.as_slice().expect("standard layout"),
            ))
            .map_err(|e| err(format!("input `{name}`: {e}")))?;
            values.push((name.as_str(), t));
        }
        let mut session = self.inner.lock().expect("ort session");
        let out = session.run(values).map_err(|e| err(e.to_string()))?;
        extract(&out, &self.outputs).map_err(err)
    }

    fn output_names(&self) -> &[String] {
        &self.outputs
    }

    fn engine(&self) -> EngineKind {
        EngineKind::Ort
    }

    fn device(&self) -> Device {
        self.device
    }
}
