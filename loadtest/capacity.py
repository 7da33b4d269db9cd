#!/usr/bin/env python3
"""How far one PostgreSQL primary carries the nation: the README's capacity
table, computed from a `loadtest bench` report (bench.jsonl).

    python3 loadtest/capacity.py loadtest/out/bench/bench.jsonl

Every per-issuance figure comes from the bench's ordered runs (medians over
its rounds): CPU milliseconds of kofu and of PostgreSQL, transactions and
WAL bytes, and the database ceiling pgbench measured on the same cluster.
The national load comes from the options below (their defaults are the
published FY2023 figure and stated assumptions about its peaks); the
script multiplies one by the other and names what runs out first.
Nothing but the standard library.
"""

import argparse
import json
import statistics
import sys


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def read_bench(path):
    lines = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                record = json.loads(line)
                lines[record["bench"]] = record
    for needed in ("issuance_ordered", "database_ceiling", "render_ceiling"):
        if needed not in lines:
            sys.exit(f"{path}: no '{needed}' line; is it a `loadtest bench` report?")
    return lines


def measured(bench):
    ordered = bench["issuance_ordered"]
    cpu = ordered.get("cpu_ms_per_issuance") or []
    database = [d for d in ordered.get("database") or [] if d]
    return {
        "throughput_per_s": ordered["throughput_per_s_median"],
        "instances": ordered["instances"],
        "kofu_cpu_ms": median([c.get("kofu") for c in cpu]),
        "postgres_cpu_ms": median([c.get("postgres") for c in cpu]),
        "transactions": median([d.get("transactions_per_issuance") for d in database]),
        "wal_bytes": median([d.get("wal_bytes_per_issuance") for d in database]),
        "connections": median([d.get("connections") for d in database]),
        "db_pool_size": ordered.get("db_pool_size"),
        "pgbench_tps": bench["database_ceiling"]["pgbench_insert_tps"],
        "db_ceiling_per_s": bench["database_ceiling"]["issuances_per_s"],
        "renders_per_s": bench["render_ceiling"]["renders_per_s"],
    }


def national(args):
    """Issuances per second: the year's mean over service hours, the
    fiscal-year-end peak hour, and every store busy at once."""
    service_seconds = 365 * args.service_hours * 3600
    mean = args.copies_per_year / args.copies_per_issuance / service_seconds
    peak = mean * args.peak_month * args.peak_day * args.peak_hour
    every_store = args.stores / args.seconds_per_customer
    return mean, peak, every_store


def rows(m, args):
    mean, peak, every_store = national(args)
    loads = [("year's mean", mean), ("fiscal-year-end peak hour", peak),
             ("every store at once", every_store)]
    pg_cores = args.db_cores
    gw_cores = args.gateway_cores
    limits = {
        # One primary: its CPU (kofu's share of PostgreSQL's work, per
        # issuance, on as many cores as the primary has), the commit rate
        # pgbench reached here scaled by cores (optimistic: commits wait
        # for the disk and the standby, not only for processors), the WAL
        # its standby must receive, and its connection slots.
        "PostgreSQL CPU": pg_cores * 1000.0 / m["postgres_cpu_ms"],
        f"commits (pgbench here, x{pg_cores / args.bench_cores:.0f} cores)":
            m["db_ceiling_per_s"] * pg_cores / args.bench_cores,
        "WAL to the standby": args.wal_mb_per_s * 1e6 / m["wal_bytes"],
        f"connections ({args.max_connections:.0f} slots, pools of {args.pool_size:.0f})":
            (args.max_connections // args.pool_size) * gw_cores * 1000.0 / m["kofu_cpu_ms"]
            * args.headroom,
    }
    gateway_per_core = 1000.0 / m["kofu_cpu_ms"]
    out = []
    out.append(("kofu CPU per issuance", f"{m['kofu_cpu_ms']:.1f} ms",
                *[f"{load * m['kofu_cpu_ms'] / 1000:.2f} cores" for _, load in loads]))
    out.append(("PostgreSQL CPU per issuance", f"{m['postgres_cpu_ms']:.1f} ms",
                *[f"{load * m['postgres_cpu_ms'] / 1000:.2f} cores" for _, load in loads]))
    out.append(("transactions per issuance", f"{m['transactions']:.1f}",
                *[f"{load * m['transactions']:,.0f}/s" for _, load in loads]))
    out.append(("WAL per issuance", f"{m['wal_bytes'] / 1000:.1f} kB",
                *[f"{load * m['wal_bytes'] / 1e6:.2f} MB/s" for _, load in loads]))
    gateways = [max(1, -(-load // (gateway_per_core * gw_cores * args.headroom)))
                for _, load in loads]
    out.append((f"gateway processes ({gw_cores} cores, {args.headroom:.0%} busy)",
                f"{gateway_per_core * gw_cores:.0f}/s each",
                *[f"{g:.0f}" for g in gateways]))
    pool = args.pool_size
    out.append((f"connections (pool of {pool} each)", f"{m['connections']:.0f} in the bench",
                *[f"{g * pool:.0f}" for g in gateways]))
    return loads, limits, out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("bench", help="a `loadtest bench` report (bench.jsonl)")
    p.add_argument("--copies-per-year", type=float, default=31.9e6,
                   help="certificates issued at stores in a year (FY2023: 31.9 M)")
    p.add_argument("--copies-per-issuance", type=float, default=1.0,
                   help="copies per order (1 counts every copy as an order: the worst case)")
    p.add_argument("--service-hours", type=float, default=16.5,
                   help="hours a day the service runs (6:30 to 23:00)")
    p.add_argument("--peak-month", type=float, default=1.5,
                   help="the busiest month (March) over the mean month")
    p.add_argument("--peak-day", type=float, default=2.0,
                   help="the busiest day of that month over its mean day")
    p.add_argument("--peak-hour", type=float, default=2.5,
                   help="the busiest hour of that day over its mean service hour")
    p.add_argument("--stores", type=float, default=55_000, help="stores with a copier")
    p.add_argument("--seconds-per-customer", type=float, default=90.0,
                   help="a resident at the copier: card, PIN, menu, payment, printing")
    p.add_argument("--db-cores", type=float, default=16, help="cores of the primary's machine")
    p.add_argument("--bench-cores", type=float, default=2,
                   help="cores the bench's PostgreSQL shared (this machine)")
    p.add_argument("--gateway-cores", type=float, default=4, help="cores per gateway process")
    p.add_argument("--headroom", type=float, default=0.5,
                   help="the share of a gateway's cores planned busy at the peak")
    p.add_argument("--pool-size", type=float, default=16,
                   help="database connections per gateway process (kofu's db_pool_size)")
    p.add_argument("--max-connections", type=float, default=500,
                   help="the primary's max_connections")
    p.add_argument("--wal-mb-per-s", type=float, default=100.0,
                   help="WAL the primary can ship to its synchronous standby (MB/s)")
    args = p.parse_args()

    m = measured(read_bench(args.bench))
    missing = [k for k in ("kofu_cpu_ms", "postgres_cpu_ms", "transactions", "wal_bytes")
               if m[k] is None]
    if missing:
        sys.exit(f"{args.bench}: the bench has no {', '.join(missing)} (an older loadtest?)")
    loads, limits, table = rows(m, args)

    print(f"Measured: {m['throughput_per_s']}/s ordered on {m['instances']} gateway(s); "
          f"pgbench {m['pgbench_tps']:.0f} tps; render ceiling {m['renders_per_s']:.0f}/s "
          f"({args.bench_cores:.0f} cores).")
    print()
    print("| load | issuances/s |")
    print("|---|---|")
    for name, load in loads:
        print(f"| {name} | {load:,.1f} |")
    print()
    print("| per issuance | measured | " + " | ".join(n for n, _ in loads) + " |")
    print("|---|---|" + "---|" * len(loads))
    for row in table:
        print("| " + " | ".join(row) + " |")
    print()
    print(f"| one primary ({args.db_cores:.0f} cores) runs out of | issuances/s | "
          "× the peak hour | × every store at once |")
    print("|---|---|---|---|")
    _, peak = loads[1]
    _, every = loads[2]
    for name, limit in sorted(limits.items(), key=lambda kv: kv[1]):
        print(f"| {name} | {limit:,.0f} | {limit / peak:,.1f} | {limit / every:,.2f} |")
    first = min(limits, key=limits.get)
    print()
    print(f"First to run out: {first}, at {limits[first]:,.0f} issuances/s.")


if __name__ == "__main__":
    main()
