raise ImportError("TensorFlow is blocked in this test: the device side must not need it")
