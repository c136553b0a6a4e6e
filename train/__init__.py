"""diplostance.train: the corpus, fine-tuning, calibration and the baselines."""
