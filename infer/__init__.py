"""diplostance.infer: the Python API, backends, file scoring and the CLI.

Names are imported on first use (PEP 562), so that ``diplostance --help`` and argument errors
answer before torch and transformers load.
"""

from importlib import import_module

_EXPORTS = {
    "EvidenceSpan": ".classifier",
    "Prediction": ".classifier",
    "StanceClassifier": ".classifier",
    "resolve_parties": ".actors",
    "trends": ".trends",
    "plot_trends": ".trends",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value
