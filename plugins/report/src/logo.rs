//! Information-content sequence logos, as SVG or PNG.

use motif_core::motif::Motif;

use crate::glyphs::{Cmd, glyph};

/// Letter colours (A, C, G, T).
pub const COLOURS: [&str; 4] = ["#008000", "#0000ff", "#ffa500", "#ff0000"];
const LETTERS: [char; 4] = ['A', 'C', 'G', 'T'];
const RGB: [[u8; 3]; 4] = [[0, 128, 0], [0, 0, 255], [255, 165, 0], [255, 0, 0]];

/// How to draw a logo.
#[derive(Debug, Clone)]
pub struct LogoOptions {
    /// Pixels per column.
    pub col_width: f32,
    /// Pixels for 2 bits.
    pub height: f32,
    /// Draw the reverse complement.
    pub rc: bool,
    /// Empty columns before the motif (to align it with another).
    pub lead: usize,
    /// Total columns of the canvas (≥ lead + width); `None` = just the motif.
    pub columns: Option<usize>,
    /// Draw the bits axis.
    pub axis: bool,
}

impl Default for LogoOptions {
    fn default() -> Self {
        Self { col_width: 24.0, height: 100.0, rc: false, lead: 0, columns: None, axis: true }
    }
}

/// A motif id as a file name: letters, digits, `.`, `-` and `_` kept, anything
/// else `_`; never empty or hidden (`motif…`).
#[must_use]
pub fn file_stem(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    if s.is_empty() || s.starts_with('.') { format!("motif{s}") } else { s }
}

/// Information content per column, 2 − H in bits (H: Shannon entropy).
#[must_use]
pub fn column_ic(col: &[f64; 4]) -> f64 {
    motif_core::motif::column_ic(col.iter().copied())
}

/// Reverse complement of a motif's columns (columns reversed, A↔T, C↔G).
fn columns(m: &Motif, rc: bool) -> Vec<[f64; 4]> {
    let cols = m.columns();
    if rc { cols.iter().rev().map(|c| [c[3], c[2], c[1], c[0]]).collect() } else { cols }
}

/// A letter placed in a box (pixels, y down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    /// Letter index (A, C, G, T).
    pub letter: usize,
    /// Left.
    pub x: f32,
    /// Top.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
}

/// Geometry of a drawn logo.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Canvas width and height.
    pub size: (f32, f32),
    /// Plot area: left, top, bottom (y of 0 bits).
    pub plot: (f32, f32, f32),
    /// Stacked letters, bottom to top within each column.
    pub letters: Vec<Placed>,
}

const LEFT: f32 = 36.0;
const TOP: f32 = 6.0;
const BOTTOM: f32 = 6.0;

/// Stacks each column's letters by probability (smallest at the bottom),
/// the stack as tall as the column's information content.
#[must_use]
pub fn layout(m: &Motif, o: &LogoOptions) -> Layout {
    let cols = columns(m, o.rc);
    let ncol = o.columns.unwrap_or(o.lead + cols.len()).max(o.lead + cols.len());
    let left = if o.axis { LEFT } else { 2.0 };
    let (top, base) = (TOP, TOP + o.height);
    let per_bit = o.height / 2.0;
    let mut letters = Vec::new();
    for (j, c) in cols.iter().enumerate() {
        let ic = column_ic(c).max(0.0);
        let mut order = [0usize, 1, 2, 3];
        order.sort_by(|&a, &b| c[a].total_cmp(&c[b]));
        let x = left + (o.lead + j) as f32 * o.col_width;
        let mut y = base;
        for a in order {
            let h = (c[a] * ic) as f32 * per_bit;
            if h < 0.05 {
                continue;
            }
            y -= h;
            letters.push(Placed { letter: a, x: x + 0.5, y, w: o.col_width - 1.0, h });
        }
    }
    Layout {
        size: (left + ncol as f32 * o.col_width + 4.0, base + BOTTOM),
        plot: (left, top, base),
        letters,
    }
}

fn svg_path(cmds: &[Cmd], x: f32, y: f32, w: f32, h: f32) -> String {
    use std::fmt::Write;
    let mut d = String::new();
    let px = |u: f32| x + u * w;
    let py = |v: f32| y + v * h;
    for c in cmds {
        let _ = match *c {
            Cmd::Move(a, b) => write!(d, "M{:.2} {:.2}", px(a), py(b)),
            Cmd::Line(a, b) => write!(d, "L{:.2} {:.2}", px(a), py(b)),
            Cmd::Quad(a, b, e, f) => {
                write!(d, "Q{:.2} {:.2} {:.2} {:.2}", px(a), py(b), px(e), py(f))
            }
            Cmd::Cubic(a, b, e, f, g, k) => write!(
                d,
                "C{:.2} {:.2} {:.2} {:.2} {:.2} {:.2}",
                px(a),
                py(b),
                px(e),
                py(f),
                px(g),
                py(k)
            ),
            Cmd::Close => write!(d, "Z"),
        };
    }
    d
}

/// The logo as a standalone SVG document.
#[must_use]
pub fn logo_svg(m: &Motif, o: &LogoOptions) -> String {
    use std::fmt::Write;
    let l = layout(m, o);
    let (w, h) = l.size;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.1} {h:.1}" role="img"><title>{}</title>"#,
        escape(&m.id)
    );
    for p in &l.letters {
        if let Some(g) = glyph(LETTERS[p.letter]) {
            let _ = write!(
                s,
                r#"<path fill="{}" d="{}"/>"#,
                COLOURS[p.letter],
                svg_path(&g.cmds, p.x, p.y, p.w, p.h)
            );
        }
    }
    if o.axis {
        let (left, top, base) = l.plot;
        let _ = write!(
            s,
            r##"<g stroke="#444" stroke-width="1" fill="none"><path d="M{x:.1} {top:.1}V{base:.1}"/>"##,
            x = left - 4.0
        );
        for b in 0..=2 {
            let y = base - b as f32 * (base - top) / 2.0;
            let _ = write!(s, r#"<path d="M{:.1} {y:.1}h4"/>"#, left - 8.0);
        }
        s.push_str("</g>");
        for b in 0..=2 {
            let y = base - b as f32 * (base - top) / 2.0;
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-family="sans-serif" font-size="10" text-anchor="end" fill="#444">{b}</text>"##,
                left - 10.0,
                y + 3.5
            );
        }
        let _ = write!(
            s,
            r##"<text transform="translate(9 {:.1}) rotate(-90)" font-family="sans-serif" font-size="10" text-anchor="middle" fill="#444">bits</text>"##,
            f32::midpoint(top, base)
        );
    }
    s.push_str("</svg>");
    s
}

/// How to draw a contribution track.
#[derive(Debug, Clone)]
pub struct TrackOptions {
    /// Pixels per position.
    pub col_width: f32,
    /// Pixels from the largest negative to the largest positive score.
    pub height: f32,
}

impl Default for TrackOptions {
    fn default() -> Self {
        Self { col_width: 10.0, height: 80.0 }
    }
}

/// A contribution track: each base of `seq` drawn as a letter whose height
/// is its score (attribution, gradient × input), above the zero line when
/// positive, upside down below it when negative, as tangermeme's
/// `plot_logo` and logomaker draw attributions; the scale is the largest
/// |score| (half the height). Letters other than A, C, G, T are left out.
///
/// # Errors
/// If `seq` and `scores` differ in length or a score is not finite.
pub fn contribution_svg(
    title: &str,
    seq: &[u8],
    scores: &[f64],
    o: &TrackOptions,
) -> Result<String, String> {
    use std::fmt::Write;
    if seq.len() != scores.len() {
        return Err(format!("{} bases but {} scores", seq.len(), scores.len()));
    }
    if let Some(i) = scores.iter().position(|v| !v.is_finite()) {
        return Err(format!("score {} at position {} is not finite", scores[i], i + 1));
    }
    let (left, top) = (4.0_f32, 16.0_f32);
    let half = o.height / 2.0;
    let mid = top + half;
    let w = left + seq.len() as f32 * o.col_width + 4.0;
    let h = top + o.height + 16.0;
    let max = scores.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.1} {h:.1}" role="img"><title>{}</title>"#,
        escape(title)
    );
    for (i, (&b, &v)) in seq.iter().zip(scores).enumerate() {
        let Some(k) = LETTERS.iter().position(|l| l.eq_ignore_ascii_case(&char::from(b))) else {
            continue;
        };
        let hh = if max > 0.0 { (v.abs() / max) as f32 * half } else { 0.0 };
        let (Some(g), true) = (glyph(LETTERS[k]), hh > 0.01) else { continue };
        let x = left + i as f32 * o.col_width;
        // below the line: drawn from its foot at the line down, upside down
        let (y, gh) = if v >= 0.0 { (mid - hh, hh) } else { (mid + hh, -hh) };
        let _ = write!(
            s,
            r#"<path fill="{}" d="{}"/>"#,
            COLOURS[k],
            svg_path(&g.cmds, x, y, o.col_width, gh)
        );
    }
    let _ = write!(
        s,
        r##"<path d="M{left:.1} {mid:.1}H{:.1}" stroke="#444" stroke-width="0.5"/><text x="{left:.1}" y="11" font-family="sans-serif" font-size="10" fill="#444">max |score| {}</text></svg>"##,
        w - 4.0,
        crate::format_number(max)
    );
    Ok(s)
}

/// A logo of a signed matrix (a CWM: mean contribution of each base per
/// column): each column's positive entries stacked above the zero line
/// (largest on top), its negative ones below it upside down (largest at
/// the bottom), heights on one scale, the largest column stack filling
/// half the height; `rc` draws the reverse complement.
///
/// # Errors
/// If a value is not finite.
pub fn signed_logo_svg(
    title: &str,
    columns: &[[f64; 4]],
    rc: bool,
    o: &TrackOptions,
) -> Result<String, String> {
    use std::fmt::Write;
    if let Some(i) = columns.iter().position(|c| c.iter().any(|v| !v.is_finite())) {
        return Err(format!("column {} holds a value that is not finite", i + 1));
    }
    let cols: Vec<[f64; 4]> = if rc {
        columns.iter().rev().map(|c| [c[3], c[2], c[1], c[0]]).collect()
    } else {
        columns.to_vec()
    };
    let (left, top) = (4.0_f32, 16.0_f32);
    let half = o.height / 2.0;
    let mid = top + half;
    let w = left + cols.len() as f32 * o.col_width + 4.0;
    let h = top + o.height + 16.0;
    let stack = |c: &[f64; 4], positive: bool| -> f64 {
        c.iter().filter(|v| if positive { **v > 0.0 } else { **v < 0.0 }).map(|v| v.abs()).sum()
    };
    let max = cols.iter().fold(0.0_f64, |m, c| m.max(stack(c, true)).max(stack(c, false)));
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.1} {h:.1}" role="img"><title>{}</title>"#,
        escape(title)
    );
    for (i, c) in cols.iter().enumerate() {
        let x = left + i as f32 * o.col_width;
        let mut order = [0usize, 1, 2, 3];
        order.sort_by(|&a, &b| c[a].abs().total_cmp(&c[b].abs()));
        let (mut up, mut down) = (mid, mid);
        for k in order {
            let v = c[k];
            let hh = if max > 0.0 { (v.abs() / max) as f32 * half } else { 0.0 };
            let Some(g) = glyph(LETTERS[k]) else { continue };
            if hh < 0.05 {
                continue;
            }
            // Smallest letters nearest the line.
            let (y, gh) = if v > 0.0 {
                up -= hh;
                (up, hh)
            } else {
                down += hh;
                (down, -hh)
            };
            let _ = write!(
                s,
                r#"<path fill="{}" d="{}"/>"#,
                COLOURS[k],
                svg_path(&g.cmds, x + 0.5, y, o.col_width - 1.0, gh)
            );
        }
    }
    let _ = write!(
        s,
        r##"<path d="M{left:.1} {mid:.1}H{:.1}" stroke="#444" stroke-width="0.5"/><text x="{left:.1}" y="11" font-family="sans-serif" font-size="10" fill="#444">{} · max stack {}</text></svg>"##,
        w - 4.0,
        escape(title),
        crate::format_number(max)
    );
    Ok(s)
}

/// The logo as PNG bytes (same layout; the axis has its ticks and digits).
///
/// # Errors
/// If the canvas cannot be made or encoded (a zero or huge size).
pub fn logo_png(m: &Motif, o: &LogoOptions) -> Result<Vec<u8>, String> {
    use tiny_skia::{FillRule, Paint, PathBuilder, Pixmap, Stroke, Transform};
    let l = layout(m, o);
    let (w, h) = l.size;
    let mut pm = Pixmap::new(w.ceil() as u32, h.ceil() as u32)
        .ok_or_else(|| format!("cannot make a {w}×{h} canvas"))?;
    pm.fill(tiny_skia::Color::WHITE);
    let fill = |pm: &mut Pixmap, cmds: &[Cmd], r: (f32, f32, f32, f32), rgb: [u8; 3]| {
        let (x, y, bw, bh) = r;
        let mut pb = PathBuilder::new();
        let px = |u: f32| x + u * bw;
        let py = |v: f32| y + v * bh;
        for c in cmds {
            match *c {
                Cmd::Move(a, b) => pb.move_to(px(a), py(b)),
                Cmd::Line(a, b) => pb.line_to(px(a), py(b)),
                Cmd::Quad(a, b, e, f) => pb.quad_to(px(a), py(b), px(e), py(f)),
                Cmd::Cubic(a, b, e, f, g, k) => {
                    pb.cubic_to(px(a), py(b), px(e), py(f), px(g), py(k));
                }
                Cmd::Close => pb.close(),
            }
        }
        if let Some(path) = pb.finish() {
            let mut paint = Paint::default();
            paint.set_color_rgba8(rgb[0], rgb[1], rgb[2], 255);
            paint.anti_alias = true;
            pm.fill_path(&path, &paint, FillRule::Winding, Transform::identity(), None);
        }
    };
    for p in &l.letters {
        if let Some(g) = glyph(LETTERS[p.letter]) {
            fill(&mut pm, &g.cmds, (p.x, p.y, p.w, p.h), RGB[p.letter]);
        }
    }
    if o.axis {
        let (left, top, base) = l.plot;
        let mut paint = Paint::default();
        paint.set_color_rgba8(68, 68, 68, 255);
        let mut pb = PathBuilder::new();
        pb.move_to(left - 4.0, top);
        pb.line_to(left - 4.0, base);
        for b in 0..=2 {
            let y = base - b as f32 * (base - top) / 2.0;
            pb.move_to(left - 8.0, y);
            pb.line_to(left - 4.0, y);
        }
        if let Some(path) = pb.finish() {
            pm.stroke_path(&path, &paint, &Stroke::default(), Transform::identity(), None);
        }
        for b in 0..=2u8 {
            let y = base - f32::from(b) * (base - top) / 2.0;
            if let Some(g) = glyph(char::from(b'0' + b)) {
                let gh = 8.0;
                let gw = g.aspect * gh;
                fill(&mut pm, &g.cmds, (left - 11.0 - gw, y - gh / 2.0, gw, gh), [68, 68, 68]);
            }
        }
    }
    pm.encode_png().map_err(|e| format!("PNG encoding failed: {e}"))
}

/// Escapes text for HTML and SVG.
#[must_use]
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn motif(cols: &[[f64; 4]]) -> Motif {
        let a = Array2::from_shape_fn((4, cols.len()), |(r, j)| cols[j][r]);
        Motif::from_matrix("m<1>", a).unwrap()
    }

    #[test]
    fn stacks_scale_to_information_content() {
        let m = motif(&[[1.0, 0.0, 0.0, 0.0], [0.25; 4], [0.5, 0.0, 0.0, 0.5]]);
        let o = LogoOptions::default();
        let l = layout(&m, &o);
        let (_, top, base) = l.plot;
        // column 0: one A filling 2 bits
        let a = l.letters.iter().find(|p| p.letter == 0 && p.x < 40.0).unwrap();
        assert!((a.h - (base - top)).abs() < 1e-3, "{a:?}");
        // column 1: nothing drawn (0 bits)
        let x1 = LEFT + o.col_width;
        assert!(!l.letters.iter().any(|p| (p.x - x1 - 0.5).abs() < 1e-3));
        // column 2: A and T, 1 bit in all, each half of it
        let c2: Vec<_> = l.letters.iter().filter(|p| p.x > x1 + o.col_width).collect();
        assert_eq!(c2.len(), 2);
        let per_bit = (base - top) / 2.0;
        assert!(c2.iter().all(|p| (p.h - 0.5 * per_bit).abs() < 1e-3));
        // reverse complement: the A column becomes a T column at the end
        let r = layout(&m, &LogoOptions { rc: true, ..o.clone() });
        let last = r.letters.iter().max_by(|a, b| a.x.total_cmp(&b.x)).unwrap();
        assert_eq!(last.letter, 3);
    }

    #[test]
    fn svg_and_png_render() {
        let m = motif(&[[0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.7, 0.1]]);
        let svg = logo_svg(&m, &LogoOptions::default());
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("#008000") && svg.contains("#ffa500") && svg.contains(">bits<"));
        assert!(svg.contains("m&lt;1&gt;"), "title escaped");
        let png = logo_png(&m, &LogoOptions::default()).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        // aligned: lead columns widen the canvas
        let wide = layout(&m, &LogoOptions { lead: 3, columns: Some(8), ..Default::default() });
        assert!((wide.size.0 - (LEFT + 8.0 * 24.0 + 4.0)).abs() < 1e-3);
    }
}
