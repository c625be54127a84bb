import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

IN_CI = os.environ.get("CI", "").lower() == "true"
