//! What each ONNX op family means, one file per family: its shape rule
//! ([`register_shape_rule!`](crate::register_shape_rule)), its gradient
//! rule, and its structure hook (what the op does to the conv chain that
//! [`Structure`](crate::Structure) recognises), collected at link time.
//!
//! A rule receives the forward node, the gradient of its first output and
//! which inputs need a gradient, and writes the nodes computing those
//! gradients through [`Ctx`]. Adding an op is one [`GradRule`] impl and one
//! [`register_grad_rule!`](crate::register_grad_rule) line, in any crate
//! linked into the binary.

use crate::error::Result;
use crate::pb::NodeProto;

use super::emit::{Ctx, Sparse};
use crate::build::Attr;

mod activation;
pub(crate) use activation::softmax_axes;
mod arith;
mod batchnorm;
mod constant;
mod conv;
mod layout;
mod linear;
mod pool;
mod reduce;
mod unary;

/// The reverse-mode rule of one op.
pub trait GradRule: Sync {
    /// Gradients of the node's inputs given `dy`, the gradient of its
    /// first output: one entry per input, `None` where `needs[i]` is false
    /// or the input has no gradient (indices, running statistics).
    ///
    /// # Errors
    /// When the node uses a form of the op the rule does not cover; the
    /// error names the node.
    fn backward(
        &self,
        cx: &mut Ctx,
        node: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>>;
}

/// A registered rule: the op type it differentiates.
pub struct RuleEntry {
    /// ONNX op type (default domain).
    pub op: &'static str,
    /// The rule.
    pub rule: &'static dyn GradRule,
}

inventory::collect!(RuleEntry);

/// Registers a [`GradRule`] for an op type.
///
/// ```ignore
/// struct Softsign;
/// impl GradRule for Softsign { /* … */ }
/// motif_onnx::register_grad_rule!("Softsign", Softsign);
/// ```
#[macro_export]
macro_rules! register_grad_rule {
    ($op:literal, $rule:expr) => {
        $crate::inventory::submit! {
            $crate::autodiff::RuleEntry { op: $op, rule: &$rule }
        }
    };
}

/// A shape rule: sets the node's output infos from its inputs'.
pub type ShapeRule = fn(&mut super::shapes::Shapes, &NodeProto) -> Result<()>;

/// A registered shape rule: the op types it covers.
pub struct ShapeEntry {
    /// ONNX op types (default domain).
    pub ops: &'static [&'static str],
    /// The rule.
    pub rule: ShapeRule,
}

inventory::collect!(ShapeEntry);

/// Registers a [`ShapeRule`] for op types, beside the family's gradient rules.
#[macro_export]
macro_rules! register_shape_rule {
    ([$($op:literal),+ $(,)?], $rule:expr) => {
        $crate::inventory::submit! {
            $crate::autodiff::ShapeEntry { ops: &[$($op),+], rule: $rule }
        }
    };
}

/// How a fresh model initialises a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// Glorot-uniform for a matrix, zeros for a vector (Keras' defaults
    /// for kernels and biases).
    Default,
    /// Zeros (a shift, a running mean).
    Zeros,
    /// Ones (a scale, a running variance).
    Ones,
}

/// What an initializer is to the op that reads it at one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamRole {
    /// Training updates it.
    pub trained: bool,
    /// A dense layer's weight (L1/L2 penalise it, as Keras'
    /// `kernel_regularizer`).
    pub dense: bool,
    /// How a fresh model initialises it.
    pub init: Init,
    /// A running statistic (BatchNorm's mean and variance): re-estimated,
    /// never trained.
    pub statistic: bool,
}

impl ParamRole {
    /// A trained parameter initialised by `init`.
    #[must_use]
    pub const fn trained(init: Init) -> Self {
        Self { trained: true, dense: false, init, statistic: false }
    }
}

/// The role of an initializer at input `slot` of the op; `None` when the
/// op does not treat that input as a parameter.
pub type ParamRule = fn(slot: usize) -> Option<ParamRole>;

/// A registered parameter rule: the op types it covers.
pub struct ParamEntry {
    /// ONNX op types (default domain).
    pub ops: &'static [&'static str],
    /// The rule.
    pub rule: ParamRule,
}

inventory::collect!(ParamEntry);

/// Registers a [`ParamRule`] for op types, beside the family's other rules.
#[macro_export]
macro_rules! register_param_rule {
    ([$($op:literal),+ $(,)?], $rule:expr) => {
        $crate::inventory::submit! {
            $crate::autodiff::ParamEntry { ops: &[$($op),+], rule: $rule }
        }
    };
}

/// The role of an initializer read by `op` at input `slot`, if that op
/// family registered one.
#[must_use]
pub fn param_role(op: &str, slot: usize) -> Option<ParamRole> {
    inventory::iter::<ParamEntry>
        .into_iter()
        .find(|e| e.ops.contains(&op))
        .and_then(|e| (e.rule)(slot))
}

/// The shape rule for `op`, if one is registered.
#[must_use]
pub fn shape_rule_for(op: &str) -> Option<ShapeRule> {
    inventory::iter::<ShapeEntry>.into_iter().find(|e| e.ops.contains(&op)).map(|e| e.rule)
}

/// The rule for `op`, if one is registered.
#[must_use]
pub fn rule_for(op: &str) -> Option<&'static dyn GradRule> {
    inventory::iter::<RuleEntry>.into_iter().find(|e| e.op == op).map(|e| e.rule)
}

/// Every op type with a gradient rule, sorted.
#[must_use]
pub fn supported_ops() -> Vec<&'static str> {
    let mut v: Vec<_> = inventory::iter::<RuleEntry>.into_iter().map(|e| e.op).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Gradient of a max (`max`) or min reduction of `x` (of `shape`) over `axes` to `y`,
/// both kept rank-aligned (`y`, `dy` with 1 on the reduced axes). Over one
/// axis, `dy` goes to the first extreme element, as PyTorch and TensorFlow
/// route max-pool gradients: an ArgMax and a [`Sparse`] scatter, which the
/// rules before it (activations, Conv weights) take without a pass over
/// the dense tensor. Over several axes it is shared evenly between ties.
pub(crate) fn route_extreme(
    cx: &mut Ctx,
    x: &str,
    shape: Vec<usize>,
    y: &str,
    dy: &str,
    axes: &[usize],
    max: bool,
) -> String {
    let &[axis] = axes else { return share_extreme(cx, x, y, dy, axes) };
    let op = if max { "ArgMax" } else { "ArgMin" };
    let keep = [("axis", Attr::Int(axis as i64)), ("keepdims", Attr::Int(1))];
    let idx = cx.op(op, &[x], &keep);
    let known = vec![(x.to_owned(), y.to_owned())];
    cx.scatter(Sparse { shape, axis, idx, upd: dy.to_owned(), known })
}

/// Gradient of a max (or min) reduction of `x` over `axes` to `y`, both
/// kept rank-aligned (`y`, `dy` with 1 on the reduced axes): `dy` goes to
/// the elements equal to `y`, shared evenly between ties.
fn share_extreme(cx: &mut Ctx, x: &str, y: &str, dy: &str, axes: &[usize]) -> String {
    let eq = cx.op("Equal", &[x, y], &[]);
    let m = cx.to_float(&eq);
    let count = cx.reduce_sum(&m, axes, true);
    let share = cx.op("Div", &[dy, &count], &[]);
    cx.op("Mul", &[&m, &share], &[])
}

/// The input names of `n` (empty string for an absent optional input).
pub(crate) fn input(n: &NodeProto, k: usize) -> &str {
    n.input.get(k).map_or("", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every op with a gradient rule has a shape rule, and no op has two.
    #[test]
    fn each_op_has_one_shape_rule_and_every_gradient_op_has_one() {
        let mut seen = std::collections::HashSet::new();
        for e in inventory::iter::<ShapeEntry> {
            for op in e.ops {
                assert!(seen.insert(*op), "`{op}` has two shape rules");
            }
        }
        for op in supported_ops() {
            assert!(shape_rule_for(op).is_some(), "`{op}` has a gradient rule but no shape rule");
        }
        assert!(shape_rule_for("Range").is_some() && shape_rule_for("NoSuchOp").is_none());
    }

    /// Every op with a structure hook has one hook and a shape rule (its
    /// family's file holds both).
    #[test]
    fn each_structure_hook_is_unique_and_beside_a_shape_rule() {
        let mut seen = std::collections::HashSet::new();
        for e in inventory::iter::<crate::structure::StructureEntry> {
            for op in e.ops {
                assert!(seen.insert(*op), "`{op}` has two structure hooks");
            }
        }
        for op in ["Conv", "MaxPool", "GlobalAveragePool", "Reshape", "Relu", "BatchNormalization"]
        {
            assert!(seen.contains(op), "`{op}` has no structure hook");
        }
        let without: Vec<&&str> = seen.iter().filter(|op| shape_rule_for(op).is_none()).collect();
        // Activations recognition follows but gradients do not cover yet.
        let known = [
            "Celu",
            "Elu",
            "Gelu",
            "HardSigmoid",
            "HardSwish",
            "Mish",
            "PRelu",
            "Selu",
            "Softsign",
        ];
        assert!(without.iter().all(|op| known.contains(op)), "no shape rule: {without:?}");
        // A window hook only where recognition follows the op, one each.
        let mut windowed = std::collections::HashSet::new();
        for e in inventory::iter::<crate::window::WindowEntry> {
            for op in e.ops {
                assert!(windowed.insert(*op), "`{op}` has two window hooks");
                assert!(seen.contains(op) || *op == "LpPool", "`{op}`: a window hook only");
            }
        }
        assert!(windowed.contains("Conv") && windowed.contains("MaxPool"));
    }
}
