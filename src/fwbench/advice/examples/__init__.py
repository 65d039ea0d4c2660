"""Example profiles for ``fwbench advise --profile`` (realistic situations, one per file)."""
