//! Ops that compute shapes and constants (Shape, Size, Gather, Constant,
//! `ConstantOfShape`, Range, Expand, Cast): shape rules only; they carry no
//! gradient (the normaliser folds them into constants).

/// Shape rules of this family (static shapes for the gradient graphs).
mod shape_rules {
    use crate::autodiff::shapes::Elem;
    use crate::autodiff::shapes::Info;
    use crate::autodiff::shapes::Shapes;
    use crate::autodiff::shapes::axis;
    use crate::autodiff::shapes::broadcast;
    use crate::autodiff::shapes::elem_of;
    use crate::autodiff::shapes::tensor_info;
    use crate::error::Result;
    use crate::graph::attr_float;
    use crate::graph::attr_int;
    use crate::graph::attr_ints;
    use crate::graph::node_err;
    use crate::pb::NodeProto;

    /// Shapes of `Cast`.
    fn shape_cast(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let i = sh.input(n, 0)?.clone();
        let elem = elem_of(attr_int(n, "to").unwrap_or(1) as i32);
        let ints = if elem == Elem::Int { i.ints.clone() } else { None };
        sh.out(n, 0, Info { shape: i.shape, elem, ints });
        Ok(())
    }

    crate::register_shape_rule!(["Cast"], shape_cast);

    /// Shapes of `Shape`.
    fn shape_shape(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?;
        let r = x.shape.len() as i64;
        let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
        let start = clamp(attr_int(n, "start").unwrap_or(0));
        let end = clamp(attr_int(n, "end").unwrap_or(r));
        let v: Vec<i64> = x.shape[start..end.max(start)].iter().map(|&d| d as i64).collect();
        sh.out(n, 0, Info { shape: vec![v.len()], elem: Elem::Int, ints: Some(v) });
        Ok(())
    }

    crate::register_shape_rule!(["Shape"], shape_shape);

    /// Shapes of `Size`.
    fn shape_size(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let v = sh.input(n, 0)?.shape.iter().product::<usize>() as i64;
        sh.out(n, 0, Info { shape: vec![], elem: Elem::Int, ints: Some(vec![v]) });
        Ok(())
    }

    crate::register_shape_rule!(["Size"], shape_size);

    /// Shapes of `Gather`.
    fn shape_gather(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.clone();
        let idx = sh.input(n, 1)?.clone();
        let a = axis(n, attr_int(n, "axis").unwrap_or(0), x.shape.len())?;
        let mut shape = x.shape[..a].to_vec();
        shape.extend(&idx.shape);
        shape.extend(&x.shape[a + 1..]);
        let ints = match (&x.ints, &idx.ints, x.shape.len()) {
            (Some(v), Some(ix), 1) => ix
                .iter()
                .map(|&i| {
                    let i = if i < 0 { i + v.len() as i64 } else { i };
                    v.get(i as usize).copied()
                })
                .collect(),
            _ => None,
        };
        sh.out(n, 0, Info { shape, elem: x.elem, ints });
        Ok(())
    }

    crate::register_shape_rule!(["Gather"], shape_gather);

    /// Shapes of `Constant`.
    fn shape_constant(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let info = if let Some(t) =
            n.attribute.iter().find(|a| a.name() == "value").and_then(|a| a.t.as_ref())
        {
            tensor_info(t)?
        } else if let Some(v) = attr_ints(n, "value_ints") {
            Info { shape: vec![v.len()], elem: Elem::Int, ints: Some(v) }
        } else if let Some(v) = attr_int(n, "value_int") {
            Info { shape: vec![], elem: Elem::Int, ints: Some(vec![v]) }
        } else if attr_float(n, "value_float").is_some() {
            Info::float(vec![])
        } else if let Some(a) = n.attribute.iter().find(|a| a.name() == "value_floats") {
            Info::float(vec![a.floats.len()])
        } else {
            return Err(node_err(n, "unsupported Constant form"));
        };
        sh.out(n, 0, info);
        Ok(())
    }

    crate::register_shape_rule!(["Constant"], shape_constant);

    /// Shapes of `ConstantOfShape`.
    fn shape_constant_of_shape(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let dims = sh.ints_of(n, 0)?;
        let shape: Vec<usize> = dims.iter().map(|&d| d.max(0) as usize).collect();
        let elem = n
            .attribute
            .iter()
            .find(|a| a.name() == "value")
            .and_then(|a| a.t.as_ref())
            .map_or(Elem::Float, |t| elem_of(t.data_type()));
        let fill = n
            .attribute
            .iter()
            .find(|a| a.name() == "value")
            .and_then(|a| a.t.as_ref())
            .and_then(|t| crate::tensor::to_i64(t).ok())
            .and_then(|v| v.first().copied());
        let count = crate::tensor::numel(&shape);
        let ints = match (elem, count) {
            (Elem::Int, Some(c)) if c <= 1 << 16 => Some(vec![fill.unwrap_or(0); c]),
            _ => None,
        };
        sh.out(n, 0, Info { shape, elem, ints });
        Ok(())
    }

    crate::register_shape_rule!(["ConstantOfShape"], shape_constant_of_shape);

    /// Shapes of `Range`.
    fn shape_range(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        // start, limit, delta: scalars whose values must be known
        // (constants, or computed from shapes).
        let elem = sh.input(n, 0)?.elem;
        let scalar = |k: usize| -> Result<i64> {
            match sh.ints_of(n, k)?.as_slice() {
                [v] => Ok(*v),
                v => Err(node_err(n, format!("input {k} has {} values, not 1", v.len()))),
            }
        };
        let (start, limit, delta) = (scalar(0)?, scalar(1)?, scalar(2)?);
        if delta == 0 {
            return Err(node_err(n, "delta is 0"));
        }
        // max(ceil((limit - start) / delta), 0), without overflow.
        let span = i128::from(limit) - i128::from(start);
        let d = i128::from(delta);
        let count = if (span > 0) == (d > 0) && span != 0 {
            (span.abs() + d.abs() - 1) / d.abs()
        } else {
            0
        };
        let count = usize::try_from(count)
            .ok()
            .filter(|&c| crate::tensor::numel(&[c]).is_some())
            .ok_or_else(|| node_err(n, format!("{count} values")))?;
        let ints = (elem == Elem::Int && count <= 1 << 16)
            .then(|| (0..count as i64).map(|i| start + i * delta).collect());
        sh.out(n, 0, Info { shape: vec![count], elem, ints });
        Ok(())
    }

    crate::register_shape_rule!(["Range"], shape_range);

    /// Shapes of `Expand`.
    fn shape_expand(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.clone();
        let spec: Vec<usize> = sh.ints_of(n, 1)?.iter().map(|&d| d.max(0) as usize).collect();
        let shape = broadcast(&[&x.shape, &spec])
            .ok_or_else(|| node_err(n, format!("cannot expand {:?} to {spec:?}", x.shape)))?;
        sh.out(n, 0, Info { shape, ints: None, ..x });
        Ok(())
    }

    crate::register_shape_rule!(["Expand"], shape_expand);
}

/// Structure hook of this family: a cast keeps the path.
#[allow(clippy::unnecessary_wraps, reason = "every hook has the StructureHook signature")]
mod structure_hooks {
    use crate::error::Result;
    use crate::pb::NodeProto;
    use crate::structure::{AxisState, Walk, register_structure_hook};

    fn cast(_: &mut Walk<'_, '_>, _: &NodeProto, st: AxisState) -> Result<Option<AxisState>> {
        Ok(Some(st))
    }

    register_structure_hook!(&["Cast"], cast);
}

/// Window hook of this family: a cast stays.
mod window_hooks {
    use crate::window::{register_window_hook, unchanged};

    register_window_hook!(&["Cast"], unchanged);
}
