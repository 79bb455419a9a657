"""The benchmarks' shared code: what the scripts in benchmarks/ have in common.

Each script (`python benchmarks/<script>.py ...`) runs with benchmarks/ as sys.path[0], so
`from harness import ...` needs no path set-up. The modules:

    paths        where the cache (benchmarks/.cache) and the results files are
    workspaces   the pinned real workspaces (wheels, the flask sdist): download, sha256, unpack
    definitions  every class/def of a workspace by Python's ast
    machine      machine facts, the load average, and the one versions() of every results file
    proc         /proc: a process tree's memory and CPU (TreeSampler), the machine's CPU
    stats        nearest-rank percentiles, latency summaries, medians, log-log slopes
    report       the timestamp, write_report and write_json: how every results file is written
    venvs        pinned tools (peer servers, py-spy) in virtualenvs of their own
    lsp          the LSP client session that drives a server over stdio (pytest-lsp, pygls)
    peers        the servers lsp_bench compares: Aurora and three pinned peers
    profiles     py-spy recording and the summaries of py-spy and tracemalloc profiles
    aurora       every in-process use of Aurora's own code (`aurora_lsp`), in one place
"""
