"""The engine, bottom-up: tensor -> autograd -> activations -> module/layers -> losses -> ..."""
