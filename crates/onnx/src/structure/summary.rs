//! The text summary of a [`Structure`].

use std::fmt::Write as _;

use super::{Dim, Structure};

fn dims(d: &[Dim]) -> String {
    let v: Vec<String> = d.iter().map(ToString::to_string).collect();
    format!("[{}]", v.join(", "))
}

impl Structure {
    /// The human-readable summary `motiftool inspect` prints and reports
    /// show: input, strands, conv layers with receptive fields and strides,
    /// the tensors of each, dense head, outputs, notes. `path` names the
    /// model; `external`: its weights are in a separate file.
    #[must_use]
    pub fn summary(&self, path: &str, external: bool) -> String {
        let s = self;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "model    {path}  ({}, opset {}{})",
            if s.producer.is_empty() { "unknown producer" } else { &s.producer },
            s.opset,
            if external { ", external weights" } else { "" }
        );
        let _ =
            writeln!(t, "input    {}  {}  {}", s.input.name, s.input.layout, dims(&s.input.dims));
        if let Some(l) = s.input.length {
            let _ = writeln!(t, "         fixed sequence length {l} bp");
        }
        let _ = writeln!(
            t,
            "strands  {}",
            if s.reverse_complement {
                "both (reverse-complement branch, shared weights)"
            } else {
                "forward only"
            }
        );
        let _ = writeln!(t, "\nconv layers ({})", s.convs.len());
        let _ = writeln!(
            t,
            "  {:>2}  {:>4} {:>4} {:>5} {:>6} {:>4} {:>9}  {:>6} {:>7}  then",
            "#", "in", "out", "width", "stride", "dil", "padding", "RF(bp)", "stride"
        );
        for c in &s.convs {
            let post: Vec<String> = c.post.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                t,
                "  {:>2}  {:>4} {:>4} {:>5} {:>6} {:>4} {:>9}  {:>6} {:>7}  {}",
                c.index,
                c.in_channels,
                c.out_channels,
                c.width,
                c.stride,
                c.dilation,
                format!("{}+{}", c.padding[0], c.padding[1]),
                c.receptive_field,
                c.input_stride,
                if post.is_empty() { "-".to_owned() } else { post.join(" → ") }
            );
        }
        let _ = writeln!(
            t,
            "  (RF: receptive field of one neuron of the layer; stride: bp between adjacent neurons)"
        );
        for c in &s.convs {
            let _ = write!(t, "  layer {} tensors: conv `{}`", c.index, c.conv_output);
            if let Some(a) = &c.activation_output {
                let _ = write!(t, ", activation `{a}`");
            }
            if let Some(p) = &c.pooled_output {
                let _ = write!(t, ", pooled `{p}`");
            }
            if let Some(g) = &c.global_output {
                let _ = write!(t, ", global pool `{g}`");
            }
            let _ = writeln!(
                t,
                "{}",
                if c.pad_value.is_some_and(|v| v != 0.0) {
                    format!(" (input padded with {})", c.pad_value.unwrap_or(0.0))
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(t, "\ndense head ({})", s.dense.len());
        for d in &s.dense {
            let _ = writeln!(
                t,
                "  {:>2}  {:>5} → {:<5} {}  (`{}`)",
                d.index,
                d.in_features,
                d.out_features,
                d.activation.as_deref().unwrap_or("linear"),
                d.weight
            );
        }
        let _ = writeln!(t, "\noutputs");
        for o in &s.outputs {
            let _ = writeln!(t, "  {}  {}", o.name, dims(&o.dims));
        }
        if !s.notes.is_empty() {
            let _ = writeln!(t, "\nnotes");
            for n in &s.notes {
                let _ = writeln!(t, "  {n}");
            }
        }
        t
    }
}
