import sys

from fmd_terminal.cli import main

sys.exit(main())
