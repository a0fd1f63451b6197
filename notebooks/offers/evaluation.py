"""Honest evaluation of a propensity score, with the standard library only.

- ROC AUC: the probability that a random buyer is ranked above a random non-buyer (ties count half),
  the Mann-Whitney U statistic divided by n_pos * n_neg.
- PR AUC as average precision (sklearn's definition: sum over thresholds of (R_n - R_{n-1}) * P_n),
  to be read against the base rate, which is what a random ranking scores.
- Brier score and a reliability table (observed rate per bin of predicted probability) with the
  expected calibration error: offers are priced on the probability itself, not only on the ranking.
- A naive baseline to beat: recency (the more recently active, the likelier to buy).
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Sequence


def _check(labels: Sequence[int], scores: Sequence[float]) -> None:
    if len(labels) != len(scores):
        raise ValueError("labels and scores differ in length")
    if any(y not in (0, 1) for y in labels):
        raise ValueError("labels must be 0 or 1")


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve via average ranks (ties share their mean rank)."""
    _check(labels, scores)
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC AUC needs both classes")
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        mean_rank = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = mean_rank
        i = j + 1
    rank_sum = sum(r for r, y in zip(ranks, labels) if y == 1)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def average_precision(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Average precision over the distinct score thresholds, highest first."""
    _check(labels, scores)
    n_pos = sum(labels)
    if n_pos == 0:
        raise ValueError("average precision needs at least one positive")
    pairs = sorted(zip(scores, labels), key=lambda p: -p[0])
    ap = 0.0
    tp = fp = 0
    prev_recall = 0.0
    i = 0
    while i < len(pairs):
        threshold = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == threshold:
            tp += pairs[i][1]
            fp += 1 - pairs[i][1]
            i += 1
        recall = tp / n_pos
        ap += (recall - prev_recall) * (tp / (tp + fp))
        prev_recall = recall
    return ap


def brier_score(labels: Sequence[int], probabilities: Sequence[float]) -> float:
    _check(labels, probabilities)
    return sum((p - y) ** 2 for y, p in zip(labels, probabilities)) / len(labels)


def calibration_table(labels: Sequence[int], probabilities: Sequence[float], bins: int = 10) -> List[Dict]:
    """Equal-width bins of predicted probability: count, mean predicted, observed rate (empty bins left out)."""
    _check(labels, probabilities)
    acc: Dict[int, List[float]] = {}
    for y, p in zip(labels, probabilities):
        b = min(bins - 1, max(0, int(p * bins)))
        s = acc.setdefault(b, [0, 0.0, 0])
        s[0] += 1
        s[1] += p
        s[2] += y
    return [
        {
            "bin": f"[{b / bins:.1f}, {(b + 1) / bins:.1f}{']' if b == bins - 1 else ')'}",
            "count": n,
            "mean_predicted": sp / n,
            "observed_rate": sy / n,
        }
        for b, (n, sp, sy) in sorted(acc.items())
    ]


def expected_calibration_error(labels: Sequence[int], probabilities: Sequence[float], bins: int = 10) -> float:
    """Count-weighted mean |observed - predicted| over the calibration bins."""
    table = calibration_table(labels, probabilities, bins)
    total = sum(r["count"] for r in table)
    return sum(r["count"] * abs(r["observed_rate"] - r["mean_predicted"]) for r in table) / total


def recency_baseline(rows: Sequence[Mapping]) -> List[float]:
    """Naive score: minus the seconds since the visitor's last event (a ranking, not a probability)."""
    return [-float(r["recency_seconds"]) for r in rows]


def evaluate(labels: Sequence[int], probabilities: Sequence[float], baseline: Sequence[float]) -> Dict:
    """The report the training notebook prints and gates deployment on."""
    base_rate = sum(labels) / len(labels)
    clipped = [min(1.0, max(0.0, p)) for p in probabilities]
    return {
        "n": len(labels),
        "positives": sum(labels),
        "base_rate": base_rate,
        "roc_auc": roc_auc(labels, clipped),
        "pr_auc": average_precision(labels, clipped),
        # A random ranking's expected average precision is the base rate: the "lift" reads against it.
        "pr_auc_lift": average_precision(labels, clipped) / base_rate,
        "brier": brier_score(labels, clipped),
        # Always predicting the base rate scores base_rate * (1 - base_rate): the model must beat it.
        "brier_base_rate": base_rate * (1 - base_rate),
        "ece": expected_calibration_error(labels, clipped),
        "baseline_roc_auc": roc_auc(labels, baseline),
        "baseline_pr_auc": average_precision(labels, baseline),
    }
