"""The ops of a .tflite file in graph order, read from the flatbuffer itself (no interpreter, no private API)."""

from __future__ import annotations


def operators(path) -> list[tuple[str, list[int]]]:
    """(builtin op name, input tensor indices) of each op of the main graph, in order."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(path))
    return [(flatbuffer_utils.opcode_to_name(model, op.opcodeIndex), [int(i) for i in op.inputs])
            for op in model.subgraphs[0].operators]
