"""The NoSQL extraction's pure helpers (functions/nosql-extract/extract_core.py), in python3.

Run by test/sources/nosql/extract-core.test.ts (mocha), or alone:
  python3 -m unittest discover -s test/sources/nosql -p 'test_*.py'
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "functions", "nosql-extract"))

import extract_core as core  # noqa: E402

S = 1_000_000  # microseconds per second


class StateTest(unittest.TestCase):
    def test_absent_state_is_a_first_run_that_reconciles(self):
        for text in (None, "", "  "):
            st = core.parse_state(text)
            self.assertEqual(st["watermark"], None)
            self.assertEqual(core.plan_run(st, 1000, 600, 24), {"reconcile": True, "lower": None})

    def test_state_round_trips_and_refuses_other_versions(self):
        st = core.advance(core.initial_state(), 5 * S, True, 100)
        self.assertEqual(core.parse_state(core.dump_state(st)), st)
        with self.assertRaises(ValueError):
            core.parse_state(json.dumps({"version": 2, "watermark": 1}))
        with self.assertRaises(ValueError):
            core.parse_state(json.dumps({"version": 1, "watermark": "12"}))
        with self.assertRaises(ValueError):
            core.parse_state(json.dumps({"version": 1, "watermark": True}))

    def test_incremental_window_reads_the_overlap_below_the_watermark(self):
        st = core.advance(core.initial_state(), 10_000 * S, True, 1_000)
        plan = core.plan_run(st, 1_000 + 3600, 600, 24)
        self.assertEqual(plan, {"reconcile": False, "lower": (10_000 - 600) * S})

    def test_reconcile_is_due_after_the_interval(self):
        st = core.advance(core.initial_state(), 10 * S, True, 1_000)
        self.assertFalse(core.plan_run(st, 1_000 + 24 * 3600 - 1, 0, 24)["reconcile"])
        self.assertTrue(core.plan_run(st, 1_000 + 24 * 3600, 0, 24)["reconcile"])
        self.assertTrue(core.plan_run(st, 1_000 + 7200, 0, 2)["reconcile"])

    def test_watermark_never_moves_back_and_an_empty_batch_keeps_it(self):
        st = core.advance(core.initial_state(), 50 * S, True, 10)
        st = core.advance(st, 40 * S, False, 20)  # a late, older batch
        self.assertEqual(st["watermark"], 50 * S)
        st = core.advance(st, None, False, 30)  # nothing new
        self.assertEqual(st["watermark"], 50 * S)
        self.assertEqual(st["lastReconcileAt"], 10)
        self.assertEqual(st["runs"], 3)
        st = core.advance(st, 60 * S, True, 40)
        self.assertEqual((st["watermark"], st["lastReconcileAt"]), (60 * S, 40))

    def test_crash_before_the_state_write_replays_the_same_window(self):
        # The job writes the state only after the MERGE committed: a crash in between leaves the old state,
        # so the next run plans exactly the same window (and the MERGE makes the re-read a no-op).
        st = core.advance(core.initial_state(), 100 * S, True, 1_000)
        first = core.plan_run(st, 2_000, 60, 24)
        # ... MERGE committed, crash: `advance` never ran, the stored state is unchanged ...
        again = core.plan_run(core.parse_state(core.dump_state(st)), 2_000, 60, 24)
        self.assertEqual(first, again)

    def test_watermark_age(self):
        self.assertIsNone(core.watermark_age_s(core.initial_state(), 10))
        st = core.advance(core.initial_state(), 100 * S, True, 0)
        self.assertEqual(core.watermark_age_s(st, 160), 60.0)

    def test_negative_overlap_is_refused(self):
        with self.assertRaises(ValueError):
            core.plan_run(core.advance(core.initial_state(), 1, True, 0), 1, -1, 24)


class MergeSqlTest(unittest.TestCase):
    def test_spark_and_duckdb_differ_only_in_quoting(self):
        spark = core.merge_sql("spark", "glue_catalog.db.t", ["id"], ["id", "v"], True)
        duck = core.merge_sql("duckdb", "glue_catalog.db.t", ["id"], ["id", "v"], True)
        self.assertEqual(spark.replace("`", '"'), duck)
        self.assertIn("MERGE INTO `glue_catalog`.`db`.`t` AS t", spark)
        self.assertIn("WHEN MATCHED AND s.`_source_version` > t.`_source_version`", spark)
        self.assertTrue(spark.endswith("WHEN NOT MATCHED BY SOURCE THEN DELETE"))

    def test_incremental_never_deletes(self):
        sql = core.merge_sql("spark", "t", ["a", "b"], ["a", "b", "v"], False)
        self.assertNotIn("DELETE", sql)
        self.assertIn("ON t.`a` = s.`a` AND t.`b` = s.`b`", sql)
        self.assertIn("PARTITION BY `a`, `b`", sql)
        self.assertNotIn("`a` = s.`a`,", sql.split("UPDATE SET")[1])  # keys are not updated

    def test_bad_names_and_keys_are_refused(self):
        with self.assertRaises(ValueError):
            core.merge_sql("spark", "t", ["id"], ["id", "v; DROP TABLE x"], False)
        with self.assertRaises(ValueError):
            core.merge_sql("spark", "t", [], ["v"], False)
        with self.assertRaises(ValueError):
            core.merge_sql("spark", "t", ["k"], ["v"], False)
        with self.assertRaises(ValueError):
            core.merge_sql("oracle", "t", ["k"], ["k"], False)


class CassandraTest(unittest.TestCase):
    def test_select_reads_writetime_of_regular_columns_only(self):
        sql = core.cassandra_select_sql("cassandra", "sessions", "carts", ["cart_id"], ["cart_id", "items", "ts"])
        self.assertEqual(
            sql,
            "SELECT `cart_id`, `items`, `ts`, writetime(`items`) AS `__wt_items`, writetime(`ts`) AS `__wt_ts` "
            "FROM `cassandra`.`sessions`.`carts`",
        )

    def test_a_table_of_keys_only_has_no_version(self):
        with self.assertRaises(ValueError):
            core.cassandra_select_sql("cassandra", "ks", "t", ["a", "b"], ["a", "b"])

    def test_identifiers_are_checked(self):
        with self.assertRaises(ValueError):
            core.cassandra_select_sql("cassandra", "ks`; x", "t", ["a"], ["a", "b"])

    def test_version_is_the_latest_write_and_zero_without_any(self):
        self.assertEqual(core.row_version([5, None, 9, 7]), 9)
        self.assertEqual(core.row_version([None, None]), 0)
        self.assertEqual(core.cassandra_version_expr(["k"], ["k", "a"]), "coalesce(`__wt_a`, 0)")
        self.assertEqual(
            core.cassandra_version_expr(["k"], ["k", "a", "b"]), "coalesce(greatest(`__wt_a`, `__wt_b`), 0)"
        )

    def test_version_filter(self):
        self.assertIsNone(core.cassandra_version_filter(None))
        self.assertEqual(core.cassandra_version_filter(123), "`_source_version` > 123")


class ElasticsearchTest(unittest.TestCase):
    def test_full_read_matches_all(self):
        self.assertEqual(core.es_query("updated_at", None), {"query": {"match_all": {}}})

    def test_incremental_read_is_a_range_in_epoch_millis_rounded_down(self):
        q = core.es_query("updated_at", 1_700_000_000_123_999)
        self.assertEqual(q, {"query": {"range": {"updated_at": {"gte": 1_700_000_000_123, "format": "epoch_millis"}}}})

    def test_connector_options(self):
        o = core.es_read_options("products", "meta.modified", 2_000)
        self.assertEqual(o["opensearch.resource"], "products")
        self.assertEqual(o["opensearch.read.metadata"], "true")
        self.assertEqual(json.loads(o["opensearch.query"])["query"]["range"]["meta.modified"]["gte"], 2)
        for bad in ("a,b", "logs-*", "", "a b"):
            with self.assertRaises(ValueError):
                core.es_read_options(bad, "ts", None)

    def test_cursor_values_in_every_shape_elasticsearch_returns(self):
        self.assertEqual(core.es_cursor_micros(1_700_000_000_123), 1_700_000_000_123_000)
        self.assertEqual(core.es_cursor_micros("1700000000123"), 1_700_000_000_123_000)
        self.assertEqual(core.es_cursor_micros("2023-11-14T22:13:20.123Z"), 1_700_000_000_123_000)
        self.assertEqual(core.es_cursor_micros("2023-11-14T19:13:20.123456-03:00"), 1_700_000_000_123_456)
        self.assertEqual(core.es_cursor_micros("2023-11-14"), 1_699_920_000_000_000)
        self.assertEqual(core.es_cursor_micros(None), 0)
        with self.assertRaises(ValueError):
            core.es_cursor_micros("yesterday")

    def test_document_row(self):
        row = core.es_document_row(
            "p-1",
            {"sku": "A1", "pricing": {"amount": 9.5}, "updated_at": "2023-11-14T22:13:20Z"},
            [{"name": "sku"}, {"name": "price", "field": "pricing.amount"}, {"name": "title"}],
            "updated_at",
        )
        self.assertEqual(
            row,
            {"doc_id": "p-1", "sku": "A1", "price": 9.5, "title": None, "_source_version": 1_700_000_000_000_000},
        )
        with self.assertRaises(ValueError):
            core.es_document_row("", {}, [], "updated_at")

    def test_a_query_resumed_after_a_crash_reads_what_the_crashed_run_read(self):
        st = core.advance(core.initial_state(), 1_700_000_000_000_000, True, 1_700_000_000)
        plan = core.plan_run(st, 1_700_000_100, 300, 24)
        before = core.es_read_options("products", "updated_at", plan["lower"])
        # crash after the MERGE: the state was not written; the restarted run asks the same query
        plan2 = core.plan_run(core.parse_state(core.dump_state(st)), 1_700_000_100, 300, 24)
        self.assertEqual(core.es_read_options("products", "updated_at", plan2["lower"]), before)
        self.assertEqual(json.loads(before["opensearch.query"])["query"]["range"]["updated_at"]["gte"], 1_699_999_700_000)


class ReconcileGuardTest(unittest.TestCase):
    def test_guard(self):
        self.assertIsNone(core.reconcile_refusal(0, 0, 0))
        self.assertIsNone(core.reconcile_refusal(90, 100, 10))
        self.assertIsNone(core.reconcile_refusal(50, 100, 50))
        self.assertIn("no row", core.reconcile_refusal(0, 100, 100))
        self.assertIn("51 of 100", core.reconcile_refusal(49, 100, 51))

    def test_batch_keys(self):
        self.assertEqual(core.check_batch_keys([{"k": 1}, {"k": None}, {}], ["k"]), ["2 row(s) without key column k"])
        self.assertEqual(core.table_names("sessions-br", "Carts"), "sessions_br_carts")


if __name__ == "__main__":
    unittest.main()
