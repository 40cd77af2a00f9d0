"""`python -m chaos [--quick] [SCENARIO...]`: run the scenarios, write results and SUMMARY.md."""
import json
import os
import sys

import click

from chaos import report
from chaos.runner import QUICK, LoadPlan, run_scenario
from chaos.scenarios import ALL, BY_NAME, CLUSTER


@click.command()
@click.argument("names", nargs=-1)
@click.option("--quick", is_flag=True, help="20 payments/s, faults scaled to 30%: a few minutes in all.")
@click.option("--rate", type=float, default=None, help="Payments per second (default 100; quick 20).")
def main(names: tuple[str, ...], quick: bool, rate: float | None) -> None:
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise click.BadParameter(f"unknown scenario(s) {unknown}; known: {list(BY_NAME)}")
    plan = QUICK if quick else LoadPlan()
    if rate:
        plan = LoadPlan(**{**plan.__dict__, "rate": rate})
    nodes = int(os.environ.get("STACK_KAFKA_NODES", "1"))
    chosen = [BY_NAME[name] for name in names] or (CLUSTER if nodes == 3 else ALL)
    wrong = {s.name: s.kafka_nodes for s in chosen if s.kafka_nodes != nodes}
    if wrong:
        raise click.BadParameter(f"these need another STACK_KAFKA_NODES (this stack runs {nodes}): {wrong}")
    results = []
    directory = report.QUICK_RESULTS if quick else report.RESULTS
    for scenario in chosen:
        click.echo(f"== {scenario.name}: {scenario.description}")
        result = run_scenario(scenario, plan)
        report.write_result(result, directory)
        results.append(result)
        click.echo(json.dumps({k: result[k] for k in report.HEADLINE}, default=str))
    summary = report.write_summary(directory)
    click.echo(f"summary: {summary}")
    sys.exit(0 if all(r["lost"] == 0 and r["accepted_not_paid"] == 0 for r in results) else 1)


if __name__ == "__main__":
    main()
