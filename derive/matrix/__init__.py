"""The catalogue's matrix derivatives: index form, reverse accumulation, brute-force checks at concrete sizes."""
