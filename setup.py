"""Packages for setuptools (the metadata is in pyproject.toml): edge_app and its subpackages, and the repo's
models/ folder installed as edge_app/models, so the wheel carries the shipped models while the workstation
keeps writing them to models/. train/, calibration/ and export/ stay out: the device gets no TensorFlow code."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["edge_app", "edge_app.*"]) + ["edge_app.models"],
    package_dir={"edge_app.models": "models"},
)
