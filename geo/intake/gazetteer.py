"""Addresses without coordinates placed offline from the county's gazetteer (标准地址, POIs, 村居).

A 12345 export often carries only 地址. :class:`Gazetteer` prepares a layer of points — standard
addresses, points of interest and village/community entries, each with its ``village_code`` —
and :meth:`Gazetteer.match` places free-text addresses on it, all at once and without a
network:

1. **Normalise** (:func:`normalise_address`): NFKC (full-width digits and letters to
   half-width), spaces and punctuation out, 村委会/居委会 → 村/社区, Chinese numerals before a
   unit (十二号, 五组) to digits, ``18-2号`` → ``18号``, trailing 附近/门口/对面 out, and the
   province/city/county prefix (江苏省盐城市射阳县, learnt from the gazetteer's own addresses)
   stripped.
2. **Parse** by dictionary, as Chinese addresses have no spaces: the town (镇/乡/街道/开发区/
   农场 names the gazetteer knows; a town-shaped word it does not know is compared with the
   known ones), the village or community, then ``road + number 号`` (路/街/巷/弄/大道) or
   ``group 组 + number 号``.
3. **Score** candidates. The house number is never fuzzy: a different number is another house.
   Names are compared by the cosine of character unigram + boundary-marked bigram TF-IDF
   vectors (idf from the gazetteer), all pairs of a block at once with sparse matrices — the
   transposed gazetteer matrix is the inverted index. A candidate's score is the weighted
   mean of its parts' agreements (see :data:`WEIGHTS`): a part the address does not state
   counts :data:`UNSTATED`, a town or village it states differently counts 0.
4. **Decide**: the best candidate of score ≥ ``threshold`` (default :data:`MATCH_THRESHOLD`)
   that no other candidate more than :data:`AMBIGUOUS_M` away comes within
   :data:`AMBIGUOUS_MARGIN` of gives level ``"address"`` (a house or a POI). Otherwise an
   address whose village is identified as confidently is placed at level ``"village"`` (the
   village entry's point, or its polygon's representative point); the rest are ``"none"``.

A candidate is never in another town than the one the address names; an address naming a town
the gazetteer does not know matches nothing.

Scores of common cases: the standard address, with or without the county prefix, full-width or
with Chinese numerals, 1.0; without the town 0.98; one wrong character in a three-character
road name (name cosine ≈ 0.45) ≈ 0.78 with the town stated and 0.76 without; one wrong
character in a three-character village name of a rural address (5组12号) ≈ 0.77; a road that
shares only its 路 with the one the address names is no candidate. On the demo county's
planted noise, address-level matches scoring 0.72–0.75 pointed at the caller's house 90 % of
the time and those above 0.75 over 98 %, hence the default threshold of 0.75.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geo.core.errors import InputProblems
from geo.core.validate import columns_problem, crs_problem

#: Lowest score placed at a point (address level), and at a village (village level).
MATCH_THRESHOLD = 0.75
#: Two candidates farther apart than this (metres) whose scores differ by at most
#: :data:`AMBIGUOUS_MARGIN` make the address ambiguous: neither is chosen.
AMBIGUOUS_M = 100.0
AMBIGUOUS_MARGIN = 0.05
#: Agreement counted for a part (town, village) the address does not state.
UNSTATED = 0.9
#: Weights of the parts in a candidate's score, by kind of candidate: a road address is
#: identified by its road (the community is often left out), a rural address by its village
#: (group numbers repeat in every village), a village entry by its village name. The house
#: number (and a rural address's group, its ``street``) must be equal to be a candidate at all.
WEIGHTS = {
    "road": {"town": 1.0, "village": 1.0, "number": 1.0, "street": 2.0},
    "group": {"town": 1.0, "village": 2.0, "number": 1.0, "street": 1.0},
    "village": {"town": 1.0, "village": 2.0},
}
#: Kinds of gazetteer entry.
KINDS = ("address", "poi", "village")
#: Match levels, most precise first.
LEVELS = ("address", "village", "none")
#: Lowest name cosine kept as a fuzzy candidate for a road, village or town.
_MIN_NAME_SIM = 0.3
_TOWN_SUFFIX = r"(?:镇|乡|街道|经济开发区|开发区|农场|盐场)"
_CJK = r"\u4e00-\u9fff"
_NUMERAL = "零〇一二两三四五六七八九十百千"
_UNITS = "号组队幢栋单元室层楼"


@dataclass(frozen=True)
class Gazetteer:
    """A gazetteer layer prepared for matching (see the module's docstring for the method).

    Attributes
    ----------
    entries
        One row per usable point: ``x``, ``y`` (the layer's CRS, metres), ``kind``,
        ``label`` (the text reported as ``matched``), ``text`` (normalised), ``town``,
        ``village_code``, ``road``, ``group`` and ``number`` (``-1`` when absent),
        ``states_village`` (its address names its village) and ``poi_text`` (a POI's name,
        normalised, without prefix and town).
    villages
        One row per village: ``village_code``, ``name`` (normalised), ``town``, ``x``, ``y``.
    towns
        Town names the gazetteer knows (longest first).
    prefixes
        Province/city/county words stripped from the start of an address.
    crs
        The CRS of ``x`` and ``y`` (a metric one).
    """

    entries: pd.DataFrame
    villages: pd.DataFrame
    towns: tuple[str, ...]
    prefixes: tuple[str, ...]
    crs: object

    @classmethod
    def build(
        cls,
        points: gpd.GeoDataFrame,
        *,
        villages: gpd.GeoDataFrame | None = None,
        prefixes: Sequence[str] = (),
    ) -> Gazetteer:
        """Prepare a gazetteer layer.

        Parameters
        ----------
        points
            Points in a metric CRS with ``name``, ``village_code`` and ``kind`` (one of
            :data:`KINDS`), optionally ``address`` (the standard address; ``name`` stands in
            where it is empty) and ``town`` (else read from the address, or from the entry of
            its village).
        villages
            Optional village polygons (``village_code``, geometry, same CRS, optionally
            ``village_name``): the representative point of a village that has no ``village``
            entry (named by ``village_name``, its town that of its entries).
        prefixes
            Extra words to strip from the start of addresses (the province, city and county
            words of the gazetteer's own addresses are learnt).

        Raises
        ------
        InputProblems
            Listing every problem of the layer (CRS, columns, kinds, geometry).
        """
        task = "prepare the gazetteer"
        problems = [
            p
            for p in (
                crs_problem(points, "points"),
                columns_problem(points, "points", ["name", "village_code", "kind"]),
            )
            if p
        ]
        if problems:
            raise InputProblems(task, problems)
        kinds = points["kind"].astype(str)
        bad = sorted(set(kinds) - set(KINDS))
        if bad:
            problems.append(f"points: kind {bad} not allowed; use one of {list(KINDS)}")
        geom = points.geometry.to_numpy()
        not_point = ~np.asarray(shapely.get_type_id(geom) == 0) | shapely.is_empty(geom)
        if not_point.any():
            problems.append(
                f"points: {int(not_point.sum())} rows are not points (first at position "
                f"{int(np.flatnonzero(not_point)[0])}); give every entry a point"
            )
        if villages is not None:
            problems += [
                p
                for p in (
                    crs_problem(villages, "villages"),
                    columns_problem(villages, "villages", ["village_code"]),
                )
                if p
            ]
            if not problems and villages.crs != points.crs:
                problems.append(
                    f"villages: CRS {villages.crs} differs from the points' {points.crs}; "
                    "reproject one of them"
                )
        if problems:
            raise InputProblems(task, problems)
        name = _text(points["name"])
        address = (
            _text(points["address"]) if "address" in points else pd.Series("", index=name.index)
        )
        label = address.where(address != "", name)
        raw = _normalise(label, ())
        learnt = _learn_prefixes(raw)
        prefixes = tuple(sorted({*learnt, *(_normalise_one(p) for p in prefixes if p)}, key=len))
        prefixes = tuple(reversed(prefixes))
        text = _strip_prefixes(raw, prefixes)
        code = _text(points["village_code"])
        town = _text(points["town"]) if "town" in points else pd.Series("", index=points.index)
        shaped = text.str.extract(f"^([{_CJK}]{{2,6}}?{_TOWN_SUFFIX})", expand=False).fillna("")
        town = town.where(town != "", shaped)
        is_village = (kinds == "village").to_numpy()
        vname = _synonyms(_normalise(name[is_village], prefixes))
        vill = pd.DataFrame(
            {
                "village_code": code[is_village].to_numpy(),
                "name": vname.str.replace(f"^{_town_alt(town)}", "", regex=True).to_numpy(),
                "town": town[is_village].to_numpy(),
                "x": shapely.get_x(geom[is_village]),
                "y": shapely.get_y(geom[is_village]),
            }
        ).drop_duplicates("village_code")
        if villages is not None:
            missing = villages[~villages["village_code"].astype(str).isin(vill.village_code)]
            if len(missing):
                rep = shapely.point_on_surface(missing.geometry.to_numpy())
                named = "village_name" if "village_name" in missing else "name"
                words = (
                    _synonyms(_normalise(missing[named], prefixes))
                    if named in missing
                    else pd.Series("", index=missing.index)
                )
                extra = pd.DataFrame(
                    {
                        "village_code": missing["village_code"].astype(str).to_numpy(),
                        "name": words.to_numpy(),
                        "town": "",
                        "x": shapely.get_x(rep),
                        "y": shapely.get_y(rep),
                    }
                )
                vill = pd.concat([vill, extra], ignore_index=True)
        # An entry without a town takes its village's.
        by_code = vill.set_index("village_code")["town"]
        town = town.where(town != "", code.map(by_code).fillna(""))
        # A village known only from its polygon takes the town of its entries.
        entry_town = pd.Series(town.to_numpy(), index=code.to_numpy())
        entry_town = entry_town[entry_town != ""].groupby(level=0).first()
        vill["town"] = vill["town"].where(
            vill["town"] != "", vill["village_code"].map(entry_town).fillna("")
        )
        towns = tuple(sorted({t for t in town if t}, key=lambda s: (-len(s), s)))
        after_town = _cut_town(text, towns)
        parts = _parse_house(_cut_first(after_town, vill), vill)
        vname_of = vill.set_index("village_code")["name"]
        own = code.map(vname_of).fillna("").to_numpy()
        states = np.array([bool(v) and v in t for v, t in zip(own, text, strict=True)])
        is_poi = (kinds == "poi").to_numpy()
        poi_text = np.full(len(name), "", dtype=object)
        poi_text[is_poi] = _cut_town(
            _strip_prefixes(_normalise(name[is_poi], prefixes), prefixes), towns
        ).to_numpy()
        entries = pd.DataFrame(
            {
                "x": shapely.get_x(geom),
                "y": shapely.get_y(geom),
                "kind": kinds.to_numpy(),
                "label": label.to_numpy(),
                "text": text.to_numpy(),
                "town": town.to_numpy(),
                "village_code": code.to_numpy(),
                "road": parts["road"].to_numpy(),
                "group": parts["group"].to_numpy(),
                "number": parts["number"].to_numpy(),
                "states_village": states,
                "poi_text": poi_text,
            }
        )
        return cls(
            entries.reset_index(drop=True), vill.reset_index(drop=True), towns, prefixes, points.crs
        )

    def match(
        self, addresses: Iterable[object], *, threshold: float = MATCH_THRESHOLD
    ) -> pd.DataFrame:
        """Place free-text addresses on the gazetteer.

        Parameters
        ----------
        addresses
            Address texts (a Series keeps its index); empty or missing ones get level
            ``"none"``.
        threshold
            Lowest score placed (address and village level alike), in [0, 1].

        Returns
        -------
        pandas.DataFrame
            One row per address, in order: ``x``, ``y`` (the gazetteer's CRS, metres; NaN for
            level ``"none"``), ``match_level`` (one of :data:`LEVELS`), ``score`` in [0, 1]
            (of the best candidate, placed or not), ``matched`` (the gazetteer text of the
            place given, ``""`` for none) and ``village_code`` (``""`` for none).
        """
        if not 0.0 <= threshold <= 1.0:
            raise InputProblems(
                "match addresses", [f"threshold must be between 0 and 1, got {threshold!r}"]
            )
        given = addresses if isinstance(addresses, pd.Series) else pd.Series(list(addresses))
        codes, uniques = pd.factorize(_text(given), sort=False)
        found = self._match_unique(pd.Series(uniques, dtype=object), threshold)
        out = found.iloc[codes].reset_index(drop=True)
        out.index = given.index
        return out

    # ------------------------------------------------------------------ matching, unique texts

    def _match_unique(self, raw: pd.Series, threshold: float) -> pd.DataFrame:
        n = len(raw)
        text = _strip_prefixes(_normalise(raw, self.prefixes), self.prefixes)
        town, town_sim, rest = self._parse_town(text)
        vill_cand = self._village_candidates(rest, town)
        house = _parse_house(_cut_first(rest, self.villages), self.villages)
        best = np.full(n, -1, dtype=np.int64)  # entry position
        score = np.zeros(n)
        pairs = [
            self._road_pairs(house, town, town_sim, vill_cand),
            self._group_pairs(house, town, town_sim, vill_cand),
        ]
        pairs = [p for p in pairs if len(p)]
        if pairs:
            best, score = self._decide(pd.concat(pairs, ignore_index=True), n, threshold)
        # POIs for what no house matched and names more than a village.
        after_village = _cut_first(rest, self.villages)
        open_ = np.flatnonzero((best < 0) & (after_village.to_numpy() != ""))
        if len(open_):
            poi = self._poi_pairs(rest.iloc[open_], town.iloc[open_])
            if len(poi):
                poi["q"] = open_[poi["q"].to_numpy()]
                b2, s2 = self._decide(poi, n, threshold)
                take = (best < 0) & (b2 >= 0)
                best[take] = b2[take]
                score = np.maximum(score, s2)
        out = pd.DataFrame(
            {
                "x": np.nan,
                "y": np.nan,
                "match_level": "none",
                "score": score,
                "matched": "",
                "village_code": "",
            },
            index=range(n),
        )
        hit = best >= 0
        ent = self.entries.iloc[best[hit]]
        out.loc[hit, ["x", "y"]] = ent[["x", "y"]].to_numpy()
        out.loc[hit, "matched"] = ent["label"].to_numpy()
        out.loc[hit, "village_code"] = ent["village_code"].to_numpy()
        out.loc[hit, "match_level"] = "address"
        # Village level for the rest.
        open_ = np.flatnonzero(~hit)
        if len(open_) and len(vill_cand):
            vc = vill_cand[vill_cand["q"].isin(open_)].copy()
            w = WEIGHTS["village"]
            s_town = np.where(town.to_numpy()[vc["q"]] != "", town_sim[vc["q"]], UNSTATED)
            vc["score"] = (w["town"] * s_town + w["village"] * vc["sim"]) / sum(w.values())
            vc["x"] = self.villages["x"].to_numpy()[vc["v"]]
            vc["y"] = self.villages["y"].to_numpy()[vc["v"]]
            chosen, vscore = _choose(vc, n, threshold)
            score[open_] = np.maximum(score[open_], vscore[open_])
            out["score"] = score
            ok = chosen >= 0
            vill = self.villages.iloc[chosen[ok]]
            names = vill["name"].to_numpy()
            out.loc[ok, ["x", "y"]] = vill[["x", "y"]].to_numpy()
            out.loc[ok, "matched"] = names
            out.loc[ok, "village_code"] = vill["village_code"].to_numpy()
            out.loc[ok, "match_level"] = "village"
        out["score"] = out["score"].clip(0.0, 1.0).round(4)
        return out

    def _parse_town(self, text: pd.Series) -> tuple[pd.Series, np.ndarray, pd.Series]:
        """Town named (canonical, ``"?"`` for one the gazetteer does not know), its name
        similarity and the text after it."""
        sim = np.ones(len(text))
        if not self.towns:
            return pd.Series("", index=text.index), sim, text
        alt = "|".join(map(re.escape, self.towns))
        got = text.str.extract(f"^(?P<pre>.*?)(?P<town>{alt})(?P<rest>.*)$")
        town = got["town"].fillna("")
        rest = got["rest"].where(town != "", text).fillna("")
        shaped = text.str.extract(f"^([{_CJK}]{{2,6}}?{_TOWN_SUFFIX})(.*)$")
        unknown = (town == "") & shaped[0].notna()
        if unknown.any():
            words = shaped.loc[unknown, 0]
            uniq = words.unique()
            s = _NgramModel(list(self.towns)).similarity(list(uniq))
            j = s.argmax(axis=1)
            best = s[np.arange(len(uniq)), j]
            mapped = dict(
                zip(uniq, np.where(best >= 0.5, np.array(self.towns)[j], "?"), strict=True)
            )
            msim = dict(zip(uniq, best, strict=True))
            town[unknown] = words.map(mapped)
            sim[np.flatnonzero(unknown.to_numpy())] = words.map(msim).to_numpy()
            rest[unknown] = shaped.loc[unknown, 1]
        return town, sim, rest

    def _village_candidates(self, rest: pd.Series, town: pd.Series) -> pd.DataFrame:
        """(q, v, sim): villages the text may name — the known name it holds, else village-
        shaped words compared with the villages of its town."""
        vill = self.villages
        names = vill["name"].to_numpy()
        known = [s for s in sorted(set(names), key=len, reverse=True) if s]
        rows: list[pd.DataFrame] = []
        exact = pd.Series("", index=rest.index)
        if known:
            exact = rest.str.extract(f"({'|'.join(map(re.escape, known))})", expand=False)
            exact = exact.fillna("")
            hit = np.flatnonzero(exact.to_numpy() != "")
            if len(hit):
                frame = pd.DataFrame({"q": hit, "name": exact.to_numpy()[hit]})
                frame = frame.merge(
                    pd.DataFrame({"name": names, "v": np.arange(len(vill))}), on="name"
                )
                frame["sim"] = 1.0
                rows.append(frame[["q", "v", "sim"]])
        shaped = rest.str.extract(f"([{_CJK}]{{2,5}}?(?:村|社区))", expand=False).fillna("")
        fuzzy = np.flatnonzero((exact.to_numpy() == "") & (shaped.to_numpy() != ""))
        if len(fuzzy) and known:
            words = shaped.to_numpy()[fuzzy]
            uniq, inv = np.unique(words, return_inverse=True)
            s = _NgramModel(list(names)).similarity(list(uniq))
            qi, vi = np.nonzero(s >= _MIN_NAME_SIM)
            cand = pd.DataFrame({"u": qi, "v": vi, "sim": s[qi, vi]})
            frame = pd.DataFrame({"q": fuzzy, "u": inv}).merge(cand, on="u")
            rows.append(frame[["q", "v", "sim"]])
        if not rows:
            return pd.DataFrame({"q": [], "v": [], "sim": []}).astype({"q": int, "v": int})
        out = pd.concat(rows, ignore_index=True)
        # Never in another town than the one named.
        qt = town.to_numpy()[out["q"].to_numpy()]
        vt = vill["town"].to_numpy()[out["v"].to_numpy()]
        keep = (qt == "") | (vt == "") | (qt == vt)
        return out[keep].reset_index(drop=True)

    def _road_pairs(
        self, house: pd.DataFrame, town: pd.Series, town_sim: np.ndarray, vill: pd.DataFrame
    ) -> pd.DataFrame:
        ent = self.entries
        mask = (ent["road"] != "") & (ent["number"] >= 0)
        if not mask.any():
            return pd.DataFrame()
        q = np.flatnonzero((house["road"] != "").to_numpy() & (house["number"] >= 0).to_numpy())
        if not len(q):
            return pd.DataFrame()
        roads = np.unique(ent.loc[mask, "road"].to_numpy())
        qroads = house["road"].to_numpy()[q]
        uniq, inv = np.unique(qroads, return_inverse=True)
        sim = _NgramModel(list(roads)).similarity(list(uniq))
        ui, ri = np.nonzero(sim >= _MIN_NAME_SIM)
        road_cand = pd.DataFrame({"u": ui, "road": roads[ri], "s_street": sim[ui, ri]})
        qs = pd.DataFrame({"q": q, "u": inv, "number": house["number"].to_numpy()[q]})
        qs = qs.merge(road_cand, on="u")
        targets = ent[mask][["road", "number"]].assign(e=np.flatnonzero(mask.to_numpy()))
        pairs = qs.merge(targets, on=["road", "number"])
        return self._score(pairs, town, town_sim, vill, "road")

    def _group_pairs(
        self, house: pd.DataFrame, town: pd.Series, town_sim: np.ndarray, vill: pd.DataFrame
    ) -> pd.DataFrame:
        ent = self.entries
        mask = (ent["group"] >= 0) & (ent["number"] >= 0)
        has = (house["group"] >= 0).to_numpy() & (house["number"] >= 0).to_numpy()
        if not mask.any() or not has.any() or not len(vill):
            return pd.DataFrame()
        qv = vill[has[vill["q"].to_numpy()]]
        qs = qv.assign(
            village_code=self.villages["village_code"].to_numpy()[qv["v"]],
            group=house["group"].to_numpy()[qv["q"]],
            number=house["number"].to_numpy()[qv["q"]],
            s_street=1.0,
        )[["q", "village_code", "group", "number", "s_street"]]
        targets = ent[mask][["village_code", "group", "number"]].assign(
            e=np.flatnonzero(mask.to_numpy())
        )
        pairs = qs.merge(targets, on=["village_code", "group", "number"])
        return self._score(pairs, town, town_sim, vill, "group")

    def _score(
        self,
        pairs: pd.DataFrame,
        town: pd.Series,
        town_sim: np.ndarray,
        vill: pd.DataFrame,
        kind: str,
    ) -> pd.DataFrame:
        """Town and village agreement and the weighted score of each (query, entry) pair."""
        if not len(pairs):
            return pd.DataFrame()
        ent = self.entries
        q, e = pairs["q"].to_numpy(), pairs["e"].to_numpy()
        qt, et = town.to_numpy()[q], ent["town"].to_numpy()[e]
        pairs = pairs[(qt == "") | (et == "") | (qt == et)].copy()
        q, e = pairs["q"].to_numpy(), pairs["e"].to_numpy()
        qt = town.to_numpy()[q]
        s_town = np.where(qt != "", town_sim[q], UNSTATED)
        # The village stated: its similarity to the entry's village, 0 for another village.
        code_of = self.villages["village_code"].to_numpy()
        vs = (
            pd.DataFrame(
                {"q": vill["q"].to_numpy(), "village_code": code_of[vill["v"]], "vsim": vill["sim"]}
            )
            .groupby(["q", "village_code"], as_index=False)["vsim"]
            .max()
        )
        stated = np.zeros(len(town), dtype=bool)
        stated[vill["q"].to_numpy()] = True
        pairs["village_code"] = ent["village_code"].to_numpy()[e]
        pairs = pairs.merge(vs, on=["q", "village_code"], how="left")
        # Unstated: a doubt only when the entry's own address names its village.
        unstated = np.where(ent["states_village"].to_numpy()[pairs["e"].to_numpy()], UNSTATED, 1.0)
        s_vill = np.where(stated[pairs["q"].to_numpy()], pairs["vsim"].fillna(0.0), unstated)
        w = WEIGHTS[kind]
        pairs["score"] = (
            w["town"] * s_town
            + w["village"] * s_vill
            + w["number"]
            + w["street"] * pairs["s_street"].to_numpy()
        ) / sum(w.values())
        return pairs[["q", "e", "score"]]

    def _poi_pairs(self, text: pd.Series, town: pd.Series) -> pd.DataFrame:
        """(q, e, score): each open address against the POIs of its town, by text cosine."""
        ent = self.entries
        poi = np.flatnonzero((ent["kind"] == "poi").to_numpy())
        if not len(poi) or not len(text):
            return pd.DataFrame()
        model = _NgramModel(list(ent["poi_text"].to_numpy()[poi]))
        ptown = ent["town"].to_numpy()[poi]
        qtown = town.to_numpy()
        rows = []
        for t in np.unique(qtown):
            if t == "?":
                continue
            qi = np.flatnonzero(qtown == t)
            cols = np.flatnonzero((ptown == t) | (ptown == "")) if t else np.arange(len(poi))
            if not len(cols):
                continue
            for start in range(0, len(qi), 4096):
                block = qi[start : start + 4096]
                s = model.similarity(list(text.to_numpy()[block]), columns=cols)
                a, b = np.nonzero(s >= _MIN_NAME_SIM)
                rows.append(pd.DataFrame({"q": block[a], "e": poi[cols[b]], "score": s[a, b]}))
        return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()

    def _decide(
        self, pairs: pd.DataFrame, n: int, threshold: float
    ) -> tuple[np.ndarray, np.ndarray]:
        pairs = pairs.assign(
            x=self.entries["x"].to_numpy()[pairs["e"].to_numpy()],
            y=self.entries["y"].to_numpy()[pairs["e"].to_numpy()],
            v=pairs["e"],
        )
        return _choose(pairs, n, threshold)


def _choose(pairs: pd.DataFrame, n: int, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Per query the best candidate ``v`` that passes ``threshold`` and is not ambiguous
    (-1 otherwise), and the best score (0 where there is no candidate)."""
    chosen = np.full(n, -1, dtype=np.int64)
    best = np.zeros(n)
    if not len(pairs):
        return chosen, best
    p = pairs.sort_values(["q", "score"], ascending=[True, False], kind="stable")
    q = p["q"].to_numpy()
    first = np.r_[True, q[1:] != q[:-1]]
    top = np.flatnonzero(first)
    tq = q[top]
    best[tq] = p["score"].to_numpy()[top]
    # Rivals: another candidate within the margin, far from the best one.
    bx = np.repeat(p["x"].to_numpy()[top], np.diff(np.r_[top, len(p)]))
    by = np.repeat(p["y"].to_numpy()[top], np.diff(np.r_[top, len(p)]))
    bs = np.repeat(best[tq], np.diff(np.r_[top, len(p)]))
    far = np.hypot(p["x"].to_numpy() - bx, p["y"].to_numpy() - by) > AMBIGUOUS_M
    rival = far & (p["score"].to_numpy() >= bs - AMBIGUOUS_MARGIN)
    ambiguous = np.zeros(n, dtype=bool)
    ambiguous[q[rival]] = True
    ok = (best[tq] >= threshold - 1e-9) & ~ambiguous[tq]
    chosen[tq[ok]] = p["v"].to_numpy()[top][ok]
    return chosen, best


def match_addresses(
    addresses: Iterable[object],
    gazetteer: gpd.GeoDataFrame,
    *,
    villages: gpd.GeoDataFrame | None = None,
    threshold: float = MATCH_THRESHOLD,
) -> pd.DataFrame:
    """Place free-text addresses on a gazetteer layer in one call.

    ``Gazetteer.build(gazetteer, villages=villages).match(addresses, threshold=threshold)``;
    build the :class:`Gazetteer` once and reuse it when matching several batches.
    """
    return Gazetteer.build(gazetteer, villages=villages).match(addresses, threshold=threshold)


# --------------------------------------------------------------------------- normalisation


_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def _cn_number(word: str) -> int:
    """``十二`` → 12, ``二十`` → 20, ``一百零五`` → 105, ``一二`` → 12 (digit by digit)."""
    if not any(c in _CN_UNITS for c in word):
        return int("".join(str(_CN_DIGITS[c]) for c in word))
    total, digit = 0, 0
    for c in word:
        if c in _CN_UNITS:
            total += (digit or 1) * _CN_UNITS[c]
            digit = 0
        else:
            digit = _CN_DIGITS[c]
    return total + digit


def _text(values: pd.Series) -> pd.Series:
    """Cells as text (``""`` for missing)."""
    return values.astype(object).where(values.notna(), "").astype(str)


def _normalise(values: pd.Series, prefixes: Sequence[str]) -> pd.Series:
    s = _text(values).str.normalize("NFKC").str.lower()
    s = s.str.replace(r"(\d+)\s*[-－—_/之]\s*\d+\s*号", r"\1号", regex=True)
    s = s.str.replace(f"[^{_CJK}a-z0-9]", "", regex=True)
    s = _synonyms(s)
    s = s.str.replace(
        f"第?([{_NUMERAL}]+)(?=[{_UNITS}])", lambda m: str(_cn_number(m.group(1))), regex=True
    )
    s = s.str.replace(r"第(\d+)(?=组|队)", r"\1", regex=True)
    s = s.str.replace(r"(\d+)队", r"\1组", regex=True)
    s = s.str.replace(r"(?:附近|旁边|对面|门口|周边|一带|处)+$", "", regex=True)
    return s


def _synonyms(s: pd.Series) -> pd.Series:
    s = s.str.replace(r"村民委员会|村委会|村委", "村", regex=True)
    return s.str.replace(r"居民委员会|居委会|居委", "社区", regex=True)


def _normalise_one(text: str) -> str:
    return str(_normalise(pd.Series([text]), ()).iloc[0])


def normalise_address(text: object, *, prefixes: Sequence[str] = ()) -> str:
    """One address as the matcher reads it (see the module docstring, step 1).

    ``"江苏省盐城市射阳县 合德镇人民路十二号"`` with ``prefixes=("江苏省", "盐城市", "射阳县")``
    gives ``"合德镇人民路12号"``.
    """
    norm = tuple(_normalise_one(p) for p in prefixes)
    return str(_strip_prefixes(_normalise(pd.Series([text]), norm), norm).iloc[0])


def _strip_prefixes(s: pd.Series, prefixes: Sequence[str]) -> pd.Series:
    if not prefixes:
        return s
    alt = "|".join(map(re.escape, sorted(prefixes, key=len, reverse=True)))
    return s.str.replace(f"^(?:{alt})+", "", regex=True)


def _learn_prefixes(texts: pd.Series) -> tuple[str, ...]:
    """Province/city/county words that start the gazetteer's addresses: a word ending in
    省/自治区/市/县/区 (no town-level unit such as 开发区) that starts at least a tenth of them,
    then the same on what follows, three times at most."""
    out: set[str] = set()
    rest = texts[texts != ""].reset_index(drop=True)
    for _ in range(3):
        if not len(rest):
            break
        word = rest.str.extract(f"^([{_CJK}]{{2,6}}?(?:省|自治区|市|县|区))", expand=False)
        counts = word.value_counts()
        common = counts[counts >= 0.1 * len(rest)]
        common = common[~common.index.str.contains(_TOWN_SUFFIX)]
        if common.empty:
            break
        out.update(common.index)
        keep = word.isin(common.index).to_numpy()
        rest = pd.Series(
            [t[len(w) :] for t, w in zip(rest[keep], word[keep], strict=True)], dtype=object
        )
    return tuple(out)


def _town_alt(town: pd.Series) -> str:
    names = sorted({t for t in town if t}, key=len, reverse=True)
    return f"(?:{'|'.join(map(re.escape, names))})?" if names else ""


def _cut_town(text: pd.Series, towns: Sequence[str]) -> pd.Series:
    """The text after the first known town name (all of it when none)."""
    if not towns:
        return text
    got = text.str.extract(f"^.*?(?:{'|'.join(map(re.escape, towns))})(.*)$", expand=False)
    return got.where(got.notna(), text)


def _cut_first(text: pd.Series, villages: pd.DataFrame) -> pd.Series:
    """The text after the village or community word (known or village-shaped), if any."""
    known = [s for s in sorted(set(villages["name"]), key=len, reverse=True) if s]
    alt = "|".join([*map(re.escape, known), f"[{_CJK}]{{2,5}}?(?:村|社区)"])
    got = text.str.extract(f"^.*?(?:{alt})(.*)$", expand=False)
    return got.where(got.notna(), text)


def _parse_house(text: pd.Series, villages: pd.DataFrame) -> pd.DataFrame:
    """``road`` + ``number`` (路…18号) or ``group`` + ``number`` (5组12号) from the text after
    the village; ``""`` and -1 where absent."""
    road = text.str.extract(f"([{_CJK}]{{1,8}}?(?:大道|路|街|巷|弄))(\\d+)号")
    group = text.str.extract(r"(\d+)组(?:(\d+)号)?")
    has_road = road[0].notna()
    group_no = pd.to_numeric(group[0].where(~has_road), errors="coerce")
    number = road[1].where(has_road, group[1])
    return pd.DataFrame(
        {
            "road": road[0].fillna("").to_numpy(),
            "group": group_no.fillna(-1).astype(np.int64).to_numpy(),
            "number": pd.to_numeric(number, errors="coerce").fillna(-1).astype(np.int64).to_numpy(),
        },
        index=text.index,
    )


# --------------------------------------------------------------------------- n-gram TF-IDF


def _ngrams(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(row, code) of every character and every boundary-marked character pair, vectorised:
    the strings as a fixed-width UCS-4 array, codes as integers."""
    n = len(strings)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    arr = np.asarray(strings, dtype=str)
    width = max(arr.dtype.itemsize // 4, 1)
    chars = arr.astype(f"<U{width}").view(np.uint32).reshape(n, width).astype(np.int64)
    padded = np.zeros((n, width + 2), np.int64)
    padded[:, 1:-1] = chars
    left, right = padded[:, :-1], padded[:, 1:]
    bigram = (left << 21) | right
    ok_bi = (left > 0) | (right > 0)
    uni_rows, uni_cols = np.nonzero(chars > 0)
    bi_rows, bi_cols = np.nonzero(ok_bi)
    rows = np.concatenate([uni_rows, bi_rows])
    codes = np.concatenate([chars[uni_rows, uni_cols] | (1 << 43), bigram[bi_rows, bi_cols]])
    return rows, codes


class _NgramModel:
    """Character n-gram TF-IDF over a list of names; cosine similarity of queries to them."""

    def __init__(self, names: Sequence[str]) -> None:
        rows, codes = _ngrams(list(names))
        self.n = len(names)
        self.vocab, col = np.unique(codes, return_inverse=True)
        pairs = np.unique(rows * len(self.vocab) + col)
        df = np.bincount(pairs % len(self.vocab), minlength=len(self.vocab))
        self.idf = np.log((1 + self.n) / (1 + df)) + 1.0
        self.oov_idf = np.log(1 + self.n) + 1.0
        self.matrix = self._vectors(rows, col, self.idf[col], self.n, len(self.vocab))

    @staticmethod
    def _vectors(
        rows: np.ndarray,
        col: np.ndarray,
        idf: np.ndarray,
        n: int,
        width: int,
        extra_sq: np.ndarray | None = None,
    ) -> sparse.csr_matrix:
        """Rows of tf·idf weights (repeats summed), scaled to unit length; ``extra_sq`` adds
        squared weight that has no column (a query's unknown n-grams)."""
        weights = sparse.csr_matrix((idf, (rows, col)), shape=(n, width))
        sq = np.asarray(weights.multiply(weights).sum(axis=1)).ravel()
        if extra_sq is not None:
            sq = sq + extra_sq
        scale = np.divide(1.0, np.sqrt(sq), out=np.zeros(n), where=sq > 0)
        return sparse.csr_matrix(sparse.diags(scale) @ weights)

    def similarity(
        self, queries: Sequence[str], *, columns: np.ndarray | None = None
    ) -> np.ndarray:
        """Dense cosine similarities, queries × names (or × ``columns`` of the names)."""
        rows, codes = _ngrams(list(queries))
        pos = np.searchsorted(self.vocab, codes)
        pos = np.minimum(pos, len(self.vocab) - 1) if len(self.vocab) else pos
        known = (self.vocab[pos] == codes) if len(self.vocab) else np.zeros(len(codes), bool)
        # Unknown n-grams weigh in the query's length only.
        oov_sq: np.ndarray = np.zeros(len(queries))
        if (~known).any():
            pair = np.column_stack([rows[~known], codes[~known]])
            uniq, count = np.unique(pair, axis=0, return_counts=True)
            oov_sq = np.bincount(
                uniq[:, 0], weights=(count * self.oov_idf) ** 2, minlength=len(queries)
            )
        q = self._vectors(
            rows[known], pos[known], self.idf[pos[known]], len(queries), len(self.vocab), oov_sq
        )
        target = self.matrix if columns is None else self.matrix[columns]
        return np.asarray((q @ target.T).toarray())
