"""Prometheus metrics of the automation service (served with the shared ones on its ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DECISIONS = Counter("helpdesk_automation_decisions_total", "Routing decisions, by outcome (assigned, queued)",
                    ["outcome"])
DECISION_SECONDS = Histogram(
    "helpdesk_automation_decision_seconds", "Time to pick an agent (reading loads and candidates, not the assign RPC)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
)
RULE_RUNS = Counter("helpdesk_automation_rule_runs_total",
                    "Rules that matched a ticket, by outcome (applied, unchanged, gone, loop_protected)", ["outcome"])
TIME_SCAN_SECONDS = Histogram(
    "helpdesk_automation_time_rules_scan_seconds", "One scan of the time rules over the open tickets",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30),
)
