//! One module per subcommand.

pub mod analyze;
pub mod attribute;
pub mod bench;
pub mod decouple;
pub mod discover;
pub mod engines;
pub mod hits;
pub mod inspect;
pub mod logo;
pub mod matching;
pub mod merge;
pub mod plugins;
pub mod predict;
pub mod prune;
pub mod report;
pub mod saliency;
pub mod simulate;
pub mod train;
