"""Fault injection over the whole pipeline: load, one fault per scenario, then a join of what arrived.

`python -m chaos` (or `make chaos`) runs every scenario and writes chaos/results/<scenario>.json and
chaos/results/SUMMARY.md. The promise checked: no PAID order is lost (each reaches Redis or the
dead-letter topic), and Kafka or Redis outages never fail a payment.
"""
