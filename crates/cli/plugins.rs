//! The one place that links every plugin crate into the binary.
//!
//! rustc does not link a crate nothing names, and a plugin registers itself
//! only through `inventory` (link-time), so each plugin crate needs a
//! `use plugin_crate as _;` line here. `tests/plugins.rs` asserts the
//! registered list, so a forgotten line fails the tests.
//!
use motif_attribution as _;
use motif_criteria as _;
use motif_discover as _;
use motif_neuronmotif as _;
use motif_pwm as _;
use motif_report as _;
use motif_tomtom as _;
