"""Micro-benchmark: the lock a group PATCH takes first, through the ORM
(scim.services.locked_and_touched_group_orm: SELECT … FOR UPDATE, then
save(update_fields=["updated_at"])) against its fast path
(scim.fastpath.locked_and_touched_group: one UPDATE … RETURNING).

    .venv/bin/python bench/scim_group_lock.py [--calls 1000] [--rounds 6]

Each round calls one of them `--calls` times inside one transaction (a PATCH's commit
costs the same either way), the two alternating from round to round, and prints the
median per call of each round and of all rounds.
"""
import argparse
import statistics
import time

from scim_common import make_directory, setup


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    setup()
    from django.db import transaction

    from scim import fastpath, resources, services

    org, _ = make_directory("lock")
    group = services.scim_group_create(org=org, fields=resources.parse_group({"displayName": "Everyone"}))
    paths = {"ORM (select_for_update + save)": services.locked_and_touched_group_orm,
             "fast path (UPDATE … RETURNING)": fastpath.locked_and_touched_group}
    medians = {name: [] for name in paths}
    for round_number in range(args.rounds):
        order = list(paths) if round_number % 2 == 0 else list(reversed(paths))
        for name in order:
            times = []
            with transaction.atomic():
                for _ in range(args.calls):
                    start = time.perf_counter()
                    paths[name](org, group.pk)
                    times.append(time.perf_counter() - start)
            medians[name].append(statistics.median(times) * 1000)
    for name, rounds in medians.items():
        print(f"{name}: {statistics.median(rounds):.3f} ms per call (median of rounds: "
              + " ".join(f"{ms:.3f}" for ms in rounds) + ")")


if __name__ == "__main__":
    main()
