"""A stand-in for picamera2.devices.IMX500 (no AI Camera here) that behaves like it where the app depends on it.

The "network.rpk" it loads is an .npz (tests/fixtures/imx500_detector.npz, made by export --target imx500
--fixture): the network's name and input size, and the outputs the MCT-quantized detector computed on each of
the fixture's frames. Each request of the stand-in Picamera2 (FAKE_PICAMERA_FRAMES, the same frames in the same
order) then carries those outputs in its metadata the way libcamera does: CnnOutputTensor as a flat float list
in Fortran order and CnnOutputTensorInfo as the C struct, which get_outputs() parses as picamera2 does.

FAKE_IMX500_ABSENT=1: no AI Camera is connected (picamera2's RuntimeError).
FAKE_IMX500_SILENT_FRAMES=N: the first N frames carry no outputs (the network's firmware still uploading).
FAKE_IMX500_ROI_LOG=FILE: each set_inference_roi_abs((x, y, w, h)) is appended to FILE as a JSON line.
Frames carry the ScalerCrop of the whole IMX500 sensor (SENSOR), as a 4:3 main stream has it.
"""

import ctypes
import json
import os
import sys

import numpy as np

import picamera2

NETWORK_NAME_LEN = 64
MAX_NUM_TENSORS = 16
MAX_NUM_DIMENSIONS = 16
SENSOR = (4056, 3040)  # the IMX500's full resolution: set_inference_roi_abs takes its pixels


class OutputTensorInfo(ctypes.LittleEndianStructure):
    _fields_ = [("tensor_data_num", ctypes.c_uint32), ("num_dimensions", ctypes.c_uint32),
                ("size", ctypes.c_uint16 * MAX_NUM_DIMENSIONS)]


class CnnOutputTensorInfoExported(ctypes.LittleEndianStructure):
    _fields_ = [("network_name", ctypes.c_char * NETWORK_NAME_LEN), ("num_tensors", ctypes.c_uint32),
                ("info", OutputTensorInfo * MAX_NUM_TENSORS), ("frameCount", ctypes.c_uint8)]


class IMX500:
    def __init__(self, network_file: str, camera_id: str = ""):
        if os.environ.get("FAKE_IMX500_ABSENT"):
            raise RuntimeError("IMX500: Requested camera dev-node not found")
        if not os.path.isfile(network_file):
            raise RuntimeError(f"Firmware file {network_file} does not exist.")
        with np.load(network_file) as f:
            self._name = str(f["network_name"])
            self._size = tuple(int(v) for v in f["input_size"])
            self._outputs = [f[k] for k in f["output_order"]]  # each (frames, h, w, c)
        self._silent = int(os.environ.get("FAKE_IMX500_SILENT_FRAMES", "0"))
        self._seen = 0
        picamera2._metadata_hooks[:] = [self._metadata]

    @property
    def camera_num(self):
        return 0

    def get_input_size(self):
        return self._size

    def set_inference_roi_abs(self, roi):
        assert len(roi) == 4 and all(isinstance(v, int) for v in roi), roi  # picamera2 packs them as uint32
        log = os.environ.get("FAKE_IMX500_ROI_LOG")
        if log:
            with open(log, "a") as f:
                f.write(json.dumps(list(roi)) + "\n")

    def show_network_fw_progress_bar(self):
        print("Network Firmware Upload: 100%|##########| 103k/103k [00:00<00:00]", file=sys.stderr)

    def _metadata(self, index: int) -> dict:
        self._seen += 1
        if self._seen <= self._silent:
            return {"ScalerCrop": (0, 0, *SENSOR)}
        tensors = [o[index] for o in self._outputs]
        info = CnnOutputTensorInfoExported()
        info.network_name = self._name.encode()
        info.num_tensors = len(tensors)
        for i, t in enumerate(tensors):
            info.info[i].tensor_data_num = t.size
            info.info[i].num_dimensions = t.ndim
            for d, v in enumerate(t.shape):
                info.info[i].size[d] = v
        flat = np.concatenate([t.flatten(order="F") for t in tensors]).astype(np.float32)
        return {"CnnOutputTensor": flat.tolist(), "CnnOutputTensorInfo": bytes(info), "ScalerCrop": (0, 0, *SENSOR)}

    # picamera2's own parsing, as in picamera2/devices/imx500/imx500.py
    def get_outputs(self, metadata: dict, add_batch=False):
        output_tensor = metadata.get("CnnOutputTensor")
        if not output_tensor:
            return None
        np_output = np.fromiter(output_tensor, dtype=np.float32)
        offset, outputs = 0, []
        for shape in self.get_output_shapes(metadata):
            size = int(np.prod(shape))
            tensor = np_output[offset : offset + size].reshape(shape, order="F")
            outputs.append(np.expand_dims(tensor, 0) if add_batch else tensor)
            offset += size
        return outputs

    def get_output_shapes(self, metadata: dict):
        info = metadata.get("CnnOutputTensorInfo")
        if not info:
            return []
        return [o["size"] for o in self.__get_output_tensor_info(info)["info"]]

    def __get_output_tensor_info(self, tensor_info) -> dict:
        parsed = CnnOutputTensorInfoExported()
        ctypes.memmove(ctypes.addressof(parsed), bytes(tensor_info), ctypes.sizeof(parsed))
        return {"network_name": parsed.network_name.decode("utf-8").strip("\x00"), "num_tensors": parsed.num_tensors,
                "info": [{"size": list(t.size)[: t.num_dimensions]} for t in parsed.info[: parsed.num_tensors]]}
