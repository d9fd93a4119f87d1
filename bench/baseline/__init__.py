"""A product API written the way most DRF projects are: the benchmark's baseline."""
