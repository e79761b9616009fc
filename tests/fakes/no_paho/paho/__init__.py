raise ImportError("paho-mqtt is blocked in this test: a device without the MQTT extra")
