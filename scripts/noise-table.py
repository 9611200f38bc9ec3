#!/usr/bin/env python3
"""Tabulate A/A runs (swapbench selftest-noise or any run of one kernel under
two names) for docs/noise.md: per mode and metric, the CoeffVar of each side,
the paired CoeffVar (sd of ln(B_i/A_i) over adjacent cells, / sqrt 2, so it
reads like a per-side CV), the MDE, and the rows compare flags (false
positives), unpaired and paired. Derived rows: elapsed_per_swapout (us) = elapsed /
(pswpout + zswpout), the cost per page swapped out.

  scripts/noise-table.py [--bin build/swapbench] LABEL=RUN_DIR ...
"""
import json, math, os, subprocess, sys, glob


def cv(v):
    if len(v) < 2:
        return float('nan')
    m = sum(v) / len(v)
    s = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))
    return s / m if m else float('nan')


def paired_cv(a, b):
    d = [math.log(b[i] / a[i]) for i in a if i in b and a[i] > 0 and b[i] > 0]
    if len(d) < 2:
        return float('nan')
    m = sum(d) / len(d)
    return math.sqrt(sum((x - m) ** 2 for x in d) / (len(d) - 1)) / math.sqrt(2)


def cells(run):
    out = {}
    for f in glob.glob(os.path.join(run, 'cells', '*', 'result.json')):
        r = json.load(open(f))
        if r.get('status') != 'ok':
            continue
        m = {x['name']: x['value'] for x in r.get('metrics', [])}
        v = r.get('counters', {}).get('vmstat', {}).get('delta', {})
        pages = (v.get('pswpout') or 0) + (v.get('zswpout') or 0)
        if pages and 'elapsed' in m:
            m['elapsed_per_swapout'] = m['elapsed'] * 1e6 / pages
        if pages:
            m['pages_swapped_out'] = pages
        hn = r.get('host', {}).get('noise') or {}
        key = (r['topology'], r['workload'])
        out.setdefault(key, {}).setdefault(r['kernel'], {})[r['iteration']] = (m, hn)
    return out


def main(argv):
    sb = 'build/swapbench'
    if len(argv) > 2 and argv[1] == '--bin':
        sb, argv = argv[2], argv[:1] + argv[3:]
    print('| mode | topology | metric | n (A/B) | CV A | CV B | paired CV | MDE | paired MDE | verdict | paired |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    summary = []
    for arg in argv[1:]:
        label, run = arg.split('=', 1)
        verdicts = {}
        for paired in (0, 1):
            cmd = [sb, 'compare', run, '--json'] + (['--paired'] if paired else [])
            doc = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
            for g in doc['groups']:
                for m in g['metrics']:
                    ch = m['changes'][1] or {}
                    verdicts.setdefault((g['topology'], g['workload'], m['name']), {})[paired] = ch
        data = cells(run)
        nrows = flagged = pflagged = 0
        loads = []
        for (topo, wl), ks in sorted(data.items()):
            a, b = ks.get('A', {}), ks.get('B', {})
            for it in list(a.values()) + list(b.values()):
                if it[1]:
                    loads.append((it[1].get('load1_start', 0) + it[1].get('load1_end', 0)) / 2)
            names = sorted({n for it in a.values() for n in it[0]})
            for n in names:
                va = {i: x[0][n] for i, x in a.items() if n in x[0]}
                vb = {i: x[0][n] for i, x in b.items() if n in x[0]}
                ch = verdicts.get((topo, wl, n), {})
                u, p = ch.get(0, {}), ch.get(1, {})
                if u:
                    nrows += 1
                    flagged += u.get('verdict') in ('better', 'worse')
                    pflagged += p.get('verdict') in ('better', 'worse')
                f = lambda x: '%.1f%%' % (100 * x) if x == x else 'n/a'
                g = lambda x: '%.1f%%' % x if isinstance(x, (int, float)) else 'n/a'
                print('| %s | %s | %s | %d/%d | %s | %s | %s | %s | %s | %s | %s |' % (
                    label, topo, n, len(va), len(vb), f(cv(list(va.values()))), f(cv(list(vb.values()))),
                    f(paired_cv(va, vb)), g(u.get('mde_pct')), g(u.get('paired_mde_pct')),
                    u.get('verdict', '(derived)'), p.get('verdict', '')))
        summary.append((label, nrows, flagged, pflagged, loads))
    print()
    for label, n, fl, pfl, loads in summary:
        ld = ('host load1 %.1f..%.1f (mean %.1f) on %d CPUs' % (min(loads), max(loads), sum(loads) / len(loads),
                                                         os.cpu_count())) if loads else 'host load not recorded'
        print('- %s: %d of %d rows flagged (unpaired), %d paired; %s' % (label, fl, n, pfl, ld))


if __name__ == '__main__':
    main(sys.argv)
