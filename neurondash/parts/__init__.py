"""The building blocks: activations, initializers, layers, losses, optimizers and the array
helpers they share, each registry keyed by name. They import nothing else of the package,
so the settings table can offer their names (``config`` imports them) and the engine
composes them into a model and a training loop."""
