#!/usr/bin/env python3
"""The table of bench/gateway/run: one row per setup and connection count, the median over the
rounds of each figure (req/s with its range when there are several rounds), then the ratios the
issue's targets are stated in, from those medians.

Input: the run's results file, one tab-separated line per wrk run:
label, connections, req/s, p50, p99, non-2xx, server CPU, req per server CPU-s, core 0 busy,
core 1 busy, socket errors."""
import statistics
import sys


def number(text):
    try:
        return float(text.rstrip("%"))
    except ValueError:
        return None


def median_of(rows, i, suffix=""):
    values = [number(r[i]) for r in rows]
    values = [v for v in values if v is not None]
    if not values:
        return rows[0][i]
    m = statistics.median(values)
    return f"{m:.0f}{suffix}"


def main(path, rounds):
    runs = {}
    order = []
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 11:
                continue
            key = (fields[0], fields[1])
            if key not in runs:
                runs[key] = []
                order.append(key)
            runs[key].append(fields)

    several = rounds > 1
    print(f"| setup | connections | req/s{' (median, range)' if several else ''} | p50 | p99 | "
          "non-2xx | server CPU | req per server CPU-s | core 0 busy | core 1 busy |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    medians = {}
    for key in order:
        rows = runs[key]
        rps = sorted((number(r[2]) or 0.0, r) for r in rows)
        mid = rps[(len(rps) - 1) // 2][1]  # the median run (lower middle): its latencies
        med = statistics.median(v for v, _ in rps)
        medians[key] = med
        cell = f"{med:.0f}"
        if several:
            cell += f" ({rps[0][0]:.0f}–{rps[-1][0]:.0f})"
        bad = sum(int(number(r[5]) or 0) for r in rows)
        print(f"| {key[0]} | {key[1]} | {cell} | {mid[3]} | {mid[4]} | {bad} | "
              f"{median_of(rows, 6, '%')} | {median_of(rows, 7)} | {median_of(rows, 8, '%')} | "
              f"{median_of(rows, 9, '%')} |")
        errors = {r[10] for r in rows if r[10] not in ("", "none")}
        for e in sorted(errors):
            print(f"|   | {key[1]} | socket errors: {e} | | | | | | | |")

    def find(prefix, conns):
        for (label, c), v in medians.items():
            if label.startswith(prefix) and c == conns:
                return v
        return None

    conns = []
    for _, c in order:
        if c not in conns:
            conns.append(c)
    lines = []
    for name, num, den, target in (("(a)/(c)", "(a) ", "(c) ", "0.9"),
                                   ("(a)/(b)", "(a) ", "(b) ", "10")):
        cells = []
        for c in conns:
            a, b = find(num, c), find(den, c)
            cells.append(f"{a / b:.2f}" if a and b else "-")
        if any(x != "-" for x in cells):
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {target} |")
    if lines:
        print()
        print("| ratio (medians) | " + " | ".join(f"{c} conn." for c in conns) + " | target |")
        print("| --- | " + " | ".join("---" for _ in conns) + " | --- |")
        print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
