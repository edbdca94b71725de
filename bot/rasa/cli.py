"""`rasa` with the project's patches installed (bot.rasa.patches, config/patches.yml): the same arguments.

    python -m bot.rasa.cli run --model models/benzo-family.tar.gz ...     the Rasa server (scripts/run.sh, tests)
    python -m bot.rasa.cli shell ...                                      make shell

The served model, the shell and `rasa test` then run the code that ships; a plain `rasa` runs Rasa's own code.
Training (tools.training) does not come through here: it runs Rasa's own code.
"""

from __future__ import annotations

import sys

from bot.rasa import patches


def main() -> None:
    patches.install()  # refuses a Rasa version other than config/patches.yml's, before Rasa starts
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"  # Rasa's help and error messages name the command
    rasa_main()


if __name__ == "__main__":
    main()
