"""turnout_vision: forced turnout in ballet demi-pliés, measured from one camera.

Pipeline: frames (``video``) -> MediaPipe pose landmarks (``extract``) -> ``PoseSequence`` ->
pure numpy/scipy analysis (``analysis``) -> result -> reports (``report``). Conventions for axes,
sides and angles: ``docs/CONVENTIONS.md``.
"""

from .config import Config, load_config
from .sequence import PoseSequence

__version__ = "0.1.0"

__all__ = ["Config", "PoseSequence", "__version__", "load_config"]
