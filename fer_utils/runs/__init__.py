"""Run tooling, kept apart from the teaching code: notebooks, parameters, results, sweeps.

:mod:`fer_utils.runs.notebooks` orders the numbered notebooks, injects their parameters and
executes them with papermill (``make run``, ``make test``); :mod:`fer_utils.runs.params`
checks a notebook's parameters in its first code cell; :mod:`fer_utils.runs.record` is the
``result.json`` every notebook writes last; :mod:`fer_utils.runs.results` merges a run's
rows into the committed ``results/*.csv`` tables; :mod:`fer_utils.runs.grid`,
:mod:`fer_utils.runs.cell` and :mod:`fer_utils.runs.sweep` run a notebook over a parameter
grid (``python -m fer_utils.sweep``); :mod:`fer_utils.runs.ablations` plans paper A's
ablation sweeps and makes the Table 4, Table 5 and Fig. 7 tables from them, and
:mod:`fer_utils.runs.claims` checks the paper's claims against those tables (notebook 07).
No equation of either paper lives here.
"""
