//! Letter outlines from the bundled font (DejaVu Sans Bold, cut down to the
//! glyphs logos use: `data/fonts/`), as path commands in a unit box.

use std::sync::OnceLock;

/// The bundled font file.
pub const FONT: &[u8] = include_bytes!("../../../data/fonts/DejaVuSans-Bold-logo.ttf");

/// One outline command; coordinates in [0, 1]², y down, within the glyph's
/// ink bounding box (so a letter stretched to a box fills it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cmd {
    /// Start a contour.
    Move(f32, f32),
    /// Straight segment.
    Line(f32, f32),
    /// Quadratic Bézier (control, end).
    Quad(f32, f32, f32, f32),
    /// Cubic Bézier (control 1, control 2, end).
    Cubic(f32, f32, f32, f32, f32, f32),
    /// Close the contour.
    Close,
}

/// A glyph: its outline in the unit box and its advance/ink proportions.
#[derive(Debug, Clone)]
pub struct Glyph {
    /// Outline commands.
    pub cmds: Vec<Cmd>,
    /// Ink width / ink height (to draw text at its natural proportions).
    pub aspect: f32,
    /// Advance width / ink height.
    pub advance: f32,
}

struct Builder {
    cmds: Vec<Cmd>,
    bbox: ttf_parser::Rect,
}

impl Builder {
    fn p(&self, x: f32, y: f32) -> (f32, f32) {
        let b = &self.bbox;
        let (w, h) = (f32::from(b.x_max - b.x_min).max(1.0), f32::from(b.y_max - b.y_min).max(1.0));
        ((x - f32::from(b.x_min)) / w, (f32::from(b.y_max) - y) / h)
    }
}

impl ttf_parser::OutlineBuilder for Builder {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.cmds.push(Cmd::Move(x, y));
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.cmds.push(Cmd::Line(x, y));
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (a, b) = self.p(x1, y1);
        let (x, y) = self.p(x, y);
        self.cmds.push(Cmd::Quad(a, b, x, y));
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (a, b) = self.p(x1, y1);
        let (c, d) = self.p(x2, y2);
        let (x, y) = self.p(x, y);
        self.cmds.push(Cmd::Cubic(a, b, c, d, x, y));
    }
    fn close(&mut self) {
        self.cmds.push(Cmd::Close);
    }
}

fn load(ch: char) -> Option<Glyph> {
    let face = ttf_parser::Face::parse(FONT, 0).ok()?;
    let id = face.glyph_index(ch)?;
    let bbox = face.glyph_bounding_box(id)?;
    let mut b = Builder { cmds: Vec::new(), bbox };
    face.outline_glyph(id, &mut b)?;
    let h = f32::from(bbox.y_max - bbox.y_min).max(1.0);
    Some(Glyph {
        cmds: b.cmds,
        aspect: f32::from(bbox.x_max - bbox.x_min) / h,
        advance: f32::from(face.glyph_hor_advance(id).unwrap_or(0)) / h,
    })
}

/// The glyph of `ch` (one of `ACGTbits0123456789.-`), or `None` for a
/// character the bundled font does not hold.
#[must_use]
pub fn glyph(ch: char) -> Option<&'static Glyph> {
    static CACHE: OnceLock<Vec<(char, Glyph)>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            "ACGTbits0123456789.-".chars().filter_map(|c| load(c).map(|g| (c, g))).collect()
        })
        .iter()
        .find(|(c, _)| *c == ch)
        .map(|(_, g)| g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_have_real_outlines_filling_the_unit_box() {
        for c in ['A', 'C', 'G', 'T'] {
            let g = glyph(c).unwrap_or_else(|| panic!("{c} missing from the bundled font"));
            assert!(g.cmds.len() > 4, "{c}: {} commands", g.cmds.len());
            let pts: Vec<(f32, f32)> = g
                .cmds
                .iter()
                .filter_map(|c| match *c {
                    Cmd::Move(x, y)
                    | Cmd::Line(x, y)
                    | Cmd::Quad(_, _, x, y)
                    | Cmd::Cubic(_, _, _, _, x, y) => Some((x, y)),
                    Cmd::Close => None,
                })
                .collect();
            let (mnx, mxx) = pts.iter().fold((1f32, 0f32), |a, p| (a.0.min(p.0), a.1.max(p.0)));
            let (mny, mxy) = pts.iter().fold((1f32, 0f32), |a, p| (a.0.min(p.1), a.1.max(p.1)));
            assert!(mnx < 0.05 && mxx > 0.95 && mny < 0.05 && mxy > 0.95, "{c}");
        }
        assert!(glyph('Z').is_none());
        // 'T' is a single contour, 'A' has a counter (two)
        let contours =
            |c| glyph(c).unwrap().cmds.iter().filter(|x| matches!(x, Cmd::Close)).count();
        assert_eq!(contours('T'), 1);
        assert_eq!(contours('A'), 2);
    }
}
