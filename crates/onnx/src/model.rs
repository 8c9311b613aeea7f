//! Loading ONNX models, with external data inlined, and writing edited copies.

use std::path::{Path, PathBuf};

use prost::Message;

use crate::error::{Error, Result};
use crate::pb::{
    ModelProto, TensorProto, TypeProto, ValueInfoProto, type_proto, type_proto as pb_type,
};
use crate::structure::Structure;

/// An imported model: the ONNX graph (external data inlined) and its recognised structure.
#[derive(Debug, Clone)]
pub struct Model {
    path: PathBuf,
    proto: ModelProto,
    /// The graph with its shape arithmetic folded, when that changed it.
    normal: Option<ModelProto>,
    structure: Structure,
    external: bool,
}

impl Model {
    /// Loads and recognises the model at `path`; initializers stored in
    /// external files (`.onnx.data`) are read in.
    ///
    /// # Errors
    /// If the file is missing, not ONNX (truncated, corrupt), its external
    /// data is missing or out of bounds, or it is not a sequence CNN with
    /// one (N, 4, L) or (N, L, 4) input.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io { path: path.into(), source: e })?;
        Self::from_bytes(&bytes, path)
    }

    /// Like [`Model::load`] from bytes already read; `path` resolves external data and names errors.
    ///
    /// # Errors
    /// As [`Model::load`].
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let mut proto = ModelProto::decode(bytes)
            .map_err(|e| Error::Decode { path: path.into(), msg: e.to_string() })?;
        let Some(graph) = proto.graph.as_mut() else {
            return Err(Error::Decode { path: path.into(), msg: "no graph in the file".into() });
        };
        if graph.node.is_empty() {
            return Err(Error::Decode { path: path.into(), msg: "the graph has no nodes".into() });
        }
        if let Some(n) = graph.node.iter().find(|n| n.output.iter().all(String::is_empty)) {
            return Err(Error::Decode {
                path: path.into(),
                msg: format!("node `{}` ({}) has no output", n.name(), n.op_type()),
            });
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut external = false;
        for t in &mut graph.initializer {
            if t.data_location == Some(1) {
                inline_external(t, dir, path)?;
                external = true;
            }
        }
        check_finite(graph, path)?;
        let aliased = alias_shared_initializers(graph);
        // Structure is recognised on the normalised graph: shape arithmetic
        // folded into constants (at the declared length, else 1000 bp).
        let (normal, folded) = normalised(&proto);
        let mut structure = Structure::recognise(&normal, path).map_err(|e| match e {
            // Name the file too: the user may be juggling several models.
            Error::Node { .. } => Error::Model { path: path.into(), msg: e.to_string() },
            e => e,
        })?;
        let changed = folded.as_ref().is_some_and(|(_, f)| !f.tensors.is_empty());
        if let Some((len, f)) = folded.filter(|(_, f)| !f.tensors.is_empty()) {
            structure.notes.push(format!(
                "{} shape-computed tensors (pads, reshape targets, slice bounds) evaluated for a {len} bp input",
                f.tensors.len()
            ));
        }
        if aliased > 0 {
            structure.notes.push(format!(
                "{aliased} weight tensor(s) read through the exporter's Identity nodes (layers with \
                 equal weights) read directly: those layers share them"
            ));
        }
        let normal = changed.then_some(normal);
        Ok(Self { path: path.into(), proto, normal, structure, external })
    }

    /// The file it was loaded from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether some weights came from external data files.
    #[must_use]
    pub fn has_external_data(&self) -> bool {
        self.external
    }

    /// The ONNX model (external data inlined).
    #[must_use]
    pub fn proto(&self) -> &ModelProto {
        &self.proto
    }

    /// The graph as structure recognition saw it: shape arithmetic folded
    /// into constants at the declared length (1000 bp when symbolic). For
    /// methods that walk the graph; engines run [`Model::proto`].
    #[must_use]
    pub fn normalised(&self) -> &ModelProto {
        self.normal.as_ref().unwrap_or(&self.proto)
    }

    /// The recognised structure.
    #[must_use]
    pub fn structure(&self) -> &Structure {
        &self.structure
    }

    /// Checks that sequences of `len` bp fit the model: every conv and
    /// pooling window fits its (padded) input and no tensor ends up with
    /// zero positions. Engines would panic or give −∞ otherwise.
    ///
    /// Shapes are inferred for one sequence; a model whose ops the
    /// inference does not cover passes unchecked (only a failure that a
    /// long sequence does not share is blamed on the length).
    ///
    /// # Errors
    /// Naming the length, the file and the node where the length runs out.
    pub fn check_length(&self, len: usize) -> Result<()> {
        let Some(graph) = self.proto.graph.as_ref() else { return Ok(()) };
        let input = &self.structure.input;
        if input.length.is_some_and(|l| l != len) {
            // A fixed-length model: the engines name the mismatch.
            return Ok(());
        }
        let shape = |l: usize| match input.layout {
            crate::Layout::Ncw => [1, 4, l],
            crate::Layout::Nwc => [1, l, 4],
        };
        let too_short = |why: String| Error::Model {
            path: self.path.clone(),
            msg: format!("sequences of {len} bp are too short for this model: {why}"),
        };
        match crate::autodiff::Shapes::infer(graph, &[(input.name.as_str(), &shape(len))]) {
            Ok(shapes) => {
                for n in &graph.node {
                    for o in &n.output {
                        if shapes.get(o).is_some_and(|i| i.shape.contains(&0)) {
                            return Err(too_short(format!(
                                "node `{}` ({}) leaves {o} with shape {:?}",
                                n.name(),
                                n.op_type(),
                                shapes.shape(o)
                            )));
                        }
                    }
                }
                Ok(())
            }
            Err(e) => {
                let long = input.length.unwrap_or(len.max(1).saturating_mul(16).max(4096));
                let long_ok =
                    crate::autodiff::Shapes::infer(graph, &[(input.name.as_str(), &shape(long))])
                        .is_ok();
                if long_ok && long != len { Err(too_short(e.to_string())) } else { Ok(()) }
            }
        }
    }

    /// The initializer named `name`.
    #[must_use]
    pub fn initializer(&self, name: &str) -> Option<&TensorProto> {
        self.proto.graph.as_ref()?.initializer.iter().find(|t| t.name() == name)
    }

    /// Initializer `name` as f32.
    ///
    /// # Errors
    /// If there is no such initializer or it is not numeric.
    pub fn weights(&self, name: &str) -> Result<ndarray::ArrayD<f32>> {
        let t = self.initializer(name).ok_or_else(|| Error::Tensor {
            name: name.to_owned(),
            msg: "no such initializer".into(),
        })?;
        crate::tensor::to_f32(t)
    }

    /// Names of every tensor a node produces, in graph order.
    #[must_use]
    pub fn tensor_names(&self) -> Vec<&str> {
        self.proto
            .graph
            .as_ref()
            .map(|g| g.node.iter().flat_map(|n| n.output.iter().map(String::as_str)).collect())
            .unwrap_or_default()
    }

    /// Serialised bytes of the model with `extra` intermediate tensors added
    /// as graph outputs (float, shape left to the engine).
    ///
    /// # Errors
    /// If a name is not produced by any node.
    pub fn to_bytes_with_outputs(&self, extra: &[&str]) -> Result<Vec<u8>> {
        self.with_outputs(extra, false).map(|p| p.encode_to_vec())
    }

    /// The graph cut down to what computes `outputs`: those become its only
    /// outputs and every node, initializer and input they do not need is
    /// dropped, so an engine asked for a first-layer activation runs one
    /// conv, not the whole network.
    ///
    /// # Errors
    /// If no tensor has one of the names.
    pub fn to_bytes_for_outputs(&self, outputs: &[&str]) -> Result<Vec<u8>> {
        self.with_outputs(outputs, true).map(|p| p.encode_to_vec())
    }

    fn with_outputs(&self, extra: &[&str], only: bool) -> Result<ModelProto> {
        let mut proto = self.proto.clone();
        let graph = proto.graph.as_mut().expect("loaded model has a graph");
        // Exporters annotate intermediate shapes with their own symbols (N, L);
        // engines re-infer them for the concrete input, so drop them.
        graph.value_info.clear();
        for o in &mut graph.output {
            if let Some(pb_type::Value::TensorType(t)) =
                o.r#type.as_mut().and_then(|t| t.value.as_mut())
            {
                t.shape = None;
            }
        }
        for &name in extra {
            if graph.output.iter().any(|o| o.name() == name) {
                continue;
            }
            if !graph.node.iter().any(|n| n.output.iter().any(|o| o == name))
                && !graph.input.iter().any(|i| i.name() == name)
            {
                return Err(Error::Model {
                    path: self.path.clone(),
                    msg: format!("no tensor named `{name}` (see `motiftool inspect --tensors`)"),
                });
            }
            graph.output.push(ValueInfoProto {
                name: Some(name.to_owned()),
                r#type: Some(TypeProto {
                    value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                        elem_type: Some(crate::pb::tensor_proto::DataType::Float as i32),
                        shape: None,
                    })),
                    denotation: None,
                }),
                ..Default::default()
            });
        }
        if only {
            graph.output.retain(|o| extra.contains(&o.name()));
            let mut needed: std::collections::HashSet<String> =
                extra.iter().map(|s| (*s).to_owned()).collect();
            let mut keep = vec![false; graph.node.len()];
            for (i, n) in graph.node.iter().enumerate().rev() {
                if n.output.iter().any(|o| needed.contains(o)) {
                    keep[i] = true;
                    needed.extend(n.input.iter().filter(|s| !s.is_empty()).cloned());
                }
            }
            let mut k = keep.into_iter();
            graph.node.retain(|_| k.next().unwrap_or(false));
            graph.initializer.retain(|t| needed.contains(t.name()));
            // The sequence input stays even if unused (engines feed it).
            let seq_input = self.structure.input.name.clone();
            graph.input.retain(|i| needed.contains(i.name()) || i.name() == seq_input);
        }
        Ok(proto)
    }
}

/// `proto` with its integer shape arithmetic folded for one sequence of
/// the declared length (1000 bp when the length is symbolic).
fn normalised(proto: &ModelProto) -> (ModelProto, Option<(usize, crate::fold::Folded)>) {
    let Some(g) = proto.graph.as_ref() else { return (proto.clone(), None) };
    if !g.node.iter().any(|n| matches!(n.op_type(), "Shape" | "Size" | "Range" | "ConstantOfShape"))
    {
        return (proto.clone(), None);
    }
    let inits: std::collections::HashSet<&str> =
        g.initializer.iter().map(super::pb::TensorProto::name).collect();
    let inputs: Vec<_> = g.input.iter().filter(|v| !inits.contains(v.name())).collect();
    let [input] = inputs.as_slice() else { return (proto.clone(), None) };
    let dims = crate::structure::declared_dims(input);
    if dims.len() != 3 {
        return (proto.clone(), None);
    }
    let len_axis = if matches!(dims[1], crate::Dim::Fixed(4)) { 2 } else { 1 };
    let shape: Vec<usize> = dims
        .iter()
        .enumerate()
        .map(|(i, d)| match d {
            crate::Dim::Fixed(n) => *n,
            _ if i == len_axis => 1000,
            _ => 1,
        })
        .collect();
    let (m, f) = crate::fold::fold_shape_arithmetic(proto, input.name(), &shape);
    (m, Some((shape[len_axis], f)))
}

/// Removes each `Identity` node that reads an initializer, its readers
/// reading the initializer itself. PyTorch's exporter writes one
/// initializer for layers whose weights are equal (twin strands, tied
/// layers) and reads it through Identity nodes; without them the layers
/// share the tensor by name, as DeepBind's graphs do, and are recognised
/// as one layer applied twice. Returns the nodes removed.
fn alias_shared_initializers(graph: &mut crate::pb::GraphProto) -> usize {
    let outputs: std::collections::HashSet<String> =
        graph.output.iter().map(|o| o.name().to_owned()).collect();
    let mut alias: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    graph.node.retain(|n| {
        let aliased = n.op_type() == "Identity"
            && n.input.len() == 1
            && n.output.len() == 1
            && !outputs.contains(&n.output[0])
            && graph.initializer.iter().any(|t| t.name() == n.input[0]);
        if aliased {
            alias.insert(n.output[0].clone(), n.input[0].clone());
        }
        !aliased
    });
    for n in &mut graph.node {
        for i in &mut n.input {
            if let Some(src) = alias.get(i.as_str()) {
                i.clone_from(src);
            }
        }
    }
    alias.len()
}

/// Refuses NaN or infinite weights: engines disagree on them and every
/// number computed from them would be meaningless.
fn check_finite(graph: &crate::pb::GraphProto, path: &Path) -> Result<()> {
    use crate::pb::tensor_proto::DataType;
    let constants = graph
        .node
        .iter()
        .filter(|n| n.op_type() == "Constant")
        .flat_map(|n| n.attribute.iter().filter_map(|a| a.t.as_ref()));
    for t in graph.initializer.iter().chain(constants) {
        if !matches!(DataType::try_from(t.data_type()), Ok(DataType::Float | DataType::Double)) {
            continue;
        }
        let Ok(v) = crate::tensor::to_f32(t) else { continue };
        if let Some((i, x)) = v.iter().copied().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(Error::Model {
                path: path.into(),
                msg: format!(
                    "initializer `{}` holds {x} at element {i}; weights must be finite",
                    t.name()
                ),
            });
        }
    }
    Ok(())
}

fn inline_external(t: &mut TensorProto, dir: &Path, model: &Path) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let name = t.name().to_owned();
    let err = |msg: String| Error::ExternalData { path: model.into(), tensor: name.clone(), msg };
    let get = |k: &str| t.external_data.iter().find(|e| e.key() == k).map(|e| e.value().to_owned());
    let location = get("location").ok_or_else(|| err("no `location` key".into()))?;
    let rel = Path::new(&location);
    if rel.is_absolute() || rel.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return Err(err(format!(
            "location `{location}` must be a relative path inside the model's folder"
        )));
    }
    let file = dir.join(rel);
    // Links may not lead out of the model's folder, and only a regular
    // file is read (a FIFO or device would block or never end).
    let real = file.canonicalize().map_err(|e| err(format!("{}: {e}", file.display())))?;
    let real_dir = dir.canonicalize().map_err(|e| err(format!("{}: {e}", dir.display())))?;
    if !real.starts_with(&real_dir) {
        return Err(err(format!(
            "{} leads to {}, outside the model's folder",
            file.display(),
            real.display()
        )));
    }
    if !std::fs::metadata(&real).is_ok_and(|m| m.is_file()) {
        return Err(err(format!("{} is not a regular file", file.display())));
    }
    let parse = |k: &str| -> Result<Option<u64>> {
        get(k)
            .map(|v| v.parse::<u64>().map_err(|_| err(format!("`{k}` = `{v}` is not a number"))))
            .transpose()
    };
    let offset = parse("offset")?.unwrap_or(0);
    let length = parse("length")?;
    let mut f = std::fs::File::open(&file).map_err(|e| err(format!("{}: {e}", file.display())))?;
    let size = f.metadata().map_err(|e| err(e.to_string()))?.len();
    let length = length.unwrap_or(size.saturating_sub(offset));
    if offset + length > size {
        return Err(err(format!(
            "{} holds {size} bytes; offset {offset} + length {length} runs past its end",
            file.display()
        )));
    }
    f.seek(SeekFrom::Start(offset)).map_err(|e| err(e.to_string()))?;
    let mut buf = vec![0u8; usize::try_from(length).map_err(|_| err("too large".into()))?];
    f.read_exact(&mut buf).map_err(|e| err(e.to_string()))?;
    t.raw_data = Some(buf);
    t.external_data.clear();
    t.data_location = Some(0);
    Ok(())
}

#[cfg(test)]
mod fuzz_regressions {
    /// Inputs the fuzzer (`fuzz/run.sh`) found panicking, kept in
    /// `data/fuzz/`: each must load or fail with an error, and a loaded one
    /// must answer the length check.
    #[test]
    fn fuzzed_models_load_or_fail_cleanly() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/fuzz");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
            let p = e.path();
            if p.extension().is_none_or(|x| x != "onnx") {
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            if let Ok(m) = super::Model::from_bytes(&bytes, &p) {
                for len in [1, 7, 101, 1000] {
                    let _ = m.check_length(len);
                }
            }
            n += 1;
        }
        assert!(n >= 3, "{n} regression inputs");
    }
}
