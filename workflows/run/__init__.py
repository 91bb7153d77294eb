"""A configured run: config schema, study (cached conversion, series table, split), runner,
evaluation, prediction and the run directory. Imports ``train``, ``convert`` and ``report``."""
