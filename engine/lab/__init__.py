"""The lab: scale experiments (exact vs ANN, ``scale``) and 2-D maps of the spaces (``projection``)."""
