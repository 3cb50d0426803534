"""mlops-ladder: ML repositories at a chosen MLOps maturity level, and the way up."""

__version__ = "0.1.0"
