#!/usr/bin/env python3
"""make lint-size: function sizes in worker/ and ipc/ (the house rule:
median at most 12 lines, none over 60). A function is counted from the line
after its opening brace to the line before its closing brace, both in
column 0 as the house style writes them. Prints the figures; exit 1 when a
rule is broken. Usage: fnsize.py [--list] DIR..."""
import glob
import statistics
import sys

MEDIAN_MAX = 12
SIZE_MAX = 60


def functions(path):
    """(name, body lines) of each function in a C file."""
    out = []
    lines = open(path).read().split("\n")
    start = None
    for i, line in enumerate(lines):
        if line == "{" and i > 0 and "(" in "".join(lines[max(0, i - 3):i]):
            start = i
        elif line == "}" and start is not None:
            head = lines[start - 1]
            j = start - 1
            while j > 0 and "(" not in lines[j]:
                j -= 1
            name = lines[j].split("(")[0].split()[-1].lstrip("*")
            out.append((name, i - start - 1))
            start = None
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    sizes = []
    for d in args:
        for path in sorted(glob.glob(d + "/*.c")):
            for name, n in functions(path):
                sizes.append((n, f"{path}:{name}"))
    if "--list" in sys.argv:
        for n, where in sorted(sizes, reverse=True):
            print(f"{n:4d} {where}")
    ns = [n for n, _ in sizes]
    med = statistics.median(ns)
    big = [(n, w) for n, w in sizes if n > SIZE_MAX]
    print(f"lint-size: {' '.join(args)}: {len(ns)} functions, median "
          f"{med:g} lines, longest {max(ns)} ({max(sizes)[1]})")
    for n, w in big:
        print(f"lint-size: {w} has {n} lines (at most {SIZE_MAX})")
    if med > MEDIAN_MAX:
        print(f"lint-size: median {med:g} over {MEDIAN_MAX}")
    return 1 if big or med > MEDIAN_MAX else 0


if __name__ == "__main__":
    sys.exit(main())
