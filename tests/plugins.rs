use crate::util::*;

/// The plugins linked into the binary (crates/cli/plugins.rs); each plugin
/// issue adds its names here.
const EXPECTED: [&str; 25] = [
    "activation-alignment",
    "aligned-logos",
    "auc-curve",
    "continuous-jaccard",
    "contribution-track",
    "crm-logos",
    "cwm-logo",
    "deeplift-shap",
    "integrated-gradients",
    "ism",
    "kernel-pwm",
    "leiden",
    "line-chart",
    "logo",
    "modisco-seqlets",
    "neuronmotif",
    "positive-mean",
    "saliency",
    "score",
    "score-weight",
    "syntax-tree",
    "tomtom",
    "top-windows",
    "weight",
    "weight-trajectories",
];

#[test]
fn registered_list_is_what_plugins_rs_links() {
    let v: serde_json::Value = serde_json::from_str(&ok(&["plugins", "--json"])).unwrap();
    let names: Vec<&str> =
        v.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, EXPECTED);
}

#[test]
fn listing_names_every_kind() {
    let t = ok(&["plugins"]);
    for k in [
        "criterion",
        "extractor",
        "matcher",
        "decoupler",
        "figure",
        "attributor",
        "seqlet-caller",
        "affinity",
        "clustering",
    ] {
        assert!(t.contains(k), "{t}");
    }
    let t = ok(&["plugins", "--kind", "matcher"]);
    assert!(t.contains("tomtom"), "{t}");
    let t = ok(&["plugins", "--kind", "extractor"]);
    assert!(t.contains("activation-alignment") && !t.contains("tomtom"), "{t}");
    let t = ok(&["plugins", "--kind", "criterion"]);
    for c in ["weight", "score", "score-weight", "positive-mean"] {
        assert!(t.contains(c), "{t}");
    }
    assert!(!t.contains("tomtom"), "{t}");
    let t = ok(&["plugins", "--kind", "decoupler"]);
    assert!(t.contains("neuronmotif") && !t.contains("tomtom"), "{t}");
    let t = ok(&["plugins", "--kind", "attributor"]);
    for a in ["deeplift-shap", "ism", "saliency", "integrated-gradients"] {
        assert!(t.contains(a), "{t}");
    }
    assert!(!t.contains("tomtom"), "{t}");
    let t = ok(&["plugins", "show", "neuronmotif"]);
    assert!(t.contains("# neuronmotif") && t.contains("min-cluster"), "{t}");
    let t = ok(&["plugins", "show", "activation-alignment"]);
    assert!(t.contains("threshold") && t.contains("0.7"), "{t}");
}

/// Each plugin shows its own documentation, not its crate's.
#[test]
fn a_plugin_shows_its_own_docs() {
    let w = ok(&["plugins", "show", "weight"]);
    assert!(w.contains("# weight") && w.contains("|w_j|"), "{w}");
    assert!(!w.contains("positive-mean") && !w.contains("modep=1"), "{w}");
    let t = ok(&["plugins", "show", "top-windows"]);
    assert!(t.contains("# top-windows") && !t.contains("softmax"), "{t}");
}

#[test]
fn tomtom_docs_and_config() {
    let t = ok(&["plugins", "show", "tomtom"]);
    for k in ["min-overlap", "motif-pseudo", "incomplete-scores", "Benjamini"] {
        assert!(t.contains(k), "{t}");
    }
}

#[test]
fn unknown_plugin_and_kind_are_clear_errors() {
    let out = motiftool(&["plugins", "show", "tomtom2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no plugin named `tomtom2`"));
    let out = motiftool(&["plugins", "--kind", "matchers"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown plugin kind"));
}
