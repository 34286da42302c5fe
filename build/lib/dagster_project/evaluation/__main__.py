"""`python -m dagster_project.evaluation` (or `python3 tasks.py eval`): print every score
next to its target and the committed floor (eval/floors.json); exit 1 if any score is
below its floor."""

import argparse
import json
import sys
from pathlib import Path

from dagster_project.evaluation.report import collect_scores, FLOORS_PATH, TARGETS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--benchmarks", type=Path, default=None,
                        help="folder with terror_incidents_wiki.csv and ucdp_ged_pakistan_headlines.csv "
                             "(default: $BENCHMARKS_DIR, else ../shared/benchmarks next to the repo)")
    parser.add_argument("--json", type=Path, help="also write the scores here")
    args = parser.parse_args()
    scores, notes = collect_scores(args.benchmarks)
    floors = json.loads(FLOORS_PATH.read_text())
    below = []
    print(f"{'metric':45s} {'score':>7s} {'target':>7s} {'floor':>7s}")
    print("-" * 70)
    for name, value in scores.items():
        target, floor = TARGETS.get(name), floors.get(name)
        flag = ""
        if floor is not None and value < floor:
            flag = "  BELOW FLOOR"
            below.append(name)
        elif target is not None:
            flag = "  meets target" if value >= target else "  below target"
        print(f"{name:45s} {value:7.3f} {target if target is not None else '':>7} "
              f"{floor if floor is not None else '':>7}{flag}")
    for note in notes:
        print(note)
    if args.json:
        args.json.write_text(json.dumps(scores, indent=2))
    if below:
        print(f"\n{len(below)} score(s) below the committed floor: {below}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
