"""Where the project's editable content lives (prompts, models, tips, demo page).

The content directories sit beside `server/` in the repository so that product
people edit plain files; PHOTOTIPS_HOME points elsewhere when installed apart.
"""

import os
from pathlib import Path

HOME = Path(os.environ.get("PHOTOTIPS_HOME", Path(__file__).resolve().parent.parent))
CONTENT = HOME / "content"
MODELS = HOME / "models"
PROMPTS = HOME / "prompts"
CLIENT_DEMO = HOME / "client_demo"
