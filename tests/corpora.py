"""Public test material nobody here wrote: `shared/corpora/` beside the repository (see its README)."""

from pathlib import Path

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
