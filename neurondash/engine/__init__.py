"""The NumPy engine: layers, activations, initializers, losses, optimizers, training."""
