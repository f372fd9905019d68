"""`python -m components.config` (`make docs`): write docs/config.md from the settings' documentation."""

import pathlib
import sys

from components.config import render_reference

if __name__ == "__main__":
    target = pathlib.Path(__file__).resolve().parents[2] / "docs" / "config.md"
    target.write_text(render_reference())
    print(f"wrote {target}", file=sys.stderr)
