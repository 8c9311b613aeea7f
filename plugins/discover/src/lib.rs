//! Motif discovery from per-base attributions, as TF-MoDISco-lite does it
//! (`specs/modisco.md` of the design notes).
//!
//! * [`seqlets`]: seqlet calling — windowed contribution sums, a Laplace
//!   null, isotonic FDR thresholds, greedy non-maximum suppression and the
//!   sign split into positive and negative metaclusters, reproducing
//!   modisco-lite's choices (and its random stream) exactly.

pub mod affinity;
pub mod collapse;
pub mod density;
pub mod gkmer;
pub mod leiden;
pub mod modisco_h5;
pub mod motif;
pub mod numpy;
pub mod pattern;
pub mod pipeline;
pub mod seqlets;
