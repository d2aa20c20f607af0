#!/usr/bin/env python3
"""An independent, idealised model of rumor mongering (Demers et al. 1987), for comparison with
`drizzle sim rumor`. It is not BitDrizzle code: no envelope, no network, only the rules.

n sites, one rumor injected at a random site in cycle 0. In each cycle every site still spreading
the rumor ("hot") pushes it to one other site chosen uniformly at random. A site that learns the
rumor in cycle c starts pushing in cycle c + 1. The run ends when no site is hot.

  feedback-counter: a site loses interest after k pushes that reached a site that already knew.
  blind-coin:       after every push a site loses interest with probability 1/k.

`convention` decides what "already knew" means for a push that reaches a site which learned the
rumor earlier in the same cycle:
  delivery: it knew (what BitDrizzle's simulator does: pushes are handled as they arrive);
  start:    it did not (knowledge is judged as of the start of the cycle).

Columns as in `drizzle sim rumor`: residue s, traffic m (pushes per site), t_ave and t_last in
cycles (over the sites that learned the rumor, the injecting site counting as cycle 0).

Usage: python3 docs/figures/demers-model.py [runs]     (default 200 runs per k, seeded)
"""
import math
import random
import sys


def epidemic(n, k, variant, convention, rng):
    known = [False] * n
    learned = [None] * n
    counter = [0] * n
    origin = rng.randrange(n)
    known[origin], learned[origin] = True, 0
    hot = {origin}
    pushes, cycle = 0, 0
    while hot:
        cycle += 1
        known_at_start = known[:]
        for sender in sorted(hot):
            peer = rng.randrange(n - 1)
            peer += peer >= sender
            pushes += 1
            knew = known_at_start[peer] if convention == "start" else known[peer]
            if not known[peer]:
                known[peer], learned[peer] = True, cycle
            if variant == "feedback-counter":
                if knew:
                    counter[sender] += 1
                    if counter[sender] >= k:
                        hot.discard(sender)
            elif rng.randrange(k) == 0:  # blind-coin
                hot.discard(sender)
        hot |= {site for site in range(n) if learned[site] == cycle}
    times = [t for t in learned if t is not None]
    return 1 - len(times) / n, pushes / n, sum(times) / len(times), max(times)


def main():
    n = 1000
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    cases = [("feedback-counter", "delivery"), ("feedback-counter", "start"), ("blind-coin", "delivery")]
    for variant, convention in cases:
        print(f"# {variant}, convention={convention}, n={n}, runs={runs}")
        print("k  residue  traffic  t_ave  t_last   e^-m")
        for k in range(1, 6):
            rng = random.Random(1000 * k + 7)
            totals = [0.0] * 4
            for _ in range(runs):
                totals = [a + b for a, b in zip(totals, epidemic(n, k, variant, convention, rng))]
            s, m, t_ave, t_last = (x / runs for x in totals)
            print(f"{k}   {s:.4f}     {m:.2f}   {t_ave:4.1f}    {t_last:4.1f}  {math.exp(-m):.4f}")
        print()


if __name__ == "__main__":
    main()
