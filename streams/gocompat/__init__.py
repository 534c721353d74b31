"""Go semantics the rest of the package depends on: dates (``time``), white space (``strings``), ``encoding/csv``
and ``encoding/json``. gogen's answers and bytes follow from them, so every layer may import this package and it
imports nothing of the project's."""
