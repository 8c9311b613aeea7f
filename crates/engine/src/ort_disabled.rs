//! Stand-in for the ort backend in builds without the `ort` feature: the
//! same signatures, each saying the engine is not compiled in.

use std::path::Path;

use ndarray::{ArrayD, ArrayView3};

use crate::error::{Error, Result};
use crate::{Device, EngineKind, Session, SessionOptions};

const REASON: &str = "not compiled in (build with the `ort` feature, on by default)";

pub(crate) fn status() -> std::result::Result<String, String> {
    Err(REASON.into())
}

pub(crate) fn devices() -> Vec<Device> {
    Vec::new()
}

pub(crate) enum OrtSession {}

impl OrtSession {
    pub(crate) fn new(
        _path: &Path,
        _bytes: &[u8],
        _input: &motif_onnx::InputInfo,
        _outputs: Vec<String>,
        _opts: &SessionOptions,
    ) -> Result<Self> {
        Err(Error::Unavailable { engine: EngineKind::Ort, reason: REASON.into() })
    }
}

impl Session for OrtSession {
    fn run(&self, _x: ArrayView3<'_, f32>) -> Result<Vec<ArrayD<f32>>> {
        match *self {}
    }
    fn output_names(&self) -> &[String] {
        match *self {}
    }
    fn engine(&self) -> EngineKind {
        match *self {}
    }
    fn device(&self) -> Device {
        match *self {}
    }
    fn parallel_batches(&self) -> bool {
        match *self {}
    }
}

pub(crate) enum OrtGraph {}

/// Never made without ort.
pub(crate) enum OrtState {}

impl OrtState {
    pub(crate) fn read(&self, _k: usize) -> Result<ArrayD<f32>> {
        match *self {}
    }
}

impl OrtGraph {
    pub(crate) fn new(
        _path: &Path,
        _bytes: &[u8],
        _inputs: Vec<String>,
        _outputs: Vec<String>,
        _opts: &SessionOptions,
    ) -> Result<Self> {
        Err(Error::Unavailable { engine: EngineKind::Ort, reason: REASON.into() })
    }
}

impl crate::GraphSession for OrtGraph {
    fn run(&self, _inputs: &[(&str, ndarray::ArrayViewD<'_, f32>)]) -> Result<Vec<ArrayD<f32>>> {
        match *self {}
    }
    fn run_state(
        &self,
        _given: &[(&str, ndarray::ArrayViewD<'_, f32>)],
        _state: &mut crate::State,
    ) -> Result<Vec<ArrayD<f32>>> {
        match *self {}
    }
    fn output_names(&self) -> &[String] {
        match *self {}
    }
    fn engine(&self) -> EngineKind {
        match *self {}
    }
    fn device(&self) -> Device {
        match *self {}
    }
}
