"""A performance model of every framework/server pair, fitted from measurements.

The public API (the modules behind it are private):

* fitting and predicting, pure: :func:`fit_pair` fits a :class:`PairModel` from a
  pair's :class:`Point` s; :func:`predict` answers a :class:`Query` (read one with
  :func:`parse_query`) with a :class:`Prediction`; :func:`validate` compares predictions
  with the points kept out of the fit;
* measuring: :func:`measure` runs a :class:`Plan` (:data:`FULL_PLAN`,
  :data:`QUICK_PLAN`) over :func:`targets` on real servers, where a :class:`Stand` says:
  this machine (:class:`LocalStand`) or the hosts of a hosts file (:class:`HostsStand`);
* the stored document: :class:`ModelDocument`, :func:`fitted` (fit and validate its raw
  points), :func:`read_model_file`, :func:`load_document`, :func:`save_document` (a results
  file's ``model`` section), :func:`choose` (one pair);
* printing: :func:`print_document`, :func:`print_prediction`.

The laws are in :mod:`fwbench.model._laws`; docs/model.md explains them.
"""

from fwbench.model._build import (
    ModelFileError,
    choose,
    fitted,
    load_document,
    read_model_file,
    save_document,
)
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
from fwbench.model._hosts import HostsStand
from fwbench.model._predict import BadQuery, Prediction, Query, parse_query, predict
from fwbench.model._render import print_document, print_prediction
from fwbench.model._sweep import FULL as FULL_PLAN
from fwbench.model._sweep import QUICK as QUICK_PLAN
from fwbench.model._sweep import (
    SATURATED_CONNECTIONS,
    LocalStand,
    Measured,
    Plan,
    Stand,
    Target,
    measure,
    targets,
)
from fwbench.model._validate import FLAG_ERROR, TARGET_ERROR, median_error, validate

__all__ = [
    "FLAG_ERROR",
    "FULL_PLAN",
    "QUICK_PLAN",
    "SATURATED_CONNECTIONS",
    "SCHEMA_VERSION",
    "TARGET_ERROR",
    "BadQuery",
    "Check",
    "FitError",
    "HostsStand",
    "LocalStand",
    "Measured",
    "MemoryPoint",
    "ModelDocument",
    "ModelFileError",
    "PairModel",
    "Plan",
    "Point",
    "Prediction",
    "Query",
    "Setup",
    "Stand",
    "StartupPoint",
    "Target",
    "choose",
    "fit_pair",
    "fitted",
    "load_document",
    "measure",
    "median_error",
    "parse_query",
    "predict",
    "print_document",
    "print_prediction",
    "read_model_file",
    "save_document",
    "targets",
    "validate",
]
