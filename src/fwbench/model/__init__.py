"""A performance model of every framework/server pair, fitted from measurements.

Public API (everything else is private):

* :func:`fit_pair` fits a :class:`PairModel` from a pair's :class:`Point` s (pure);
* :func:`predict` answers a :class:`Query` with a :class:`Prediction` (pure), and
  :func:`parse_query` reads one from ``"flask/gunicorn-gthread workers=5 rps=400"``;
* :func:`validate` compares predictions with the points kept out of the fit;
* :func:`measure` runs the sweep on real servers (:mod:`._sweep`) and :func:`build`
  turns its points into a stored :class:`ModelDocument`.

The laws are in :mod:`fwbench.model._laws`; docs/model.md explains them.
"""

from fwbench.model._document import (
    SCHEMA_VERSION,
    Check,
    MemoryPoint,
    ModelDocument,
    PairModel,
    Point,
    Setup,
    StartupPoint,
)
from fwbench.model._fit import FitError, fit_pair
from fwbench.model._predict import BadQuery, Prediction, Query, parse_query, predict
from fwbench.model._validate import FLAG_ERROR, TARGET_ERROR, median_error, validate

__all__ = [
    "FLAG_ERROR",
    "SCHEMA_VERSION",
    "TARGET_ERROR",
    "BadQuery",
    "Check",
    "FitError",
    "MemoryPoint",
    "ModelDocument",
    "PairModel",
    "Point",
    "Prediction",
    "Query",
    "Setup",
    "StartupPoint",
    "fit_pair",
    "median_error",
    "parse_query",
    "predict",
    "validate",
]
