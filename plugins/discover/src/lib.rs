//! Motif discovery from per-base attributions, as TF-MoDISco-lite does it
//! (`specs/modisco.md` of the design notes).
//!
//! * [`seqlets`]: seqlet calling — windowed contribution sums, a Laplace
//!   null, isotonic FDR thresholds, greedy non-maximum suppression and the
//!   sign split into positive and negative metaclusters, reproducing
//!   modisco-lite's choices (and its random stream) exactly.
//! * [`gkmer`]: gapped-k-mer embeddings.
//! * [`knn`]: the coarse cosine kNN over them, in bounded memory.
//! * [`affinity`]: aligned continuous Jaccard (fine affinities) and round
//!   one's Spearman filter.
//! * [`pairs`]: the same fine affinities, once per unordered pair.
//! * [`density`]: density adaptation (perplexity-calibrated weights).
//! * [`leiden`]: Leiden community detection optimising modularity.
//! * [`memory`]: large blocks mapped, freed pages returned between stages.
//! * [`pattern`]: seqlet sets, the greedy merge into a pattern, polishing.
//! * [`collapse`]: subclustering and the similar-pattern collapser.
//! * [`pipeline`]: the whole method on one set of windows.
//! * [`motif`]: information content and the CWM trim rule.
//! * [`modisco_h5`]: modisco's HDF5 results file.
//! * [`numpy`]: the numpy and scikit-learn primitives those depend on.

/// `$avx2` (a kernel's twin compiled with `#[target_feature(enable =
/// "avx2")]`, no FMA, so bit-identical) when the CPU has AVX2, else
/// `$plain`; the value of whichever ran.
macro_rules! avx2_or {
    ($avx2:expr, $plain:expr) => {{
        #[cfg(target_arch = "x86_64")]
        let value = if std::arch::is_x86_feature_detected!("avx2") {
            #[allow(unsafe_code)]
            // SAFETY: the twin only enables AVX2, which the CPU was just
            // checked to support.
            let v = unsafe { $avx2 };
            v
        } else {
            $plain
        };
        #[cfg(not(target_arch = "x86_64"))]
        let value = $plain;
        value
    }};
}

pub mod affinity;
pub mod collapse;
pub mod density;
pub mod gkmer;
pub mod knn;
pub mod leiden;
pub mod memory;
pub mod modisco_h5;
pub mod motif;
pub mod numpy;
pub mod pairs;
pub mod pattern;
pub mod pipeline;
pub mod plugins;
pub mod seqlets;
