"""One run of `check`: the pipeline (config -> files -> facts -> graph -> findings), findings as
data, the baseline, and the comparison of a change with its base (`check --diff`)."""
