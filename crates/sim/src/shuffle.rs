//! Altschul & Erickson's dinucleotide shuffle (1985).
//!
//! The sequence is a walk over the multigraph whose edges are its
//! adjacent letter pairs. A random "last exit" edge is chosen for every
//! letter but the final one, kept only if those edges form a tree leading
//! to the final letter (else chosen again); the other exits of each letter
//! are shuffled and the walk from the first letter is replayed. The result
//! has exactly the input's dinucleotide counts, first and last letter, and
//! is uniform over all sequences that do.

use motif_core::rng::Rng;

/// A dinucleotide-preserving random permutation of `seq` (bytes are
/// letters as given: case and `N` are letters like any other).
#[must_use]
pub fn dinucleotide_shuffle(seq: &[u8], rng: &mut Rng) -> Vec<u8> {
    if seq.len() < 3 {
        return seq.to_vec();
    }
    let mut letters: Vec<u8> = seq.to_vec();
    letters.sort_unstable();
    letters.dedup();
    let v = |b: u8| letters.binary_search(&b).expect("letter of seq");
    let nv = letters.len();
    let mut exits: Vec<Vec<usize>> = vec![Vec::new(); nv];
    for w in seq.windows(2) {
        exits[v(w[0])].push(v(w[1]));
    }
    let end = v(seq[seq.len() - 1]);
    // Last exits forming a tree rooted at `end`.
    let last: Vec<Option<usize>> = loop {
        let pick: Vec<Option<usize>> = (0..nv)
            .map(|u| (u != end && !exits[u].is_empty()).then(|| rng.below(exits[u].len())))
            .collect();
        let reaches_end = (0..nv).all(|u| {
            let mut at = u;
            for _ in 0..nv {
                match pick[at] {
                    None => return true, // `end`, or a letter with no exits (never left)
                    Some(k) => at = exits[at][k],
                }
                if at == end {
                    return true;
                }
            }
            false
        });
        if reaches_end {
            break pick;
        }
    };
    for u in 0..nv {
        let tail = last[u].map(|k| exits[u].swap_remove(k));
        rng.shuffle(&mut exits[u]);
        if let Some(t) = tail {
            exits[u].push(t);
        }
    }
    let mut next = vec![0usize; nv];
    let mut at = v(seq[0]);
    let mut out = Vec::with_capacity(seq.len());
    out.push(seq[0]);
    for _ in 1..seq.len() {
        let to = exits[at][next[at]];
        next[at] += 1;
        out.push(letters[to]);
        at = to;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn pairs(s: &[u8]) -> HashMap<(u8, u8), usize> {
        let mut m = HashMap::new();
        for w in s.windows(2) {
            *m.entry((w[0], w[1])).or_default() += 1;
        }
        m
    }

    #[test]
    fn keeps_dinucleotides_and_changes_the_sequence() {
        let mut rng = Rng::new(1);
        let seq: Vec<u8> = (0..101).map(|_| b"ACGT"[rng.below(4)]).collect();
        for k in 0..20 {
            let s = dinucleotide_shuffle(&seq, &mut Rng::new(k));
            assert_eq!(pairs(&s), pairs(&seq));
            assert_eq!((s[0], s[100]), (seq[0], seq[100]));
            assert_ne!(s, seq);
        }
        let with_n = b"ACGTNNACGGTTAANCGA".to_vec();
        let s = dinucleotide_shuffle(&with_n, &mut rng);
        assert_eq!(pairs(&s), pairs(&with_n));
    }

    /// Every sequence with the same dinucleotide counts and ends is equally
    /// likely: brute-force the set, then compare frequencies.
    #[test]
    fn uniform_over_the_valid_sequences() {
        // All arrangements of the multiset with the same first letter.
        fn perms(
            rest: &mut Vec<u8>,
            cur: &mut Vec<u8>,
            out: &mut std::collections::HashSet<Vec<u8>>,
        ) {
            if rest.is_empty() {
                out.insert(cur.clone());
                return;
            }
            for i in 0..rest.len() {
                if i > 0 && rest[i] == rest[i - 1] {
                    continue;
                }
                let b = rest.remove(i);
                cur.push(b);
                perms(rest, cur, out);
                cur.pop();
                rest.insert(i, b);
            }
        }
        let seq = b"AACAGCATGA";
        let want = pairs(seq);
        let mut valid = std::collections::HashSet::new();
        let mut rest: Vec<u8> = seq[1..].to_vec();
        rest.sort_unstable();
        let mut all = std::collections::HashSet::new();
        perms(&mut rest, &mut vec![seq[0]], &mut all);
        for s in all {
            if pairs(&s) == want {
                valid.insert(s);
            }
        }
        assert!(valid.len() > 3, "{}", valid.len());
        let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut rng = Rng::new(42);
        let draws = 2000 * valid.len();
        for _ in 0..draws {
            *counts.entry(dinucleotide_shuffle(seq, &mut rng)).or_default() += 1;
        }
        assert_eq!(counts.len(), valid.len(), "every valid sequence appears, nothing else");
        for (s, &c) in &counts {
            assert!(valid.contains(s));
            // 2000 expected each; sd ≈ 44.
            assert!(c.abs_diff(2000) < 250, "{} drawn {c} times", String::from_utf8_lossy(s));
        }
    }
}
