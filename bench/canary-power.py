#!/usr/bin/env python3
"""How many canary requests the error-rate test needs, by baseline error rate.

A replica of ErrorRateTest and the step logic of CanaryJudge (SlipwayCore/Canary) for quick what-ifs:
200 req/s split by weight over steps 5% -> 25% -> 50%, the rule `error_rate > baseline + 1%`,
min_requests 200, alpha 0.002, beta 0.05, p0 = Jeffreys' estimate of the baseline floored at 0.05%.
For each baseline it prints the false-alarm rate on identical releases and, for a canary 2 points
worse, the share caught within 500 canary requests and the median number of canary requests needed.
The Swift tests (CanaryJudgeTests) check the same figures against the real code.

Usage: bench/canary-power.py [RUNS]   (needs numpy)
"""
import math, sys
import numpy as np

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
ALPHA, BETA, FLOOR, MARGIN, MIN_REQ = 0.002, 0.05, 0.0005, 0.01, 200
rng = np.random.default_rng(1)

def run(pb, pc, rps=200, weights=(5, 25, 50), cap=1800):
    up, lo = math.log((1 - BETA) / ALPHA), math.log(BETA / (1 - ALPHA))
    llr, nb, eb, total = 0.0, 0, 0, 0
    for w in weights:
        step_n, accepted = 0, False
        for _ in range(cap):
            nc = rng.binomial(rps, w / 100); nbi = rps - nc
            ec = rng.binomial(nc, pc); nb += nbi; eb += rng.binomial(nbi, pb)
            p0 = max((eb + 0.5) / (nb + 1), FLOOR); p1 = min(p0 + MARGIN, 0.999)
            llr += ec * math.log(p1 / p0) + (nc - ec) * math.log((1 - p1) / (1 - p0))
            total += nc; step_n += nc
            if llr >= up and total >= MIN_REQ: return "fail", total
            if llr <= lo: llr, accepted = lo, True
            if step_n >= MIN_REQ and accepted: break
        else:
            return "undecided", total
    return "promoted", total

print(f"{'baseline':>9} {'false alarms':>13} {'+2pt caught <= 500':>19} {'+2pt median requests':>21}")
for pb in [0.0, 0.001, 0.005, 0.01, 0.02, 0.05]:
    fa = sum(run(pb, pb)[0] == "fail" for _ in range(RUNS)) / RUNS
    caught = [n for r, n in (run(pb, pb + 0.02) for _ in range(RUNS)) if r == "fail"]
    within = sum(n <= 500 for n in caught) / RUNS
    print(f"{pb * 100:>8.1f}% {fa * 100:>12.1f}% {within * 100:>18.0f}% {np.median(caught) if caught else float('nan'):>21.0f}")
