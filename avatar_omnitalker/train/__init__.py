"""Training: configs, the (torchrun) trainer, the vocoder trainer and shipping of the built-in model."""
