"""Calibration of the model to real public data.

moments: named moments of the standard tables (`MOMENTS`, `compute_moments`) and their moving-block
bootstrap over weeks. targets (run as `python -m sim.calibration.targets`): the moments of the real data
with standard errors, written to calibration/targets/targets.yaml.
"""

from sim.calibration.moments import MOMENTS, Moment, compute_moments

__all__ = ["MOMENTS", "Moment", "compute_moments"]
