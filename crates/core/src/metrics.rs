//! Classification metrics: ROC AUC and PR AUC (average precision).

use crate::error::{Error, Result};

/// Area under the ROC curve of `scores` for binary `labels` (true = positive).
/// Ties count one half (the Mann–Whitney U statistic over average ranks).
///
/// # Errors
/// If lengths differ, a score is NaN, or one class is absent.
pub fn roc_auc(scores: &[f32], labels: &[bool]) -> Result<f64> {
    let order = checked_order(scores, labels)?;
    let n_pos = labels.iter().filter(|&&y| y).count() as f64;
    let n_neg = labels.len() as f64 - n_pos;
    // sum of (average) ranks of positives, ranks 1-based ascending
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += order[i..=j].iter().filter(|&&k| labels[k]).count() as f64 * avg;
        i = j + 1;
    }
    Ok((rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}

/// Area under the precision–recall curve as average precision:
/// Σ (`R_k` − R_{k−1}) `P_k` over distinct score thresholds, highest first
/// (scikit-learn's `average_precision_score`).
///
/// # Errors
/// As [`roc_auc`].
pub fn pr_auc(scores: &[f32], labels: &[bool]) -> Result<f64> {
    let mut order = checked_order(scores, labels)?;
    order.reverse();
    let n_pos = labels.iter().filter(|&&y| y).count() as f64;
    let (mut tp, mut fp, mut prev_recall, mut ap) = (0.0, 0.0, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            if labels[k] { tp += 1.0 } else { fp += 1.0 }
        }
        let recall = tp / n_pos;
        ap += (recall - prev_recall) * tp / (tp + fp);
        prev_recall = recall;
        i = j + 1;
    }
    Ok(ap)
}

fn checked_order(scores: &[f32], labels: &[bool]) -> Result<Vec<usize>> {
    if scores.len() != labels.len() {
        return Err(Error::Invalid(format!("{} scores but {} labels", scores.len(), labels.len())));
    }
    if scores.iter().any(|s| s.is_nan()) {
        return Err(Error::Invalid("a score is NaN".into()));
    }
    let pos = labels.iter().filter(|&&y| y).count();
    if pos == 0 || pos == labels.len() {
        return Err(Error::Invalid(format!(
            "AUC needs both classes; found {pos} positive and {} negative labels",
            labels.len() - pos
        )));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_auc() {
        // positives 0.9, 0.4; negatives 0.5, 0.1 → pairs won: (0.9>0.5, 0.9>0.1, 0.4>0.1) = 3/4
        let s = [0.9, 0.5, 0.4, 0.1];
        let y = [true, false, true, false];
        assert!((roc_auc(&s, &y).unwrap() - 0.75).abs() < 1e-12);
        // AP: thresholds 0.9 (P=1, R=.5), 0.5 (P=.5, R=.5), 0.4 (P=2/3, R=1): 0.5*1 + 0.5*2/3
        assert!((pr_auc(&s, &y).unwrap() - (0.5 + 1.0 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn ties_count_half() {
        let s = [0.5, 0.5];
        let y = [true, false];
        assert_eq!(roc_auc(&s, &y).unwrap(), 0.5);
        assert_eq!(pr_auc(&s, &y).unwrap(), 0.5);
    }

    #[test]
    fn one_class_is_an_error() {
        assert!(
            roc_auc(&[0.1, 0.2], &[true, true]).unwrap_err().to_string().contains("both classes")
        );
    }
}
