"""Models: family configuration and registry (`registry`), training (`training`), prediction and
calibration (`predict`, `calibration`), walk-forward orchestration (`runner`).

Pure polars/catboost logic; never imports dagster.
"""
