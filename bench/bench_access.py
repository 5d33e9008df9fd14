"""Sign-in time and what scope checks cost a page rerun.

Sign-in: ``geo.access.authenticate`` on the demo store (the account read, the Argon2id hash
checked with the stated parameters, the failed-count reset and the audit row written), against
the peer a developer would write with the same library: ``argon2.PasswordHasher.verify`` of the
same hash alone. Goal: ≤ 0.5 s. Both must accept the right password and refuse a wrong one.

Scope checks: the Overview rerun after a filter change, signed in through ``dashboard.py``
(each run checks the session and reads the account again), against the same door without
those checks: ``bench/_unchecked_overview.py`` puts the same county-wide session in place and
never checks it. Each timed run gets a date span not seen before (the page caches per
filter), the two take turns going first. Goal: ≤ 5 % slower. Both runs
must show the same KPIs.

Run: ``python bench/bench_access.py [--quick]`` from the repository root.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from _demo import ROOT, arguments, check, county_gpkg, signed_in_app
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from geo.access import authenticate
from geo.access.passwords import HASHER, PARAMETERS
from geo.store.base import open_store


def _kpis(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def main() -> None:
    args = arguments(__doc__)
    path = county_gpkg(args.quick)
    repeat = 3 if args.quick else 15
    at = signed_in_app(path)  # adds the demo accounts to a cut county that lacks them
    store = open_store(path)
    with store.transaction(readonly=True) as tx:
        stored = str(tx.read("users", where={"username": "county"})["password_hash"].iloc[0])

    ours, theirs = [], []
    peer = PasswordHasher(HASHER.time_cost, HASHER.memory_cost, HASHER.parallelism)
    for _ in range(repeat):
        start = time.perf_counter()
        who = authenticate(store, "county", "demo")
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        accepted = peer.verify(stored, "demo")
        theirs.append(time.perf_counter() - start)
        check(who.username == "county" and accepted, "both accept the right password")
    try:
        peer.verify(stored, "wrong")
        check(False, "the peer refuses a wrong password")
    except Exception:
        pass
    sign_in, floor = statistics.median(ours), statistics.median(theirs)
    print(f"sign-in ({PARAMETERS}): median {sign_in:.3f} s over {repeat} (goal ≤ 0.5 s); "
          f"peer argon2 verify alone {floor:.3f} s: ours/peer = {sign_in / floor:.2f}")  # fmt: skip

    unchecked = AppTest.from_file(str(ROOT / "bench" / "_unchecked_overview.py"),
                                  default_timeout=600)  # fmt: skip
    unchecked.run()
    check(not unchecked.exception, f"the unchecked page runs: {unchecked.exception}")
    end = dt.date(2026, 11, 20)
    spans = [6, 13, 29, 59, 89, 119, 179, 364][: 4 if args.quick else 8]
    with_checks, without = [], []
    # Each run gets a date span neither app has seen (the page caches its work per filter),
    # the two apps take turns going first, and then both show the same span to compare.
    pairs = [(at, with_checks), (unchecked, without)]
    for k, days in enumerate(spans * (1 if args.quick else 2)):
        for offset, (app, times) in enumerate(pairs if k % 2 == 0 else pairs[::-1]):
            fresh = 5 + 2 * k + offset  # 5, 6, 7, … days: every timed span a new one
            span = (end - dt.timedelta(days=fresh), end)
            app.sidebar.date_input(key="dates").set_value(span)
            start = time.perf_counter()
            app.run()
            times.append(time.perf_counter() - start)
            check(not app.exception, f"the page raised: {app.exception}")
        same = (end - dt.timedelta(days=days), end)
        for app, _ in pairs:
            app.sidebar.date_input(key="dates").set_value(same)
            app.run()
        check(_kpis(at) == _kpis(unchecked), f"same KPIs for {same}")
    a, b = statistics.median(with_checks), statistics.median(without)
    print(f"Overview rerun after a date change: with the door's checks {a:.3f} s, without "
          f"{b:.3f} s (median of {len(without)}): {a / b - 1:+.1%} (goal ≤ +5 %)")  # fmt: skip


if __name__ == "__main__":
    main()
