"""calibrate — reproduce, test and re-weight enterprise innovation points policies (企业创新积分制).

Imports are kept light: heavy libraries (LightGBM, SHAP, Optuna, MLflow, matplotlib) load only in
the modules that use them, so ``import calibrate`` and ``calibrate --help`` stay fast.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("calibrate")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
