"""Compares two metrics.jsonl files of bism-run train line by line.

    compare_metrics.py A B RTOL

Both must hold the same steps with the same metrics; every number must agree
to RTOL relative to the larger magnitude of the pair. Prints the largest
relative difference and exits 1 (naming the first offending line and
metric) when a pair is further apart.
"""
import json
import sys


def main():
    path_a, path_b, rtol = sys.argv[1], sys.argv[2], float(sys.argv[3])
    lines_a = [json.loads(line) for line in open(path_a)]
    lines_b = [json.loads(line) for line in open(path_b)]
    if [l["step"] for l in lines_a] != [l["step"] for l in lines_b]:
        sys.exit(f"different steps: {[l['step'] for l in lines_a]} vs "
                 f"{[l['step'] for l in lines_b]}")
    worst = 0.0
    for a, b in zip(lines_a, lines_b):
        if a.keys() != b.keys():
            sys.exit(f"step {a['step']}: metrics {sorted(a)} vs {sorted(b)}")
        for name, x in a.items():
            y = b[name]
            scale = max(abs(x), abs(y))
            difference = abs(x - y) / scale if scale > 0 else 0.0
            worst = max(worst, difference)
            if difference > rtol:
                sys.exit(f"step {a['step']}: {name} {x} vs {y} "
                         f"(relative difference {difference:.3g} > {rtol})")
    print(f"{len(lines_a)} lines agree; largest relative difference "
          f"{worst:.3g} (tolerance {rtol})")


main()
