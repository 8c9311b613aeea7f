//! Dictionary and syntax on CRMs with two planted motifs at a known gap:
//! the dictionary must hold both, each must match its planted PWM, and the
//! syntax must report the planted gap (between the informative cores, and
//! between the database matches' aligned columns).

use motif_core::motif::{Motif, MotifSet};
use motif_core::plugin::{MatcherInput, MotifMatcher};
use motif_core::rng::Rng;
use motif_neuronmotif::Crm;
use motif_neuronmotif::dict::dictionary;
use motif_neuronmotif::tree::{Anchor, Node, lower_matches, occurrences, syntax};
use motif_tomtom::{Config, TomtomMatcher};

const A: &[u8] = b"CTTATCT";
const B: &[u8] = b"CACGTGAC";
const GAP: usize = 6;
const LEN: usize = 44;

fn col(base: u8, p: f64) -> [f64; 4] {
    let i = b"ACGT".iter().position(|&b| b == base).expect("ACGT");
    let mut c = [(1.0 - p) / 3.0; 4];
    c[i] = p;
    c
}

/// A CRM of `LEN` near-uniform columns with `A` at `a` and `B` at `b`.
fn crm(index: usize, a: Option<usize>, b: Option<usize>, rng: &mut Rng) -> Crm {
    let mut ppm: Vec<[f64; 4]> = (0..LEN)
        .map(|_| {
            let mut c = [0.0; 4];
            for v in &mut c {
                *v = 0.22 + 0.06 * rng.f64();
            }
            let s: f64 = c.iter().sum();
            c.map(|v| v / s)
        })
        .collect();
    for (m, at) in [(A, a), (B, b)] {
        if let Some(at) = at {
            for (j, &base) in m.iter().enumerate() {
                ppm[at + j] = col(base, 0.85);
            }
        }
    }
    Crm { index, path: vec![index], size: 2000, max_act: 5.0, conact: 4.8, ppm }
}

fn truth() -> MotifSet {
    let m = |id: &str, s: &[u8]| {
        let rows: Vec<[f64; 4]> = s.iter().map(|&b| col(b, 0.85)).collect();
        Motif::from_matrix(id.to_owned(), Crm::array(&rows)).expect("motif")
    };
    MotifSet {
        motifs: vec![m("A", A), m("B", B)],
        background: [0.25; 4],
        has_background: true,
        warnings: vec![],
    }
}

fn norc() -> TomtomMatcher {
    TomtomMatcher::new(Config { norc: true, thresh: 1.0, ..Config::default() }).expect("config")
}

#[test]
fn planted_pair_gives_both_motifs_and_the_gap() {
    let mut rng = Rng::new(7);
    // Ten CRMs hold A then B at the planted gap, shifted by 0–4 bp (the
    // pooling shifts); two hold A alone and two B alone.
    let mut crms = Vec::new();
    for i in 0..10 {
        let a = 6 + (i % 5) * 2;
        crms.push(crm(i, Some(a), Some(a + A.len() + GAP), &mut rng));
    }
    crms.push(crm(10, Some(12), None, &mut rng));
    crms.push(crm(11, Some(20), None, &mut rng));
    crms.push(crm(12, None, Some(9), &mut rng));
    crms.push(crm(13, None, Some(25), &mut rng));
    let m = norc();
    let dict = dictionary(&crms, &m).expect("dictionary");
    assert!(dict.entries.len() >= 2, "{:?}", dict.entries);
    // Each planted motif is a dictionary motif (forward strand, E < 0.05).
    let t = truth();
    let dm = dict.motifs();
    let hits = m.compare(MatcherInput { queries: &dm, targets: &t }).expect("matcher");
    let best = |target: usize| {
        hits.iter()
            .filter(|x| x.target_index == target && x.e_value < 0.05)
            .min_by(|a, b| a.e_value.total_cmp(&b.e_value))
            .cloned()
    };
    let (ha, hb) = (best(0).expect("A in the dictionary"), best(1).expect("B in the dictionary"));
    assert_ne!(ha.query_index, hb.query_index);
    // The syntax: A before B in one group, at the planted gap.
    let syn = syntax(&crms, &dict, &m).expect("syntax");
    let g = syn
        .groups
        .iter()
        .find(|g| g.motifs.windows(2).any(|w| w == [ha.query_index, hb.query_index]))
        .unwrap_or_else(|| panic!("no A→B group: {:?}", syn.groups));
    assert!(g.crms.len() >= 10, "{:?}", g.crms);
    let p = g
        .pairs
        .iter()
        .find(|p| p.left == ha.query_index && p.right == hb.query_index)
        .expect("A→B pair");
    assert_eq!((p.core_gap_min, p.core_gap_max), (GAP as i64, GAP as i64), "{p:?}");
    let anchored =
        p.gap_between(Anchor::of_match(ha.offset, A.len()), Anchor::of_match(hb.offset, B.len()));
    assert_eq!(anchored, (GAP as i64, GAP as i64), "{p:?} {ha:?} {hb:?}");

    // "Occurs in layer": a lower neuron holding only A, one holding both.
    let only_a = [crm(0, Some(3), None, &mut rng)];
    let both = [crm(0, Some(2), Some(2 + A.len() + GAP), &mut rng)];
    let seg = |c: &[Crm]| motif_neuronmotif::segment::dictionary_segments(&c[0]).0;
    let (sa, sb) = (seg(&only_a), seg(&both));
    let sets =
        lower_matches(&[(&sa[..], &only_a[..]), (&sb[..], &both[..])], &dict, &m).expect("lower");
    assert!(sets[0].contains(&ha.query_index) && !sets[0].contains(&hb.query_index), "{sets:?}");
    assert!(sets[1].contains(&ha.query_index) && sets[1].contains(&hb.query_index), "{sets:?}");
    let lower = vec![(1, 4, sets[1].clone()), (0, 2, sets[0].clone())];
    let occ = occurrences(&g.tree, &lower);
    let root = g.tree.motifs();
    let find = |ms: &[usize]| occ.iter().find(|o| o.motifs == ms).map(|o| (o.layer, o.neuron));
    if root == [ha.query_index, hb.query_index] {
        assert_eq!(find(&root), Some((1, 4)));
    }
    assert_eq!(find(&[ha.query_index]), Some((0, 2)));
    assert!(matches!(g.tree, Node::Join { .. }));
}
