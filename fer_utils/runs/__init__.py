"""Run tooling: the notebook runner and results-table updates, kept apart from the teaching code.

:mod:`fer_utils.runs.notebooks` orders the numbered notebooks, injects their parameters and
executes them with papermill (``make run``, ``make test``); :mod:`fer_utils.runs.results`
merges a run's rows into the committed ``results/*.csv`` tables. Nothing here is taught in
the notebooks.
"""
