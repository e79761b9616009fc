"""Running models on the device: the model card, the TF Lite runtime, the number reader and the detector."""
