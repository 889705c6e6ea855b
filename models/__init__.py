"""Pose-model assets: which models exist, where they come from, checksums, provisioning."""
