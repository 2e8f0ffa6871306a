"""Outputs of one analysed video: annotated video, per-frame CSV, JSON and the HTML report.

Everything here only draws or writes what the analysis measured; no scoring happens in this package.
"""
