//! Figures and reports: sequence logos drawn from real glyph outlines (the
//! bundled DejaVu Sans Bold subset), in SVG or PNG, and the self-contained
//! HTML report of `motiftool analyze`; line charts (AUC against kernel
//! number, weight trajectories) and generic report pages.
//!
//! Logos follow the project's conventions: letters stacked by probability
//! (largest on top), each column as tall as its information content
//! 2 − H bits, A green `#008000`, C blue `#0000ff`, G orange `#ffa500`,
//! T red `#ff0000`, axis in bits.

mod chart;
pub mod figures;
pub mod glyphs;
mod html;
mod logo;

pub use chart::{ChartOptions, Series, line_chart, palette};
pub use html::{FilterRow, MatchRow, Page, Report, format_number, render_page, render_report};
pub use logo::{
    COLOURS, Layout, LogoOptions, Placed, TrackOptions, column_ic, contribution_svg, escape,
    file_stem, layout, logo_png, logo_svg, signed_logo_svg,
};
