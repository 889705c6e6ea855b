"""Pixels and models: video decode/encode, pose estimation, drawing."""
