"""Where the default model lives: ``$DIPLOSTANCE_MODEL`` if set, else the per-user cache folder."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

MODEL_ENV_VAR = "DIPLOSTANCE_MODEL"


def default_model_dir() -> Path:
    """The model folder used when none is given (per-user cache, e.g. ~/.cache/diplostance/model)."""
    configured = os.environ.get(MODEL_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_cache_dir("diplostance")) / "model"
