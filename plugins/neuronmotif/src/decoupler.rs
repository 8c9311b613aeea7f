//! The registered `neuronmotif` decoupler: [`demix`] behind the
//! [`NeuronDecoupler`] trait, so workflows find NeuronMotif's demixing in
//! the registry like every other method.

use motif_core::Result;
use motif_core::plugin::{Configured, Crm, DecoupleInput, NeuronDecoupler, Status};
use motif_core::rng::Rng;

use crate::demix::{DemixConfig, demix};

/// NeuronMotif's demixing (Wei et al. 2023): activation-weighted k-means of
/// a neuron's samples on each lower layer, one split per max-pool shift.
#[derive(Debug, Clone, Copy)]
pub struct NeuronMotif {
    cfg: DemixConfig,
}

impl Configured for NeuronMotif {
    type Config = DemixConfig;

    fn from_config(cfg: DemixConfig) -> Result<Self> {
        if cfg.motifs == 0 {
            return Err(motif_core::Error::Config {
                plugin: "neuronmotif".into(),
                msg: "motifs must be at least 1".into(),
            });
        }
        if cfg.min_cluster == 0 {
            return Err(motif_core::Error::Config {
                plugin: "neuronmotif".into(),
                msg: "min-cluster must be at least 1".into(),
            });
        }
        Ok(Self { cfg })
    }
}

impl NeuronDecoupler for NeuronMotif {
    fn decouple(&self, input: &DecoupleInput<'_>, rng: &mut Rng) -> Result<Vec<Crm>> {
        demix(input.network, input.neuron, input.samples, input.activation, &self.cfg, rng)
            .map_err(crate::Error::into_core)
    }
}

motif_core::register_plugin!(NeuronDecoupler, NeuronMotif,
    name: "neuronmotif",
    summary: "NeuronMotif's demixing: a deeper neuron's samples → CRM clusters, one per max-pool shift combination",
    status: Status::Stable("0.1.0"));

#[cfg(test)]
mod tests {
    use motif_core::plugin::{NeuronNetwork, Seqs, build};
    use ndarray::{Array1, Array2};

    use super::*;

    /// A two-layer toy network: layer 0 has pool 2 and reads the first base
    /// of a window as its feature, so demixing splits the samples by it.
    struct Toy;

    impl NeuronNetwork for Toy {
        fn pools(&self) -> Vec<usize> {
            vec![2, 1]
        }
        fn layer_values(&self, seqs: &Seqs, _layer: usize) -> Result<Array2<f32>> {
            Ok(Array2::from_shape_fn((seqs.n(), 1), |(i, _)| f32::from(seqs.get(i)[0])))
        }
        fn neuron_values(&self, seqs: &Seqs, _k: usize) -> Result<Array1<f32>> {
            Ok(Array1::from_shape_fn(seqs.n(), |i| 1.0 + f32::from(seqs.get(i)[0])))
        }
    }

    #[test]
    fn the_registered_decoupler_splits_samples_by_the_lower_layer() {
        let mut samples = Seqs::new(3);
        for i in 0..120u8 {
            samples.push(&[if i % 2 == 0 { 0 } else { 3 }, 1, 2]);
        }
        // Activations spread over the bins of the activation-weighted PPM
        // (an empty bin adds a little of the uniform PPM, hence `near`).
        let bins = crate::ppm::BINS;
        let v: Vec<f32> = (0..120).map(|i| ((i / 2) % bins + 1) as f32 / bins as f32).collect();
        let d = build::<dyn NeuronDecoupler>("neuronmotif", &serde_json::json!({})).unwrap();
        let input = DecoupleInput { network: &Toy, neuron: 0, samples: &samples, activation: &v };
        let crms = d.decouple(&input, &mut Rng::new(1)).unwrap();
        assert_eq!(crms.len(), 2, "{crms:?}");
        let near = |a: [f64; 4], b: [f64; 4]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-2);
        let firsts: Vec<[f64; 4]> = crms.iter().map(|c| c.ppm[0]).collect();
        assert!(firsts.iter().any(|f| near(*f, [1.0, 0.0, 0.0, 0.0])), "{firsts:?}");
        assert!(firsts.iter().any(|f| near(*f, [0.0, 0.0, 0.0, 1.0])), "{firsts:?}");
        assert!(crms.iter().all(|c| c.size == 60 && near(c.ppm[1], [0.0, 1.0, 0.0, 0.0])));
        // The consensus activations come from the network: A → 1, T → 4.
        let mut conact: Vec<f32> = crms.iter().map(|c| c.conact).collect();
        conact.sort_by(f32::total_cmp);
        assert_eq!(conact, vec![1.0, 4.0]);
        let e = build::<dyn NeuronDecoupler>("neuronmotif", &serde_json::json!({"motifs": 0}))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("motifs must be at least 1"), "{e}");
    }
}
