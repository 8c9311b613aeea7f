//! Helpers over `GraphProto`: attributes, constants, consumers.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::pb::{GraphProto, NodeProto, TensorProto};

/// A readable name for a node: its name, else its first output.
#[must_use]
pub fn node_label(n: &NodeProto) -> String {
    match n.name() {
        "" => n.output.first().cloned().unwrap_or_else(|| n.op_type().to_owned()),
        s => s.to_owned(),
    }
}

/// An error about node `n`.
pub fn node_err(n: &NodeProto, msg: impl Into<String>) -> Error {
    Error::Node { node: node_label(n), op: n.op_type().to_owned(), msg: msg.into() }
}

/// Attribute `name` of `n` as ints, if present.
#[must_use]
pub fn attr_ints(n: &NodeProto, name: &str) -> Option<Vec<i64>> {
    n.attribute.iter().find(|a| a.name() == name).map(|a| {
        if a.ints.is_empty() { a.i.map(|i| vec![i]).unwrap_or_default() } else { a.ints.clone() }
    })
}

/// Attribute `name` of `n` as an int, if present.
#[must_use]
pub fn attr_int(n: &NodeProto, name: &str) -> Option<i64> {
    n.attribute.iter().find(|a| a.name() == name).and_then(|a| a.i)
}

/// Attribute `name` of `n` as a float, if present.
#[must_use]
pub fn attr_float(n: &NodeProto, name: &str) -> Option<f32> {
    n.attribute.iter().find(|a| a.name() == name).and_then(|a| a.f)
}

/// Attribute `name` of `n` as a string, if present.
#[must_use]
pub fn attr_str(n: &NodeProto, name: &str) -> Option<String> {
    n.attribute
        .iter()
        .find(|a| a.name() == name)
        .and_then(|a| a.s.as_ref())
        .map(|s| String::from_utf8_lossy(s).into_owned())
}

/// Index of a graph: constant tensors (initializers and `Constant` nodes)
/// and the consumers of each tensor.
#[derive(Debug)]
pub struct GraphIndex<'g> {
    /// The graph.
    pub graph: &'g GraphProto,
    /// Constant tensors by name.
    pub constants: HashMap<&'g str, &'g TensorProto>,
    /// For each tensor, the indices of the nodes that read it.
    pub consumers: HashMap<&'g str, Vec<usize>>,
}

impl<'g> GraphIndex<'g> {
    /// Indexes `graph`.
    #[must_use]
    pub fn new(graph: &'g GraphProto) -> Self {
        let mut constants: HashMap<&str, &TensorProto> =
            graph.initializer.iter().map(|t| (t.name(), t)).collect();
        let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in graph.node.iter().enumerate() {
            if n.op_type() == "Constant"
                && let (Some(out), Some(t)) = (
                    n.output.first(),
                    n.attribute.iter().find(|a| a.name() == "value").and_then(|a| a.t.as_ref()),
                )
            {
                constants.insert(out.as_str(), t);
            }
            for inp in &n.input {
                if !inp.is_empty() {
                    consumers.entry(inp.as_str()).or_default().push(i);
                }
            }
        }
        Self { graph, constants, consumers }
    }

    /// Constant input `k` of `n` as i64s, if it is a constant.
    #[must_use]
    pub fn const_i64(&self, n: &NodeProto, k: usize) -> Option<Vec<i64>> {
        let name = n.input.get(k)?;
        crate::tensor::to_i64(self.constants.get(name.as_str())?).ok()
    }

    /// Constant input `k` of `n`, if it is a constant.
    #[must_use]
    pub fn const_tensor(&self, n: &NodeProto, k: usize) -> Option<&'g TensorProto> {
        self.constants.get(n.input.get(k)?.as_str()).copied()
    }

    /// Whether input `k` of `n` is a constant.
    #[must_use]
    pub fn is_const(&self, n: &NodeProto, k: usize) -> bool {
        n.input.get(k).is_some_and(|s| self.constants.contains_key(s.as_str()))
    }

    /// Ints from attribute `attr` (older opsets) or constant input `k` (newer).
    ///
    /// # Errors
    /// If neither holds ints, naming the node.
    pub fn ints_attr_or_input(
        &self,
        n: &NodeProto,
        attr: &str,
        k: usize,
    ) -> Result<Option<Vec<i64>>> {
        if let Some(v) = attr_ints(n, attr) {
            return Ok(Some(v));
        }
        match n.input.get(k) {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(_) => self.const_i64(n, k).map(Some).ok_or_else(|| {
                node_err(n, format!("`{attr}` is computed at run time, not a constant"))
            }),
        }
    }
}
