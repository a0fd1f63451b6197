"""The offers module's label, split, evaluation, configuration and latency maths on small fixtures.

Standard library only: run with `PYTHONPATH=notebooks python3 -m unittest discover -s test/notebooks`
(test/notebooks/offers.test.ts runs it from mocha).
"""

import itertools
import unittest
from datetime import datetime, timedelta, timezone

import offers
from offers.config import env_name

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


class LabelTest(unittest.TestCase):
    def test_order_within_the_horizon_after_the_snapshot(self):
        self.assertEqual(offers.label_of(T0, h(0.5), 24), 1)
        self.assertEqual(offers.label_of(T0, h(24), 24), 1)  # the horizon's last instant counts

    def test_order_at_the_snapshot_or_later_than_the_horizon_is_not_a_purchase_to_come(self):
        self.assertEqual(offers.label_of(T0, T0, 24), 0)  # already in the features (orders)
        self.assertEqual(offers.label_of(T0, h(24) + timedelta(seconds=1), 24), 0)
        self.assertEqual(offers.label_of(T0, None, 24), 0)

    def test_hand_made_sessions(self):
        # Visitor A browses, adds to cart in the evening and buys the next morning; B only browses;
        # C buys two days later: with a 24-hour horizon only A is a buyer at the midnight snapshot.
        rows = [
            {"visitor": "A", "snapshot_at": T0, "next_order_at": h(9)},
            {"visitor": "B", "snapshot_at": T0, "next_order_at": None},
            {"visitor": "C", "snapshot_at": T0, "next_order_at": h(50)},
        ]
        self.assertEqual([r["label"] for r in offers.labelled(rows, 24)], [1, 0, 0])

    def test_censored_snapshots_are_dropped_not_labelled_zero(self):
        rows = [{"snapshot_at": h(0)}, {"snapshot_at": h(24)}, {"snapshot_at": h(48)}]
        kept = offers.labelled(rows, 24, observed_until=h(48))
        self.assertEqual([r["snapshot_at"] for r in kept], [h(0), h(24)])

    def test_the_purchase_event_is_the_views_order_event(self):
        self.assertEqual(offers.PURCHASE_EVENT, "Order Completed")


class SplitTest(unittest.TestCase):
    def rows(self):
        # One snapshot a day for 8 days, three visitors each.
        return [{"snapshot_at": h(24 * d), "visitor": v} for d in range(8) for v in "ABC"]

    def test_train_labels_close_before_the_test_period_begins(self):
        s = offers.time_split(self.rows(), test_fraction=0.25, horizon_hours=24)
        self.assertEqual(s.test_from, h(24 * 6))
        last_train = max(r["snapshot_at"] for r in s.train)
        first_test = min(r["snapshot_at"] for r in s.test)
        self.assertLessEqual(last_train + timedelta(hours=24), first_test)
        self.assertEqual(last_train, h(24 * 5))  # day 5's window (day 5, day 6] ends at the test start
        self.assertEqual(s.purged, 0)

    def test_longer_horizon_purges_the_snapshots_that_look_into_the_test_period(self):
        s = offers.time_split(self.rows(), test_fraction=0.25, horizon_hours=48)
        self.assertEqual(max(r["snapshot_at"] for r in s.train), h(24 * 4))
        self.assertEqual(s.purged, 3)  # day 5's three visitors
        self.assertEqual(len(s.train) + len(s.test) + s.purged, 24)

    def test_no_instant_in_both(self):
        s = offers.time_split(self.rows(), test_fraction=0.4, horizon_hours=12)
        self.assertFalse({r["snapshot_at"] for r in s.train} & {r["snapshot_at"] for r in s.test})

    def test_refuses_a_split_without_training_data(self):
        with self.assertRaises(ValueError):
            offers.time_split([{"snapshot_at": h(0)}, {"snapshot_at": h(1)}], 0.5, horizon_hours=24)


def pairwise_auc(labels, scores):
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


class EvaluationTest(unittest.TestCase):
    def test_auc_of_known_rankings(self):
        self.assertEqual(offers.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]), 1.0)
        self.assertEqual(offers.roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]), 0.0)
        self.assertEqual(offers.roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]), 0.5)
        # sklearn's roc_auc_score docstring example gives 0.75 for this one.
        self.assertAlmostEqual(offers.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75)

    def test_auc_equals_the_pairwise_definition_with_ties(self):
        labels = [0, 1, 1, 0, 1, 0, 0, 1, 0, 1]
        scores = [0.2, 0.9, 0.2, 0.5, 0.5, 0.1, 0.5, 0.7, 0.3, 0.2]
        self.assertAlmostEqual(offers.roc_auc(labels, scores), pairwise_auc(labels, scores))

    def test_average_precision(self):
        # sklearn's average_precision_score docstring example: 0.83...
        self.assertAlmostEqual(offers.average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.8333333333)
        self.assertEqual(offers.average_precision([1, 0, 0, 0], [0.9, 0.1, 0.1, 0.1]), 1.0)
        # A constant score ranks nothing: average precision is the base rate.
        self.assertAlmostEqual(offers.average_precision([1, 0, 0, 0], [0.5] * 4), 0.25)

    def test_calibration(self):
        labels = [0, 0, 0, 1, 1, 1, 1, 0]
        probs = [0.05, 0.05, 0.05, 0.05, 0.95, 0.95, 0.95, 0.95]
        table = offers.calibration_table(labels, probs, bins=10)
        self.assertEqual([(r["bin"], r["count"], r["observed_rate"]) for r in table], [("[0.0, 0.1)", 4, 0.25), ("[0.9, 1.0]", 4, 0.75)])
        self.assertAlmostEqual(offers.expected_calibration_error(labels, probs), 0.2)
        self.assertAlmostEqual(offers.brier_score([0, 1], [0.0, 1.0]), 0.0)
        self.assertAlmostEqual(offers.brier_score([0, 1], [0.5, 0.5]), 0.25)

    def test_report_against_the_base_rate_and_the_recency_baseline(self):
        rows = [
            {"recency_seconds": 60, "label": 1, "p": 0.8},
            {"recency_seconds": 120, "label": 0, "p": 0.1},
            {"recency_seconds": 3600, "label": 1, "p": 0.7},
            {"recency_seconds": 86400, "label": 0, "p": 0.2},
        ]
        labels = [r["label"] for r in rows]
        report = offers.evaluate(labels, [r["p"] for r in rows], offers.recency_baseline(rows))
        self.assertEqual(report["base_rate"], 0.5)
        self.assertEqual(report["roc_auc"], 1.0)
        self.assertEqual(report["baseline_roc_auc"], 0.75)
        self.assertAlmostEqual(report["pr_auc_lift"], 2.0)
        self.assertAlmostEqual(report["brier_base_rate"], 0.25)
        self.assertLess(report["brier"], report["brier_base_rate"])

    def test_probabilities_outside_0_1_are_clipped(self):
        # The served model is a regressor of the purchase probability: it may stray past 0 or 1.
        report = offers.evaluate([0, 1], [-0.2, 1.3], [0, 1])
        self.assertEqual(report["brier"], 0.0)


class ConfigTest(unittest.TestCase):
    VALUES = {
        "lakehouse-project": "p",
        "lakehouse-region": "europe-west1",
        "lakehouse-events-table": "p.clickstream_raw.events",
        "lakehouse-features-view": "p.clickstream_views.user_features",
        "lakehouse-feature-online-store": "store",
        "lakehouse-feature-view": "user_features",
        "lakehouse-endpoint-id": "1234567890",
        "lakehouse-notebooks-bucket": "bucket",
    }

    def test_metadata_first_then_environment(self):
        metadata = dict(self.VALUES)
        del metadata["lakehouse-region"]
        env = {"LAKEHOUSE_REGION": "europe-west1", "LAKEHOUSE_PROJECT": "ignored"}
        c = offers.read_config(fetch=metadata.get, environ=env)
        self.assertEqual(c.region, "europe-west1")
        self.assertEqual(c.project, "p")
        self.assertIsNone(c.pip_index_url)
        self.assertEqual(c.api_endpoint, "europe-west1-aiplatform.googleapis.com")
        self.assertEqual(
            c.feature_view_name,
            "projects/p/locations/europe-west1/featureOnlineStores/store/featureViews/user_features",
        )
        self.assertEqual(c.endpoint_name, "projects/p/locations/europe-west1/endpoints/1234567890")

    def test_missing_keys_are_all_named(self):
        with self.assertRaises(KeyError) as e:
            offers.read_config(fetch=lambda _k: None, environ={})
        self.assertIn("LAKEHOUSE_EVENTS_TABLE", str(e.exception))
        self.assertIn("LAKEHOUSE_ENDPOINT_ID", str(e.exception))

    def test_endpoint_id_must_be_numeric(self):
        bad = {**self.VALUES, "lakehouse-endpoint-id": "projects/p/endpoints/1"}
        with self.assertRaises(ValueError):
            offers.read_config(fetch=bad.get, environ={})

    def test_optional_keys_and_the_artifacts_prefix(self):
        c = offers.read_config(fetch=self.VALUES.get, environ={})
        self.assertIsNone(c.vertex_kms_key)
        self.assertEqual(c.artifacts_prefix, "gs://bucket/models/")
        key = "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/vertex"
        more = {**self.VALUES, "lakehouse-model-artifacts": "gs://other/models", "lakehouse-vertex-kms-key": key}
        c = offers.read_config(fetch=more.get, environ={})
        self.assertEqual(c.artifacts_prefix, "gs://other/models/")
        self.assertEqual(c.vertex_kms_key, key)
        self.assertEqual(offers.split_gcs_uri(c.artifacts_prefix), ("other", "models/"))
        with self.assertRaises(ValueError):
            offers.split_gcs_uri("s3://other/models/")

    def test_env_names(self):
        self.assertEqual(env_name("lakehouse-pip-index-url"), "LAKEHOUSE_PIP_INDEX_URL")


class ServingTest(unittest.TestCase):
    def test_instance_in_feature_order_with_recency_recomputed(self):
        now = h(2)
        served = {
            "feature_timestamp": T0.isoformat(),
            "recency_seconds": 5,
            "frequency_events": 12,
            "active_days": 3,
            "product_views": 7,
            "add_to_carts": 2,
            "orders": None,
            "monetary": 0,
            "last_categories": ["shoes"],
        }
        self.assertEqual(offers.instance_from(served, now=now), [7200.0, 12.0, 3.0, 7.0, 2.0, 0.0, 0.0])

    def test_recency_from_the_online_store_seconds_not_its_timestamp_int(self):
        # Online, TIMESTAMP features arrive as int64 of an unstated unit: only the seconds column is read.
        now = h(2)
        served = {
            "feature_timestamp": 1_700_000_000_000_000,
            "last_event_unix_seconds": int(T0.timestamp()),
            "recency_seconds": 5,
        }
        self.assertEqual(offers.last_event_at(served), T0)
        self.assertEqual(offers.instance_from(served, now=now)[0], 7200.0)
        # Without the seconds column, an int feature_timestamp is ignored: recency stays as synced.
        del served["last_event_unix_seconds"]
        self.assertIsNone(offers.last_event_at(served))
        self.assertEqual(offers.instance_from(served, now=now)[0], 5.0)
        # From BigQuery, feature_timestamp is a datetime.
        self.assertEqual(offers.last_event_at({"feature_timestamp": T0}), T0)
        self.assertIsNone(offers.last_event_at({"last_event_unix_seconds": True}))

    def test_serving_image_from_the_nearest_multi_region(self):
        self.assertEqual(
            offers.serving_image("europe-west1"), "europe-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-6:latest"
        )
        self.assertTrue(offers.serving_image("southamerica-east1").startswith("us-docker.pkg.dev/"))
        self.assertTrue(offers.serving_image("asia-southeast1").startswith("asia-docker.pkg.dev/"))
        # The container's scikit-learn minor version is the one the notebooks train with.
        self.assertIn("sklearn-cpu." + "-".join(offers.SKLEARN_VERSION.split(".")[:2]), offers.serving_image("us-east1"))

    def test_percentile_and_budget(self):
        samples = list(range(1, 101))  # 1..100 ms
        self.assertEqual(offers.percentile(samples, 95), 95)
        self.assertEqual(offers.percentile(samples, 50), 50)
        self.assertTrue(offers.within_budget(samples, budget_ms=100)["ok"])
        # The calls' share of the 100 ms path: 30 ms feature read + 50 ms predict.
        self.assertEqual(offers.CALLS_BUDGET_MS, 80)
        self.assertEqual(offers.FEATURE_READ_BUDGET_MS + offers.PREDICT_BUDGET_MS + 20, offers.LATENCY_BUDGET_MS)
        self.assertFalse(offers.within_budget(samples)["ok"])  # p95 95 ms > 80 ms
        self.assertTrue(offers.within_budget([79.0] * 20)["ok"])


if __name__ == "__main__":
    unittest.main()
