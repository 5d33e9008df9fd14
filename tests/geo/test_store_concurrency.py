"""Stores under several processes at once (geo.store.gpkg, geo.store.postgis): writers take
turns, a killed writer leaves the last good state and nothing beside the file, readers
always see a committed state, and a store one may only read says so.

The writers run in processes of their own (tests/geo/store_workers.py), started together.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest

from geo.planning._versions_model import as_multi, content_hash
from geo.planning.versions import ConflictError, VersionedGrids
from geo.store.base import Store
from geo.store.gpkg import GeoPackageStore
from geo.store.postgis import PostGISStore
from tests.geo import store_workers as w

ROOT = Path(__file__).resolve().parents[2]


# --- processes -----------------------------------------------------------------------------


class Worker:
    """One writer in a process of its own (see store_workers)."""

    def __init__(self, op: str, prefix: list[str] | None = None, **args: Any) -> None:
        self.proc = subprocess.Popen(
            [
                *(prefix or []),
                sys.executable,
                "-m",
                "tests.geo.store_workers",
                op,
                json.dumps(args),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", line + self.proc.stderr.read()  # type: ignore[union-attr]

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self) -> dict[str, Any]:
        out, err = self.proc.communicate()
        assert self.proc.returncode == 0, err
        return json.loads(out.strip().splitlines()[-1])

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate()
        assert self.proc.returncode == -signal.SIGKILL


def together(*workers: Worker) -> list[dict[str, Any]]:
    """Let the workers go at once; their outcomes."""
    for worker in workers:
        worker.go()
    return [worker.result() for worker in workers]


# --- stores --------------------------------------------------------------------------------


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The small county in a store of each kind (PostGIS: a schema of its own)."""
    if request.param == "gpkg":
        gpkg = GeoPackageStore(tmp_path / "store.gpkg")
        w.seed_county(gpkg)
        yield gpkg
        return
    from sqlalchemy import text

    schema = f"gridgov_test_{uuid.uuid4().hex[:12]}"
    pg = PostGISStore(request.getfixturevalue("postgis_url"), schema=schema)
    try:
        w.seed_county(pg)
        yield pg
    finally:
        with pg.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        pg.engine.dispose()


def where(store: Store) -> dict[str, str]:
    """How a worker opens ``store``."""
    if isinstance(store, PostGISStore):
        return {"location": store.url, "schema": store.schema}
    return {"location": store.location}


def assert_consistent(store: Store) -> None:
    """The version tables, the grids layer and the issues agree with each other."""
    vg = VersionedGrids(store)
    versions = vg.versions()
    head = versions.iloc[-1]
    grids = store.read("grids")
    assert head["n_grids"] == len(grids)
    assert head["content_hash"] == content_hash(as_multi(grids))
    assert sorted(vg.read_version(int(head["version"])).grid_code) == sorted(grids.grid_code)
    codes = store.read("issues")["grid_code"].astype(str)
    assert set(codes[codes != ""]) <= set(grids.grid_code.astype(str))
    if isinstance(store, GeoPackageStore):
        assert_sound_geopackage(store.path)


def assert_sound_geopackage(path: Path) -> None:
    """GDAL reads every layer; counts, R-trees and SQLite's own checks agree."""
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA application_id").fetchone() == (0x47504B47,)
        for table, count in conn.execute("SELECT table_name, feature_count FROM gpkg_ogr_contents"):
            assert count == conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0], table
        for table, column in conn.execute(
            "SELECT table_name, column_name FROM gpkg_geometry_columns"
        ).fetchall():
            rtree = f"rtree_{table}_{column}"
            assert conn.execute(f"SELECT rtreecheck('{rtree}')").fetchone() == ("ok",)
            indexed = conn.execute(f'SELECT count(*) FROM "{rtree}"').fetchone()[0]
            present = conn.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}" IS NOT NULL'
            ).fetchone()[0]
            assert indexed == present, table
    for name, _ in pyogrio.list_layers(path):
        pyogrio.read_dataframe(path, layer=name)


def saved_draft(store: Store) -> tuple[str, str]:
    """A draft of village A saved once (by columns) and its conflicted copy (by rows), both
    based on version 1."""
    vg = VersionedGrids(store)
    draft = vg.open_draft(w.VILLAGE_A, "王规划")
    vg.save_draft(draft, w.village_a_by_columns(), author="王规划", reason="r", expected_revision=0)
    with pytest.raises(ConflictError) as lost:
        vg.save_draft(
            draft, w.village_a_by_rows(), author="李规划", reason="r", expected_revision=0
        )
    assert lost.value.kept_draft_id is not None
    return draft.draft_id, lost.value.kept_draft_id


# --- (a) an import while a publish runs ----------------------------------------------------


def test_an_import_during_a_publish_leaves_a_consistent_store(store):
    draft_id, _ = saved_draft(store)
    households_before = store.read("households")
    results = together(
        Worker("publish", **where(store), draft=draft_id, author="王规划"),
        Worker("import_issues", **where(store)),
    )
    assert results == [{"version": 2}, {"written": len(w.imported_issues())}]
    vg = VersionedGrids(store)
    assert vg.versions()["version"].tolist() == [1, 2]
    grids = store.read("grids")
    assert sorted(grids.grid_code) == sorted(vg.read_version(2).grid_code)
    assert len(grids) == 6 + 3  # village B's six, village A by columns
    issues = store.read("issues")
    imported = w.imported_issues()
    # Whichever went first, the issues are the imported ones, in their village B grids.
    assert sorted(issues.ticket_id) == sorted(imported.ticket_id)
    got = issues.set_index("ticket_id").loc[imported.ticket_id, "grid_code"]
    assert got.tolist() == imported.grid_code.tolist()
    assert len(store.read("households")) == len(households_before)
    assert_consistent(store)


# --- (b) two writers adding and updating tickets ------------------------------------------


def test_two_writers_upserting_tickets_take_turns(store):
    before = len(store.read("issues"))
    a, b = together(
        Worker("upsert", **where(store), first=0, count=60, batch=6, who="a"),
        Worker("upsert", **where(store), first=30, count=60, batch=6, who="b"),
    )
    issues = store.read("issues")
    mine = issues[issues.ticket_id.astype(str).str.startswith("T")]
    keys = list(zip(mine.source, mine.ticket_id, strict=True))
    assert len(keys) == len(set(keys)) == 90  # no duplicate, nothing lost
    assert sorted(mine.ticket_id) == [f"T{i:04d}" for i in range(90)]
    assert len(issues) == before + 90
    # Each overlapping ticket was added by one writer and updated by the other.
    assert a["added"] + b["added"] == 90
    assert a["updated"] + b["updated"] == 30
    overlap = mine[mine.ticket_id.isin([f"T{i:04d}" for i in range(30, 60)])]
    assert set(overlap.status) <= {"a", "b"}
    assert set(mine.status[mine.ticket_id < "T0030"]) == {"a"}
    assert set(mine.status[mine.ticket_id >= "T0060"]) == {"b"}


# --- (c) two publishes of the same village -------------------------------------------------


def test_two_publishes_of_the_same_village_one_wins_the_other_is_refused(store):
    draft_id, kept_id = saved_draft(store)
    results = together(
        Worker("publish", **where(store), draft=draft_id, author="王规划"),
        Worker("publish", **where(store), draft=kept_id, author="李规划"),
    )
    won = [r for r in results if "version" in r]
    refused = [r for r in results if "refused" in r]
    assert won == [{"version": 2}] and len(refused) == 1
    assert refused[0]["refused"] == "ConflictError"
    # The loser is told who published what, in both languages.
    assert "published version 2" in refused[0]["message"]
    assert "发布了第 2 版" in refused[0]["message"]
    vg = VersionedGrids(store)
    assert vg.versions()["version"].tolist() == [1, 2]
    assert vg.change_log()["action"].tolist().count("publish") == 1
    winner = w.village_a_by_columns() if results[0] == won[0] else w.village_a_by_rows()
    grids = store.read("grids")
    assert sorted(grids.grid_code[grids.village_code == w.VILLAGE_A]) == sorted(winner.grid_code)
    assert_consistent(store)


# --- (d) killed writers --------------------------------------------------------------------


def killed_after(worker: Worker, seed: int, longest_s: float) -> None:
    delay = float(np.random.default_rng(seed).uniform(0, longest_s))
    time.sleep(delay)
    worker.kill()


def reopen(path: Path) -> GeoPackageStore:
    """The store opened again the way every reader opens it, and nothing left beside it."""
    store = GeoPackageStore(path)
    store.layers()  # rolls a dead writer's journal back
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    return store


def assert_one_generation(store: GeoPackageStore) -> int:
    """Both layers come from the same write; its generation."""
    meta = store.read("meta").set_index("key")["value"]
    issues = store.read("issues")
    k = int(meta["generation"])
    assert len(issues) == int(meta["rows"])
    assert issues["generation"].max() == k
    return k


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_killed_write_leaves_the_last_good_state(tmp_path, seed):
    path = tmp_path / "store.gpkg"
    if seed % 2:  # an existing store; else the kill may come while the file is created
        GeoPackageStore(path).write(w.generation(0, 20_000))
    worker = Worker("write_loop", location=str(path), rows=20_000, times=0)
    killed_after(worker, seed, 3.0)
    store = reopen(path)
    if store.layers() == []:  # killed before the first write committed
        assert seed % 2 == 0 and store.version() == "absent"
        return
    assert sorted(store.layers()) == ["issues", "meta"]
    assert assert_one_generation(store) in (0, 1, 2)
    assert_sound_geopackage(path)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_killed_transaction_leaves_the_last_good_state(tmp_path, seed):
    path = tmp_path / "store.gpkg"
    GeoPackageStore(path).write(w.generation(0, 5_000))
    worker = Worker("transaction_loop", location=str(path), rows=5_000)
    killed_after(worker, seed, 3.0)
    store = reopen(path)
    assert_one_generation(store)
    assert_sound_geopackage(path)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_killed_publish_leaves_the_last_good_state(tmp_path, seed):
    path = tmp_path / "store.gpkg"
    w.seed_county(GeoPackageStore(path))
    worker = Worker("publish_loop", location=str(path))
    killed_after(worker, seed, 3.0)
    store = reopen(path)
    assert_consistent(store)
    vg = VersionedGrids(store)
    versions = vg.versions()["version"].tolist()
    assert versions == list(range(1, len(versions) + 1))
    assert vg.change_log()["action"].tolist().count("publish") == len(versions) - 1


# --- readers while a writer writes ---------------------------------------------------------


def test_readers_see_a_committed_state_while_another_process_writes(store):
    store.write(w.generation(0, 2_000))
    worker = Worker("write_loop", **where(store), rows=2_000, times=12)
    seen: set[int] = set()
    reads = 0
    while worker.proc.poll() is None or reads == 0:
        assert sorted(set(store.layers()) & {"issues", "meta"}) == ["issues", "meta"]
        issues = store.read("issues")
        k = int(issues["generation"].iloc[0])
        assert (issues["generation"] == k).all() and len(issues) == 2_000 + k
        with store.transaction(readonly=True) as tx:
            meta = tx.read("meta").set_index("key")["value"]
            rows = tx.read("issues", columns=["generation"])
        assert (
            len(rows) == int(meta["rows"]) and (rows["generation"] == int(meta["generation"])).all()
        )
        seen.add(k)
        reads += 1
    assert worker.result() == {"written": 12}
    assert seen <= set(range(13))
    assert assert_generation_of(store) == 12


def assert_generation_of(store: Store) -> int:
    return int(store.read("meta").set_index("key").loc["generation", "value"])


# --- a store one may only read -------------------------------------------------------------


def without_root_powers(require: Any) -> list[str]:
    """A command prefix under which root, too, obeys file permissions."""
    if os.geteuid() != 0:
        return []
    require(shutil.which("setpriv") is not None, "install util-linux (setpriv)")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def assert_refused_as_read_only(outcome: dict[str, Any], why: str) -> None:
    assert outcome["grids"] == outcome["grids_after"] == outcome["tx_read"] == 12
    for attempt in ("write", "transaction", "create_tables"):
        message = outcome[attempt]
        assert why in message, (attempt, message)
        assert "reading still works" in message and "读取不受影响" in message
        assert "Traceback" not in message and "sqlite3." not in message


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_geopackage_reads_and_refuses_writes_clearly(tmp_path, require, what):
    prefix = without_root_powers(require)
    folder = tmp_path / "county"
    folder.mkdir()
    path = folder / "store.gpkg"
    w.seed_county(GeoPackageStore(path))
    before = path.read_bytes()
    (path if what == "file" else folder).chmod(0o444 if what == "file" else 0o555)
    try:
        outcome = Worker("read_only_probe", prefix, location=str(path), wait=False).result()
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert outcome["layers"] == ["grids", "households", "issues"]
    why = "the file is read-only" if what == "file" else f"the folder {folder} is read-only"
    assert_refused_as_read_only(outcome, why)
    assert path.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["store.gpkg"]


@pytest.mark.postgis
def test_a_postgis_role_that_may_only_read_reads_and_refuses_writes_clearly(postgis_url):
    from sqlalchemy import make_url, text

    schema = f"gridgov_test_{uuid.uuid4().hex[:12]}"
    role, password = f"gridgov_reader_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    owner = PostGISStore(postgis_url, schema=schema)
    try:
        w.seed_county(owner)
        with owner.engine.begin() as conn:
            conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
            conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
            conn.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}'))
        url = make_url(postgis_url).set(username=role, password=password)
        reader = url.render_as_string(hide_password=False)
        outcome = Worker("read_only_probe", location=reader, schema=schema, wait=False).result()
        assert outcome["layers"] == ["grids", "households", "issues"]
        assert_refused_as_read_only(outcome, "the database role may only read")
        for attempt in ("write", "transaction", "create_tables"):
            assert password not in outcome[attempt]
        assert len(owner.read("issues")) == len(w.county_issues())
    finally:
        with owner.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        owner.engine.dispose()
