"""`python -m quantize.qat qat ...`: the qat commands without the rest of the quantize CLI."""

import sys

from quantize.qat.cli import main

sys.exit(main())
