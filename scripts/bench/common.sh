# Helpers the whole-process benchmarks share (source it).
# median: the median of the numbers on stdin, one per line.
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
# timed CMD...: CMD's wall time in seconds (its output dropped).
timed() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
# random_fasta OUT N LEN: N uniform random sequences of LEN bp (seed 1),
# named s0.. with a 0/1 label.
random_fasta() {
  python3 - "$1" "$2" "$3" <<'PY'
import random, sys
random.seed(1)
out, n, length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(out, "w") as f:
    for i in range(n):
        f.write(f">s{i} {i % 2}\n" + "".join(random.choice("ACGT") for _ in range(length)) + "\n")
PY
}
