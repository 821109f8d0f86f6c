"""Runs MET Norway's reference implementations (titanlib, gridpp) on cases read as JSON.

stdin:  {"threads": 1, "cases": [{"op": "buddy_check" | "sct" | "oi", ...}, ...]}
stdout: {"versions": {...}, "results": [{...}, ...]}   one result per case, in order

Numbers may be null for a missing value (NaN). Each result carries "seconds": the wall time of the
library call alone (no JSON, no start-up). For the reference tests and the QC comparison only.
"""
import json
import math
import sys
import time

import gridpp
import numpy as np
import titanlib


def arr(values, dtype=np.float32):
    return np.array([math.nan if v is None else v for v in values], dtype=dtype)


def out(values):
    return [None if not math.isfinite(v) else float(v) for v in np.asarray(values, dtype=np.float64)]


def points_titanlib(p):
    """Geodetic (lat, lon in degrees) or Cartesian (x, y in metres) points with elevations [m]."""
    if "x" in p:
        return titanlib.Points(arr(p["y"]), arr(p["x"]), arr(p["z"]), arr([0] * len(p["x"])), titanlib.Cartesian)
    return titanlib.Points(arr(p["lat"]), arr(p["lon"]), arr(p["z"]))


def buddy_check(c):
    points = points_titanlib(c["points"])
    values = arr(c["values"])
    t0 = time.perf_counter()
    flags = titanlib.buddy_check(points, values, arr([c["radius"]]), np.array([c["num_min"]], dtype=np.int32),
                                 c["threshold"], c["max_elev_diff"], c["elev_gradient"], c["min_std"],
                                 c["num_iterations"])
    seconds = time.perf_counter() - t0
    return {"flags": [int(f) for f in flags], "seconds": seconds}


def sct(c):
    points = points_titanlib(c["points"])
    values = arr(c["values"])
    n = len(values)
    per = lambda key: arr(c[key] if isinstance(c[key], list) else [c[key]] * n)
    pos, neg, eps2 = per("pos"), per("neg"), per("eps2")
    t0 = time.perf_counter()
    flags, score, _rep = titanlib.sct(points, values, c["num_min"], c["num_max"], c["inner_radius"], c["outer_radius"],
                                      c["num_iterations"], c["num_min_prof"], c["min_elev_diff"],
                                      c["min_horizontal_scale"], c["vertical_scale"], pos, neg, eps2)
    seconds = time.perf_counter() - t0
    return {"flags": [int(f) for f in flags], "score": out(score), "seconds": seconds}


def oi(c):
    """gridpp's optimal_interpolation and optimal_interpolation_full on Cartesian points, zero background,
    unit background variance: the analysis is the increment, the analysis variance the variance ratio."""
    t, o = c["targets"], c["obs"]
    nt, no = len(t["x"]), len(o["x"])
    bpoints = gridpp.Points(arr(t["y"]), arr(t["x"]), arr(t["z"]), arr([0] * nt), gridpp.Cartesian)
    opoints = gridpp.Points(arr(o["y"]), arr(o["x"]), arr(o["z"]), arr([0] * no), gridpp.Cartesian)
    structure = gridpp.BarnesStructure(c["h"], c["v"], 0, c["localization"])
    innovation, ratio = arr(o["innovation"]), arr(o["ratio"])
    zeros_t, zeros_o = np.zeros(nt, dtype=np.float32), np.zeros(no, dtype=np.float32)
    ones_t, ones_o = np.ones(nt, dtype=np.float32), np.ones(no, dtype=np.float32)
    t0 = time.perf_counter()
    plain = gridpp.optimal_interpolation(bpoints, zeros_t, opoints, innovation, ratio, zeros_o, structure,
                                         c["max_points"], c["allow_extrapolation"])
    seconds = time.perf_counter() - t0
    full, variance = gridpp.optimal_interpolation_full(bpoints, zeros_t, ones_t, opoints, innovation, ratio, zeros_o,
                                                       ones_o, structure, c["max_points"], c["allow_extrapolation"])
    return {"increment": out(plain), "increment_full": out(full), "variance_ratio": out(variance), "seconds": seconds}


OPS = {"buddy_check": buddy_check, "sct": sct, "oi": oi}


def main():
    request = json.load(sys.stdin)
    threads = int(request.get("threads", 1))
    titanlib.set_omp_threads(threads)
    gridpp.set_omp_threads(threads)
    results = []
    for i, case in enumerate(request["cases"]):
        op = OPS.get(case.get("op"))
        if op is None:
            raise SystemExit(f"case {i}: unknown op {case.get('op')!r} (one of {', '.join(OPS)})")
        results.append(op(case))
    json.dump({"versions": {"titanlib": titanlib.version(), "gridpp": gridpp.version(), "threads": threads},
               "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
