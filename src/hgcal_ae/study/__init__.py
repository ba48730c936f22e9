"""The compression study: presets, evaluation of every algorithm at every e-link setting, report."""
