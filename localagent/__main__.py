import sys

from localagent.cli import main

sys.exit(main())
