"""Run tooling, kept apart from the teaching code: notebooks, parameters, results tables.

:mod:`fer_utils.runs.notebooks` orders the numbered notebooks, injects their parameters and
executes them with papermill (``make run``, ``make test``); :mod:`fer_utils.runs.params`
checks a notebook's parameters in its first code cell; :mod:`fer_utils.runs.results`
merges a run's rows into the committed ``results/*.csv`` tables. No equation of either
paper lives here.
"""
