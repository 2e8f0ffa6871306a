"""Pure analysis: numpy and scipy only (no I/O, no OpenCV, no MediaPipe). Entry point: ``core.analyze``."""
