"""Result files in gogen's exact formats: Go ``encoding/csv`` rows, Go ``encoding/json`` summaries."""
