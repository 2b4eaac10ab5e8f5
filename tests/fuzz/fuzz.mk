# Placeholder until the fuzz targets land.
fuzz:
	@echo "no fuzz targets yet"; exit 1
.PHONY: fuzz
