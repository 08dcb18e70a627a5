"""Development-only simulators for botstudy's tests and benchmarks: the synthetic sample
generator (`synthetic`), a fake GitHub REST API on loopback (`fake_github`), GitHub-shaped
corpora built from labelled threads (`corpora`) and in-process graph runs (`runner`).

Nothing in the code location (`botstudy_assets`) imports this package.
"""
