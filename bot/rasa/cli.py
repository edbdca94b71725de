"""`rasa` with the project's patches installed (bot.rasa.patches, config/patches.yml): the same arguments.

    python -m bot.rasa.cli run --model models/benzo-family.tar.gz ...     the Rasa server (scripts/run.sh, tests)
    python -m bot.rasa.cli shell ...                                      make shell

The served model, the shell and `rasa test` then run the code that ships; a plain `rasa` runs Rasa's own code.
Training (tools.training) does not come through here: it runs Rasa's own code. When the model being served has no
TensorFlow component, TensorFlow is not loaded (bot.rasa.without_tensorflow): that is decided first, since importing
the patches imports Rasa, which imports TensorFlow.
"""

from __future__ import annotations

import sys

from bot.rasa import without_tensorflow


def main() -> None:
    if without_tensorflow.applies(sys.argv):
        without_tensorflow.install()
    from bot.rasa import patches

    patches.install()  # refuses a Rasa version other than config/patches.yml's, before Rasa starts
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"  # Rasa's help and error messages name the command
    rasa_main()


if __name__ == "__main__":
    main()
