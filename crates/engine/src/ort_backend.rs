//! The ort backend: ONNX Runtime 1.31 loaded at run time (`load-dynamic`),
//! CPU or the CUDA execution provider (registered with error-on-failure:
//! never a silent CPU run).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ndarray::{ArrayD, ArrayView3, IxDyn};
use ort::ep::ExecutionProvider;
use ort::memory::{AllocationDevice, Allocator, AllocatorType, MemoryInfo, MemoryType};
use ort::session::Session as OrtInner;
use ort::value::{Tensor, TensorRef};

use crate::graph::Store;

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
        // ONNX Runtime's own log lines never reach the user's terminal:
        // its errors come back as values and become motiftool's one line.
        let env = builder
            .with_name("motiftool")
            .with_logger(std::sync::Arc::new(|level, category, _id, location, message| {
                tracing::debug!(target: "onnxruntime", "{level:?} {category} {location}: {message}");
            }))
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
    if opts.no_spin {
        builder = builder.with_intra_op_spinning(false).map_err(|e| load(e.to_string()))?;
    }
    if opts.device == Device::Cuda {
        // Full fp32 products (no TensorFloat-32): the same numbers as the
        // CPU to rounding, which attributions' differences need.
        let cuda = ort::ep::CUDA::default().with_tf32(false);
        if !<ort::ep::CUDA as ExecutionProvider>::is_available().unwrap_or(false) {
            return Err(Error::Device {
                msg: format!(
                    "--device cuda: the ONNX Runtime at {} has no CUDA execution provider; install \
                         onnxruntime-gpu==1.31.1 (pip; built for CUDA 13 and cuDNN 9) and point ORT_DYLIB_PATH at its \
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
        // Copies only the inputs not already in standard layout.
        let owned: Vec<ndarray::CowArray<'_, f32, ndarray::IxDyn>> =
            xs.iter().map(|x| x.as_standard_layout()).collect();
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

    fn run_state(
        &self,
        given: &[(&str, ndarray::ArrayViewD<'_, f32>)],
        state: &mut crate::State,
    ) -> Result<Vec<ArrayD<f32>>> {
        let err =
            |msg: String| Error::Graph { path: self.path.clone(), engine: EngineKind::Ort, msg };
        let crate::State { names, store } = state;
        let carried = |input: &str| names.iter().position(|(i, _)| i == input);
        let plain: Vec<String> =
            self.inputs.iter().filter(|n| carried(n).is_none()).cloned().collect();
        let xs = crate::graph::order_inputs(&self.path, EngineKind::Ort, &plain, given)?;
        let mut session = self.inner.lock().expect("ort session");
        if let Store::Host(values) = store {
            let values = std::mem::take(values);
            *store = Store::Ort(OrtState::new(&session, self.device, values)?);
        }
        let Store::Ort(st) = store else { unreachable!("moved into the engine") };
        if st.device != self.device {
            return Err(err(format!(
                "the carried state is on {}, this graph runs on {}",
                st.device, self.device
            )));
        }
        let ort_err = |what: &str, e: ort::Error| err(format!("{what}: {e}"));
        let mut binding = session.create_binding().map_err(|e| ort_err("binding", e))?;
        for (name, x) in plain.iter().zip(xs) {
            let t =
                Tensor::from_array((x.shape().to_vec(), x.iter().copied().collect::<Vec<f32>>()))
                    .map_err(|e| ort_err(name, e))?;
            binding.bind_input(name.as_str(), &t).map_err(|e| ort_err(name, e))?;
        }
        for name in &self.inputs {
            if let Some(k) = carried(name) {
                binding.bind_input(name.as_str(), &st.cur[k]).map_err(|e| ort_err(name, e))?;
            }
        }
        let host =
            MemoryInfo::new(AllocationDevice::CPU, 0, AllocatorType::Device, MemoryType::CPUOutput)
                .map_err(|e| ort_err("host memory", e))?;
        let mut written = Vec::new();
        let mut rest = Vec::new();
        for name in &self.outputs {
            if let Some(k) = names.iter().position(|(_, o)| o == name) {
                let shape: Vec<i64> = st.cur[k].shape().iter().copied().collect();
                if st.spare[k].is_none() {
                    st.spare[k] =
                        Some(Tensor::<f32>::new(&st.alloc, shape).map_err(|e| ort_err(name, e))?);
                }
                let out = st.spare[k].as_mut().expect("allocated");
                binding.bind_output(name.as_str(), out).map_err(|e| ort_err(name, e))?;
                written.push(k);
            } else {
                binding
                    .bind_output_to_device(name.as_str(), &host)
                    .map_err(|e| ort_err(name, e))?;
                rest.push(name.clone());
            }
        }
        let out = session.run_binding(&binding).map_err(|e| err(e.to_string()))?;
        let rest = extract(&out, &rest).map_err(err)?;
        drop(out);
        drop(binding);
        for k in written {
            let next = st.spare[k].take().expect("bound");
            st.spare[k] = Some(std::mem::replace(&mut st.cur[k], next));
        }
        Ok(rest)
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

/// A [`crate::State`] in ONNX Runtime memory on one device: `cur` holds
/// the values, `spare` the buffers the next run writes into (the two swap
/// after each run, so nothing is copied or allocated per step).
pub(crate) struct OrtState {
    device: Device,
    alloc: Allocator,
    cur: Vec<Tensor<f32>>,
    spare: Vec<Option<Tensor<f32>>>,
}

impl OrtState {
    /// Copies host `values` into engine tensors on `device`.
    fn new(session: &OrtInner, device: Device, values: Vec<ArrayD<f32>>) -> Result<Self> {
        let err = |msg: String| Error::State { engine: EngineKind::Ort, msg };
        let alloc = match device {
            Device::Cpu => Allocator::default(),
            Device::Cuda => MemoryInfo::new(
                AllocationDevice::CUDA,
                0,
                AllocatorType::Device,
                MemoryType::Default,
            )
            .and_then(|m| Allocator::new(session, m))
            .map_err(|e| err(format!("CUDA allocator: {e}")))?,
        };
        let mut cur = Vec::with_capacity(values.len());
        for (k, v) in values.into_iter().enumerate() {
            let shape = v.shape().to_vec();
            let mut t = Tensor::<f32>::new(&alloc, shape.clone())
                .map_err(|e| err(format!("tensor {k}: {e}")))?;
            let data: Vec<f32> = v.iter().copied().collect();
            match device {
                Device::Cpu => t.extract_tensor_mut().1.copy_from_slice(&data),
                Device::Cuda => Tensor::from_array((shape, data))
                    .and_then(|h| h.copy_into(&mut t))
                    .map_err(|e| err(format!("tensor {k} to the GPU: {e}")))?,
            }
            cur.push(t);
        }
        let spare = (0..cur.len()).map(|_| None).collect();
        Ok(Self { device, alloc, cur, spare })
    }

    /// A host copy of tensor `k`.
    pub(crate) fn read(&self, k: usize) -> Result<ArrayD<f32>> {
        let err = |msg: String| Error::State { engine: EngineKind::Ort, msg };
        let t = &self.cur[k];
        let host;
        let t = if t.memory_info().allocation_device() == AllocationDevice::CPU {
            t
        } else {
            host = t
                .to(AllocationDevice::CPU, 0)
                .map_err(|e| err(format!("tensor {k} to the host: {e}")))?;
            &host
        };
        let (shape, data) = t.extract_tensor();
        let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
        ArrayD::from_shape_vec(IxDyn(&dims), data.to_vec()).map_err(|e| err(e.to_string()))
    }
}
