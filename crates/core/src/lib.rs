//! motif-core: the domain types and formats of motiftool, and its plugin
//! registry. Everything else in the workspace depends on it; it depends on
//! no engine.
//!
//! - Sequences: [`seqio::SeqReader`] streams labelled records from FASTA,
//!   DeepBind `.seq` or TSV (gzip or not) with validation that names the
//!   file and line; [`onehot`] encodes them as (4, len) A, C, G, T with
//!   N → 0.25.
//! - Motifs: [`motif::Motif`] (a (4, len) probability matrix with nsites)
//!   and [`motif::MotifSet`] (with background), read from MEME, JASPAR,
//!   TRANSFAC or HOMER by [`motif::read_motifs`], written as MEME.
//! - Plugins: one trait per kind in [`plugin`], registered with
//!   [`register_plugin!`] and listed by [`plugin::all`].
//!
//! # Example
//! ```
//! let x = motif_core::onehot::one_hot(b"ACGTN").unwrap();
//! assert_eq!(x.dim(), (4, 5));
//! assert_eq!(x[(2, 2)], 1.0);
//! assert_eq!(x[(0, 4)], 0.25);
//! ```
#![deny(missing_docs)]

pub mod bigwig;
pub mod error;
pub mod fdcheck;
pub mod fsio;
pub mod metrics;
pub mod motif;
pub mod npz;
pub mod onehot;
pub mod plugin;
pub mod rng;
pub mod rundir;
pub mod seqio;
pub mod shard;

pub use error::{Error, Result};

#[doc(hidden)]
pub use erased_serde;
#[doc(hidden)]
pub use inventory;
#[doc(hidden)]
pub use serde_json;

#[cfg(test)]
mod registry_tests {
    //! A plugin registered inside the crate's own tests: checks the macro,
    //! default config, strict config and lookup.
    use crate::plugin::{self, Configured, CriterionInput, PruningCriterion, Status};
    use ndarray::Array1;

    struct Constant(f32);

    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
    struct ConstantConfig {
        score_value: f32,
    }
    impl Default for ConstantConfig {
        fn default() -> Self {
            Self { score_value: 1.5 }
        }
    }
    impl Configured for Constant {
        type Config = ConstantConfig;
        fn from_config(c: ConstantConfig) -> crate::Result<Self> {
            Ok(Self(c.score_value))
        }
    }
    impl PruningCriterion for Constant {
        fn score(&self, input: &CriterionInput<'_>) -> crate::Result<Array1<f32>> {
            Ok(Array1::from_elem(input.kernels.dim().0, self.0))
        }
    }
    crate::register_plugin!(PruningCriterion, Constant, name: "test-constant",
        summary: "every kernel scores the same", status: Status::Preview("0.1.0"));

    #[test]
    fn registered_plugin_is_listed_built_and_strict() {
        let all = plugin::all().unwrap();
        let info = all.iter().find(|p| p.name == "test-constant").unwrap();
        assert_eq!(info.kind, plugin::PluginKind::Criterion);
        assert_eq!(info.default_config, serde_json::json!({"score-value": 1.5}));
        assert!(info.docs.contains("motif-core"));
        let c = plugin::build::<dyn PruningCriterion>(
            "test-constant",
            &serde_json::json!({"score-value": 3.0}),
        )
        .unwrap();
        let k = ndarray::Array3::<f32>::zeros((2, 4, 3));
        let d = ndarray::Array2::<f32>::zeros((1, 2));
        let s = c
            .score(&CriterionInput {
                kernels: k.view(),
                dense: d.view(),
                pooled: None,
                labels: None,
            })
            .unwrap();
        assert_eq!(s.to_vec(), vec![3.0, 3.0]);
        let Err(e) =
            plugin::build::<dyn PruningCriterion>("test-constant", &serde_json::json!({"bins": 3}))
        else {
            panic!("unknown key accepted")
        };
        let e = e.to_string();
        assert!(e.contains("unknown field `bins`") && e.contains("score-value"), "{e}");
        let Err(e) = plugin::build::<dyn PruningCriterion>("nope", &serde_json::json!({})) else {
            panic!("unknown plugin built")
        };
        assert!(e.to_string().contains("no criterion plugin named `nope`"));
    }
}
