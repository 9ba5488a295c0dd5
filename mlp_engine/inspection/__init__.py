"""Look inside a model: one example walked forward and backward, stage by stage, and a
confusion matrix over a dataset.

================  ================================================================
module            holds
================  ================================================================
``trace``         :func:`trace_example`: the numbers of every stage, checked against the engine
``views``         how arrays are written as JSON: in full when small, else summary and top entries
``explanations``  the teaching text: each stage's formula, notes, optimiser update rules
``confusion``     :func:`evaluate_confusion`: confusion matrix, per-class accuracy, worst mistakes
================  ================================================================
"""

from .confusion import evaluate_confusion
from .trace import trace_example

__all__ = ["evaluate_confusion", "trace_example"]
